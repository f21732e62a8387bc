// Search that works in Chinese. mdBook's index (elasticlunr) splits words only at white space
// and `-`, so a Chinese sentence is one "word" (and dropped when over 80 bytes), and its query
// trimmer strips every Chinese character: 监听 found nothing. For a query with Han characters we
// search the index's own document store (every section's title and text, which mdBook saves
// with `save: true`) for each term as a substring, and rank as mdBook does: a hit in the title
// counts twice, in the breadcrumbs and the body once. Other queries go to elasticlunr unchanged.
(function () {
    "use strict";
    if (typeof elasticlunr === "undefined") {
        return; // search is disabled for this build
    }
    var HAN = /[\u3400-\u9fff\uf900-\ufaff]/;
    var original = elasticlunr.Index.prototype.search;

    function count(text, term) {
        var n = 0;
        for (var at = text.indexOf(term); at !== -1; at = text.indexOf(term, at + term.length)) {
            n++;
        }
        return n;
    }

    elasticlunr.Index.prototype.search = function (query, options) {
        if (!HAN.test(query)) {
            return original.call(this, query, options);
        }
        var terms = query.toLowerCase().split(/\s+/).filter(function (t) { return t; });
        var docs = this.documentStore.docs;
        var results = [];
        Object.keys(docs).forEach(function (ref) {
            var doc = docs[ref];
            var title = (doc.title || "").toLowerCase();
            var crumbs = (doc.breadcrumbs || "").toLowerCase();
            var body = (doc.body || "").toLowerCase();
            var score = 0;
            var every = terms.every(function (term) {
                var hits = 2 * count(title, term) + count(crumbs, term) + count(body, term);
                score += hits;
                return hits > 0;
            });
            if (every) {
                // Longer sections mention everything: divide by length, as tf-idf would.
                results.push({ ref: ref, score: score / Math.sqrt(1 + body.length / 200), doc: doc });
            }
        });
        results.sort(function (a, b) { return b.score - a.score; });
        return results;
    };
})();
