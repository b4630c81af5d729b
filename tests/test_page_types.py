"""Page types from the CMS's own markup and archive URL shapes (issue #10), and the
per-page date and sidebar rules that real WordPress and legacy themes broke."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from selectolax.lexbor import LexborHTMLParser

from migrator.config import ExtractConfig
from migrator.extract import extract_page
from migrator.extract.dates import parse_date
from migrator.extract.pagetype import cms_page_type, url_page_type
from migrator.models import RawPage


def _page(html: str, url: str = "http://blog.example/post/") -> RawPage:
    return RawPage(
        url=url,
        requested_url=url,
        status=200,
        headers=(("content-type", "text/html; charset=utf-8"),),
        body=html.encode(),
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("body_class", "kind"),
    [
        ("post-template-default single single-post postid-12 single-format-standard", "post"),
        ("page-template-default page page-id-6", "page"),
        ("home page-template-default page page-id-2", "page"),
        ("attachment attachment-template-default single single-attachment postid-9", "attachment"),
        ("archive date", "listing"),
        ("archive category category-asia category-152", "listing"),
        ("archive tag tag-food", "listing"),
        ("home blog", "listing"),
        ("home blog paged paged-2", "listing"),
        ("archive author author-phil", "listing"),
        ("search search-results", "listing"),
        ("post-template-default single single-post postid-7 paged-2 single-paged-2", "other"),
        ("error404", "other"),
        ("mt-entry-archive", "post"),
        ("mt-archive-listing mt-datebased-monthly-archive", "listing"),
        ("post-template", "post"),
        ("tag-template tag-news", "listing"),
    ],
)
def test_cms_body_classes(body_class, kind):
    html = f'<html><body class="{body_class}"><p>x</p></body></html>'
    assert cms_page_type(LexborHTMLParser(html), html)[0] == kind


@pytest.mark.parametrize(
    ("page_type", "kind"),
    [("item", "post"), ("static_page", "page"), ("archive", "listing"), ("index", "listing")],
)
def test_blogger_page_type(page_type, kind):
    html = (
        "<html><body><script>_WidgetManager._SetDataContext([{'name': 'blog', 'data': "
        f"{{'blogId': '1', 'pageType': '{page_type}'}}}}]);</script></body></html>"
    )
    assert cms_page_type(LexborHTMLParser(html), html)[0] == kind


def test_no_cms_signal():
    html = "<html><body><h1>Hello</h1></body></html>"
    assert cms_page_type(LexborHTMLParser(html), html) == (None, None)


@pytest.mark.parametrize(
    "url",
    [
        "http://b.example/tag/food/",
        "http://b.example/category/asia/page/2/",
        "http://b.example/blog/category/1",
        "http://b.example/search/label/Turquie.html",
        "http://b.example/author/phil/",
        "http://b.example/2009/07/",
        "http://b.example/2020/08/13/",
        "http://b.example/archives/2005/03/",
        "http://b.example/blog/2005_01_01_archive.html",
        "http://b.example/2011/09/index.html",
        "http://b.example/page/3/",
        "http://b.example/?m=200907",
        "http://b.example/?cat=4",
    ],
)
def test_archive_urls_are_listings(url):
    assert url_page_type(url) == "listing"


@pytest.mark.parametrize(
    "url",
    [
        "http://b.example/2011/09/buenas-noches.html",
        "http://b.example/2020/08/13/a-walk/",
        "http://b.example/archives/123",
        "http://b.example/blog/185",
        "http://b.example/category/sub/some-post-slug/",
        "http://b.example/?p=42",
        "http://b.example/about-me/",
    ],
)
def test_post_urls_are_not_listings(url):
    assert url_page_type(url) is None


def test_attachment_page_is_typed_attachment():
    html = (
        '<html><body class="attachment single single-attachment postid-5">'
        '<article><h1 class="entry-title">DSC_0067</h1><time class="entry-date" '
        'datetime="2012-06-07">June 7, 2012</time><div class="entry-content">'
        '<p><img src="/wp-content/uploads/dsc_0067.jpg"></p></div></article></body></html>'
    )
    page = extract_page(_page(html, "http://blog.example/trip/dsc_0067/"), ExtractConfig())
    assert page.page_type == "attachment"
    assert dict(page.sources)["page_type"].startswith("cms:")


# ------------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8月 13, 2020", "2020-08-13"),
        ("8월 13, 2020", "2020-08-13"),
        ("19 lipca 2009", "2009-07-19"),
        ("19.07.2009 r.", "2009-07-19"),
        ("20 февраля 2017", "2017-02-20"),
        ("14 Авг. 2021", "2021-08-14"),
        ("3 березня 2016", "2016-03-03"),
        ("3. května 2010", "2010-05-03"),
    ],
)
def test_dates_in_more_languages(text, expected):
    assert str(parse_date(text)) == expected


def test_published_updated_time_is_the_published_date():
    """Twenty Twenty-One: <time class="entry-date published updated"> is the date."""
    html = (
        '<html><body><article class="post hentry"><header><h1 class="entry-title">T</h1>'
        "</header><div class='entry-content'><p>Some words about the day.</p>"
        "<pre>2019-01-01 12:00:00 server log line</pre></div><footer class='entry-footer'>"
        '<span class="posted-on">Published <time class="entry-date published updated" '
        'datetime="2021-03-04T10:00:00+00:00">March 4, 2021</time></span></footer>'
        "</article></body></html>"
    )
    page = extract_page(_page(html), ExtractConfig())
    assert str(page.published)[:10] == "2021-03-04"


def test_date_in_a_log_or_a_next_entry_link_is_not_the_date():
    html = (
        "<html><body><div id='main'><h2>A post</h2>"
        "<p class='nav'>« <a href='/older/'>Older entry (March 3, 2005)</a></p>"
        "<pre>2004-01-01 build log</pre><p class='byline'>Posted on June 5, 2010</p>"
        "<div class='body'><p>Only words here, the date is written in the byline above "
        "and nowhere else in this post.</p></div></div></body></html>"
    )
    page = extract_page(_page(html), ExtractConfig())
    assert str(page.published) == "2010-06-05"


# ---------------------------------------------------------------------- sidebar


def test_wordpress_widget_lists_inside_nav_are_sidebar_links():
    """Core widgets on themes with navigation-widgets support wrap lists in <nav>."""
    items = "".join(
        f'<li><a href="http://blog.example/2021/0{i}/post-{i}/">Post number {i}</a></li>'
        for i in range(1, 6)
    )
    html = (
        "<html><body><main><article class='post'><h1 class='entry-title'>Here</h1>"
        "<div class='entry-content'><p>Text of this post, long enough to be a body.</p>"
        "</div></article></main><aside class='widget-area'>"
        "<section id='recent-posts-2' class='widget widget_recent_entries'>"
        "<h2 class='widget-title'>Recent Posts</h2>"
        f"<nav aria-label='Recent Posts'><ul>{items}</ul></nav></section></aside>"
        "<nav class='primary-navigation'><ul><li><a href='/about/'>About</a></li></ul></nav>"
        "</body></html>"
    )
    page = extract_page(_page(html, "http://blog.example/2021/06/here/"), ExtractConfig())
    labels = [link.label for link in page.sidebar_links]
    assert labels == [f"Post number {i}" for i in range(1, 6)]
    assert {link.group for link in page.sidebar_links} == {"Recent Posts"}
