"""Publication-date layering: sanity checks against the fetch time, htmldate as last resort."""

from __future__ import annotations

from datetime import UTC, date, datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import ExtractConfig
from migrator.extract import extract_page
from migrator.extract.dates import date_line_nodes
from migrator.models import Page, RawPage

PARA = "<p>" + "Some words about a walk in the hills, with a long description. " * 5 + "</p>"


def _extract(head: str, body: str, url: str = "https://blog.example.com/notes/slug/") -> Page:
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    raw = RawPage(
        url=url,
        requested_url=url,
        status=200,
        headers=(("content-type", "text/html"),),
        body=html.encode(),
        fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    return extract_page(raw, ExtractConfig(use_trafilatura="never"))


def _article(extra: str = "") -> str:
    return f'<article><h1>T</h1>{extra}<div class="entry-content">{PARA}</div></article>'


def test_extract_date_in_future_of_fetch_passes_to_next_layer():
    head = (
        '<script type="application/ld+json">'
        '{"@type":"BlogPosting","datePublished":"2099-01-01"}</script>'
    )
    page = _extract(head, _article('<time class="published" datetime="2019-05-02">May 2</time>'))
    assert page.published == date(2019, 5, 2)
    assert dict(page.sources)["published"] == "heuristic"


def test_extract_date_one_day_after_fetch_is_kept():
    """Time zones: a post dated the day after the fetch (UTC) is still real."""
    page = _extract('<meta property="article:published_time" content="2024-01-02">', _article())
    assert page.published == date(2024, 1, 2)


def test_extract_date_before_1990_is_rejected():
    head = '<meta property="article:published_time" content="1970-01-01T00:00:00Z">'
    page = _extract(head, _article())
    assert page.published is None
    assert page.page_type == "page"


def test_extract_date_htmldate_is_last_resort():
    page = _extract('<meta name="citation_publication_date" content="2016/12/23">', _article())
    assert page.published == date(2016, 12, 23)
    assert dict(page.sources)["published"] == "htmldate"
    assert page.page_type == "post"


def test_extract_date_htmldate_never_overrides_cheap_layers():
    head = (
        '<meta name="citation_publication_date" content="2016/12/23">'
        '<meta property="article:published_time" content="2018-03-04">'
    )
    page = _extract(head, _article())
    assert page.published == date(2018, 3, 4)
    assert dict(page.sources)["published"] == "meta"


def test_extract_date_htmldate_ignores_copyright_footer():
    """An About page with only a copyright year gets no date (no extensive search)."""
    page = _extract("", f"<main><h1>About us</h1>{PARA}</main><footer>© 2011 Example</footer>")
    assert page.published is None
    assert page.page_type == "page"


def _region(html: str) -> LexborNode:
    node = LexborHTMLParser(html).css_first("div.txt")
    assert node is not None
    return node


_LONG = "A paragraph long enough to count as article text rather than page furniture, " * 2


def test_date_line_nodes_finds_the_line_above_the_text():
    region = _region(
        f'<div class="txt"><p>Posted 03/04/2004 by Bob</p><p>{_LONG}</p>'
        f"<p>{_LONG} On 03/04/2004 we went out.</p></div>"
    )
    nodes = date_line_nodes(region, (date(2004, 3, 4), None), "MDY")
    assert [" ".join(n.text().split()) for n in nodes] == ["Posted 03/04/2004 by Bob"]


def test_date_line_nodes_keeps_dates_inside_the_text():
    region = _region(
        f'<div class="txt"><p>{_LONG}</p><p>The shop opened on March 4, 2004.</p>'
        f"<p>{_LONG}</p></div>"
    )
    assert date_line_nodes(region, (date(2004, 3, 4), None), "MDY") == []


def test_date_line_nodes_ignores_other_days_and_long_lines():
    region = _region(
        f'<div class="txt"><p>Posted 05/06/2010</p><p>Written on 03/04/2004 {_LONG}</p></div>'
    )
    assert date_line_nodes(region, (date(2004, 3, 4), None), "MDY") == []
