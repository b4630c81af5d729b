"""Hostile and degenerate inputs: only ExtractError may escape extract_page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from migrator.config import ExtractConfig
from migrator.errors import ExtractError
from migrator.extract import extract_page
from migrator.models import RawPage


def _raw(body: bytes, content_type: str | None = "text/html") -> RawPage:
    headers = (("content-type", content_type),) if content_type else ()
    return RawPage(
        url="https://example.com/post/",
        requested_url="https://example.com/post",
        status=200,
        headers=headers,
        body=body,
        fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", "text/html", "empty"),
        (b"   \n\t ", "text/html", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, "text/html", "not_html"),
        (b"%PDF-1.4 binary", None, "not_html"),
        (b'{"a": 1}', "application/json", "not_html:application/json"),
        (bytes(range(32)) * 200, "text/html", "binary"),
    ],
)
def test_extract_page_rejects_non_html(body, content_type, reason):
    with pytest.raises(ExtractError) as info:
        extract_page(_raw(body, content_type), ExtractConfig())
    assert info.value.reason == reason
    assert info.value.url == "https://example.com/post/"


@pytest.mark.parametrize(
    "body",
    [
        b"<",
        b"<html><body><p>unclosed <b><i>tags <table><tr><td>cell",
        b"<p>plain text only, no structure at all</p>",
        b"just some words without any markup at all",
        b"<html><head><title>T</title></head><body></body></html>",
        b'<script type="application/ld+json">{"@type": "Article", "headline": [1, {"x": null}],'
        b' "datePublished": 20201}</script><h1>x</h1>',
        b'<div class="breadcrumb"><a href="javascript:alert(1)">x</a> &raquo; <a>y</a></div>',
        b'<a href="http://[::1">bad</a><a href="https://exa mple.com/">sp</a><base href="::">',
        b"<time datetime='2021-02-31'>February 31, 2021</time><p>impossible date</p>",
        "<p>caf\u00e9 \ud800</p>".encode("utf-8", "surrogatepass"),
        b"<html>" + b"<p>para " * 5000 + b"</html>",
    ],
)
def test_extract_page_survives_malformed_input(body):
    page = extract_page(_raw(body), ExtractConfig())
    assert page.url == "https://example.com/post/"
    assert len(page.content_hash) == 64


def test_extract_page_survives_deep_nesting():
    depth = 2_000
    body = b"<div>" * depth + b"<p>deep text here</p>" + b"</div>" * depth
    page = extract_page(_raw(body), ExtractConfig(use_trafilatura="never"))
    assert "deep text here" in page.body_text


def test_extract_page_refuses_absurd_nesting_before_parsing():
    """100,000 nested divs used to take ~24 s inside the parser; now refused up front."""
    depth = 100_000
    body = b"<div>" * depth + b"<p>deep text here</p>" + b"</div>" * depth
    with pytest.raises(ExtractError) as caught:
        extract_page(_raw(body), ExtractConfig(use_trafilatura="never"))
    assert caught.value.reason == "too_deep"


def test_extract_page_many_unclosed_paragraphs_are_not_deep():
    body = b"<html><body><article><h1>T</h1>" + b"<p>para <br>" * 6_000 + b"</article>"
    page = extract_page(_raw(body), ExtractConfig(use_trafilatura="never"))
    assert page.title == "T"
    assert page.body_text.startswith("para")


def test_extract_page_survives_huge_page():
    paragraph = b"<p>" + b"lorem ipsum dolor sit amet, " * 30 + b"</p>\n"
    body = b"<html><body><article class='post'><h1>Big</h1>" + paragraph * 60_000 + b"</article>"
    assert len(body) > 50_000_000
    page = extract_page(_raw(body), ExtractConfig())
    assert page.title == "Big"
    assert page.body_text.startswith("lorem ipsum")


def test_extract_page_is_deterministic_and_records_sources():
    body = (
        b"<html lang='en'><head><title>A | Site</title></head><body><article>"
        b"<h1>A title</h1><time datetime='2020-01-02T03:04:05Z'>Jan 2</time>"
        b"<div class='entry-content'><p>" + b"Body text. " * 30 + b"</p>"
        b"<h2>One</h2><p>first</p><h3>Sub</h3><p>second</p></div></article></body></html>"
    )
    first = extract_page(_raw(body), ExtractConfig())
    second = extract_page(_raw(body), ExtractConfig())
    assert first == second
    assert first.published == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert dict(first.sources)["title"] == "heuristic"
    assert [(s.level, s.heading, s.text, s.parent) for s in first.sections] == [
        (2, "One", "first", None),
        (3, "Sub", "second", 0),
    ]
    assert first.sections[0].markdown == "first"
    assert first.source_url == "https://example.com/post"
    assert first.language == "en"


def test_extract_page_canonical_only_on_same_host():
    other = b'<link rel="canonical" href="https://elsewhere.org/x"><p>text</p>'
    same = b'<link rel="canonical" href="/post/?utm_source=feed"><p>text</p>'
    assert extract_page(_raw(other), ExtractConfig()).canonical_url == "https://example.com/post/"
    assert extract_page(_raw(same), ExtractConfig()).canonical_url == "https://example.com/post/"


def test_extract_page_links_are_absolute_deduped_in_order():
    body = (
        b'<a href="/b">b</a><a href="https://example.com/a#x">a</a><a href="/b">again</a>'
        b'<a href="mailto:x@y.z">m</a><a href="#top">t</a><a href="?utm_source=1">q</a>'
    )
    page = extract_page(_raw(body), ExtractConfig())
    assert page.links == (
        "https://example.com/b",
        "https://example.com/a",
        "https://example.com/post/",
    )
