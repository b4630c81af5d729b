"""The store's connection: opening (run lock, pragmas, migrations), closing, and the
transactions every write goes through.

The connection runs in autocommit mode and the store issues ``BEGIN`` / ``SAVEPOINT``
itself. Every ``save_*`` call is atomic on its own (a savepoint, :meth:`_atomic`); the
pipeline's writer wraps many of them in :meth:`transaction` so one commit covers a
batch (a commit per page caps a pipeline near 66 pages/s on an ordinary disk). WAL mode
with ``synchronous=NORMAL`` keeps every committed batch across a process crash. The
same connection is wrapped in a ``sqlite_utils.Database`` (``db``) for schema work and
the upserts it serves. This module must not know any table but through ``migrate``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlite_utils import Database
from sqlite_utils.db import Table

from migrator.errors import StoreError
from migrator.store.lock import release_lock, take_lock
from migrator.store.migrate import configure, migrate
from migrator.store.values import one_line

__all__ = ["StoreBase", "last_id"]


class StoreBase:
    """The open database and its transactions; the rooms of ``Store`` build on it.

    Attributes:
        path: the database file.
        db: the same connection as a ``sqlite_utils.Database``.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, lock_fd: int | None) -> None:
        """Wrap an open connection; use :meth:`open` instead."""
        self._conn = conn
        self.path = path
        self.db = _database(conn)
        self._lock_fd = lock_fd
        self._run_id: int | None = None
        # Savepoints are named by nesting depth: a few distinct statements, each
        # prepared once (sqlite3's statement cache), instead of a new name per save.
        self._depth = 0

    @classmethod
    def open(cls, path: str | Path, *, lock: bool = True) -> Self:
        """Open (creating if needed) and upgrade the migration database at ``path``.

        Args:
            path: the database file; its parent directory is created.
            lock: take the exclusive run lock (``flock`` on the database file's inode,
                whatever name reaches it), so two runs or syncs never write the same
                database at once. Read-only tools may pass ``False``.

        Returns:
            The open store, schema at :data:`migrator.store.schema.SCHEMA_VERSION`.

        Raises:
            StoreLocked: another process holds the run lock.
            StoreError: the path cannot be created or written, is not a SQLite
                database, or was written by a newer migrator.
        """
        db_path = Path(path)
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the directory for database {db_path}: {exc.strerror or exc}"
            ) from exc
        lock_fd = take_lock(db_path) if lock else None
        try:
            conn = sqlite3.connect(
                db_path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except sqlite3.Error as exc:
            release_lock(lock_fd)
            raise StoreError(f"cannot open database {db_path}: {one_line(exc)}") from exc
        try:
            configure(conn, db_path)
            migrate(_database(conn), db_path)
        except BaseException:
            conn.close()
            release_lock(lock_fd)
            raise
        return cls(conn, db_path, lock_fd)

    def close(self) -> None:
        """Close the connection and release the run lock (idempotent)."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                # Fold the WAL back so the .db file alone is a complete copy.
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()
            self._conn = None  # type: ignore[assignment]
        release_lock(self._lock_fd)
        self._lock_fd = None

    def __enter__(self) -> Self:
        """Return the store itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()

    @property
    def schema_version(self) -> int:
        """The database's ``PRAGMA user_version``."""
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only SQL statement and return its rows as tuples (for reports)."""
        return [tuple(r) for r in self._conn.execute(sql, tuple(params))]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one transaction: commit on success, roll back on error.

        Nested use becomes a savepoint. Each ``save_*`` inside is atomic on its own, so a
        caller that catches one page's error keeps the rest of the batch.

        Raises:
            StoreError: the commit failed (disk full, read-only file…).
        """
        if self._conn.in_transaction:
            with self._atomic():
                yield
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to {self.path}: {one_line(exc)}") from exc
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise StoreError(f"cannot commit to {self.path}: {one_line(exc)}") from exc

    @contextlib.contextmanager
    def _atomic(self) -> Iterator[sqlite3.Connection]:
        """One save: a savepoint (which starts and commits a transaction when alone)."""
        depth = self._depth
        name = f"sp{depth}"
        conn = self._conn
        conn.execute(f"SAVEPOINT {name}")
        self._depth = depth + 1
        try:
            try:
                yield conn
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"database write failed: {one_line(exc)}") from exc
                raise
            try:
                conn.execute(f"RELEASE {name}")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot commit to {self.path}: {one_line(exc)}") from exc
        finally:
            self._depth = depth


def _database(conn: sqlite3.Connection) -> Database:
    """``conn`` as a sqlite-utils ``Database`` that changes nothing on it: no
    ``recursive_triggers`` (the FTS and cascade triggers are written for the default),
    no plugins."""
    return Database(conn, recursive_triggers=False, execute_plugins=False)


def last_id(table: Table) -> int:
    """The id of the row ``table.insert`` just wrote.

    Raises:
        StoreError: sqlite-utils reports no row (the insert wrote nothing).
    """
    if table.last_pk is None:
        raise StoreError(f"database write failed: no row inserted into {table.name}")
    return int(table.last_pk)
