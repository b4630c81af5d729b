"""The addresses a sidebar link may not point to, for ``extract.sidebar``.

The page's own (URL, canonical, shortlink, post id), the site menu's, its parent paths
(blog home, category index) and the addresses that are never one post (tag, category,
archive, author, search, feed and comment URLs; static pages such as about or contact).
Reads the tree only.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.extract.markers import WIDGET_OR_POST_WORDS, marked_ancestor
from migrator.extract.nodes import marked_within
from migrator.extract.pagetype import url_page_type

__all__ = ["POST_ID", "REJECT_URL", "is_ancestor", "menu_urls", "own_urls", "url_path"]

# Addresses that are never one post: indexes of tags, categories, archives and authors,
# search, feeds, comments, paging, and the static pages.
REJECT_URL = re.compile(
    r"/(?:tag|tags|category|categories|kategorie|categorie|categoria|label|labels|topics?|"
    r"archives?|author|authors|auteurs?|autor|autore|autoren|page|search|feed|subjects?|"
    r"wp-login\.php|wp-admin|comments?)(?:/|$)|"
    r"[?&](?:cat|tag|s|p?page|paged|replytocom|share|author)=|/(?:19|20)\d{2}/(?:\d{2}/?)?$|#|"
    # Static pages: about, contact, legal notices.
    r"/(?:about|about-us|about-me|contact|contact-us|kontakt|impressum|imprint|datenschutz|"
    r"privacy|privacy-policy|disclaimer|medical-disclaimer|affiliate-disclosure|terms|"
    r"terms-of-use|terms-of-service|cookie-policy|mentions-legales|aviso-legal|"
    r"ueber-uns|uber-uns|a-propos|sobre-nosotros|chi-siamo)(?:\.html?|\.php)?/?$|"
    # Blogger's static pages.
    r"/p/[^/]+\.html$",
    re.I,
)

# A WordPress post id: the ``?p=123`` shortlink and the ``postid-123`` body class.
POST_ID = re.compile(r"[?&]p=(\d+)(?:&|$)")
_BODY_POST_ID = re.compile(r"\bpostid-(\d+)\b")

_MENU = "nav, [role=navigation], header, [class*=menu], [id*=menu], [class*=navbar]"


def menu_urls(tree: LexborHTMLParser, resolve: Callable[[str | None], str | None]) -> set[str]:
    """The addresses the site's own menus link to: its navigation bar and header.

    Not a widget's list (Recent Posts, Recent Comments in ``<nav>``), not a post's
    ``header.entry-header``, not a column of widgets that a theme called "menu".
    """
    urls: set[str] = set()
    # A menu already taken (Lexbor lists a node once per selector it matches) or inside
    # one (each ``li.menu-item`` of a ``nav``) adds nothing: its links are among the
    # outer one's.
    taken: dict[int, bool] = {}
    for menu in tree.css(_MENU):
        if taken and marked_within(menu, taken):
            continue
        if menu.css_first("h2, h3, h4, h5, h6") or _in_widgets_or_post(menu):
            continue
        taken[menu.mem_id] = True
        for link in menu.css("a[href]"):
            url = resolve(link.attributes.get("href"))
            if url is not None:
                urls.add(url)
    return urls


def _in_widgets_or_post(node: LexborNode) -> bool:
    return marked_ancestor(
        node, frozenset({"aside", "article", "main"}), WIDGET_OR_POST_WORDS, include_self=True
    )


def own_urls(
    tree: LexborHTMLParser, page_url: str, resolve: Callable[[str | None], str | None]
) -> set[str]:
    """The page's own addresses and post ids: URL, canonical, shortlink, ``postid-123``."""
    own = {page_url}
    for node in tree.css('link[rel~="canonical" i][href], link[rel~="shortlink" i][href]'):
        url = resolve(node.attributes.get("href"))
        if url:
            own.add(url)
            post_id = POST_ID.search(url)
            if post_id is not None:
                own.add(post_id.group(1))
    body = tree.body
    if body is not None:
        own.update(_BODY_POST_ID.findall(body.attributes.get("class") or ""))
    return own


def url_path(url: str) -> str:
    return url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0].split("#", 1)[0]


def is_ancestor(url: str, page_path: str) -> bool:
    """True for the site root and the page's parent paths (blog home, category index).

    Those are navigation, never another post: ``/blog/`` above ``/blog/2019/08/post/``.
    ``page_path`` is the page's own path without its outer slashes.
    """
    path = url_path(url).strip("/")
    if not path:
        return "?" not in url
    if "?" in url:
        return False
    if page_path == path or not page_path.startswith(path + "/"):
        return False
    # A post above its own attachment page (/2024/09/28/post/photo/) is a post, not a
    # section index: only short parents (/blog/, /news/2019/) are navigation.
    return path.count("/") < 2 or url_page_type(url) == "listing"
