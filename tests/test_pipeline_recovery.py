"""A run recovers what it can: a dead extraction worker costs no page, a page that kills
its worker fails alone, and a page stored without a record is extracted again by the
next sync even when the server answers 304."""

from __future__ import annotations

import gc
import json
import logging
import shutil
import signal
import sqlite3
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import psutil
import pytest

import migrator.pipeline as pipeline
from migrator.config import Config, ExtractConfig
from migrator.demo import demo_site_dir
from migrator.errors import StoreError
from migrator.extract import extract_page
from migrator.load import Store
from migrator.models import Page, RawPage
from migrator.pipeline import extract, run
from migrator.workers import extract_in_worker
from servers import TestServer

EXPECTED = Path(__file__).resolve().parent / "fixtures" / "site_expected"
MANIFEST = json.loads((EXPECTED / "manifest.json").read_text())
POSTS = sorted(p["path"] for p in MANIFEST["pages"] if p["type"] == "post")

pytestmark = pytest.mark.slow


def _config(workers: int = 2) -> Config:
    config = Config().with_fetch(
        delay=0.0, concurrency=4, timeout=5.0, deadline=10.0, max_attempts=2, backoff=0.01
    )
    return config.replace(extract=ExtractConfig(workers=workers))


def _query(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def _posts(db: Path, base: str) -> list[str]:
    rows = _query(db, "SELECT url FROM pages WHERE page_type = 'post' ORDER BY url")
    return [str(url)[len(base) :] for (url,) in rows]


def _kill_one_worker() -> int:
    """SIGKILL one extraction worker (a child of this process's forkserver)."""
    for child in psutil.Process().children(recursive=True):
        parent = child.parent()
        if parent is not None and "forkserver" in " ".join(parent.cmdline()):
            child.send_signal(signal.SIGKILL)
            return child.pid
    raise AssertionError("no worker process to kill")


def test_pipeline_worker_killed_mid_run_loses_no_page(tmp_path):
    db = tmp_path / "m.db"
    killed: list[int] = []

    def progress(_counts: object) -> None:
        if not killed:
            killed.append(_kill_one_worker())

    with TestServer(demo_site_dir()) as server, Store.open(db) as store:
        report = run(_config(), store, start=server.url("/"), progress=progress)
        base = server.base_url
    assert killed
    assert report.counts["failed"] == 0, report.failures
    assert _posts(db, base) == POSTS
    live = _query(db, "SELECT count(*) FROM pages")[0][0]
    assert report.counts["new"] == live


class _BreakingPool(pipeline.LazyPool):
    """A pool whose workers 'die' on one URL: its futures fail like a broken pool's."""

    def __init__(self, deadly: str) -> None:
        super().__init__(ExtractConfig(workers=1))
        self.deadly = deadly
        self.threads = ThreadPoolExecutor(max_workers=1)
        self.retried: list[str] = []

    def _run(self, raw: RawPage) -> Future[Page]:
        if raw.url == self.deadly:
            future: Future[Page] = Future()
            future.set_exception(BrokenProcessPool("a worker died"))
            return future
        return self.threads.submit(extract_page, raw, self._rules)

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        if fn is not extract_in_worker:  # learning the site model: not a page
            return self.threads.submit(fn, *args, **kwargs)
        return self._run(args[0])

    def submit_retry(self, raw: RawPage, model: object = None) -> Future[Page]:
        self.retried.append(raw.url)
        return self._run(raw)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.threads.shutdown(wait=wait)


def test_pipeline_page_that_kills_its_worker_twice_fails_alone(tmp_path, monkeypatch):
    """Retried once (the retry is recorded), then a failure with its reason; others load."""
    db = tmp_path / "m.db"
    with TestServer(demo_site_dir()) as server:
        deadly = server.url(POSTS[0])
        pool = _BreakingPool(deadly)
        monkeypatch.setattr(pipeline, "LazyPool", lambda _rules: pool)
        with Store.open(db) as store:
            report = run(_config(), store, start=server.url("/"))
        base = server.base_url
    assert pool.retried == [deadly]
    assert report.failures == [(deadly, "worker_died: its worker process died twice")]
    assert report.counts["failed"] == 1
    assert _posts(db, base) == POSTS[1:]
    assert _query(db, "SELECT url FROM errors WHERE stage = 'extract'") == [(deadly,)]


def test_pipeline_failed_load_is_extracted_again_on_a_304_sync(tmp_path, monkeypatch):
    site = tmp_path / "site"
    shutil.copytree(demo_site_dir(), site)
    db = tmp_path / "m.db"
    original = Store.save_page
    with TestServer(site) as server:
        victim = server.url(POSTS[2])

        def save_page(self: Store, page: Page, **kwargs: object) -> str:
            if page.url == victim:
                raise StoreError("injected: cannot write this page")
            return original(self, page, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Store, "save_page", save_page)
        with Store.open(db) as store:
            first = run(_config(workers=1), store, start=server.url("/"))
        assert first.counts["failed"] == 1
        assert POSTS[2] not in _posts(db, server.base_url)

        monkeypatch.setattr(Store, "save_page", original)
        server.clear_log()
        with Store.open(db) as store:
            second = run(_config(workers=1), store, mode="sync")
        victim_gets = [r for r in server.requests_for(POSTS[2]) if r.method == "GET"]
        # A third sync has nothing left to extract.
        with Store.open(db) as store:
            third = run(_config(workers=1), store, mode="sync")
        base = server.base_url
    assert len(victim_gets) == 1
    assert "if-none-match" in victim_gets[0].headers  # answered 304: nothing re-downloaded
    assert second.counts.get("fetched", 0) == 0
    assert second.counts["new"] == 1
    assert second.counts["failed"] == 0, second.failures
    assert _posts(db, base) == POSTS
    assert third.counts.get("new", 0) == 0
    assert third.counts.get("extracted_again", 0) == 0


def test_extract_offline_survives_a_killed_worker(tmp_path, monkeypatch):
    db = tmp_path / "m.db"
    with TestServer(demo_site_dir()) as server, Store.open(db) as store:
        run(_config(), store, start=server.url("/"))
        base = server.base_url
    killed: list[int] = []
    original = Store.iter_raw_pages

    def iter_raw_pages(self: Store) -> Iterator[RawPage]:
        for n, raw in enumerate(original(self)):
            if n == 8:  # pages are in flight in the workers now
                killed.append(_kill_one_worker())
            yield raw

    monkeypatch.setattr(Store, "iter_raw_pages", iter_raw_pages)
    with Store.open(db) as store:
        report = extract(_config(), store)
    assert killed
    assert report.counts["failed"] == 0, report.failures
    assert _posts(db, base) == POSTS


def test_pipeline_interrupted_crawl_leaves_no_asyncio_error(tmp_path, caplog):
    """Ctrl-C mid-crawl: the KeyboardInterrupt reaches the caller, and the crawl's task,
    once collected, makes asyncio log nothing (the CLI's stderr stays one line)."""
    calls = 0

    def progress(_counts: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt

    caplog.set_level(logging.WARNING, logger="asyncio")
    with (
        TestServer(demo_site_dir()) as server,
        Store.open(tmp_path / "m.db") as store,
        pytest.raises(KeyboardInterrupt),
    ):
        run(_config(), store, start=server.url("/"), progress=progress)
    gc.collect()  # the finished task is collected here: where asyncio would log
    assert calls == 2
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
