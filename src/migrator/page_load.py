"""Loading one extraction result into the store, in a crawl and an offline extract
alike: a failure, a listing (crawl state only), a post split over several URLs, or a
content page with its shortlink."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from migrator.errors import (
    ExtractError,
    StoreError,
)
from migrator.load import Store
from migrator.models import Page, RawPage
from migrator.parts import load_part
from migrator.run_report import LOG_FAILURES, RunReport

__all__ = ["BATCH_PAGES", "load_extracted", "load_failed"]

log = structlog.get_logger()


BATCH_PAGES = 64  # pages per write transaction: amortizes the commit, keeps latency low


def load_failed(store: Store, report: RunReport, url: str, exc: StoreError) -> None:
    """A page whose rows could not be written (its savepoint rolled back): record it."""
    log.error("page_failed", url=url, stage="load", reason=str(exc))
    store.save_failure(url, stage="load", reason=str(exc), status=None, attempts=1)
    report.counts["failed"] += 1
    if len(report.failures) < LOG_FAILURES:
        report.failures.append((url, f"load: {exc}"))


def load_extracted(
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
        if len(report.failures) < LOG_FAILURES:
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
