"""What a crawl starts from: the site's own lists (sitemaps, feeds, the start pages), an
archive's pages, and on a sync every URL already known."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

import structlog

from migrator.crawl_db import DbThread
from migrator.discover import discover_start
from migrator.fetch import Fetcher
from migrator.load import Store
from migrator.models import Discovered
from migrator.scope import Scope

log = structlog.get_logger()

_ADD_BATCH = 500  # discovered URLs written to the frontier at a time


class CrawlSeeder:
    """Fills the frontier before the fetchers start, through the database thread."""

    def __init__(self, store: Store, db: DbThread, counts: Counter[str], scope: Scope) -> None:
        self.store = store
        self.db = db
        self.counts = counts
        self.scope = scope

    async def seed(self, start: str, fetcher: Fetcher) -> None:
        """Queue what discovery finds from ``start`` (robots.txt, sitemaps, feeds)."""
        batch: list[Discovered] = []
        scope = self.scope
        async with contextlib.aclosing(discover_start(fetcher, start)) as discovered:
            async for entry in discovered:
                url = scope.fold(entry.url)
                found = replace(entry, url=url) if url != entry.url else entry
                # Sitemap and feed URLs spend the same budgets as links (max_pages, traps).
                if scope.admit(found.url, found.depth):
                    batch.append(found)
                elif scope.exhausted:
                    break  # the page budget is spent: read no further sitemaps
                if len(batch) >= _ADD_BATCH:
                    self.counts["discovered"] += await self.db.run(self.store.add_urls, list(batch))
                    batch.clear()
        self.counts["discovered"] += await self.db.run(self.store.add_urls, batch)

    async def seed_archive(self, urls: Sequence[str]) -> None:
        """Queue the pages an archive holds (see ``migrator.sources``)."""
        batch = []
        for url in map(self.scope.fold, urls):
            if self.scope.allows(url) and self.scope.admit(url, 0):
                batch.append(Discovered(url=url, via="archive"))
        self.counts["discovered"] += await self.db.run(self.store.add_urls, batch)

    async def queue_for_sync(
        self, discovery_started: str, *, trust_lastmod: bool, resume_since: str | None
    ) -> set[str]:
        """Queue every known URL for a sync (all but those a cut-short sync answered).

        Returns the URLs stored but never extracted (their answer is extracted even when
        unchanged).
        """
        unextracted = await self.db.run(self.store.unextracted_urls)
        requeued = await self.db.run(
            self.store.queue_for_sync,
            trust_lastmod=trust_lastmod,
            listed_since=discovery_started,
            checked_before=resume_since,
        )
        log.info("sync_queued", urls=requeued, trust_lastmod=trust_lastmod)
        if resume_since is not None:
            states = await self.db.run(self.store.crawl_counts)
            # Answered by the cut-short sync(s): not asked again this time.
            self.counts["resumed_checked"] = states.get("fetched", 0)
            log.info(
                "sync_resumed",
                since=resume_since,
                queued=states.get("queued", 0),
                already_checked=states.get("fetched", 0),
            )
        return unextracted
