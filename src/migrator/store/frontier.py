"""The crawl frontier: which URLs are queued, in progress, fetched or failed.

``crawl_state`` makes a run resumable after ``kill -9``: URLs are claimed (marked
``in_progress``) before they are fetched and put back when a killed run left them so.
It also decides what a sync queues again. It must not fetch or store answers (see
``raw.py``) or pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from migrator.models import Discovered
from migrator.store.connection import StoreBase
from migrator.store.values import now

__all__ = ["CrawlItem", "FrontierRoom"]


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


class FrontierRoom(StoreBase):
    """Queueing, claiming and re-queueing URLs (``crawl_state``)."""

    def add_urls(self, items: Iterable[Discovered]) -> int:
        """Queue newly discovered URLs; known ones only gain a newer sitemap lastmod.

        Returns:
            How many URLs were new.
        """
        at = now()
        # The time is a parameter, not spliced into the SQL: one statement, prepared once.
        rows = [(d.url, d.via, d.referrer, d.depth, d.lastmod, at) for d in items]
        if not rows:
            return 0
        with self._atomic() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO crawl_state (url, state, via, referrer, depth, lastmod,"
                " first_seen_at) VALUES (?, 'queued', ?, ?, ?, ?, ?)",
                rows,
            )
            added = conn.total_changes - before
            dated = [(lastmod, url) for url, _, _, _, lastmod, _ in rows if lastmod]
            if dated:
                conn.executemany(
                    "UPDATE crawl_state SET lastmod = ?1 WHERE url = ?2"
                    " AND (lastmod IS NULL OR lastmod < ?1)",
                    dated,
                )
            # Microseconds: a sync starting in the same second as the last listing
            # must not count that listing as its own (queue_for_sync's listed_since).
            seen = datetime.now(UTC).isoformat(timespec="microseconds")
            listed = [(seen, url) for url, via, _, _, _, _ in rows if via == "sitemap"]
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

    def iter_known_urls(self) -> Iterator[str]:
        """Stream every URL in the crawl state (to seed the scope's budgets on resume)."""
        cursor = self._conn.execute("SELECT url FROM crawl_state")
        while rows := cursor.fetchmany(1000):
            for (url,) in rows:
                yield str(url)

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
                (url, now(), page_type, version),
            )
            conn.execute(
                "UPDATE crawl_state SET page_type = ? WHERE final_url = ? AND url != ?",
                (page_type, url, url),
            )
            # Stored as content by an earlier extraction: it is a listing after all.
            conn.execute("UPDATE pages SET page_type = ? WHERE url = ?", (page_type, url))

    def feed_dates(self) -> dict[str, str]:
        """The dates the site's feeds gave their items, by URL."""
        rows = self._conn.execute(
            "SELECT url, lastmod FROM crawl_state WHERE via = 'feed' AND lastmod IS NOT NULL"
        ).fetchall()
        return {str(url): str(lastmod) for url, lastmod in rows}
