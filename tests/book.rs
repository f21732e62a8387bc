//! The book must never drift from the code. This test reads `book/src/` as mdBook 0.5 would and
//! fails, listing every problem at once, when:
//!
//! - a chapter listed in `SUMMARY.md` does not exist, or a page exists that no one can reach;
//! - an `{{#include}}` or `{{#rustdoc_include}}` names a file that does not exist, or an
//!   `ANCHOR` region that the file does not have, or uses a line range (`file.rs:10:20`): line
//!   ranges break silently when code moves, anchors move with it;
//! - an SVG diagram or a transcript in `book/src/` is not shown by any page;
//! - a link between pages (`page.md`, `page.md#heading`, `#heading`) or an image points at a page,
//!   heading or file that does not exist (heading ids are computed the way mdBook computes them);
//! - a Rust code block is neither included from a compiled file nor explicitly marked.
//!
//! The rule for Rust code blocks (also stated in the book's introduction):
//! - A block whose body is only `{{#include}}`/`{{#rustdoc_include}}` lines shows code that
//!   `cargo` compiles. It must be fenced `rust,ignore`: it uses this crate, so neither
//!   `mdbook test` nor the Rust playground can compile it.
//! - Any other Rust block is pasted text and must say what it is: `ignore` (a sketch, not
//!   compiled) or `no_run` (a self-contained program that binds or blocks: it must have a
//!   `fn main` and must not use `socket_steps`, so `mdbook test` can compile it).
//! - A block may not mix included and pasted lines.
//!
//! No mdBook is needed: this is plain `cargo test --test book`. The checker itself is tested on
//! a small bad book at the end of this file, so that a checker that finds nothing cannot pass.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

/// A path as the problems name it, with `/` between folders on every system (Windows would
/// print `book\src\one.md`), so that one expected message holds everywhere.
fn slashed(path: impl AsRef<Path>) -> String {
    path.as_ref().to_string_lossy().replace('\\', "/")
}

/// Where the checker reads files from: the disk, or an in-memory sample in the unit tests.
trait Files {
    /// The text of the file at `path` (already normalised), if it exists.
    fn read(&self, path: &Path) -> Option<String>;
    /// Every file under `dir`, recursively (normalised paths).
    fn list(&self, dir: &Path) -> Vec<PathBuf>;
}

struct Disk;

impl Files for Disk {
    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    fn list(&self, dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(dir) = todo.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    todo.push(path);
                } else {
                    found.push(normalise(&path));
                }
            }
        }
        found.sort();
        found
    }
}

/// Resolves `.` and `..` without touching the disk, so that `book/src/../../src/x.rs` and
/// `src/x.rs` are the same key.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// One `{{#include path}}`, `{{#include path:anchor}}` or `{{#rustdoc_include ...}}`.
#[derive(Debug, Clone, PartialEq)]
struct Include {
    /// The whole directive as written, for messages.
    text: String,
    /// Byte range of the directive in its text.
    start: usize,
    end: usize,
    /// The path as written (relative to the including file's folder).
    path: String,
    /// What follows the first `:` after the path, if anything: an anchor name or a line range.
    selector: Option<String>,
}

/// Finds the include directives in `text` the way mdBook's `links` preprocessor does: anywhere
/// in the text, code blocks included; `\{{#include ...}}` is an escaped, literal directive.
fn find_includes(text: &str) -> Vec<Include> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find("{{") {
        let start = from + offset;
        from = start + 2;
        if text[..start].ends_with('\\') {
            continue;
        }
        let Some(close) = text[start..].find("}}") else {
            break;
        };
        let inner = &text[start + 2..start + close];
        let inner = inner.trim_start();
        let Some(inner) = inner.strip_prefix('#') else {
            continue;
        };
        let name_len = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        let (name, rest) = inner.split_at(name_len);
        // mdBook needs something after the name: `{{#include}}` alone is left as text.
        if !matches!(name, "include" | "rustdoc_include") || rest.trim().is_empty() {
            continue;
        }
        let Some(arg) = rest.split_whitespace().next() else {
            continue;
        };
        let (path, selector) = match arg.split_once(':') {
            Some((path, selector)) => (path, Some(selector.to_string())),
            None => (arg, None),
        };
        found.push(Include {
            text: text[start..start + close + 2].to_string(),
            start,
            end: start + close + 2,
            path: path.to_string(),
            selector,
        });
        from = start + close + 2;
    }
    found
}

/// The anchor names that `// ANCHOR: name` and `// ANCHOR_END: name` lines open and close.
fn anchors(text: &str, marker: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(at) = line.find(marker) {
            let rest = line[at + marker.len()..].trim_start();
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, without other anchor lines (what
/// mdBook shows).
fn anchored_region(text: &str, name: &str) -> String {
    let mut inside = false;
    let mut region = Vec::new();
    for line in text.lines() {
        if inside {
            if anchors(line, "ANCHOR_END:").contains(name) {
                break;
            }
            if !line.contains("ANCHOR:") && !line.contains("ANCHOR_END:") {
                region.push(line);
            }
        } else if anchors(line, "ANCHOR:").contains(name) {
            inside = true;
        }
    }
    region.join("\n")
}

/// A fenced code block: its info string (` ```rust,ignore ` gives `rust,ignore`), its body and
/// the line it starts on (1-based).
#[derive(Debug)]
struct CodeBlock {
    info: String,
    body: String,
    line: usize,
}

/// The fenced code blocks of a Markdown text (``` or ~~~ fences, at most 3 spaces of indent).
fn code_blocks(text: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String, usize, Vec<&str>)> = None; // fence, info, line, body
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let fence_len = |c: char| trimmed.chars().take_while(|&x| x == c).count();
        match &mut open {
            None => {
                for c in ['`', '~'] {
                    let n = fence_len(c);
                    if indent <= 3 && n >= 3 {
                        let info = trimmed[n..].trim().to_string();
                        open = Some((c.to_string().repeat(n), info, index + 1, Vec::new()));
                        break;
                    }
                }
            }
            Some((fence, info, start, body)) => {
                let c = fence.chars().next().unwrap();
                if indent <= 3
                    && fence_len(c) >= fence.len()
                    && trimmed.trim_matches(c).trim().is_empty()
                {
                    blocks.push(CodeBlock {
                        info: std::mem::take(info),
                        body: body.join("\n"),
                        line: *start,
                    });
                    open = None;
                } else {
                    body.push(line);
                }
            }
        }
    }
    blocks
}

/// Each line of a Markdown text, or `None` for the lines of fenced code blocks (fences
/// included): where prose, links and headings can be.
fn outside_fences(text: &str) -> Vec<Option<&str>> {
    let mut in_fence: Option<(char, usize)> = None;
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let fence = ['`', '~']
            .into_iter()
            .map(|c| (c, trimmed.chars().take_while(|&x| x == c).count()))
            .find(|&(_, n)| n >= 3);
        match (in_fence, fence) {
            (None, Some(f)) => in_fence = Some(f),
            (Some((c, n)), Some((c2, n2))) if c == c2 && n2 >= n => in_fence = None,
            (Some(_), _) => {}
            (None, None) => {
                lines.push(Some(line));
                continue;
            }
        }
        lines.push(None);
    }
    lines
}

/// The text with fenced code blocks and inline code spans blanked out, so that links and
/// headings are looked for only in prose. Line structure is kept.
fn prose_only(text: &str) -> String {
    let mut out = String::new();
    for line in outside_fences(text) {
        let Some(line) = line else {
            out.push('\n');
            continue;
        };
        // Blank inline code: `...` spans.
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
                out.push(' ');
            } else if in_code {
                out.push(' ');
            } else {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// The id mdBook gives a heading: its text (as HTML, tags and entities removed), lowercased,
/// letters, digits, `_` and `-` kept, whitespace turned into `-`, anything else dropped; a
/// repeated id gets `-1`, `-2`... (`mdbook::utils::unique_id_from_content`).
fn heading_ids(text: &str) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut ids = Vec::new();
    for line in outside_fences(text).into_iter().flatten() {
        let trimmed = line.trim_start();
        let hashes = trimmed.chars().take_while(|&c| c == '#').count();
        if line.len() - trimmed.len() > 3 || !(1..=6).contains(&hashes) {
            continue;
        }
        let rest = &trimmed[hashes..];
        if !(rest.is_empty() || rest.starts_with(' ')) {
            continue;
        }
        let content = rest.trim().trim_end_matches('#').trim();
        let id = normalize_id(&heading_text(content));
        let count = counts.entry(id.clone()).or_insert(0);
        ids.push(if *count == 0 {
            id.clone()
        } else {
            format!("{id}-{count}")
        });
        *count += 1;
    }
    ids
}

/// A heading's text as it would read once rendered: link targets, code ticks and emphasis
/// stars removed.
fn heading_text(markdown: &str) -> String {
    let mut text = String::new();
    let mut chars = markdown.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' | '*' => {}
            ']' if chars.peek() == Some(&'(') => {
                // Skip the link target `(...)`.
                for c in chars.by_ref() {
                    if c == ')' {
                        break;
                    }
                }
            }
            '[' | ']' => {}
            c => text.push(c),
        }
    }
    text
}

/// mdBook's `normalize_id`.
fn normalize_id(content: &str) -> String {
    content
        .chars()
        .filter_map(|ch| {
            if ch.is_alphanumeric() || ch == '_' || ch == '-' {
                Some(ch.to_ascii_lowercase())
            } else if ch.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The targets of the Markdown links and images in `text`: `[..](target)`, `![..](target)` and
/// reference definitions `[name]: target`. Code is skipped.
fn link_targets(text: &str) -> Vec<String> {
    let prose = prose_only(text);
    let mut targets = Vec::new();
    let mut from = 0;
    while let Some(offset) = prose[from..].find("](") {
        let start = from + offset + 2;
        let Some(len) = prose[start..].find(')') else {
            break;
        };
        let target = prose[start..start + len].trim();
        // `(url "title")`: keep the url.
        let target = target.split_whitespace().next().unwrap_or("");
        let target = target.trim_start_matches('<').trim_end_matches('>');
        targets.push(target.to_string());
        from = start + len;
    }
    for line in prose.lines() {
        let line = line.trim_start();
        if line.starts_with('[') && !line.starts_with("[^") {
            if let Some(close) = line.find("]:") {
                let target = line[close + 2..].split_whitespace().next().unwrap_or("");
                if !target.is_empty() {
                    targets.push(target.to_string());
                }
            }
        }
    }
    targets
}

/// The chapters `SUMMARY.md` lists, as paths relative to `src`.
fn summary_chapters(summary: &str) -> Vec<String> {
    link_targets(summary)
        .into_iter()
        .filter(|t| !t.is_empty() && !t.contains("://"))
        .collect()
}

/// Is `target` outside the book (`https://...`, `mailto:...`)?
fn is_external(target: &str) -> bool {
    let scheme: String = target
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
        .collect();
    !scheme.is_empty() && target[scheme.len()..].starts_with(':')
}

/// Expands the includes of `text` (read from the file at `path`) the way mdBook does, to the
/// depth mdBook allows; problems with includes are reported by [`check_includes`], not here.
fn expand(files: &dyn Files, path: &Path, text: &str, depth: usize) -> String {
    if depth > 10 {
        return text.to_string();
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut out = String::new();
    let mut last = 0;
    for include in find_includes(text) {
        out.push_str(&text[last..include.start]);
        last = include.end;
        let target = normalise(&dir.join(&include.path));
        let Some(body) = files.read(&target) else {
            continue;
        };
        let piece = match &include.selector {
            Some(anchor) if !anchor.is_empty() && anchor.parse::<usize>().is_err() => {
                anchored_region(&body, anchor)
            }
            _ => body,
        };
        out.push_str(&expand(files, &target, &piece, depth + 1));
    }
    out.push_str(&text[last..]);
    out
}

/// Checks every include directive in the file at `path`, and those of the `.md` files it
/// includes.
fn check_includes(files: &dyn Files, path: &Path, text: &str, problems: &mut Vec<String>) {
    let dir = path.parent().unwrap_or(Path::new(""));
    for include in find_includes(text) {
        let target = normalise(&dir.join(&include.path));
        let at = format!("{}: {}", slashed(path), include.text);
        let Some(body) = files.read(&target) else {
            problems.push(format!("{at}: no such file {}", slashed(&target)));
            continue;
        };
        match include.selector.as_deref() {
            None => {}
            Some(selector)
                if selector.is_empty()
                    || selector
                        .split(':')
                        .all(|p| p.is_empty() || p.parse::<usize>().is_ok()) =>
            {
                problems.push(format!(
                    "{at}: a line range; use an `// ANCHOR: name` region instead (line ranges \
                     break silently when the code moves)"
                ));
            }
            Some(anchor) => {
                if anchor.contains(':') {
                    problems.push(format!("{at}: unexpected `:` after the anchor name"));
                } else if !anchors(&body, "ANCHOR:").contains(anchor) {
                    problems.push(format!(
                        "{at}: {} has no `ANCHOR: {anchor}` (it has: {:?})",
                        slashed(&target),
                        anchors(&body, "ANCHOR:")
                    ));
                } else if !anchors(&body, "ANCHOR_END:").contains(anchor) {
                    problems.push(format!(
                        "{at}: {} has no `ANCHOR_END: {anchor}`",
                        slashed(&target)
                    ));
                } else if anchored_region(&body, anchor).trim().is_empty() {
                    problems.push(format!("{at}: the region `{anchor}` is empty"));
                }
            }
        }
        if target.extension().is_some_and(|e| e == "md") {
            check_includes(files, &target, &body, problems);
            check_code_blocks(&target, &body, problems);
        }
    }
}

/// Is this line only an include directive?
fn is_include_line(line: &str) -> bool {
    let line = line.trim();
    let found = find_includes(line);
    found.len() == 1 && found[0].start == 0 && found[0].end == line.len()
}

/// Applies the rule for Rust code blocks (see the top of this file) to the raw text of a page.
fn check_code_blocks(path: &Path, text: &str, problems: &mut Vec<String>) {
    for block in code_blocks(text) {
        let mut words = block
            .info
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty());
        if words.next() != Some("rust") {
            continue;
        }
        let attrs: BTreeSet<&str> = words.collect();
        let at = format!("{}:{}: ```{}", slashed(path), block.line, block.info);
        let lines: Vec<&str> = block
            .body
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        let included = lines.iter().filter(|l| is_include_line(l)).count();
        if lines.is_empty() {
            problems.push(format!("{at}: an empty Rust block"));
        } else if included == lines.len() {
            if !attrs.contains("ignore") {
                problems.push(format!(
                    "{at}: included crate code must be fenced `rust,ignore` (cargo compiles it; \
                     mdbook test and the playground cannot)"
                ));
            }
        } else if included > 0 || block.body.contains("{{#") {
            problems.push(format!(
                "{at}: mixes included and pasted lines; include whole regions"
            ));
        } else if attrs.contains("no_run") {
            if !block.body.contains("fn main") || block.body.contains("socket_steps") {
                problems.push(format!(
                    "{at}: a `no_run` block must be a self-contained std program (with `fn main`, \
                     without `socket_steps`), or be marked `ignore`"
                ));
            }
        } else if !attrs.contains("ignore") {
            problems.push(format!(
                "{at}: pasted Rust must be marked `ignore` (not compiled) or `no_run` (a \
                 self-contained program); better, include it from a compiled file"
            ));
        }
    }
}

/// Checks the book whose sources are in `src` and returns every problem found.
fn check_book(files: &dyn Files, src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let summary_path = src.join("SUMMARY.md");
    let Some(summary) = files.read(&summary_path) else {
        return vec![format!("{} is missing", slashed(summary_path))];
    };

    // Every chapter listed exists; collect each page's expanded text and heading ids.
    let mut pages: BTreeMap<PathBuf, String> = BTreeMap::new();
    for chapter in summary_chapters(&summary) {
        let path = normalise(&src.join(&chapter));
        match files.read(&path) {
            Some(text) => {
                pages.insert(path, text);
            }
            None => problems.push(format!("SUMMARY.md lists {chapter}, which does not exist")),
        }
    }

    let mut expanded: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut included_files: BTreeSet<PathBuf> = BTreeSet::new();
    for (path, text) in &pages {
        check_includes(files, path, text, &mut problems);
        check_code_blocks(path, text, &mut problems);
        let dir = path.parent().unwrap_or(Path::new(""));
        for include in find_includes(text) {
            included_files.insert(normalise(&dir.join(&include.path)));
        }
        expanded.insert(path.clone(), expand(files, path, text, 0));
    }
    let ids: BTreeMap<&PathBuf, BTreeSet<String>> = expanded
        .iter()
        .map(|(path, text)| (path, heading_ids(text).into_iter().collect()))
        .collect();

    // Every link and image resolves.
    for (path, text) in &expanded {
        let dir = path.parent().unwrap_or(Path::new(""));
        for target in link_targets(text) {
            if target.is_empty() {
                problems.push(format!("{}: an empty link target", slashed(path)));
                continue;
            }
            if is_external(&target) {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let page = if file.is_empty() {
                path.clone()
            } else {
                normalise(&dir.join(file))
            };
            if file.ends_with(".md") || file.is_empty() {
                let Some(page_ids) = ids.get(&page) else {
                    problems.push(format!(
                        "{}: link to {target}: no such chapter in SUMMARY.md",
                        slashed(path)
                    ));
                    continue;
                };
                if let Some(anchor) = anchor {
                    if !page_ids.contains(anchor) {
                        problems.push(format!(
                            "{}: link to {target}: {} has no heading with id `{anchor}` (it has: {:?})",
                            slashed(path),
                            slashed(page),
                            page_ids
                        ));
                    }
                }
            } else if files.read(&page).is_none() {
                problems.push(format!(
                    "{}: link or image {target}: no such file",
                    slashed(path)
                ));
            }
        }
    }

    // Every image and transcript in src/ is shown somewhere: a file nobody shows is stale.
    let mut used: BTreeSet<PathBuf> = included_files.clone();
    for (path, text) in &expanded {
        let dir = path.parent().unwrap_or(Path::new(""));
        for target in link_targets(text) {
            if !is_external(&target) {
                let file = target.split('#').next().unwrap_or("");
                used.insert(normalise(&dir.join(file)));
            }
        }
    }
    // A diagram's Chinese copy (`NAME.zh-CN.svg`, drawn from `NAME.svg` by book/i18n/svg-zh) is
    // shown by the Chinese edition wherever its English original is shown.
    let original = |file: &Path| -> PathBuf {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match name.strip_suffix(".zh-CN.svg") {
            Some(stem) => file.with_file_name(format!("{stem}.svg")),
            None => file.to_path_buf(),
        }
    };
    for file in files.list(src) {
        let shown = file.extension().is_some_and(|e| e == "svg" || e == "txt");
        if shown && !used.contains(&original(&file)) {
            problems.push(format!("{} is not shown by any page", slashed(file)));
        }
    }

    // Every page in src/ is reachable: listed in SUMMARY.md or included by a page.
    for file in files.list(src) {
        let is_md = file.extension().is_some_and(|e| e == "md");
        if is_md
            && file != summary_path
            && !pages.contains_key(&file)
            && !included_files.contains(&file)
        {
            problems.push(format!(
                "{} is neither listed in SUMMARY.md nor included by a page",
                slashed(file)
            ));
        }
    }
    problems
}

fn book_src() -> PathBuf {
    normalise(&Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src"))
}

#[test]
fn the_book_includes_links_and_code_blocks_all_resolve() {
    let src = book_src();
    let prefix = format!("{}/", slashed(&src));
    let problems: Vec<String> = check_book(&Disk, &src)
        .into_iter()
        .map(|p| p.replace(&prefix, ""))
        .collect();
    assert!(
        problems.is_empty(),
        "{} problem(s) in book/src:\n- {}",
        problems.len(),
        problems.join("\n- ")
    );
}

#[test]
fn the_listen_chapter_is_where_backlog_is_explained() {
    // The built book's search must find "backlog" in the listen chapter: mdBook indexes headings
    // and text, so we check that the chapter has it in a heading (boosted in the search).
    let src = book_src();
    let path = src.join("step3-listen.md");
    let text = expand(&Disk, &path, &Disk.read(&path).expect("step3-listen.md"), 0);
    assert!(
        heading_ids(&text).iter().any(|id| id.contains("backlog")),
        "step3-listen.md has no heading that mentions the backlog"
    );
}

/// The chapters of `SUMMARY.md`'s part `# The server, step by step`: the tutorial's steps, the
/// client and the echo demo. The book's table of contents is the one list of them.
fn step_chapters(summary: &str) -> Vec<String> {
    let part = summary
        .split("\n# ")
        .find(|part| part.starts_with("The server, step by step"))
        .unwrap_or_default();
    summary_chapters(part)
}

/// The chapters that have exercises: the `page = "..."` line of each entry in the classroom's
/// catalogue (`classroom/exercises.toml`, the one list of exercises), without repeats. We read
/// the lines rather than the TOML: this package does not depend on a TOML parser, nor on the
/// classroom.
fn chapters_with_exercises() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("classroom/exercises.toml");
    let catalogue = Disk.read(&path).expect("classroom/exercises.toml");
    let pages: BTreeSet<String> = catalogue
        .lines()
        .filter_map(|line| line.strip_prefix("page = "))
        .map(|page| page.trim().trim_matches('"').to_string())
        .collect();
    assert!(!pages.is_empty(), "no `page = ` in {}", slashed(&path));
    pages
}

/// The `exercises/` page that `cargo classroom book` makes for `chapter`'s exercises.
fn exercises_page(chapter: &str) -> String {
    format!("exercises/{chapter}")
}

#[test]
fn every_chapter_with_exercises_shows_them() {
    let src = book_src();
    let mut missing = Vec::new();
    for chapter in chapters_with_exercises() {
        let text = Disk.read(&src.join(&chapter)).unwrap_or_default();
        let includes: Vec<String> = find_includes(&text).into_iter().map(|i| i.path).collect();
        if !includes.contains(&exercises_page(&chapter)) {
            missing.push(format!(
                "{chapter} has exercises in the catalogue, but does not include {}",
                exercises_page(&chapter)
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_step_chapter_shows_its_code_transcript_and_diagram() {
    let src = book_src();
    let summary = Disk.read(&src.join("SUMMARY.md")).expect("SUMMARY.md");
    let chapters = step_chapters(&summary);
    assert!(
        chapters.len() >= 6,
        "SUMMARY.md's part `# The server, step by step` lists only {chapters:?}"
    );
    // (Their exercises are checked with every other chapter's, in
    // every_chapter_with_exercises_shows_them.)
    let mut missing = Vec::new();
    for chapter in &chapters {
        let text = Disk.read(&src.join(chapter)).unwrap_or_default();
        let includes: Vec<String> = find_includes(&text).into_iter().map(|i| i.path).collect();
        // Each program whose code the chapter shows (`../../steps/NAME.rs:anchor`), it also
        // shows running: `transcripts/NAME.txt`.
        let programs: BTreeSet<&str> = includes
            .iter()
            .filter_map(|p| p.strip_prefix("../../steps/")?.split_once(".rs"))
            .map(|(program, _)| program)
            .collect();
        for path in programs.iter().map(|p| format!("transcripts/{p}.txt")) {
            if !includes.contains(&path) {
                missing.push(format!("{chapter} does not include {path}"));
            }
        }
        // Functions with exercises come from their student view (`exercises/src/`, generated
        // from `src/` by `cargo classroom book`), the rest from `src/` itself.
        if !includes
            .iter()
            .any(|p| p.starts_with("../../src/") || p.starts_with("exercises/src/"))
        {
            missing.push(format!("{chapter} includes no code from src/"));
        }
        if !includes.iter().any(|p| p.starts_with("../../steps/")) {
            missing.push(format!("{chapter} includes no code from steps/"));
        }
        if !link_targets(&text).iter().any(|t| t.ends_with(".svg")) {
            missing.push(format!("{chapter} shows no diagram"));
        }
        // The tutorial's own words, quoted: at least one quoted line in Chinese.
        let quotes_the_seed = text.lines().any(|l| {
            (l.starts_with('>') || l.starts_with("#"))
                && l.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        });
        if !quotes_the_seed {
            missing.push(format!("{chapter} does not quote the tutorial"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_svg_is_well_formed_enough_to_display() {
    let mut count = 0;
    for file in Disk.list(&book_src()) {
        if file.extension().is_some_and(|e| e == "svg") {
            count += 1;
            let text = Disk.read(&file).unwrap();
            assert!(
                text.contains("<svg")
                    && text.contains("viewBox")
                    && text.trim_end().ends_with("</svg>"),
                "{} is not a complete SVG with a viewBox",
                slashed(file)
            );
        }
    }
    assert!(count > 0, "no SVG diagram in book/src");
}

// ---- The checker's own tests: it must find what is wrong in a bad book. ----------------------

/// A book in memory: path -> text.
struct Sample(BTreeMap<PathBuf, String>);

impl Files for Sample {
    fn read(&self, path: &Path) -> Option<String> {
        self.0.get(&normalise(path)).cloned()
    }

    fn list(&self, dir: &Path) -> Vec<PathBuf> {
        self.0
            .keys()
            .filter(|p| p.starts_with(dir))
            .cloned()
            .collect()
    }
}

fn sample(files: &[(&str, &str)]) -> Sample {
    Sample(
        files
            .iter()
            .map(|(p, t)| (normalise(Path::new(p)), t.to_string()))
            .collect(),
    )
}

const GOOD_CODE: &str = "// ANCHOR: greet\npub fn greet() {}\n// ANCHOR_END: greet\n// ANCHOR: empty\n// ANCHOR_END: empty\n// ANCHOR: open\n";

fn good_book() -> Vec<(&'static str, &'static str)> {
    vec![
        ("src/lib.rs", GOOD_CODE),
        ("book/src/SUMMARY.md", "# Summary\n\n[Intro](intro.md)\n- [One](one.md)\n"),
        (
            "book/src/intro.md",
            "# Intro\n\nSee [one](one.md), [its code](one.md#the-code-of-greet), \
             [the second](one.md#notes-1) and [here](#intro). \
             [ext](https://example.com)\n\n![picture](pic.svg)\n\n\
             Literal: \\{{#include nowhere.rs}} and `{{#include}}`.\n",
        ),
        (
            "book/src/one.md",
            "# One\n\n## The code of `greet()`\n\n```rust,ignore\n{{#include ../../src/lib.rs:greet}}\n```\n\n\
             ## Notes\n\n## Notes\n\n```rust,no_run\nfn main() { let _ = std::net::TcpListener::bind(\"127.0.0.1:0\"); }\n```\n\n\
             ```rust,ignore\nlet sketch = 1;\n```\n\n```python\nprint('not rust')\n```\n\n\
             {{#include ex/one.md}}\n",
        ),
        ("book/src/ex/one.md", "## Exercises\n\nNone yet.\n"),
        ("book/src/pic.svg", "<svg viewBox=\"0 0 1 1\"></svg>\n"),
    ]
}

#[test]
fn checker_accepts_a_good_book() {
    let problems = check_book(&sample(&good_book()), Path::new("book/src"));
    assert_eq!(problems, Vec::<String>::new());
}

#[test]
fn checker_finds_every_kind_of_problem_in_a_bad_book() {
    let mut files = good_book();
    files.retain(|(p, _)| {
        !matches!(
            *p,
            "book/src/SUMMARY.md" | "book/src/one.md" | "book/src/ex/one.md"
        )
    });
    files.push((
        "book/src/SUMMARY.md",
        "# Summary\n\n[Intro](intro.md)\n- [One](one.md)\n- [Gone](gone.md)\n",
    ));
    files.push(("book/src/orphan.md", "# Orphan\n"));
    files.push(("book/src/transcripts/stale.txt", "$ cargo run\n"));
    files.push((
        "book/src/one.md",
        "# One\n\n\
         ```rust,ignore\n{{#include ../../src/lib.rs:nosuch}}\n```\n\
         ```rust,ignore\n{{#include ../../src/missing.rs:greet}}\n```\n\
         ```rust,ignore\n{{#include ../../src/lib.rs:2:3}}\n```\n\
         ```rust,ignore\n{{#rustdoc_include ../../src/lib.rs:empty}}\n```\n\
         ```rust,ignore\n{{#include ../../src/lib.rs:open}}\n```\n\
         ```rust\n{{#include ../../src/lib.rs:greet}}\n```\n\
         ```rust\nfn pasted() {}\n```\n\
         ```rust,ignore\n{{#include ../../src/lib.rs:greet}}\nfn extra() {}\n```\n\
         ```rust,no_run\nuse socket_steps::cli;\n```\n\
         See [gone](nowhere.md), [bad anchor](intro.md#no-such-heading), [self](#nope), \
         ![img](missing.svg).\n\n{{#include ex/missing.md}}\n",
    ));
    let problems = check_book(&sample(&files), Path::new("book/src"));
    let text = problems.join("\n");
    let expect = [
        "SUMMARY.md lists gone.md, which does not exist",
        "orphan.md is neither listed in SUMMARY.md nor included by a page",
        "transcripts/stale.txt is not shown by any page",
        "has no `ANCHOR: nosuch`",
        "no such file src/missing.rs",
        "a line range; use an `// ANCHOR: name` region",
        "the region `empty` is empty",
        "has no `ANCHOR_END: open`",
        "included crate code must be fenced `rust,ignore`",
        "pasted Rust must be marked `ignore`",
        "mixes included and pasted lines",
        "a `no_run` block must be a self-contained std program",
        "link to nowhere.md: no such chapter",
        "link to intro.md#no-such-heading: book/src/intro.md has no heading with id `no-such-heading`",
        "link to #nope",
        "link to one.md#notes-1: book/src/one.md has no heading with id `notes-1`",
        "link to one.md#the-code-of-greet: book/src/one.md has no heading",
        "link or image missing.svg: no such file",
        "no such file book/src/ex/missing.md",
    ];
    for needle in expect {
        assert!(
            text.contains(needle),
            "the checker missed {needle:?}; it found:\n{text}"
        );
    }
    assert_eq!(
        problems.len(),
        expect.len(),
        "unexpected extra problems:\n{text}"
    );
}

#[test]
fn heading_ids_match_mdbook() {
    let ids = heading_ids(
        "# Step 3: `listen(fd, backlog)`\n## What the *seed* says & what's true\n## Notes\n## Notes\n\
         ```text\n# not a heading\n```\n#not a heading either\n### 教程说 (the seed)\n## `SO_REUSEADDR`\n",
    );
    assert_eq!(
        ids,
        [
            "step-3-listenfd-backlog",
            "what-the-seed-says--whats-true",
            "notes",
            "notes-1",
            "教程说-the-seed",
            "so_reuseaddr"
        ]
    );
}

/// The verdict (fourth column) of each statement row (`| 3.5 | ...`) of the claims appendix,
/// grouped by the `## ` part it is in; the counting table itself is left out.
fn claim_verdicts(claims: &str) -> Vec<(String, Vec<String>)> {
    let mut parts: Vec<(String, Vec<String>)> = Vec::new();
    for line in claims.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            // `## The client {#the-client}`: the explicit anchor is not part of the title.
            let title = title.split(" {#").next().unwrap_or(title);
            parts.push((title.to_string(), Vec::new()));
            continue;
        }
        let cells: Vec<&str> = line.split(" | ").map(str::trim).collect();
        let numbered = cells.first().is_some_and(|first| {
            let number = first.trim_start_matches("| ");
            number.contains('.')
                && number
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.')
        });
        if numbered && cells.len() > 3 {
            if let Some((_, verdicts)) = parts.last_mut() {
                verdicts.push(cells[3].to_string());
            }
        }
    }
    parts.retain(|(title, _)| title != "Counting the verdicts");
    parts
}

#[test]
fn the_claims_appendix_counts_its_verdicts_correctly() {
    let claims = std::fs::read_to_string(book_src().join("claims.md")).unwrap();
    let kinds = ["right", "imprecise", "wrong", "platform-dependent"];
    let row = |name: &str, verdicts: &[String]| {
        let counts: Vec<String> = kinds
            .iter()
            .map(|kind| verdicts.iter().filter(|v| v == kind).count().to_string())
            .collect();
        format!("| {name} | {} | {} |", verdicts.len(), counts.join(" | "))
    };
    let parts = claim_verdicts(&claims);
    let mut all = Vec::new();
    for (title, verdicts) in &parts {
        for verdict in verdicts {
            assert!(
                kinds.contains(&verdict.as_str()),
                "{title}: verdict {verdict:?}"
            );
        }
        let expected = row(title, verdicts);
        assert!(
            claims.contains(&expected),
            "the count says otherwise; expected {expected}"
        );
        all.extend(verdicts.iter().cloned());
    }
    let bold: Vec<String> = kinds
        .iter()
        .map(|kind| format!("**{}**", all.iter().filter(|v| v == kind).count()))
        .collect();
    let expected = format!("| **all** | **{}** | {} |", all.len(), bold.join(" | "));
    assert!(
        claims.contains(&expected),
        "the total says otherwise; expected {expected}"
    );
    assert_eq!(all.len(), 53, "every statement of the tutorial has its row");
}

/// A transcript is program output: it is shown in a code block, where mdBook keeps its lines
/// and spaces (outside one it runs together as a paragraph, and `--` turns into a dash), and
/// where the Chinese edition's extractor leaves it alone (book/i18n/skip-code).
#[test]
fn every_transcript_is_shown_in_a_code_block() {
    let src = book_src();
    let mut outside = Vec::new();
    for file in Disk.list(&src) {
        if file.extension().map_or(true, |e| e != "md") {
            continue;
        }
        let text = Disk.read(&file).unwrap_or_default();
        let mut fence: Option<String> = None;
        for (number, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
                let marker: String = trimmed
                    .chars()
                    .take_while(|&c| c == '`' || c == '~')
                    .collect();
                match &fence {
                    Some(open) if trimmed.trim_end() == open.as_str() => fence = None,
                    Some(_) => {}
                    None => fence = Some(marker),
                }
            } else if fence.is_none() && line.contains("{{#include transcripts/") {
                outside.push(format!(
                    "{}:{}: {}",
                    slashed(&file),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "transcripts included outside a code block (put them in ```console):\n{}",
        outside.join("\n")
    );
}

/// The Chinese README (README.zh-CN.md) tells the same commands as the English one: every
/// program run (`cargo run --bin NAME`) and every command of a `console` block in README.md is
/// in it too, so a reader of either one runs the same course.
#[test]
fn the_chinese_readme_has_every_command_of_the_english_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let english = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let chinese = std::fs::read_to_string(root.join("README.zh-CN.md"))
        .expect("README.zh-CN.md, the README in Chinese (see book/i18n/TRANSLATING.md)");
    let mut commands: BTreeSet<String> = BTreeSet::new();
    let mut in_console = false;
    for line in english.lines() {
        if line.starts_with("```") {
            in_console = !in_console && line.trim() == "```console";
            continue;
        }
        if in_console && !line.trim().is_empty() {
            commands.insert(line.trim().to_string());
        }
        let mut rest = line;
        while let Some(at) = rest.find("cargo run --bin ") {
            let name: String = rest[at + 16..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            commands.insert(format!("cargo run --bin {name}"));
            rest = &rest[at + 16..];
        }
    }
    let missing: Vec<&String> = commands
        .iter()
        .filter(|c| !chinese.contains(c.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "README.zh-CN.md lacks these commands of README.md:\n{missing:#?}"
    );
}
