"""Raw answers: the HTTP answers a crawl stored (``raw_pages``), and reading them back.

Bodies are kept zlib-compressed when that pays; every redirect hop becomes an alias of
the final URL. Extraction re-runs offline from these. It must not parse HTML.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import datetime
from typing import Any

from migrator.models import RawPage
from migrator.store.connection import StoreBase
from migrator.store.values import dumps, stamp

__all__ = ["RAW_UPSERT", "RawPagesRoom", "raw_row"]

# zlib level 1 measured on the real-world corpus (39 pages, 106 kB mean): 4.2x smaller
# at 0.6 ms a page to compress and 0.3 ms to decompress; level 6 gains 15 % more for
# twice the time. Tiny bodies are left alone: the header costs more than it saves.
_ZLIB_LEVEL = 1


_COMPRESS_MIN_BYTES = 512


_HTML_TYPES = ("text/html", "application/xhtml+xml")


_RAW_CHUNK = 64  # raw pages read per query by iter_raw_pages (bounded memory)


_RAW_COLUMNS = (
    "url, requested_url, status, headers, body, body_codec, redirects, fetched_at, elapsed_ms,"
    " source"
)


class RawPagesRoom(StoreBase):
    """Storing answers (``save_fetch``, 304s) and reading them back."""

    def save_fetch(
        self,
        item_url: str,
        raw: RawPage,
        *,
        page_type: str | None = None,
        stored: bool = False,
    ) -> None:
        """Store one HTTP answer and mark the URL fetched.

        The body is zlib-compressed (level 1) when that makes it smaller. Every URL the
        request passed through becomes a ``redirect`` alias of the final URL, and the
        final URL is marked fetched too so the crawl does not fetch it again.

        Args:
            item_url: the frontier URL that was claimed.
            raw: the answer.
            page_type: the extracted page type, when known.
            stored: ``raw`` was read back from ``raw_pages`` (a page stored before the
                site model, extracted once it is learned): its row is not packed and
                written again, only the crawl state is.
        """
        fetched_at = stamp(raw.fetched_at)
        etag, last_modified = raw.header("etag"), raw.header("last-modified")
        with self._atomic() as conn:
            if not stored:
                conn.execute(RAW_UPSERT, tuple(raw_row(raw).values()))
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
        rows = [(stamp(at), url, status) for url, at in answers]
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

    def iter_raw_pages(self) -> Iterator[RawPage]:
        """Yield every stored 2xx HTML answer, oldest first, a few at a time.

        Reads in keyset-paginated chunks, so no cursor stays open across a ``yield``
        (the caller may write between items) and memory stays flat.
        """
        return self._chunked(
            " AND status BETWEEN 200 AND 299 AND (content_type IS NULL OR content_type IN (?, ?))",
            _HTML_TYPES,
        )

    def iter_answers(self) -> Iterator[RawPage]:
        """Yield every stored answer, whatever its status or type, oldest first (the
        WARC export); chunked like :meth:`iter_raw_pages`."""
        return self._chunked("", ())

    def _chunked(self, where: str, params: tuple[str, ...]) -> Iterator[RawPage]:
        """The stored answers matching ``where`` (ANDed to the id condition) by id, in
        chunks of ``_RAW_CHUNK`` rows."""
        last_id = 0
        while True:
            rows = self._conn.execute(
                f"SELECT id, {_RAW_COLUMNS} FROM raw_pages WHERE id > ?{where} ORDER BY id LIMIT ?",
                (last_id, *params, _RAW_CHUNK),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _raw_from_row(row[1:])
            last_id = rows[-1][0]

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

    def sample_raw_pages(self, limit: int, *, upto: int | None = None) -> list[RawPage]:
        """Up to ``limit`` stored HTML answers spread over the whole crawl (deterministic).

        The site model learns from these: a multiplicative hash of the row id orders
        them, so the sample mixes early and late pages, posts and listings alike.
        ``upto``: only answers stored by then (``last_raw_id``), whenever it is read.
        """
        # The ids are chosen first: ordering whole rows made SQLite read every stored
        # body to keep ``limit`` of them (the multiplier is a unit modulo the prime, so
        # the order has no ties and is the same either way).
        rows = self._conn.execute(
            f"SELECT {_RAW_COLUMNS} FROM raw_pages WHERE id IN (SELECT id FROM raw_pages"
            " WHERE status BETWEEN 200 AND 299"
            " AND (content_type IS NULL OR content_type IN (?, ?)) AND id <= ?"
            " ORDER BY (id * 2654435761) % 4294967291 LIMIT ?)"
            " ORDER BY (id * 2654435761) % 4294967291",
            (*_HTML_TYPES, upto if upto is not None else 2**63 - 1, limit),
        ).fetchall()
        return [_raw_from_row(row) for row in rows]

    def sample_template_pages(
        self, signature: str, limit: int, *, upto: int | None = None
    ) -> list[RawPage]:
        """Up to ``limit`` stored HTML answers extracted as pages of one template (the
        ``signature`` in their ``extractor_version``), spread like ``sample_raw_pages``."""
        # The ids first, as in ``sample_raw_pages``: only the chosen rows' bodies are read.
        rows = self._conn.execute(
            f"SELECT {_RAW_COLUMNS} FROM raw_pages WHERE id IN (SELECT r.id"
            " FROM raw_pages AS r"
            " LEFT JOIN pages AS p ON p.url = r.url LEFT JOIN crawl_state AS c ON c.url = r.url"
            " WHERE r.status BETWEEN 200 AND 299"
            " AND coalesce(p.extractor_version, c.extracted_with) LIKE ? AND r.id <= ?"
            " ORDER BY (r.id * 2654435761) % 4294967291 LIMIT ?)"
            " ORDER BY (id * 2654435761) % 4294967291",
            (f"%+{signature}:%", upto if upto is not None else 2**63 - 1, limit),
        ).fetchall()
        return [_raw_from_row(row) for row in rows]

    def last_raw_id(self) -> int:
        """The id of the answer stored last (0: none): ``upto`` of the samples."""
        row = self._conn.execute("SELECT max(id) FROM raw_pages").fetchone()
        return int(row[0] or 0)

    def html_page_count(self) -> int:
        """How many 2xx HTML answers are stored."""
        row = self._conn.execute(
            "SELECT count(*) FROM raw_pages WHERE status BETWEEN 200 AND 299"
            " AND (content_type IS NULL OR content_type IN (?, ?))",
            _HTML_TYPES,
        ).fetchone()
        return int(row[0])

    def raw_page(self, url: str) -> RawPage | None:
        """The stored answer whose final URL is ``url``, or ``None``."""
        row = self._conn.execute(
            f"SELECT {_RAW_COLUMNS} FROM raw_pages WHERE url = ?", (url,)
        ).fetchone()
        return None if row is None else _raw_from_row(row)

    def stored_answer(self, url: str) -> RawPage | None:
        """The stored answer a frontier ``url`` led to (after redirects), or ``None``."""
        row = self._conn.execute(
            f"SELECT {_RAW_COLUMNS} FROM raw_pages WHERE url ="
            " (SELECT coalesce(final_url, url) FROM crawl_state WHERE url = ?)",
            (url,),
        ).fetchone()
        return None if row is None else _raw_from_row(row)

    def extraction_tags(self) -> Iterator[tuple[int, str, str | None]]:
        """``(raw_pages.id, url, extractor_version)`` of every stored HTML answer: the
        version its page was extracted with, or its listing typed with (``None``:
        neither). Streamed from the cursor (a list of every page's row grew the memory
        of a 100,000-post run's end by a fifth): write nothing on this connection until
        the iteration ends."""
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
        with closing(cursor):
            yield from cursor

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


def raw_row(raw: RawPage) -> dict[str, Any]:
    """The ``raw_pages`` row of an answer (the body packed), in ``RAW_UPSERT``'s order."""
    body, codec = _pack(raw.body)
    fetched_at = stamp(raw.fetched_at)
    return {
        "url": raw.url,
        "requested_url": raw.requested_url,
        "status": raw.status,
        "headers": dumps([list(pair) for pair in raw.headers]),
        "content_type": raw.content_type,
        "body": body,
        "body_codec": codec,
        "body_bytes": len(raw.body),
        "redirects": dumps(list(raw.redirects)),
        "fetched_at": fetched_at,
        "checked_at": fetched_at,
        "elapsed_ms": raw.elapsed_ms,
        "etag": raw.header("etag"),
        "last_modified": raw.header("last-modified"),
        "source": raw.source,
    }


RAW_UPSERT_COLUMNS = (
    *("url", "requested_url", "status", "headers", "content_type", "body", "body_codec"),
    *("body_bytes", "redirects", "fetched_at", "checked_at", "elapsed_ms", "etag"),
    *("last_modified", "source"),
)
# Hand-written on the fetch path: sqlite-utils' upsert measured slower here
# (BENCHMARKS.md, "The store on sqlite-utils").
RAW_UPSERT = (
    f"INSERT INTO raw_pages ({', '.join(RAW_UPSERT_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in RAW_UPSERT_COLUMNS)}) ON CONFLICT (url) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in RAW_UPSERT_COLUMNS[1:])
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
