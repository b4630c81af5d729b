"""Opening a migration database: pragmas, and the schema brought to ``SCHEMA_VERSION``.

Owns the upgrade transaction (all steps of ``schema.MIGRATIONS`` and the views, or
none) and the refusal to lay the schema over another application's tables or to open
a database written by a newer migrator. It must not read or write rows.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import structlog
from sqlite_utils import Database
from sqlite_utils.db import AlterError

from migrator.errors import StoreError
from migrator.store.schema import MIGRATIONS, SCHEMA_VERSION
from migrator.store.values import one_line
from migrator.store.views import create_views

__all__ = ["configure", "migrate"]

log = structlog.get_logger()


def configure(conn: sqlite3.Connection, db_path: Path) -> None:
    """Set the connection's pragmas: WAL, ``synchronous=NORMAL``, foreign keys, a
    30 s busy timeout.

    Raises:
        StoreError: the file is not a SQLite database, or cannot be opened.
    """
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
    except sqlite3.DatabaseError as exc:
        message = one_line(exc)
        if "not a database" in message or "malformed" in message:
            raise StoreError(f"{db_path} is not a SQLite database ({message})") from exc
        raise StoreError(f"cannot open database {db_path}: {message}") from exc
    if str(mode).lower() != "wal":
        log.warning("wal_unavailable", path=str(db_path), journal_mode=mode)


def migrate(db: Database, db_path: Path) -> None:
    """Bring the schema to SCHEMA_VERSION in one transaction (all steps or none).

    Raises:
        StoreError: the database is newer, belongs to something else, or a step failed
            (nothing of the upgrade is kept).
    """
    conn = db.conn
    try:
        version = _user_version(conn)
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{db_path} has schema version {version}, newer than this migrator's"
                f" {SCHEMA_VERSION}: upgrade migrator"
            )
        conn.execute("BEGIN IMMEDIATE")
        # Re-read under the write lock: a concurrent opener may have upgraded it.
        version = _user_version(conn)
        if version == 0:
            _check_empty(conn, db_path)
        for step in MIGRATIONS[version:]:
            step(db)
        if version < SCHEMA_VERSION:
            create_views(db)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except StoreError:
        _rollback(conn)
        raise
    except (sqlite3.Error, AlterError) as exc:
        _rollback(conn)
        message = one_line(exc)
        if "not a database" in message:
            raise StoreError(f"{db_path} is not a SQLite database ({message})") from exc
        raise StoreError(f"cannot upgrade database {db_path}: {message}") from exc
    if version < SCHEMA_VERSION:
        log.info("schema_migrated", path=str(db_path), from_version=version, to=SCHEMA_VERSION)


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _check_empty(conn: sqlite3.Connection, db_path: Path) -> None:
    """Refuse to lay the schema over some other application's tables."""
    row = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' LIMIT 1"
    ).fetchone()
    if row is not None:
        raise StoreError(
            f"{db_path} is a SQLite database of something else (it has a table {row[0]!r}"
            " and no migrator schema version)"
        )


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
