"""A post that is only a picture keeps its picture, and a node two fields took is
dropped from the body once (issue #10: seven Blogger posts came out empty)."""

from __future__ import annotations

from datetime import UTC, datetime

from selectolax.lexbor import LexborHTMLParser

from migrator.config import ExtractConfig
from migrator.extract import extract_page
from migrator.extract.body import clean_region
from migrator.models import RawPage

URL = "http://blog.example/2009/09/blog-post.html"
# Blogger classic (2009): the day's header above the post, an untitled post whose body is
# one linked image, the post footer under it.
PAGE = """<html><head><title>Mike's Blog</title></head><body>
<div id="outer-wrapper"><div id="content">
<h2 class="date-header">Tuesday, September 22, 2009</h2>
<div class="post"><a name="1866453383501722129"></a>
<div class="post-body"><p><div style="clear:both;"></div>
<a href="http://art.example/scratch"><img style="display:block" src="http://img.example/scratch.jpg"
 border="0" alt="" /></a><div style="clear:both; padding-bottom:0.25em"></div></p></div>
<p class="post-footer">posted by Mike at <a href="http://blog.example/2009/09/blog-post.html"
 title="permanent link">12:35 AM</a></p></div></div>
<div id="sidebar"><h2>Links</h2><ul><li><a href="http://blog.example/">Home</a></li></ul></div>
</div></body></html>"""


def test_picture_post_body_is_the_picture():
    raw = RawPage(
        url=URL,
        requested_url=URL,
        status=200,
        headers=(("content-type", "text/html; charset=utf-8"),),
        body=PAGE.encode(),
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    page = extract_page(raw, ExtractConfig())
    assert "http://img.example/scratch.jpg" in page.body_html
    assert [i.src for i in page.images] == ["http://img.example/scratch.jpg"]
    assert str(page.published)[:10] == "2009-09-22"


def test_a_node_taken_twice_is_dropped_once():
    tree = LexborHTMLParser(
        "<div id=r><h2>September 22, 2009</h2><p>Body text of the post.</p></div>"
    )
    region = tree.css_first("#r")
    heading = tree.css_first("h2")
    assert region is not None
    assert heading is not None
    cleaned = clean_region(region, ExtractConfig(), (heading, heading))
    assert cleaned.css_first("h2") is None
    assert "Body text" in cleaned.text()
    assert "data-migrator-taken" not in (tree.html or "")
