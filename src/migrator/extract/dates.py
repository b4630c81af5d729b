"""Publication and update dates shown on the page: the article's own header region only.

``dates_from_scope`` reads the marked-up dates (``time.published``, ``.updated``…), then
the short lines under the headline, then the first date line in document order; never
the sidebar, comments, navigation or footer. Reading a date string is ``dateparse``'s
concern and the date lines at the body's edges ``datelines``'; their names are
re-exported here for the modules that import them from ``dates``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

from selectolax.lexbor import LexborNode

from migrator.config import DateOrder
from migrator.extract.datelines import LINE_MAX_CHARS, NOT_DATE_LINES, date_line_nodes
from migrator.extract.dateparse import (
    DATE_RE,
    EARLIEST,
    date_from_match,
    find_date_in_text,
    may_hold_date,
    node_date,
    parse_date,
    plausible,
    same_day,
)
from migrator.extract.markers import DATE_JUNK_TAGS, DATE_JUNK_WORDS, class_id
from migrator.extract.nodes import BoundedMemo, contains, memo_ancestors_within

__all__ = [
    "DATE_RE",
    "EARLIEST",
    "NAV_TEXT",
    "PUBLISHED_META",
    "UPDATED_META",
    "UPDATED_WORD",
    "date_line_nodes",
    "dates_from_scope",
    "find_date_in_text",
    "may_hold_date",
    "node_date",
    "parse_date",
    "plausible",
    "same_day",
]

PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "itemprop:datepublished",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publication_date",
    "date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "article.published",
    "cxenseparse:recs:publishtime",
)
UPDATED_META = (
    "article:modified_time",
    "og:updated_time",
    "itemprop:datemodified",
    "datemodified",
    "last-modified",
    "dc.date.modified",
    "dcterms.modified",
    "article.updated",
)
_PUBLISHED_SELECTORS = (
    "time.published, time.entry-date, time[pubdate], [itemprop=datePublished], "
    "time.post-date, time.dt-published, .published, .entry-date, .post-date, "
    ".date-published, .publish-date, .pubdate, abbr.published"
)
_UPDATED_SELECTORS = (
    "time.updated, time.modified, [itemprop=dateModified], .updated, .modified, "
    ".last-updated, .date-modified, .dt-updated"
)
# Every element: the date line is wherever the theme put it (font, td, div.submitted);
# only short texts outside the body are read, in document order.
_DATE_LINE_SELECTORS = "*"
UPDATED_WORD = re.compile(
    r"(?:updated|last\s+modified|modified|aktualisiert|geändert|mis\s+à\s+jour|modifié|"
    r"actualizado|aggiornato|bijgewerkt|更新)\W{0,4}(?:on|am|le|el|il|op|:)?\s*$",
    re.I,
)
NAV_TEXT = re.compile(
    r"[«»‹›]|\b(?:next|previous|prev|older|newer|suivant|précédent|nächster?|vorherige[rs]?|"
    r"następny|poprzedni|siguiente|anterior|successivo|precedente)\b|次の|前の",
    re.I,
)


_JUNK_WALK = 200  # ancestors ``_in_junk`` looks at


def _junk_block(node: LexborNode) -> bool:
    """A sidebar, comment, related, navigation or footer block (or quoted code)."""
    return (
        node.tag in DATE_JUNK_TAGS
        or node.tag == "footer"
        or DATE_JUNK_WORDS.search(class_id(node)) is not None
    )


def _junk_block_but_footer(node: LexborNode) -> bool:
    """:func:`_junk_block`, a footer (by tag or by name) excepted."""
    if node.tag in DATE_JUNK_TAGS:
        return True
    junk = DATE_JUNK_WORDS.search(class_id(node))
    return junk is not None and junk.group(0).lower() != "footer"


def _in_junk(
    node: LexborNode,
    stop: LexborNode | None,
    footer_ok: bool = False,
    known: BoundedMemo | None = None,
) -> bool:
    """True inside a sidebar, comment, related or footer block below ``stop`` (within
    ``_JUNK_WALK`` ancestors).

    ``footer_ok``: an article's own ``<footer>`` holds its marked-up date
    (``time.published`` in WordPress themes); only free-text date lines skip it.
    ``known``: the memo of earlier answers for the same ``stop`` and ``footer_ok``
    (:func:`_junk_memo`), so each ancestor is tested once.
    """
    if known is None:
        known = _junk_memo(stop)
    test = _junk_block_but_footer if footer_ok else _junk_block
    return memo_ancestors_within(node.parent, known, test, _JUNK_WALK)


def _junk_memo(stop: LexborNode | None) -> BoundedMemo:
    """A memo for :func:`_in_junk` under ``stop``: the walk ends there, ``False``."""
    return {} if stop is None else {stop.mem_id: (False, 0)}


class _JunkBelow:
    """``_in_junk(node, stop)`` (no ``footer_ok``) for every element under one ``stop``,
    each ancestor tested once (one memo for all the questions)."""

    __slots__ = ("_known",)

    def __init__(self, stop: LexborNode | None) -> None:
        self._known = _junk_memo(stop)

    def __call__(self, node: LexborNode) -> bool:
        return _in_junk(node, None, False, self._known)


_MAX_LINE_NODES = 1500  # a date line sits near the top; bounds the cost on huge pages
# Normalizing a prefix of a text never gives a longer result than normalizing all of it.
_RAW_PREFIX = 2000


def _own_marker(node: LexborNode) -> str:
    return class_id(node).lower()


def dates_from_scope(
    scope: LexborNode,
    order: DateOrder,
    region: LexborNode | None = None,
    accept: Callable[[date | datetime], bool] | None = None,
) -> tuple[date | datetime | None, date | datetime | None]:
    """Published and updated dates shown in the article's own header region.

    Args:
        scope: the article container (never the whole page with its sidebar).
        order: the site's numeric date order.
        region: the body region; free text inside it is not a date line.
        accept: a sanity check; a date it rejects is passed over for the next one.
    """

    def ok(found: date | datetime | None) -> bool:
        return found is not None and (accept is None or accept(found))

    published, updated = _marked_dates(scope, order, ok)
    if published is not None:
        return published, updated
    # The date line right under the headline ("Published on …" below the <h1>) beats a
    # date met earlier in document order (a table layout's sidebar column comes first).
    below, below_updated = _under_headline(scope, order, ok)
    if below is not None:
        return below, updated or below_updated
    return _first_date_line(scope, order, region, ok, updated)


def _marked_dates(
    scope: LexborNode, order: DateOrder, ok: Callable[[date | datetime | None], bool]
) -> tuple[date | datetime | None, date | datetime | None]:
    """The first published and updated dates the theme marked up (``time.published``,
    ``.updated``…) outside junk blocks."""
    published: date | datetime | None = None
    updated: date | datetime | None = None
    own_footer = scope.tag != "body"
    known = _junk_memo(scope)  # ``_in_junk(node, scope, own_footer)``, one memo for all
    for node in scope.css(_UPDATED_SELECTORS):
        if not _in_junk(node, scope, own_footer, known):
            found = node_date(node, order)
            if ok(found):
                updated = found
                break
    for node in scope.css(_PUBLISHED_SELECTORS):
        marker = _own_marker(node)
        # WordPress themes mark one <time> "entry-date published updated": still published.
        only_updated = ("updated" in marker or "modified" in marker) and not (
            "published" in marker or "entry-date" in marker
        )
        if only_updated or _in_junk(node, scope, own_footer, known):
            continue
        found = node_date(node, order)
        if ok(found):
            published = found
            break
    return published, updated


def _first_date_line(
    scope: LexborNode,
    order: DateOrder,
    region: LexborNode | None,
    ok: Callable[[date | datetime | None], bool],
    updated: date | datetime | None,
) -> tuple[date | datetime | None, date | datetime | None]:
    """The first date on a short line in document order, outside junk blocks and the
    body's text (``updated``: the update date found so far, kept unless a line gives
    one first)."""
    in_junk = _JunkBelow(scope)  # ``_in_junk(node, scope)``, each ancestor tested once
    for count, node in enumerate(scope.css(_DATE_LINE_SELECTORS)):
        if count >= _MAX_LINE_NODES:
            break
        marker = _own_marker(node)
        if "updated" in marker or "modified" in marker or in_junk(node):
            continue
        if node.tag in NOT_DATE_LINES:
            continue
        text = _line_text(node, region)
        if text is None or NAV_TEXT.search(text):
            continue  # NAV_TEXT: "« Older entry (March 3, 2005)": another post's date
        if node.tag == "time" or node.attributes.get("datetime"):
            found = node_date(node, order)
            if ok(found):
                return found, updated
            continue
        for match in DATE_RE.finditer(text):
            if UPDATED_WORD.search(text[: match.start()][-40:]):
                found = date_from_match(match, order)
                if updated is None and ok(found):
                    updated = found
                continue
            found = date_from_match(match, order)
            if ok(found):
                return found, updated
    return None, updated


def _line_text(node: LexborNode, region: LexborNode | None) -> str | None:
    """The node's text, whitespace collapsed, or ``None`` when it cannot be a date line:
    empty, or (but for a ``<time>``) too long, or longish text inside the body."""
    raw = node.text(deep=True, separator=" ")
    if (
        node.tag != "time"
        and len(raw) > _RAW_PREFIX
        and len(" ".join(raw[:_RAW_PREFIX].split())) > 300
    ):
        # Too long for a date line (below), told from a prefix: the text of a
        # container near the top is most of the page's, and normalizing all of it
        # for every level of nesting cost more than the rest of the search.
        return None
    text = " ".join(raw.split())
    if node.tag != "time" and (
        len(text) > 300 or (len(text) > 100 and contains(region, node)) or not text
    ):
        return None
    return text


def _under_headline(
    scope: LexborNode, order: DateOrder, ok: Callable[[date | datetime | None], bool]
) -> tuple[date | datetime | None, date | datetime | None]:
    """Published and updated dates on the short lines just after the scope's ``h1``."""
    headline = scope.css_first("h1")
    if headline is None:
        return None, None
    published: date | datetime | None = None
    updated: date | datetime | None = None
    sibling = headline.next
    seen = 0
    while sibling is not None and seen < 3 and published is None:
        if sibling.tag in {"-text", "-comment"}:
            sibling = sibling.next
            continue
        seen += 1
        text = " ".join(sibling.text(deep=True, separator=" ").split())
        if sibling.tag in NOT_DATE_LINES or not text or len(text) > LINE_MAX_CHARS:
            if len(text) > LINE_MAX_CHARS:
                break  # the article's text has begun
            sibling = sibling.next
            continue
        if NAV_TEXT.search(text):
            sibling = sibling.next
            continue
        for match in DATE_RE.finditer(text):
            found = date_from_match(match, order)
            if not ok(found):
                continue
            if UPDATED_WORD.search(text[: match.start()][-40:]):
                updated = updated or found
            elif published is None:
                published = found
        sibling = sibling.next
    return published, updated
