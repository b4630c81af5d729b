"""What each element becomes in Markdown, and the escaping that keeps text text.

A port of markdownify 1.2's conversions (ATX headings, ``-`` bullets, span/div stripped):
``convert`` gives an element's Markdown from its already converted content, one small
function per kind of element. Text is escaped so entity-escaped markup
(``&lt;script&gt;``, ``[x](javascript:…)``) stays text; link and image URLs keep only
the sanitizer's schemes and are percent-encoded so they cannot close their own syntax;
code fences are longer than any backtick run inside them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from selectolax.lexbor import LexborNode

from migrator.clean.sanitize import SCHEMES

__all__ = ["ALL_WS", "CELLS", "HEADINGS", "convert", "escape_markdown_text"]

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
CELLS = frozenset({"td", "th"})
ALL_WS = re.compile(r"[\t \r\n]+")
_INLINE_MARKUP = {"b": "**", "strong": "**", "em": "*", "i": "*", "del": "~~", "s": "~~"}
_PLAIN_INLINE = frozenset({"sub", "sup"})
_CODE = frozenset({"code", "kbd", "samp"})
_RE_LINE = re.compile(r"^(.*)", re.M)
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
        if scheme not in SCHEMES:
            return None
    return quote(url, safe="/:?#[]@!$&'*+,;=%-._~")


def _title_part(title: str | None) -> str:
    if not title:
        return ""
    text = ALL_WS.sub(" ", title).strip()
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


def _convert_tr(node: LexborNode, text: str) -> str:
    cells = _descendants(node, CELLS)
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


# An element's conversion: (node, its converted content, the tags around it) -> Markdown.
_Converter = Callable[[LexborNode, str, frozenset[str]], str]


def convert(node: LexborNode, tag: str, text: str, parents: frozenset[str]) -> str:
    """The Markdown of ``node`` (a ``tag`` element) whose content converted to ``text``.

    ``parents`` holds the tags around it, and ``_inline`` (inside a heading or a table
    cell: no block syntax) and ``_noformat`` (inside code: no inline markup).
    """
    converter = _CONVERTERS.get(tag)
    if converter is None:
        return text  # span, div (stripped), and tags Markdown has no syntax for
    return converter(node, text, parents)


def _spanned(text: str, parents: frozenset[str], wrap: Callable[[str], str]) -> str:
    """An inline span: ``wrap`` of the text inside its outer spaces (kept outside it);
    the text as it is inside code, ``""`` when blank."""
    if "_noformat" in parents:
        return text
    prefix, suffix, text = _chomp(text)
    if not text:
        return ""
    return prefix + wrap(text) + suffix


def _inline_markup(node: LexborNode, text: str, parents: frozenset[str]) -> str:
    markup = _INLINE_MARKUP.get(node.tag or "", "")
    return _spanned(text, parents, lambda inner: markup + inner + markup)


def _paragraph(_node: LexborNode, text: str, parents: frozenset[str]) -> str:
    if "_inline" in parents:
        return " " + text.strip(" \t\r\n") + " "
    text = text.strip(" \t\r\n")
    return f"\n\n{text}\n\n" if text else ""


def _link(node: LexborNode, text: str, parents: frozenset[str]) -> str:
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


def _heading(node: LexborNode, text: str, parents: frozenset[str]) -> str:
    if "_inline" in parents:
        return text
    text = ALL_WS.sub(" ", text.strip())
    return "\n\n" + "#" * int((node.tag or "h1")[1]) + " " + text + "\n\n"


def _list(node: LexborNode, text: str, parents: frozenset[str]) -> str:
    following = _next_content(node)
    before_paragraph = following is not None and following.tag not in {"ul", "ol"}
    if "li" in parents:
        return "\n" + text.rstrip()
    return "\n\n" + text + ("\n" if before_paragraph else "")


def _line_break(_node: LexborNode, text: str, parents: frozenset[str]) -> str:
    if "_inline" in parents:
        return text + " " if text else " "
    return "  \n" + text


def _image(node: LexborNode, _text: str, parents: frozenset[str]) -> str:
    attrs = node.attributes
    alt = escape_markdown_text(ALL_WS.sub(" ", attrs.get("alt") or ""))
    if "_inline" in parents:
        return alt
    src = _markdown_url(attrs.get("src") or "")
    if not src:
        return alt
    return f"![{alt}]({src}{_title_part(attrs.get('title'))})"


def _code(_node: LexborNode, text: str, parents: frozenset[str]) -> str:
    return _spanned(text, parents, _code_span)


def _code_span(text: str) -> str:
    """A code span whose fence is longer than any backtick run inside."""
    ticks = max((len(m) for m in _RE_BACKTICKS.findall(text)), default=0)
    if ticks:
        text = " " + text + " "
    fence = "`" * (ticks + 1)
    return fence + text + fence


def _blockquote(_node: LexborNode, text: str, parents: frozenset[str]) -> str:
    text = text.strip(" \t\r\n")
    if "_inline" in parents:
        return " " + text + " "
    if not text:
        return "\n"
    text = _RE_LINE.sub(lambda m: "> " + m.group(1) if m.group(1) else ">", text)
    return "\n" + text + "\n\n"


def _preformatted(_node: LexborNode, text: str, _parents: frozenset[str]) -> str:
    if not text:
        return ""
    text = _RE_PRE_TRAIL.sub("", _RE_PRE_LEAD.sub("", text))
    # A fence longer than any backtick run inside: "```" in the code cannot close it.
    longest = max((len(m) for m in _RE_BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"\n\n{fence}\n{text}\n{fence}\n\n"


def _cell(node: LexborNode, text: str, _parents: frozenset[str]) -> str:
    return " " + text.strip().replace("\n", " ") + " |" * _colspan(node)


def _row(node: LexborNode, text: str, _parents: frozenset[str]) -> str:
    return _convert_tr(node, text)


def _table(_node: LexborNode, text: str, _parents: frozenset[str]) -> str:
    return "\n\n" + text.strip() + "\n\n"


def _rule(_node: LexborNode, _text: str, _parents: frozenset[str]) -> str:
    return "\n\n---\n\n"


def _quote(_node: LexborNode, text: str, _parents: frozenset[str]) -> str:
    return '"' + text + '"'


def _definitions(_node: LexborNode, text: str, parents: frozenset[str]) -> str:
    if "_inline" in parents:
        return " " + text.strip() + " "
    text = text.strip()
    return f"\n\n{text}\n\n" if text else ""


def _term(_node: LexborNode, text: str, parents: frozenset[str]) -> str:
    text = ALL_WS.sub(" ", text.strip())
    if "_inline" in parents:
        return " " + text + " "
    return f"\n\n{text}\n" if text else "\n"


def _definition(_node: LexborNode, text: str, parents: frozenset[str]) -> str:
    text = text.strip()
    if "_inline" in parents:
        return " " + text + " "
    if not text:
        return "\n"
    text = _RE_LINE.sub(lambda m: "    " + m.group(1) if m.group(1) else "", text)
    return ":" + text[1:] + "\n"


def _caption(_node: LexborNode, text: str, _parents: frozenset[str]) -> str:
    return text.strip() + "\n\n"


def _figcaption(_node: LexborNode, text: str, _parents: frozenset[str]) -> str:
    return "\n\n" + text.strip() + "\n\n"


def _list_item(node: LexborNode, text: str, _parents: frozenset[str]) -> str:
    return _convert_li(node, text)


_CONVERTERS: dict[str, _Converter] = {
    **dict.fromkeys((*_INLINE_MARKUP, *_PLAIN_INLINE), _inline_markup),
    "p": _paragraph,
    "a": _link,
    **dict.fromkeys(HEADINGS, _heading),
    "ul": _list,
    "ol": _list,
    "li": _list_item,
    "br": _line_break,
    "img": _image,
    **dict.fromkeys(_CODE, _code),
    "blockquote": _blockquote,
    "pre": _preformatted,
    **dict.fromkeys(CELLS, _cell),
    "tr": _row,
    "table": _table,
    "hr": _rule,
    "q": _quote,
    "dl": _definitions,
    "dt": _term,
    "dd": _definition,
    "caption": _caption,
    "figcaption": _figcaption,
}
