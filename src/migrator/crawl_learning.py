"""The crawl's site model: the stored one or the one it learns, and the pages that wait
for it.

Until a run has a model it only stores each page and follows its links (``deferring``;
``deferred`` holds those pages, extracted once it is learned). The writer asks for a
learning once enough pages are stored (``maybe_learn``, on the database thread) and the
crawl runs ``learn`` as a task: the sample is read on the database thread and learned in
an extraction worker, so neither the writes nor the event loop wait for it.
"""

from __future__ import annotations

import asyncio
import collections
from collections import Counter

import structlog

from migrator.crawl_db import DbThread
from migrator.extract import template_of
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
from migrator.models import Page, RawPage, SiteModel
from migrator.run_report import Mode
from migrator.workers import LazyPool

log = structlog.get_logger()


class CrawlLearner:
    """The site model of one crawl, its learning and the pages deferred until it exists."""

    def __init__(
        self, store: Store, db: DbThread, *, mode: Mode, pool: LazyPool | None, limit: int | None
    ) -> None:
        self.store = store
        self.db = db
        self.mode = mode
        self.pool = pool
        # The site model: the stored one (a sync, a resumed run), else learned from the
        # first LEARN_SAMPLE pages stored. Until it exists a run only stores each page
        # and follows its links (a parse, no extraction: ``deferred``), and extracts
        # those pages once it is learned: no page is extracted twice. A --limit run
        # extracts as it goes (it counts content pages) and learns after LEARN_AFTER.
        self.model: SiteModel | None = store.latest_site_model() if mode != "fetch" else None
        self.html_stored = store.html_page_count()
        self.deferring = mode == "run" and self.model is None and limit is None and pool is not None
        self.deferred: collections.deque[tuple[CrawlItem, str]] = collections.deque()
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

    def defer(self, item: CrawlItem, url: str) -> None:
        """``url``'s answer is stored (reached from ``item``): extract it once learned."""
        self.deferred.append((item, url))
        self.waiting[url] += 1

    def maybe_learn(self, page: Page | None, *, stored: bool = True) -> None:
        """Ask for the site model to be learned once enough pages are stored, and again
        when pages of a template it has no rules for reach their share (on the database
        thread; ``stored``: ``page`` was just stored, not extracted after the fact).

        The writer starts the learning after this batch (``Crawl._start_learning``): the
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

    async def learn(self) -> None:
        """Learn the site model (or a new template's rules) and adopt it; run as a task
        (``Crawl._start_learning``), which then extracts the deferred pages."""
        model: SiteModel | None = None
        template = self.learning_template
        rules = self.model if template is not None else None
        try:
            if self.pool is not None and self.store.path.is_file():
                # The worker reads its sample from the database itself (learn_from_db),
                # of the answers stored by now: the same sample as read here.
                upto = await self.db.run(self.store.last_raw_id)
                path = self.store.path
                future = self.pool.submit(learn_from_db, path, upto, rules, template)
                model = await asyncio.wrap_future(future)
            else:
                sample, feed = await self.db.run(self._learning_sample, template)
                if template is not None and rules is not None:
                    model = await self.db.run(
                        learn_template_from_raw, sample, rules, template, feed
                    )
                else:
                    model = await self.db.run(learn_from_raw, sample, feed)
                del sample
        except Exception as exc:  # noqa: BLE001 - a crawl without a model still extracts
            log.warning("site_model_failed", reason=repr(exc))
        try:
            if model is not None:
                await self.db.run(self._adopt, model)
            elif template is not None:
                await self.db.run(self._retry_template, template)
        finally:
            self.learning = False
            self.learning_template = None
            self.deferring = False  # learned or not: the deferred pages are extracted now

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
