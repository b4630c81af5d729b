"""Sidebar links: widgets that list other posts of the same site.

Looks in sidebars and asides and in related-posts blocks under or inside the article,
groups links under their widget heading ("You may also like", "Recent posts"), and keeps
only links to other posts on the same host: navigation, tag/category/archive widgets,
prev/next, share and comment links are dropped. A date shown next to a link is parsed.
Reads the tree only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import ExtractConfig
from migrator.extract.dates import node_date, parse_date
from migrator.extract.layout import side_columns
from migrator.extract.links import PageHrefs, host_of
from migrator.extract.markers import SIDEBAR_REJECT_CONTAINER, class_id
from migrator.extract.nodes import marked_within, select_safely
from migrator.extract.sidebar_urls import (
    POST_ID,
    REJECT_URL,
    is_ancestor,
    menu_urls,
    own_urls,
    url_path,
)
from migrator.models import SidebarLink

__all__ = ["find_sidebar_links"]

_CONTAINERS = (
    "aside, #sidebar, #secondary, .sidebar, .widget-area, [role=complementary], "
    "#side, .side, [id^=sidebar], [class^=sidebar], #beta, .col-side, #rightcol, .rightcol, "
    '[class*="related"], [id*="related"], [class*="you-may"], [class*="more-posts"], '
    '[class*="recent-posts"], [class*="popular"], .yarpp, [class*="jp-relatedposts"]'
)
_REJECT_GROUP = re.compile(
    r"categor|kategor|catégor|categoría|tag|schlagw|étiquette|etiqueta|archiv|meta\b|"
    r"search|such|recherche|buscar|blogroll|links?$|follow|subscribe|abonn|newsletter|"
    r"comment|kommentar|commentaire|comentario|about|über|contact|social|share|teilen|"
    r"partager|login|log in|anmeld|rss|feed|calendar|kalender|translate|sponsor|advert|"
    r"anzeige|^pages?$|^seiten$|^páginas$|^service$|subjects?|themen|ログイン|"
    r"バックナンバー|カテゴリ|アーカイブ|タグ",
    re.I,
)
_MORE = re.compile(
    r"^(?:>>\s*)?(?:more|read more|continue reading|see all|view all|show all|weiter|"
    r"weiterlesen|mehr|mehr lesen|lire la suite|suite|leer más|ver más|leggi tutto|"
    r"lees meer|もっと見る|続きを読む)\W*$",
    re.I,
)
_NAV_LABEL = re.compile(
    r"^(?:home|start|startseite|accueil|inicio|categories|kategorien|catégories|categorías|"
    r"archives?|archiv|tags|topics|themen)$",
    re.I,
)
_WS = re.compile(r"\s+")
_WIDGET_TITLE = re.compile(r"widget-?title|block-title|section-title")


def _heading_text(node: LexborNode) -> str:
    return _WS.sub(" ", node.text(deep=True)).strip()


def _link_date(link: LexborNode, rules: ExtractConfig) -> date | datetime | None:
    """The date written next to a link: inside its list item (or its parent)."""
    holder = link.parent
    for _ in range(3):
        if holder is None:
            return None
        if holder.tag in {"li", "article", "div", "p", "tr", "dd"}:
            break
        holder = holder.parent
    if holder is None:
        return None
    time_node = holder.css_first("time, .date, .post-date, [class*=date], .published")
    if time_node is not None:
        found = node_date(time_node, rules.date_order)
        if found is not None:
            return found
    text = _WS.sub(" ", holder.text(deep=True))
    label = _WS.sub(" ", link.text(deep=True)).strip()
    if label:
        text = text.replace(label, " ")
    return parse_date(text[:300], rules.date_order)


def find_sidebar_links(
    tree: LexborHTMLParser,
    rules: ExtractConfig,
    page_url: str,
    base: str,
    *,
    hrefs: PageHrefs | None = None,
) -> tuple[tuple[SidebarLink, ...], str | None]:
    """The links to other posts listed in sidebar and related-posts widgets.

    Args:
        tree: the parsed page.
        rules: the site's extraction rules (``selectors.sidebar``, the date order).
        page_url: the page's URL.
        base: the base URL its relative links resolve against.
        hrefs: the page's href resolver, shared with the other fields (its base is
            ``base``); a new one when ``None``.

    Returns:
        ``(links, layer)``; ``((), None)`` when there are none.
    """
    resolve = (hrefs if hrefs is not None else PageHrefs(base)).resolve
    containers, layer = _containers(tree, rules)
    kept = _Kept(tree, rules, page_url, resolve)
    # Containers whose every node was walked: the same one again (Lexbor lists a node
    # once per selector of the group it matches: ``aside.sidebar`` three times) or one
    # nested in it (a ``.recent-posts`` list in an ``aside``) has nothing left to give,
    # its links all seen already.
    walked: dict[int, bool] = {}
    for container in containers:
        if layer == "heuristic" and SIDEBAR_REJECT_CONTAINER.search(class_id(container)):
            continue
        if walked and marked_within(container, walked):
            continue
        walked[container.mem_id] = True
        kept.add_posts(_grouped_links(container, kept.seen_links))
    result = _drop_type_labels(kept.links, kept.repeats, kept.items)
    return tuple(result), (layer if result else None)


def _containers(tree: LexborHTMLParser, rules: ExtractConfig) -> tuple[list[LexborNode], str]:
    """The widget containers to look in, with their layer: the configured selector's
    matches (``config``), else the usual sidebars, asides and related-posts blocks."""
    layer = "heuristic"
    containers: list[LexborNode] = []
    if rules.selectors.sidebar:
        containers = select_safely(tree, rules.selectors.sidebar)
        layer = "config"
    if not containers:
        containers = [c for c in tree.css(_CONTAINERS) if c.tag not in {"html", "body"}]
        # A grid theme's narrow column beside the main one (Bootstrap col-md-4).
        containers.extend(side_columns(tree))
        layer = "heuristic"
    return containers, layer


def _grouped_links(container: LexborNode, seen_links: set[int]) -> list[tuple[LexborNode, str]]:
    """The links of one container not seen in an earlier one, each with its group: the
    widget heading above it, else the container's own name (``_default_group``).

    A link under a rejected heading (Categories, Archives, Follow us…) or inside a site
    ``<nav>``, a form or a rejected block is left out; every link met is added to
    ``seen_links``.
    """
    links: list[tuple[LexborNode, str]] = []
    group = ""
    default_group = _default_group(container)
    group_rejected = False
    for node in container.traverse():
        tag = node.tag
        if (
            tag in {"h1", "h2", "h3", "h4", "h5", "h6"}
            or (tag in {"div", "span", "p", "strong"} and _WIDGET_TITLE.search(class_id(node)))
            or (tag in {"b", "strong", "dt"} and len(_heading_text(node)) < 60)
        ):
            if node.css_first("a[href]") is not None or _inside_link(node, container):
                continue  # a post title in a related-posts card, not a group heading
            text = _heading_text(node)
            if text and len(text) < 120:
                group = text
                group_rejected = bool(_REJECT_GROUP.search(group))
            continue
        if tag != "a" or node.mem_id in seen_links:
            continue
        seen_links.add(node.mem_id)
        if group_rejected or _inside_rejected(node, container):
            continue
        links.append((node, group or default_group))
    return links


class _Kept:
    """The widget links kept so far, container after container, in page order."""

    def __init__(
        self,
        tree: LexborHTMLParser,
        rules: ExtractConfig,
        page_url: str,
        resolve: Callable[[str | None], str | None],
    ) -> None:
        self.rules = rules
        self.resolve = resolve
        self.host = host_of(page_url)
        self.own = own_urls(tree, page_url, resolve)
        self.menu = menu_urls(tree, resolve)
        self.page_path = url_path(page_url).strip("/")
        self.seen_links: set[int] = set()
        self.seen_urls: set[tuple[str, str]] = set()
        self.links: list[SidebarLink] = []
        self.repeats: dict[tuple[str, str, str], int] = {}
        self.items: list[int | None] = []  # per link in ``links``: the list item holding it

    def add_posts(self, grouped: list[tuple[LexborNode, str]]) -> None:
        """Keep those of a container's ``(link, group)`` that point to another post of
        the site, once per group, with the date written next to each; count each
        ``(group, url, label)`` in ``repeats`` (``_drop_type_labels`` reads it)."""
        resolve, host, own, menu = self.resolve, self.host, self.own, self.menu
        page_path, repeats, seen_urls = self.page_path, self.repeats, self.seen_urls
        for node, name in grouped:
            url = resolve(node.attributes.get("href"))
            if url is None or host_of(url) != host or url in own or url in menu:
                continue  # the site's menu names sections and pages, never one post
            post_id = POST_ID.search(url)
            if post_id is not None and post_id.group(1) in own:
                continue
            if REJECT_URL.search(url) or is_ancestor(url, page_path):
                continue
            label = _label(node)
            if not label or len(label) < 3 or _MORE.match(label) or _NAV_LABEL.match(label):
                continue
            key = (name, url)
            repeat = (name, url, label)
            repeats[repeat] = repeats.get(repeat, 0) + 1
            if key in seen_urls:
                continue
            seen_urls.add(key)
            found = _link_date(node, self.rules)
            holder = _item(node)
            self.items.append(holder.mem_id if holder is not None else None)
            self.links.append(
                SidebarLink(
                    group=name,
                    label=label[:300],
                    url=url,
                    date=found,
                )
            )


def _drop_type_labels(
    links: list[SidebarLink], repeats: dict[tuple[str, str, str], int], items: list[int | None]
) -> list[SidebarLink]:
    """Without the links that label an item instead of being one.

    ``<a href="/report/">Trip report</a> - 14 Aug 2021 <a href="/materials/378">…</a>``:
    the short link beside an item's title is its type or category. It shows as a link
    the group repeats item after item with the same text, or as the shorter of an item's
    two or three links (less than half the title's length).
    """
    labels = {(name, url) for (name, url, _), count in repeats.items() if count >= 2}
    longest: dict[int, int] = {}
    per_item: dict[int, int] = {}
    for link, item in zip(links, items, strict=True):
        if item is not None:
            longest[item] = max(longest.get(item, 0), len(link.label))
            per_item[item] = per_item.get(item, 0) + 1
    kept = [
        link
        for link, item in zip(links, items, strict=True)
        if (link.group, link.url) not in labels
        and not (
            item is not None and 2 <= per_item[item] <= 3 and 2 * len(link.label) < longest[item]
        )
    ]
    return kept if len(kept) >= 2 else links


def _item(link: LexborNode) -> LexborNode | None:
    """The list item a link sits in (``li``, a card ``div``…), as ``_link_date`` reads it."""
    holder = link.parent
    for _ in range(3):
        if holder is None:
            return None
        if holder.tag in {"li", "article", "div", "p", "tr", "dd"}:
            return holder
        holder = holder.parent
    return None


def _label(link: LexborNode) -> str:
    """A link's text; for a card that wraps a heading, the heading or the text beside it.

    Cards put a kicker next to the title, either one as the heading: ``<h4>Photo
    law</h4>The title`` or ``1 <span>Opinion</span> <h3>The title</h3>``. The longer
    part is the post's title.
    """
    text = _WS.sub(" ", link.text(deep=True)).strip()
    child = link.child
    if child is not None and child.tag == "-text" and child.next is None:
        return text  # the usual plain-text link
    heading = link.css_first("h1, h2, h3, h4, h5, h6")
    if heading is None:
        return text
    title = _WS.sub(" ", heading.text(deep=True)).strip()
    rest = _WS.sub(" ", text.replace(title, " ", 1)).strip() if title else text
    return title if len(title) >= len(rest) else rest


def _inside_link(node: LexborNode, container: LexborNode) -> bool:
    current = node.parent
    while current is not None and current.mem_id != container.mem_id:
        if current.tag == "a":
            return True
        current = current.parent
    return False


def _default_group(container: LexborNode) -> str:
    label = container.attributes.get("aria-label")
    if label:
        return label.strip()
    marker = class_id(container).lower()
    if "related" in marker:
        return "Related posts"
    if "popular" in marker:
        return "Popular posts"
    if "recent" in marker:
        return "Recent posts"
    return ""


def _inside_rejected(node: LexborNode, container: LexborNode) -> bool:
    current = node.parent
    while current is not None and current.mem_id != container.mem_id:
        if current.tag == "nav" and not _widget_nav(current):
            return True
        if current.tag == "form":
            return True  # a login form's links (register, lost password)
        if current.tag != "nav" and SIDEBAR_REJECT_CONTAINER.search(class_id(current)):
            return True
        current = current.parent
    return False


def _widget_nav(nav: LexborNode) -> bool:
    """A ``<nav>`` that is one widget's list, not the site's navigation.

    WordPress core widgets (Recent Posts, Archives…) wrap their lists in ``<nav
    aria-label="…">`` on themes with ``navigation-widgets`` support; so do block themes.
    """
    current = nav.parent
    for _ in range(3):
        if current is None:
            return False
        marker = class_id(current).lower()
        if "widget" in marker or current.tag == "aside" or "sidebar" in marker:
            return not SIDEBAR_REJECT_CONTAINER.search(marker.replace("widget", ""))
        current = current.parent
    return False
