"""Sidebar links: what a widget lists, never the site's menu, a form's links, an item's
type label, or a post's own header (issue #10, WordPress and a Bootstrap club site)."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from migrator.config import ExtractConfig
from migrator.extract.sidebar import find_sidebar_links

BASE = "http://127.0.0.1:8480/"
POSTS = [f"{BASE}2024/0{n}/01/post-{n}/" for n in range(1, 6)]


def _links(html: str, url: str = BASE) -> list[tuple[str, str]]:
    found, _ = find_sidebar_links(LexborHTMLParser(html), ExtractConfig(), url, url)
    return [(link.group, link.url) for link in found]


def test_wordpress_recent_posts_kept_beside_recent_comments_and_entry_headers():
    """Twenty Twenty-One: the Recent Comments widget and the listed posts' own headers
    link the same posts; neither makes them menu links."""
    recent = "".join(
        f'<li><a href="{u}">Post {n}</a><span class="post-date">May {n}, 2024</span></li>'
        for n, u in enumerate(POSTS, 1)
    )
    comments = "".join(
        f'<li class="recentcomments"><span class="comment-author-link">Pierre</span> on '
        f'<a href="{u}#comment-{n}">Post {n}</a></li>'
        for n, u in enumerate(POSTS[:2], 1)
    )
    html = (
        '<html><body><header id="masthead" class="site-header"><nav id="site-navigation" '
        f'class="primary-navigation"><ul class="menu"><li><a href="{BASE}about/">About</a>'
        '</li></ul></nav></header><main id="main">'
        + "".join(
            f'<article class="post"><header class="entry-header"><h2 class="entry-title">'
            f'<a href="{u}">Post {n}</a></h2></header></article>'
            for n, u in enumerate(POSTS[:2], 1)
        )
        + '</main><aside class="widget-area"><section class="widget widget_recent_entries">'
        '<h2 class="widget-title">Recent Posts</h2><nav aria-label="Recent Posts">'
        f"<ul>{recent}</ul></nav></section>"
        '<section class="widget widget_recent_comments"><h2 class="widget-title">Recent '
        f'Comments</h2><nav aria-label="Recent Comments"><ul>{comments}</ul></nav></section>'
        "</aside></body></html>"
    )
    assert _links(html, f"{BASE}about/") == [("Recent Posts", u) for u in POSTS]


def test_grid_column_widget_without_menu_form_and_type_labels():
    site = "http://club.example/"
    items = "".join(
        f'<div class="media"><div class="media-body"><a href="/report/">Отчет похода</a> - '
        f'1{n} Авг. 2021<br><a href="/materials/{n}"><p> Отчет о походе номер {n} по '
        "Кавказу</p></a></div></div>"
        for n in range(3)
    ) + (
        '<div class="media"><div class="media-body"><a href="/passport/">Паспорт '
        'препятствия</a> - 03 Сен. 2016<br><a href="/materials/9"><p> Перевал Джвари 1Б '
        "(3500 м) Ляпун Д.А.</p></a></div></div>"
    )
    html = (
        '<html><body><div class="menu-list"><ul class="topmenu"><li><a href="/passport/">'
        'Паспорта</a></li><li><a href="/report/">Отчеты</a></li></ul></div>'
        '<div class="row"><div class="col-md-8"><h2>Новость</h2><p>Текст новости.</p></div>'
        '<div class="col-md-4"><div id="login-form"><p><strong>Вход</strong></p><form>'
        '<a href="/register/"> или зарегистрируйтесь</a></form></div>'
        f"<p><strong>Новые материалы</strong></p>{items}</div></div></body></html>"
    )
    got = _links(html, f"{site}blog/7")
    assert got == [("Новые материалы", f"{site}materials/{n}") for n in (0, 1, 2, 9)]


def test_equal_columns_are_not_a_sidebar():
    """Three equal cards (col-md-4 ×3) are content, not a side column."""
    cards = "".join(
        f'<div class="col-md-4"><p><strong>Card</strong></p><a href="/p/{n}">A post title {n}'
        "</a></div>"
        for n in range(3)
    )
    html = f'<html><body><div class="row">{cards}</div></body></html>'
    assert _links(html, "http://club.example/") == []
