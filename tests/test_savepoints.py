"""The store's savepoints: named by nesting depth, each save still atomic on its own."""

from __future__ import annotations

import pytest

from migrator.errors import StoreError
from migrator.load import Store


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
