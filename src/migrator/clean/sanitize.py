"""Sanitizing extracted HTML: an nh3 allow-list of structural and inline tags, no script,
style, iframe, form or event-handler attributes, only http(s)/mailto links, and every
link and image made absolute against the page URL.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import nh3

__all__ = ["SCHEMES", "sanitize_html"]

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
SCHEMES = frozenset({"http", "https", "mailto"})
_DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "noscript", "template", "svg", "math", "iframe", "object",
        "embed", "form", "button", "select", "textarea", "canvas", "audio", "video",
    }
)  # fmt: skip


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
        return joined if scheme in SCHEMES else None

    return nh3.clean(
        html,
        tags=set(_TAGS),
        attributes=_ATTRIBUTES,
        url_schemes=set(SCHEMES),
        attribute_filter=absolutize,
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        strip_comments=True,
        link_rel=None,
    ).strip()
