"""Runs and errors: one ``runs`` row per run or sync with its outcome and counts, and the
page-level failures (``errors``) it recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from sqlite_utils.db import NotFoundError

from migrator.errors import StoreError
from migrator.store.connection import StoreBase, last_id
from migrator.store.schema import RUN_COUNTS
from migrator.store.values import dumps, now
from migrator.version import __version__

__all__ = ["RunMode", "RunStatus", "RunsRoom"]

RunMode = Literal["run", "sync", "extract", "fetch"]


RunStatus = Literal["ok", "failed", "aborted", "interrupted"]


# Fetch failures after which a canonical target is given up (save_failure).
_GONE_STATUSES = frozenset({401, 403, 404, 410})


_BLOCKED_REASONS = frozenset(
    {"robots_disallowed", "unwanted_content_type", "redirect_out_of_scope"}
)


class RunsRoom(StoreBase):
    """Starting and finishing runs; recording failures."""

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
        at = now()
        runs = self.db.table("runs")
        with self._atomic() as conn:
            conn.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
                (at,),
            )
            runs.insert(
                {
                    "mode": mode,
                    "status": "running",
                    "config_hash": config_hash,
                    "start_url": start_url,
                    "started_at": at,
                    "migrator_version": __version__,
                    "source": source,
                }
            )
        run_id = last_id(runs)
        self._run_id = run_id
        return run_id

    def finish_run(self, run_id: int, *, status: RunStatus, counts: Mapping[str, int]) -> None:
        """Record a run's outcome and counts (known counts get columns, all go to JSON).

        Raises:
            StoreError: the write failed, or there is no run ``run_id``.
        """
        known = {name: int(counts.get(name, 0)) for name in RUN_COUNTS}
        try:
            with self._atomic():
                self.db.table("runs").update(
                    run_id,
                    {
                        "status": status,
                        "finished_at": now(),
                        "counts": dumps(dict(counts)),
                        **known,
                    },
                )
        except NotFoundError as exc:
            raise StoreError(f"no run {run_id} in {self.path} to finish") from exc
        if self._run_id == run_id:
            self._run_id = None

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

    def last_start_url(self) -> str | None:
        """The start URL of the database's first run that had one, or ``None``."""
        row = self._conn.execute(
            "SELECT start_url FROM runs WHERE start_url IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    def start_failure(self, run_id: int, counts: Mapping[str, int]) -> str | None:
        """Why a run stored nothing at all, when its first URL failed: ``"start URL U
        answered 404"`` (or ``failed (REASON)``: robots.txt, a network error).

        ``None`` when the run fetched something (``counts``), the database holds a
        fetched page from before, or the run recorded no failure.
        """
        if counts.get("fetched", 0) or counts.get("not_modified", 0):
            return None
        if self.query("SELECT 1 FROM raw_pages LIMIT 1"):
            return None
        rows = self.query(
            "SELECT url, status, reason FROM errors WHERE run_id = ? ORDER BY id LIMIT 1",
            (run_id,),
        )
        if not rows:
            return None
        url, status, reason = rows[0]
        answer = f"answered {status}" if status is not None else f"failed ({reason})"
        return f"start URL {url} {answer}"

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
        at = now()
        with self._atomic() as conn:
            conn.execute(
                "INSERT INTO errors (run_id, url, stage, status, reason, attempts,"
                " first_failed_at, last_tried_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (ifnull(run_id, 0), url, stage) DO UPDATE SET"
                " status = excluded.status, reason = excluded.reason,"
                " attempts = errors.attempts + excluded.attempts,"
                " last_tried_at = excluded.last_tried_at",
                (self._run_id, url, stage, status, reason, attempts, at, at),
            )
            conn.execute(
                "INSERT INTO crawl_state (url, state, first_seen_at, last_status)"
                " VALUES (?, 'failed', ?, ?) ON CONFLICT (url) DO UPDATE SET"
                " state = 'failed', last_status = coalesce(excluded.last_status, last_status)",
                (url, at, status),
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
