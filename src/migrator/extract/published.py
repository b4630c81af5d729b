"""The publication and update dates, assembled from the first layer that has each."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import DateOrder, ExtractConfig
from migrator.extract.body import select_safely
from migrator.extract.dates import (
    EARLIEST,
    PUBLISHED_META,
    UPDATED_META,
    dates_from_scope,
    node_date,
    parse_date,
    plausible,
)
from migrator.extract.draft import Draft
from migrator.extract.structured import Structured, jsonld_text
from migrator.models import Page, RawPage, SiteModel


def capture_date_fallback(raw: RawPage, page: Page) -> Page:
    """An archived post (``raw.source`` set) that gives no publication date anywhere
    gets its capture day: it was published by then. Marked ``published: capture_date``
    in the field sources, so it is never mistaken for a date the page states. A live
    fetch time says nothing about publication and is never used; a static page, a
    listing or an attachment has no date unless it shows one (issue #10)."""
    if raw.source is None or page.published is not None or page.page_type != "post":
        return page
    sources = (*page.sources, ("published", "capture_date"))
    return replace(page, published=raw.fetched_at.astimezone(UTC).date(), sources=sources)


def page_dates(
    tree: LexborHTMLParser,
    structured: Structured,
    rules: ExtractConfig,
    scope: LexborNode | None,
    region: LexborNode | None,
    draft: Draft,
    model: SiteModel | None = None,
) -> tuple[date | datetime | None, date | datetime | None]:
    """Published and updated dates, each from the first layer with a plausible value.

    A value outside 1990 … fetch time + 1 day (``plausible``) is passed over: the next
    layer gets its chance, as if the first had said nothing. The site model's date
    element (learned across the crawl) comes after structured data, before the
    per-page heuristics; its numeric date order wins over the configured one.
    """
    order: DateOrder = rules.date_order
    if model is not None and model.date_order in {"MDY", "DMY", "YMD"}:
        order = model.date_order  # type: ignore[assignment]
    found = _Found(draft)
    _configured_dates(found, tree, rules, order)
    _structured_dates(found, structured, order)
    if model is not None and model.date_selector and found.values["published"] is None:
        for node in select_safely(tree, model.date_selector):
            found.offer("published", node_date(node, order), "site")
            if found.values["published"] is not None:
                break
        if found.values["published"] is None and model.date_exclusive:
            # The template shows its pages' dates there and nowhere else: this page has
            # none of its own (an event's start, a widget's date are not its date).
            draft.undated = True
            return None, found.values["updated"]
    missing = found.values["published"] is None or found.values["updated"] is None
    if missing and scope is not None:
        seen_published, seen_updated = dates_from_scope(scope, order, region, found.accept)
        parent = scope.parent
        if seen_published is None and parent is not None and parent.tag != "html":
            # Blogger-style themes put the date header just outside the post wrapper.
            seen_published, seen_updated = dates_from_scope(parent, order, region, found.accept)
        found.offer("published", seen_published, "heuristic")
        found.offer("updated", seen_updated, "heuristic")
    return found.values["published"], found.values["updated"]


class _Found:
    """The dates found so far: each keeps the first plausible value a layer offers, and
    the field sources name that layer."""

    __slots__ = ("_draft", "_fetched_at", "values")

    def __init__(self, draft: Draft) -> None:
        self._draft = draft
        self._fetched_at = draft.fetched_at
        self.values: dict[str, date | datetime | None] = {"published": None, "updated": None}

    def accept(self, value: date | datetime | None) -> bool:
        return value is not None and plausible(value, self._fetched_at)

    def offer(self, name: str, value: date | datetime | None, layer: str) -> None:
        if self.values[name] is None and self.accept(value):
            self.values[name] = value
            self._draft.sources[name] = layer


def _configured_dates(
    found: _Found, tree: LexborHTMLParser, rules: ExtractConfig, order: DateOrder
) -> None:
    """The configured selectors' dates: the first element of each with a date."""
    for name, selector in (
        ("published", rules.selectors.published),
        ("updated", rules.selectors.updated),
    ):
        for node in select_safely(tree, selector) if selector else ():
            found.offer(name, node_date(node, order), "config")
            if found.values[name] is not None:
                break


def _structured_dates(found: _Found, structured: Structured, order: DateOrder) -> None:
    """The dates the page states for machines: JSON-LD, microdata, RDFa, ``<meta>``."""
    article = structured.article
    if article is not None:
        for key in ("datePublished", "dateCreated", "uploadDate"):
            found.offer("published", parse_date(jsonld_text(article.get(key)), "YMD"), "jsonld")
        modified = parse_date(jsonld_text(article.get("dateModified")), "YMD")
        found.offer("updated", modified, "jsonld")
    for name, key in (("published", "datePublished"), ("updated", "dateModified")):
        if structured.microdata.get(key):
            found.offer(name, parse_date(structured.microdata[key], order), "microdata")
    for name, key in (("published", "datePublished"), ("updated", "dateModified")):
        if structured.rdfa.get(key):
            found.offer(name, parse_date(structured.rdfa[key], order), "rdfa")
    for name, keys in (("published", PUBLISHED_META), ("updated", UPDATED_META)):
        if found.values[name] is None:
            for key in keys:
                found.offer(name, parse_date(structured.meta.get(key), "YMD"), "meta")


def htmldate_published(text: str, url: str, fetched_at: datetime) -> date | None:
    """htmldate's original publication date: the last resort for a post without one.

    ``extensive_search`` stays off: on the demo's About and Contact pages it turns the
    footer's copyright year into a date. Costs 1–3 ms (htmldate parses again with lxml),
    so it only runs where every cheaper layer found nothing.

    htmldate *downloads* a ``str`` input that looks like a URL (a ``text/html`` body of
    ``http://10.0.0.1/…`` made extraction open a connection): it gets a tree parsed
    from bytes by its own loader, which only downloads strings, or nothing at all.
    """
    try:
        from htmldate import find_date
        from htmldate.utils import load_html

        tree = load_html(text.encode("utf-8", errors="replace"))
        if tree is None:
            return None
        found = find_date(
            tree,
            url=url,
            original_date=True,
            extensive_search=False,
            outputformat="%Y-%m-%d",
            min_date=EARLIEST.isoformat(),
            max_date=(fetched_at.date() + timedelta(days=1)).isoformat(),
        )
    except Exception:  # noqa: BLE001 - a third-party parser on hostile input
        return None
    if not isinstance(found, str):
        return None
    try:
        value = date.fromisoformat(found)
    except ValueError:
        return None
    return value if plausible(value, fetched_at) else None
