"""The one place that knows every stage: discover → fetch → extract → load.

``run()`` drives a crawl (``mode="run"``, ``"fetch"`` or ``"sync"``) and ``extract()``
re-runs extraction over the stored raw pages. The stages overlap: fetch coroutines
share one event loop, extraction runs in worker processes (CPU-bound, so both cores
stay busy), and one writer groups many pages per transaction while keeping each page
atomic. Every queue is bounded and the frontier lives in SQLite, so memory does not
grow with the site and a killed run resumes where it stopped. Page-level failures are
recorded and counted, never raised; run-level failures raise.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import dataclasses
import functools
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import structlog

from migrator.config import Config
from migrator.discover import discover_start
from migrator.errors import (
    ConfigError,
    ExtractError,
    FetchError,
    RunAborted,
    StoreError,
)
from migrator.extract import (
    extract_page,
    page_links,
    template_of,
)
from migrator.extract.body import require_dependencies
from migrator.fetch import Fetcher, SharedPace
from migrator.learn import (
    LEARN_AFTER,
    LEARN_SAMPLE,
    LEARN_TEMPLATE_PAGES,
    add_template,
    learn_from_db,
    learn_from_raw,
    learn_template_from_raw,
    same_model,
)
from migrator.load import CrawlItem, Store
from migrator.models import Discovered, Page, RawPage, SiteModel
from migrator.page_load import BATCH_PAGES, load_extracted, load_failed
from migrator.reextract import extract, refresh_model
from migrator.remote_fetch import RemoteFetcher
from migrator.run_end import apply_removals, finish_run, first_error, report_limits
from migrator.run_report import LOG_FAILURES, Mode, ProgressCallback, RunReport, config_hash
from migrator.run_start import archive_for_sync, check_reachable, start_urls
from migrator.scope import Scope
from migrator.sources import LiveSource, Source
from migrator.worker_models import ModelNotSent
from migrator.workers import (
    BYTES_IN_FLIGHT,
    ByteBudget,
    LazyPool,
    extract_in_worker,
)

__all__ = ["Mode", "ProgressCallback", "RunReport", "config_hash", "extract", "run"]

log = structlog.get_logger()

_P = ParamSpec("_P")
_T = TypeVar("_T")

_FEED_BATCH = 64  # URLs claimed from the frontier at a time
_WRITE_GATHER_S = 0.05  # the writer waits this long after a first outcome to fill a batch
_REMOVED_STATUSES = frozenset({404, 410})
_LINKED_MEMORY = 20_000  # links remembered as already queued (bounds memory)
# Fetch outcomes recorded in `errors` but counted as skipped, not failed.
_SKIP_REASONS = frozenset({"robots_disallowed", "unwanted_content_type"})


# --------------------------------------------------------------------------- workers


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True, slots=True, kw_only=True)
class _Fetched:
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
class _Failed:
    item: CrawlItem
    error: FetchError


@dataclass(frozen=True, slots=True, kw_only=True)
class _NotModified:
    item: CrawlItem
    fetched_at: datetime
    # A 200 whose body is byte for byte the stored one (a server without validators).
    same_body: bool = False


_Outcome = _Fetched | _Failed | _NotModified


# --------------------------------------------------------------------------- crawl


class _Crawl:
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
        self.report = report
        self.mode = mode
        self.pool = pool
        self.progress = progress
        self.counts = report.counts
        workers = max(1, config.fetch.concurrency) * 4
        self.fetch_workers = workers
        self.fetch_q: asyncio.Queue[CrawlItem | None] = asyncio.Queue(maxsize=workers * 2)
        self.write_q: asyncio.Queue[_Outcome] = asyncio.Queue(maxsize=BATCH_PAGES * 4)
        in_flight = (config.extract.workers or os.cpu_count() or 1) * 4
        self.extract_slots = asyncio.Semaphore(in_flight)
        self.retry_lock = asyncio.Lock()  # pages whose worker died: retried one at a time
        self.budget = ByteBudget(BYTES_IN_FLIGHT)
        self.outstanding = 0  # claimed from the frontier, not yet written
        self.wake = asyncio.Event()
        self.removal_candidates: list[str] = []
        self.scope: Scope | None = None
        self.linked: set[str] = set()  # links recently queued: skip re-checking them
        self.outside: set[str] = set()  # links recently found out of scope: skip them too
        # --limit N: after N content pages are written, nothing more is fetched or
        # written; the URLs claimed but not written stay in_progress and the next run
        # requeues them, so a second run continues where this one stopped.
        self.limit = limit
        self.content_written = 0
        self.stopping = False
        self.group: asyncio.TaskGroup | None = None
        self.unextracted: set[str] = set()  # stored answers without a record (sync)
        # Every database call of the crawl runs on this one thread, so a commit (or FTS
        # indexing, zlib) never stalls the event loop, and the connection is never used
        # by two threads at once: sqlite3 and zlib release the GIL while they work.
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        # The site model: the stored one (a sync, a resumed run), else learned from the
        # first LEARN_SAMPLE pages stored. Until it exists a run only stores each page
        # and follows its links (a parse, no extraction: ``deferred``), and extracts
        # those pages once it is learned: no page is extracted twice. A --limit run
        # extracts as it goes (it counts content pages) and learns after LEARN_AFTER.
        self.model: SiteModel | None = store.latest_site_model() if mode != "fetch" else None
        self.html_stored = store.html_page_count()
        self.deferring = mode == "run" and self.model is None and limit is None and pool is not None
        self.deferred: collections.deque[tuple[CrawlItem, str]] = collections.deque()
        self.releasing = False  # a task is extracting the deferred pages
        self.waiting: Counter[str] = Counter()  # deferred entries per stored answer's URL
        self.learning = False  # a task (and a worker) is learning the model
        self.learn_wanted = False  # the writer starts that task after its write
        # Pages of templates the model has no rules of their own for, by signature: a
        # template the first sample missed (a blog's archive pages are found late) gets
        # its own rules, learned from its own pages once LEARN_TEMPLATE_PAGES are stored.
        self.uncovered: Counter[str] = Counter()
        self.relearned_for: set[str] = set()
        self.known_templates: set[str] = set()  # the model's own or big in its sample
        self.full = False  # learned again from a full sample (LEARN_SAMPLE pages)
        self.learning_template: str | None = None  # the learning under way adds its rules

    async def _db(self, func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run one store call on the database thread."""
        loop = asyncio.get_running_loop()
        call = functools.partial(func, *args, **kwargs)
        # copy_context: log lines from the thread keep the run's bound run_id.
        return await loop.run_in_executor(self.db_thread, contextvars.copy_context().run, call)

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
        self.scope = scope
        # Same precision as Store.add_urls' listed_at (see queue_for_sync).
        discovery_started = datetime.now(UTC).isoformat(timespec="microseconds")
        for start in starts:
            await self._seed(start, fetcher)
        if seeds:
            await self._seed_archive(seeds)
        if self.mode == "sync":
            self.unextracted = await self._db(self.store.unextracted_urls)
            requeued = await self._db(
                self.store.queue_for_sync,
                trust_lastmod=self.config.sync.trust_lastmod,
                listed_since=discovery_started,
                checked_before=self.resume_since,
            )
            log.info("sync_queued", urls=requeued, trust_lastmod=self.config.sync.trust_lastmod)
            if self.resume_since is not None:
                states = await self._db(self.store.crawl_counts)
                # Answered by the cut-short sync(s): not asked again this time.
                self.counts["resumed_checked"] = states.get("fetched", 0)
                log.info(
                    "sync_resumed",
                    since=self.resume_since,
                    queued=states.get("queued", 0),
                    already_checked=states.get("fetched", 0),
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
            self.db_thread.shutdown(wait=True)

    async def _stop_when_done(
        self, stages: list[asyncio.Task[None]], writer: asyncio.Task[None]
    ) -> None:
        """Stop the writer once the fetchers ended and every outcome is written."""
        await asyncio.gather(*stages)
        await self.write_q.join()
        writer.cancel()

    async def _seed(self, start: str, fetcher: Fetcher) -> None:
        batch: list[Discovered] = []
        assert self.scope is not None
        async with contextlib.aclosing(discover_start(fetcher, start)) as discovered:
            async for entry in discovered:
                url = self.scope.fold(entry.url)
                found = replace(entry, url=url) if url != entry.url else entry
                # Sitemap and feed URLs spend the same budgets as links (max_pages, traps).
                if self.scope.admit(found.url, found.depth):
                    batch.append(found)
                elif self.scope.exhausted:
                    break  # the page budget is spent: read no further sitemaps
                if len(batch) >= 500:
                    self.counts["discovered"] += await self._db(self.store.add_urls, list(batch))
                    batch.clear()
        self.counts["discovered"] += await self._db(self.store.add_urls, batch)

    async def _seed_archive(self, urls: Sequence[str]) -> None:
        assert self.scope is not None
        batch = []
        for url in map(self.scope.fold, urls):
            if self.scope.allows(url) and self.scope.admit(url, 0):
                batch.append(Discovered(url=url, via="archive"))
        self.counts["discovered"] += await self._db(self.store.add_urls, batch)

    async def _feed(self) -> None:
        """Move URLs from the on-disk frontier to the fetchers; end when all is done."""
        while True:
            if self.stopping:
                if self.outstanding == 0 and self.fetch_q.empty():
                    for _ in range(self.fetch_workers):
                        await self.fetch_q.put(None)
                    return
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=0.5)
                continue
            room = self.fetch_q.maxsize - self.fetch_q.qsize()
            if self.limit is not None:
                # Never more in flight than content pages still wanted: a limited run
                # fetches no page it will not store.
                room = min(room, self.limit - self.content_written - self.outstanding)
            # Claim in sizeable batches: each claim is a hand-off to the database thread.
            worth = room >= min(_FEED_BATCH, self.fetch_q.maxsize) // 2 or self.fetch_q.empty()
            worth = worth and room > 0
            # Until the site model is learned, the pages fetched are its sample: spread
            # them over the frontier (every template, not only the sitemap's first).
            spread = self.model is None and self.mode == "run"
            items = (
                await self._db(self.store.claim, min(room, _FEED_BATCH), spread=spread)
                if worth
                else []
            )
            if items:
                self.outstanding += len(items)
                for item in items:
                    await self.fetch_q.put(item)
                continue
            if self.outstanding == 0 and self.fetch_q.empty():
                if self.deferring and self.deferred and not self.learning:
                    # The frontier ran dry before a full sample: learn from what is stored.
                    self._start_learning()
                elif not (self.deferred or self.learning or self.releasing):
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
            if self.stopping:  # --limit reached: leave it for the next run
                self.outstanding -= 1
                self.wake.set()
                continue
            outcome = await self._fetch_one(item, fetcher)
            if isinstance(outcome, _Fetched):
                share = await self.budget.acquire(2 * len(outcome.raw.body) + 4096)
                outcome = dataclasses.replace(outcome, share=share)
            if isinstance(outcome, _Fetched) and outcome.page is None and outcome.error is None:
                await self.extract_slots.acquire()
                assert self.group is not None
                self.group.create_task(self._extract(outcome))
            else:
                await self.write_q.put(outcome)

    async def _fetch_one(self, item: CrawlItem, fetcher: Fetcher | RemoteFetcher) -> _Outcome:
        conditional = self.mode == "sync"
        try:
            raw = await fetcher.fetch(
                item.url,
                etag=item.etag if conditional else None,
                last_modified=item.last_modified if conditional else None,
            )
        except FetchError as exc:
            return _Failed(item=item, error=exc)
        except Exception as exc:
            log.exception("fetch_crashed", url=item.url)
            return _Failed(item=item, error=FetchError(item.url, f"internal: {exc!r}"))
        if raw.status == 304:
            if item.url in self.unextracted:
                stored = await self._db(self.store.stored_answer, item.url)
                if stored is not None:
                    return _Fetched(item=item, raw=stored, not_modified_at=raw.fetched_at)
            return _NotModified(item=item, fetched_at=raw.fetched_at)
        if raw.status >= 300:
            return _Failed(
                item=item, error=FetchError(item.url, f"http_{raw.status}", status=raw.status)
            )
        if conditional and not (item.etag or item.last_modified):
            return await self._compare_body(item, raw)
        return _Fetched(item=item, raw=raw)

    async def _compare_body(self, item: CrawlItem, raw: RawPage) -> _Outcome:
        """A sync's answer from a server that sends no validators (WordPress posts):
        when the body is the stored one byte for byte, skip extraction and writes as for
        a 304. Counted as ``no_validators``: stored pages a sync cannot check cheaply."""
        stored = await self._db(self.store.stored_answer, item.url)
        if stored is None:  # new to the migration: nothing to compare with
            return _Fetched(item=item, raw=raw)
        self.counts["no_validators"] += 1
        if (
            item.url not in self.unextracted
            and 200 <= stored.status < 300
            and stored.url == raw.url
            and stored.body == raw.body
        ):
            return _NotModified(item=item, fetched_at=raw.fetched_at, same_body=True)
        return _Fetched(item=item, raw=raw)

    async def _extract(self, fetched: _Fetched) -> None:
        try:
            if self.mode == "fetch":
                outcome = fetched
            elif self.deferring and not fetched.redo:
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
            return extract_page(raw, self.config.extract, self.model)
        generation = pool.generation
        model = self.model
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
                return await asyncio.wrap_future(pool.submit_retry(raw, self.model))
            except BrokenProcessPool as exc:
                raise pool.retry_failed(raw, exc) from exc

    async def _writer(self) -> None:
        while True:
            batch = [await self.write_q.get()]
            self._drain_into(batch)
            if len(batch) < BATCH_PAGES // 4:
                # A trickle: let a batch gather (one thread hand-off, one commit).
                await asyncio.sleep(_WRITE_GATHER_S)
                self._drain_into(batch)
            try:
                await self._db(self._write_batch, batch)
            finally:
                for outcome in batch:
                    if isinstance(outcome, _Fetched):
                        self.budget.release(outcome.share)
                        if outcome.links is not None:  # stored: extracted once learned
                            self.deferred.append((outcome.item, outcome.raw.url))
                            self.waiting[outcome.raw.url] += 1
                    self.write_q.task_done()
                self.outstanding -= len(batch)
                self.wake.set()
                if self.progress is not None:
                    self.progress(self.counts)
            if self.learn_wanted:
                self.learn_wanted = False
                self._start_learning()
            self._release_deferred()

    def _start_learning(self) -> None:
        """Learn the site model in a task (the sample is read on the database thread,
        the learning runs in a worker): neither writes nor fetches wait for it."""
        self.learning = True
        assert self.group is not None
        self.group.create_task(self._learn(), name="learn")

    async def _learn(self) -> None:
        model: SiteModel | None = None
        template = self.learning_template
        rules = self.model if template is not None else None
        try:
            if self.pool is not None and self.store.path.is_file():
                # The worker reads its sample from the database itself (learn_from_db),
                # of the answers stored by now: the same sample as read here.
                upto = await self._db(self.store.last_raw_id)
                path = self.store.path
                future = self.pool.submit(learn_from_db, path, upto, rules, template)
                model = await asyncio.wrap_future(future)
            else:
                sample, feed = await self._db(self._learning_sample, template)
                if template is not None and rules is not None:
                    model = await self._db(learn_template_from_raw, sample, rules, template, feed)
                else:
                    model = await self._db(learn_from_raw, sample, feed)
                del sample
        except Exception as exc:  # noqa: BLE001 - a crawl without a model still extracts
            log.warning("site_model_failed", reason=repr(exc))
        try:
            if model is not None:
                await self._db(self._adopt, model)
            elif template is not None:
                await self._db(self._retry_template, template)
        finally:
            self.learning = False
            self.learning_template = None
            self.deferring = False  # learned or not: the deferred pages are extracted now
            self.wake.set()
            self._release_deferred()

    def _learning_sample(self, template: str | None) -> tuple[list[RawPage], dict[str, str]]:
        if template is not None:  # its own pages: as many as it has, within two rounds
            sample = self.store.sample_template_pages(template, 2 * LEARN_TEMPLATE_PAGES)
        else:
            sample = self.store.sample_raw_pages(LEARN_SAMPLE)
        return sample, self.store.feed_dates()

    def _adopt(self, model: SiteModel) -> None:
        """Use a learned model from now on (on the database thread)."""
        if self.model is not None and model.signature is not None:
            model = add_template(self.model, model)  # one template's rules: added
        if self.model is None or not same_model(self.model, model):
            self.store.save_site_model(model)
            self.model = model  # later extractions use it; earlier ones are redone
            self.uncovered.clear()
            self.known_templates.clear()

    def _retry_template(self, template: str) -> None:
        """Its pages taught nothing yet (too few distinct ones): try again once as many
        more are stored (on the database thread)."""
        self.relearned_for.discard(template)
        self.uncovered[template] = 0

    def _release_deferred(self) -> None:
        """Once the model is learned (or cannot be), extract the pages stored before it."""
        if self.deferred and not self.deferring and not self.releasing:
            self.releasing = True
            assert self.group is not None
            self.group.create_task(self._extract_deferred(), name="deferred")

    async def _extract_deferred(self) -> None:
        try:
            while self.deferred:
                item, url = self.deferred.popleft()
                self.waiting[url] -= 1
                if self.waiting[url] > 0:
                    # Another frontier URL led to the same answer (a redirect and its
                    # target, both queued) and waits behind it: that answer is extracted
                    # and written once; this entry would write the same record.
                    self.counts["unchanged"] += 1
                    continue
                self.outstanding += 1  # in the same step: the feed never sees the crawl done
                raw = await self._db(self.store.raw_page, url)
                if raw is None:  # its write failed: recorded as a failure already
                    self.outstanding -= 1
                    self.wake.set()
                    continue
                share = await self.budget.acquire(2 * len(raw.body) + 4096)
                await self.extract_slots.acquire()
                assert self.group is not None
                fetched = _Fetched(item=item, raw=raw, share=share, redo=True)
                self.group.create_task(self._extract(fetched))
        finally:
            self.releasing = False

    def _drain_into(self, batch: list[_Outcome]) -> None:
        while len(batch) < BATCH_PAGES:
            try:
                batch.append(self.write_q.get_nowait())
            except asyncio.QueueEmpty:
                return

    def _write_batch(self, batch: list[_Outcome]) -> None:
        """One transaction for many pages (on the database thread)."""
        not_modified = [o for o in batch if isinstance(o, _NotModified)]
        with self.store.transaction():
            if not_modified:
                same = [(o.item.url, o.fetched_at) for o in not_modified if o.same_body]
                answers = [(o.item.url, o.fetched_at) for o in not_modified if not o.same_body]
                self.store.save_not_modified_many(answers)
                self.store.save_not_modified_many(same, status=200)
                self.counts["not_modified"] += len(answers)
                self.counts["same_body"] += len(same)
                self.counts["unchanged"] += len(not_modified)
            for outcome in batch:
                if not isinstance(outcome, _NotModified):
                    self._write_guarded(outcome)

    def _write_guarded(self, outcome: _Fetched | _Failed) -> None:
        """Write one outcome; a store failure costs that page only (its savepoint)."""
        try:
            self._write(outcome)
        except StoreError as exc:
            load_failed(self.store, self.report, outcome.item.url, exc)

    def _write(self, outcome: _Fetched | _Failed) -> None:
        counts = self.counts
        url = outcome.item.url
        if isinstance(outcome, _Failed):
            error = outcome.error
            status = error.status
            gone = self._gone(url) if status in _REMOVED_STATUSES else None
            self.store.save_failure(
                url, stage="fetch", reason=error.reason, status=status, attempts=error.attempts
            )
            if error.reason in _SKIP_REASONS:  # the site's wish or not a page: not a failure
                counts["skipped"] += 1
                return
            if gone is not None:  # a removal, a page already removed, a dead link
                counts[gone] += 1
                return
            counts["failed"] += 1
            self._remember_failure(url, error.reason)
            log.warning("page_failed", url=url, stage="fetch", reason=error.reason, status=status)
            return
        if self.stopping:  # --limit reached: this page is the next run's
            return
        raw = outcome.raw
        page = outcome.page
        if outcome.not_modified_at is not None:
            self.store.save_not_modified_many([(url, outcome.not_modified_at)])
            counts["not_modified"] += 1
            counts["extracted_again"] += 1
        elif outcome.redo:  # stored before the model: only its page type is new
            if page is not None:
                self.store.save_fetch(url, raw, page_type=page.page_type, stored=True)
        else:
            counts["fetched"] += 1
            self.store.save_fetch(url, raw, page_type=page.page_type if page else None)
        if self.mode != "fetch" and 200 <= raw.status < 300:
            self._maybe_learn(page, stored=not outcome.redo)
        if outcome.links is not None:  # extracted once the model is learned
            self._follow(outcome.links, raw.url, outcome.item)
            return
        result: Page | ExtractError | None = outcome.error or page
        if result is None:  # fetch-only mode: links are found when extract runs
            return
        if page is not None:
            if not outcome.redo:  # a deferred page's links were followed when stored
                self._follow(page.links, page.url, outcome.item)
            if page.page_type != "listing" and self._save_canonical_alias(page, outcome.item):
                counts["aliased"] += 1
                return
        load_extracted(
            self.store,
            self.report,
            raw,
            result,
            # A deferred page names the answer it was read from (``pages.raw_url``): the
            # frontier URL that stored it may be one of several leading to it.
            url=raw.url if outcome.redo else url,
            extract=lambda first: extract_page(first, self.config.extract, self.model),
        )
        content = page is not None and page.page_type != "listing" and page.part_of is None
        if self.limit is not None and content:
            self.content_written += 1
            if self.content_written >= self.limit:
                self.stopping = True

    def _maybe_learn(self, page: Page | None, *, stored: bool = True) -> None:
        """Ask for the site model to be learned once enough pages are stored, and again
        when pages of a template it has no rules for reach their share (on the database
        thread; ``stored``: ``page`` was just stored, not extracted after the fact).

        The writer starts the learning after this batch (``_start_learning``): the
        sample is read on the database thread and learned in an extraction worker, so
        neither the writes nor the event loop wait for it.
        """
        if stored:
            self.html_stored += 1
        if self.learning:
            return
        if self.deferring:
            if self.html_stored < LEARN_SAMPLE:
                return
        elif self.model is None:
            if self.html_stored < LEARN_AFTER or self.html_stored % LEARN_AFTER:
                return
        elif self.mode != "run":
            return
        elif self.model.pages_sampled < LEARN_SAMPLE <= self.html_stored and not self.full:
            self.full = True  # a full sample exists now: the model the crawl keeps
            self.learning_template = None
        elif (template := self._new_template(page)) is not None:
            self.learning_template = template  # only the new template's rules are learned
        else:
            return
        self.learning = True
        self.learn_wanted = True

    def _new_template(self, page: Page | None) -> str | None:
        """The template ``page`` belongs to when the model did not see enough of it and
        it now has enough stored pages to learn its own rules from
        (``LEARN_TEMPLATE_PAGES``), else ``None``.

        Its own pages, not a share of the site's: a template the first sample missed (a
        blog's archive pages, all one link or more from the start) is learned while few
        of its pages were extracted without its rules (they are redone after the crawl).
        """
        model = self.model
        if page is None or model is None:
            return None
        signature = template_of(page.extractor_version)
        if signature is None or signature in self.relearned_for:
            return None
        if signature not in self.known_templates:
            # Its own rules, or a share of the sample (the one template of a one-theme
            # site has no rules of its own: the site-wide ones are its).
            sampled = dict(model.templates).get(signature, 0)
            if model.for_template(signature) is not model or sampled >= 0.1 * model.pages_sampled:
                self.known_templates.add(signature)
                return None
            self.uncovered[signature] += 1
            if self.uncovered[signature] < LEARN_TEMPLATE_PAGES:
                return None
            self.relearned_for.add(signature)
            log.info("site_model_new_template", template=signature, pages=self.uncovered[signature])
            return signature
        return None

    def _gone(self, url: str) -> str | None:
        """What a 404/410 means for ``url`` when it is not a failure (the count it goes
        to), else ``None``.

        A sync's nightly exit status must not stay 3 forever once a post is deleted: a
        page that now vanishes is a removal candidate (counted ``removed`` when marked),
        one already marked removed is ``already_removed``, and a URL that never gave a
        page (a dead link, a stale sitemap entry) is a ``dead_link``. A stored page
        that vanishes during a first run is still a failure.
        """
        status = self.store.page_status(url)
        if status is None:
            return "dead_links"
        if self.mode != "sync":
            return None
        if status == "live":
            self.removal_candidates.append(url)
            return "removal_candidates"
        return "already_removed"

    def _save_canonical_alias(self, page: Page, item: CrawlItem) -> bool:
        """rel=canonical names another in-scope page: keep this URL as its alias only."""
        canonical = page.canonical_url
        return (
            canonical != page.url
            and self.scope is not None
            and self.scope.allows(canonical)
            and self.store.save_canonical_alias(page.url, canonical, depth=item.depth)
        )

    def _follow(self, links: Sequence[str], referrer: str, item: CrawlItem) -> None:
        if not self.config.scope.follow_links:
            return
        assert self.scope is not None
        depth = item.depth + 1
        scope = self.scope
        linked = self.linked
        outside = self.outside
        found = []
        for href in links[: self.config.scope.max_links_per_page]:
            # Nav, category, related and external links repeat on every page: the link
            # as the page gave it is looked up first, before folding or parsing it.
            if href in linked or href in outside:
                continue
            link = scope.fold(href)
            if link in linked:
                linked.add(href)
                continue
            if not scope.allows(link):  # a pure test: its answer never changes
                outside.add(href)
                continue
            if scope.admit(link, depth):  # stateful (budgets, traps): never remembered
                found.append(Discovered(url=link, via="link", referrer=referrer, depth=depth))
                linked.update((link, href))
        if len(linked) > _LINKED_MEMORY:  # bounded: forgetting costs a no-op insert
            linked.clear()
        if len(outside) > _LINKED_MEMORY:
            outside.clear()
        if found:
            self.counts["discovered"] += self.store.add_urls(found)

    def _remember_failure(self, url: str, reason: str) -> None:
        if len(self.report.failures) < LOG_FAILURES:
            self.report.failures.append((url, reason))


# --------------------------------------------------------------------------- entry points


def run(
    config: Config,
    store: Store,
    *,
    mode: Mode = "run",
    start: str | None = None,
    progress: ProgressCallback | None = None,
    limit: int | None = None,
    max_failures: int | None = None,
    source: Source | None = None,
) -> RunReport:
    """Crawl the site into ``store``: discover, fetch, extract and load.

    Args:
        config: the migration's configuration.
        store: the open migration database.
        mode: ``run`` (crawl; resumes an unfinished one), ``fetch`` (download only) or
            ``sync`` (re-check every known URL with conditional requests, find new and
            removed pages).
        start: the site root or sitemap URL; defaults to ``config.site.start`` and, on
            a sync, to the start of the database's first run.
        progress: called with the running counts after each written batch.
        limit: stop cleanly after this many content pages (not listings) are written;
            the rest stays queued for the next run.
        max_failures: more failed pages than this make the run ``failed``.
        source: where the answers come from (``migrator.sources``); the live site
            when ``None``.

    Returns:
        The run's report (also stored in the ``runs`` table).

    Raises:
        ConfigError: no usable start URL.
        RunAborted: the mass-removal guard stopped a sync.
    """
    source, start = archive_for_sync(store, mode, source, start)
    starts = start_urls(config, store, start)
    if mode == "run":  # a sync checks when it first extracts (LazyPool)
        require_dependencies(config.extract)
    started = datetime.now(UTC)
    # A sync after a sync that was cut short continues it instead of starting over.
    resume_since = store.unfinished_sync_since() if mode == "sync" else None
    described = source.describe() if source is not None else None
    run_id = store.start_run(
        mode,
        config_hash=config_hash(config),
        start_url=starts[0],
        source=json.dumps(described, sort_keys=True) if described else None,
    )
    structlog.contextvars.bind_contextvars(run_id=run_id)
    report = RunReport(run_id=run_id, mode=mode, db_path=str(store.path), started_at=started)
    log.info("run_started", mode=mode, start=starts[0])
    requeued = store.requeue_in_progress()
    if requeued:
        log.info("run_resumed", requeued=requeued)
    pool = LazyPool(config.extract) if mode != "fetch" else None
    try:
        removals = asyncio.run(
            _crawl(
                config,
                store,
                report,
                mode=mode,
                starts=starts,
                pool=pool,
                progress=progress,
                limit=limit,
                source=source,
                resume_since=resume_since,
            )
        )
        if mode != "fetch" and pool is not None:
            refresh_model(store, report, pool, config.extract, relearn=mode == "run")
        if mode == "sync":
            apply_removals(config, store, report, removals)
    except RunAborted as exc:
        report.status, report.message = "aborted", str(exc)
        raise
    except KeyboardInterrupt:  # Ctrl-C, and SIGTERM / SIGHUP through the CLI
        report.status = "interrupted"
        raise
    except asyncio.CancelledError as exc:  # asyncio's Ctrl-C when cancelled twice over
        report.status = "interrupted"
        raise KeyboardInterrupt from exc
    except BaseException:
        report.status = "failed"
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        finish_run(store, report, max_failures)
        structlog.contextvars.unbind_contextvars("run_id")
    return report


def _quiet_stops(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's error handler: a crawl stopped by Ctrl-C or a signal leaves its task
    holding the ``KeyboardInterrupt`` that ``run`` re-raises (and the CLI reports in one
    line); asyncio would print "Task exception was never retrieved" for it when the task
    is collected. Anything else goes to asyncio's own handler."""
    if isinstance(context.get("exception"), KeyboardInterrupt | SystemExit):
        return
    loop.default_exception_handler(context)


async def _crawl(
    config: Config,
    store: Store,
    report: RunReport,
    *,
    mode: Mode,
    starts: Sequence[str],
    pool: LazyPool | None,
    progress: ProgressCallback | None,
    limit: int | None = None,
    source: Source | None = None,
    resume_since: str | None = None,
) -> list[str]:
    """Run the crawl; return the URLs that now answer 404/410 (sync removal candidates)."""
    asyncio.get_running_loop().set_exception_handler(_quiet_stops)
    source = source or LiveSource()
    config = source.prepare(config)
    if source.live:
        await check_reachable(starts[0], timeout=config.fetch.timeout, resolve=config.fetch.resolve)
    scope = Scope.from_config(config, starts)
    # Trap budgets (max_pages, URLs per path pattern) span runs: a resumed run or a
    # nightly sync must not admit another max_urls_per_pattern calendar pages each time.
    scope.seed(store.iter_known_urls())
    live_sync = source.live and mode == "sync"
    helper = live_sync and config.sync.fetch_processes > 1 and config.fetch.concurrency > 1
    if helper:
        # Two fetching processes share the site's politeness budget: each gets half the
        # per-host concurrency, and every request start (delay, Crawl-delay, Retry-After,
        # slow-downs) is booked on one shared schedule. With concurrency 1 there is no
        # half to give: one process fetches.
        config = config.with_fetch(concurrency=config.fetch.concurrency // 2)
    crawl = _Crawl(
        config,
        store,
        report,
        mode=mode,
        pool=pool,
        progress=progress,
        limit=limit,
        resume_since=resume_since,
    )
    if helper:
        pace = SharedPace()
        async with (
            Fetcher(config, scope, pace=pace) as fetcher,
            RemoteFetcher(config, starts, pace=pace) as remote,
        ):
            await crawl.crawl(starts, scope, fetcher, remote)
        report_limits(scope, report)
        return crawl.removal_candidates
    async with source.open(config, scope) as fetcher:
        await crawl.crawl(starts, scope, fetcher, seeds=source.seeds())
    report_limits(scope, report, source.limits())
    if crawl.stopping:
        report.counts["limited_run"] = crawl.content_written
        said = (
            f"stopped after {crawl.content_written} content pages (--limit); run again to continue"
        )
        report.message = f"{report.message}; {said}" if report.message else said
        log.info("run_limit_reached", pages=crawl.content_written)
    return crawl.removal_candidates
