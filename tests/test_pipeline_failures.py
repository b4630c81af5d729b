"""Page-level failures cross process boundaries intact and never stop a run."""

from __future__ import annotations

import pickle
import sqlite3

import pytest

from migrator.config import Config, ExtractConfig
from migrator.errors import ExtractError, FetchError, RobotsDisallowed
from migrator.load import Store
from migrator.pipeline import run
from servers import Reply, TestServer, page


@pytest.mark.parametrize(
    "error",
    [
        ExtractError("https://h/p/", "binary"),
        FetchError("https://h/p/", "http_503", status=503, attempts=3),
        RobotsDisallowed("https://h/p/"),
    ],
)
def test_errors_survive_pickling(error):
    """Extraction workers and the sync fetch helper send these back pickled."""
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert vars(copy) == vars(error)
    assert str(copy) == str(error)


def test_pipeline_records_a_page_that_fails_in_a_worker(tmp_path):
    """A page that cannot be extracted (in a worker process) is logged and counted."""
    body = "".join(f"<p>Paragraph {i} of a perfectly ordinary post.</p>" for i in range(20))
    with TestServer() as server:
        server.script("/", Reply(body=page("Home", "/good/", "/broken/")))
        server.script("/good/", Reply(body=page("A good post", body=body)))
        server.script("/broken/", Reply(body=bytes(range(256)) * 40))
        config = Config().with_fetch(delay=0.0, concurrency=4, timeout=5.0, deadline=10.0)
        config = config.replace(extract=ExtractConfig(workers=1))
        with Store.open(tmp_path / "m.db") as store:
            report = run(config, store, start=server.url("/"))
    assert report.counts["failed"] == 1
    assert [url for url, _ in report.failures] == [server.url("/broken/")]
    with sqlite3.connect(tmp_path / "m.db") as conn:
        errors = conn.execute("SELECT url, stage, reason FROM errors").fetchall()
        titles = [r[0] for r in conn.execute("SELECT title FROM pages")]
    assert errors == [(server.url("/broken/"), "extract", "binary")]
    assert "A good post" in titles
