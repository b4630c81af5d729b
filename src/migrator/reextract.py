"""Extraction over the stored raw pages: ``extract()`` (offline, ``migrator extract``)
and, after a crawl, ``refresh_model`` (learn the final site model and redo the pages
whose template's rules it changed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import UTC, datetime

import structlog

from migrator.config import Config, ExtractConfig
from migrator.errors import (
    ExtractError,
    StoreError,
)
from migrator.extract import (
    EXTRACTOR_VERSION,
    extract_page,
    template_of,
    version_tag,
)
from migrator.extract.body import require_dependencies
from migrator.learn import (
    LEARN_MIN_TEMPLATE,
    LEARN_SAMPLE,
    LEARN_TEMPLATE_SHARE,
    learn_from_store,
    same_model,
    same_rules,
)
from migrator.load import Store
from migrator.models import Page, RawPage, SiteModel
from migrator.page_load import BATCH_PAGES, load_extracted, load_failed
from migrator.run_end import finish_run
from migrator.run_report import ProgressCallback, RunReport, config_hash
from migrator.workers import (
    BYTES_IN_FLIGHT,
    LazyPool,
    extract_in_worker,
    reextract_in_worker,
)

__all__ = ["extract", "refresh_model", "write_extracted"]

log = structlog.get_logger()


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
    pool = LazyPool(config.extract)
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
            if len(batch) >= BATCH_PAGES or batch_bytes > BYTES_IN_FLIGHT // 2:
                batch_bytes = 0
                write_extracted(store, batch, report, again)
                batch.clear()
                if progress is not None:
                    progress(counts)
        write_extracted(store, batch, report, again)
    except KeyboardInterrupt:
        report.status = "interrupted"
        raise
    except BaseException:
        report.status = "failed"
        raise
    finally:
        pool.shutdown(cancel_futures=True)
        finish_run(store, report, max_failures)
    return report


def _extract_stream(
    pool: LazyPool, raws: Iterator[RawPage], model: SiteModel | None = None
) -> Iterator[tuple[RawPage, Page | ExtractError]]:
    """Yield each raw page with its extraction result, in order, a bounded window ahead."""
    for raw, result in _recheck_stream(pool, raws, model, {}):
        assert result is not None  # nothing to recheck: every page is extracted
        yield raw, result


def refresh_model(
    store: Store, report: RunReport, pool: LazyPool, rules: ExtractConfig, *, relearn: bool
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
    # Two streamed passes over the stored pages (nothing per page held across them):
    # their templates' sizes, then the pages the final model changes.
    templates = Counter(template_of(tag) for _, _, tag in store.extraction_tags())
    final = _final_model(store, model, templates)
    if final is None:
        return
    stale, recheck = _pages_to_redo(store, final)
    if not stale:
        return
    redone, retagged = _redo_pages(store, report, pool, rules, final, stale, recheck)
    if redone:
        report.counts["reextracted"] += redone
    log.info(
        "site_model_applied",
        model=final.model_fingerprint,
        pages=redone,
        retagged=retagged,
    )


def _final_model(
    store: Store, model: SiteModel | None, templates: Counter[str | None]
) -> SiteModel | None:
    """The crawl's model, or one learned from the whole crawl (and saved) when there is
    none or it is outgrown and the new one extracts some template differently.
    ``templates``: the stored pages per template signature (``None``: untagged)."""
    if model is None or _model_outgrown(model, templates):
        learned = learn_from_store(store)
        if learned is not None and (model is None or not same_model(model, learned)):
            store.save_site_model(learned)
            model = learned
    return model


def _pages_to_redo(
    store: Store, final: SiteModel
) -> tuple[list[int], dict[str, tuple[SiteModel, str]]]:
    """The raw ids of the pages to redo under ``final`` and, of those, the ones to check
    first (``recheck``).

    A page is redone when its tag names no rules of a stored model (extracted before
    the first model, by another extractor version, or not at all) or rules that ``final``
    replaced for its template.
    """
    used = {r.fingerprint: r for m in store.site_models() for r in (m, *m.by_template)}
    prefix = EXTRACTOR_VERSION + "+"
    stale: list[int] = []
    # url -> (the template rules it was extracted with, its tag): pages whose rules
    # changed in their furniture or site names only; most read the same and are only
    # re-tagged.
    recheck: dict[str, tuple[SiteModel, str]] = {}
    for raw_id, url, tag in store.extraction_tags():
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
    return stale, recheck


def _redo_pages(
    store: Store,
    report: RunReport,
    pool: LazyPool,
    rules: ExtractConfig,
    final: SiteModel,
    stale: list[int],
    recheck: dict[str, tuple[SiteModel, str]],
) -> tuple[int, int]:
    """Extract the ``stale`` pages again with ``final`` (a page in ``recheck`` that
    reads the same is only re-tagged) and write them, in batches.

    Returns:
        ``(redone, retagged)``: the pages written (counted in a shadow report, not in
        ``report``'s new/changed) and the pages only re-tagged.
    """

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
        if len(batch) + len(retag) >= BATCH_PAGES:
            write_extracted(store, batch, shadow, again)
            batch.clear()
            store.retag_pages(retag)
            retag.clear()
    write_extracted(store, batch, shadow, again)
    if retag:
        store.retag_pages(retag)
    return sum(shadow.counts.values()), retagged


def _model_outgrown(model: SiteModel, templates: Counter[str | None]) -> bool:
    """Whether the crawl's model should be learned again from the whole crawl: it was
    learned from fewer pages than a full sample while more were stored, or a template
    it has no rules for holds ``LEARN_TEMPLATE_SHARE`` of the pages.

    A model learned during the crawl from a full sample spread over the frontier is
    kept: learning again from another sample of the same site only moves rare blocks in
    and out of the furniture, and each move costs re-checking pages.
    """
    stored = templates.total()
    if model.pages_sampled < min(LEARN_SAMPLE, stored):
        return True
    sampled = dict(model.templates)
    big = max(LEARN_MIN_TEMPLATE, LEARN_TEMPLATE_SHARE * stored)
    return any(
        signature is not None
        and count >= big
        and model.for_template(signature) is model
        and sampled.get(signature, 0) < 0.1 * model.pages_sampled
        for signature, count in templates.items()
    )


def _recheck_stream(
    pool: LazyPool,
    raws: Iterator[RawPage],
    model: SiteModel | None,
    recheck: dict[str, tuple[SiteModel, str]],
) -> Iterator[tuple[RawPage, Page | ExtractError | None]]:
    """Each raw page with its extraction result, in order, a bounded window ahead; a
    page in ``recheck`` is first compared under its old rules and ``model``'s (``None``:
    it reads the same, nothing was extracted)."""
    window = 64
    pending: list[tuple[RawPage, Future[Page] | Future[Page | None], int]] = []
    in_flight = 0  # bytes of the pending bodies: bounded like the crawl's (ByteBudget)
    for raw in raws:
        before = recheck.get(raw.url)
        future: Future[Page] | Future[Page | None] = (
            pool.submit(reextract_in_worker, raw, model, before[0], template_of(before[1]))
            if before is not None and model is not None
            else pool.submit(extract_in_worker, raw, model)
        )
        pending.append((raw, future, pool.generation))
        in_flight += len(raw.body)
        while len(pending) >= window or (in_flight > BYTES_IN_FLIGHT // 2 and pending):
            done = pending.pop(0)
            in_flight -= len(done[0].body)
            yield _result(pool, *done, model=model)
    while pending:
        yield _result(pool, *pending.pop(0), model=model)


def _result(
    pool: LazyPool,
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


def write_extracted(
    store: Store,
    batch: list[tuple[RawPage, Page | ExtractError]],
    report: RunReport,
    extract: Callable[[RawPage], Page] | None = None,
) -> None:
    with store.transaction():
        for raw, result in batch:
            try:
                load_extracted(store, report, raw, result, url=raw.url, seen=False, extract=extract)
            except StoreError as exc:
                load_failed(store, report, raw.url, exc)
