"""One crawl's stages as asyncio tasks under one supervisor: seed, feed, fetch, extract, write.

Its parts: ``crawl_fetch`` (one URL's fetch, its outcome), ``crawl_learning`` (the site
model, the pages deferred until it exists), ``crawl_write`` (each batch's transaction, the
links followed, the failures, --limit) and ``crawl_db`` (the one database thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

import structlog

from migrator.config import Config
from migrator.crawl_db import DbThread
from migrator.crawl_fetch import CrawlFetch, Fetched, Outcome
from migrator.crawl_learning import CrawlLearner
from migrator.crawl_seed import CrawlSeeder
from migrator.crawl_write import CrawlWriter
from migrator.errors import ConfigError, ExtractError
from migrator.extract import extract_page, page_links
from migrator.fetch import Fetcher
from migrator.load import CrawlItem, Store
from migrator.models import Page, RawPage
from migrator.page_load import BATCH_PAGES
from migrator.remote_fetch import RemoteFetcher
from migrator.run_end import first_error
from migrator.run_report import Mode, ProgressCallback, RunReport
from migrator.scope import Scope
from migrator.worker_models import ModelNotSent
from migrator.workers import (
    BYTES_IN_FLIGHT,
    ByteBudget,
    LazyPool,
    extract_in_worker,
)

log = structlog.get_logger()

_FEED_BATCH = 64  # URLs claimed from the frontier at a time
_WRITE_GATHER_S = 0.05  # the writer waits this long after a first outcome to fill a batch


class Crawl:
    """One crawl: the tasks of the stages and the bookkeeping that ends it."""

    def __init__(
        self,
        config: Config,
        store: Store,
        report: RunReport,
        *,
        mode: Mode,
        pool: LazyPool | None,
        progress: ProgressCallback | None,
        limit: int | None = None,
        resume_since: str | None = None,
    ) -> None:
        self.config = config
        # A sync continuing an unfinished one: URLs answered since then are not re-checked.
        self.resume_since = resume_since
        self.store = store
        self.mode = mode
        self.pool = pool
        self.progress = progress
        self.counts = report.counts
        workers = max(1, config.fetch.concurrency) * 4
        self.fetch_workers = workers
        self.fetch_q: asyncio.Queue[CrawlItem | None] = asyncio.Queue(maxsize=workers * 2)
        self.write_q: asyncio.Queue[Outcome] = asyncio.Queue(maxsize=BATCH_PAGES * 4)
        in_flight = (config.extract.workers or os.cpu_count() or 1) * 4
        self.extract_slots = asyncio.Semaphore(in_flight)
        self.retry_lock = asyncio.Lock()  # pages whose worker died: retried one at a time
        self.budget = ByteBudget(BYTES_IN_FLIGHT)
        self.outstanding = 0  # claimed from the frontier, not yet written
        self.wake = asyncio.Event()
        # The last claim found fewer URLs than it asked for: the crawl is waiting on the
        # links of the pages in flight (a prev/next or pagination chain), so the writer
        # hands each outcome on at once instead of letting a batch gather.
        self.frontier_dry = False
        self.scope: Scope | None = None
        self.group: asyncio.TaskGroup | None = None
        self.releasing = False  # a task is extracting the deferred pages
        self.db = DbThread()
        # The parts: fetching one URL, the site model (and the pages waiting for it),
        # and the writes (with the links followed, the failures and --limit).
        self.fetching = CrawlFetch(store, self.db, self.counts, mode=mode)
        self.learner = CrawlLearner(store, self.db, mode=mode, pool=pool, limit=limit)
        self.writer = CrawlWriter(config, store, report, self.learner, mode=mode, limit=limit)

    async def crawl(
        self,
        starts: Sequence[str],
        scope: Scope,
        fetcher: Fetcher,
        helper: RemoteFetcher | None = None,
        seeds: Sequence[str] = (),
    ) -> None:
        """Discover, queue, then fetch (half the workers through ``helper`` if given).

        ``seeds`` are queued after discovery, like sitemap entries: the pages an
        archive holds (see ``migrator.sources``).
        """
        self.scope = self.writer.scope = scope
        # Same precision as Store.add_urls' listed_at (see queue_for_sync).
        discovery_started = datetime.now(UTC).isoformat(timespec="microseconds")
        seeder = CrawlSeeder(self.store, self.db, self.counts, scope)
        for start in starts:
            await seeder.seed(start, fetcher)
        if seeds:
            await seeder.seed_archive(seeds)
        if self.mode == "sync":
            self.fetching.unextracted = await seeder.queue_for_sync(
                discovery_started,
                trust_lastmod=self.config.sync.trust_lastmod,
                resume_since=self.resume_since,
            )
        try:
            # The supervisor: a task that dies (the writer on a failed commit, a fetcher
            # on a bug) cancels every other one at once, so nothing is left waiting on a
            # queue that nobody drains; the first error ends the run.
            async with asyncio.TaskGroup() as group:
                self.group = group
                stages = [group.create_task(self._feed(), name="feed")]
                stages += [
                    group.create_task(
                        self._fetch_worker(helper if helper is not None and i % 2 else fetcher),
                        name=f"fetch-{i}",
                    )
                    for i in range(self.fetch_workers)
                ]
                writer = group.create_task(self._writer(), name="writer")
                group.create_task(self._stop_when_done(stages, writer), name="supervisor")
        except BaseExceptionGroup as group_error:
            raise first_error(group_error) from None
        finally:
            self.db.shutdown()

    async def _stop_when_done(
        self, stages: list[asyncio.Task[None]], writer: asyncio.Task[None]
    ) -> None:
        """Stop the writer once the fetchers ended and every outcome is written."""
        await asyncio.gather(*stages)
        await self.write_q.join()
        writer.cancel()

    async def _feed(self) -> None:
        """Move URLs from the on-disk frontier to the fetchers; end when all is done."""
        writer = self.writer
        learner = self.learner
        while True:
            if writer.stopping:
                if self.outstanding == 0 and self.fetch_q.empty():
                    for _ in range(self.fetch_workers):
                        await self.fetch_q.put(None)
                    return
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=0.5)
                continue
            room = self.fetch_q.maxsize - self.fetch_q.qsize()
            if writer.limit is not None:
                # Never more in flight than content pages still wanted: a limited run
                # fetches no page it will not store.
                room = min(room, writer.limit - writer.content_written - self.outstanding)
            # Claim in sizeable batches: each claim is a hand-off to the database thread.
            worth = room >= min(_FEED_BATCH, self.fetch_q.maxsize) // 2 or self.fetch_q.empty()
            worth = worth and room > 0
            # Until the site model is learned, the pages fetched are its sample: spread
            # them over the frontier (every template, not only the sitemap's first).
            spread = learner.model is None and self.mode == "run"
            items = (
                await self.db.run(self.store.claim, min(room, _FEED_BATCH), spread=spread)
                if worth
                else []
            )
            if worth:
                self.frontier_dry = len(items) < min(room, _FEED_BATCH)
            if items:
                self.outstanding += len(items)
                for item in items:
                    await self.fetch_q.put(item)
                continue
            if self.outstanding == 0 and self.fetch_q.empty():
                if learner.deferring and learner.deferred and not learner.learning:
                    # The frontier ran dry before a full sample: learn from what is stored.
                    self._start_learning()
                elif not (learner.deferred or learner.learning or self.releasing):
                    for _ in range(self.fetch_workers):
                        await self.fetch_q.put(None)
                    return
            self.wake.clear()
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
            # that lands as the timeout fires, and this loop would then never end.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await self.wake.wait()

    async def _fetch_worker(self, fetcher: Fetcher | RemoteFetcher) -> None:
        low = self.fetch_q.maxsize // 2
        while (item := await self.fetch_q.get()) is not None:
            if self.fetch_q.qsize() < low:  # running dry: don't wait for the writer's wake-up
                self.wake.set()
            if self.writer.stopping:  # --limit reached: leave it for the next run
                self.outstanding -= 1
                self.wake.set()
                continue
            outcome = await self.fetching.fetch_one(item, fetcher)
            if isinstance(outcome, Fetched):
                share = await self.budget.acquire(2 * len(outcome.raw.body) + 4096)
                outcome = dataclasses.replace(outcome, share=share)
            if isinstance(outcome, Fetched) and outcome.page is None and outcome.error is None:
                await self.extract_slots.acquire()
                assert self.group is not None
                self.group.create_task(self._extract(outcome))
            else:
                await self.write_q.put(outcome)

    async def _extract(self, fetched: Fetched) -> None:
        try:
            if self.mode == "fetch":
                outcome = fetched
            elif self.learner.deferring and not fetched.redo:
                outcome = dataclasses.replace(fetched, links=await self._page_links(fetched.raw))
            else:
                try:
                    page = await self._extract_page(fetched.raw)
                    outcome = dataclasses.replace(fetched, page=page)
                except ExtractError as exc:
                    outcome = dataclasses.replace(fetched, error=exc)
                except ConfigError:
                    raise  # a broken installation stops the run (the supervisor)
                except Exception as exc:
                    log.exception("extract_crashed", url=fetched.raw.url)
                    error = ExtractError(fetched.raw.url, f"internal: {exc!r}")
                    outcome = dataclasses.replace(fetched, error=error)
            await self.write_q.put(outcome)
        finally:
            self.extract_slots.release()

    async def _page_links(self, raw: RawPage) -> tuple[str, ...]:
        """The page's links from a parse in a worker (``page_links``), before any model."""
        pool = self.pool
        assert pool is not None  # deferring needs the pool
        generation = pool.generation
        try:
            return await asyncio.wrap_future(pool.submit(page_links, raw))
        except BrokenProcessPool:
            pool.replace(generation)
        # Its worker died: no links now; extracting it later (alone if need be) says why.
        return ()

    async def _extract_page(self, raw: RawPage) -> Page:
        """Extract in a worker; a page whose worker died is retried once, alone."""
        pool = self.pool
        if pool is None:
            return extract_page(raw, self.config.extract, self.learner.model)
        generation = pool.generation
        model = self.learner.model
        ref = None if model is None else pool.models.ref(model)
        try:
            try:
                return await asyncio.wrap_future(pool.submit(extract_in_worker, raw, ref))
            except ModelNotSent:
                # That worker was never sent this model (a new model, a new worker): the
                # page goes again with the model inside; the worker keeps it.
                assert ref is not None
                assert model is not None
                whole = ref.whole(model)
                return await asyncio.wrap_future(pool.submit(extract_in_worker, raw, whole))
        except BrokenProcessPool:
            pool.replace(generation)
        log.info("extract_retry", url=raw.url, reason="worker_died")
        async with self.retry_lock:
            try:
                return await asyncio.wrap_future(pool.submit_retry(raw, self.learner.model))
            except BrokenProcessPool as exc:
                raise pool.retry_failed(raw, exc) from exc

    async def _writer(self) -> None:
        while True:
            batch = [await self.write_q.get()]
            self._drain_into(batch)
            if len(batch) < BATCH_PAGES // 4 and not self.frontier_dry:
                # A trickle: let a batch gather (one thread hand-off, one commit). Not
                # when the frontier is dry: then the links of this batch are the work
                # the fetchers wait for, and a deep chain would pay the wait per page.
                await self._gather(batch)
            try:
                await self.db.run(self.writer.write_batch, batch)
            finally:
                for outcome in batch:
                    if isinstance(outcome, Fetched):
                        self.budget.release(outcome.share)
                        if outcome.links is not None:  # stored: extracted once learned
                            self.learner.defer(outcome.item, outcome.raw.url)
                    self.write_q.task_done()
                self.outstanding -= len(batch)
                self.wake.set()
                if self.progress is not None:
                    self.progress(self.counts)
            if self.learner.learn_wanted:
                self.learner.learn_wanted = False
                self._start_learning()
            self._release_deferred()

    async def _gather(self, batch: list[Outcome]) -> None:
        await asyncio.sleep(_WRITE_GATHER_S)
        self._drain_into(batch)

    def _drain_into(self, batch: list[Outcome]) -> None:
        while len(batch) < BATCH_PAGES:
            try:
                batch.append(self.write_q.get_nowait())
            except asyncio.QueueEmpty:
                return

    def _start_learning(self) -> None:
        """Learn the site model in a task (the sample is read on the database thread,
        the learning runs in a worker): neither writes nor fetches wait for it."""
        self.learner.learning = True
        assert self.group is not None
        self.group.create_task(self._learn(), name="learn")

    async def _learn(self) -> None:
        try:
            await self.learner.learn()
        finally:
            self.wake.set()
            self._release_deferred()

    def _release_deferred(self) -> None:
        """Once the model is learned (or cannot be), extract the pages stored before it."""
        learner = self.learner
        if learner.deferred and not learner.deferring and not self.releasing:
            self.releasing = True
            assert self.group is not None
            self.group.create_task(self._extract_deferred(), name="deferred")

    async def _extract_deferred(self) -> None:
        deferred = self.learner.deferred
        waiting = self.learner.waiting
        try:
            while deferred:
                item, url = deferred.popleft()
                waiting[url] -= 1
                if waiting[url] > 0:
                    # Another frontier URL led to the same answer (a redirect and its
                    # target, both queued) and waits behind it: that answer is extracted
                    # and written once; this entry would write the same record.
                    self.counts["unchanged"] += 1
                    continue
                self.outstanding += 1  # in the same step: the feed never sees the crawl done
                raw = await self.db.run(self.store.raw_page, url)
                if raw is None:  # its write failed: recorded as a failure already
                    self.outstanding -= 1
                    self.wake.set()
                    continue
                share = await self.budget.acquire(2 * len(raw.body) + 4096)
                await self.extract_slots.acquire()
                assert self.group is not None
                fetched = Fetched(item=item, raw=raw, share=share, redo=True)
                self.group.create_task(self._extract(fetched))
        finally:
            self.releasing = False
