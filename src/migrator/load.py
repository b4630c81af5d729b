"""The load stage: ``Store``, the SQLite migration database.

``Store`` owns every read and write of the database: opening it (run lock, pragmas,
schema migrations from ``schema.py``), the crawl frontier that makes a run resumable
after ``kill -9``, raw answers, extracted pages with their child rows, version history,
runs and errors. It takes models in and gives models out; no ``sqlite3`` row or cursor
leaves this module. It must not fetch, parse HTML or decide what to crawl.

Transactions: the connection runs in autocommit mode and ``Store`` issues ``BEGIN`` /
``SAVEPOINT`` itself. Every ``save_*`` call is atomic on its own (a savepoint); the
pipeline's writer wraps many of them in ``transaction()`` so one commit covers a batch
(a commit per page caps a pipeline near 66 pages/s on an ordinary disk). WAL mode with
``synchronous=NORMAL`` keeps every committed batch across a process crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import structlog

from migrator.errors import StoreError, StoreLocked
from migrator.models import Discovered, Page, RawPage, SiteModel, iso, record_hash
from migrator.schema import MIGRATIONS, SCHEMA_VERSION, VIEWS
from migrator.version import __version__

__all__ = ["CrawlItem", "SaveResult", "Store", "StoredAsset"]

log = structlog.get_logger()

SaveResult = Literal["new", "changed", "unchanged", "aliased"]
RunMode = Literal["run", "sync", "extract", "fetch"]
RunStatus = Literal["ok", "failed", "aborted", "interrupted"]

_COUNT_COLUMNS = (
    "discovered",
    "fetched",
    "not_modified",
    "new",
    "changed",
    "unchanged",
    "removed",
    "failed",
    "skipped",
)
# zlib level 1 measured on the real-world corpus (39 pages, 106 kB mean): 4.2x smaller
# at 0.6 ms a page to compress and 0.3 ms to decompress; level 6 gains 15 % more for
# twice the time. Tiny bodies are left alone: the header costs more than it saves.
_ZLIB_LEVEL = 1
_COMPRESS_MIN_BYTES = 512
_HTML_TYPES = ("text/html", "application/xhtml+xml")
# Fetch failures after which a canonical target is given up (save_failure).
_GONE_STATUSES = frozenset({401, 403, 404, 410})
_BLOCKED_REASONS = frozenset(
    {"robots_disallowed", "unwanted_content_type", "redirect_out_of_scope"}
)
_RAW_CHUNK = 64  # raw pages read per query by iter_raw_pages (bounded memory)


@dataclass(frozen=True, slots=True, kw_only=True)
class CrawlItem:
    """One URL claimed from the frontier, with what a conditional re-fetch needs.

    Attributes:
        url: the URL to fetch (canonical).
        depth: link hops from a start URL or sitemap entry.
        via: how it was found (``start``, ``sitemap``, ``link``…), ``None`` if unknown.
        referrer: the page, sitemap or feed that listed it.
        lastmod: the newest sitemap ``<lastmod>`` seen for it.
        etag: the ``ETag`` of the last stored answer, for ``If-None-Match``.
        last_modified: its ``Last-Modified``, for ``If-Modified-Since``.
        attempts: how many times it was claimed before this claim (a URL that keeps
            coming back after crashes shows here).
    """

    url: str
    depth: int = 0
    via: str | None = None
    referrer: str | None = None
    lastmod: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    attempts: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAsset:
    """An asset (image) the export downloaded.

    Attributes:
        url: the original URL on the legacy site.
        content_hash: SHA-256 of the bytes (assets with equal bytes share a file).
        file_name: the safe file name it was saved under.
        content_type: the media type the server sent.
        bytes: the size.
        fetched_at: when it was downloaded (ISO 8601, UTC).
    """

    url: str
    content_hash: str
    file_name: str
    content_type: str | None = None
    bytes: int = 0
    fetched_at: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _stamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class Store:
    """The migration database. Open it with :meth:`Store.open`; use it from one thread.

    Attributes:
        path: the database file.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, lock_fd: int | None) -> None:
        """Wrap an open connection; use :meth:`Store.open` instead."""
        self._conn = conn
        self.path = path
        self._lock_fd = lock_fd
        self._run_id: int | None = None
        self._savepoints = itertools.count()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | Path, *, lock: bool = True) -> Store:
        """Open (creating if needed) and upgrade the migration database at ``path``.

        Args:
            path: the database file; its parent directory is created.
            lock: take the exclusive run lock (``flock`` on the database file's inode,
                whatever name reaches it), so two runs or syncs never write the same
                database at once. Read-only tools may pass ``False``.

        Returns:
            The open store, schema at :data:`schema.SCHEMA_VERSION`.

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
        lock_fd = _take_lock(db_path) if lock else None
        try:
            conn = sqlite3.connect(
                db_path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except sqlite3.Error as exc:
            _release_lock(lock_fd)
            raise StoreError(f"cannot open database {db_path}: {_one_line(exc)}") from exc
        try:
            _configure(conn, db_path)
            _migrate(conn, db_path)
        except BaseException:
            conn.close()
            _release_lock(lock_fd)
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
        _release_lock(self._lock_fd)
        self._lock_fd = None

    def __enter__(self) -> Store:
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

    # ------------------------------------------------------------------ transactions

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
            raise StoreError(f"cannot write to {self.path}: {_one_line(exc)}") from exc
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
            raise StoreError(f"cannot commit to {self.path}: {_one_line(exc)}") from exc

    @contextlib.contextmanager
    def _atomic(self) -> Iterator[sqlite3.Connection]:
        """One save: a savepoint (which starts and commits a transaction when alone)."""
        name = f"sp{next(self._savepoints)}"
        conn = self._conn
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"database write failed: {_one_line(exc)}") from exc
            raise
        try:
            conn.execute(f"RELEASE {name}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot commit to {self.path}: {_one_line(exc)}") from exc

    # ------------------------------------------------------------------ runs

    def start_run(
        self,
        mode: RunMode,
        *,
        config_hash: str,
        start_url: str | None,
        source: str | None = None,
    ) -> int:
        """Record the start of a run and make it the current one.

        Runs left ``running`` by a killed process are marked ``interrupted`` first: the
        run lock guarantees no live process owns them. ``source`` is the archive the run
        reads (its options as JSON, see ``migrator.sources``); ``None`` for the live site.

        Returns:
            The new run's id (bound to errors, versions and pages it writes).
        """
        now = _now()
        with self._atomic() as conn:
            conn.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
                (now,),
            )
            cur = conn.execute(
                "INSERT INTO runs (mode, status, config_hash, start_url, started_at,"
                " migrator_version, source) VALUES (?, 'running', ?, ?, ?, ?, ?)",
                (mode, config_hash, start_url, now, __version__, source),
            )
        run_id = int(cur.lastrowid or 0)
        self._run_id = run_id
        return run_id

    def finish_run(self, run_id: int, *, status: RunStatus, counts: Mapping[str, int]) -> None:
        """Record a run's outcome and counts (known counts get columns, all go to JSON)."""
        known = [int(counts.get(name, 0)) for name in _COUNT_COLUMNS]
        sets = ", ".join(f"{name} = ?" for name in _COUNT_COLUMNS)
        with self._atomic() as conn:
            conn.execute(
                f"UPDATE runs SET status = ?, finished_at = ?, counts = ?, {sets} WHERE id = ?",
                (status, _now(), _dumps(dict(counts)), *known, run_id),
            )
        if self._run_id == run_id:
            self._run_id = None

    def last_start_url(self) -> str | None:
        """The start URL of the database's first run that had one, or ``None``."""
        row = self._conn.execute(
            "SELECT start_url FROM runs WHERE start_url IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    def last_source(self) -> str | None:
        """The archive the latest crawl (run, fetch or sync; not ``extract``) read
        (``runs.source``), ``None`` when it read the live site, or there was none."""
        row = self._conn.execute(
            "SELECT source FROM runs WHERE mode IN ('run', 'fetch', 'sync')"
            " ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def capture_dates(self) -> dict[str, datetime]:
        """When the stored answer each known URL leads to was fetched or captured (a
        redirect's URL maps to its target's answer): an archive sync's baseline."""
        rows = self._conn.execute(
            "SELECT c.url, r.fetched_at FROM crawl_state AS c"
            " JOIN raw_pages AS r ON r.url = coalesce(c.final_url, c.url)"
        )
        return {str(url): datetime.fromisoformat(str(at)) for url, at in rows}

    # ------------------------------------------------------------------ frontier

    def add_urls(self, items: Iterable[Discovered]) -> int:
        """Queue newly discovered URLs; known ones only gain a newer sitemap lastmod.

        Returns:
            How many URLs were new.
        """
        rows = [(d.url, d.via, d.referrer, d.depth, d.lastmod) for d in items]
        if not rows:
            return 0
        now = _now()
        with self._atomic() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO crawl_state (url, state, via, referrer, depth, lastmod,"
                f" first_seen_at) VALUES (?, 'queued', ?, ?, ?, ?, '{now}')",
                rows,
            )
            added = conn.total_changes - before
            dated = [(lastmod, url) for url, _, _, _, lastmod in rows if lastmod]
            if dated:
                conn.executemany(
                    "UPDATE crawl_state SET lastmod = ?1 WHERE url = ?2"
                    " AND (lastmod IS NULL OR lastmod < ?1)",
                    dated,
                )
            # Microseconds: a sync starting in the same second as the last listing
            # must not count that listing as its own (queue_for_sync's listed_since).
            seen = datetime.now(UTC).isoformat(timespec="microseconds")
            listed = [(seen, url) for url, via, _, _, _ in rows if via == "sitemap"]
            if listed:
                conn.executemany("UPDATE crawl_state SET listed_at = ? WHERE url = ?", listed)
        return added

    def claim(self, limit: int, *, spread: bool = False) -> list[CrawlItem]:
        """Take up to ``limit`` queued URLs (shallowest first) and mark them in progress.

        Args:
            limit: how many at most.
            spread: within the shallowest depth, take URLs spread over the whole frontier
                (a multiplicative hash of the id) instead of in discovery order: the
                pages a site model first learns from then show every template and URL
                shape of a sitemap, not only its first (newest or oldest) entries.
        """
        if limit <= 0:
            return []
        order = "depth, (id * 2654435761) % 4294967291" if spread else "depth, id"
        with self._atomic() as conn:
            rows = conn.execute(
                "UPDATE crawl_state SET state = 'in_progress', attempts = attempts + 1"
                " WHERE id IN (SELECT id FROM crawl_state WHERE state = 'queued'"
                f" ORDER BY {order} LIMIT ?)"
                " RETURNING depth, id, url, via, referrer, lastmod, etag, last_modified,"
                " attempts - 1",
                (limit,),
            ).fetchall()
        rows.sort(key=lambda r: (r[0], r[1]))  # RETURNING order is unspecified
        return [
            CrawlItem(
                url=r[2],
                depth=r[0],
                via=r[3],
                referrer=r[4],
                lastmod=r[5],
                etag=r[6],
                last_modified=r[7],
                attempts=r[8],
            )
            for r in rows
        ]

    def requeue_in_progress(self) -> int:
        """Put URLs a killed run left ``in_progress`` back in the queue; return how many."""
        with self._atomic() as conn:
            cur = conn.execute(
                "UPDATE crawl_state SET state = 'queued' WHERE state = 'in_progress'"
            )
        return cur.rowcount

    def queue_for_sync(
        self,
        *,
        trust_lastmod: bool = False,
        listed_since: str | None = None,
        checked_before: str | None = None,
    ) -> int:
        """Queue every known URL again (fetched, failed, listings) for a re-sync.

        The stored ``etag``/``last_modified`` stay, so the re-fetch is conditional.

        Args:
            trust_lastmod: skip URLs whose sitemap ``lastmod`` is the one their stored
                copy was fetched under and that the sitemap still lists (listed at or
                after ``listed_since``, the start of this sync's discovery).
            listed_since: ISO 8601 time; required with ``trust_lastmod``.
            checked_before: resume an interrupted sync: queue only URLs not answered
                since this ISO 8601 time (see :meth:`unfinished_sync_since`); failed
                URLs are always queued again.

        Returns:
            How many URLs were queued again.
        """
        sql = "UPDATE crawl_state SET state = 'queued' WHERE state IN ('fetched', 'failed')"
        params: tuple[str, ...] = ()
        if trust_lastmod and listed_since is not None:
            sql += (
                " AND NOT (state = 'fetched' AND lastmod IS NOT NULL"
                " AND lastmod IS fetched_lastmod AND listed_at >= ?)"
            )
            params = (listed_since,)
        if checked_before is not None:
            sql += " AND NOT (state = 'fetched' AND last_fetched_at >= ?)"
            params = (*params, checked_before)
        with self._atomic() as conn:
            cur = conn.execute(sql, params)
        return cur.rowcount

    def unfinished_sync_since(self) -> str | None:
        """When the sync that never finished began, if the last runs are such syncs.

        A sync killed (``running`` left behind) or interrupted (SIGTERM, Ctrl-C) has
        re-checked part of the site; the next sync re-checks only what was answered
        before that time. Several cut-short syncs in a row count from the first one,
        so a sync that keeps being cut short still reaches the end of the site. Call
        before :meth:`start_run`.

        Returns:
            The ``started_at`` (ISO 8601) of the first of the trailing unfinished syncs,
            or ``None`` when the last run is anything else (a sync that finished, a
            ``run``), and a sync starts over.
        """
        since: str | None = None
        rows = self._conn.execute("SELECT mode, status, started_at FROM runs ORDER BY id DESC")
        for mode, status, started_at in rows:
            if mode != "sync" or status not in ("running", "interrupted"):
                break
            since = str(started_at)
        return since

    def crawl_counts(self) -> dict[str, int]:
        """How many URLs are in each crawl state (``queued``, ``fetched``…)."""
        rows = self._conn.execute("SELECT state, count(*) FROM crawl_state GROUP BY state")
        return {str(state): int(n) for state, n in rows}

    # ------------------------------------------------------------------ raw answers

    def save_fetch(self, item_url: str, raw: RawPage, *, page_type: str | None = None) -> None:
        """Store one HTTP answer and mark the URL fetched.

        The body is zlib-compressed (level 1) when that makes it smaller. Every URL the
        request passed through becomes a ``redirect`` alias of the final URL, and the
        final URL is marked fetched too so the crawl does not fetch it again.

        Args:
            item_url: the frontier URL that was claimed.
            raw: the answer.
            page_type: the extracted page type, when known.
        """
        body, codec = _pack(raw.body)
        fetched_at = _stamp(raw.fetched_at)
        etag, last_modified = raw.header("etag"), raw.header("last-modified")
        headers = _dumps([list(pair) for pair in raw.headers])
        with self._atomic() as conn:
            conn.execute(
                "INSERT INTO raw_pages (url, requested_url, status, headers, content_type, body,"
                " body_codec, body_bytes, redirects, fetched_at, checked_at, elapsed_ms, etag,"
                " last_modified, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (url) DO UPDATE SET requested_url = excluded.requested_url,"
                " status = excluded.status, headers = excluded.headers,"
                " content_type = excluded.content_type, body = excluded.body,"
                " body_codec = excluded.body_codec, body_bytes = excluded.body_bytes,"
                " redirects = excluded.redirects, fetched_at = excluded.fetched_at,"
                " checked_at = excluded.checked_at, elapsed_ms = excluded.elapsed_ms,"
                " etag = excluded.etag, last_modified = excluded.last_modified,"
                " source = excluded.source",
                (
                    raw.url,
                    raw.requested_url,
                    raw.status,
                    headers,
                    raw.content_type,
                    body,
                    codec,
                    len(raw.body),
                    _dumps(list(raw.redirects)),
                    fetched_at,
                    fetched_at,
                    raw.elapsed_ms,
                    etag,
                    last_modified,
                    raw.source,
                ),
            )
            fetched = (
                "state = 'fetched', last_fetched_at = ?, last_status = ?, etag = ?,"
                " last_modified = ?, final_url = ?, page_type = coalesce(?, page_type),"
                " fetched_lastmod = lastmod"
            )
            values = (fetched_at, raw.status, etag, last_modified, raw.url, page_type)
            for url in dict.fromkeys((item_url, raw.url)):
                conn.execute(
                    "INSERT INTO crawl_state (url, state, first_seen_at) VALUES (?, 'fetched', ?)"
                    f" ON CONFLICT (url) DO UPDATE SET {fetched}",
                    (url, fetched_at, *values),
                )
            passed = dict.fromkeys((raw.requested_url, item_url, *raw.redirects))
            hops = [u for u in passed if u != raw.url]
            if hops:
                conn.executemany(
                    f"UPDATE crawl_state SET {fetched} WHERE url = ? AND state = 'queued'",
                    [(*values, u) for u in hops],
                )
                status = dict(zip(raw.redirects, raw.redirect_statuses, strict=False))
                conn.executemany(
                    "INSERT INTO aliases (url, target_url, page_id, kind, first_seen_at,"
                    " last_seen_at, status) VALUES (?1, ?2, (SELECT id FROM pages WHERE"
                    " url = ?2), 'redirect', ?3, ?3, ?4) ON CONFLICT (url) DO UPDATE SET"
                    " target_url = excluded.target_url, page_id = excluded.page_id,"
                    " kind = excluded.kind, last_seen_at = excluded.last_seen_at,"
                    " status = coalesce(excluded.status, aliases.status)",
                    [(u, raw.url, fetched_at, status.get(u)) for u in hops],
                )

    def save_not_modified(self, url: str, fetched_at: datetime) -> None:
        """Record a 304 answer: the URL is fetched and its page was seen again."""
        self.save_not_modified_many([(url, fetched_at)])

    def save_not_modified_many(
        self, answers: Sequence[tuple[str, datetime]], *, status: int = 304
    ) -> None:
        """Record many 304 answers at once (a nightly sync is mostly these).

        Three statements for the whole batch instead of three per URL: on a sync with
        nothing changed this was the largest cost of the database thread.

        Args:
            answers: ``(url, fetched_at)`` pairs.
            status: the answers' status: 304, or 200 for a body identical to the
                stored one (a server without validators).
        """
        if not answers:
            return
        rows = [(_stamp(at), url, status) for url, at in answers]
        final = "(SELECT coalesce(final_url, url) FROM crawl_state WHERE url = ?2)"
        with self._atomic() as conn:
            conn.executemany(
                "UPDATE crawl_state SET state = 'fetched', last_fetched_at = ?1,"
                " last_status = ?3, fetched_lastmod = lastmod WHERE url = ?2",
                rows,
            )
            conn.executemany(
                f"UPDATE raw_pages SET checked_at = ?1 WHERE url = {final}",
                [(at, url) for at, url, _ in rows],
            )
            conn.executemany(
                "UPDATE pages SET last_seen_at = ?1, removed_at = NULL, run_id = ?3"
                f" WHERE url IN (?2, {final})",
                [(at, url, self._run_id) for at, url, _ in rows],
            )

    def save_failure(
        self,
        url: str,
        *,
        stage: Literal["fetch", "extract", "load"],
        reason: str,
        status: int | None,
        attempts: int,
    ) -> None:
        """Record a page-level failure in ``errors`` and mark the URL ``failed``.

        One ``errors`` row per run, URL and stage: a repeat within a run updates it.
        """
        now = _now()
        with self._atomic() as conn:
            conn.execute(
                "INSERT INTO errors (run_id, url, stage, status, reason, attempts,"
                " first_failed_at, last_tried_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (ifnull(run_id, 0), url, stage) DO UPDATE SET"
                " status = excluded.status, reason = excluded.reason,"
                " attempts = errors.attempts + excluded.attempts,"
                " last_tried_at = excluded.last_tried_at",
                (self._run_id, url, stage, status, reason, attempts, now, now),
            )
            conn.execute(
                "INSERT INTO crawl_state (url, state, first_seen_at, last_status)"
                " VALUES (?, 'failed', ?, ?) ON CONFLICT (url) DO UPDATE SET"
                " state = 'failed', last_status = coalesce(excluded.last_status, last_status)",
                (url, now, status),
            )
            if stage == "fetch" and (status in _GONE_STATUSES or reason in _BLOCKED_REASONS):
                # A canonical target that will not come: the pages that named it are
                # fetched again and stored under their own URLs (save_canonical_alias
                # refuses a failed target), so their content is not lost.
                sources = conn.execute(
                    "DELETE FROM aliases WHERE target_url = ? AND kind = 'canonical' RETURNING url",
                    (url,),
                ).fetchall()
                conn.executemany("UPDATE crawl_state SET state = 'queued' WHERE url = ?", sources)

    def save_listing(self, url: str, page_type: str, *, version: str | None = None) -> None:
        """Remember that ``url`` is a listing (index, archive, pagination), not content.

        ``version``: the ``extractor_version`` that typed it (so a later model knows
        whether to look again).
        """
        with self._atomic() as conn:
            conn.execute(
                "INSERT INTO crawl_state (url, state, first_seen_at, page_type, extracted_with)"
                " VALUES (?, 'fetched', ?, ?, ?) ON CONFLICT (url) DO UPDATE SET"
                " page_type = excluded.page_type, extracted_with = excluded.extracted_with",
                (url, _now(), page_type, version),
            )
            conn.execute(
                "UPDATE crawl_state SET page_type = ? WHERE final_url = ? AND url != ?",
                (page_type, url, url),
            )
            # Stored as content by an earlier extraction: it is a listing after all.
            conn.execute("UPDATE pages SET page_type = ? WHERE url = ?", (page_type, url))

    def save_canonical_alias(self, url: str, target: str, *, depth: int = 0) -> bool:
        """Keep ``url`` as a ``canonical`` alias of ``target`` instead of storing it twice.

        A page fetched at ``url`` whose ``rel=canonical`` names ``target`` is the same
        page: it is stored once, under ``target``. When ``target`` is not known yet it
        is queued (``via="canonical"``) and the alias waits for it. The alias is
        refused, so the caller stores the page under its own URL, when ``target`` is
        itself an alias (a loop, or a chain), when ``target`` already failed, or when
        ``url`` already holds a stored page.

        Args:
            url: the fetched (final) URL.
            target: its in-scope canonical URL, different from ``url``.
            depth: the crawl depth of ``url`` (the target is queued one hop deeper).

        Returns:
            ``True`` when the alias was recorded and the page must not be stored.
        """
        if url == target:
            return False
        now = _now()
        with self._atomic() as conn:
            refused = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM aliases WHERE url = ?1)"
                " OR EXISTS (SELECT 1 FROM crawl_state WHERE url = ?1 AND state = 'failed')"
                " OR EXISTS (SELECT 1 FROM pages WHERE url = ?2)",
                (target, url),
            ).fetchone()[0]
            if refused:
                return False
            conn.execute(
                "INSERT INTO aliases (url, target_url, page_id, kind, first_seen_at,"
                " last_seen_at) VALUES (?1, ?2, (SELECT id FROM pages WHERE url = ?2),"
                " 'canonical', ?3, ?3) ON CONFLICT (url) DO UPDATE SET"
                " target_url = excluded.target_url, page_id = excluded.page_id,"
                " kind = excluded.kind, last_seen_at = excluded.last_seen_at",
                (url, target, now),
            )
            conn.execute(
                "INSERT OR IGNORE INTO crawl_state (url, state, via, referrer, depth,"
                " first_seen_at) VALUES (?, 'queued', 'canonical', ?, ?, ?)",
                (target, url, depth + 1, now),
            )
        return True

    def save_part(self, main_url: str, part: int, url: str, content: str) -> None:
        """Keep page ``part`` of the post at ``main_url`` (its body as JSON); its URL
        becomes an alias (kind ``part``) of the post, and no ``pages`` row of its own."""
        now = _now()
        with self._atomic() as conn:
            conn.execute(
                "INSERT INTO page_parts (main_url, part, url, content) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (main_url, part) DO UPDATE SET url = excluded.url,"
                " content = excluded.content",
                (main_url, part, url, content),
            )
            conn.execute(
                "INSERT INTO aliases (url, target_url, page_id, kind, first_seen_at,"
                " last_seen_at) VALUES (?1, ?2, (SELECT id FROM pages WHERE url = ?2),"
                " 'part', ?3, ?3) ON CONFLICT (url) DO UPDATE SET"
                " target_url = excluded.target_url, page_id = excluded.page_id,"
                " kind = excluded.kind, last_seen_at = excluded.last_seen_at",
                (url, main_url, now),
            )
            # Stored as a page of its own by an earlier extraction: not any more.
            conn.execute("DELETE FROM pages WHERE url = ?", (url,))

    def parts(self, main_url: str) -> list[str]:
        """The stored later parts of a split post, in page order (``save_part`` JSON)."""
        rows = self._conn.execute(
            "SELECT content FROM page_parts WHERE main_url = ? AND part >= 2 ORDER BY part",
            (main_url,),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def save_shortlink(self, url: str, target: str) -> None:
        """Keep ``url`` (a page's ``rel=shortlink``) as an alias of the page at ``target``.

        An alias already known under another kind (a redirect seen while crawling) is
        kept as it is: that is what the server answered.
        """
        now = _now()
        with self._atomic() as conn:
            conn.execute(
                "INSERT INTO aliases (url, target_url, page_id, kind, first_seen_at,"
                " last_seen_at) VALUES (?1, ?2, (SELECT id FROM pages WHERE url = ?2),"
                " 'shortlink', ?3, ?3) ON CONFLICT (url) DO UPDATE SET"
                " last_seen_at = excluded.last_seen_at,"
                " page_id = coalesce(aliases.page_id, excluded.page_id)",
                (url, target, now),
            )

    def is_canonical_alias(self, url: str) -> bool:
        """True when ``url`` is kept as a ``canonical`` alias of another page."""
        row = self._conn.execute(
            "SELECT 1 FROM aliases WHERE url = ? AND kind = 'canonical'", (url,)
        ).fetchone()
        return row is not None

    # ------------------------------------------------------------------ pages

    def save_page(self, page: Page, *, raw_url: str | None = None, seen: bool = True) -> SaveResult:
        """Insert or update one extracted page with its child rows and history.

        The row is keyed by ``page.url``; its id never changes. When ``content_hash`` is
        unchanged nothing is rewritten but ``last_seen_at`` (and ``removed_at`` is
        cleared). When it changed, the previous record goes to ``page_versions`` and
        the row and its breadcrumbs, sections and sidebar links are replaced.

        Args:
            page: the record.
            raw_url: the ``raw_pages`` URL it was extracted from.
            seen: the page was just fetched (a crawl). ``False`` for a re-extraction of
                a stored answer: ``last_seen_at`` and ``removed_at`` stay as they are,
                so a removed page stays removed.

        Returns:
            ``new``, ``changed`` or ``unchanged``; ``aliased`` (nothing written) when
            ``page.url`` is kept as a canonical alias of another page (see
            :meth:`save_canonical_alias`), so a re-extraction never stores it twice.

        Raises:
            StoreError: the write failed (the page's rows are rolled back).
        """
        content_hash = page.content_hash or record_hash(page.to_record())
        now = _now()
        if self.is_canonical_alias(page.url):
            return "aliased"
        with self._atomic() as conn:
            old = conn.execute(
                "SELECT id, content_hash, changed_at, version, removed_at FROM pages WHERE url = ?",
                (page.url,),
            ).fetchone()
            if old is not None and old[1] == content_hash:
                if not seen:
                    conn.execute(
                        "UPDATE pages SET run_id = ?, extractor_version = ?,"
                        " raw_url = coalesce(?, raw_url) WHERE id = ?",
                        (self._run_id, page.extractor_version, raw_url, old[0]),
                    )
                    return "unchanged"
                conn.execute(
                    "UPDATE pages SET last_seen_at = ?, removed_at = NULL, run_id = ?,"
                    " extractor_version = ?, raw_url = coalesce(?, raw_url) WHERE id = ?",
                    (now, self._run_id, page.extractor_version, raw_url, old[0]),
                )
                if old[4] is not None:
                    log.info("page_reappeared", url=page.url)
                return "unchanged"
            values = _page_values(page, content_hash, raw_url)
            if old is None:
                cur = conn.execute(
                    f"INSERT INTO pages ({_PAGE_COLUMNS_SQL}, first_seen_at, last_seen_at,"
                    f" changed_at, version, run_id) VALUES ({_PAGE_MARKS}, ?, ?, ?, 1, ?)",
                    (*values, now, now, now, self._run_id),
                )
                page_id = int(cur.lastrowid or 0)
                result: SaveResult = "new"
            else:
                page_id, version = int(old[0]), int(old[3])
                previous = _dumps(_read_record(conn, page_id))
                conn.execute(
                    "INSERT INTO page_versions (page_id, version, content_hash, record,"
                    " valid_from, valid_to, run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (page_id, version, old[1], previous, old[2], now, self._run_id),
                )
                # A re-extraction (not seen) keeps last_seen_at and removed_at.
                conn.execute(
                    f"UPDATE pages SET {_PAGE_SETS}, last_seen_at = coalesce(?, last_seen_at),"
                    " changed_at = ?, removed_at = CASE WHEN ? THEN NULL ELSE removed_at END,"
                    " version = ?, run_id = ? WHERE id = ?",
                    (
                        *values,
                        now if seen else None,
                        now,
                        seen,
                        version + 1,
                        self._run_id,
                        page_id,
                    ),
                )
                for table in ("breadcrumbs", "sections", "sidebar_links"):
                    conn.execute(f"DELETE FROM {table} WHERE page_id = ?", (page_id,))
                result = "changed"
            _insert_children(conn, page_id, page)
            conn.execute(
                "UPDATE aliases SET page_id = ? WHERE target_url = ? AND page_id IS NOT ?",
                (page_id, page.url, page_id),
            )
        return result

    def mark_removed(self, url: str, at: datetime) -> bool:
        """Mark the page answering ``url`` (directly, via a redirect or its crawl URL)
        removed; rows are never deleted.

        Returns:
            ``True`` when a live page was marked, ``False`` if none or already removed.
        """
        with self._atomic() as conn:
            cur = conn.execute(
                "UPDATE pages SET removed_at = ?1 WHERE removed_at IS NULL AND (url = ?2"
                " OR url = (SELECT final_url FROM crawl_state WHERE url = ?2)"
                " OR url = (SELECT target_url FROM aliases WHERE url = ?2))",
                (_stamp(at), url),
            )
        return cur.rowcount > 0

    # ------------------------------------------------------------------ reads

    def iter_raw_pages(self) -> Iterator[RawPage]:
        """Yield every stored 2xx HTML answer, oldest first, a few at a time.

        Reads in keyset-paginated chunks, so no cursor stays open across a ``yield``
        (the caller may write between items) and memory stays flat.
        """
        last_id = 0
        while True:
            rows = self._conn.execute(
                f"SELECT id, {_RAW_COLUMNS} FROM raw_pages WHERE id > ?"
                " AND status BETWEEN 200 AND 299"
                " AND (content_type IS NULL OR content_type IN (?, ?))"
                " ORDER BY id LIMIT ?",
                (last_id, *_HTML_TYPES, _RAW_CHUNK),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _raw_from_row(row[1:])
            last_id = rows[-1][0]

    def iter_answers(self) -> Iterator[RawPage]:
        """Yield every stored answer, whatever its status or type, oldest first (the
        WARC export); chunked like :meth:`iter_raw_pages`."""
        last_id = 0
        while True:
            rows = self._conn.execute(
                f"SELECT id, {_RAW_COLUMNS} FROM raw_pages WHERE id > ? ORDER BY id LIMIT ?",
                (last_id, _RAW_CHUNK),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _raw_from_row(row[1:])
            last_id = rows[-1][0]

    def redirect_aliases(self) -> list[tuple[str, str, str, int | None]]:
        """``(url, target_url, last_seen_at, status)`` of every alias the site redirected;
        ``status`` is the 3xx it answered, ``None`` where an older crawl did not keep it."""
        rows = self._conn.execute(
            "SELECT url, target_url, last_seen_at, status FROM aliases"
            " WHERE kind = 'redirect' ORDER BY id"
        ).fetchall()
        return [
            (str(url), str(target), str(seen), None if code is None else int(code))
            for url, target, seen, code in rows
        ]

    def extraction_tags(self) -> Iterator[tuple[int, str, str | None]]:
        """``(raw_pages.id, url, extractor_version)`` of every stored HTML answer: the
        version its page was extracted with, or its listing typed with (``None``:
        neither)."""
        cursor = self._conn.execute(
            "SELECT r.id, r.url, coalesce(p.extractor_version, c.extracted_with)"
            " FROM raw_pages AS r"
            " LEFT JOIN pages AS p ON p.url = r.url LEFT JOIN crawl_state AS c ON c.url = r.url"
            " WHERE r.status BETWEEN 200 AND 299"
            " AND (r.content_type IS NULL OR r.content_type IN (?, ?))"
            # A page whose extraction failed is tried again by the next sync or extract.
            " AND NOT EXISTS (SELECT 1 FROM errors AS e WHERE e.url = r.url"
            " AND e.stage = 'extract')",
            _HTML_TYPES,
        )
        yield from cursor.fetchall()

    def retag_pages(self, tags: Sequence[tuple[str, str, str]]) -> int:
        """Record that pages read the same under other site-model rules, without
        rewriting their records: ``(url, old extractor_version, new one)`` each, applied
        only where the page (or listing) still carries the old one. Returns how many."""
        with self._atomic() as conn:
            before = conn.total_changes
            conn.executemany(
                "UPDATE pages SET extractor_version = ?3 WHERE url = ?1 AND extractor_version = ?2",
                tags,
            )
            conn.executemany(
                "UPDATE crawl_state SET extracted_with = ?3 WHERE url = ?1 AND extracted_with = ?2",
                tags,
            )
            return conn.total_changes - before

    def raw_pages_by_id(self, ids: Sequence[int]) -> Iterator[RawPage]:
        """The stored answers with these ids, a chunk at a time, in id order."""
        ordered = sorted(ids)
        for start in range(0, len(ordered), _RAW_CHUNK):
            chunk = ordered[start : start + _RAW_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT {_RAW_COLUMNS} FROM raw_pages WHERE id IN ({marks}) ORDER BY id", chunk
            ).fetchall()
            for row in rows:
                yield _raw_from_row(row)

    def site_models(self) -> list[SiteModel]:
        """Every stored site model, oldest first."""
        rows = self._conn.execute("SELECT model_json FROM site_models ORDER BY id").fetchall()
        return [m for (text,) in rows if (m := SiteModel.from_json(text)) is not None]

    def sample_raw_pages(self, limit: int) -> list[RawPage]:
        """Up to ``limit`` stored HTML answers spread over the whole crawl (deterministic).

        The site model learns from these: a multiplicative hash of the row id orders
        them, so the sample mixes early and late pages, posts and listings alike.
        """
        rows = self._conn.execute(
            f"SELECT {_RAW_COLUMNS} FROM raw_pages WHERE status BETWEEN 200 AND 299"
            " AND (content_type IS NULL OR content_type IN (?, ?))"
            " ORDER BY (id * 2654435761) % 4294967291 LIMIT ?",
            (*_HTML_TYPES, limit),
        ).fetchall()
        return [_raw_from_row(row) for row in rows]

    def html_page_count(self) -> int:
        """How many 2xx HTML answers are stored."""
        row = self._conn.execute(
            "SELECT count(*) FROM raw_pages WHERE status BETWEEN 200 AND 299"
            " AND (content_type IS NULL OR content_type IN (?, ?))",
            _HTML_TYPES,
        ).fetchone()
        return int(row[0])

    def feed_dates(self) -> dict[str, str]:
        """The dates the site's feeds gave their items, by URL."""
        rows = self._conn.execute(
            "SELECT url, lastmod FROM crawl_state WHERE via = 'feed' AND lastmod IS NOT NULL"
        ).fetchall()
        return {str(url): str(lastmod) for url, lastmod in rows}

    def save_site_model(self, model: SiteModel) -> int:
        """Store a learned site model (and its templates); returns its id."""
        with self._atomic() as conn:
            cursor = conn.execute(
                "INSERT INTO site_models (learned_at, fingerprint, pages_sampled, cms,"
                " title_selector, title_agree, title_pages, date_selector, date_agree,"
                " date_pages, date_order, site_names, evidence, model_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(),
                    model.model_fingerprint,
                    model.pages_sampled,
                    model.cms,
                    model.title_selector,
                    *model.title_agreement,
                    model.date_selector,
                    *model.date_agreement,
                    model.date_order,
                    json.dumps(sorted(model.site_names), ensure_ascii=False),
                    "\n".join(model.evidence),
                    model.to_json(),
                ),
            )
            model_id = int(cursor.lastrowid or 0)
            conn.executemany(
                "INSERT INTO site_templates (model_id, signature, pages) VALUES (?, ?, ?)",
                [(model_id, signature, pages) for signature, pages in model.templates],
            )
        return model_id

    def latest_site_model(self) -> SiteModel | None:
        """The most recently learned site model, or ``None``."""
        row = self._conn.execute(
            "SELECT model_json FROM site_models ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return SiteModel.from_json(row[0]) if row is not None else None

    def raw_page(self, url: str) -> RawPage | None:
        """The stored answer whose final URL is ``url``, or ``None``."""
        row = self._conn.execute(
            f"SELECT {_RAW_COLUMNS} FROM raw_pages WHERE url = ?", (url,)
        ).fetchone()
        return None if row is None else _raw_from_row(row)

    def page_status(self, url: str) -> Literal["live", "removed"] | None:
        """Whether the page ``url`` answers for (directly, via a redirect or its crawl
        URL, as :meth:`mark_removed` resolves it) is stored, and removed; ``None`` if no
        page was ever stored for it (a dead link)."""
        row = self._conn.execute(
            "SELECT removed_at IS NOT NULL FROM pages WHERE url = ?1"
            " OR url = (SELECT final_url FROM crawl_state WHERE url = ?1)"
            " OR url = (SELECT target_url FROM aliases WHERE url = ?1)"
            " ORDER BY removed_at IS NOT NULL LIMIT 1",
            (url,),
        ).fetchone()
        if row is None:
            return None
        return "removed" if row[0] else "live"

    def stored_answer(self, url: str) -> RawPage | None:
        """The stored answer a frontier ``url`` led to (after redirects), or ``None``."""
        row = self._conn.execute(
            f"SELECT {_RAW_COLUMNS} FROM raw_pages WHERE url ="
            " (SELECT coalesce(final_url, url) FROM crawl_state WHERE url = ?)",
            (url,),
        ).fetchone()
        return None if row is None else _raw_from_row(row)

    def unextracted_urls(self) -> set[str]:
        """Frontier URLs whose stored 2xx answer has no record: extraction or load failed.

        A sync must extract these again even when the server answers 304, or the gap
        would last as long as the page does not change.
        """
        rows = self._conn.execute(
            "SELECT c.url FROM crawl_state AS c JOIN raw_pages AS r"
            " ON r.url = coalesce(c.final_url, c.url)"
            " WHERE c.state = 'failed' AND r.status BETWEEN 200 AND 299"
        )
        return {str(url) for (url,) in rows}

    def page_count(self, *, include_removed: bool = False) -> int:
        """How many pages the database holds (live ones only, by default)."""
        where = "" if include_removed else " WHERE removed_at IS NULL"
        return int(self._conn.execute(f"SELECT count(*) FROM pages{where}").fetchone()[0])

    def iter_known_urls(self) -> Iterator[str]:
        """Stream every URL in the crawl state (to seed the scope's budgets on resume)."""
        cursor = self._conn.execute("SELECT url FROM crawl_state")
        while rows := cursor.fetchmany(1000):
            for (url,) in rows:
                yield str(url)

    def known_page_urls(self, *, include_removed: bool = False) -> set[str]:
        """The URLs of the stored pages (live ones only, by default)."""
        where = "" if include_removed else " WHERE removed_at IS NULL"
        return {str(r[0]) for r in self._conn.execute(f"SELECT url FROM pages{where}")}

    def page_record(self, url: str) -> dict[str, Any] | None:
        """The stored record of the page at ``url``, as ``Page.to_record()`` made it."""
        row = self._conn.execute("SELECT id FROM pages WHERE url = ?", (url,)).fetchone()
        return None if row is None else _read_record(self._conn, int(row[0]))

    def iter_records(self, *, include_removed: bool = False) -> Iterator[dict[str, Any]]:
        """Yield every stored page's record, in id order, a chunk of ids at a time."""
        removed = "" if include_removed else " AND removed_at IS NULL"
        last_id = 0
        while ids := self._conn.execute(
            f"SELECT id FROM pages WHERE id > ?{removed} ORDER BY id LIMIT 200", (last_id,)
        ).fetchall():
            for (page_id,) in ids:
                yield _read_record(self._conn, int(page_id))
            last_id = ids[-1][0]

    # ------------------------------------------------------------------ assets

    def save_asset(self, asset: StoredAsset) -> None:
        """Record one downloaded asset (insert, or update the row of its URL)."""
        with self._atomic() as conn:
            conn.execute(
                "INSERT INTO assets (url, content_hash, file_name, content_type, bytes,"
                " fetched_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET"
                " content_hash = excluded.content_hash, file_name = excluded.file_name,"
                " content_type = excluded.content_type, bytes = excluded.bytes,"
                " fetched_at = excluded.fetched_at",
                (
                    asset.url,
                    asset.content_hash,
                    asset.file_name,
                    asset.content_type,
                    asset.bytes,
                    asset.fetched_at,
                ),
            )

    def assets(self) -> dict[str, StoredAsset]:
        """Every downloaded asset, keyed by its original URL."""
        rows = self._conn.execute(
            "SELECT url, content_hash, file_name, content_type, bytes, fetched_at FROM assets"
        )
        return {
            str(r[0]): StoredAsset(
                url=r[0],
                content_hash=r[1],
                file_name=r[2],
                content_type=r[3],
                bytes=r[4],
                fetched_at=r[5],
            )
            for r in rows
        }

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only SQL statement and return its rows as tuples (for reports)."""
        return [tuple(r) for r in self._conn.execute(sql, tuple(params))]


# ---------------------------------------------------------------------- page rows

_PAGE_COLUMNS = (
    "url",
    "canonical_url",
    "source_url",
    "raw_url",
    "title",
    "published_at",
    "updated_at",
    "author",
    "language",
    "description",
    "page_type",
    "body_html",
    "body_markdown",
    "body_text",
    "tags",
    "categories",
    "images",
    "featured_image",
    "encoding",
    "sources",
    "content_hash",
    "extractor_version",
)
_PAGE_COLUMNS_SQL = ", ".join(_PAGE_COLUMNS)
_PAGE_MARKS = ", ".join("?" for _ in _PAGE_COLUMNS)
_PAGE_SETS = ", ".join(f"{c} = ?" for c in _PAGE_COLUMNS)


def _page_values(page: Page, content_hash: str, raw_url: str | None) -> tuple[Any, ...]:
    return (
        page.url,
        page.canonical_url,
        page.source_url,
        raw_url,
        page.title,
        iso(page.published),
        iso(page.updated),
        page.author,
        page.language,
        page.description,
        page.page_type,
        page.body_html,
        page.body_markdown,
        page.body_text,
        _dumps(list(page.tags)),
        _dumps(list(page.categories)),
        _dumps([{"src": i.src, "alt": i.alt} for i in page.images]),
        (
            _dumps({"src": page.featured_image.src, "alt": page.featured_image.alt})
            if page.featured_image is not None
            else None
        ),
        page.encoding,
        _dumps(dict(page.sources)),
        content_hash,
        page.extractor_version,
    )


def _read_record(conn: sqlite3.Connection, page_id: int) -> dict[str, Any]:
    """Rebuild the record of ``Page.to_record()`` from a page's row and child rows.

    The record is not stored whole: it would double the size of the database, and
    the columns hold every field. ``test_load`` checks the round trip stays exact.
    """
    p = conn.execute(
        "SELECT url, canonical_url, source_url, page_type, title, published_at, updated_at,"
        " author, language, description, tags, categories, images, body_markdown, body_html,"
        " body_text, encoding, content_hash, extractor_version, featured_image FROM pages"
        " WHERE id = ?",
        (page_id,),
    ).fetchone()
    crumbs = conn.execute(
        "SELECT label, url, is_current FROM breadcrumbs WHERE page_id = ? ORDER BY position",
        (page_id,),
    )
    sections = conn.execute(
        "SELECT level, heading, anchor, parent_position, text, html, markdown FROM sections"
        " WHERE page_id = ? ORDER BY position",
        (page_id,),
    )
    links = conn.execute(
        "SELECT group_name, label, url, published_at FROM sidebar_links WHERE page_id = ?"
        " ORDER BY position",
        (page_id,),
    )
    return {
        "url": p[0],
        "canonical_url": p[1],
        "source_url": p[2],
        "page_type": p[3],
        "title": p[4],
        "published": p[5],
        "updated": p[6],
        "author": p[7],
        "language": p[8],
        "description": p[9],
        "breadcrumbs": [{"label": c[0], "url": c[1], "current": bool(c[2])} for c in crumbs],
        "sections": [
            {
                "level": s[0],
                "heading": s[1],
                "anchor": s[2],
                "parent": s[3],
                "text": s[4],
                "html": s[5],
                "markdown": s[6],
            }
            for s in sections
        ],
        "sidebar_links": [{"group": s[0], "label": s[1], "url": s[2], "date": s[3]} for s in links],
        "tags": json.loads(p[10]),
        "categories": json.loads(p[11]),
        "images": json.loads(p[12]),
        "featured_image": json.loads(p[19]) if p[19] else None,
        "body_markdown": p[13],
        "body_html": p[14],
        "body_text": p[15],
        "encoding": p[16],
        "content_hash": p[17],
        "extractor_version": p[18],
    }


def _insert_children(conn: sqlite3.Connection, page_id: int, page: Page) -> None:
    if page.breadcrumbs:
        conn.executemany(
            "INSERT INTO breadcrumbs (page_id, position, label, url, is_current)"
            " VALUES (?, ?, ?, ?, ?)",
            [(page_id, i, c.label, c.url, int(c.current)) for i, c in enumerate(page.breadcrumbs)],
        )
    if page.sections:
        conn.executemany(
            "INSERT INTO sections (page_id, position, level, heading, anchor, parent_position,"
            " text, html, markdown) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (page_id, i, s.level, s.heading, s.anchor, s.parent, s.text, s.html, s.markdown)
                for i, s in enumerate(page.sections)
            ],
        )
    if page.sidebar_links:
        conn.executemany(
            "INSERT INTO sidebar_links (page_id, position, group_name, label, url, published_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (page_id, i, s.group, s.label, s.url, iso(s.date))
                for i, s in enumerate(page.sidebar_links)
            ],
        )


# ---------------------------------------------------------------------- raw answers

_RAW_COLUMNS = (
    "url, requested_url, status, headers, body, body_codec, redirects, fetched_at, elapsed_ms,"
    " source"
)


def _raw_from_row(row: tuple[Any, ...]) -> RawPage:
    return RawPage(
        url=row[0],
        requested_url=row[1],
        status=row[2],
        headers=tuple((str(k), str(v)) for k, v in json.loads(row[3])),
        body=_unpack(row[4], row[5]),
        redirects=tuple(json.loads(row[6])),
        fetched_at=datetime.fromisoformat(row[7]),
        elapsed_ms=row[8],
        source=row[9],
    )


def _pack(body: bytes) -> tuple[bytes, str]:
    if len(body) >= _COMPRESS_MIN_BYTES:
        packed = zlib.compress(body, _ZLIB_LEVEL)
        if len(packed) < len(body):
            return packed, "zlib"
    return body, "identity"


def _unpack(body: bytes, codec: str) -> bytes:
    return zlib.decompress(body) if codec == "zlib" else bytes(body)


# ---------------------------------------------------------------------- opening


# (st_dev, st_ino) of the databases this process holds the run lock of. A second
# Store.open of the same file in this process is refused from here, without opening
# the file again: closing any descriptor of a file drops every POSIX lock the process
# holds on it, SQLite's own included (sqlite.org/howtocorrupt.html, 2.2).
_HELD: set[tuple[int, int]] = set()


def _take_lock(db_path: Path) -> int:
    """Take the run lock on the database file itself (``flock`` on its inode).

    The lock follows the file, not the name it was opened by: a symlink, a relative
    spelling or a hard link in another directory reaches the same inode, so it meets
    the same lock. ``flock`` and SQLite's POSIX byte-range locks are independent on
    local file systems. The descriptor stays open until the connection is closed.
    """
    try:
        known = os.stat(db_path)
    except FileNotFoundError:
        known = None
    except OSError as exc:
        raise StoreError(f"cannot open database {db_path}: {exc.strerror or exc}") from exc
    if known is not None and (known.st_dev, known.st_ino) in _HELD:
        raise StoreLocked(f"another migrator run is using {db_path}")
    try:
        fd = os.open(db_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except PermissionError:
        try:  # a read-only database can still be locked (flock needs no write access)
            fd = os.open(db_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise StoreError(f"cannot open database {db_path}: {exc.strerror or exc}") from exc
    except OSError as exc:
        raise StoreError(f"cannot open database {db_path}: {exc.strerror or exc}") from exc
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


def _release_lock(fd: int | None) -> None:
    if fd is None:
        return
    with contextlib.suppress(OSError):
        info = os.fstat(fd)
        _HELD.discard((info.st_dev, info.st_ino))
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _configure(conn: sqlite3.Connection, db_path: Path) -> None:
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
    except sqlite3.DatabaseError as exc:
        message = _one_line(exc)
        if "not a database" in message or "malformed" in message:
            raise StoreError(f"{db_path} is not a SQLite database ({message})") from exc
        raise StoreError(f"cannot open database {db_path}: {message}") from exc
    if str(mode).lower() != "wal":
        log.warning("wal_unavailable", path=str(db_path), journal_mode=mode)


def _migrate(conn: sqlite3.Connection, db_path: Path) -> None:
    """Bring the schema to SCHEMA_VERSION in one transaction (all steps or none)."""
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{db_path} has schema version {version}, newer than this migrator's"
                f" {SCHEMA_VERSION}: upgrade migrator"
            )
        conn.execute("BEGIN IMMEDIATE")
        # Re-read under the write lock: a concurrent opener may have upgraded it.
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version < SCHEMA_VERSION and version == 0:
            _check_empty(conn, db_path)
        for step in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
        if version < SCHEMA_VERSION:
            for name, select in VIEWS:
                conn.execute(f"DROP VIEW IF EXISTS {name}")
                conn.execute(f"CREATE VIEW {name} AS {select}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except StoreError:
        _rollback(conn)
        raise
    except sqlite3.Error as exc:
        _rollback(conn)
        message = _one_line(exc)
        if "not a database" in message:
            raise StoreError(f"{db_path} is not a SQLite database ({message})") from exc
        raise StoreError(f"cannot upgrade database {db_path}: {message}") from exc
    if version < SCHEMA_VERSION:
        log.info("schema_migrated", path=str(db_path), from_version=version, to=SCHEMA_VERSION)


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
