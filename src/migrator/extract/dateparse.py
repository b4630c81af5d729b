"""Reading date strings: machine dates (ISO 8601, RFC 2822) and human ones in many languages.

``parse_date`` reads "December 12, 2023", "12. März 2021", "12 de marzo de 2021",
"2021年3月12日", "20 февраля 2017" and numeric dates in the site's configured order. A
``date`` is returned when only the day is known and an aware ``datetime`` when the time
and its offset are; a time without an offset gives the day only (guessing a zone would
invent precision). ``plausible`` tells a real publication date from a template's "today".
Where on a page a date is read is ``dates``' concern, not this module's.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from selectolax.lexbor import LexborNode

from migrator.config import DateOrder

__all__ = [
    "DATE_RE",
    "EARLIEST",
    "date_from_match",
    "find_date_in_text",
    "may_hold_date",
    "node_date",
    "parse_date",
    "plausible",
    "same_day",
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


def date_from_match(match: re.Match[str], order: DateOrder) -> date | datetime | None:
    """The date one match of ``DATE_RE`` states (``None`` when it is no real day)."""
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
        found = date_from_match(match, order)
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
