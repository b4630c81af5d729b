"""The extraction worker processes: the pool (started lazily, replaced when a worker
dies), the functions run in a worker, and the byte budget that bounds the pages between
fetch and the database write."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

import structlog

from migrator.children import die_with_parent
from migrator.config import ExtractConfig
from migrator.errors import (
    ExtractError,
)
from migrator.extract import (
    extract_page,
    model_changes_page,
)
from migrator.extract.body import require_dependencies
from migrator.log import logging_settings, setup_child_logging
from migrator.models import Page, RawPage, SiteModel
from migrator.worker_models import ModelRef, ModelRefs, model_in_worker

__all__ = ["BYTES_IN_FLIGHT", "ByteBudget", "LazyPool", "extract_in_worker", "reextract_in_worker"]

log = structlog.get_logger()
_T = TypeVar("_T")


# Bytes of fetched bodies (and the records made from them) between the fetchers and the
# database write. Counts alone (about 330 pages in flight) allowed 6 GB at 20 MB a page.
BYTES_IN_FLIGHT = 256 * 1024 * 1024

_worker_rules: ExtractConfig | None = None


def _init_worker(
    rules: ExtractConfig, main_pid: int, log_settings: tuple[int, bool] | None
) -> None:
    global _worker_rules  # noqa: PLW0603 - one immutable value per worker process
    die_with_parent(main_pid)
    _worker_rules = rules
    setup_child_logging(log_settings)  # field warnings reach the user


def extract_in_worker(raw: RawPage, model: SiteModel | ModelRef | None = None) -> Page:
    assert _worker_rules is not None  # set by _init_worker
    return extract_page(raw, _worker_rules, model_in_worker(model))


def reextract_in_worker(
    raw: RawPage, model: SiteModel, before: SiteModel, signature: str | None
) -> Page | None:
    """The page under ``model``, or ``None`` when it reads the same as under the
    template rules ``before`` it was extracted with (``model_changes_page``)."""
    rules = model.for_template(signature) if signature else model
    if not model_changes_page(raw, before, rules):
        return None
    return extract_in_worker(raw, model)


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


class LazyPool(Executor):
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
        return self._spare.submit(extract_in_worker, raw, model)

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


class ByteBudget:
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
