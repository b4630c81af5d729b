"""Learning's first pass: what each sample page shows, read while its tree is alive.

Each page is parsed once (one tree alive at a time): its blocks' keys, the headings that
open prose, its ``<title>`` and ``og`` values, the elements that show a ``<title>`` part
(title candidates) and the blocks that give a plausible date (date candidates). The votes
(:mod:`migrator.extract.votes`) count them once the furniture is known.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.extract.blocks import (
    NEVER,
    BlockKeys,
    block_key,
    iter_blocks,
    leads_text,
    node_selector,
    norm,
    text_key,
)
from migrator.extract.dates import (
    DATE_RE,
    NAV_TEXT,
    UPDATED_WORD,
    may_hold_date,
    node_date,
    same_day,
)
from migrator.extract.featured import image_key
from migrator.extract.layout import is_side_column
from migrator.extract.nodes import memo_ancestors
from migrator.extract.template import detect_cms, parse_tree, template_signature
from migrator.extract.titleparts import title_spans

__all__ = ["Sample", "SampleRead", "read_samples"]

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@dataclass(slots=True)
class Sample:
    """What the votes read of one sample page."""

    url: str
    title: str
    og_title: str
    og_site: str
    keys: set[int]
    leading: dict[int, int]  # heading key -> key of the prose it opens on this page
    template: str
    # What the votes read, noted while the page's tree is alive (one pass, one tree at a
    # time): h1/h2 texts that may name the site, the elements showing a ``<title>`` part
    # (text, block key, selector, alone on the page) and the blocks giving a plausible
    # date (block key, selector, day, score, numeric orders), in document order. Only
    # the furniture, known after every page was read, decides which of them count.
    headings: list[tuple[str, int]]
    title_candidates: list[tuple[str, int, str, bool]]
    date_candidates: list[tuple[int, str, date, float, list[str]]]


@dataclass(slots=True)
class SampleRead:
    """The first pass over a sample: each page's notes, and what is counted site-wide."""

    samples: list[Sample]
    texts_of: dict[int, int]  # block key -> its text's key
    cms_votes: Counter[str]
    templates: Counter[str]
    og_images: Counter[str]


def read_samples(
    pages: Iterable[tuple[str, str]],
    feed_dates: Mapping[str, str] | None,
    fetched_at: datetime | None,
    *,
    only: str | None = None,
) -> SampleRead:
    """Parse each sample page once (one tree alive at a time) and note what the votes
    read; ``only``: skip the pages of every other template."""
    read = SampleRead([], {}, Counter(), Counter(), Counter())
    latest = (fetched_at or datetime.now().astimezone()).date()
    feeds = feed_dates or {}
    for url, html in pages:
        tree = parse_tree(html)
        if tree is None:
            continue
        signature = template_signature(tree)
        if only is not None and signature != only:
            continue
        cms = detect_cms(html)
        if cms:
            read.cms_votes[cms] += 1
        read.templates[signature] += 1
        og_image = tree.css_first('meta[property="og:image"], meta[name="twitter:image"]')
        if og_image is not None and og_image.attributes.get("content"):
            read.og_images[image_key(og_image.attributes.get("content") or "")] += 1
        read.samples.append(_read_page(url, tree, signature, read.texts_of, feeds, latest))
    return read


def _read_page(
    url: str,
    tree: LexborHTMLParser,
    signature: str,
    texts_of: dict[int, int],
    feeds: Mapping[str, str],
    latest: date,
) -> Sample:
    """One page's notes; each of its blocks' text keys added to ``texts_of``."""
    title_node = tree.css_first("title")
    title = title_node.text(deep=True) if title_node is not None else ""
    og_title = _meta(tree, "og:title")
    keys: set[int] = set()
    leading: dict[int, int] = {}
    headings: list[tuple[str, int]] = []
    dated: list[tuple[LexborNode, str, int]] = []
    block_keys = BlockKeys()
    for node, text in iter_blocks(tree):
        key = block_keys.key(node, text)
        keys.add(key)
        texts_of[key] = text_key(text)
        tag = node.tag
        if tag in _HEADINGS[1:]:
            prose = leads_text(node)
            if prose is not None:
                leading[key] = prose
        if tag in {"h1", "h2"} and len(text) <= 120:
            headings.append((text, key))
        if _may_vote_date(tag, text):
            dated.append((node, text, key))
    return Sample(
        url=url,
        title=title,
        og_title=og_title,
        og_site=_meta(tree, "og:site_name"),
        keys=keys,
        leading=leading,
        template=signature,
        headings=headings,
        title_candidates=_title_candidates(tree, title, og_title),
        date_candidates=_date_candidates(url, dated, feeds, latest),
    )


def _meta(tree: LexborHTMLParser, prop: str) -> str:
    node = tree.css_first(f'meta[property="{prop}"], meta[name="{prop}"]')
    return norm(node.attributes.get("content") or "") if node is not None else ""


_TITLE_CANDIDATES = "h1, h2, h3, h4, h5, [class*=title], [class*=headline], [itemprop=headline]"


def _title_candidates(
    tree: LexborHTMLParser, title: str, og_title: str
) -> list[tuple[str, int, str, bool]]:
    """The elements whose text is a ``<title>`` part or ``og:title``, in document order:
    ``(text, block key, selector, alone on the page)``."""
    shown = title_spans(title)
    if og_title:
        shown.add(og_title)
    if not shown:
        return []
    found: list[tuple[str, int, str, bool]] = []
    single: dict[str, bool] = {}
    for node in tree.css(_TITLE_CANDIDATES):
        if node.tag in NEVER or node.tag in {"title", "meta", "head"}:
            continue
        text = norm(node.text(deep=True, separator=" "))
        if text not in shown:
            continue
        # The heading itself, not a link inside it: the selector names the heading.
        target = node
        if node.tag == "a" and node.parent is not None and node.parent.tag in _HEADINGS:
            target = node.parent
        selector = node_selector(target)
        if not selector:
            continue
        alone = single.get(selector)
        if alone is None:
            # On the page that is this headline's own, the element is there once: a
            # selector that also matches its sections or siblings names no headline.
            try:
                alone = len(tree.css(selector)) == 1
            except (ValueError, TypeError, RuntimeError):
                alone = False
            single[selector] = alone
        found.append((text, block_key(node, text), selector, alone))
    return found


def _url_month(url: str) -> tuple[int, int] | None:
    match = re.search(r"/((?:19|20)\d{2})[/_-](0?[1-9]|1[0-2])(?:[/_-]|$)", urlsplit(url).path)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _may_vote_date(tag: str | None, text: str) -> bool:
    """The tests of ``_date_candidates`` that need neither the node nor the model."""
    if len(text) > 160 or tag in {"h1", "pre", "code", "a"}:
        return False
    return tag == "time" or may_hold_date(text)


def _date_candidates(
    url: str,
    blocks: list[tuple[LexborNode, str, int]],
    feed_dates: Mapping[str, str],
    latest: date,
) -> list[tuple[int, str, date, float, list[str]]]:
    """The page's blocks that show a plausible publication date, in document order:
    ``(block key, selector, day, score, numeric orders of its text)``."""
    feed_day = (feed_dates.get(url) or "")[:10]
    month = _url_month(url)
    found: list[tuple[int, str, date, float, list[str]]] = []
    asides: dict[int, bool] = {}
    for node, text, key in blocks:
        # The cheap tests first: a theme's widgets (archives, recent posts) are full of
        # years, and one walk up per parent answers for all their blocks.
        parent = node.parent
        if parent is not None and _aside(parent, asides):
            continue  # a widget's, a related post's or a comment's date
        if NAV_TEXT.search(text):
            continue  # "« Previous entry (March 3, 2005)": another post's date
        match = DATE_RE.search(text)
        if match is not None and UPDATED_WORD.search(text[: match.start()][-40:]):
            continue  # "Last updated on …": not the publication date
        own = (node.attributes.get("class") or "").lower()
        if ("updated" in own or "modified" in own) and not (
            "published" in own or "entry-date" in own
        ):
            continue  # <time class="updated">: when it changed, not when it was published
        if not (node.tag == "time" or match is not None):
            continue
        day_found = node_date(node, "MDY")
        if day_found is None:
            continue
        day = same_day(day_found)
        if not date(1990, 1, 1) <= day <= latest:
            continue
        selector = node_selector(node)
        if selector is None:
            continue
        score = 1.0
        if feed_day and day.isoformat() == feed_day:
            score += 3.0
        if month is not None:
            score += 1.0 if (day.year, day.month) == month else -1.0
        found.append((key, selector, day, score, _numeric_orders(text)))
    return found


# Not "widget": Blogger's main column is itself a widget (div.widget.Blog).
_ASIDE_MARKER = re.compile(
    r"sidebar|widget-area|secondary|related|comment|footer|respond|share", re.I
)
_PAGE_TAGS = frozenset({"body", "html"})


def _aside(node: LexborNode, known: dict[int, bool]) -> bool:
    """Whether ``node`` or an ancestor below ``<body>`` is an aside, a nav, a footer or
    named like a widget area, related posts or comments (memoized by node in ``known``)."""
    return memo_ancestors(node, known, _is_aside, _PAGE_TAGS)


def _is_aside(node: LexborNode) -> bool:
    attributes = node.attributes
    return bool(
        node.tag in {"aside", "nav", "footer"}
        or _ASIDE_MARKER.search(
            (attributes.get("class") or "") + " " + (attributes.get("id") or "")
        )
        or is_side_column(node)  # a grid theme's narrow column (col-md-4 by col-md-8)
    )


_NUMERIC = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-]((?:19|20)\d{2})\b")


def _numeric_orders(text: str) -> list[str]:
    orders = []
    for match in _NUMERIC.finditer(text):
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second:
            orders.append("DMY")
        elif second > 12 >= first:
            orders.append("MDY")
    return orders
