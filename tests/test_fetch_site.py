"""Fetcher over the demo site and politeness: every page arrives once, 304s, limits."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import re
from pathlib import Path

import pytest

from migrator.config import Config, FetchConfig
from migrator.discover import discover_start
from migrator.fetch import Fetcher
from migrator.scope import Scope
from servers import Reply, TestServer, page

SITE = Path(__file__).resolve().parents[1] / "src" / "migrator" / "demo_site"
needs_site = pytest.mark.skipif(not (SITE / "sitemap.xml").exists(), reason="no demo site")


def make_config(**fetch: object) -> Config:
    values: dict[str, object] = {"delay": 0.0, "backoff": 0.01, "max_attempts": 2}
    values.update(fetch)
    return Config(fetch=dataclasses.replace(FetchConfig(), **values))  # type: ignore[arg-type]


def run(config: Config, start: str, body):
    scope = Scope.from_config(config, [start])

    async def go():
        async with Fetcher(config, scope) as fetcher:
            return await body(fetcher)

    return asyncio.run(go())


@needs_site
def test_fetch_demo_site_every_sitemap_page_arrives_once():
    with TestServer(SITE) as server:
        config = make_config(concurrency=4)

        async def crawl(fetcher):
            found = [d async for d in discover_start(fetcher, server.url("/"))]
            urls = sorted({d.url for d in found})
            pages = await asyncio.gather(*(fetcher.fetch(u) for u in urls))
            return urls, pages, fetcher.stats

        urls, pages, stats = run(config, server.url("/"), crawl)
        paths = [r.path for r in server.requests]
    assert len(urls) > 20
    assert [p.status for p in pages] == [200] * len(urls)
    assert [p.url for p in pages] == urls
    assert all(b"<html" in p.body.lower() for p in pages)
    assert len(paths) == len(set(paths))  # nothing fetched twice, no retries
    assert stats.retries == 0
    assert stats.requests == len(paths)


@needs_site
def test_fetch_conditional_get_answers_304():
    with TestServer(SITE) as server:
        config = make_config()
        url = server.url("/about/")

        async def twice(fetcher):
            first = await fetcher.fetch(url)
            by_etag = await fetcher.fetch(url, etag=first.header("etag"))
            by_date = await fetcher.fetch(url, last_modified=first.header("last-modified"))
            stale = await fetcher.fetch(url, etag='"not-it"')
            return first, by_etag, by_date, stale, fetcher.stats

        first, by_etag, by_date, stale, stats = run(config, url, twice)
        (_, second, *_rest) = server.requests_for("/about/")
    assert first.status == 200
    assert first.header("etag")
    assert (by_etag.status, by_etag.body) == (304, b"")
    assert (by_date.status, by_date.body) == (304, b"")
    assert stale.status == 200
    assert stale.body == first.body
    assert second.headers["if-none-match"] == first.header("etag")
    assert stats.not_modified == 2


def test_fetch_per_host_concurrency_limit():
    with TestServer() as server:
        server.set_robots("User-agent: *\nDisallow:\n")
        for i in range(8):
            server.script(f"/slow/{i}", Reply(body=page(str(i)), delay=0.3))
        config = make_config(concurrency=2)

        async def many(fetcher):
            await fetcher.fetch(server.url("/robots.txt"), accept=())
            server.clear_log()
            return await asyncio.gather(
                *(fetcher.fetch(server.url(f"/slow/{i}")) for i in range(8))
            )

        pages = run(config, server.url("/"), many)
        assert [p.status for p in pages] == [200] * 8
        assert server.max_in_flight == 2


def test_fetch_per_host_delay_spaces_request_starts():
    with TestServer() as server:
        server.set_robots("User-agent: *\nDisallow:\n")
        config = make_config(concurrency=4, delay=0.2, adaptive=False)

        async def many(fetcher):
            return await asyncio.gather(*(fetcher.fetch(server.url(f"/p/{i}")) for i in range(4)))

        run(config, server.url("/"), many)
        starts = sorted(r.time for r in server.requests)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) == 4  # robots.txt + 4 pages
    assert min(gaps) >= 0.15


def test_fetch_robots_crawl_delay_raises_host_delay():
    with TestServer() as server:
        server.set_robots("User-agent: *\nCrawl-delay: 1\nDisallow:\n")
        server.script("/a", Reply(body=page("a")))
        server.script("/b", Reply(body=page("b")))
        config = make_config(concurrency=2, delay=0.0)

        async def two(fetcher):
            return await asyncio.gather(
                fetcher.fetch(server.url("/a")), fetcher.fetch(server.url("/b"))
            )

        run(config, server.url("/"), two)
        (a,) = server.requests_for("/a")
        (b,) = server.requests_for("/b")
    assert abs(b.time - a.time) >= 0.9


@pytest.mark.parametrize(
    ("robots_reply", "allowed"),
    [
        (Reply(status=404, body=b"no robots"), True),
        (Reply(status=410, body=b""), True),
        (Reply(status=503, body=b"down"), False),
        (Reply(status=500, body=b"oops"), False),
    ],
)
def test_fetch_robots_status_policy(robots_reply, allowed):
    """4xx robots.txt allows everything; 5xx (after retries) disallows everything."""
    with TestServer() as server:
        server.script("/robots.txt", robots_reply)
        server.script("/page", Reply(body=page("p")))
        config = make_config()

        async def one(fetcher):
            try:
                return (await fetcher.fetch(server.url("/page"))).status
            except Exception as exc:  # noqa: BLE001 - the test inspects the type
                return type(exc).__name__

        result = run(config, server.url("/"), one)
        page_requests = server.count("/page")
    assert result == (200 if allowed else "RobotsDisallowed")
    assert page_requests == (1 if allowed else 0)


def test_fetch_robots_fetched_once_per_host_under_concurrency():
    with TestServer() as server:
        server.script(
            "/robots.txt",
            Reply(body=b"User-agent: *\nDisallow:\n", delay=0.2, content_type="text/plain"),
        )
        config = make_config(concurrency=4)

        async def many(fetcher):
            return await asyncio.gather(*(fetcher.fetch(server.url(f"/p/{i}")) for i in range(6)))

        run(config, server.url("/"), many)
        assert server.count("/robots.txt") == 1


def test_fetch_robots_specific_group_for_migrator_agent():
    with TestServer() as server:
        server.set_robots(
            "User-agent: migrator\nDisallow: /no-bots/\n\nUser-agent: *\nDisallow: /\n"
        )
        config = make_config()

        async def two(fetcher):
            ok = await fetcher.fetch(server.url("/yes/"))
            try:
                await fetcher.fetch(server.url("/no-bots/x"))
            except Exception as exc:  # noqa: BLE001
                return ok.status, type(exc).__name__
            return ok.status, None

        # /yes/ is allowed (and 404s: no such route); /no-bots/ is refused unrequested
        assert run(config, server.url("/"), two) == (404, "RobotsDisallowed")
        assert server.count("/no-bots/x") == 0


def test_fetch_slows_host_down_after_429():
    with TestServer() as server:
        server.set_robots("User-agent: *\nDisallow:\n")
        server.script("/busy", Reply(status=429, headers={"Retry-After": "0"}), Reply())
        config = make_config(backoff=0.2)

        async def go(fetcher):
            await fetcher.fetch(server.url("/busy"))
            await fetcher.fetch(server.url("/next"))

        run(config, server.url("/"), go)
        (nxt,) = server.requests_for("/next")
        second_busy = server.requests_for("/busy")[1]
    assert nxt.time - second_busy.time >= 0.1


def test_fetch_stats_count_bytes():
    with TestServer() as server:
        server.set_robots("")
        body = page("x", body="y" * 1000)
        server.script("/x", Reply(body=body))

        async def go(fetcher):
            await fetcher.fetch(server.url("/x"))
            return fetcher.stats.as_dict()

        stats = run(make_config(), server.url("/"), go)
    assert stats["bytes"] == len(body)  # an empty robots.txt adds nothing
    assert stats["requests"] == 2
    assert stats["robots_fetched"] == 1
    assert re.fullmatch(r"\d+", str(stats["failures"]))
