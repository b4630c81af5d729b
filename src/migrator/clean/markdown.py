"""Sanitized HTML to Markdown: the walk over the tree (ATX headings, ``-`` bullets).

A port of markdownify 1.2's algorithm walking the selectolax tree instead of a
BeautifulSoup one: the same Markdown for sanitized HTML at a fraction of the cost
(markdownify's html.parser + bs4 tree were ~45% of extract_page on the demo posts,
BENCHMARKS.md). Sanitized HTML is what an HTML5 parser produced and re-serialized, so
re-parsing it gives the tree bs4 would build. This module walks and joins; what each
element becomes is ``elements``' concern. It must only ever see sanitized HTML
(``sanitize``): converters pass ``javascript:`` links through.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.clean.elements import ALL_WS, CELLS, HEADINGS, convert, escape_markdown_text

__all__ = ["MAX_MARKDOWN_DEPTH", "html_to_markdown", "tree_to_markdown"]

_INSIDE_BLOCK = frozenset(
    {
        "p", "blockquote", "article", "div", "section", "ol", "ul", "li", "dl", "dt", "dd",
        "table", "thead", "tbody", "tfoot", "tr", "td", "th",
        "h1", "h2", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip
_OUTSIDE_BLOCK = _INSIDE_BLOCK | {"pre"}
_NOFORMAT = frozenset({"pre", "code", "kbd", "samp"})
_DOCUMENT = "[document]"
_RE_NEWLINE_WS = re.compile(r"[\t \r\n]*[\r\n][\t \r\n]*")
_RE_WS = re.compile(r"[\t ]+")
_RE_NEWLINES = re.compile(r"^(\n*)((?:.*[^\n])?)(\n*)$", re.S)
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def html_to_markdown(html: str) -> str:
    """Convert sanitized HTML to Markdown (ATX headings, ``-`` bullets).

    Args:
        html: output of :func:`sanitize_html`.

    Returns:
        Markdown text with at most one blank line between blocks, stripped.
    """
    if not html.strip():
        return ""
    body = LexborHTMLParser(html).body
    return tree_to_markdown(body) if body is not None else ""


def _text(
    text: str, prev: LexborNode | None, nxt: LexborNode | None, parent: str, parents: frozenset[str]
) -> str:
    if "pre" not in parents:
        if "\n" in text or "\r" in text:
            text = _RE_NEWLINE_WS.sub("\n", text)
        if "\t" in text or "  " in text:
            text = _RE_WS.sub(" ", text)
    if "_noformat" not in parents:
        text = escape_markdown_text(text)
    inside = parent in _INSIDE_BLOCK
    if (prev is not None and prev.tag in _OUTSIDE_BLOCK) or (inside and prev is None):
        text = text.lstrip(" \t\r\n")
    if (nxt is not None and nxt.tag in _OUTSIDE_BLOCK) or (inside and nxt is None):
        text = text.rstrip()
    return text


# Deeper than this, a subtree is written as its escaped text: the walk recurses once per
# level and Python's stack (about 1,000 frames) used to end it with a RecursionError that
# emptied body_markdown (a 1,000-4,096-level page exported as a blank post).
MAX_MARKDOWN_DEPTH = 200


def _flattened(node: LexborNode) -> str:
    text = ALL_WS.sub(" ", node.text(deep=True, separator=" ")).strip()
    return f"\n\n{escape_markdown_text(text)}\n\n" if text else ""


def _process(node: LexborNode, tag: str, parents: frozenset[str], depth: int = 0) -> str:
    if depth > MAX_MARKDOWN_DEPTH:
        return _flattened(node)
    kids = list(node.iter(include_text=True))
    remove_inside = tag in _INSIDE_BLOCK
    child_parents = parents | {tag}
    if tag in HEADINGS or tag in CELLS:
        child_parents = child_parents | {"_inline"}
    if tag in _NOFORMAT:
        child_parents = child_parents | {"_noformat"}
    last = len(kids) - 1
    strings: list[str] = []
    for index, kid in enumerate(kids):
        kid_tag = kid.tag or ""
        prev = kids[index - 1] if index else None
        nxt = kids[index + 1] if index < last else None
        if kid_tag == "-text":
            value = kid.text_content or ""
            if value.strip() == "" and (
                (remove_inside and (prev is None or nxt is None))
                or (prev is not None and prev.tag in _OUTSIDE_BLOCK)
                or (nxt is not None and nxt.tag in _OUTSIDE_BLOCK)
            ):
                continue
            result = _text(value, prev, nxt, tag, child_parents)
        elif kid_tag == "_comment":
            continue
        else:
            result = _process(kid, kid_tag, child_parents, depth + 1)
        if result:
            strings.append(result)
    if tag == "pre" or "pre" in parents:
        text = "".join(strings)
    else:
        collapsed = [""]
        for string in strings:
            match = _RE_NEWLINES.match(string)
            leading, content, trailing = match.groups() if match else ("", string, "")
            if collapsed[-1] and leading:
                previous = collapsed.pop()
                leading = "\n" * min(2, max(len(previous), len(leading)))
            collapsed.extend((leading, content, trailing))
        text = "".join(collapsed)
    if tag == _DOCUMENT:
        return text
    return convert(node, tag, text, parents)


def tree_to_markdown(root: LexborNode) -> str:
    """Convert the children of ``root`` (a parsed, sanitized fragment's body) to Markdown.

    Args:
        root: the ``<body>`` of ``LexborHTMLParser(sanitize_html(...))``.

    Returns:
        Markdown text with at most one blank line between blocks, stripped.
    """
    text = _process(root, _DOCUMENT, frozenset()).strip("\n")
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()
