"""Date lines at the edges of the body region: the lines to leave out of the body text.

A theme prints the post's date above or below its text ("Posted March 4, 2004 by Bob",
a Blogger date header); once the dates are known (any layer), ``date_line_nodes`` finds
the short elements at the region's top and bottom that say little besides one of them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from selectolax.lexbor import LexborNode

from migrator.config import DateOrder
from migrator.extract.dateparse import DATE_RE, date_from_match, may_hold_date, same_day

__all__ = ["LINE_MAX_CHARS", "NOT_DATE_LINES", "date_line_nodes"]

# Elements whose text is never a date line (code, links, form options, the head).
NOT_DATE_LINES = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "meta", "link", "option", "a",
     "pre", "code", "textarea"}
)  # fmt: skip
LINE_MAX_CHARS = 150  # a date line ("Posted March 4, 2004 by Bob · 3 comments")
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
        if tag in NOT_DATE_LINES - {"a"} or tag == "-comment":
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
        elif len(text) <= LINE_MAX_CHARS:
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
        value = date_from_match(match, order)
        if value is not None and same_day(value) in days:
            return len(text) - len(match.group(0)) <= _LINE_MAX_REST
    return False
