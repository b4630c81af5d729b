"""Records: extracted pages with their child rows (breadcrumbs, sections, sidebar links)
and their version history, written whole from a ``Page`` and read back as records.

A page row is never deleted (``mark_removed`` stamps it). It must not decide what a
page is (extraction) nor record its other URLs (``aliases.py``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

import structlog

from migrator.models import Page, record_hash
from migrator.store.aliases import is_canonical_alias
from migrator.store.connection import StoreBase
from migrator.store.page_rows import (
    PAGE_COLUMNS_SQL,
    PAGE_MARKS,
    PAGE_SETS,
    insert_children,
    page_values,
    read_record,
)
from migrator.store.values import dumps, now, stamp

__all__ = ["RecordsRoom", "SaveResult"]

log = structlog.get_logger()

SaveResult = Literal["new", "changed", "unchanged", "aliased"]


class RecordsRoom(StoreBase):
    """Saving, removing and reading pages."""

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
        at = now()
        if is_canonical_alias(self._conn, page.url):
            return "aliased"
        with self._atomic() as conn:
            old = conn.execute(
                "SELECT id, content_hash, changed_at, version, removed_at FROM pages WHERE url = ?",
                (page.url,),
            ).fetchone()
            if old is not None and old[1] == content_hash:
                self._touch_unchanged(conn, page, old, at=at, raw_url=raw_url, seen=seen)
                return "unchanged"
            values = page_values(page, content_hash, raw_url)
            if old is None:
                cur = conn.execute(
                    f"INSERT INTO pages ({PAGE_COLUMNS_SQL}, first_seen_at, last_seen_at,"
                    f" changed_at, version, run_id) VALUES ({PAGE_MARKS}, ?, ?, ?, 1, ?)",
                    (*values, at, at, at, self._run_id),
                )
                page_id = int(cur.lastrowid or 0)
                result: SaveResult = "new"
            else:
                page_id = int(old[0])
                self._replace_page(conn, old, values, at=at, seen=seen)
                result = "changed"
            insert_children(conn, page_id, page)
            conn.execute(
                "UPDATE aliases SET page_id = ? WHERE target_url = ? AND page_id IS NOT ?",
                (page_id, page.url, page_id),
            )
        return result

    def _touch_unchanged(
        self,
        conn: sqlite3.Connection,
        page: Page,
        old: tuple[Any, ...],
        *,
        at: str,
        raw_url: str | None,
        seen: bool,
    ) -> None:
        """The same record again: only the bookkeeping columns move (never the indexed
        ones, so the full-text trigger does not fire)."""
        if not seen:
            conn.execute(
                "UPDATE pages SET run_id = ?, extractor_version = ?,"
                " raw_url = coalesce(?, raw_url) WHERE id = ?",
                (self._run_id, page.extractor_version, raw_url, old[0]),
            )
            return
        conn.execute(
            "UPDATE pages SET last_seen_at = ?, removed_at = NULL, run_id = ?,"
            " extractor_version = ?, raw_url = coalesce(?, raw_url) WHERE id = ?",
            (at, self._run_id, page.extractor_version, raw_url, old[0]),
        )
        if old[4] is not None:
            log.info("page_reappeared", url=page.url)

    def _replace_page(
        self,
        conn: sqlite3.Connection,
        old: tuple[Any, ...],
        values: tuple[Any, ...],
        *,
        at: str,
        seen: bool,
    ) -> None:
        """A changed record: the previous one goes to ``page_versions``, the row is
        rewritten and its child rows are dropped (the caller inserts the new ones)."""
        page_id, version = int(old[0]), int(old[3])
        previous = dumps(read_record(conn, page_id))
        conn.execute(
            "INSERT INTO page_versions (page_id, version, content_hash, record,"
            " valid_from, valid_to, run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (page_id, version, old[1], previous, old[2], at, self._run_id),
        )
        # A re-extraction (not seen) keeps last_seen_at and removed_at.
        conn.execute(
            f"UPDATE pages SET {PAGE_SETS}, last_seen_at = coalesce(?, last_seen_at),"
            " changed_at = ?, removed_at = CASE WHEN ? THEN NULL ELSE removed_at END,"
            " version = ?, run_id = ? WHERE id = ?",
            (*values, at if seen else None, at, seen, version + 1, self._run_id, page_id),
        )
        for table in ("breadcrumbs", "sections", "sidebar_links"):
            conn.execute(f"DELETE FROM {table} WHERE page_id = ?", (page_id,))

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
                (stamp(at), url),
            )
        return cur.rowcount > 0

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

    def page_count(self, *, include_removed: bool = False) -> int:
        """How many pages the database holds (live ones only, by default)."""
        where = "" if include_removed else " WHERE removed_at IS NULL"
        return int(self._conn.execute(f"SELECT count(*) FROM pages{where}").fetchone()[0])

    def known_page_urls(self, *, include_removed: bool = False) -> set[str]:
        """The URLs of the stored pages (live ones only, by default)."""
        where = "" if include_removed else " WHERE removed_at IS NULL"
        return {str(r[0]) for r in self._conn.execute(f"SELECT url FROM pages{where}")}

    def page_record(self, url: str) -> dict[str, Any] | None:
        """The stored record of the page at ``url``, as ``Page.to_record()`` made it."""
        row = self._conn.execute("SELECT id FROM pages WHERE url = ?", (url,)).fetchone()
        return None if row is None else read_record(self._conn, int(row[0]))

    def iter_records(self, *, include_removed: bool = False) -> Iterator[dict[str, Any]]:
        """Yield every stored page's record, in id order, a chunk of ids at a time."""
        removed = "" if include_removed else " AND removed_at IS NULL"
        last_id = 0
        while ids := self._conn.execute(
            f"SELECT id FROM pages WHERE id > ?{removed} ORDER BY id LIMIT 200", (last_id,)
        ).fetchall():
            for (page_id,) in ids:
                yield read_record(self._conn, int(page_id))
            last_id = ids[-1][0]

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
