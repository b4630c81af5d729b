"""Store writes on a crawl's hot path: savepoints named by nesting depth (each save still
atomic on its own), a stored answer's crawl state written without its body again, and
the learning sample read without reading every stored body."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from migrator.errors import StoreError
from migrator.load import Store
from migrator.models import RawPage


def _insert_twice(store: Store, x: int) -> None:
    with store._atomic() as conn:
        conn.execute("INSERT INTO t VALUES (?)", (x + 1,))
        conn.execute("INSERT INTO t VALUES (?)", (x,))  # a constraint error


def _fail_after_insert(store: Store, x: int) -> None:
    with store._atomic() as conn:
        conn.execute("INSERT INTO t VALUES (?)", (x,))
        raise ValueError("not a store error")


def test_savepoints_nest_and_roll_back_only_the_failed_save(tmp_path):
    with Store.open(tmp_path / "m.db") as store:
        conn = store._conn
        conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        with store.transaction():
            with store._atomic():
                conn.execute("INSERT INTO t VALUES (1)")
                with pytest.raises(StoreError, match="database write failed"):
                    _insert_twice(store, 1)
                assert store._depth == 1
                with store._atomic():  # the same name again, one level down
                    conn.execute("INSERT INTO t VALUES (3)")
            with pytest.raises(ValueError, match="not a store error"):
                _fail_after_insert(store, 4)
            assert store._depth == 0
        assert not conn.in_transaction
        assert [x for (x,) in conn.execute("SELECT x FROM t ORDER BY x")] == [1, 3]


def test_savepoint_names_do_not_grow(tmp_path):
    """Thousands of saves use a handful of statements (sqlite3 caches them by text)."""
    with Store.open(tmp_path / "m.db") as store:
        statements: set[str] = set()
        store._conn.set_trace_callback(statements.add)
        with store.transaction():
            for _ in range(100):
                with store._atomic(), store._atomic():
                    pass
        store._conn.set_trace_callback(None)
        assert statements - {"BEGIN IMMEDIATE", "COMMIT"} == {
            "SAVEPOINT sp0",
            "SAVEPOINT sp1",
            "RELEASE sp0",
            "RELEASE sp1",
        }


def _raw(url: str, redirected_from: str) -> RawPage:
    return RawPage(
        url=url,
        requested_url=redirected_from,
        status=200,
        headers=(("content-type", "text/html"), ("etag", '"v1"')),
        body=b"<html><body>" + b"a page long enough to be compressed " * 40 + b"</body></html>",
        redirects=(redirected_from,),
        redirect_statuses=(301,),
        fetched_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


def _state(store: Store) -> list[tuple[object, ...]]:
    return store._conn.execute(
        "SELECT url, state, last_status, etag, final_url, page_type FROM crawl_state ORDER BY url"
    ).fetchall()


def test_save_fetch_of_a_stored_answer_writes_the_same_state_but_not_the_body(tmp_path):
    """A page stored before the model and typed once extracted: the crawl state is the
    one a full save gives, and the raw_pages row is left as it was (not packed again)."""
    raw = _raw("http://a.example/p/", "http://a.example/old/")
    with Store.open(tmp_path / "full.db") as full, Store.open(tmp_path / "light.db") as light:
        for store in (full, light):
            store.save_fetch("http://a.example/old/", raw)
        before = light._conn.execute("SELECT rowid, body, body_codec FROM raw_pages").fetchall()
        full.save_fetch("http://a.example/old/", raw, page_type="post")
        statements: list[str] = []
        light._conn.set_trace_callback(statements.append)
        light.save_fetch("http://a.example/old/", raw, page_type="post", stored=True)
        light._conn.set_trace_callback(None)
        assert not [sql for sql in statements if "raw_pages" in sql]
        assert _state(light) == _state(full)
        assert ("http://a.example/p/", "fetched", 200, '"v1"', "http://a.example/p/", "post") in (
            _state(light)
        )
        after = light._conn.execute("SELECT rowid, body, body_codec FROM raw_pages").fetchall()
        assert after == before
        assert before[0][2] == "zlib"
        stored = light.raw_page("http://a.example/p/")
        assert stored is not None
        assert stored.body == raw.body
        aliases = "SELECT url, target_url, kind, status FROM aliases"
        assert light._conn.execute(aliases).fetchall() == full._conn.execute(aliases).fetchall()


def test_sample_raw_pages_is_the_sample_whole_rows_gave(tmp_path):
    with Store.open(tmp_path / "m.db") as store:
        for n in range(40):
            url = f"http://a.example/p{n}/"
            raw = _raw(url, url)
            if n % 7 == 0:
                raw = replace(raw, status=404)
            if n % 5 == 0:
                raw = replace(raw, headers=(("content-type", "image/png"),))
            store.save_fetch(url, raw)
        old = store._conn.execute(
            "SELECT url FROM raw_pages WHERE status BETWEEN 200 AND 299"
            " AND (content_type IS NULL OR content_type IN ('text/html', 'application/xhtml+xml'))"
            " ORDER BY (id * 2654435761) % 4294967291 LIMIT ?",
            (12,),
        ).fetchall()
        sample = store.sample_raw_pages(12)
        assert [raw.url for raw in sample] == [url for (url,) in old]
        assert len(sample) == 12
        assert len(store.sample_raw_pages(100)) == 40 - 6 - 8 + 2  # 404s, images, both


def test_extraction_tags_stream_without_holding_every_page(tmp_path):
    """The end of a run reads every stored page's tag twice: streamed, the first row
    costs the same memory on a big site as on a small one (a list of every row grew a
    100,000-post run's peak by 22 MB)."""

    def first_row_cost(store: Store) -> int:
        tracemalloc.start()
        try:
            tags = store.extraction_tags()
            first = next(tags)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert first[1].startswith("http://a.example/")
        tags.close()
        return peak

    with Store.open(tmp_path / "m.db") as store:
        raw = _raw("http://a.example/p0/", "http://a.example/p0/")
        store.save_fetch(raw.url, raw)
        row = store._conn.execute(
            "SELECT requested_url, status, headers, content_type, body, body_bytes, fetched_at"
            " FROM raw_pages"
        ).fetchone()

        def add(first: int, last: int) -> None:
            with store.transaction():
                store._conn.executemany(
                    "INSERT INTO raw_pages (url, requested_url, status, headers, content_type,"
                    " body, body_bytes, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    ((f"http://a.example/p{n}/", *row) for n in range(first, last)),
                )

        add(1, 100)
        small = first_row_cost(store)
        add(100, 30_000)
        big = first_row_cost(store)
        assert sum(1 for _ in store.extraction_tags()) == 30_000
        store.save_fetch(raw.url, raw)  # the connection writes again once the stream ended
    assert big < small + 200_000  # every row of the 30,000 held: ~4 MB
