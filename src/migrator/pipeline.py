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
import hashlib
import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal, ParamSpec, TypeVar
from urllib.parse import urlsplit

import structlog

from migrator.children import die_with_parent
from migrator.config import Config, ExtractConfig
from migrator.discover import discover_start
from migrator.errors import (
    ConfigError,
    ExtractError,
    FetchError,
    MigratorError,
    RunAborted,
    RunFailed,
    StoreError,
)
from migrator.extract import (
    EXTRACTOR_VERSION,
    extract_page,
    model_changes_page,
    page_links,
    template_of,
    version_tag,
)
from migrator.extract.body import require_dependencies
from migrator.fetch import Fetcher, SharedPace, resolve_map
from migrator.learn import (
    LEARN_AFTER,
    LEARN_MIN_TEMPLATE,
    LEARN_SAMPLE,
    LEARN_TEMPLATE_PAGES,
    LEARN_TEMPLATE_SHARE,
    add_template,
    learn_from_db,
    learn_from_raw,
    learn_from_store,
    learn_template_from_raw,
    same_model,
    same_rules,
)
from migrator.load import CrawlItem, Store
from migrator.log import logging_settings, setup_child_logging
from migrator.models import Discovered, Page, RawPage, SiteModel
from migrator.parts import load_part
from migrator.remote_fetch import RemoteFetcher
from migrator.scope import Scope
from migrator.sources import LiveSource, Source, reopen_source
from migrator.urls import canonical_url, is_http_url
from migrator.worker_models import ModelNotSent, ModelRef, ModelRefs, model_in_worker

__all__ = ["Mode", "ProgressCallback", "RunReport", "config_hash", "extract", "run"]

log = structlog.get_logger()

Mode = Literal["run", "fetch", "sync"]
_P = ParamSpec("_P")
_T = TypeVar("_T")
ProgressCallback = Callable[[Counter[str]], None]

_BATCH_PAGES = 64  # pages per write transaction: amortizes the commit, keeps latency low
_FEED_BATCH = 64  # URLs claimed from the frontier at a time
_WRITE_GATHER_S = 0.05  # the writer waits this long after a first outcome to fill a batch
_REMOVED_STATUSES = frozenset({404, 410})
_LINKED_MEMORY = 20_000  # links remembered as already queued (bounds memory)
_LOG_FAILURES = 20  # failures kept in the report for the summary
# Bytes of fetched bodies (and the records made from them) between the fetchers and the
# database write. Counts alone (about 330 pages in flight) allowed 6 GB at 20 MB a page.
_BYTES_IN_FLIGHT = 256 * 1024 * 1024
# Fetch outcomes recorded in `errors` but counted as skipped, not failed.
_SKIP_REASONS = frozenset({"robots_disallowed", "unwanted_content_type"})


@dataclass(slots=True, kw_only=True)
class RunReport:
    """What a run did: counts by outcome, timing, and the first failures."""

    run_id: int
    mode: str
    db_path: str
    started_at: datetime
    finished_at: datetime | None = None
    status: Literal["ok", "failed", "aborted", "interrupted"] = "ok"
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    message: str | None = None

    @property
    def elapsed_s(self) -> float:
        """Wall-clock seconds of the run."""
        end = self.finished_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly view for ``--json`` output."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        data["counts"] = dict(self.counts)
        data["elapsed_s"] = round(self.elapsed_s, 3)
        return data


def config_hash(config: Config) -> str:
    """A short stable hash of the effective configuration, stored with each run."""
    blob = json.dumps(asdict(config), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- workers


_worker_rules: ExtractConfig | None = None


def _init_worker(
    rules: ExtractConfig, main_pid: int, log_settings: tuple[int, bool] | None
) -> None:
    global _worker_rules  # noqa: PLW0603 - one immutable value per worker process
    die_with_parent(main_pid)
    _worker_rules = rules
    setup_child_logging(log_settings)  # field warnings reach the user


def _extract_in_worker(raw: RawPage, model: SiteModel | ModelRef | None = None) -> Page:
    assert _worker_rules is not None  # set by _init_worker
    return extract_page(raw, _worker_rules, model_in_worker(model))


def _reextract_in_worker(
    raw: RawPage, model: SiteModel, before: SiteModel, signature: str | None
) -> Page | None:
    """The page under ``model``, or ``None`` when it reads the same as under the
    template rules ``before`` it was extracted with (``model_changes_page``)."""
    rules = model.for_template(signature) if signature else model
    if not model_changes_page(raw, before, rules):
        return None
    return _extract_in_worker(raw, model)


def _make_pool(rules: ExtractConfig, workers: int | None = None) -> ProcessPoolExecutor:
    workers = workers or rules.workers or os.cpu_count() or 1
    # forkserver: forking a process that runs an event loop and threads is unsafe.
    ctx = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(rules, os.getpid(), logging_settings()),
    )


class _LazyPool(Executor):
    """The worker pool, started on the first page that needs extracting, and started
    again when a worker dies.

    A sync where every page answers 304 never extracts anything: starting the
    forkserver and importing the extractors in each worker would cost it about a second.
    A worker that dies (killed, out of memory, a crash in a C parser) breaks the whole
    ``ProcessPoolExecutor``: every page in flight fails with ``BrokenProcessPool``. The
    broken pool is replaced, and those pages are retried once, one at a time, in a spare
    one-worker pool, so a page that kills its worker again fails alone.
    """

    def __init__(self, rules: ExtractConfig) -> None:
        self._rules = rules
        self._pool: ProcessPoolExecutor | None = None
        self._spare: ProcessPoolExecutor | None = None
        self.generation = 0  # bumped on each replacement: one break, one replacement
        self.models = ModelRefs()  # the site model goes to the workers by reference

    def submit(self, fn: Callable[..., _T], /, *args: object, **kwargs: object) -> Future[_T]:
        if self._pool is None:
            # A sync checks here, not at its start: importing trafilatura costs ~1 s,
            # and a sync where nothing changed extracts nothing.
            require_dependencies(self._rules)
            self._pool = _make_pool(self._rules)
        try:
            return self._pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            # Broken before this page was handed over: nothing to retry, just replace.
            self.replace(self.generation)
            return self.submit(fn, *args, **kwargs)

    def replace(self, generation: int) -> None:
        """The pool of ``generation`` broke: start a new one on the next submit."""
        if generation != self.generation or self._pool is None:
            return  # another page of the same break already replaced it
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        self.generation += 1
        log.warning("extract_pool_replaced", reason="a worker process died")

    def submit_retry(self, raw: RawPage, model: SiteModel | None = None) -> Future[Page]:
        """Extract ``raw`` again in the spare pool (callers retry one page at a time)."""
        if self._spare is None:
            self._spare = _make_pool(self._rules, workers=1)
        return self._spare.submit(_extract_in_worker, raw, model)

    def retry_failed(self, raw: RawPage, exc: BaseException) -> ExtractError:
        """The retried page broke the spare pool too: drop it; the page's error."""
        if self._spare is not None:
            self._spare.shutdown(wait=False, cancel_futures=True)
            self._spare = None
        log.warning("page_killed_its_worker", url=raw.url)
        error = ExtractError(raw.url, "worker_died: its worker process died twice")
        error.__cause__ = exc
        return error

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for pool in (self._pool, self._spare):
            if pool is not None:
                pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class _ByteBudget:
    """How many bytes of pages may be between fetch and the database write at once.

    A fetched page takes its share (a body and the record extracted from it, about twice
    the body) before it goes to extraction, and gives it back once written. A page larger
    than the whole budget waits until it is alone.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.peak = 0
        self._freed = asyncio.Event()

    async def acquire(self, size: int) -> int:
        """Wait until ``size`` bytes fit; return the share taken (give it back later)."""
        share = min(size, self.limit)
        while self.used + share > self.limit:
            self._freed.clear()
            await self._freed.wait()
        self.used += share
        self.peak = max(self.peak, self.used)
        return share

    def release(self, share: int) -> None:
        """Give back a share taken by :meth:`acquire`."""
        if share:
            self.used -= share
            self._freed.set()


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
    share: int = 0  # bytes taken from the crawl's _ByteBudget, given back once written
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
        pool: _LazyPool | None,
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
        self.write_q: asyncio.Queue[_Outcome] = asyncio.Queue(maxsize=_BATCH_PAGES * 4)
        in_flight = (config.extract.workers or os.cpu_count() or 1) * 4
        self.extract_slots = asyncio.Semaphore(in_flight)
        self.retry_lock = asyncio.Lock()  # pages whose worker died: retried one at a time
        self.budget = _ByteBudget(_BYTES_IN_FLIGHT)
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
            raise _first_error(group_error) from None
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
                return await asyncio.wrap_future(pool.submit(_extract_in_worker, raw, ref))
            except ModelNotSent:
                # That worker was never sent this model (a new model, a new worker): the
                # page goes again with the model inside; the worker keeps it.
                assert ref is not None
                assert model is not None
                whole = ref.whole(model)
                return await asyncio.wrap_future(pool.submit(_extract_in_worker, raw, whole))
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
            if len(batch) < _BATCH_PAGES // 4:
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
        while len(batch) < _BATCH_PAGES:
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
            _load_failed(self.store, self.report, outcome.item.url, exc)

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
        _load_extracted(
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
        if len(self.report.failures) < _LOG_FAILURES:
            self.report.failures.append((url, reason))


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that ended a crawl's task group (the others are its consequences).

    A library error is raised as it is (the CLI maps it to an exit code); anything
    else becomes a ``RunFailed`` naming the stage that died.
    """
    first = group.exceptions[0]
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    if isinstance(first, MigratorError | KeyboardInterrupt | SystemExit):
        return first
    log.debug("stage_crashed", error=repr(first), exc_info=first)
    error = RunFailed(f"the run stopped: {type(first).__name__}: {first}")
    error.__cause__ = first
    return error


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
    source, start = _archive_for_sync(store, mode, source, start)
    starts = _start_urls(config, store, start)
    if mode == "run":  # a sync checks when it first extracts (_LazyPool)
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
    pool = _LazyPool(config.extract) if mode != "fetch" else None
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
            _refresh_model(store, report, pool, config.extract, relearn=mode == "run")
        if mode == "sync":
            _apply_removals(config, store, report, removals)
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
        _finish_run(store, report, max_failures)
        structlog.contextvars.unbind_contextvars("run_id")
    return report


def _finish_run(store: Store, report: RunReport, max_failures: int | None) -> None:
    """Record the run's end; when the run already failed, a failure here (the disk is
    full) is logged, so the error that stopped the run is the one reported.

    A run that finished with more failed pages than ``max_failures`` is ``failed``: the
    ``runs`` row says what the exit status (3) says.
    """
    failed = report.counts.get("failed", 0)
    if report.status == "ok" and max_failures is not None and failed > max_failures:
        report.status = "failed"
        report.message = f"{failed} pages failed (more than --max-failures {max_failures})"
    report.finished_at = datetime.now(UTC)
    try:
        store.finish_run(report.run_id, status=report.status, counts=dict(report.counts))
    except StoreError as exc:
        if report.status == "ok":
            raise
        log.error("run_not_recorded", reason=str(exc))
    log.info("run_finished", status=report.status, **dict(report.counts))


async def _crawl(
    config: Config,
    store: Store,
    report: RunReport,
    *,
    mode: Mode,
    starts: Sequence[str],
    pool: _LazyPool | None,
    progress: ProgressCallback | None,
    limit: int | None = None,
    source: Source | None = None,
    resume_since: str | None = None,
) -> list[str]:
    """Run the crawl; return the URLs that now answer 404/410 (sync removal candidates)."""
    source = source or LiveSource()
    config = source.prepare(config)
    if source.live:
        await _check_reachable(
            starts[0], timeout=config.fetch.timeout, resolve=config.fetch.resolve
        )
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
        _report_limits(scope, report)
        return crawl.removal_candidates
    async with source.open(config, scope) as fetcher:
        await crawl.crawl(starts, scope, fetcher, seeds=source.seeds())
    _report_limits(scope, report, source.limits())
    if crawl.stopping:
        report.counts["limited_run"] = crawl.content_written
        said = (
            f"stopped after {crawl.content_written} content pages (--limit); run again to continue"
        )
        report.message = f"{report.message}; {said}" if report.message else said
        log.info("run_limit_reached", pages=crawl.content_written)
    return crawl.removal_candidates


# How the report says what each limit left out (the default: URLs refused by it).
_LIMIT_WORDS = {
    "max_sitemaps": "{n} child sitemaps or more not read (scope.max_sitemaps)",
    "max_sitemap_depth": "{n} sitemap indexes too deeply nested (scope.max_sitemap_depth)",
    "max_sitemap_bytes": "{n} sitemaps cut at 50 MB inflated (the sitemap protocol's limit)",
    "wayback_cdx": (
        "the Wayback CDX listing stopped at a full page of {n} rows without a resume key"
        " (the server does not page: captures past it were not read)"
    ),
}


def _report_limits(
    scope: Scope, report: RunReport, source_limits: Mapping[str, int] | None = None
) -> None:
    """A limit that stopped the crawl is said out loud: counts, a warning, the message."""
    cut_by_source = []
    for name, cut in sorted((source_limits or {}).items()):
        report.counts[f"limited_{name}"] += cut
        words = _LIMIT_WORDS.get(name, "{n} entries cut by {name}")
        cut_by_source.append(words.format(n=cut, name=name))
    if not scope.limited:
        if cut_by_source:
            report.message = "crawl limited: " + "; ".join(cut_by_source)
        return
    said = []
    traps = {k: n for k, n in scope.limited.items() if k.startswith("trap_")}
    for name, refused in sorted(scope.limited.items()):
        report.counts[f"limited_{name}"] += refused
        if name not in traps:
            words = _LIMIT_WORDS.get(name, "{n} URLs refused by scope.{name}")
            said.append(words.format(n=refused, name=name))
    if said:
        said[-1] += " (raise them in the config)"
    if traps:
        kinds = ", ".join(f"{k.removeprefix('trap_')} {n}" for k, n in sorted(traps.items()))
        said.append(
            f"{sum(traps.values())} URLs refused as crawler traps ({kinds}; see"
            " scope.detect_traps and scope.earliest_year)"
        )
    report.message = "crawl limited: " + "; ".join(cut_by_source + said)
    log.warning("crawl_limited", **dict(scope.limited))


async def _check_reachable(url: str, *, timeout: float, resolve: tuple[str, ...] = ()) -> None:
    """Fail fast, as a usage error, when the start host cannot be reached at all.

    A TCP connect is enough to tell a typo'd host or a server that is down from a
    site with failing pages, without downloading anything twice.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    mapped = resolve_map(resolve).get(host.lower())
    if mapped is not None:
        host, port = mapped[0], mapped[1] or port
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ConfigError(f"cannot reach {host}:{port}: {reason}") from exc
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def _apply_removals(config: Config, store: Store, report: RunReport, candidates: list[str]) -> None:
    """Mark pages removed, unless so many vanished that the site is more likely broken."""
    if not candidates:
        return
    known = max(store.page_count(), 1)
    share = len(candidates) / known
    if share > config.sync.max_removed_share:
        raise RunAborted(
            f"{len(candidates)} of {known} known pages ({share:.0%}) now answer 404/410, "
            f"more than sync.max_removed_share={config.sync.max_removed_share:.0%}; "
            "nothing was marked removed"
        )
    now = datetime.now(UTC)
    with store.transaction():
        for url in candidates:
            if store.mark_removed(url, now):
                report.counts["removed"] += 1


def _archive_for_sync(
    store: Store, mode: Mode, source: Source | None, start: str | None
) -> tuple[Source | None, str | None]:
    """A sync reads the archive the migration was read from (``runs.source``) unless
    archive options name another; either way only captures newer than the stored
    answers are read (see ``ReplayTransport``).

    Raises:
        ConfigError: the stored archive is gone, or the archive given is of another site.
    """
    if mode != "sync":
        return source, start
    if source is None:
        stored = store.last_source()
        if stored is None:
            return None, start  # a live migration: the live site
        source, start = reopen_source(stored)
    if source.live:
        return source, start
    migrated = store.last_start_url()
    if start and migrated and _site_host(start) != _site_host(migrated):
        raise ConfigError(
            f"sync: the archive is of {urlsplit(start).netloc}, this migration of"
            f" {urlsplit(migrated).netloc}"
        )
    source.sync_against(store.capture_dates())
    return source, start


def _site_host(url: str) -> str:
    return (urlsplit(url).netloc or "").lower().removeprefix("www.")


def _start_urls(config: Config, store: Store, start: str | None) -> list[str]:
    candidate = start or config.site.start or store.last_start_url()
    if not candidate:
        raise ConfigError(
            "no start URL: give START on the command line or site.start in the config"
        )
    if not is_http_url(candidate):
        raise ConfigError(f"not an http(s) URL: {candidate}")
    return [canonical_url(candidate)]


def extract(
    config: Config,
    store: Store,
    *,
    progress: ProgressCallback | None = None,
    max_failures: int | None = None,
) -> RunReport:
    """Re-extract every stored raw page with the current code and config, offline.

    Only records whose content changed are rewritten (``Store.save_page`` compares
    content hashes); a removed page stays removed. Extraction runs in worker
    processes, in order, with a bounded number of pages in flight. More failed pages
    than ``max_failures`` make the run ``failed``.

    Returns:
        The run's report.
    """
    require_dependencies(config.extract)
    started = datetime.now(UTC)
    run_id = store.start_run("extract", config_hash=config_hash(config), start_url=None)
    report = RunReport(run_id=run_id, mode="extract", db_path=str(store.path), started_at=started)
    counts = report.counts
    pool = _LazyPool(config.extract)
    model = learn_from_store(store)
    if model is not None:
        latest = store.latest_site_model()
        if latest is None or not same_model(latest, model):
            store.save_site_model(model)
        else:
            model = latest
    else:
        model = store.latest_site_model()

    def again(raw: RawPage) -> Page:
        return extract_page(raw, config.extract, model)

    try:
        batch: list[tuple[RawPage, Page | ExtractError]] = []
        batch_bytes = 0
        for raw, result in _extract_stream(pool, store.iter_raw_pages(), model):
            batch.append((raw, result))
            batch_bytes += 2 * len(raw.body)
            if len(batch) >= _BATCH_PAGES or batch_bytes > _BYTES_IN_FLIGHT // 2:
                batch_bytes = 0
                _write_extracted(store, batch, report, again)
                batch.clear()
                if progress is not None:
                    progress(counts)
        _write_extracted(store, batch, report, again)
    except KeyboardInterrupt:
        report.status = "interrupted"
        raise
    except BaseException:
        report.status = "failed"
        raise
    finally:
        pool.shutdown(cancel_futures=True)
        _finish_run(store, report, max_failures)
    return report


def _extract_stream(
    pool: _LazyPool, raws: Iterator[RawPage], model: SiteModel | None = None
) -> Iterator[tuple[RawPage, Page | ExtractError]]:
    """Yield each raw page with its extraction result, in order, a bounded window ahead."""
    for raw, result in _recheck_stream(pool, raws, model, {}):
        assert result is not None  # nothing to recheck: every page is extracted
        yield raw, result


def _refresh_model(
    store: Store, report: RunReport, pool: _LazyPool, rules: ExtractConfig, *, relearn: bool
) -> None:
    """After a crawl: learn the model from the whole crawl's sample (``relearn`` and the
    crawl's model is outgrown, or none exists yet) and re-extract the pages whose
    template's rules it changed.

    A learning that extracts every template as the crawl's model did (``same_model``)
    keeps that model. Pages extracted before the first model, or with rules the final
    model replaced for their template, are the only ones redone; their counts go to
    ``reextracted``, not to new/changed. Where the rules changed in their furniture only,
    the page is first checked (``model_changes_page``: parse and find the furniture under
    both): one on which both find the same blocks is only re-tagged.
    """
    model = store.latest_site_model()
    if model is not None and not relearn:
        return  # the crawl extracted every page with this model
    tags = list(store.extraction_tags())
    if model is None or _model_outgrown(model, tags):
        learned = learn_from_store(store)
        if learned is not None and (model is None or not same_model(model, learned)):
            store.save_site_model(learned)
            model = learned
    if model is None:
        return
    final = model
    used = {r.fingerprint: r for m in store.site_models() for r in (m, *m.by_template)}
    prefix = EXTRACTOR_VERSION + "+"
    stale: list[int] = []
    # url -> (the template rules it was extracted with, its tag): pages whose rules
    # changed in their furniture or site names only; most read the same and are only
    # re-tagged.
    recheck: dict[str, tuple[SiteModel, str]] = {}
    for raw_id, url, tag in tags:
        fingerprint = (tag or "").rpartition(":")[2]
        rules_used = used.get(fingerprint) if tag and tag.startswith(prefix) else None
        if rules_used is None:
            stale.append(raw_id)
            continue
        signature = template_of(tag)
        rules_now = final.for_template(signature) if signature else final
        if same_rules(rules_used, rules_now):
            continue
        stale.append(raw_id)
        same_but = replace(
            rules_used,
            furniture=rules_now.furniture,
            signature=rules_now.signature,
            site_names=rules_now.site_names,
        )
        if same_but.fingerprint == rules_now.fingerprint:
            recheck[url] = (rules_used, tag or "")
    if not stale:
        return

    def again(raw: RawPage) -> Page:
        return extract_page(raw, rules, final)

    shadow = RunReport(
        run_id=report.run_id, mode="extract", db_path=report.db_path, started_at=report.started_at
    )
    batch: list[tuple[RawPage, Page | ExtractError]] = []
    retag: list[tuple[str, str, str]] = []
    retagged = 0
    for raw, result in _recheck_stream(pool, store.raw_pages_by_id(stale), final, recheck):
        if result is None:
            retagged += 1
            tag = recheck[raw.url][1]
            signature = template_of(tag)
            rules_now = final.for_template(signature) if signature else final
            retag.append((raw.url, tag, version_tag(rules_now, signature)))
        else:
            batch.append((raw, result))
        if len(batch) + len(retag) >= _BATCH_PAGES:
            _write_extracted(store, batch, shadow, again)
            batch.clear()
            store.retag_pages(retag)
            retag.clear()
    _write_extracted(store, batch, shadow, again)
    if retag:
        store.retag_pages(retag)
    redone = sum(shadow.counts.values())
    if redone:
        report.counts["reextracted"] += redone
    log.info(
        "site_model_applied",
        model=final.model_fingerprint,
        pages=redone,
        retagged=retagged,
    )


def _model_outgrown(model: SiteModel, tags: list[tuple[int, str, str | None]]) -> bool:
    """Whether the crawl's model should be learned again from the whole crawl: it was
    learned from fewer pages than a full sample while more were stored, or a template
    it has no rules for holds ``LEARN_TEMPLATE_SHARE`` of the pages.

    A model learned during the crawl from a full sample spread over the frontier is
    kept: learning again from another sample of the same site only moves rare blocks in
    and out of the furniture, and each move costs re-checking pages.
    """
    if model.pages_sampled < min(LEARN_SAMPLE, len(tags)):
        return True
    sampled = dict(model.templates)
    counts = Counter(template_of(tag) for _, _, tag in tags)
    big = max(LEARN_MIN_TEMPLATE, LEARN_TEMPLATE_SHARE * len(tags))
    return any(
        signature is not None
        and count >= big
        and model.for_template(signature) is model
        and sampled.get(signature, 0) < 0.1 * model.pages_sampled
        for signature, count in counts.items()
    )


def _recheck_stream(
    pool: _LazyPool,
    raws: Iterator[RawPage],
    model: SiteModel | None,
    recheck: dict[str, tuple[SiteModel, str]],
) -> Iterator[tuple[RawPage, Page | ExtractError | None]]:
    """Each raw page with its extraction result, in order, a bounded window ahead; a
    page in ``recheck`` is first compared under its old rules and ``model``'s (``None``:
    it reads the same, nothing was extracted)."""
    window = 64
    pending: list[tuple[RawPage, Future[Page] | Future[Page | None], int]] = []
    in_flight = 0  # bytes of the pending bodies: bounded like the crawl's (_ByteBudget)
    for raw in raws:
        before = recheck.get(raw.url)
        future: Future[Page] | Future[Page | None] = (
            pool.submit(_reextract_in_worker, raw, model, before[0], template_of(before[1]))
            if before is not None and model is not None
            else pool.submit(_extract_in_worker, raw, model)
        )
        pending.append((raw, future, pool.generation))
        in_flight += len(raw.body)
        while len(pending) >= window or (in_flight > _BYTES_IN_FLIGHT // 2 and pending):
            done = pending.pop(0)
            in_flight -= len(done[0].body)
            yield _result(pool, *done, model=model)
    while pending:
        yield _result(pool, *pending.pop(0), model=model)


def _result(
    pool: _LazyPool,
    raw: RawPage,
    future: Future[Page] | Future[Page | None],
    generation: int,
    *,
    model: SiteModel | None = None,
) -> tuple[RawPage, Page | ExtractError | None]:
    try:
        try:
            return raw, future.result()
        except BrokenProcessPool:
            pool.replace(generation)  # a worker died: retry this page once, alone
        try:
            return raw, pool.submit_retry(raw, model).result()
        except BrokenProcessPool as exc:
            return raw, pool.retry_failed(raw, exc)
    except ExtractError as exc:
        return raw, exc
    except Exception as exc:  # noqa: BLE001 - the per-page boundary
        return raw, ExtractError(raw.url, f"internal: {exc!r}")


def _write_extracted(
    store: Store,
    batch: list[tuple[RawPage, Page | ExtractError]],
    report: RunReport,
    extract: Callable[[RawPage], Page] | None = None,
) -> None:
    with store.transaction():
        for raw, result in batch:
            try:
                _load_extracted(
                    store, report, raw, result, url=raw.url, seen=False, extract=extract
                )
            except StoreError as exc:
                _load_failed(store, report, raw.url, exc)


def _load_failed(store: Store, report: RunReport, url: str, exc: StoreError) -> None:
    """A page whose rows could not be written (its savepoint rolled back): record it."""
    log.error("page_failed", url=url, stage="load", reason=str(exc))
    store.save_failure(url, stage="load", reason=str(exc), status=None, attempts=1)
    report.counts["failed"] += 1
    if len(report.failures) < _LOG_FAILURES:
        report.failures.append((url, f"load: {exc}"))


def _load_extracted(
    store: Store,
    report: RunReport,
    raw: RawPage,
    result: Page | ExtractError,
    *,
    url: str,
    seen: bool = True,
    extract: Callable[[RawPage], Page] | None = None,
) -> None:
    """Load one extraction result, in a crawl and in an offline extract alike: a
    failure, a listing (kept in the crawl state only) or a content page. ``seen`` is
    false for an offline re-extraction: a removed page stays removed."""
    counts = report.counts
    if isinstance(result, ExtractError):
        store.save_failure(
            raw.url, stage="extract", reason=result.reason, status=raw.status, attempts=1
        )
        counts["failed"] += 1
        if len(report.failures) < _LOG_FAILURES:
            report.failures.append((raw.url, result.reason))
        log.warning("page_failed", url=raw.url, stage="extract", reason=result.reason)
    elif result.page_type == "listing":
        store.save_listing(result.url, result.page_type, version=result.extractor_version)
        counts["listings"] += 1
    elif result.part_of is not None or result.has_parts:
        counts[load_part(store, result, raw_url=url, extract=extract)] += 1
    else:
        counts[store.save_page(result, raw_url=url, seen=seen)] += 1
    if (
        isinstance(result, Page)
        and result.page_type != "listing"
        and result.part_of is None
        and result.shortlink
        and result.shortlink != result.url
    ):
        store.save_shortlink(result.shortlink, result.url)
