"""Scope: which URLs belong to the migration, and the crawler-trap guard."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from click.testing import CliRunner

from migrator.cli import cli
from migrator.config import Config, FetchConfig, ScopeConfig
from migrator.extract.pagetype import url_page_type
from migrator.fetch import Fetcher
from migrator.scope import Scope, url_pattern
from migrator.traps import MAX_QUERY_COMBINATIONS, MAX_QUERY_SHAPES, calendar_date, url_dates
from migrator.urls import absolute_url
from servers import Reply, Request, TestServer, misbehaving_routes, page

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


# ------------------------------------------------------------------- crawler traps

TODAY = date(2026, 11, 30)
B = "https://blog.example.com"


def trap_scope(**scope: object) -> Scope:
    return dataclasses.replace(make_scope(**scope), today=TODAY)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (f"{B}/calendar/2031/07/", "calendar"),
        (f"{B}/calendar/2027/01/", "calendar"),
        (f"{B}/events/?month=2031-07", "calendar"),
        (f"{B}/?m=203107", "calendar"),
        (f"{B}/?year=2031&monthnum=7", "calendar"),
        (f"{B}/agenda/2031-07-04/", "calendar"),
        (f"{B}/calendar/1989/12/", "calendar"),
        (f"{B}/?ym=1975-02", "calendar"),
        (f"{B}/2099/01/a-post-from-the-future/", "calendar"),
        (f"{B}/docs/docs/docs/", "repeated_segments"),
        (f"{B}/a/b/a/b/a/b/", "repeated_segments"),
        (f"{B}/x/1/1/1/", "repeated_segments"),
        (B + "/" + "/".join(f"s{i}" for i in range(21)) + "/", "too_many_segments"),
        (f"{B}/shop/?tag=a&tag=b&tag=c", "query_explosion"),
    ],
)
def test_scope_traps_refused_before_any_request(url, kind):
    scope = trap_scope()
    assert scope.allows(url)  # in scope: only the trap rule refuses it
    assert not scope.admit(url, 1)
    assert scope.limited == {f"trap_{kind}": 1}


@pytest.mark.parametrize(
    "url",
    [
        f"{B}/2026/12/",  # next month: clocks and time zones differ
        f"{B}/2026/11/30/",
        f"{B}/1990/01/",
        f"{B}/2009/07/my-post/",
        f"{B}/page/873/",
        f"{B}/?p=2031",
        f"{B}/node/2031/",  # a lone four-digit segment is an id as often as a year
        f"{B}/items/1200/5/",
        f"{B}/?m=200907",
        f"{B}/?m=200907&paged=3",
        f"{B}/category/news/page/2/",
        f"{B}/2005_01_01_archive.html",
        f"{B}/docs/guide/docs/",  # twice is a real layout
        f"{B}/" + "/".join(f"s{i}" for i in range(20)) + "/",
        f"{B}/search/?q=a&tag=b",
    ],
)
def test_scope_traps_leave_a_blogs_own_urls(url):
    scope = trap_scope()
    assert scope.admit(url, 1), url
    assert not scope.limited


def test_scope_traps_query_explosion_per_path():
    """A faceted path takes MAX_QUERY_COMBINATIONS word-valued combinations, then no more;
    numbered pages and other paths are not affected."""
    scope = trap_scope(max_query_params=4)
    words = [f"{c}{s}" for c in "abcdefghijklmnopqrst" for s in "abcdefghijklmnop"]
    admitted = sum(scope.admit(f"{B}/shop/?color={w}&size={w[::-1]}x", 1) for w in words)
    assert admitted == MAX_QUERY_COMBINATIONS
    assert scope.limited["trap_query_explosion"] == len(words) - MAX_QUERY_COMBINATIONS
    assert all(scope.admit(f"{B}/shop/?page={n}", 1) for n in range(300))
    assert scope.admit(f"{B}/other/?color=a&size=b", 1)
    shapes = [f"{B}/s/?{n}=x" for n in (f"f{i}" for i in range(40))]
    assert sum(scope.admit(u, 1) for u in shapes) == MAX_QUERY_SHAPES


def test_scope_traps_can_be_turned_off_and_earliest_year_moved():
    assert trap_scope(detect_traps=False).admit(f"{B}/calendar/2031/07/", 1)
    assert trap_scope(earliest_year=1960).admit(f"{B}/calendar/1975/07/", 1)
    assert not trap_scope(earliest_year=2010).admit(f"{B}/calendar/2009/12/", 1)


def test_calendar_date_marks_archives_not_dated_posts():
    assert calendar_date(f"{B}/events/2024-07/") == (2024, 7, 1)
    assert calendar_date(f"{B}/2024/07/15/page/2/") == (2024, 7, 15)
    assert calendar_date(f"{B}/events/?month=2024-07") == (2024, 7, 1)
    assert calendar_date(f"{B}/2024/07/my-post/") is None
    assert calendar_date(f"{B}/diary/2024-07-15.html") is None  # perhaps the day's post
    assert url_dates(f"{B}/diary/2031-07-15.html") == [(2031, 7, 15)]  # still dated
    assert calendar_date(f"{B}/node/2024/") is None
    assert url_page_type(f"{B}/events/2024-07/") == "listing"
    assert url_page_type(f"{B}/?month=2024-07") == "listing"
    assert url_page_type(f"{B}/2024/07/my-post/") is None


def _months_back(today: date, n: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 - n
    return index // 12, index % 12 + 1


def _blog_with_traps(server: TestServer, today: date) -> dict[str, list[str]]:
    """A blog of 40 posts (a prev/next chain 40 deep, 14 pages of pagination, month
    archives each linking the previous month with posts) whose sidebar links four traps:
    an endless ``?month=`` calendar, an endless ``/calendar/YYYY/MM/`` one, a relative
    link that nests ``/docs/`` into itself, and a faceted ``/shop/`` of 300 combinations.
    Returns the blog's own paths by kind."""
    posts = []
    for n in range(40):
        year, month = _months_back(today, n // 2)
        posts.append((f"/{year}/{month:02d}/post-{_word(n)}/", year, month))
    months = sorted({(y, m) for _, y, m in posts}, reverse=True)
    this_month = f"{today.year}-{today.month:02d}"
    sidebar = [
        f"/events/?month={this_month}",
        f"/calendar/{today.year}/{today.month:02d}/",
        "/docs/",
        "/shop/",
    ]

    def respond(request: Request) -> Reply:
        parts = urlsplit(request.path)
        path, query = parts.path, dict(parse_qsl(parts.query))
        for i, (post, year, month) in enumerate(posts):
            if path == post:
                chain = [p for p, _, _ in posts[max(0, i - 1) : i + 2] if p != post]
                body = (
                    f"<article><time datetime='{year}-{month:02d}-10'>{year}-{month:02d}-10"
                    f"</time><p>{'Words of a real post. ' * 30}</p></article>"
                )
                return Reply(
                    body=page(f"Post {i}", *chain, f"/{year}/{month:02d}/", *sidebar, body=body)
                )
        if path == "/" or path.startswith("/page/"):
            number = int(path.strip("/").rsplit("/", 1)[-1]) if path != "/" else 1
            shown = [p for p, _, _ in posts[(number - 1) * 3 : number * 3]]
            more = [f"/page/{number + 1}/"] if number * 3 < len(posts) else []
            return Reply(body=page(f"Blog, page {number}", *shown, *more, *sidebar))
        if path.startswith(("/calendar/", "/events/")):
            if path.startswith("/events/"):
                year, month = (int(x) for x in query["month"].split("-"))
            else:
                year, month = (int(x) for x in path.strip("/").split("/")[1:3])
            step = [_months_back(date(year, month, 1), k) for k in (1, -1)]
            if path.startswith("/events/"):
                links = [f"/events/?month={y}-{m:02d}" for y, m in step]
            else:
                links = [f"/calendar/{y}/{m:02d}/" for y, m in step]
            return Reply(body=page(f"Calendar {year}-{month:02d}", *links, "/"))
        if path.startswith("/docs/"):
            return Reply(body=page("Docs", "docs/", "more/", body="<p>Docs text.</p>"))
        if path == "/shop/" and not query:
            combos = [
                f"?color={c}&size={s}" for c in "abcdefghijklmnopqrst" for s in "uvwxyzjklmnopqr"
            ]
            return Reply(body=page("Shop", *combos))
        if path == "/shop/":
            return Reply(body=page(f"Shop {query}", body="<p>Products.</p>"))
        for year, month in months:
            if path == f"/{year}/{month:02d}/":
                listed = [p for p, y, m in posts if (y, m) == (year, month)]
                older = [f"/{y}/{m:02d}/" for y, m in months if (y, m) < (year, month)][:1]
                return Reply(body=page(f"Archive {year}-{month:02d}", *listed, *older))
        return Reply(status=404, body=page("Not found"))

    server.route("/", respond)
    return {
        "posts": [p for p, _, _ in posts],
        "months": [f"/{y}/{m:02d}/" for y, m in months],
        "pages": [f"/page/{n}/" for n in range(2, 15)],
    }


def _word(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        letters = chr(97 + rest) + letters
    return letters


def test_scope_traps_in_a_real_crawl_never_become_rows(tmp_path):
    """``migrator run`` over a blog with four traps in its sidebar: the blog's deep
    chains are all crawled with the default limits, no trap page is stored as a page,
    the traps' far ends are never requested, and the report counts what was refused."""
    today = datetime.now(UTC).date()
    floor = today.year - 3  # the default floor (1990) is tested above; this keeps it short
    config = tmp_path / "site.toml"
    config.write_text(
        f"[scope]\nearliest_year = {floor}\n"
        "[fetch]\ndelay = 0.0\nconcurrency = 4\nmax_attempts = 1\n[extract]\nworkers = 1\n"
    )
    db = tmp_path / "m.db"
    with TestServer() as server:
        blog = _blog_with_traps(server, today)
        result = CliRunner().invoke(
            cli, ["run", server.url("/"), "--config", str(config), "--db", str(db), "--json"]
        )
        asked = [r.path for r in server.requests]
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)

    conn = sqlite3.connect(db)
    try:
        rows = [str(u) for (u,) in conn.execute("SELECT url FROM pages")]
        fetched = {
            str(u) for (u,) in conn.execute("SELECT url FROM crawl_state WHERE state = 'fetched'")
        }
    finally:
        conn.close()
    base = server.base_url
    # The blog: every post a row, every month archive and page of the pagination fetched.
    assert sorted(u for u in rows if "/post-" in u) == sorted(base + p for p in blog["posts"])
    assert {base + p for p in blog["months"] + blog["pages"]} <= fetched
    # The calendars: no row, nothing after next month or before the floor requested.
    assert [u for u in rows if "/calendar/" in u or "/events/" in u] == []
    latest = today + timedelta(days=31)
    for path in asked:
        for year, month, _ in url_dates(base + path):
            assert (year, month) <= (latest.year, latest.month), path
            assert year >= floor, path
    walked = [p for p in asked if p.startswith(("/calendar/", "/events/"))]
    assert len(walked) <= 2 * (12 * 4 + 2)
    # The nesting link and the shop: bounded before any request.
    assert not [p for p in asked if p.count("docs/") >= 3]
    shop = [p for p in asked if p.startswith("/shop/?")]
    assert len(shop) == MAX_QUERY_COMBINATIONS
    counts = report["counts"]
    assert counts["limited_trap_calendar"] >= 2
    assert counts["limited_trap_repeated_segments"] >= 2
    assert counts["limited_trap_query_explosion"] >= 300 - MAX_QUERY_COMBINATIONS
    assert "URLs refused as crawler traps (calendar " in report["message"]
