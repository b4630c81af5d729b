"""Publication and update dates: parsing date strings and finding the visible date line.

``parse_date`` reads machine dates (ISO 8601, RFC 2822) and human ones in several
languages ("December 12, 2023", "12. März 2021", "12 de marzo de 2021", "2021年3月12日",
numeric dates in the site's configured order). A ``date`` is returned when only the day
is known and an aware ``datetime`` when the time and its offset are; a time without an
offset gives the day only (guessing a zone would invent precision). ``find_dates`` looks
only at the article's own header region: never the sidebar, comments or footer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from selectolax.lexbor import LexborNode

from migrator.config import DateOrder
from migrator.extract.markers import DATE_JUNK_TAGS, DATE_JUNK_WORDS, class_id
from migrator.extract.nodes import contains

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
]

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "january jan janvier janv januar jänner jän enero ene gennaio genn gen januari janeiro",
        "february feb février févr fevrier fevr februar febrero febr febbraio februari "
        "fevereiro fev",
        "march mar mars märz maerz marzo maart março marco mrt",
        "april apr avril avr abril aprile",
        "may mai mayo maggio mei maio",
        "june jun juin juni junio giugno giu junho",
        "july jul juillet juil juli julio luglio lug julho",
        "august aug août aout agosto ago augustus",
        "september sep sept septembre septiembre settembre set setembro",
        "october oct octobre oktober okt octubre ottobre ott outubro out",
        "november nov novembre noviembre novembre novembro",
        "december dec décembre decembre déc dezember dez diciembre dic dicembre dezembro",
    ],
    start=1,
):
    for _name in _names.split():
        _MONTHS.setdefault(_name.rstrip("."), _number)
# Slavic, Nordic and other languages legacy blogs are written in (nominative and
# genitive forms: "19 lipca 2009", "20 февраля 2017", "3. května 2010").
for _number, _names in enumerate(
    [
        "styczeń stycznia sty январь января янв січень січня січ leden ledna januar "
        "ocak január ianuarie gener",
        "luty lutego lut февраль февраля фев лютий лютого лют únor února februar şubat "
        "február februarie febrer",
        "marzec marca март марта мар березень березня бер březen března mars mart "
        "március martie març",
        "kwiecień kwietnia kwi апрель апреля апр квітень квітня кві duben dubna "
        "nisan április aprilie abril",
        "maj maja май мая травень травня тра květen května mayıs május mai maig",
        "czerwiec czerwca cze июнь июня июн червень червня чер červen června haziran "
        "június iunie juny",
        "lipiec lipca lip июль июля июл липень липня лип červenec července temmuz "
        "július iulie juliol",
        "sierpień sierpnia sie август августа авг серпень серпня сер srpen srpna ağustos augusztus",
        "wrzesień września wrz сентябрь сентября сен вересень вересня вер září "
        "eylül szeptember septembrie setembre",
        "październik października paź октябрь октября окт жовтень жовтня жов říjen "
        "října ekim október octombrie octubre",
        "listopad listopada lis ноябрь ноября ноя листопад листопада лис kasım "
        "november noiembrie novembre",
        "grudzień grudnia gru декабрь декабря дек грудень грудня гру prosinec prosince "
        "aralık december decembrie desembre",
    ],
    start=1,
):
    for _name in _names.split():
        _MONTHS.setdefault(_name.rstrip("."), _number)

_MONTH_ALT = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th|er|º|°)?"
_TIME = (
    r"(?:(?:,|\s|at|um|à|a\s+las|alle|T)*\s*(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2}))?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?"
)
_PATTERNS: list[tuple[str, str]] = [
    (
        "iso",
        r"(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
        r"(?:[T ](?P<hh>\d{2}):(?P<mi>\d{2})(?::(?P<ss>\d{2})(?:\.\d+)?)?"
        r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?",
    ),
    ("cjk", r"(?P<y>(?:19|20)\d{2})\s*[年년]\s*(?P<m>\d{1,2})\s*[月월]\s*(?P<d>\d{1,2})\s*[日일]?"),
    # WordPress's "F j, Y" in Japanese, Chinese and Korean: "8月 13, 2020", "8월 13, 2020".
    (
        "cjk_mdy",
        r"(?P<m>\d{1,2})\s*[月월]\s*(?P<d>\d{1,2})\s*[日일]?\s*[,，、]\s*(?P<y>(?:19|20)\d{2})",
    ),
    ("ymd_slash", r"(?P<y>(?:19|20)\d{2})[/.](?P<m>\d{1,2})[/.](?P<d>\d{1,2})\b"),
    (
        "d_month_y",
        rf"\b(?P<d>\d{{1,2}}){_ORD}\.?\s*(?:de\s+|of\s+)?(?P<mon>{_MONTH_ALT})\.?,?"
        rf"\s*(?:de\s+|del\s+)?(?P<y>(?:19|20)\d{{2}})\b" + _TIME,
    ),
    (
        "month_d_y",
        rf"\b(?P<mon>{_MONTH_ALT})\.?\s+(?P<d>\d{{1,2}}){_ORD},?\s+(?P<y>(?:19|20)\d{{2}})\b"
        + _TIME,
    ),
    ("dotted", r"\b(?P<a>\d{1,2})\.\s?(?P<b>\d{1,2})\.\s?(?P<y>(?:19|20)\d{2})\b"),
    ("numeric", r"\b(?P<a>\d{1,2})[/-](?P<b>\d{1,2})[/-](?P<y>(?:19|20)\d{2})\b"),
]
DATE_RE = re.compile(
    "|".join(
        f"(?P<{name}>{pattern.replace('(?P<', f'(?P<{name}_')})" for name, pattern in _PATTERNS
    ),
    re.IGNORECASE,
)


def _tz(value: str | None) -> timezone | None:
    if not value:
        return None
    value = value.upper()
    if value in {"Z", "UTC", "GMT"}:
        return UTC
    sign = -1 if value[0] == "-" else 1
    digits = value[1:].replace(":", "")
    try:
        return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))
    except ValueError:
        return None


def _build(
    year: int, month: int, day: int, groups: dict[str, str | None]
) -> date | datetime | None:
    try:
        day_value = date(year, month, day)
    except ValueError:
        return None
    tz = _tz(groups.get("tz"))
    hh, mi = groups.get("hh"), groups.get("mi")
    if tz is None or hh is None or mi is None:
        return day_value
    hour = int(hh)
    ampm = (groups.get("ampm") or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        return datetime(year, month, day, hour, int(mi), int(groups.get("ss") or 0), tzinfo=tz)
    except ValueError:
        return day_value


def _from_match(match: re.Match[str], order: DateOrder) -> date | datetime | None:
    kind = match.lastgroup
    if kind is None:
        return None
    prefix = kind + "_"
    groups = {k[len(prefix) :]: v for k, v in match.groupdict().items() if k.startswith(prefix)}
    year = int(groups["y"] or 0)
    if kind in {"iso", "cjk", "ymd_slash", "cjk_mdy"}:
        return _build(year, int(groups["m"] or 0), int(groups["d"] or 0), groups)
    if kind in {"d_month_y", "month_d_y"}:
        month = _MONTHS.get((groups["mon"] or "").lower().rstrip("."))
        if month is None:
            return None
        return _build(year, month, int(groups["d"] or 0), groups)
    first, second = int(groups["a"] or 0), int(groups["b"] or 0)
    if kind == "dotted":  # 12.03.2021 is day-first everywhere it is written
        return _build(year, second, first, groups)
    if first > 12 >= second:
        return _build(year, second, first, groups)
    if second > 12 >= first:
        return _build(year, first, second, groups)
    if order == "DMY":
        return _build(year, second, first, groups)
    return _build(year, first, second, groups)


def may_hold_date(text: str) -> bool:
    """False when ``DATE_RE`` cannot match: every one of its patterns has a year written
    ``19xx`` or ``20xx``. A substring test is ~50x cheaper than the regular expression
    and most text blocks (menus, widgets, paragraphs) hold no year."""
    return "19" in text or "20" in text


def find_date_in_text(text: str, order: DateOrder = "MDY") -> date | datetime | None:
    """The first date written anywhere in ``text``, or ``None``."""
    if not may_hold_date(text):
        return None
    for match in DATE_RE.finditer(text):
        found = _from_match(match, order)
        if found is not None:
            return found
    return None


# Pure, and the same texts come back page after page (a widget's "March 3, 2005" beside
# each of its links, a theme's date line format): a hit skips the regular expression.
@functools.lru_cache(maxsize=8192)
def parse_date(value: str | None, order: DateOrder = "MDY") -> date | datetime | None:
    """Parse a machine or human date string.

    Args:
        value: an attribute or text value ("2021-03-12T10:00:00+01:00", "12 March 2021").
        order: how to read ambiguous numeric dates such as 03/04/2021.

    Returns:
        A ``date``, an aware ``datetime`` when time and offset are known, or ``None``.
    """
    if not value:
        return None
    text = value.strip()
    if not text or len(text) > 400:
        return None
    if "," in text[:5] and text[:3].isalpha():  # RFC 2822: "Tue, 12 Mar 2021 10:00:00 GMT"
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return find_date_in_text(text, order)


def node_date(node: LexborNode, order: DateOrder) -> date | datetime | None:
    """The date a node states: its ``datetime``/``content`` attribute, else its text."""
    for attribute in ("datetime", "content", "title"):
        found = parse_date(node.attributes.get(attribute), order)
        if found is not None:
            return found
    return parse_date(" ".join(node.text(deep=True, separator=" ").split())[:200], order)


EARLIEST = date(1990, 1, 1)  # before the web had blogs: a CMS default or an epoch bug


def plausible(value: date | datetime, fetched_at: datetime) -> bool:
    """True when a publication date can be real: from 1990 to one day after the fetch.

    A day of slack allows for time zones; anything later is a template's "today", a
    countdown or an event date, not when the page was written.
    """
    day = same_day(value)
    return EARLIEST <= day <= fetched_at.date() + timedelta(days=1)


def same_day(value: date | datetime) -> date:
    """The calendar day of a date or datetime."""
    return value.date() if isinstance(value, datetime) else value


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


def _in_junk(node: LexborNode, stop: LexborNode | None, footer_ok: bool = False) -> bool:
    """True inside a sidebar, comment, related or footer block below ``stop``.

    ``footer_ok``: an article's own ``<footer>`` holds its marked-up date
    (``time.published`` in WordPress themes); only free-text date lines skip it.
    """
    current = node.parent
    depth = 0
    while current is not None and depth < 200:
        if stop is not None and current.mem_id == stop.mem_id:
            return False
        if current.tag in DATE_JUNK_TAGS or (current.tag == "footer" and not footer_ok):
            return True
        junk = DATE_JUNK_WORDS.search(class_id(current))
        if junk is not None and not (footer_ok and junk.group(0).lower() == "footer"):
            return True
        current = current.parent
        depth += 1
    return False


_JUNK_WALK = 200  # ancestors ``_in_junk`` looks at


class _JunkBelow:
    """``_in_junk(node, stop)`` (no ``footer_ok``) for every element under one ``stop``,
    each ancestor tested once.

    A walk up remembers, for each ancestor it passed, its verdict and how many steps
    above that ancestor it was reached (the ``stop``, a junk block, the root); the next
    node below stops at the first remembered ancestor. The answers are ``_in_junk``'s,
    its bound of ``_JUNK_WALK`` ancestors included: a verdict reached that many steps
    up or more is ``False``, as the bounded walk never gets there.
    """

    __slots__ = ("_known",)

    def __init__(self, stop: LexborNode | None) -> None:
        # mem_id -> (verdict, steps from that node up to where it was reached)
        self._known: dict[int, tuple[bool, int]] = {}
        if stop is not None:
            self._known[stop.mem_id] = (False, 0)

    def __call__(self, node: LexborNode) -> bool:
        known = self._known
        chain: list[int] = []
        current = node.parent
        verdict, reached = False, 0
        while True:
            if current is None:
                verdict, reached = False, len(chain)
                break
            ident = current.mem_id
            cached = known.get(ident)
            if cached is not None:
                verdict, reached = cached[0], len(chain) + cached[1]
                break
            tag = current.tag
            if (
                tag in DATE_JUNK_TAGS
                or tag == "footer"
                or DATE_JUNK_WORDS.search(class_id(current)) is not None
            ):
                known[ident] = (True, 0)
                verdict, reached = True, len(chain)
                break
            chain.append(ident)
            current = current.parent
        for depth, ident in enumerate(chain):
            known[ident] = (verdict, reached - depth)
        return verdict if reached < _JUNK_WALK else False


_MAX_LINE_NODES = 1500  # a date line sits near the top; bounds the cost on huge pages
# Normalizing a prefix of a text never gives a longer result than normalizing all of it.
_RAW_PREFIX = 2000
_NOT_DATE_LINES = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "meta", "link", "option", "a",
     "pre", "code", "textarea"}
)  # fmt: skip


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

    published: date | datetime | None = None
    updated: date | datetime | None = None
    own_footer = scope.tag != "body"
    for node in scope.css(_UPDATED_SELECTORS):
        if not _in_junk(node, scope, own_footer):
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
        if only_updated or _in_junk(node, scope, own_footer):
            continue
        found = node_date(node, order)
        if ok(found):
            published = found
            break
    if published is not None:
        return published, updated
    # The date line right under the headline ("Published on …" below the <h1>) beats a
    # date met earlier in document order (a table layout's sidebar column comes first).
    below, below_updated = _under_headline(scope, order, ok)
    if below is not None:
        return below, updated or below_updated
    in_junk = _JunkBelow(scope)  # ``_in_junk(node, scope)``, each ancestor tested once
    for count, node in enumerate(scope.css(_DATE_LINE_SELECTORS)):
        if count >= _MAX_LINE_NODES:
            break
        marker = _own_marker(node)
        if "updated" in marker or "modified" in marker or in_junk(node):
            continue
        if node.tag in _NOT_DATE_LINES:
            continue
        raw = node.text(deep=True, separator=" ")
        if (
            node.tag != "time"
            and len(raw) > _RAW_PREFIX
            and len(" ".join(raw[:_RAW_PREFIX].split())) > 300
        ):
            # Too long for a date line (below), told from a prefix: the text of a
            # container near the top is most of the page's, and normalizing all of it
            # for every level of nesting cost more than the rest of the search.
            continue
        text = " ".join(raw.split())
        if node.tag != "time" and (
            len(text) > 300 or (len(text) > 100 and contains(region, node)) or not text
        ):
            continue
        if NAV_TEXT.search(text):
            continue  # "« Older entry (March 3, 2005)": another post's date
        if node.tag == "time" or node.attributes.get("datetime"):
            found = node_date(node, order)
            if ok(found):
                return found, updated
            continue
        for match in DATE_RE.finditer(text):
            if UPDATED_WORD.search(text[: match.start()][-40:]):
                found = _from_match(match, order)
                if updated is None and ok(found):
                    updated = found
                continue
            found = _from_match(match, order)
            if ok(found):
                return found, updated
    return None, updated


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
        if sibling.tag in _NOT_DATE_LINES or not text or len(text) > _LINE_MAX_CHARS:
            if len(text) > _LINE_MAX_CHARS:
                break  # the article's text has begun
            sibling = sibling.next
            continue
        if NAV_TEXT.search(text):
            sibling = sibling.next
            continue
        for match in DATE_RE.finditer(text):
            found = _from_match(match, order)
            if not ok(found):
                continue
            if UPDATED_WORD.search(text[: match.start()][-40:]):
                updated = updated or found
            elif published is None:
                published = found
        sibling = sibling.next
    return published, updated


_LINE_MAX_CHARS = 150  # a date line ("Posted March 4, 2004 by Bob · 3 comments")
_LINE_MAX_REST = 70  # what the line may say besides the date
_TEXT_BLOCKS = frozenset({"p", "li", "blockquote", "pre", "table", "ul", "ol", "dl"})
_STOP_HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_MAX_EDGE_NODES = 200


def date_line_nodes(
    region: LexborNode, values: tuple[date | datetime | None, ...], order: DateOrder
) -> list[LexborNode]:
    """The date lines at the top and bottom of the body region showing the page's dates.

    Only the region's edges are read: the elements before the first text block (a long
    paragraph, list or table) and after the last one; a paragraph that mentions the day
    in passing is text, not a date line. A date line is an element whose text stays short
    and says little besides one of ``values``' days (a day either side is accepted: a
    stored UTC time may fall on the neighbouring day).

    Args:
        region: the body region (in the shared page tree).
        values: the published and updated dates already found (any layer).
        order: the site's numeric date order.

    Returns:
        The nodes to leave out of the body.
    """
    days: set[date] = set()
    for value in values:
        if value is not None:
            day = same_day(value)
            days.update((day - timedelta(days=1), day, day + timedelta(days=1)))
    if not days:
        return []
    found: list[LexborNode] = []
    budget = [_MAX_EDGE_NODES]
    _edge_lines(region, False, days, order, found, budget)
    budget[0] = _MAX_EDGE_NODES
    _edge_lines(region, True, days, order, found, budget)
    return list({node.mem_id: node for node in found}.values())


def _edge_lines(
    node: LexborNode,
    from_end: bool,
    days: set[date],
    order: DateOrder,
    found: list[LexborNode],
    budget: list[int],
) -> bool:
    """Walk ``node``'s children from one end; True once the article text is reached."""
    child = node.last_child if from_end else node.child
    while child is not None:
        budget[0] -= 1
        if budget[0] < 0:
            return True
        tag = child.tag
        if tag in _NOT_DATE_LINES - {"a"} or tag == "-comment":
            child = child.prev if from_end else child.next
            continue
        text = " ".join(child.text(deep=True, separator=" ").split())
        if tag in _STOP_HEADINGS:
            # A Blogger-style date header ("samedi 30 juillet 2011") is a date line.
            if len(text) <= 60 and _is_date_line(text, days, order):
                found.append(child)
                child = child.prev if from_end else child.next
                continue
            return True
        if tag == "-text":
            if len(text) > _LINE_MAX_REST:
                return True
        elif len(text) <= _LINE_MAX_CHARS:
            if text and _is_date_line(text, days, order):
                found.append(child)
        elif tag in _TEXT_BLOCKS or _edge_lines(child, from_end, days, order, found, budget):
            return True
        child = child.prev if from_end else child.next
    return False


def _is_date_line(text: str, days: set[date], order: DateOrder) -> bool:
    if not may_hold_date(text):
        return False
    for match in DATE_RE.finditer(text):
        value = _from_match(match, order)
        if value is not None and same_day(value) in days:
            return len(text) - len(match.group(0)) <= _LINE_MAX_REST
    return False
