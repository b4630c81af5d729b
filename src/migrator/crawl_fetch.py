"""One URL's fetch and what it gives the crawl's writer: its outcome.

``CrawlFetch.fetch_one`` turns a frontier URL into a ``Fetched`` answer (extracted in a
worker, then written), a ``Failed`` fetch or a ``NotModified`` answer (a sync's 304, or a
200 whose body is the stored one); the writer (``crawl_write``) stores each outcome.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import structlog

from migrator.crawl_db import DbThread
from migrator.errors import ExtractError, FetchError
from migrator.fetch import Fetcher
from migrator.load import CrawlItem, Store
from migrator.models import Page, RawPage
from migrator.remote_fetch import RemoteFetcher
from migrator.run_report import Mode

log = structlog.get_logger()


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """An answer to store (and extract, or extracted already)."""

    item: CrawlItem
    raw: RawPage
    page: Page | None = None
    error: ExtractError | None = None
    # Set when the server answered 304 and ``raw`` is the stored answer, extracted again
    # because it had no record (its extraction or load failed before).
    not_modified_at: datetime | None = None
    share: int = 0  # bytes taken from the crawl's ByteBudget, given back once written
    # Before the site model exists: the page's links only (``page_links``); the page is
    # stored and its links followed now, and it is extracted once the model is learned.
    links: tuple[str, ...] | None = None
    # A deferred page extracted now: stored and its links followed already.
    redo: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed:
    """A fetch that gave no answer to store (an error, or a status of 300 or more but 304)."""

    item: CrawlItem
    error: FetchError


@dataclass(frozen=True, slots=True, kw_only=True)
class NotModified:
    """A sync's answer that is the stored one: only its check time is written."""

    item: CrawlItem
    fetched_at: datetime
    # A 200 whose body is byte for byte the stored one (a server without validators).
    same_body: bool = False


Outcome = Fetched | Failed | NotModified


# --------------------------------------------------------------------------- fetch


class CrawlFetch:
    """Fetching one claimed URL into its outcome (conditionally, on a sync)."""

    def __init__(self, store: Store, db: DbThread, counts: Counter[str], *, mode: Mode) -> None:
        self.store = store
        self.db = db
        self.counts = counts
        self.mode = mode
        self.unextracted: set[str] = set()  # stored answers without a record (sync)

    async def fetch_one(self, item: CrawlItem, fetcher: Fetcher | RemoteFetcher) -> Outcome:
        """Fetch ``item`` (conditionally on a sync) into what the writer stores."""
        conditional = self.mode == "sync"
        try:
            raw = await fetcher.fetch(
                item.url,
                etag=item.etag if conditional else None,
                last_modified=item.last_modified if conditional else None,
            )
        except FetchError as exc:
            return Failed(item=item, error=exc)
        except Exception as exc:
            log.exception("fetch_crashed", url=item.url)
            return Failed(item=item, error=FetchError(item.url, f"internal: {exc!r}"))
        if raw.status == 304:
            if item.url in self.unextracted:
                stored = await self.db.run(self.store.stored_answer, item.url)
                if stored is not None:
                    return Fetched(item=item, raw=stored, not_modified_at=raw.fetched_at)
            return NotModified(item=item, fetched_at=raw.fetched_at)
        if raw.status >= 300:
            return Failed(
                item=item, error=FetchError(item.url, f"http_{raw.status}", status=raw.status)
            )
        if conditional and not (item.etag or item.last_modified):
            return await self._compare_body(item, raw)
        return Fetched(item=item, raw=raw)

    async def _compare_body(self, item: CrawlItem, raw: RawPage) -> Outcome:
        """A sync's answer from a server that sends no validators (WordPress posts):
        when the body is the stored one byte for byte, skip extraction and writes as for
        a 304. Counted as ``no_validators``: stored pages a sync cannot check cheaply."""
        stored = await self.db.run(self.store.stored_answer, item.url)
        if stored is None:  # new to the migration: nothing to compare with
            return Fetched(item=item, raw=raw)
        self.counts["no_validators"] += 1
        if (
            item.url not in self.unextracted
            and 200 <= stored.status < 300
            and stored.url == raw.url
            and stored.body == raw.body
        ):
            return NotModified(item=item, fetched_at=raw.fetched_at, same_body=True)
        return Fetched(item=item, raw=raw)
