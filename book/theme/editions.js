// A link to the other edition of this page, in the menu bar of every page: "中文" on an English
// page, "English" on a Chinese one; and, in the Chinese edition, the one English word of our own
// HTML (the exercises' "Hint"). The Chinese edition is built into the `zh-CN/` folder of the
// English one (book/i18n/zh-CN build), so the same page is found by one path segment.
(function () {
    "use strict";
    var chinese = document.documentElement.lang === "zh-CN";
    // `path_to_root` is what mdBook gives every page: "" or "../" etc.
    var root = new URL((typeof path_to_root === "string" && path_to_root) || "./", window.location.href);
    var page = window.location.href.slice(root.href.length); // e.g. "step3-listen.html#x"
    if (page === "" || page.charAt(0) === "#") {
        page = "index.html" + page;
    }
    var other = chinese ? new URL("../", root).href + page : root.href + "zh-CN/" + page;

    var link = document.createElement("a");
    link.href = other;
    link.className = "edition-link";
    link.textContent = chinese ? "English" : "中文";
    link.title = chinese ? "Read this page in English" : "阅读本页的中文版";
    link.lang = chinese ? "en" : "zh-CN";
    link.style.marginInline = "0.5em";
    // The exercise pages' `<details><summary>Hint</summary>` is HTML, which the extractor does
    // not make a message of: the Chinese edition names it here.
    if (chinese) {
        document.querySelectorAll("main summary").forEach(function (summary) {
            if (summary.textContent.trim() === "Hint") {
                summary.textContent = "提示";
            }
        });
    }
    var bar = document.querySelector(".right-buttons") || document.querySelector("#menu-bar");
    if (bar) {
        bar.insertBefore(link, bar.firstChild);
    }
})();
