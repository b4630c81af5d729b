"""The crawl's writer: each batch of outcomes in one transaction, on the database thread.

``CrawlWriter.write_batch`` stores what each fetch gave (``crawl_fetch``'s outcomes):
answers and records, the links to follow, failures (a 404/410 of a sync is a removal
candidate), and counts content pages against ``--limit``. A store failure costs its
page only.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from migrator.config import Config
from migrator.crawl_fetch import Failed, Fetched, NotModified, Outcome
from migrator.crawl_learning import CrawlLearner
from migrator.errors import ExtractError, StoreError
from migrator.extract import extract_page
from migrator.load import CrawlItem, Store
from migrator.models import Discovered, Page
from migrator.page_load import load_extracted, load_failed
from migrator.run_report import LOG_FAILURES, Mode, RunReport
from migrator.scope import Scope

log = structlog.get_logger()

_REMOVED_STATUSES = frozenset({404, 410})
_LINKED_MEMORY = 20_000  # links remembered as already queued (bounds memory)
# Fetch outcomes recorded in `errors` but counted as skipped, not failed.
_SKIP_REASONS = frozenset({"robots_disallowed", "unwanted_content_type"})


class CrawlWriter:
    """What the writer does with the outcomes (on the database thread)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        report: RunReport,
        learner: CrawlLearner,
        *,
        mode: Mode,
        limit: int | None,
    ) -> None:
        self.config = config
        self.store = store
        self.report = report
        self.counts = report.counts
        self.mode = mode
        self.learner = learner  # its model extracts again; it learns as pages are stored
        self.scope: Scope | None = None  # the crawl's, set when it starts
        self.removal_candidates: list[str] = []
        self.linked: set[str] = set()  # links recently queued: skip re-checking them
        self.outside: set[str] = set()  # links recently found out of scope: skip them too
        # --limit N: after N content pages are written, nothing more is fetched or
        # written; the URLs claimed but not written stay in_progress and the next run
        # requeues them, so a second run continues where this one stopped.
        self.limit = limit
        self.content_written = 0
        self.stopping = False

    def write_batch(self, batch: list[Outcome]) -> None:
        """One transaction for many pages (on the database thread)."""
        not_modified = [o for o in batch if isinstance(o, NotModified)]
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
                if not isinstance(outcome, NotModified):
                    self._write_guarded(outcome)

    def _write_guarded(self, outcome: Fetched | Failed) -> None:
        """Write one outcome; a store failure costs that page only (its savepoint)."""
        try:
            if isinstance(outcome, Failed):
                self._write_failure(outcome)
            elif not self.stopping:  # --limit reached: this page is the next run's
                self._write_fetched(outcome)
        except StoreError as exc:
            load_failed(self.store, self.report, outcome.item.url, exc)

    def _write_failure(self, outcome: Failed) -> None:
        """A failed fetch: a failure, unless it is a skip or a page gone on purpose."""
        counts = self.counts
        url = outcome.item.url
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

    def _write_fetched(self, outcome: Fetched) -> None:
        """A fetched (and extracted) page: its answer, its links, then its record."""
        counts = self.counts
        url = outcome.item.url
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
            self.learner.maybe_learn(page, stored=not outcome.redo)
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
            extract=lambda first: extract_page(first, self.config.extract, self.learner.model),
        )
        content = page is not None and page.page_type != "listing" and page.part_of is None
        if self.limit is not None and content:
            self.content_written += 1
            if self.content_written >= self.limit:
                self.stopping = True

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
