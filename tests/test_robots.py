"""robots.txt bodies over the 512 KiB the fetcher reads (RFC 9309 §2.5), from a real server."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest

from migrator.config import Config, FetchConfig
from migrator.errors import RobotsDisallowed
from migrator.fetch import Fetcher
from migrator.robots import MAX_ROBOTS_BYTES, Robots
from migrator.scope import Scope
from servers import Reply, TestServer, page

HEAD = b"User-agent: *\nDisallow: /private/\nSitemap: http://127.0.0.1/head-sitemap.xml\n"
TAIL = b"User-agent: *\nDisallow: /late/\nSitemap: http://127.0.0.1/tail-sitemap.xml\n"


def oversized_robots() -> bytes:
    """Rules in the first 512 KiB, comment padding past it, then rules that are ignored."""
    padding = b"# padding to push the file past what a crawler must read\n"
    body = HEAD + padding * (MAX_ROBOTS_BYTES // len(padding) + 100)
    assert len(body) > MAX_ROBOTS_BYTES + 4096
    return body + TAIL


@pytest.fixture(params=["normal", "unsized"], ids=["content-length", "no-content-length"])
def server(request: pytest.FixtureRequest) -> Iterator[TestServer]:
    srv = TestServer()
    srv.script(
        "/robots.txt",
        Reply(body=oversized_robots(), content_type="text/plain", action=request.param),
    )
    for path in ("/ok/", "/private/x.html", "/late/x.html"):
        srv.script(path, Reply(body=page(path)))
    with srv:
        yield srv


def make_config() -> Config:
    fetch = dataclasses.replace(FetchConfig(), delay=0.0, backoff=0.01, max_attempts=2)
    return Config(fetch=fetch)


def crawl(server: TestServer, paths: list[str]) -> tuple[dict[str, object], Robots]:
    """Fetch ``paths`` with one fetcher: each path's status, or the error it raised."""
    config = make_config()
    scope = Scope.from_config(config, [server.base_url + "/"])

    async def go() -> tuple[dict[str, object], Robots]:
        results: dict[str, object] = {}
        async with Fetcher(config, scope) as fetcher:
            for path in paths:
                try:
                    results[path] = (await fetcher.fetch(server.url(path))).status
                except RobotsDisallowed as exc:
                    results[path] = exc
            return results, await fetcher.robots_for(server.url("/"))

    return asyncio.run(go())


def test_robots_oversized_file_head_parsed_rest_ignored(server):
    """A robots.txt past 512 KiB is read up to 512 KiB and parsed, not taken to forbid
    the whole site, whether or not the server announces its size."""
    results, robots = crawl(server, ["/ok/", "/private/x.html", "/late/x.html"])
    assert robots.mode == "rules"
    assert results["/ok/"] == 200
    assert isinstance(results["/private/x.html"], RobotsDisallowed)
    assert results["/late/x.html"] == 200  # its rule lies past 512 KiB: ignored
    assert robots.sitemaps == ("http://127.0.0.1/head-sitemap.xml",)
    assert server.requests_for("/private/x.html") == []
    assert len(server.requests_for("/robots.txt")) == 1


def test_robots_parse_drops_a_line_cut_at_the_limit():
    """The line the 512 KiB limit cuts in two is dropped, not read as a shorter rule."""
    head = b"User-agent: *\n"
    filler = b"#" * (MAX_ROBOTS_BYTES - len(head) - len(b"Disallow: /a") - 1) + b"\n"
    body = head + filler + b"Disallow: /abc/\n"
    assert body[:MAX_ROBOTS_BYTES].endswith(b"\nDisallow: /a")
    robots = Robots.parse(body)
    assert robots.can_fetch("http://h/a", "migrator")
    assert robots.can_fetch("http://h/abc/x", "migrator")
