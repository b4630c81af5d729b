"""Sanitizing extracted HTML and turning it into Markdown, in that order.

``sanitize_html`` is an nh3 allow-list: structural and inline tags only, no script, style,
iframe, form or event-handler attributes, only http(s)/mailto links, and every link and
image made absolute against the page URL. ``html_to_markdown`` must only ever see
sanitized HTML (converters pass ``javascript:`` links through), and its Markdown is as
safe as that HTML: text is escaped so entity-escaped markup (``&lt;script&gt;``,
``[x](javascript:…)``) stays text, link and image URLs keep only the sanitizer's
schemes and are percent-encoded so they cannot close their own syntax, and code fences
are longer than any backtick run inside them. This module does not decide *what* the
body is; ``extract.body`` does.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit

import nh3
from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["escape_markdown_text", "html_to_markdown", "sanitize_html", "tree_to_markdown"]

_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dfn",
        "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp",
        "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "time", "tr", "u", "ul", "var",
    }
)  # fmt: skip
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "ol": {"start"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
}
_SCHEMES = frozenset({"http", "https", "mailto"})
_DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "noscript", "template", "svg", "math", "iframe", "object",
        "embed", "form", "button", "select", "textarea", "canvas", "audio", "video",
    }
)  # fmt: skip
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def sanitize_html(html: str, base_url: str) -> str:
    """Reduce HTML to a safe allow-list with absolute link and image URLs.

    Args:
        html: an HTML fragment (the article body).
        base_url: the page's URL (or ``<base href>``) for resolving relative URLs.

    Returns:
        Sanitized HTML; ``""`` for empty input.
    """
    if not html.strip():
        return ""

    def absolutize(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in {"href", "src"}:
            return value
        value = value.strip()
        if tag == "a" and value.startswith("#"):
            return value  # an in-page anchor (footnotes, table of contents)
        try:
            joined = urljoin(base_url, value)
            scheme = urlsplit(joined).scheme.lower()
        except ValueError:
            return None
        return joined if scheme in _SCHEMES else None

    return nh3.clean(
        html,
        tags=set(_TAGS),
        attributes=_ATTRIBUTES,
        url_schemes=set(_SCHEMES),
        attribute_filter=absolutize,
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        strip_comments=True,
        link_rel=None,
    ).strip()


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


# --- HTML -> Markdown -------------------------------------------------------------------
# A port of markdownify 1.2's algorithm (ATX headings, "-" bullets, span/div stripped)
# walking the selectolax tree instead of a BeautifulSoup one: the same Markdown for
# sanitized HTML at a fraction of the cost (markdownify's html.parser + bs4 tree were
# ~45% of extract_page on the demo posts, BENCHMARKS.md). Sanitized HTML is what an
# HTML5 parser produced and re-serialized, so re-parsing it gives the tree bs4 would build.
_INSIDE_BLOCK = frozenset(
    {
        "p", "blockquote", "article", "div", "section", "ol", "ul", "li", "dl", "dt", "dd",
        "table", "thead", "tbody", "tfoot", "tr", "td", "th",
        "h1", "h2", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip
_OUTSIDE_BLOCK = _INSIDE_BLOCK | {"pre"}
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_NOFORMAT = frozenset({"pre", "code", "kbd", "samp"})
_INLINE_MARKUP = {"b": "**", "strong": "**", "em": "*", "i": "*", "del": "~~", "s": "~~"}
_PLAIN_INLINE = frozenset({"sub", "sup"})
_CODE = frozenset({"code", "kbd", "samp"})
_DOCUMENT = "[document]"
_RE_NEWLINE_WS = re.compile(r"[\t \r\n]*[\r\n][\t \r\n]*")
_RE_WS = re.compile(r"[\t ]+")
_RE_ALL_WS = re.compile(r"[\t \r\n]+")
_RE_LINE = re.compile(r"^(.*)", re.M)
_RE_NEWLINES = re.compile(r"^(\n*)((?:.*[^\n])?)(\n*)$", re.S)
_RE_BACKTICKS = re.compile(r"`+")
_RE_PRE_LEAD = re.compile(r"^[ \n]*\n")
_RE_PRE_TRAIL = re.compile(r"[ \n]*$")


_MARKUP_CHARS = re.compile(r"[\\*_`\[\]<>]|&(?=#?[A-Za-z0-9]+;)")
_MARKUP_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def escape_markdown_text(text: str) -> str:
    """Escape a text node so Markdown renders it as the same text and never as markup.

    ``<`` and ``>`` become entities (an HTML tag or autolink cannot start), ``&`` only
    where it would start an entity, and ``\\ * _ ` [ ]`` get a backslash (no emphasis,
    code span, link or image can be made of text: ``[x](javascript:…)`` stays text).
    """
    return _MARKUP_CHARS.sub(lambda m: _MARKUP_ESCAPES.get(m[0], "\\" + m[0]), text)


def _markdown_url(url: str) -> str | None:
    """A link target safe inside ``(…)``: sanitizer schemes only, no space, quote,
    parenthesis or angle bracket left raw (they are percent-encoded, the same URL)."""
    url = url.strip()
    if not url.startswith("#"):
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            return None
        if scheme not in _SCHEMES:
            return None
    return quote(url, safe="/:?#[]@!$&'*+,;=%-._~")


def _title_part(title: str | None) -> str:
    if not title:
        return ""
    text = _RE_ALL_WS.sub(" ", title).strip()
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = _MARKUP_CHARS.sub(lambda m: _MARKUP_ESCAPES.get(m[0], m[0]), text)
    return f' "{text}"' if text else ""


def _chomp(text: str) -> tuple[str, str, str]:
    prefix = " " if text and text[0] == " " else ""
    suffix = " " if text and text[-1] == " " else ""
    return prefix, suffix, text.strip()


def _is_content(node: LexborNode | None) -> bool:
    if node is None:
        return False
    tag = node.tag
    if tag == "-text":
        return (node.text_content or "").strip() != ""
    return tag != "_comment"


def _next_content(node: LexborNode) -> LexborNode | None:
    current = node.next
    while current is not None:
        if _is_content(current):
            return current
        current = current.next
    return None


def _prev_tag(node: LexborNode) -> LexborNode | None:
    current = node.prev
    while current is not None:
        if current.tag not in {"-text", "_comment"}:
            return current
        current = current.prev
    return None


def _descendants(node: LexborNode, names: frozenset[str]) -> list[LexborNode]:
    return [n for n in node.traverse() if n.mem_id != node.mem_id and n.tag in names]


def _colspan(node: LexborNode) -> int:
    value = node.attributes.get("colspan") or ""
    return max(1, min(1000, int(value))) if value.isdigit() else 1


_CELLS = frozenset({"td", "th"})


def _convert_tr(node: LexborNode, text: str) -> str:
    cells = _descendants(node, _CELLS)
    parent = node.parent
    parent_tag = parent.tag if parent is not None else ""
    is_first_row = _prev_tag(node) is None
    is_headrow = all(c.tag == "th" for c in cells) or (
        parent_tag == "thead"
        and parent is not None
        and len(_descendants(parent, frozenset({"tr"}))) == 1
    )
    grand = parent.parent if parent is not None else None
    is_head_row_missing = (is_first_row and parent_tag != "tbody") or (
        is_first_row
        and parent_tag == "tbody"
        and (grand is None or not _descendants(grand, frozenset({"thead"})))
    )
    full = sum(_colspan(c) for c in cells)
    overline = underline = ""
    if is_headrow and is_first_row:
        underline = "| " + " | ".join(["---"] * full) + " |\n"
    elif is_head_row_missing or (
        is_first_row
        and (
            parent_tag == "table"
            or (parent_tag == "tbody" and parent is not None and _prev_tag(parent) is None)
        )
    ):
        overline = "| " + " | ".join([""] * full) + " |\n"
        overline += "| " + " | ".join(["---"] * full) + " |\n"
    return overline + "|" + text + "\n" + underline


def _convert_li(node: LexborNode, text: str) -> str:
    text = text.strip()
    if not text:
        return "\n"
    parent = node.parent
    if parent is not None and parent.tag == "ol":
        start_attr = parent.attributes.get("start") or ""
        start = int(start_attr) if start_attr.isnumeric() else 1
        before = 0
        sibling = node.prev
        while sibling is not None:
            if sibling.tag == "li":
                before += 1
            sibling = sibling.prev
        bullet = f"{start + before}. "
    else:
        bullet = "- "
    indent = " " * len(bullet)
    text = _RE_LINE.sub(lambda m: indent + m.group(1) if m.group(1) else "", text)
    return bullet + text[len(bullet) :] + "\n"


def _convert(node: LexborNode, tag: str, text: str, parents: frozenset[str]) -> str:
    if tag in _INLINE_MARKUP or tag in _PLAIN_INLINE:
        if "_noformat" in parents:
            return text
        prefix, suffix, text = _chomp(text)
        if not text:
            return ""
        markup = _INLINE_MARKUP.get(tag, "")
        return prefix + markup + text + markup + suffix
    if tag == "p":
        if "_inline" in parents:
            return " " + text.strip(" \t\r\n") + " "
        text = text.strip(" \t\r\n")
        return f"\n\n{text}\n\n" if text else ""
    if tag == "a":
        if "_noformat" in parents:
            return text
        prefix, suffix, text = _chomp(text)
        if not text:
            return ""
        raw_href = node.attributes.get("href")
        href = _markdown_url(raw_href) if raw_href else None
        title = node.attributes.get("title")
        if href and not title and text == escape_markdown_text(href) and href == raw_href:
            return f"<{href}>"
        title_part = _title_part(title)
        return f"{prefix}[{text}]({href}{title_part}){suffix}" if href else text
    if tag in _HEADINGS:
        if "_inline" in parents:
            return text
        text = _RE_ALL_WS.sub(" ", text.strip())
        return "\n\n" + "#" * int(tag[1]) + " " + text + "\n\n"
    if tag in {"ul", "ol"}:
        following = _next_content(node)
        before_paragraph = following is not None and following.tag not in {"ul", "ol"}
        if "li" in parents:
            return "\n" + text.rstrip()
        return "\n\n" + text + ("\n" if before_paragraph else "")
    if tag == "li":
        return _convert_li(node, text)
    if tag == "br":
        if "_inline" in parents:
            return text + " " if text else " "
        return "  \n" + text
    if tag == "img":
        attrs = node.attributes
        alt = escape_markdown_text(_RE_ALL_WS.sub(" ", attrs.get("alt") or ""))
        if "_inline" in parents:
            return alt
        src = _markdown_url(attrs.get("src") or "")
        if not src:
            return alt
        return f"![{alt}]({src}{_title_part(attrs.get('title'))})"
    if tag in _CODE:
        if "_noformat" in parents:
            return text
        prefix, suffix, text = _chomp(text)
        if not text:
            return ""
        ticks = max((len(m) for m in _RE_BACKTICKS.findall(text)), default=0)
        if ticks:
            text = " " + text + " "
        fence = "`" * (ticks + 1)
        return prefix + fence + text + fence + suffix
    if tag == "blockquote":
        text = text.strip(" \t\r\n")
        if "_inline" in parents:
            return " " + text + " "
        if not text:
            return "\n"
        text = _RE_LINE.sub(lambda m: "> " + m.group(1) if m.group(1) else ">", text)
        return "\n" + text + "\n\n"
    if tag == "pre":
        if not text:
            return ""
        text = _RE_PRE_TRAIL.sub("", _RE_PRE_LEAD.sub("", text))
        # A fence longer than any backtick run inside: "```" in the code cannot close it.
        longest = max((len(m) for m in _RE_BACKTICKS.findall(text)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"\n\n{fence}\n{text}\n{fence}\n\n"
    if tag in _CELLS:
        return " " + text.strip().replace("\n", " ") + " |" * _colspan(node)
    if tag == "tr":
        return _convert_tr(node, text)
    if tag == "table":
        return "\n\n" + text.strip() + "\n\n"
    if tag == "hr":
        return "\n\n---\n\n"
    if tag == "q":
        return '"' + text + '"'
    if tag == "dl":
        if "_inline" in parents:
            return " " + text.strip() + " "
        text = text.strip()
        return f"\n\n{text}\n\n" if text else ""
    if tag == "dt":
        text = _RE_ALL_WS.sub(" ", text.strip())
        if "_inline" in parents:
            return " " + text + " "
        return f"\n\n{text}\n" if text else "\n"
    if tag == "dd":
        text = text.strip()
        if "_inline" in parents:
            return " " + text + " "
        if not text:
            return "\n"
        text = _RE_LINE.sub(lambda m: "    " + m.group(1) if m.group(1) else "", text)
        return ":" + text[1:] + "\n"
    if tag == "caption":
        return text.strip() + "\n\n"
    if tag == "figcaption":
        return "\n\n" + text.strip() + "\n\n"
    return text  # span, div (stripped), and tags Markdown has no syntax for


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
    text = _RE_ALL_WS.sub(" ", node.text(deep=True, separator=" ")).strip()
    return f"\n\n{escape_markdown_text(text)}\n\n" if text else ""


def _process(node: LexborNode, tag: str, parents: frozenset[str], depth: int = 0) -> str:
    if depth > MAX_MARKDOWN_DEPTH:
        return _flattened(node)
    kids = list(node.iter(include_text=True))
    remove_inside = tag in _INSIDE_BLOCK
    child_parents = parents | {tag}
    if tag in _HEADINGS or tag in _CELLS:
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
    return _convert(node, tag, text, parents)


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
