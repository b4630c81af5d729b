"""Discovery from sitemaps, robots.txt and feeds, against a real local server."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import re
from pathlib import Path

import pytest

from migrator import discover as discover_module
from migrator.config import Config, FetchConfig
from migrator.discover import discover_start, is_sitemap_url, parse_feed, parse_sitemap, xmlread
from migrator.fetch import Fetcher
from migrator.scope import Scope
from servers import BILLION_LAUGHS, Reply, TestServer, misbehaving_routes

SITE = Path(__file__).resolve().parents[1] / "src" / "migrator" / "demo_site"
BASE = "https://blog.example.com"


def make_config() -> Config:
    fetch = dataclasses.replace(FetchConfig(), delay=0.0, backoff=0.01, max_attempts=2)
    return Config(fetch=fetch)


def discover(server: TestServer, start: str) -> list:
    config = make_config()
    scope = Scope.from_config(config, [start])

    async def go():
        async with Fetcher(config, scope) as fetcher:
            return [d async for d in discover_start(fetcher, start)]

    return asyncio.run(go())


URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://blog.example.com/a/</loc><lastmod>2024-05-01</lastmod></url>
  <url><loc> https://blog.example.com/b/?utm_source=x </loc></url>
  <url><loc>/relative/</loc></url>
  <url><loc>mailto:someone@example.com</loc></url>
</urlset>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://blog.example.com/sitemap-posts.xml.gz</loc></sitemap>
  <sitemap><loc>https://blog.example.com/sitemap-pages.xml</loc></sitemap>
</sitemapindex>"""


def test_parse_sitemap_urlset_with_lastmod():
    pages, children = parse_sitemap(URLSET, BASE + "/sitemap.xml")
    assert children == []
    assert [(p.url, p.lastmod) for p in pages] == [
        ("https://blog.example.com/a/", "2024-05-01"),
        ("https://blog.example.com/b/", None),
        ("https://blog.example.com/relative/", None),
    ]
    assert {p.via for p in pages} == {"sitemap"}
    assert pages[0].referrer == BASE + "/sitemap.xml"


def test_parse_sitemap_index_lists_children():
    pages, children = parse_sitemap(INDEX, BASE + "/sitemap.xml")
    assert pages == []
    assert children == [BASE + "/sitemap-posts.xml.gz", BASE + "/sitemap-pages.xml"]


def test_parse_sitemap_gzipped():
    pages, _ = parse_sitemap(gzip.compress(URLSET), BASE + "/sitemap.xml.gz")
    assert len(pages) == 3


def test_parse_sitemap_billion_laughs_rejected_not_expanded():
    pages, children = parse_sitemap(BILLION_LAUGHS, BASE + "/sitemap.xml")
    assert (pages, children) == ([], [])


def test_parse_sitemap_entity_hidden_after_bom_still_rejected():
    pages, children = parse_sitemap(b"\xef\xbb\xbf" + BILLION_LAUGHS, BASE + "/sitemap.xml")
    assert (pages, children) == ([], [])


def test_parse_sitemap_external_entity_rejected():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://blog.example.com/&e;</loc></url></urlset>"
    )
    assert parse_sitemap(xxe, BASE + "/sitemap.xml") == ([], [])


def test_parse_sitemap_malformed_bare_ampersand_salvaged():
    body = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://blog.example.com/?p=1&cat=2</loc></url></urlset>"
    )
    pages, _ = parse_sitemap(body, BASE + "/sitemap.xml")
    assert [p.url for p in pages] == ["https://blog.example.com/?cat=2&p=1"]


def test_parse_sitemap_text_format():
    body = b"https://blog.example.com/a/\n\n  https://blog.example.com/b/  \nnot a url\n"
    pages, _ = parse_sitemap(body, BASE + "/sitemap.txt")
    assert [p.url for p in pages] == [BASE + "/a/", BASE + "/b/"]


def test_parse_sitemap_gzip_bomb_refused():
    bomb = gzip.compress(b"\0" * (60 * 1024 * 1024), compresslevel=1)
    assert parse_sitemap(bomb, BASE + "/sitemap.xml.gz") == ([], [])


RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Blog</title><link>https://blog.example.com/</link>
<item><title>One</title><link>https://blog.example.com/one/</link>
  <pubDate>Tue, 12 Dec 2023 10:00:00 +0000</pubDate></item>
<item><title>Two</title><guid isPermaLink="true">https://blog.example.com/two/</guid></item>
<item><title>Three</title><guid isPermaLink="false">tag:x,2020:3</guid></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title>
<entry><title>A</title><link rel="alternate" href="/a/"/><link rel="replies" href="/a/#c"/>
  <updated>2024-01-02T03:04:05Z</updated></entry>
<entry><title>B</title><link href="https://blog.example.com/b/"/></entry>
</feed>"""


def test_parse_feed_rss_items_with_dates():
    found = parse_feed(RSS, BASE + "/feed/")
    assert [(d.url, d.lastmod) for d in found] == [
        (BASE + "/one/", "2023-12-12T10:00:00+00:00"),
        (BASE + "/two/", None),
    ]
    assert {d.via for d in found} == {"feed"}


def test_parse_feed_atom_alternate_links():
    found = parse_feed(ATOM, BASE + "/feed.atom")
    assert [(d.url, d.lastmod) for d in found] == [
        (BASE + "/a/", "2024-01-02T03:04:05Z"),
        (BASE + "/b/", None),
    ]


def test_parse_feed_garbage_is_empty():
    assert parse_feed(b"<html><body>not a feed", BASE) == []
    assert parse_feed(b"", BASE) == []


def test_parse_sitemap_accepts_rss_as_sitemap():
    pages, _ = parse_sitemap(RSS, BASE + "/feed/")
    assert [p.url for p in pages] == [BASE + "/one/", BASE + "/two/"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.org/sitemap.xml", True),
        ("https://x.org/sitemap_index.xml", True),
        ("https://x.org/post-sitemap.xml.gz", True),
        ("https://x.org/sitemap", True),
        ("https://x.org/", False),
        ("https://x.org/blog/post/", False),
    ],
)
def test_is_sitemap_url(url, expected):
    assert is_sitemap_url(url) is expected


# ---------------------------------------------------------------- against a server


@pytest.mark.skipif(not (SITE / "sitemap.xml").exists(), reason="demo site not generated")
def test_discover_start_demo_site_reads_robots_sitemap():
    with TestServer(SITE) as server:
        found = discover(server, server.url("/"))
        sitemap_urls = re.findall(r"<loc>([^<]+)</loc>", (SITE / "sitemap.xml").read_text())
        expected = {u.replace("http://127.0.0.1:8000", server.base_url) for u in sitemap_urls}
        assert found[0].url == server.url("/")
        assert found[0].via == "start"
        urls = [d.url for d in found]
        assert len(urls) == len(set(urls))
        assert expected <= set(urls)
        assert all(d.lastmod for d in found if d.via == "sitemap")
        assert server.count("/robots.txt") == 1
        assert server.count("/sitemap.xml") == 1
        assert server.count("/") == 0  # the start page is for the pipeline to fetch


def test_discover_start_index_gzip_and_feed():
    with TestServer() as server:
        base = server.base_url
        index = INDEX.replace(b"https://blog.example.com", base.encode())
        posts = URLSET.replace(b"https://blog.example.com", base.encode())
        pages = b"https://blog.example.com/about/\n".replace(
            b"https://blog.example.com", base.encode()
        )
        server.set_robots(f"User-agent: *\nDisallow:\nSitemap: {base}/sitemap_index.xml\n")
        server.script("/sitemap_index.xml", Reply(body=index, content_type="application/xml"))
        server.script(
            "/sitemap-posts.xml.gz",
            Reply(body=gzip.compress(posts), content_type="application/x-gzip"),
        )
        server.script("/sitemap-pages.xml", Reply(body=pages, content_type="text/plain"))
        feed = RSS.replace(b"https://blog.example.com", base.encode())
        server.script("/feed/", Reply(body=feed, content_type="application/rss+xml"))
        found = discover(server, base + "/")
    by_url = {d.url: d for d in found}
    assert by_url[base + "/"].via == "start"
    assert by_url[base + "/a/"].lastmod == "2024-05-01"
    assert by_url[base + "/a/"].referrer == base + "/sitemap-posts.xml.gz"
    assert by_url[base + "/about/"].via == "sitemap"
    assert by_url[base + "/one/"].via == "feed"
    assert len(found) == len(by_url)
    # /sitemap.xml is tried too when robots.txt names another file: it 404s quietly
    assert server.count("/sitemap.xml") == 1


def test_discover_start_sitemap_url_reads_only_the_sitemap():
    with TestServer() as server:
        base = server.base_url
        body = URLSET.replace(b"https://blog.example.com", base.encode())
        server.set_robots("User-agent: *\nDisallow:\n")
        server.script("/post-sitemap.xml", Reply(body=body, content_type="text/xml"))
        found = discover(server, base + "/post-sitemap.xml")
        assert [d.url for d in found] == [base + "/a/", base + "/b/", base + "/relative/"]
        assert server.count("/sitemap.xml") == 0
        assert server.count("/feed/") == 0


def test_discover_start_billion_laughs_sitemap_not_expanded():
    with TestServer() as server:
        misbehaving_routes(server)
        found = discover(server, server.url("/billion-laughs.xml"))
        assert server.count("/billion-laughs.xml") >= 1
    assert all("lol" not in d.url for d in found)
    assert len(found) <= 1


def test_discover_start_out_of_scope_sitemap_not_fetched():
    with TestServer() as server:
        base = server.base_url
        other = f"http://localhost:{server.port}"
        server.set_robots(f"User-agent: *\nDisallow:\nSitemap: {other}/elsewhere.xml\n")
        found = discover(server, base + "/")
        assert [d.url for d in found] == [base + "/"]
        assert server.requests_for("/elsewhere.xml") == []


def test_discover_start_sitemap_robots_disallowed_not_fetched():
    with TestServer() as server:
        base = server.base_url
        server.set_robots("User-agent: *\nDisallow: /sitemap.xml\n")
        server.script("/sitemap.xml", Reply(body=URLSET, content_type="application/xml"))
        found = discover(server, base + "/")
        assert [d.url for d in found] == [base + "/"]
        assert server.count("/sitemap.xml") == 0


def _gzipped_urlset(count: int) -> bytes:
    entries = "".join(f"<url><loc>{BASE}/post/{i}/</loc></url>" for i in range(count))
    return gzip.compress(
        f'<?xml version="1.0"?><urlset xmlns="{NS}">{entries}</urlset>'.encode(), 1
    )


NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def test_iter_sitemap_gzip_over_the_limit_keeps_what_it_read(monkeypatch):
    """Inflated past MAX_SITEMAP_BYTES: the entries before the cut are kept, and said."""
    monkeypatch.setattr(xmlread, "MAX_SITEMAP_BYTES", 100_000)
    cut: list[bool] = []
    urls = [
        e.url
        for e in discover_module.iter_sitemap(
            _gzipped_urlset(20_000), BASE + "/s.xml.gz", on_truncated=lambda: cut.append(True)
        )
        if not isinstance(e, str)
    ]
    assert cut == [True]
    # About 100 kB of 55-byte entries, in order, none invented by a salvage pass.
    assert 1_700 < len(urls) < 1_800
    assert urls == [f"{BASE}/post/{i}/" for i in range(len(urls))]


def test_iter_sitemap_gzip_under_the_limit_is_whole_and_not_cut():
    cut: list[bool] = []
    entries = list(
        discover_module.iter_sitemap(
            _gzipped_urlset(3_000), BASE + "/s.xml.gz", on_truncated=lambda: cut.append(True)
        )
    )
    assert len(entries) == 3_000
    assert cut == []


def test_iter_sitemap_bad_gzip_yields_nothing():
    body = _gzipped_urlset(500)
    assert list(discover_module.iter_sitemap(body[:20] + b"\0" * 200 + body[220:], BASE)) == []
