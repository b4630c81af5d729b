"""A crawl waiting on a chain of links (prev/next, pagination) hands each page on at once.

The writer lets a batch gather for a moment when outcomes trickle in; that wait is paid
once per link of a chain when the fetchers have nothing else to do, and a 1,000-page
pagination chain took 20 s more than it needed. With the frontier dry, the writer must
not wait: each page's links are what the fetchers wait for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archives import fast_config
from migrator.crawl import Crawl
from migrator.load import Store
from migrator.pipeline import run
from servers import Reply, Request, TestServer, page

DEPTH = 30


def _chain_server() -> TestServer:
    server = TestServer(None)

    def link(request: Request) -> Reply:
        n = int(request.path.rstrip("/").rsplit("/", 1)[-1])
        more = (f"/p/{n + 1}",) if n < DEPTH else ()
        return Reply(body=page(f"Page {n}", "/", *more, body=f"<p>{'word ' * 40}{n}</p>"))

    server.script("/", Reply(body=page("Home", "/p/0")))
    server.route("/p/", link)
    return server


@pytest.mark.slow
def test_a_chain_is_crawled_without_the_batch_wait(tmp_path: Path, monkeypatch):
    gathers: list[int] = []
    original = Crawl._gather

    async def counted(self: Crawl, batch: list) -> None:
        gathers.append(len(batch))
        await original(self, batch)

    monkeypatch.setattr(Crawl, "_gather", counted)
    with _chain_server() as server, Store.open(tmp_path / "chain.db") as store:
        run(fast_config(), store, start=server.base_url + "/")
        fetched = {r.path for r in server.requests if r.path.startswith("/p/")}
    assert fetched == {f"/p/{n}" for n in range(DEPTH + 1)}
    # Only one page is ever in flight: the frontier is dry after every claim, and the
    # writer never waits for a batch (it used to, once per page of the chain).
    assert len(gathers) <= 2, gathers
