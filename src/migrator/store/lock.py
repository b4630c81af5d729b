"""The run lock: one writer per migration database, across processes and names.

Owns ``flock`` on the database file's inode and the set of files this process holds.
It must not open SQLite connections.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from migrator.errors import StoreError, StoreLocked

__all__ = ["release_lock", "take_lock"]

# (st_dev, st_ino) of the databases this process holds the run lock of. A second
# Store.open of the same file in this process is refused from here, without opening
# the file again: closing any descriptor of a file drops every POSIX lock the process
# holds on it, SQLite's own included (sqlite.org/howtocorrupt.html, 2.2).
_HELD: set[tuple[int, int]] = set()


def take_lock(db_path: Path) -> int:
    """Take the run lock on the database file itself (``flock`` on its inode).

    The lock follows the file, not the name it was opened by: a symlink, a relative
    spelling or a hard link in another directory reaches the same inode, so it meets
    the same lock. ``flock`` and SQLite's POSIX byte-range locks are independent on
    local file systems. The descriptor stays open until the connection is closed.

    Returns:
        The locked file descriptor (give it back to :func:`release_lock`).

    Raises:
        StoreLocked: another process (or this one) holds the lock.
        StoreError: the file cannot be opened or locked.
    """
    try:
        known = os.stat(db_path)
    except FileNotFoundError:
        known = None
    except OSError as exc:
        raise StoreError(f"cannot open database {db_path}: {exc.strerror or exc}") from exc
    if known is not None and (known.st_dev, known.st_ino) in _HELD:
        raise StoreLocked(f"another migrator run is using {db_path}")
    fd = _open_for_lock(db_path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise StoreLocked(f"another migrator run is using {db_path}") from exc
    except OSError as exc:
        os.close(fd)
        raise StoreError(f"cannot lock {db_path}: {exc.strerror or exc}") from exc
    info = os.fstat(fd)
    _HELD.add((info.st_dev, info.st_ino))
    return fd


def _open_for_lock(db_path: Path) -> int:
    try:
        return os.open(db_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except PermissionError:
        try:  # a read-only database can still be locked (flock needs no write access)
            return os.open(db_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise StoreError(f"cannot open database {db_path}: {exc.strerror or exc}") from exc
    except OSError as exc:
        raise StoreError(f"cannot open database {db_path}: {exc.strerror or exc}") from exc


def release_lock(fd: int | None) -> None:
    """Drop the run lock taken by :func:`take_lock` (``None``: nothing to do)."""
    if fd is None:
        return
    with contextlib.suppress(OSError):
        info = os.fstat(fd)
        _HELD.discard((info.st_dev, info.st_ino))
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
