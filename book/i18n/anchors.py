#!/usr/bin/env python3
"""Heading anchors of the Chinese edition: the same as the English ones.

mdBook makes a heading's id from its text, so a translated heading would get a new id and
every link to it (`step3-listen.md#the-accept-queue`, from another chapter or the search)
would break. So every translated heading ends with its English id, ` {#the-accept-queue}`.

  anchors.py BOOK PO            add the English id to every translated heading of PO, and
                                point every image at its Chinese copy (NAME.zh-CN.svg, made
                                by svg-zh) where there is one
  anchors.py --check BOOK PO    fail if a translated heading lacks it (or has a wrong one)
  anchors.py --html EN ZH       fail if a page of the built Chinese edition (ZH) lacks an
                                anchor that the same English page (EN) has

Chapter titles as SUMMARY.md lists them are messages of the sidebar too, where `{#id}` would
show as text: they get no id (a chapter's top heading is reached by its page, not an anchor).
"""
import html.parser
import pathlib
import re
import sys

HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*(?:\{#([^}\s]+)\})?\s*#*\s*$")


def normalize_id(text: str) -> str:
    """mdBook's `normalize_id`: letters, digits, `_` and `-` kept (lower-cased), white space
    becomes `-`, the rest is dropped."""
    out = []
    for ch in text:
        if ch.isalnum() or ch in "_-":
            out.append(ch.lower())
        elif ch.isspace():
            out.append("-")
    return "".join(out)


def plain(markdown: str) -> str:
    """The text of a heading as mdBook sees it: no backticks, emphasis or link targets."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = text.replace("`", "")
    text = re.sub(r"(\*\*|\*)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    # `_` is emphasis only at word edges: TIME_WAIT and SO_REUSEADDR keep theirs.
    text = re.sub(r"(?<!\w)(__|_)(?=\S)(.+?)(?<=\S)\1(?!\w)", r"\2", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).replace("\\", "")


def headings(book: pathlib.Path) -> dict:
    """msgid (the heading's Markdown) -> its id, for every heading of every chapter."""
    found: dict = {}
    for md in sorted((book / "src").rglob("*.md")):
        if md.name == "SUMMARY.md":
            continue
        fence = None
        for line in md.read_text(encoding="utf-8").splitlines():
            stripped = line.lstrip()
            if stripped.startswith(("```", "~~~")):
                fence = None if fence and stripped.startswith(fence) else (fence or stripped[:3])
                continue
            if fence:
                continue
            m = HEADING.match(line)
            if m:
                found.setdefault(m.group(1), set()).add(m.group(2) or normalize_id(plain(m.group(1))))
    return {k: v.pop() for k, v in found.items() if len(v) == 1}


def summary_titles(book: pathlib.Path) -> set:
    text = (book / "src" / "SUMMARY.md").read_text(encoding="utf-8")
    return set(re.findall(r"\[([^\]]+)\]\(", text)) | {
        m.group(1) for m in map(HEADING.match, text.splitlines()) if m
    }


def chinese_images(book: pathlib.Path, msgstr: str) -> str:
    """`](step3-listen.svg)` -> `](step3-listen.zh-CN.svg)` when that file exists."""
    def swap(m):
        name = m.group(1)
        zh = name[: -len(".svg")] + ".zh-CN.svg"
        return f"]({zh})" if (book / "src" / zh).exists() else m.group(0)

    return re.sub(r"\]\(([^)\s]+?(?<!\.zh-CN)\.svg)\)", swap, msgstr)


def unquote(lines):
    return "".join(eval(l) for l in lines)  # PO strings are C-quoted like Python's


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def entries(po_text: str):
    """Yield (start, end, msgid, msgstr) line ranges of each entry's msgstr."""
    lines = po_text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("msgid "):
            ids = [lines[i][6:]]
            i += 1
            while i < len(lines) and lines[i].startswith('"'):
                ids.append(lines[i]); i += 1
            if i < len(lines) and lines[i].startswith("msgstr "):
                start = i
                strs = [lines[i][7:]]
                i += 1
                while i < len(lines) and lines[i].startswith('"'):
                    strs.append(lines[i]); i += 1
                yield start, i, unquote(ids), unquote(strs)
                continue
        i += 1


def fix(book: pathlib.Path, po: pathlib.Path, check: bool) -> int:
    ids, titles = headings(book), summary_titles(book)
    lines = po.read_text(encoding="utf-8").split("\n")
    problems, edits = [], []
    for start, end, msgid, msgstr in entries("\n".join(lines)):
        pictured = chinese_images(book, msgstr)
        if pictured != msgstr:
            if check:
                problems.append(f"image in {msgstr[:60]!r}: use the Chinese copy (.zh-CN.svg)")
            else:
                edits.append((start, end, f"msgstr {quote(pictured)}"))
                continue
        if not msgstr or msgid not in ids or msgid in titles:
            continue
        want = "{#" + ids[msgid] + "}"
        have = re.search(r"\{#[^}]*\}\s*$", msgstr)
        if have and have.group(0).strip() == want:
            continue
        if check:
            problems.append(f"heading {msgid!r}: its translation must end with {want}")
        else:
            base = msgstr[: have.start()].rstrip() if have else msgstr.rstrip()
            edits.append((start, end, f"msgstr {quote(base + ' ' + want)}"))
    for start, end, line in reversed(edits):
        lines[start:end] = [line]
    if edits:
        po.write_text("\n".join(lines), encoding="utf-8")
        print(f"po: {len(edits)} headings given their English anchor or images their Chinese copy")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


class Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        # h1 is the page's title, reached by the page itself (and often a sidebar title, which
        # gets no anchor: see above); the anchors that links use are below it.
        if tag in ("h2", "h3", "h4", "h5", "h6"):
            self.ids.update(v for k, v in attrs if k == "id")


def page_ids(path: pathlib.Path) -> set:
    parser = Ids()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.ids


def compare_html(en: pathlib.Path, zh: pathlib.Path) -> int:
    missing = []
    for page in sorted(en.glob("*.html")):
        if page.name in ("print.html", "toc.html", "404.html"):
            continue
        other = zh / page.name
        lost = page_ids(page) - (page_ids(other) if other.exists() else set())
        missing += [f"{page.name}#{i}" for i in sorted(lost)]
    for m in missing:
        print(f"zh-CN lacks the anchor {m}", file=sys.stderr)
    print(f"anchors: {len(missing)} English heading anchors missing from the Chinese edition")
    return 1 if missing else 0


def main(argv) -> int:
    if argv[:1] == ["--html"]:
        return compare_html(pathlib.Path(argv[1]), pathlib.Path(argv[2]))
    check = argv[:1] == ["--check"]
    rest = argv[1:] if check else argv
    return fix(pathlib.Path(rest[0]), pathlib.Path(rest[1]), check)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
