"""Leaving no database behind: a first run whose start URL fails (unreachable, 404) or
whose configuration is refused deletes the database it created, and the folder it made.

A database that holds a fetched page is never deleted, nor one this process did not
create; a file that is not a readable SQLite database is not judged at all.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from migrator.errors import ConfigError

__all__ = ["discarded_on_usage_error", "remove_empty_database"]

# The database's own files: itself, SQLite's journals, the run lock's companion.
_FILE_SUFFIXES = ("", "-wal", "-shm", "-journal", ".lock")


@contextlib.contextmanager
def discarded_on_usage_error(db_path: str, *, first_run: bool) -> Iterator[None]:
    """Run a block that may create the database at ``db_path``; when it raises
    ``ConfigError`` and created the database (``first_run`` and no file before), the
    database is removed again if it holds no fetched page (:func:`remove_empty_database`).
    """
    created = first_run and not Path(db_path).exists()
    new_folder = not Path(db_path).absolute().parent.exists()
    try:
        yield
    except ConfigError:
        if created:
            remove_empty_database(db_path, new_folder=new_folder)
        raise


def remove_empty_database(db_path: str, *, new_folder: bool) -> None:
    """Delete a database (and its folder, when ``new_folder`` says it was made for it
    and it is left empty), when it holds no fetched page."""
    path = Path(db_path)
    if not path.exists():
        return
    try:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            if conn.execute("SELECT 1 FROM raw_pages LIMIT 1").fetchone() is not None:
                return
    except sqlite3.Error:
        return  # not ours to judge: leave it
    for suffix in _FILE_SUFFIXES:
        Path(db_path + suffix).unlink(missing_ok=True)
    if new_folder:
        with contextlib.suppress(OSError):
            path.absolute().parent.rmdir()
