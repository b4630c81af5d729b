"""Memory is bounded by the bytes of pages in flight, not only by their number."""

from __future__ import annotations

import sqlite3
import time

import pytest

import migrator.crawl as crawl
from migrator.config import Config, ExtractConfig
from migrator.load import Store
from migrator.models import RawPage
from migrator.pipeline import run
from servers import Reply, TestServer, page

pytestmark = pytest.mark.slow

MB = 1024 * 1024
POSTS = [f"/post-{n}/" for n in range(10)]


class _Recorded(crawl.ByteBudget):
    made: list[_Recorded] = []  # noqa: RUF012 - the test's registry of budgets

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.made.append(self)


@pytest.mark.parametrize("pages_in_budget", [2.5, 0.5], ids=["two-pages", "one-oversized"])
def test_pipeline_bytes_in_flight_stay_under_the_budget(tmp_path, monkeypatch, pages_in_budget):
    """~1 MB pages and a slow writer: the pages waiting for it never exceed the budget."""
    words = "A sentence of a long legacy post, repeated to make it big. "
    body = "".join(f"<p>{n} {words * 40}</p>" for n in range(450))  # ~1 MB
    limit = int(pages_in_budget * 2 * MB)  # a page takes about twice its body
    monkeypatch.setattr(crawl, "BYTES_IN_FLIGHT", limit)
    _Recorded.made = []
    monkeypatch.setattr(crawl, "ByteBudget", _Recorded)
    original = Store.save_fetch

    def slow_save_fetch(self: Store, item_url: str, raw: RawPage, **kwargs: object) -> None:
        time.sleep(0.1)  # a slow disk: fetched pages pile up behind the writer
        original(self, item_url, raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "save_fetch", slow_save_fetch)
    config = Config().with_fetch(delay=0.0, concurrency=4, timeout=10.0, deadline=30.0)
    config = config.replace(extract=ExtractConfig(workers=1))
    with TestServer() as server:
        server.script("/", Reply(body=page("Home", *POSTS)))
        for path in POSTS:
            server.script(path, Reply(body=page(path, body=body)))
        assert len(page("x", body=body)) > MB
        with Store.open(tmp_path / "m.db") as store:
            report = run(config, store, start=server.url("/"))
    assert report.counts["failed"] == 0, report.failures
    (budget,) = _Recorded.made
    assert budget.peak > 0
    assert budget.peak <= limit
    assert budget.used == 0  # every share given back
    with sqlite3.connect(tmp_path / "m.db") as conn:
        assert conn.execute("SELECT count(*) FROM pages").fetchone()[0] == len(POSTS) + 1
