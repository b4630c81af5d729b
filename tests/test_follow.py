"""Following a page's links: the scope's www/no-www fold and the crawl's memory of links
already queued or out of scope, checked against the plain test of every link."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migrator import crawl_write
from migrator.config import Config, ScopeConfig
from migrator.crawl import Crawl
from migrator.crawl_write import CrawlWriter
from migrator.load import CrawlItem, Store
from migrator.pipeline import RunReport
from migrator.scope import Scope
from migrator.urls import canonical_url

START = "https://blog.example.com/"


def make_scope(start: str = START, **scope: object) -> Scope:
    config = Config(scope=dataclasses.replace(ScopeConfig(), **scope))  # type: ignore[arg-type]
    return Scope.from_config(config, [start])


def fold_by_parsing(scope: Scope, url: str) -> str:
    """``Scope.fold`` without its shortcut: every URL parsed (the code before it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    primary = scope.twins.get((parts.hostname or "").lower())
    if primary is None:
        return url
    netloc = primary if parts.port is None else f"{primary}:{parts.port}"
    return canonical_url(parts._replace(netloc=netloc).geturl())


HOSTS = ["blog.example.com", "www.blog.example.com", "WWW.Blog.Example.COM", "example.com"]
HOSTS += ["www.blog.example.com.evil.net", "cdn.example.com", "user@www.blog.example.com"]
HOSTS += ["www.blog.example.com:8443", "[::1]", "www.blog.example.com."]


@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp"]),
    host=st.sampled_from(HOSTS),
    path=st.sampled_from(["/", "/a/b/", "/www.blog.example.com/", "", "/x?y=1#z"]),
)
def test_fold_shortcut_gives_what_parsing_gives(scheme, host, path):
    """A URL that names no twin is returned unparsed: the answer must not change."""
    scope = make_scope()
    url = f"{scheme}://{host}{path}"
    assert scope.fold(url) == fold_by_parsing(scope, url)


def test_fold_maps_the_twin_onto_the_start_host():
    scope = make_scope()
    assert scope.fold("https://WWW.blog.example.com/a/") == "https://blog.example.com/a/"
    assert scope.fold("https://www.blog.example.com:8443/a/") == "https://blog.example.com:8443/a/"
    assert scope.fold("https://cdn.example.com/www.blog.example.com/") == (
        "https://cdn.example.com/www.blog.example.com/"
    )


@pytest.fixture
def crawl(tmp_path: Path):
    def make(**scope: object) -> CrawlWriter:
        config = Config(scope=dataclasses.replace(ScopeConfig(), **scope))  # type: ignore[arg-type]
        store = Store.open(tmp_path / f"m{len(opened)}.db")
        opened.append(store)
        report = RunReport(run_id=1, mode="run", db_path="", started_at=datetime.now(UTC))
        made = Crawl(config, store, report, mode="run", pool=None, progress=None)
        made.writer.scope = Scope.from_config(config, [START])
        return made.writer

    opened: list[Store] = []
    yield make
    for store in opened:
        store.close()


def queued(crawl: CrawlWriter) -> list[str]:
    rows = crawl.store._conn.execute("SELECT url FROM crawl_state ORDER BY url").fetchall()
    return [url for (url,) in rows]


PAGE_LINKS = [
    "https://blog.example.com/a/",
    "https://www.blog.example.com/b/",  # the twin: queued as blog.example.com/b/
    "https://twitter.com/someone",  # out of scope
    "https://blog.example.com/feed.xml",  # not a page
    "https://blog.example.com/b/",
]


def test_follow_queues_the_same_urls_page_after_page(crawl):
    """The links of many pages repeat; each is queued once, folded, whatever page
    brings it, and what is remembered is exactly what was queued or out of scope."""
    c = crawl()
    item = CrawlItem(url=START, depth=0)
    for n in range(3):
        c._follow([*PAGE_LINKS, f"https://blog.example.com/p{n}/"], START, item)
    assert queued(c) == [
        "https://blog.example.com/a/",
        "https://blog.example.com/b/",
        "https://blog.example.com/p0/",
        "https://blog.example.com/p1/",
        "https://blog.example.com/p2/",
    ]
    assert c.counts["discovered"] == 5
    assert "https://www.blog.example.com/b/" in c.linked
    assert c.outside == {"https://twitter.com/someone", "https://blog.example.com/feed.xml"}


def test_follow_counts_a_limited_link_each_time_it_is_seen(crawl):
    """A link refused by a budget (not by the scope rules) is not remembered: the
    report counts every refusal, as it did when every link was tested."""
    c = crawl(max_urls_per_pattern=1)
    item = CrawlItem(url=START, depth=0)
    for _ in range(3):
        c._follow(["https://blog.example.com/p1/", "https://blog.example.com/p2/"], START, item)
    assert queued(c) == ["https://blog.example.com/p1/"]
    assert c.scope is not None
    assert c.scope.limited["max_urls_per_pattern"] == 3
    assert c.outside == set()


def test_follow_memory_is_bounded(crawl, monkeypatch):
    monkeypatch.setattr(crawl_write, "_LINKED_MEMORY", 10)
    c = crawl()
    item = CrawlItem(url=START, depth=0)
    c._follow([f"https://blog.example.com/p{n}/" for n in range(8)], START, item)
    c._follow([f"https://other.example/p{n}/" for n in range(8)], START, item)
    assert len(c.linked) == 8
    assert len(c.outside) == 8
    c._follow([f"https://blog.example.com/q{n}/" for n in range(4)], START, item)
    c._follow([f"https://other.example/q{n}/" for n in range(4)], START, item)
    assert c.linked == set()
    assert c.outside == set()
    assert len(queued(c)) == 12
