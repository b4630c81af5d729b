"""The article around the body and the body itself: its container (where the title and the
date line live), the headings and date nodes already stored as fields, the body HTML."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.clean import sanitize_html
from migrator.config import ExtractConfig
from migrator.extract.blocks import norm
from migrator.extract.body import (
    Block,
    clean_region,
    media_region,
    read_blocks,
    select_safely,
    trafilatura_html,
)
from migrator.extract.dates import date_line_nodes, find_date_in_text, same_day
from migrator.extract.draft import Draft
from migrator.extract.markers import ARTICLE_SCOPE, class_id

_TRAFILATURA_MAX_CHARS = 5_000_000


def article_scope(tree: LexborHTMLParser, region: LexborNode | None) -> LexborNode | None:
    """The article container around the body: where its title and date line live."""
    if region is None:
        return tree.body
    current: LexborNode | None = region
    for _ in range(5):
        if current is None or current.tag in {"body", "html"}:
            break
        if current is not region and (
            current.tag == "article" or ARTICLE_SCOPE.search(class_id(current))
        ):
            return current
        current = current.parent
    # No article wrapper: the region's surroundings up to two levels (header + body);
    # the date helpers skip sidebars, comments and footers inside it.
    current = region
    for _ in range(2):
        parent = current.parent
        if parent is None or parent.tag == "html":
            break
        current = parent
        if current.tag == "body":
            break
    return current


def site_date_nodes(region: LexborNode, selector: str) -> tuple[LexborNode, ...]:
    """The site's date element inside the body (a Blogger date header): a field, not text.

    A heading left holding nothing but the date goes with it.
    """
    found = []
    for node in select_safely(region, selector):
        text = node.text(deep=True)
        if len(text) > 200 or find_date_in_text(text) is None:
            continue
        parent = node.parent
        if (
            parent is not None
            and parent.tag in {"h1", "h2", "h3", "h4", "h5", "h6"}
            and norm(parent.text(deep=True)) == norm(node.text(deep=True))
        ):
            found.append(parent)
        else:
            found.append(node)
    return tuple(found)


def title_headings(region: LexborNode, title: str) -> tuple[LexborNode, ...]:
    """The body's headings that repeat the headline: the title, not a section."""
    wanted = norm(title)
    return tuple(
        node
        for node in region.css("h1, h2, h3, h4")
        if norm(node.text(deep=True, separator=" ")) == wanted
    )


def article_body(
    tree: LexborHTMLParser,
    page_text: Callable[[], str],
    rules: ExtractConfig,
    region: LexborNode | None,
    strong: bool,
    draft: Draft,
    taken: tuple[LexborNode, ...] = (),
    dates: tuple[date | datetime | None, ...] = (),
    title: str | None = None,
) -> tuple[str, list[Block]]:
    """Sanitized body HTML and its blocks (own region detection, else trafilatura).

    From our own region, the nodes other fields took (``taken``: the breadcrumb trail)
    and the date lines showing ``dates`` are left out: they are the page's furniture,
    already stored as fields.
    """
    mode = rules.use_trafilatura
    use_own = region is not None and (mode == "never" or (mode == "auto" and strong))
    if not use_own and mode != "never" and len(page_text()) <= _TRAFILATURA_MAX_CHARS:
        extracted = trafilatura_html(page_text(), draft.url)
        if extracted is not None:
            fragment = LexborHTMLParser(extracted)
            node = fragment.body
            if node is not None:
                wanted = norm(title) if title else None
                days = {same_day(d) for d in dates if d is not None}
                for heading in node.css("h1, h2, h3, h4"):
                    shown = norm(heading.text(deep=True, separator=" "))
                    dated = find_date_in_text(shown) if len(shown) <= 60 else None
                    if (
                        heading.tag == "h1"
                        or (wanted and shown == wanted)
                        or (dated is not None and same_day(dated) in days)
                    ):
                        heading.decompose()  # the title, or a date header: fields
                blocks = read_blocks(node)
                media = None if blocks else media_region(tree)
                if media is None:
                    draft.sources["body"] = "trafilatura"
                    return sanitize_html(node.inner_html or "", draft.base), blocks
                region = media  # no text at all: a picture post, whose body is the picture
        elif (media := media_region(tree)) is not None:
            region = media  # trafilatura found nothing: a picture post
    if region is None:
        return "", []
    if dates and not rules.selectors.content:
        taken = (*taken, *date_line_nodes(region, dates, rules.date_order))
    cleaned = clean_region(region, rules, taken)
    draft.sources.setdefault("body", "heuristic")
    return sanitize_html(cleaned.inner_html or "", draft.base), read_blocks(cleaned)
