"""Structured data read once per page and shared by the field extractors.

Collects JSON-LD objects (tolerant of invalid blocks, ``@graph``, top-level lists and
nesting), schema.org microdata of the article item, RDFa of the article item
(``typeof``/``property``: schema.org, Dublin Core, SIOC as Drupal writes it), and
``<meta>`` values (OpenGraph, ``article:*``, Dublin Core, plain ``name=``). It only reads
the tree: it never mutates it and never decides which layer wins a field (that is
``extract.page``'s job).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.extract.nodes import contains

__all__ = ["ARTICLE_TYPES", "Structured", "jsonld_text", "read_structured", "type_names"]

ARTICLE_TYPES = frozenset(
    {
        "article", "blogposting", "newsarticle", "techarticle", "scholarlyarticle", "report",
        "socialmediaposting", "liveblogposting", "analysisnewsarticle", "opinionnewsarticle",
        "reportagenewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "posting",
        "review", "howto", "recipe",
    }
)  # fmt: skip
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MAX_OBJECTS = 500


@dataclass(slots=True, kw_only=True)
class Structured:
    """Everything machine-readable the page says about itself."""

    jsonld: list[dict[str, Any]] = field(default_factory=list)
    article: dict[str, Any] | None = None  # the first JSON-LD Article-like object
    breadcrumb_list: dict[str, Any] | None = None  # the first JSON-LD BreadcrumbList
    microdata: dict[str, str] = field(default_factory=dict)  # article item's itemprops
    microdata_found: bool = False
    rdfa: dict[str, str] = field(default_factory=dict)  # headline, datePublished, … (RDFa)
    meta: dict[str, str] = field(default_factory=dict)  # lower-cased name/property → content
    meta_all: dict[str, list[str]] = field(default_factory=dict)  # repeated (article:tag)
    og_type: str | None = None

    def meta_first(self, *names: str) -> str | None:
        """The first non-empty ``<meta>`` value among ``names``."""
        for name in names:
            value = self.meta.get(name)
            if value:
                return value
        return None


def type_names(obj: dict[str, Any]) -> set[str]:
    """The lower-cased schema.org type names of a JSON-LD object (prefixes removed)."""
    raw = obj.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    return {str(n).rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower() for n in names if n}


def jsonld_text(value: Any) -> str | None:
    """A JSON-LD value as one string: ``name`` of an object, first of a list, stripped.

    JSON-LD strings are plain text, yet CMSs often write them HTML-escaped
    (``Olive &#038; Herb``, ``Glasgow&#8217;s``): character references are decoded.
    """
    if isinstance(value, list):
        for item in value:
            text = jsonld_text(item)
            if text:
                return text
        return None
    if isinstance(value, dict):
        return jsonld_text(value.get("name") or value.get("@value"))
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value).strip()
        if "&" in text and ";" in text:
            text = html.unescape(text).strip()
        return text or None
    return None


def _load_json(text: str) -> Any:
    text = text.strip()
    if text.startswith("<!--"):
        text = text[4:]
    if text.endswith("-->"):
        text = text[:-3]
    text = text.strip().removeprefix("<![CDATA[").removesuffix("]]>").strip().rstrip(";")
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", _CONTROL.sub(" ", text)), strict=False)
    except ValueError:
        return None


def _walk(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Yield every JSON object in ``data``: top level, ``@graph`` members and nested."""
    if depth > 12:
        return
    if isinstance(data, list):
        for item in data:
            yield from _walk(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key, value in data.items():
            if key == "@context":
                continue
            if isinstance(value, dict | list):
                yield from _walk(value, depth + 1)


def read_structured(tree: LexborHTMLParser, region: LexborNode | None = None) -> Structured:
    """Read JSON-LD, microdata, RDFa and ``<meta>`` from a parsed page.

    Args:
        tree: the parsed page (not modified).
        region: the article body, when known: it picks the RDFa item among several.

    Returns:
        The collected data; empty parts where the page has none or they are invalid.
    """
    data = Structured()
    for script in tree.css('script[type*="ld+json"]'):
        for obj in _walk(_load_json(script.text(deep=True) or "")):
            if len(data.jsonld) >= _MAX_OBJECTS:
                break
            data.jsonld.append(obj)
    for obj in data.jsonld:
        types = type_names(obj)
        if data.article is None and types & ARTICLE_TYPES:
            data.article = obj
        if data.breadcrumb_list is None and "breadcrumblist" in types:
            data.breadcrumb_list = obj
    for node in tree.css("meta[content]"):
        key = node.attributes.get("property") or node.attributes.get("name") or ""
        key = key.strip().lower()
        if not key:
            key = (node.attributes.get("itemprop") or "").strip().lower()
            if not key:
                continue
            key = "itemprop:" + key
        value = (node.attributes.get("content") or "").strip()
        if not value:
            continue
        data.meta.setdefault(key, value)
        data.meta_all.setdefault(key, []).append(value)
    data.og_type = data.meta.get("og:type")
    _read_microdata(tree, data)
    if tree.css_first("[typeof]") is not None:
        _read_rdfa(tree, data, region)
    return data


def _microdata_value(node: LexborNode) -> str:
    attrs = node.attributes
    for name in ("content", "datetime"):
        value = attrs.get(name)
        if value:
            return value.strip()
    if node.tag in {"a", "link"} and attrs.get("href"):
        return (attrs.get("href") or "").strip()
    if node.tag in {"img", "meta"} and attrs.get("src"):
        return (attrs.get("src") or "").strip()
    return " ".join(node.text(deep=True).split())


def _read_microdata(tree: LexborHTMLParser, data: Structured) -> None:
    item = None
    for node in tree.css("[itemscope][itemtype]"):
        itemtype = (node.attributes.get("itemtype") or "").lower()
        kinds = {t.rsplit("/", 1)[-1] for t in itemtype.split()}
        if kinds & ARTICLE_TYPES:
            item = node
            break
    if item is None:
        return
    data.microdata_found = True
    for prop in item.css("[itemprop]"):
        names = (prop.attributes.get("itemprop") or "").split()
        for name in names:
            if name in data.microdata:
                continue
            if name == "author":
                inner = prop.css_first('[itemprop="name"]')
                data.microdata[name] = (
                    _microdata_value(inner) if inner is not None else _microdata_value(prop)
                )
            elif name.lower() != "articlebody":
                data.microdata[name] = _microdata_value(prop)


# RDFa property local names (after the prefix: "dc:title", "schema:datePublished",
# "http://purl.org/dc/terms/created") mapped to the microdata-style key they stand for.
_RDFA_KEYS = {
    "headline": "headline",
    "title": "headline",
    "name": "name",
    "datepublished": "datePublished",
    "date": "datePublished",
    "created": "datePublished",
    "issued": "datePublished",
    "datecreated": "datePublished",
    "datemodified": "dateModified",
    "modified": "dateModified",
    "author": "author",
    "creator": "author",
    "has_creator": "author",
}
_RDFA_ARTICLE_TYPES = ARTICLE_TYPES | {"post", "blogpost", "item", "document"}
_AUTHOR_TERMS = frozenset({"author", "creator", "has_creator"})
_RDFA_SKIP_PREFIXES = ("og:", "article:", "fb:", "twitter:", "al:", "music:", "video:")


def _local_name(term: str) -> str:
    return term.rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1].lower()


def _typed(node: LexborNode) -> set[str]:
    return {_local_name(t) for t in (node.attributes.get("typeof") or "").split()}


def _read_rdfa(tree: LexborHTMLParser, data: Structured, region: LexborNode | None) -> None:
    """RDFa of the article item: the ``typeof`` article around the body region, else the
    first one. Page-wide terms outside an item are not read: on the corpus they were a
    licence block's ``dct:title`` and a breadcrumb's ``v:title``.

    A property inside a nested item (``property="author" typeof="Person"``) belongs to
    that item: only its ``name`` is read, as the author's.
    """
    items = [n for n in tree.css("[typeof]") if _typed(n) & _RDFA_ARTICLE_TYPES][:50]
    if not items:
        return
    root: LexborNode | None = items[0]
    if region is not None:
        # Drupal marks every teaser as a sioc:Item too: the article is the item holding
        # the body, or the only item inside the body region; several items and none
        # around the body (a listing, or an article among teasers) give no answer.
        holding = [c for c in items if contains(c, region)]
        inside = [c for c in items if contains(region, c)]
        root = holding[-1] if holding else (inside[0] if len(inside) == 1 else None)
    if root is None:
        return
    item_id = root.mem_id
    for node in root.css("[property]"):
        chain: list[LexborNode] = []  # node and its ancestors below the item
        current: LexborNode | None = node
        while current is not None and current.mem_id != item_id and len(chain) < 50:
            chain.append(current)
            current = current.parent
        typed_above = any(n.attributes.get("typeof") is not None for n in chain[1:])
        about_author = any(
            _local_name(t) in _AUTHOR_TERMS
            for n in chain
            for t in (
                (n.attributes.get("property") or "") + " " + (n.attributes.get("rel") or "")
            ).split()
        )
        for term in (node.attributes.get("property") or "").split():
            if term.lower().startswith(_RDFA_SKIP_PREFIXES):
                continue
            key = _RDFA_KEYS.get(_local_name(term))
            if key == "name" and about_author:
                key = "author"
            elif (
                key is None
                or typed_above
                or (key == "author" and node.attributes.get("typeof") is not None)
            ):
                continue  # a nested item's property, or the author item itself
            # Every key read here is a literal: an <a property="foaf:name" href=…>
            # names the author by its text, not its link.
            attrs = node.attributes
            value = (attrs.get("content") or attrs.get("datetime") or "").strip()
            value = value or " ".join(node.text(deep=True).split())
            if value:
                data.rdfa.setdefault(key, value)
