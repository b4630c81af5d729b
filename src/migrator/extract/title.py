"""The headline a reader sees, and the page's author.

The visible ``h1`` of the article (``entry-title``, ``post-title``, ``itemprop=headline``)
beats structured data (JSON-LD, microdata, RDFa), which beats ``og:title``, which beats
``<title>`` with the site name cut off. A listing's title is its own heading, never its
first post's. Reads the tree only.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import ExtractConfig
from migrator.extract.blocks import norm
from migrator.extract.markers import TITLE_JUNK_WORDS
from migrator.extract.nodes import contains, memo_ancestors, select_safely
from migrator.extract.structured import Structured, jsonld_text
from migrator.extract.titleparts import cut_site_names
from migrator.models import SiteModel

__all__ = ["find_author", "find_title", "listing_title"]

_WS = re.compile(r"\s+")
_TITLE_SELECTORS = (
    "h1.entry-title, h1.post-title, h1.article-title, h1[itemprop=headline], "
    "h1.title, h1.headline, h1.page-title, h1[class*=title], h1[class*=headline], "
    ".entry-title, .post-title, .asset-name, .article-title"
)
_SITE_SUFFIX = re.compile(r"\s+(?:\||–|—|-|::|«|»|·|•)\s+")
_MAX_TITLE = 500


def _text(node: LexborNode) -> str:
    return _WS.sub(" ", node.text(deep=True)).strip()


def _in_junk(node: LexborNode, known: dict[int, bool], article_footer_ok: bool = False) -> bool:
    """True for a heading in a sidebar, footer or the site header (the blog's name).

    ``article_footer_ok``: a footer inside the post's own ``<article>``/``.hentry`` is
    its byline area (WordPress themes put the author there), not the page footer.
    ``known``: the memo of earlier answers with the same ``article_footer_ok``
    (``nodes.memo_ancestors``), so each ancestor is tested once.
    """
    test = _junk_area_but_article_footer if article_footer_ok else _junk_area
    return memo_ancestors(node, known, test)


def _junk_area(node: LexborNode) -> bool:
    """An aside, footer or nav, or a block named like a sidebar, a logo, a site header…"""
    if node.tag in {"aside", "footer", "nav"}:
        return True
    tokens = (node.attributes.get("class") or "").split()
    tokens.append(node.attributes.get("id") or "")
    return any(TITLE_JUNK_WORDS.search(token) for token in tokens if token)


def _junk_area_but_article_footer(node: LexborNode) -> bool:
    """:func:`_junk_area`, a footer inside the post's own article excepted."""
    tokens = (node.attributes.get("class") or "").split()
    if (node.tag == "footer" or any("footer" in t.lower() for t in tokens)) and _in_article(node):
        return False
    return _junk_area(node)


def _in_article(node: LexborNode) -> bool:
    current = node.parent
    while current is not None:
        if current.tag == "article" or "hentry" in (current.attributes.get("class") or ""):
            return True
        current = current.parent
    return False


def _strip_site_name(title: str, site_name: str | None, names: frozenset[str] = frozenset()) -> str:
    parts = _SITE_SUFFIX.split(title)
    if len(parts) == 1:
        return title
    cut = cut_site_names(title, names) if names else None
    if cut:
        return cut
    if site_name:
        kept = [p for p in parts if p.strip().lower() != site_name.strip().lower()]
        if kept and len(kept) < len(parts):
            return " - ".join(kept) if len(kept) > 1 else kept[0]
    return max(parts, key=len)


def find_title(
    tree: LexborHTMLParser,
    structured: Structured,
    rules: ExtractConfig,
    region: LexborNode | None,
    model: SiteModel | None = None,
) -> tuple[str | None, str | None]:
    """The page's headline and the layer that gave it (``(None, None)`` if none).

    With a site model, its headline element comes right after the configured selector,
    and the texts it knows as the site's name are never the headline (a constant
    ``og:title``, the repeated part of ``<title>``).
    """
    names: frozenset[str] = model.site_names if model is not None else frozenset()
    selected = _selected_title(tree, rules, model, names)
    if selected is not None:
        return selected
    known: dict[int, bool] = {}  # one memo of ``_in_junk`` answers for the page
    for node in tree.css(_TITLE_SELECTORS):
        text = _text(node)
        if text and not _in_junk(node, known):
            return text[:_MAX_TITLE], "heuristic"
    h1s = [n for n in tree.css("h1") if _text(n) and not _in_junk(n, known)]
    in_article = [n for n in h1s if _has_ancestor(n, {"article", "main"})]
    if region is not None:
        near = [n for n in h1s if contains(region, n) or _precedes_in_parent(n, region)]
        in_article = near or in_article
    if in_article:
        return _text(in_article[0])[:_MAX_TITLE], "heuristic"
    stated = _structured_title(structured)
    if stated is not None:
        return stated
    if len(h1s) == 1:
        return _text(h1s[0])[:_MAX_TITLE], "heuristic"
    return _head_title(tree, structured, names)


def _selected_title(
    tree: LexborHTMLParser, rules: ExtractConfig, model: SiteModel | None, names: frozenset[str]
) -> tuple[str, str] | None:
    """The configured selector's headline, else the site model's headline element's."""
    if rules.selectors.title:
        for node in select_safely(tree, rules.selectors.title):
            text = _text(node)
            if text:
                return text[:_MAX_TITLE], "config"
    if model is not None and model.title_selector:
        for node in select_safely(tree, model.title_selector):
            text = _text(node)
            if text and norm(text) not in names:
                return text[:_MAX_TITLE], "site"
    return None


def _structured_title(structured: Structured) -> tuple[str, str] | None:
    """The headline of the JSON-LD article, else of the microdata or RDFa item."""
    if structured.article is not None:
        headline = jsonld_text(structured.article.get("headline") or structured.article.get("name"))
        if headline:
            return headline[:_MAX_TITLE], "jsonld"
    headline = structured.microdata.get("headline") or structured.microdata.get("name")
    if headline:
        return headline[:_MAX_TITLE], "microdata"
    headline = structured.rdfa.get("headline") or structured.rdfa.get("name")
    if headline:
        return " ".join(headline.split())[:_MAX_TITLE], "rdfa"
    return None


def _head_title(
    tree: LexborHTMLParser, structured: Structured, names: frozenset[str]
) -> tuple[str | None, str | None]:
    """``og:title``, else ``<title>``, without the site's name."""
    site_name = structured.meta.get("og:site_name")
    og = structured.meta_first("og:title", "twitter:title")
    if og and norm(og) not in names:
        return _strip_site_name(og, site_name, names)[:_MAX_TITLE], "meta"
    title_node = tree.css_first("title")
    if title_node is not None:
        text = _text(title_node)
        if text:
            cut = cut_site_names(text, names) if names else None
            if cut:
                return cut[:_MAX_TITLE], "site"
            shown = _shown_part(tree, text)
            if shown:
                return shown[:_MAX_TITLE], "heuristic"
            return _strip_site_name(text, site_name, names)[:_MAX_TITLE], "heuristic"
    return None, None


_MAX_SHOWN_SCAN = 3000


def _shown_part(tree: LexborHTMLParser, title: str) -> str | None:
    """The one part of a split ``<title>`` that the page shows as an element's own text.

    ``Briefe schreiben - Mein Tagebuch``: the post title stands alone in some element of
    the content (an old CMS's ``div.eTitle``), the site name at most in the header.
    """
    parts = [p.strip() for p in _SITE_SUFFIX.split(title) if p.strip()]
    if len(parts) < 2 or tree.body is None:
        return None
    # The headline leads or ends a title; middle parts are sections ("Post - Blog - Site").
    wanted = {p.lower(): p for p in (parts[0], parts[-1]) if len(p) >= 4}
    found: dict[str, str] = {}
    known: dict[int, bool] = {}  # one memo of ``_in_junk`` answers for the page
    for count, node in enumerate(tree.body.traverse()):
        if count >= _MAX_SHOWN_SCAN:
            break
        if node.tag in {"a", "title", "script", "style", "option", "-text"}:
            continue
        child = node.child
        if child is None or child.tag != "-text" or child.next is not None:
            continue  # only elements holding one run of text
        text = _WS.sub(" ", child.text_content or "").strip().lower()
        if text in wanted and not _in_junk(node, known):
            found[text] = wanted[text]
    return next(iter(found.values())) if len(found) == 1 else None


def _has_ancestor(node: LexborNode, tags: set[str]) -> bool:
    current = node.parent
    while current is not None:
        if current.tag in tags:
            return True
        current = current.parent
    return False


def _precedes_in_parent(h1: LexborNode, region: LexborNode) -> bool:
    """True when the h1 sits in an ancestor of the region (the post's header)."""
    container = region.parent
    for _ in range(3):
        if container is None or container.tag in {"body", "html"}:
            return False
        if contains(container, h1):
            return True
        container = container.parent
    return False


def find_author(
    tree: LexborHTMLParser, structured: Structured, rules: ExtractConfig
) -> tuple[str | None, str | None]:
    """The author's name and the layer that gave it."""
    if rules.selectors.author:
        for node in select_safely(tree, rules.selectors.author):
            text = _text(node)
            if text:
                return text[:200], "config"
    if structured.article is not None:
        name = jsonld_text(structured.article.get("author"))
        if name and not name.startswith("http"):
            return name[:200], "jsonld"
    if structured.microdata.get("author"):
        return structured.microdata["author"][:200], "microdata"
    if structured.rdfa.get("author"):
        return structured.rdfa["author"][:200], "rdfa"
    name = structured.meta_first("author", "article:author", "dc.creator", "dcterms.creator")
    if name and not name.startswith("http"):
        return name[:200], "meta"
    known: dict[int, bool] = {}  # one memo of ``_in_junk`` answers for the page
    for node in tree.css(
        '[rel="author"], .author .fn, .byline .author, .author-name, .vcard .fn, .vcard.author'
    ):
        text = _text(node)
        if text and len(text) < 100 and not _in_junk(node, known, article_footer_ok=True):
            return _author_name(text), "heuristic"
    return None, None


# What themes write before the name: "By", "View all posts by", "Posted by", "Autor:".
def _author_name(text: str) -> str:
    """The name in a byline or an author box's link ("View all of Chen Wei's posts.")."""
    possessive = _AUTHOR_POSSESSIVE.match(text)
    if possessive:
        return possessive.group(1).strip()
    return _AUTHOR_LEAD.sub("", text)


# Twenty Twenty-One's author box: "View all of Chen Wei's posts."
_AUTHOR_POSSESSIVE = re.compile(
    r"^(?:view|see|read)\s+(?:all\s+)?(?:of\s+)?(.+?)['’]s?\s+(?:posts|articles|entries)\W*$",
    re.I,
)
_AUTHOR_LEAD = re.compile(
    r"^(?:(?:view|see) (?:all )?(?:posts|articles) by|(?:all )?posts by|written by|"
    r"posted by|by|von|par|por|di|door|autor|author|auteur)\s*:?\s+",
    re.I,
)


_SUMMARY_WRAPPERS = frozenset({"article"})
_SUMMARY_MARKER = re.compile(r"\b(?:post|hentry|entry|blog-post|post-summary)\b", re.I)


def _in_summary(node: LexborNode) -> bool:
    current = node.parent
    while current is not None:
        if current.tag in _SUMMARY_WRAPPERS or _SUMMARY_MARKER.search(
            current.attributes.get("class") or ""
        ):
            return True
        current = current.parent
    return False


def listing_title(tree: LexborHTMLParser, structured: Structured) -> str | None:
    """A listing's own heading: its first ``h1`` outside the post summaries, else
    ``<title>`` without the site name; ``None`` when it has neither.

    The site header's ``h1`` counts here (on a blog's home page the blog's name is the
    page's heading); sidebars and footers do not.
    """
    for node in tree.css("h1"):
        text = _text(node)
        if text and not _in_summary(node) and not _has_ancestor(node, {"aside", "footer"}):
            return text[:_MAX_TITLE]
    title_node = tree.css_first("title")
    if title_node is not None:
        text = _text(title_node)
        if text:
            return _strip_site_name(text, structured.meta.get("og:site_name"))[:_MAX_TITLE]
    return None
