"""What a page is, from what its CMS and its URL say before any date is found.

Most blog engines state the page's kind in their markup: WordPress in ``<body class>``
(``single-post``, ``page``, ``attachment``, ``archive``, ``paged``…), Blogger in its
widget data (``'pageType': 'item'``), Movable Type, Ghost, Drupal and Joomla in body
classes or ids. Where the CMS says nothing, URL shapes that every blog engine uses for
archives (``/tag/x/``, ``/category/x/``, ``/2009/07/``, ``2005_01_01_archive.html``,
``?m=200907``, ``/search/label/x``, calendar pages such as ``/events/2024-07/`` and
``?month=2024-07``) mark listings. Reads the tree only.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from selectolax.lexbor import LexborHTMLParser

from migrator.traps import calendar_date

__all__ = ["cms_page_type", "split_page_number", "url_page_type"]

Kind = Literal["post", "page", "listing", "attachment", "other"]

_BLOGGER_TYPE = re.compile(r"""['"]pageType['"]\s*:\s*['"](\w+)['"]""")
_BLOGGER_KINDS: dict[str, Kind] = {
    "item": "post",
    "static_page": "page",
    "archive": "listing",
    "index": "listing",
    "error_page": "other",
}
_WP_LISTING = frozenset(
    {"archive", "home", "blog", "category", "tag", "date", "author", "search", "tax",
     "post-type-archive", "paged"}
)  # fmt: skip
# Ghost (post-template, page-template, tag-template…), Drupal (node-type-*, page-node),
# Joomla (view-article / view-category …), Movable Type (mt-entry-archive …).
_CLASS_KINDS: tuple[tuple[re.Pattern[str], Kind], ...] = (
    (re.compile(r"\b(?:mt-entry-archive|entry-template|post-template)\b"), "post"),
    (re.compile(r"\b(?:mt-page-archive|page-template(?!-default))\b"), "page"),
    (
        re.compile(
            r"\b(?:mt-archive-listing|mt-main-index|mt-category-archive|mt-datebased-archive|"
            r"mt-author-archive|tag-template|home-template|author-template|paged|"
            r"view-category|view-featured|view-archive|view-tag|page-taxonomy)\b"
        ),
        "listing",
    ),
    (re.compile(r"\b(?:view-article|node-type-(?:article|blog|story|post))\b"), "post"),
    (re.compile(r"\bnode-type-page\b"), "page"),
    (re.compile(r"\berror404\b"), "other"),
)
_PAGED_SINGLE = re.compile(r"\bsingle-paged-(\d+)\b|\bpage-paged-(\d+)\b")

_TAXONOMY = re.compile(
    r"/(?:tag|tags|category|categories|label|labels|topics?|author|authors|"
    r"search|kategorie|kategoria|categorie|categoria|etiqueta|etiquette|schlagwort|tagi?|"
    r"rubrique|rubrik|thema|tema|autor|auteur)/[^/]+(?:/(?:page/\d+/?)?)?$",
    re.I,
)
_PAGINATION = re.compile(r"/(?:page|seite|pagina|strona)/\d+/?$", re.I)
_DATE_ARCHIVE = re.compile(
    r"^/(?:[^/]+/)?(?:19|20)\d{2}/(?:(?:0?[1-9]|1[0-2])/(?:(?:0?[1-9]|[12]\d|3[01])/)?)?"
    r"(?:index\.\w+|page/\d+/?)?$"
)
_BLOGGER_ARCHIVE = re.compile(r"/(?:19|20)\d{2}_\d{2}_\d{2}_archive\.html?$", re.I)
_LISTING_QUERIES = frozenset({"m", "cat", "tag", "s", "paged", "author", "year", "monthnum"})


def cms_page_type(tree: LexborHTMLParser, text: str) -> tuple[Kind | None, str | None]:
    """The kind the CMS's own markup states, and the evidence (``None`` if silent)."""
    body = tree.body
    classes = (body.attributes.get("class") or "") if body is not None else ""
    ident = (body.attributes.get("id") or "") if body is not None else ""
    tokens = set(classes.split())
    if tokens:
        if "attachment" in tokens or "single-attachment" in tokens:
            return "attachment", "body.attachment"
        paged = _PAGED_SINGLE.search(classes)
        if paged and ("single" in tokens or "page" in tokens):
            return "other", "body.single-paged"  # page 2+ of a post split with nextpage
        if "single" in tokens or any(t.startswith("single-format") for t in tokens):
            return "post", "body.single"
        if "page" in tokens and ("page-template-default" in tokens or "page-id" in classes):
            return "page", "body.page"
        if tokens & _WP_LISTING and (
            "archive" in tokens
            or "home" in tokens
            or "blog" in tokens
            or "search" in tokens
            or "paged" in tokens
        ):
            return "listing", "body." + sorted(tokens & _WP_LISTING)[0]
        if "error404" in tokens:
            return "other", "body.error404"
    marker = classes + " " + ident
    for pattern, kind in _CLASS_KINDS:
        if pattern.search(marker):
            return kind, "body." + pattern.pattern[:40]
    if "_WidgetManager" in text or "blogger" in text[:5000].lower():
        match = _BLOGGER_TYPE.search(text)
        if match and match.group(1) in _BLOGGER_KINDS:
            return _BLOGGER_KINDS[match.group(1)], f"blogger.pageType={match.group(1)}"
    return None, None


def url_page_type(url: str) -> Kind | None:
    """``listing`` for the URL shapes of archives and taxonomies, else ``None``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    path = parts.path or "/"
    if _TAXONOMY.search(path) or _PAGINATION.search(path) or _BLOGGER_ARCHIVE.search(path):
        return "listing"
    if _DATE_ARCHIVE.match(path) or calendar_date(url) is not None:
        return "listing"  # a dated archive or calendar page (/events/2024-07/, ?month=)
    if parts.query:
        keys = {k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
        if keys & _LISTING_QUERIES and not keys & {"p", "page_id", "id", "attachment_id"}:
            return "listing"
    return None


def split_page_number(url: str) -> int | None:
    """The page number of a post split over several URLs (``/slug/2/``), if any."""
    match = re.search(r"/(\d{1,3})/?$", urlsplit(url).path)
    if match is None:
        return None
    number = int(match.group(1))
    return number if 2 <= number <= 200 else None
