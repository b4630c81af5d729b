"""The capture date of an archived page stands in for `published` only where the page
gives no date at all, and is marked as such (#12)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from migrator.config import ExtractConfig
from migrator.extract import extract_page
from migrator.models import RawPage

_CAPTURED = datetime(2015, 3, 4, 23, 30, tzinfo=UTC)
_WORDS = "<p>" + "A paragraph about tending a small garden in the rain. " * 20 + "</p>"


def _raw(body: str, source: str | None) -> RawPage:
    return RawPage(
        url="http://old.example/garden/",
        requested_url="http://old.example/garden/",
        status=200,
        headers=(("content-type", "text/html; charset=utf-8"),),
        body=body.encode(),
        fetched_at=_CAPTURED,
        source=source,
    )


# WordPress says it is a post (body class) but the theme shows no date.
_UNDATED = (
    '<html><head><title>Garden</title><meta name="generator" content="WordPress 4.9">'
    '</head><body class="post-template-default single single-post postid-12">'
    f"<article><h1>Garden</h1>{_WORDS}</article></body></html>"
)
_STATIC = (
    "<html><head><title>Garden</title></head><body><article><h1>Garden</h1>"
    f"{_WORDS}</article></body></html>"
)
_DATED = (
    "<html><head><title>Garden</title></head><body><article><h1>Garden</h1>"
    f'<time datetime="2012-06-01">1 June 2012</time>{_WORDS}</article></body></html>'
)


def test_capture_date_fills_published_of_an_undated_archived_page():
    page = extract_page(_raw(_UNDATED, "warc:old.warc.gz#1234"), ExtractConfig())
    assert page.published == date(2015, 3, 4)
    assert dict(page.sources)["published"] == "capture_date"
    assert page.to_record()["published"] == "2015-03-04"


def test_a_static_page_gets_no_capture_date():
    page = extract_page(_raw(_STATIC, "warc:old.warc.gz#1234"), ExtractConfig())
    assert page.page_type == "page"
    assert page.published is None


def test_capture_date_never_replaces_a_date_the_page_gives():
    page = extract_page(_raw(_DATED, "wayback:20150304233000"), ExtractConfig())
    assert page.published == date(2012, 6, 1)
    assert dict(page.sources).get("published") != "capture_date"


def test_live_fetch_time_is_never_a_publication_date():
    page = extract_page(_raw(_UNDATED, None), ExtractConfig())
    assert page.published is None
    assert "published" not in dict(page.sources)
