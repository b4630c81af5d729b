"""Learning's second pass: the votes for the site names, the headline's and the date's
elements, counted over the samples' candidates once the furniture is known."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from migrator.extract.pagetype import url_page_type
from migrator.extract.samples import Sample
from migrator.extract.titleparts import title_parts, title_spans

__all__ = [
    "MIN_FURNITURE_PAGES",
    "Votes",
    "date_is_exclusive",
    "new_votes",
    "pick_date",
    "pick_title",
    "title_names",
    "vote_date",
    "vote_title",
]

MIN_FURNITURE_PAGES = 3  # the fewest pages a learned block, name or element is seen on
_EXCLUSIVE_PAGES = 20  # dated pages of a template needed to call its date element the only one
_EXCLUSIVE_SHARE = 0.9  # … and the share of them that show it
_SITE_NAME_SHARE = 0.3


@dataclass(slots=True)
class Votes:
    """What the second pass over the sample counts."""

    title: Counter[str]
    title_pages: int
    title_single: Counter[str]
    heading_names: set[str]
    date_scores: defaultdict[str, float]
    date_present: Counter[str]
    date_values: defaultdict[str, set[date]]
    orders: Counter[str]
    dated: list[frozenset[str]]  # per page with one or two dates: the elements giving them


def new_votes() -> Votes:
    """Votes with nothing counted yet."""
    return Votes(
        Counter(),
        0,
        Counter(),
        set(),
        defaultdict(float),
        Counter(),
        defaultdict(set),
        Counter(),
        [],
    )


def title_names(samples: list[Sample]) -> set[str]:
    """``<title>`` parts and ``og:title`` values that repeat across pages, og:site_name."""
    parts: Counter[str] = Counter()
    og_titles: Counter[str] = Counter()
    og_sites: Counter[str] = Counter()
    for sample in samples:
        parts.update(set(title_parts(sample.title)))
        if sample.og_title:
            og_titles[sample.og_title] += 1
        if sample.og_site:
            og_sites[sample.og_site] += 1
    threshold = max(MIN_FURNITURE_PAGES, math.ceil(_SITE_NAME_SHARE * len(samples)))
    names = {p for p, n in parts.items() if n >= threshold}
    names.update(t for t, n in og_titles.items() if n >= threshold)
    # og:site_name on a few pages of a foreign stub (a saved captcha page) names nothing.
    names.update(t for t, n in og_sites.items() if n >= min(threshold, 0.1 * len(samples) + 1))
    names.discard("")
    return names


def _headline_candidates(sample: Sample, site_names: set[str]) -> set[str]:
    wanted = {s for s in title_spans(sample.title) if s not in site_names and len(s) >= 2}
    if sample.og_title and sample.og_title not in site_names:
        wanted.add(sample.og_title)
    return wanted


def vote_title(
    sample: Sample,
    furniture: frozenset[int],
    names: set[str],
    votes: Votes,
) -> None:
    """Count the elements of ``sample`` that show its headline (not ``furniture``, not a
    site name of ``names``): once per selector and page."""
    wanted = _headline_candidates(sample, names)
    if not wanted:
        return
    votes.title_pages += 1
    seen: set[str] = set()
    for text, key, selector, alone in sample.title_candidates:
        if text not in wanted or key in furniture or selector in seen:
            continue
        seen.add(selector)
        votes.title[selector] += 1
        votes.title_single[selector] += alone


def pick_title(votes: Votes, evidence: list[str]) -> tuple[str | None, tuple[int, int]]:
    """The headline's selector and its agreement (pages holding it, pages with a
    headline), or ``None`` when no element agrees on enough pages."""
    pages = votes.title_pages
    if not votes.title:
        evidence.append(f"title: no element shows the <title> headline ({pages} pages)")
        return None, (0, pages)
    selector, agree = max(votes.title.items(), key=lambda kv: (kv[1], kv[0][:1] == "h", kv[0]))
    if agree < max(MIN_FURNITURE_PAGES, math.ceil(0.3 * pages)):
        evidence.append(f"title: no element agrees enough (best {selector}: {agree}/{pages})")
        return None, (agree, pages)
    evidence.append(f"title: {selector} holds the <title> headline on {agree}/{pages} pages")
    return selector, (agree, pages)


def vote_date(sample: Sample, furniture: frozenset[int], votes: Votes) -> None:
    """Count the elements of ``sample`` that give a plausible date (not ``furniture``),
    their days, scores and numeric orders; note a post-like page's date elements."""
    seen: set[str] = set()
    days: set[date] = set()
    for key, selector, day, score, orders in sample.date_candidates:
        if key in furniture or selector in seen:
            continue
        seen.add(selector)
        votes.date_present[selector] += 1
        votes.date_values[selector].add(day)
        votes.date_scores[selector] += score
        votes.orders.update(orders)
        days.add(day)
    # Three and more days, or an archive's URL: a list of posts, not one post's page.
    if 0 < len(days) < 3 and url_page_type(sample.url) != "listing":
        votes.dated.append(frozenset(seen))


def date_is_exclusive(votes: Votes, selector: str | None, evidence: list[str]) -> bool:
    """True when nearly every dated page of the sample shows its date in ``selector``.

    Then a page of the template without that element has no date of its own: what dates
    it shows belong to something else (an event's start and end, a widget, a sidebar).
    Only with enough pages to tell (``_EXCLUSIVE_PAGES``).
    """
    if selector is None or len(votes.dated) < _EXCLUSIVE_PAGES:
        return False
    having = sum(1 for elements in votes.dated if selector in elements)
    exclusive = having >= _EXCLUSIVE_SHARE * len(votes.dated)
    evidence.append(
        f"date: {selector} on {having} of {len(votes.dated)} dated pages"
        + (" (the only place a page shows its date)" if exclusive else "")
    )
    return exclusive


def pick_date(
    votes: Votes, count: int, evidence: list[str]
) -> tuple[str | None, tuple[int, int], str | None]:
    """The date's selector and its agreement (pages giving a date there, of ``count``),
    and the numeric date order most dates show (either may be ``None``)."""
    order = None
    if votes.orders:
        order = votes.orders.most_common(1)[0][0]
        evidence.append(f"date order: {order} ({dict(votes.orders)})")
    present, values, scores = votes.date_present, votes.date_values, votes.date_scores
    candidates = [
        s
        for s in scores
        if present[s] >= max(MIN_FURNITURE_PAGES, math.ceil(0.2 * count))
        and len(values[s]) >= min(3, present[s])
    ]
    if not candidates:
        evidence.append("date: no element gives a date on enough pages")
        return None, (0, count), order

    def weight(selector: str) -> float:
        # "div.entry > p" names every paragraph; a classed element names a place.
        last = selector.rsplit(">", 1)[-1]
        return scores[selector] * (1.0 if ("." in last or "#" in last or "time" in last) else 0.5)

    best = max(candidates, key=lambda s: (weight(s), present[s], s))
    evidence.append(
        f"date: {best} on {present[best]}/{count} pages "
        f"({len(values[best])} distinct days, score {scores[best]:.0f})"
    )
    return best, (present[best], count), order
