"""The one place that knows every stage: discover → fetch → extract → load.

``run()`` drives a crawl (``mode="run"``, ``"fetch"`` or ``"sync"``) and ``extract()``
re-runs extraction over the stored raw pages. The stages overlap: fetch coroutines
share one event loop, extraction runs in worker processes (CPU-bound, so both cores
stay busy), and one writer groups many pages per transaction while keeping each page
atomic. Every queue is bounded and the frontier lives in SQLite, so memory does not
grow with the site and a killed run resumes where it stopped. Page-level failures are
recorded and counted, never raised; run-level failures raise. The crawl's tasks and
their parts are ``migrator.crawl`` (``Crawl``) and the ``crawl_*`` modules.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog

from migrator.config import Config
from migrator.crawl import Crawl
from migrator.crawl_write import CrawlWriter
from migrator.errors import RunAborted
from migrator.extract.body import require_dependencies
from migrator.fetch import Fetcher, SharedPace
from migrator.load import Store
from migrator.reextract import extract, refresh_model
from migrator.remote_fetch import RemoteFetcher
from migrator.run_end import apply_removals, finish_run, report_limits
from migrator.run_report import Mode, ProgressCallback, RunReport, config_hash
from migrator.run_start import archive_for_sync, check_reachable, start_urls
from migrator.scope import Scope
from migrator.sources import LiveSource, Source
from migrator.workers import LazyPool

__all__ = ["Mode", "ProgressCallback", "RunReport", "config_hash", "extract", "run"]

log = structlog.get_logger()


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
    report = _start_run(config, store, mode, starts[0], source, started)
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


def _start_run(
    config: Config,
    store: Store,
    mode: Mode,
    start: str,
    source: Source | None,
    started: datetime,
) -> RunReport:
    """Record the run in the database (its id bound to every log line from now on) and
    requeue the URLs an interrupted run left in progress; return its report."""
    described = source.describe() if source is not None else None
    run_id = store.start_run(
        mode,
        config_hash=config_hash(config),
        start_url=start,
        source=json.dumps(described, sort_keys=True) if described else None,
    )
    structlog.contextvars.bind_contextvars(run_id=run_id)
    report = RunReport(run_id=run_id, mode=mode, db_path=str(store.path), started_at=started)
    log.info("run_started", mode=mode, start=start)
    requeued = store.requeue_in_progress()
    if requeued:
        log.info("run_resumed", requeued=requeued)
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
    crawl = Crawl(
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
        return crawl.writer.removal_candidates
    async with source.open(config, scope) as fetcher:
        await crawl.crawl(starts, scope, fetcher, seeds=source.seeds())
    report_limits(scope, report, source.limits())
    _report_limit_reached(crawl.writer, report)
    return crawl.writer.removal_candidates


def _report_limit_reached(writer: CrawlWriter, report: RunReport) -> None:
    """A --limit run that stopped says so (the rest stays queued for the next run)."""
    if writer.stopping:
        report.counts["limited_run"] = writer.content_written
        said = (
            f"stopped after {writer.content_written} content pages (--limit); run again to continue"
        )
        report.message = f"{report.message}; {said}" if report.message else said
        log.info("run_limit_reached", pages=writer.content_written)
