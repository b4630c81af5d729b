"""Scope: which URLs belong to the migration, and the crawler-trap guard."""

from __future__ import annotations

import asyncio
import dataclasses
import re

from migrator.config import Config, FetchConfig, ScopeConfig
from migrator.fetch import Fetcher
from migrator.scope import Scope, url_pattern
from migrator.urls import absolute_url
from servers import TestServer, misbehaving_routes

START = "https://blog.example.com/"


def make_scope(**scope: object) -> Scope:
    config = Config(scope=dataclasses.replace(ScopeConfig(), **scope))  # type: ignore[arg-type]
    return Scope.from_config(config, [START])


def test_scope_allows_start_host_only_by_default():
    scope = make_scope()
    assert scope.allows("https://blog.example.com/a/")
    assert scope.allows("http://BLOG.example.com/a/")
    assert not scope.allows("https://cdn.example.com/a/")
    assert not scope.allows("https://example.com/a/")


def test_scope_allowed_hosts_extend_start_hosts():
    scope = make_scope(allowed_hosts=("WWW.Example.com",))
    assert scope.allows("https://www.example.com/x")
    assert scope.allows("https://blog.example.com/x")


def test_scope_rejects_non_http_schemes():
    scope = make_scope()
    for url in ("ftp://blog.example.com/a", "file:///etc/passwd", "data:text/html,x", "mailto:x"):
        assert not scope.allows(url)


def test_scope_path_prefixes():
    scope = make_scope(path_prefixes=("/blog/", "/about"))
    assert scope.allows("https://blog.example.com/blog/post/")
    assert scope.allows("https://blog.example.com/about/")
    assert not scope.allows("https://blog.example.com/shop/")


def test_scope_include_exclude_patterns():
    scope = make_scope(include=(r"/20\d\d/",), exclude=(r"/tag/", r"\?replytocom="))
    assert scope.allows("https://blog.example.com/2021/05/post/")
    assert not scope.allows("https://blog.example.com/about/")
    assert not scope.allows("https://blog.example.com/2021/tag/x/")


def test_scope_url_length_and_query_params():
    scope = make_scope(max_url_length=60, max_query_params=2)
    assert scope.allows("https://blog.example.com/?a=1&b=2")
    assert not scope.allows("https://blog.example.com/?a=1&b=2&c=3")
    assert not scope.allows("https://blog.example.com/" + "x" * 60)


def test_url_pattern_folds_digits_and_query_values():
    assert url_pattern("https://h/calendar/2024/05/") == url_pattern("https://h/calendar/1999/01/")
    assert url_pattern("https://h/calendar/2024/05/") == "h/calendar/N/N/"
    assert url_pattern("https://h/list?page=2") == url_pattern("https://h/list?page=30")
    assert url_pattern("https://h/a/") != url_pattern("https://h/b/")


def test_scope_admit_caps_urls_per_pattern():
    scope = make_scope(max_urls_per_pattern=3)
    admitted = [
        scope.admit(f"https://blog.example.com/calendar/{y}/01/", 1) for y in range(2000, 2010)
    ]
    assert admitted == [True] * 3 + [False] * 7
    assert scope.admit("https://blog.example.com/about/", 1)


def test_scope_admit_counts_each_url_once():
    scope = make_scope(max_pages=2)
    assert scope.admit("https://blog.example.com/a/", 0)
    assert scope.admit("https://blog.example.com/a/#x", 0)  # same page: not counted again
    assert scope.admit("https://blog.example.com/a/index.html", 3)
    assert scope.admitted == 1
    assert scope.admit("https://blog.example.com/b/", 0)
    assert not scope.admit("https://blog.example.com/c/", 0)
    assert scope.admit("https://blog.example.com/b/", 0)


def test_scope_admit_enforces_max_depth_and_scope():
    scope = make_scope(max_depth=2)
    assert scope.admit("https://blog.example.com/d2/", 2)
    assert not scope.admit("https://blog.example.com/d3/", 3)
    assert not scope.admit("https://elsewhere.example.com/", 0)
    assert scope.admitted == 1


def test_scope_seed_counts_towards_budgets():
    scope = make_scope(max_urls_per_pattern=2, max_pages=10)
    scope.seed(["https://blog.example.com/p/1/", "https://blog.example.com/p/2/"])
    assert scope.admitted == 2
    assert not scope.admit("https://blog.example.com/p/3/", 1)
    assert scope.admit("https://blog.example.com/p/1/", 1)  # already known


def test_scope_calendar_trap_bounded_in_a_real_crawl():
    """A breadth-first crawl of the infinite calendar stops at the per-pattern budget."""
    fetch = dataclasses.replace(FetchConfig(), delay=0.0, backoff=0.01, max_attempts=1)
    with TestServer() as server:
        misbehaving_routes(server)
        start = server.url("/calendar/2024/01/")
        config = Config(
            fetch=fetch, scope=dataclasses.replace(ScopeConfig(), max_urls_per_pattern=15)
        )
        scope = Scope.from_config(config, [start])

        async def crawl() -> list[str]:
            done: list[str] = []
            queue = [(start, 0)]
            scope.admit(start, 0)
            async with Fetcher(config, scope) as fetcher:
                while queue:
                    url, depth = queue.pop(0)
                    raw = await fetcher.fetch(url)
                    done.append(url)
                    for href in re.findall(rb'href="([^"]+)"', raw.body):
                        link = absolute_url(href.decode(), raw.url)
                        fresh = link not in done and all(link != q for q, _ in queue)
                        if link and fresh and scope.admit(link, depth + 1):
                            queue.append((link, depth + 1))
            return done

        done = asyncio.run(crawl())
        calendar_requests = [r for r in server.requests if r.path.startswith("/calendar/")]
    assert len(done) == 15
    assert len(calendar_requests) == 15
