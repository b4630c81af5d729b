"""The page's own addresses and the links it gives: base URL, canonical URL, shortlink, the
parts of a post split over several pages."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from migrator.extract.links import PageHrefs, absolute_url, host_of
from migrator.extract.pagetype import split_page_number
from migrator.urls import is_http_url


def base_url(tree: LexborHTMLParser, url: str) -> str:
    node = tree.css_first("base[href]")
    if node is not None:
        href = absolute_url(node.attributes.get("href"), url)
        if href:
            return href
    return url


def link_urls(tree: LexborHTMLParser, hrefs: PageHrefs) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for node in tree.css("a[href], area[href]"):
        url = hrefs.resolve(node.attributes.get("href"))
        if url is not None:
            seen.setdefault(url, None)
    return tuple(seen)


def canonical_url(tree: LexborHTMLParser, url: str, hrefs: PageHrefs) -> str:
    node = tree.css_first('link[rel~="canonical" i][href]')
    if node is not None:
        href = hrefs.resolve(node.attributes.get("href"))
        if href and is_http_url(href) and host_of(href) == host_of(url):
            return href
    return url


_PART_CLASS = re.compile(r"\b(?:single|page)-paged-(\d+)\b")


def split_post(
    url: str, links: tuple[str, ...], cms_evidence: str | None, tree: LexborHTMLParser
) -> tuple[str | None, int | None, bool]:
    """``(first page, part number, has parts)`` of a post split with ``<!--nextpage-->``.

    Page N says so in its body class (``single-paged-N``) and sits at ``<post>/N/``; the
    first page links to ``<post>/2/``.
    """
    if cms_evidence == "body.single-paged":
        body = tree.body
        match = _PART_CLASS.search((body.attributes.get("class") or "") if body else "")
        number = split_page_number(url)
        if match and number == int(match.group(1)):
            first = re.sub(r"/\d{1,3}/?$", "/", url)
            return (first, number, False) if first != url else (None, None, False)
        return None, None, False
    if not url.endswith("/"):
        return None, None, False
    return None, None, url + "2/" in links


def shortlink_url(tree: LexborHTMLParser, url: str, hrefs: PageHrefs) -> str | None:
    """``<link rel=shortlink>`` (WordPress's ``/?p=123``): another URL of this page."""
    node = tree.css_first('link[rel~="shortlink" i][href]')
    if node is None:
        return None
    href = hrefs.resolve(node.attributes.get("href"))
    if href and is_http_url(href) and host_of(href) == host_of(url) and href != url:
        return href
    return None
