"""``--explain``'s losers: every value each layer offers for a field, in the order
extraction tries the layers, so that the ones that lost can be shown beside the winner.

Extraction stops at the first layer with a value and keeps nothing else: collecting
every layer's offer during a crawl would cost each page for a question asked of a few.
So the offers are gathered here, only when a user asks, from a fresh parse of the
page, by the same rules in the same order (config selectors, the site model's
element, structured data, ``<meta>``, heuristics). Pure: no network, clock or
database. A candidate is ``{"layer", "rule", "element", "value"}``; ``element`` is a
CSS path, ``None`` for a value that no single element shows (JSON-LD).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import DateOrder, ExtractConfig
from migrator.extract.blocks import furniture_nodes, norm
from migrator.extract.dates import PUBLISHED_META, UPDATED_META, node_date, parse_date
from migrator.extract.nodes import contains, select_safely
from migrator.extract.structured import Structured, jsonld_text
from migrator.models import SiteModel

__all__ = ["Candidate", "field_candidates", "losing_candidates"]

Candidate = dict[str, Any]
CssPath = Callable[[LexborNode], str]

_MAX_LOSERS = 10  # per field: the next layers in line, not every date on an archive page
_WS = re.compile(r"\s+")
_TITLE_SELECTORS = (
    "h1.entry-title, h1.post-title, h1.article-title, h1[itemprop=headline], "
    "h1.title, h1.headline, h1.page-title, h1[class*=title], h1[class*=headline], "
    ".entry-title, .post-title, .asset-name, .article-title"
)
_AUTHOR_SELECTORS = (
    '[rel="author"], .author .fn, .byline .author, .author-name, .vcard .fn, .vcard.author'
)
_DATE_TAGS = "time, abbr, span, p, div, li, small, em, strong, dd, td, h2, h3, h4, h5, a"
_SHORT = 160  # characters: a date sits in a short element
_DATE_KEYS = {
    "published": (("datePublished", "dateCreated", "uploadDate"), PUBLISHED_META),
    "updated": (("dateModified",), UPDATED_META),
}


def _text(node: LexborNode) -> str:
    return _WS.sub(" ", node.text(deep=True) or "").strip()


def _meta_node(tree: LexborHTMLParser, key: str) -> LexborNode | None:
    for node in tree.css("meta[content]"):
        for attribute in ("property", "name", "itemprop"):
            if (node.attributes.get(attribute) or "").strip().lower() == key:
                return node
    return None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _title(
    tree: LexborHTMLParser, structured: Structured, rules: ExtractConfig, model: SiteModel | None
) -> Iterator[tuple[str, str, LexborNode | None, str | None]]:
    selector = rules.selectors.title
    if selector:
        rule = f"extract.selectors.title = {selector!r}"
        for node in select_safely(tree, selector):
            yield "config", rule, node, _text(node)
    if model is not None and model.title_selector:
        for node in select_safely(tree, model.title_selector):
            yield "site", f"site model: {model.title_selector}", node, _text(node)
    for node in tree.css(_TITLE_SELECTORS):
        yield "heuristic", "headline classes (entry-title, post-title…)", node, _text(node)
    for node in tree.css("h1"):
        yield "heuristic", "h1", node, _text(node)
    if structured.article is not None:
        article = structured.article
        yield (
            "jsonld",
            "JSON-LD headline",
            None,
            jsonld_text(article.get("headline") or article.get("name")),
        )
    for key in ("headline", "name"):
        yield "microdata", f"microdata {key}", None, structured.microdata.get(key)
        yield "rdfa", f"RDFa {key}", None, structured.rdfa.get(key)
    for key in ("og:title", "twitter:title"):
        yield "meta", f"<meta> {key}", _meta_node(tree, key), structured.meta.get(key)
    title = tree.css_first("title")
    if title is not None:
        yield "heuristic", "<title> (site name cut off)", title, _text(title)


def _author(
    tree: LexborHTMLParser, structured: Structured, rules: ExtractConfig
) -> Iterator[tuple[str, str, LexborNode | None, str | None]]:
    selector = rules.selectors.author
    if selector:
        rule = f"extract.selectors.author = {selector!r}"
        for node in select_safely(tree, selector):
            yield "config", rule, node, _text(node)
    if structured.article is not None:
        yield "jsonld", "JSON-LD author", None, jsonld_text(structured.article.get("author"))
    yield "microdata", "microdata author", None, structured.microdata.get("author")
    yield "rdfa", "RDFa author", None, structured.rdfa.get("author")
    for key in ("author", "article:author", "dc.creator", "dcterms.creator"):
        yield "meta", f"<meta> {key}", _meta_node(tree, key), structured.meta.get(key)
    for node in tree.css(_AUTHOR_SELECTORS):
        yield "heuristic", "byline classes (author, vcard…)", node, _text(node)


def _date(
    name: str,
    tree: LexborHTMLParser,
    structured: Structured,
    rules: ExtractConfig,
    model: SiteModel | None,
    order: DateOrder,
) -> Iterator[tuple[str, str, LexborNode | None, str | None]]:
    selector = getattr(rules.selectors, name, None)
    if selector:
        rule = f"extract.selectors.{name} = {selector!r}"
        for node in select_safely(tree, selector):
            yield "config", rule, node, _iso(node_date(node, order))
    jsonld_keys, meta_keys = _DATE_KEYS[name]
    if structured.article is not None:
        for key in jsonld_keys:
            value = parse_date(jsonld_text(structured.article.get(key)), "YMD")
            yield "jsonld", f"JSON-LD {key}", None, _iso(value)
    key = jsonld_keys[0]
    microdata = parse_date(structured.microdata.get(key), order)
    yield "microdata", f"microdata {key}", None, _iso(microdata)
    yield "rdfa", f"RDFa {key}", None, _iso(parse_date(structured.rdfa.get(key), order))
    for key in meta_keys:
        stated = parse_date(structured.meta.get(key), "YMD")
        yield "meta", f"<meta> {key}", _meta_node(tree, key), _iso(stated)
    if name == "published" and model is not None and model.date_selector:
        for node in select_safely(tree, model.date_selector):
            yield "site", f"site model: {model.date_selector}", node, _iso(node_date(node, order))
    # The heuristics read the dates shown near the article; every short dated element
    # of the page is a candidate (a sidebar's, a comment's, the footer's). An element
    # marked as the update is a candidate for `updated` only.
    seen: set[str] = set()
    for node in tree.css(_DATE_TAGS):
        if len(node.text() or "") > _SHORT or _says_updated(node) != (name == "updated"):
            continue
        shown = _iso(node_date(node, order))
        if shown is not None and shown not in seen:
            seen.add(shown)
            yield "heuristic", "a date shown on the page", _innermost(node, order), shown


_UPDATED = re.compile(r"updated|modified", re.I)
_UPDATED_TEXT = re.compile(r"^\s*(?:last\s+)?(?:updated|modified|edited)\b", re.I)


def _says_updated(node: LexborNode) -> bool:
    """An element (or its parent) whose class, itemprop or wording marks an update."""
    for current in (node, node.parent):
        if current is None:
            continue
        attributes = current.attributes
        marker = f"{attributes.get('class') or ''} {attributes.get('itemprop') or ''}"
        if _UPDATED.search(marker) or _UPDATED_TEXT.match(current.text() or ""):
            return True
    return False


def _innermost(node: LexborNode, order: DateOrder) -> LexborNode:
    """The deepest element under ``node`` stating the same date (``<p><time>``)."""
    value = node_date(node, order)
    for child in node.iter(include_text=False):
        if node_date(child, order) == value:
            return _innermost(child, order)
    return node


def field_candidates(
    name: str,
    tree: LexborHTMLParser,
    structured: Structured,
    rules: ExtractConfig,
    model: SiteModel | None,
    order: DateOrder,
    css_path: CssPath,
) -> list[Candidate]:
    """Every value the layers offer for ``name`` (title, author, published, updated), in
    the order extraction tries them; empty values left out, repeats listed once."""
    if name == "title":
        offers = _title(tree, structured, rules, model)
    elif name == "author":
        offers = _author(tree, structured, rules)
    elif name in _DATE_KEYS:
        offers = _date(name, tree, structured, rules, model, order)
    else:
        return []
    furniture = furniture_nodes(tree, model)
    found: list[Candidate] = []
    keys: set[tuple[str, str | None, str]] = set()
    for layer, rule, node, value in offers:
        if not value:
            continue
        element = css_path(node) if node is not None else None
        key = (layer, element, value)
        if key in keys:
            continue
        keys.add(key)
        candidate: Candidate = {"layer": layer, "rule": rule, "element": element, "value": value}
        if node is not None and any(contains(block, node) for block in furniture):
            candidate["furniture"] = True  # the site repeats it on many pages: never a field
        found.append(candidate)
    return found


def losing_candidates(
    candidates: list[Candidate], layer: str | None, value: Any, element: str | None
) -> list[Candidate]:
    """The candidates other than the winner (the first with the winner's layer and
    value, or, for a date, its day), at most a few; each says whether its value
    ``agrees`` with the winner's (another layer offering the same value)."""
    wanted = _comparable(value)
    winner: int | None = None
    for index, candidate in enumerate(candidates):
        same_value = _same(candidate["value"], wanted)
        if candidate["layer"] == layer and same_value:
            if element is None or candidate["element"] in (element, None):
                winner = index
                break
            winner = index if winner is None else winner
    losers = [
        {**c, "agrees": _same(c["value"], wanted)} for i, c in enumerate(candidates) if i != winner
    ]
    return losers[:_MAX_LOSERS]


def _same(value: Any, wanted: str) -> bool:
    """``value`` is the winner's: equal, or holding it (a ``<title>`` or ``og:title``
    wins with the site's name cut off)."""
    offered = _comparable(value)
    return offered == wanted or (bool(wanted) and wanted in offered)


def _comparable(value: Any) -> str:
    text = norm(str(value)) if value is not None else ""
    # A date-time and its day are the same date for the reader.
    return text[:10] if re.match(r"\d{4}-\d{2}-\d{2}", text) else text
