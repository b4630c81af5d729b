"""Sanitizing extracted HTML and turning it into Markdown, in that order.

``sanitize_html`` is an nh3 allow-list: structural and inline tags only, no script, style,
iframe, form or event-handler attributes, only http(s)/mailto links, and every link and
image made absolute against the page URL. ``html_to_markdown`` must only ever see
sanitized HTML (converters pass ``javascript:`` links through). This module does not
decide *what* the body is; ``extract.body`` does.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import nh3
from markdownify import markdownify

__all__ = ["html_to_markdown", "sanitize_html"]

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
    text = markdownify(html, heading_style="ATX", bullets="-", strip=["span", "div"])
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()
