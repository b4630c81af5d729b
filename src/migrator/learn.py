"""Learning the site model from what a crawl stored, and writing it as a site config.

``learn_from_store`` reads a bounded, spread sample of the stored HTML answers (never
the whole site: memory stays flat), decodes them and hands them to
:func:`migrator.extract.site.learn_site` with the dates the site's feeds gave. The
pipeline calls it early in a crawl (so most pages are extracted with the model) and
once at the end; ``migrator extract`` calls it before re-extracting. ``model_toml``
renders a model as the ``[extract.selectors]`` a user can read, edit and pin.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import structlog

from migrator.decode import decode_body
from migrator.extract.site import learn_site, learn_template, model_summary
from migrator.load import Store
from migrator.models import RawPage, SiteModel

__all__ = [
    "LEARN_AFTER",
    "LEARN_MIN_TEMPLATE",
    "LEARN_SAMPLE",
    "LEARN_TEMPLATE_DISTINCT",
    "LEARN_TEMPLATE_PAGES",
    "LEARN_TEMPLATE_SHARE",
    "add_template",
    "add_templates",
    "learn_from_db",
    "learn_from_raw",
    "learn_from_store",
    "learn_template_from_raw",
    "model_toml",
    "same_model",
    "same_rules",
]

log = structlog.get_logger()

# Pages read to learn the model (spread over the crawl). A run learns its first model once
# this many pages are stored (they wait, unextracted, for it: crawl_learning ``deferring``).
LEARN_SAMPLE = 400
# HTML pages stored before a run that extracts as it goes (--limit, or after a sample
# taught nothing) tries to learn its first model, and again after as many more.
LEARN_AFTER = 200
# A template the model has no rules for is learned again (once) when its pages reach this
# share of the stored ones, and at least this many: the sample then holds enough of them
# (what ``_model_outgrown`` asks of a model after a crawl).
LEARN_TEMPLATE_SHARE = 0.12
LEARN_MIN_TEMPLATE = 30
# During a crawl, a template the model has no rules for gets its own, learned from its
# own stored pages, once this many are stored: enough for its own furniture
# (``_TEMPLATE_FURNITURE_PAGES``, 30) and date element (``_EXCLUSIVE_PAGES``, 20) with
# room to spare; every page of it extracted before is extracted again at the end.
LEARN_TEMPLATE_PAGES = 60
# … and at least this many distinct pages among them (a static server answers
# ``/blog/?topic=x`` with ``/blog/``'s page: dozens of copies of one page make its posts'
# summaries look like furniture); fewer, and the template is tried again later.
LEARN_TEMPLATE_DISTINCT = 30
_SAME_FURNITURE = 0.9


def learn_from_store(store: Store, *, limit: int = LEARN_SAMPLE) -> SiteModel | None:
    """Learn the site model from a sample of the stored pages; ``None`` if too few.

    The model is not saved: the caller decides (``Store.save_site_model``).
    """
    return learn_from_raw(store.sample_raw_pages(limit), store.feed_dates())


def _decoded(raws: list[RawPage]) -> Iterator[tuple[str, str]]:
    """``(url, html)`` of each answer that decodes, one at a time: the learner keeps one
    page's text alive, not the sample's (400 pages of ~110 kB held 43 MB at once)."""
    for raw in raws:
        try:
            decoded = decode_body(raw.body, raw.header("content-type"))
        except Exception:  # noqa: BLE001, S112 - an undecodable page teaches nothing
            continue
        yield raw.url, decoded.text


def _latest(raws: list[RawPage]) -> datetime | None:
    return max((raw.fetched_at for raw in raws), default=None)


def learn_from_db(
    path: Path, upto: int, model: SiteModel | None = None, template: str | None = None
) -> SiteModel | None:
    """What a crawl's learning worker runs: read the sample from the migration database
    at ``path`` (read only, no lock) and learn the site model, or ``template``'s rules for
    ``model`` (``learn_template_from_raw``). Reading it here, not in the crawl's process,
    spares that process the sample (400 pages, ~45 MB) and its pickled copy. ``upto``:
    the sample is of the answers stored when the learning was asked for
    (``Store.last_raw_id``), not of those stored by the time the worker reads it."""
    with Store.open(path, lock=False) as store:
        feed = store.feed_dates()
        if template is not None and model is not None:
            sample = store.sample_template_pages(template, 2 * LEARN_TEMPLATE_PAGES, upto=upto)
            return learn_template_from_raw(sample, model, template, feed)
        return learn_from_raw(store.sample_raw_pages(LEARN_SAMPLE, upto=upto), feed)


def learn_from_raw(raws: list[RawPage], feed_dates: dict[str, str]) -> SiteModel | None:
    """Learn the site model from fetched answers (pure: runs in a worker process too)."""
    model = learn_site(_decoded(raws), feed_dates=feed_dates, fetched_at=_latest(raws))
    if model is not None:
        log.info(
            "site_model_learned",
            pages=model.pages_sampled,
            title=model.title_selector,
            date=model.date_selector,
            order=model.date_order,
            cms=model.cms,
            furniture=len(model.furniture),
        )
    return model


def learn_template_from_raw(
    raws: list[RawPage], model: SiteModel, signature: str, feed_dates: dict[str, str]
) -> SiteModel | None:
    """One template's own rules, learned from fetched answers of that template for the
    site model ``model`` (``learn_template``; pure: runs in a worker process too), or
    ``None`` when fewer than ``LEARN_TEMPLATE_DISTINCT`` of them differ (byte for byte):
    copies of one page are one page's evidence, not many."""
    seen: set[bytes] = set()
    distinct = []
    for raw in raws:
        digest = hashlib.blake2b(raw.body, digest_size=16).digest()
        if digest not in seen:
            seen.add(digest)
            distinct.append(raw)
    if len(distinct) < LEARN_TEMPLATE_DISTINCT:
        log.info("site_template_deferred", template=signature, pages=len(distinct))
        return None
    rules = learn_template(
        _decoded(distinct), model, signature, feed_dates=feed_dates, fetched_at=_latest(distinct)
    )
    if rules is not None:
        log.info(
            "site_template_learned",
            template=signature,
            pages=rules.pages_sampled,
            title=rules.title_selector,
            date=rules.date_selector,
            furniture=len(rules.furniture),
        )
    return rules


def same_rules(old: SiteModel, new: SiteModel) -> bool:
    """True when two learnings of one template's rules extract its pages alike.

    The learned elements, date order, CMS and site names must match and 90% of the old
    furniture must still be furniture: two samples of one site never repeat exactly the
    same blocks, and re-extracting every page for a handful of rare blocks would double a
    crawl's work.
    """
    if (old.title_selector, old.date_selector, old.date_exclusive, old.date_order, old.cms) != (
        new.title_selector,
        new.date_selector,
        new.date_exclusive,
        new.date_order,
        new.cms,
    ):
        return False
    if old.site_names != new.site_names:
        return False
    if not old.furniture:
        return not new.furniture
    # The old furniture is still furniture: what the new sample adds (archive links that
    # grow with the blog, a widget of the later pages) lies outside the posts' text.
    return len(old.furniture & new.furniture) >= _SAME_FURNITURE * len(old.furniture)


def same_model(old: SiteModel, new: SiteModel) -> bool:
    """True when ``new`` would extract every template as ``old`` does (``same_rules``)."""
    signatures = {t.signature for t in (*old.by_template, *new.by_template)}
    return same_rules(old, new) and all(
        same_rules(old.for_template(s), new.for_template(s)) for s in signatures if s
    )


def add_templates(model: SiteModel, learned: SiteModel) -> SiteModel:
    """``model`` with the rules ``learned`` has for templates it has none for.

    What a crawl does when a template its model never saw enough of grows big (a blog's
    archive pages, found late): the rules every other page was extracted with stay as
    they are (so do those pages), the new template gets its own.
    """
    known = {t.signature for t in model.by_template}
    added = tuple(t for t in learned.by_template if t.signature not in known)
    if not added:
        return model
    return replace(
        model,
        by_template=(*model.by_template, *added),
        templates=learned.templates,
        evidence=(*model.evidence, *(f"template {t.signature} added" for t in added)),
    )


def add_template(model: SiteModel, rules: SiteModel) -> SiteModel:
    """``model`` with ``rules`` (``learn_template``) for a template it has none for.

    As ``add_templates``: every other template's rules, and the site-wide ones, stay.
    """
    if rules.signature is None or model.for_template(rules.signature) is not model:
        return model
    return replace(
        model,
        by_template=(*model.by_template, replace(rules, evidence=())),
        evidence=(*model.evidence, *rules.evidence, f"template {rules.signature} added"),
    )


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string is JSON-compatible


def model_toml(model: SiteModel, *, site: str | None = None) -> str:
    """The model as a site config: selectors a user can read, edit and pin.

    The furniture is not written (it is a set of hashes, not something to edit); the
    learned elements are, with how many sampled pages agreed.
    """
    summary = model_summary(model)
    lines = [
        "# Learned by `migrator learn` from "
        f"{model.pages_sampled} pages (model {model.fingerprint}).",
        "# Each selector below was chosen because the site's own pages agree on it; edit or",
        "# delete any of them. A selector set here beats structured data and the heuristics.",
    ]
    for note in summary["evidence"]:
        lines.append(f"#   {note}")
    if site:
        lines += ["", "[site]", f"start = {_toml_string(site)}"]
    lines += ["", "[extract]"]
    if model.date_order:
        lines.append(f"date_order = {_toml_string(model.date_order)}")
    lines += ["", "[extract.selectors]"]
    if model.title_selector:
        agree, pages = model.title_agreement
        lines.append(f"# the <title> headline on {agree} of {pages} pages")
        lines.append(f"title = {_toml_string(model.title_selector)}")
    if model.date_selector:
        agree, pages = model.date_agreement
        lines.append(f"# a date on {agree} of {pages} pages")
        lines.append(f"published = {_toml_string(model.date_selector)}")
    return "\n".join(lines) + "\n"
