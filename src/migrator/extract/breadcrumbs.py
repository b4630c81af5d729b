"""Breadcrumb trails: visible markup first, then JSON-LD ``BreadcrumbList``.

A trail is found by the configured selector, schema.org microdata or RDFa
(``typeof="BreadcrumbList"``, data-vocabulary's ``v:Breadcrumb``), ``aria-label``, or a
``breadcrumb``/``crumbs`` class or id; its crumbs are the links and the text between
them, split on the usual separators (``/ » > › |``). Labels are cleaned, URLs made
absolute, and an unlinked last crumb is the current page. Reads the tree only.
"""

from __future__ import annotations

import re
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import ExtractConfig
from migrator.extract.links import absolute_url
from migrator.extract.nodes import select_safely
from migrator.extract.structured import Structured, jsonld_text
from migrator.models import Crumb

__all__ = ["find_breadcrumbs"]

_TRAIL_SELECTORS = (
    '[itemtype*="BreadcrumbList"]',
    '[typeof*="BreadcrumbList"]',
    'nav[aria-label*="breadcrumb" i]',
    '[aria-label*="breadcrumb" i]',
    "#breadcrumbs",
    "#breadcrumb",
    ".breadcrumbs",
    ".breadcrumb",
    '[class*="breadcrumb"]',
    '[id*="breadcrumb"]',
    ".crumbs",
    "#crumbs",
    ".trail",
    "#topicpath",
    ".topicpath",
    "#pankuzu",
    ".pankuzu",
    "#rootline",
    ".rootline",
    ".you-are-here",
    "#navpath",
    ".navpath",
)
_SEPARATORS = re.compile(r"\s*(?:»|«|›|‹|>|<|→|/|\||::|·|•|\\)\s*")
_LEAD = re.compile(
    r"^(?:you are here|vous êtes ici|sie sind hier|usted está aquí|estás aquí|"
    r"现在位置|現在位置|位置)\s*:?\s*$",
    re.I,
)
_MAX_CRUMBS = 15
_MAX_LABEL = 200


def _clean(label: str) -> str:
    label = " ".join(label.split())
    return label.strip(" :»›>|/·•-–—[]").strip()


def _inside(node: LexborNode, ancestor_id: int, tag: str) -> LexborNode | None:
    current = node.parent
    while current is not None and current.mem_id != ancestor_id:
        if current.tag == tag:
            return current
        current = current.parent
    return None


def _in_dropdown(node: LexborNode, root_id: int) -> bool:
    """True inside a list nested in the trail's list (a crumb's menu of siblings)."""
    lists = 0
    current = node.parent
    while current is not None and current.mem_id != root_id:
        if current.tag in {"ul", "ol"}:
            lists += 1
            if lists >= 2:
                return True
        current = current.parent
    return False


def _from_container(container: LexborNode, base: str) -> list[Crumb]:
    crumbs: list[tuple[str, str | None]] = []
    root_id = container.mem_id
    for node in container.traverse(include_text=True):
        if _in_dropdown(node, root_id):
            continue  # a crumb's flyout of sibling pages: not part of the trail
        if node.tag == "a":
            label = _clean(node.text(deep=True))
            if not label:
                img = node.css_first("img")
                label = _clean((img.attributes.get("alt") or "") if img is not None else "")
            if not label:
                label = _clean(node.attributes.get("title") or "")
            if label:
                crumbs.append((label, absolute_url(node.attributes.get("href"), base)))
        elif node.tag == "-text":
            if _inside(node, root_id, "a") is not None:
                continue
            parent = node.parent
            if parent is not None and parent.tag in {"script", "style"}:
                continue
            for piece in _SEPARATORS.split(node.text_content or ""):
                label = _clean(piece)
                if label and not _LEAD.match(label):
                    crumbs.append((label, None))
    result = [Crumb(label=label[:_MAX_LABEL], url=url) for label, url in crumbs[:_MAX_CRUMBS]]
    return _mark_current(result)


def _mark_current(crumbs: list[Crumb]) -> list[Crumb]:
    if crumbs and crumbs[-1].url is None:
        crumbs[-1] = Crumb(label=crumbs[-1].label, url=None, current=True)
    return crumbs


def _from_jsonld(data: dict[str, Any], base: str) -> list[Crumb]:
    items = data.get("itemListElement")
    if not isinstance(items, list):
        return []
    entries: list[tuple[float, int, str, str | None]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        target = item.get("item")
        name = jsonld_text(item.get("name"))
        url: str | None = None
        if isinstance(target, dict):
            name = name or jsonld_text(target.get("name"))
            href = target.get("@id") or target.get("url")
            url = absolute_url(href, base) if isinstance(href, str) else None
        elif isinstance(target, str):
            url = absolute_url(target, base)
        if not name:
            continue
        try:
            position = float(item.get("position", index))
        except (TypeError, ValueError):
            position = float(index)
        entries.append((position, index, _clean(name), url))
    entries.sort()
    crumbs = [Crumb(label=name, url=url) for _, _, name, url in entries if name]
    return _mark_current(crumbs[:_MAX_CRUMBS])


def find_breadcrumbs(
    tree: LexborHTMLParser, structured: Structured, rules: ExtractConfig, base: str
) -> tuple[tuple[Crumb, ...], str | None, LexborNode | None]:
    """The page's breadcrumb trail, the layer that gave it and the element showing it.

    Returns:
        ``(crumbs, layer, node)``; ``node`` is the visible trail (``None`` for JSON-LD),
        which the body leaves out. ``((), None, None)`` when the page has no trail.
    """
    if rules.selectors.breadcrumbs:
        for match in select_safely(tree, rules.selectors.breadcrumbs):
            container = match.parent if match.tag == "a" and match.parent is not None else match
            crumbs = _from_container(container, base)
            if len(crumbs) >= 1:
                return tuple(crumbs), "config", container
    rdfa_crumb = tree.css_first('[typeof~="v:Breadcrumb"]')
    if rdfa_crumb is not None and rdfa_crumb.parent is not None:
        # data-vocabulary RDFa: each crumb is its own item; the trail is their parent.
        crumbs = _from_container(rdfa_crumb.parent, base)
        if crumbs:
            return tuple(crumbs), "rdfa", rdfa_crumb.parent
    for selector in _TRAIL_SELECTORS:
        for container in tree.css(selector):
            if container.tag in {"body", "html", "head", "script", "meta", "link"}:
                continue
            text = container.text(deep=True)
            if len(text) > 1000:  # a whole layout block that merely mentions crumbs
                continue
            crumbs = _from_container(container, base)
            if len(crumbs) >= 2 or (crumbs and crumbs[0].url):
                layer = {"[itemtype": "microdata", "[typeof*=": "rdfa"}.get(
                    selector[:9], "heuristic"
                )
                return tuple(crumbs), layer, container
    if structured.breadcrumb_list is not None:
        crumbs = _from_jsonld(structured.breadcrumb_list, base)
        if crumbs:
            return tuple(crumbs), "jsonld", None
    trail = _text_trail(tree, base)
    if trail is not None:
        return tuple(trail[0]), "heuristic", trail[1]
    return (), None, None


_TRAIL_HOLDERS = "font, div, p, span, td, small, li"
_MAX_HOLDERS = 3000
_ONLY_SEPARATORS = re.compile(r"^[\s»«›‹>→/|:·•\\]*$")


def _text_trail(tree: LexborHTMLParser, base: str) -> tuple[list[Crumb], LexborNode] | None:
    """An unmarked trail such as ``Home > Food > Café Notes`` in an old table layout.

    Accepted only when it is short, starts with a link to the site root, has at least two
    links, and every text between the links is a separator.
    """
    for count, holder in enumerate(tree.css(_TRAIL_HOLDERS)):
        if count >= _MAX_HOLDERS:
            break
        links = [c for c in _children(holder) if c.tag == "a"]
        if len(links) < 2:
            continue
        text = holder.text(deep=True)
        # "|" is left out: "Home | Blog | Register | Login" is a menu bar, not a trail.
        if len(text) > 250 or not any(sep in text for sep in ("»", ">", "›", "/")):
            continue
        first = absolute_url(links[0].attributes.get("href"), base)
        if first is None or first.split("://", 1)[-1].partition("/")[2].strip("/"):
            continue
        texts = [c for c in _children(holder) if c.tag == "-text"]
        inner = [c for c in _children(holder) if c.tag not in {"a", "-text"}]
        if inner or not texts:
            continue
        if not all(_ONLY_SEPARATORS.match(t.text_content or "") for t in texts[:-1]):
            continue
        if not any(_ONLY_SEPARATORS.match(t.text_content or "") for t in texts):
            continue
        crumbs = _from_container(holder, base)
        return (crumbs, holder) if crumbs else None
    return None


def _children(node: LexborNode) -> list[LexborNode]:
    children: list[LexborNode] = []
    child = node.child
    while child is not None and len(children) < 50:
        children.append(child)
        child = child.next
    return children
