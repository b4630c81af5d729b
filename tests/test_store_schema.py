"""The schema sqlite-utils lays down equals the one old databases were upgraded into."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from migrator.load import Store
from test_load import V1_DDL


def structure(path: Path) -> dict[str, object]:
    """Every table's columns, foreign keys and indexes, every index's columns, and the
    names of triggers and views: what a query can tell apart, not how the DDL is spelt."""
    conn = sqlite3.connect(path)
    try:
        objects = conn.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        ).fetchall()
        shape: dict[str, object] = {"objects": objects}
        for kind, name, _ in objects:
            if kind == "table" and not name.startswith("pages_fts"):
                shape[f"{name} columns"] = conn.execute(f"PRAGMA table_xinfo({name})").fetchall()
                shape[f"{name} foreign keys"] = sorted(
                    conn.execute(f"PRAGMA foreign_key_list({name})").fetchall()
                )
                shape[f"{name} indexes"] = sorted(
                    (unique, origin, partial)
                    for _, _, unique, origin, partial in conn.execute(f"PRAGMA index_list({name})")
                )
            if kind == "index":
                shape[f"{name} index columns"] = conn.execute(
                    f"PRAGMA index_xinfo({name})"
                ).fetchall()
        return shape
    finally:
        conn.close()


def test_store_schema_fresh_equals_upgraded_from_v1(tmp_path):
    """A fresh database (sqlite-utils' table.create) and a version-1 file written with the
    historical DDL, upgraded, have the same columns, keys, indexes, triggers and views."""
    fresh, old = tmp_path / "fresh.db", tmp_path / "old.db"
    Store.open(fresh).close()
    conn = sqlite3.connect(old)
    conn.executescript(V1_DDL)
    conn.close()
    Store.open(old).close()
    assert structure(fresh) == structure(old)


def test_store_schema_child_rows_cascade_with_their_page(tmp_path):
    """The foreign keys sqlite-utils wrote keep ON DELETE CASCADE: a page's rows go with it."""
    path = tmp_path / "m.db"
    with Store.open(path) as store, store.transaction():
        store.db.execute(
            "INSERT INTO pages (url, content_hash, first_seen_at, last_seen_at, changed_at)"
            " VALUES ('https://x.test/a/', 'h', 't', 't', 't')"
        )
        store.db.execute("INSERT INTO breadcrumbs (page_id, position, label) VALUES (1, 0, 'A')")
        store.db.execute("DELETE FROM pages")
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM breadcrumbs").fetchone() == (0,)
    conn.close()
