"""Memory stays flat as the site grows: sitemaps are streamed, not held as trees.

Measured with tracemalloc (Python allocations, deterministic enough to compare), not
with wall-clock time: reading a 10,000-URL sitemap entry by entry must cost a small
fraction of what the whole list of entries costs.
"""

from __future__ import annotations

import tracemalloc

from migrator.discover import iter_sitemap, parse_sitemap

BASE = "http://blog.example.com"


def sitemap(count: int) -> bytes:
    entries = "".join(
        f"<url><loc>{BASE}/blog/topic-{i % 7}/a-rather-long-post-slug-{i}/</loc>"
        f"<lastmod>2024-10-15</lastmod></url>"
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    ).encode()


def peak_bytes(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_iter_sitemap_streams_in_flat_memory():
    body = sitemap(10_000)
    seen = 0

    def stream() -> None:
        nonlocal seen
        for _ in iter_sitemap(body, BASE + "/sitemap.xml"):
            seen += 1

    stream()  # warm process-wide caches (canonical_url's LRU) so only streaming is measured
    seen = 0
    streamed = peak_bytes(stream)
    whole = peak_bytes(lambda: parse_sitemap(body, BASE + "/sitemap.xml"))
    assert seen == 10_000
    assert streamed < 1_000_000  # the parser's buffers, not the entries
    assert whole > 5 * streamed


def test_iter_sitemap_streams_the_same_entries_as_parse_sitemap():
    body = sitemap(50)
    pages, children = parse_sitemap(body, BASE + "/sitemap.xml")
    streamed = list(iter_sitemap(body, BASE + "/sitemap.xml"))
    assert streamed == pages
    assert children == []
    assert pages[3].url == BASE + "/blog/topic-3/a-rather-long-post-slug-3/"
    assert pages[3].lastmod == "2024-10-15"
