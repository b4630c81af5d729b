"""One politeness budget per host across the sync's two fetching processes, proven
from the test server's own request log."""

from __future__ import annotations

import itertools

import pytest

from migrator.config import Config, ExtractConfig, SyncConfig
from migrator.load import Store
from migrator.pipeline import run
from servers import Reply, TestServer, page

pytestmark = pytest.mark.slow

POSTS = [f"/post-{n}/" for n in range(10)]
BODY = "".join(f"<p>Paragraph {i} of a perfectly ordinary post.</p>" for i in range(12))
CRAWL_DELAY = 0.3


def _config(concurrency: int) -> Config:
    config = Config().with_fetch(
        delay=0.0, concurrency=concurrency, timeout=5.0, deadline=10.0, max_attempts=2
    )
    return config.replace(extract=ExtractConfig(workers=1), sync=SyncConfig(fetch_processes=2))


def _site(server: TestServer, *, reply_delay: float = 0.0) -> None:
    server.script("/", Reply(body=page("Home", *POSTS, body=BODY), delay=reply_delay))
    for path in POSTS:
        server.script(path, Reply(body=page(path, "/", body=BODY), delay=reply_delay))


def test_sync_helper_process_keeps_the_crawl_delay(tmp_path):
    """Both processes read Crawl-delay; together they still space every request by it."""
    with TestServer() as server:
        server.set_robots(f"User-agent: *\nCrawl-delay: {CRAWL_DELAY}\n")
        _site(server)
        with Store.open(tmp_path / "m.db") as store:
            first = run(_config(4), store, start=server.url("/"))
            assert first.counts["failed"] == 0, first.failures
            server.clear_log()
            synced = run(_config(4), store, mode="sync")
        log = server.requests
    assert synced.counts.get("failed", 0) == 0, synced.failures
    # The main process and the helper each read robots.txt: two fetching processes.
    assert sum(r.path == "/robots.txt" for r in log) == 2
    times = sorted(r.time for r in log)
    gaps = [b - a for a, b in itertools.pairwise(times[1:])]  # after main's robots
    assert len(gaps) >= len(POSTS)
    # Request starts as the server saw them: allow its thread scheduling a little slack.
    assert min(gaps) >= CRAWL_DELAY * 0.8, " ".join(
        f"{r.path}@{r.time - times[0]:.3f}" for r in log
    )


def test_sync_concurrency_one_uses_one_process(tmp_path):
    """``max(1, 1 // 2)`` gave each of two processes one request: two at once."""
    with TestServer() as server:
        _site(server, reply_delay=0.05)
        with Store.open(tmp_path / "m.db") as store:
            run(_config(1), store, start=server.url("/"))
            server.clear_log()
            synced = run(_config(1), store, mode="sync")
        robots = server.count("/robots.txt")
        most = server.max_in_flight
    assert synced.counts.get("failed", 0) == 0, synced.failures
    assert robots == 1
    assert most == 1
