"""Aliases: other URLs of a stored page (redirects, canonical duplicates, shortlinks, the
later parts of a split post), in ``aliases`` and ``page_parts``.

It must not store pages themselves (``records.py``).
"""

from __future__ import annotations

import sqlite3

from migrator.store.connection import StoreBase
from migrator.store.values import now

__all__ = ["AliasesRoom", "is_canonical_alias"]


class AliasesRoom(StoreBase):
    """Recording and reading the other URLs of a page."""

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
        at = now()
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
                (url, target, at),
            )
            conn.execute(
                "INSERT OR IGNORE INTO crawl_state (url, state, via, referrer, depth,"
                " first_seen_at) VALUES (?, 'queued', 'canonical', ?, ?, ?)",
                (target, url, depth + 1, at),
            )
        return True

    def save_part(self, main_url: str, part: int, url: str, content: str) -> None:
        """Keep page ``part`` of the post at ``main_url`` (its body as JSON); its URL
        becomes an alias (kind ``part``) of the post, and no ``pages`` row of its own."""
        at = now()
        with self._atomic() as conn:
            self.db.table("page_parts").upsert(
                {"main_url": main_url, "part": part, "url": url, "content": content},
                pk=("main_url", "part"),
            )
            conn.execute(
                "INSERT INTO aliases (url, target_url, page_id, kind, first_seen_at,"
                " last_seen_at) VALUES (?1, ?2, (SELECT id FROM pages WHERE url = ?2),"
                " 'part', ?3, ?3) ON CONFLICT (url) DO UPDATE SET"
                " target_url = excluded.target_url, page_id = excluded.page_id,"
                " kind = excluded.kind, last_seen_at = excluded.last_seen_at",
                (url, main_url, at),
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
        at = now()
        with self._atomic() as conn:
            conn.execute(
                "INSERT INTO aliases (url, target_url, page_id, kind, first_seen_at,"
                " last_seen_at) VALUES (?1, ?2, (SELECT id FROM pages WHERE url = ?2),"
                " 'shortlink', ?3, ?3) ON CONFLICT (url) DO UPDATE SET"
                " last_seen_at = excluded.last_seen_at,"
                " page_id = coalesce(aliases.page_id, excluded.page_id)",
                (url, target, at),
            )

    def is_canonical_alias(self, url: str) -> bool:
        """True when ``url`` is kept as a ``canonical`` alias of another page."""
        return is_canonical_alias(self._conn, url)

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


def is_canonical_alias(conn: sqlite3.Connection, url: str) -> bool:
    """True when ``url`` is kept as a ``canonical`` alias of another page."""
    row = conn.execute(
        "SELECT 1 FROM aliases WHERE url = ? AND kind = 'canonical'", (url,)
    ).fetchone()
    return row is not None
