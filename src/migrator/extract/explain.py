"""``--explain``: where on the page each extracted field is, as a CSS path.

Extraction records only the layer that gave each field (``Page.sources``); keeping a
node reference through every layer would cost the crawl for a question asked of a few
pages. So the element is found afterwards, in a fresh parse of the page the user sees
in their browser's inspector: the element holding the extracted value (the title's
text, the date, the crumbs' and the widgets' links, the body's region). Pure, like the
rest of ``extract``: no network, clock or database; it never changes the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import DateOrder, ExtractConfig
from migrator.decode import decode_body
from migrator.extract.candidates import field_candidates, losing_candidates
from migrator.extract.dates import node_date, parse_date
from migrator.extract.region import find_region
from migrator.extract.structured import read_structured
from migrator.extract.template import template_signature
from migrator.models import RawPage, SiteModel

__all__ = ["css_path", "explain_fields"]

_IDENT = re.compile(r"-?[_a-zA-Z][_a-zA-Z0-9-]*")
_HEADINGS = "h1, h2, h3, h4, h5, h6"
_TEXT_TAGS = "a, span, p, div, li, strong, em, b, time, header, td, dd, address, small"
_CONTAINERS = "nav, ol, ul, div, p, span, header, footer, section, aside, dl, table, td, li"
_DATE_TAGS = "time, abbr, span, p, div, li, small, em, strong, dd, td, h2, h3, h4, h5, a"
_SHORT = 160  # characters: a date or a name sits in a short element
_WITH_CANDIDATES = ("title", "author", "published", "updated")


def _ws(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def css_path(node: LexborNode) -> str:
    """A CSS selector that selects ``node`` alone: tags from ``body`` (or the nearest
    element with a usable ``id``) down, with ``:nth-of-type`` where siblings share a tag
    and the first class name for the reader's benefit."""
    parts: list[str] = []
    current: LexborNode | None = node
    while current is not None and current.tag not in (None, "-document", "html"):
        tag = str(current.tag)
        if tag in ("body", "head"):
            parts.append(tag)
            break
        ident = current.attributes.get("id") or ""
        if _IDENT.fullmatch(ident):
            parts.append(f"{tag}#{ident}")
            break
        part = tag
        classes = [
            c for c in (current.attributes.get("class") or "").split() if _IDENT.fullmatch(c)
        ]
        if classes:
            part += f".{classes[0]}"
        parent = current.parent
        if parent is not None:
            same = [c for c in parent.iter(include_text=False) if c.tag == tag]
            if len(same) > 1:
                index = next(i for i, c in enumerate(same, 1) if c.mem_id == current.mem_id)
                part += f":nth-of-type({index})"
        parts.append(part)
        current = parent
    return " > ".join(reversed(parts))


def _depth(node: LexborNode) -> int:
    depth = 0
    current = node.parent
    while current is not None:
        depth += 1
        current = current.parent
    return depth


def _smallest(nodes: Iterable[LexborNode]) -> LexborNode | None:
    """The node with the least text; among equals the deepest (the innermost of nested
    matches), then the first."""
    best: LexborNode | None = None
    best_key = (0, 0)
    for node in nodes:
        key = (len(node.text() or ""), -_depth(node))
        if best is None or key < best_key:
            best, best_key = node, key
    return best


def _by_text(tree: LexborHTMLParser, value: str) -> LexborNode | None:
    """The element showing ``value``: a heading first, then any short element that
    says exactly it, then one that says it among a few words ("By Ann"), then
    ``<title>``."""
    wanted = _ws(value).casefold()
    if not wanted:
        return None
    for tags in (_HEADINGS, _TEXT_TAGS):
        exact = [n for n in tree.css(tags) if _ws(n.text()).casefold() == wanted]
        if exact:
            return _smallest(exact)
    near = [
        n
        for n in tree.css(_TEXT_TAGS)
        if wanted in (text := _ws(n.text()).casefold()) and len(text) <= len(wanted) + 40
    ]
    if near:
        return _smallest(near)
    title = tree.css_first("title")
    if title is not None and wanted in _ws(title.text()).casefold():
        return title
    return None


def _meta_with(tree: LexborHTMLParser, test: Any) -> LexborNode | None:
    for node in tree.css("meta[content]"):
        if test(node.attributes.get("content") or ""):
            return node
    return None


def _date_node(tree: LexborHTMLParser, iso: str, order: str) -> LexborNode | None:
    day = iso[:10]

    def same(value: Any) -> bool:
        return value is not None and value.isoformat()[:10] == day

    found = [
        n
        for n in tree.css(_DATE_TAGS)
        if len(n.text() or "") <= _SHORT and same(node_date(n, order))  # type: ignore[arg-type]
    ]
    if found:
        return _smallest(found)
    return _meta_with(tree, lambda c: same(parse_date(c, "YMD")))


def _ancestor(nodes: list[LexborNode]) -> LexborNode | None:
    """The innermost element containing every node."""
    if not nodes:
        return None
    chains = []
    for node in nodes:
        chain: list[LexborNode] = []
        current: LexborNode | None = node
        while current is not None and current.tag not in (None, "-document"):
            chain.append(current)
            current = current.parent
        chains.append(chain[::-1])
    common: LexborNode | None = None
    for level in zip(*chains, strict=False):
        if all(n.mem_id == level[0].mem_id for n in level):
            common = level[0]
        else:
            break
    return common


def _holding_links(tree: LexborHTMLParser, base: str, urls: Iterable[str]) -> LexborNode | None:
    """The smallest element whose links include every one of ``urls``."""
    wanted = set(urls)
    if not wanted:
        return None
    holders = [
        node
        for node in tree.css(_CONTAINERS)
        if wanted <= {urljoin(base, a.attributes.get("href") or "") for a in node.css("a[href]")}
    ]
    return _smallest(holders)


def explain_fields(
    raw: RawPage,
    record: Mapping[str, Any],
    rules: ExtractConfig,
    model: SiteModel | None = None,
) -> dict[str, dict[str, Any]]:
    """For each field the record has, its layer, the rule behind it and its element.

    Args:
        raw: the page that was extracted.
        record: its record, with ``sources`` (``Page.to_record(explain=True)``).
        rules: the extraction config (selectors).
        model: the site model applied, if any.

    Returns:
        ``{field: {"layer", "rule", "element"}}``; ``element`` is a CSS path (``None``
        when no single element holds the value, e.g. a value from JSON-LD only). The
        title, author and dates add ``candidates``: the values that lost, each with its
        layer, rule, element and value, in the order extraction tries them (a field
        with no value but with candidates is listed with layer ``None``).
    """
    tree = LexborHTMLParser(decode_body(raw.body, raw.header("content-type")).text)
    if model is not None:
        model = model.for_template(template_signature(tree))  # the rules the page used
    sources: Mapping[str, str] = record.get("sources") or {}
    base = str(record.get("url") or raw.url)
    order: DateOrder = rules.date_order
    if model is not None and model.date_order in {"MDY", "DMY", "YMD"}:
        order = model.date_order  # type: ignore[assignment]
    nodes = _value_nodes(tree, record, base, order)
    group_nodes = _group_nodes(tree, record, base)
    if group_nodes:
        nodes["sidebar_links"] = _ancestor([n for n in group_nodes.values() if n is not None])
    region = find_region(tree, rules)[0]
    if record.get("body_html"):
        nodes["body"] = region
        if record.get("sections"):
            nodes["sections"] = region
    explained: dict[str, dict[str, Any]] = {}
    for name in sorted(set(sources) | set(nodes)):
        if name == "encoding":
            continue
        layer = sources.get(name)
        node = nodes.get(name)
        explained[name] = {
            "layer": layer,
            "rule": _rule(name, layer, rules, model),
            "element": css_path(node) if node is not None else None,
        }
    _add_candidates(explained, tree, region, record, rules, model, order)
    if "sidebar_links" in explained:
        explained["sidebar_links"]["groups"] = {
            name: css_path(node) if node is not None else None for name, node in group_nodes.items()
        }
    return explained


def _value_nodes(
    tree: LexborHTMLParser, record: Mapping[str, Any], base: str, order: DateOrder
) -> dict[str, LexborNode | None]:
    """The elements showing the record's title, author, dates and breadcrumbs."""
    nodes: dict[str, LexborNode | None] = {}
    if record.get("title"):
        nodes["title"] = _by_text(tree, str(record["title"]))
        if nodes["title"] is None:
            nodes["title"] = _meta_with(tree, lambda c: _ws(c) == _ws(record["title"]))
    if record.get("author"):
        nodes["author"] = _by_text(tree, str(record["author"]))
    for name in ("published", "updated"):
        if record.get(name):
            nodes[name] = _date_node(tree, str(record[name]), order)
    crumbs = [c["url"] for c in record.get("breadcrumbs") or () if c.get("url")]
    if crumbs:
        nodes["breadcrumbs"] = _holding_links(tree, base, crumbs)
    return nodes


def _group_nodes(
    tree: LexborHTMLParser, record: Mapping[str, Any], base: str
) -> dict[str, LexborNode | None]:
    """Per group of the record's sidebar links, the element holding all its links."""
    groups: dict[str, list[str]] = {}
    for link in record.get("sidebar_links") or ():
        groups.setdefault(str(link["group"]), []).append(str(link["url"]))
    return {name: _holding_links(tree, base, urls) for name, urls in groups.items()}


def _add_candidates(
    explained: dict[str, dict[str, Any]],
    tree: LexborHTMLParser,
    region: LexborNode | None,
    record: Mapping[str, Any],
    rules: ExtractConfig,
    model: SiteModel | None,
    order: DateOrder,
) -> None:
    """Add to the title, author and dates the ``candidates`` that lost: every other value
    the layers offer (read from a fresh parse, since extraction keeps only the winner;
    with a model the furniture is marked). A field with none of its own but with
    candidates is added with layer ``None``."""
    structured = read_structured(tree, region)
    for name in _WITH_CANDIDATES:
        offered = field_candidates(name, tree, structured, rules, model, order, css_path)
        entry = explained.get(name)
        if entry is None:
            if not offered:
                continue
            entry = explained[name] = {"layer": None, "rule": "none", "element": None}
        entry["candidates"] = losing_candidates(
            offered, entry["layer"], record.get(name), entry["element"]
        )


def _rule(name: str, layer: str | None, rules: ExtractConfig, model: SiteModel | None) -> str:
    if layer == "config":
        key = {"body": "content", "sections": "content", "sidebar_links": "sidebar"}.get(name, name)
        selector = getattr(rules.selectors, key, None)
        return f"extract.selectors.{key} = {selector!r}" if selector else "config"
    if layer == "site" and model is not None:
        if name == "title" and model.title_selector:
            agree, pages = model.title_agreement
            return f"site model: {model.title_selector} ({agree}/{pages} pages)"
        if name == "published" and model.date_selector:
            agree, pages = model.date_agreement
            return f"site model: {model.date_selector} ({agree}/{pages} pages)"
        return "site model"
    return {
        "jsonld": "JSON-LD",
        "microdata": "microdata",
        "rdfa": "RDFa",
        "meta": "<meta> tags",
        "htmldate": "htmldate (last resort)",
        "trafilatura": "trafilatura",
        "heuristic": "built-in heuristics",
    }.get(layer or "", layer or "none")
