"""The page's grid: which layout columns are narrow side columns beside the main one.

Themes built on a CSS grid (Bootstrap's ``col-md-8`` + ``col-md-4``, Bootstrap 2's
``span8`` + ``span4``, 960.gs ``grid_8`` + ``grid_4``, Foundation's ``large-8 columns``)
name no "sidebar" anywhere: the only sign is a narrow column next to a wide one. Widgets
live there ("Новые материалы", "Recent posts"), and so do their dates.

Pure tree navigation over the selectolax tree.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["GRID_SELECTOR", "grid_width", "is_side_column", "side_columns"]

# One class token naming a column's width, with its breakpoint (wider screens win).
_GRID_TOKEN = re.compile(
    r"^(?:col-(?:(xs|sm|md|lg|xl|xxl)-)?(\d{1,2})|span-?(\d{1,2})|grid_(\d{1,2})|"
    r"(small|medium|large|xlarge)-(\d{1,2}))$"
)
_BREAKPOINT = {
    None: 0,
    "xs": 0,
    "small": 0,
    "sm": 1,
    "medium": 2,
    "md": 2,
    "lg": 3,
    "large": 3,
    "xl": 4,
    "xlarge": 4,
    "xxl": 5,
}
GRID_SELECTOR = (
    '[class*="col-"], [class*="span"], [class*="grid_"], [class*="small-"], '
    '[class*="medium-"], [class*="large-"]'
)


def grid_width(node: LexborNode) -> int | None:
    """The column width a node's classes give at the widest breakpoint, or ``None``."""
    classes = node.attributes.get("class")
    if not classes:
        return None
    best: tuple[int, int] | None = None
    for token in classes.split():
        match = _GRID_TOKEN.match(token)
        if match is None:
            continue
        col_bp, col_n, span_n, grid_n, fnd_bp, fnd_n = match.groups()
        if col_n is not None:
            rank, width = _BREAKPOINT[col_bp], int(col_n)
        elif fnd_n is not None:
            rank, width = _BREAKPOINT[fnd_bp], int(fnd_n)
        else:
            rank, width = 0, int(span_n or grid_n)
        if 0 < width <= 24 and (best is None or rank >= best[0]):
            best = (rank, width)
    return best[1] if best is not None else None


def is_side_column(node: LexborNode) -> bool:
    """True for a narrow grid column that has a wider column as a sibling.

    A row of equal cards (three ``col-md-4``) is not a sidebar; ``col-md-4`` next to
    ``col-md-8`` is.
    """
    width = grid_width(node)
    parent = node.parent
    if width is None or parent is None:
        return False
    sibling = parent.child
    while sibling is not None:
        if sibling.mem_id != node.mem_id and sibling.tag not in {"-text", "_comment"}:
            other = grid_width(sibling)
            if other is not None and other >= 1.5 * width:
                return True
        sibling = sibling.next
    return False


def side_columns(tree: LexborHTMLParser) -> list[LexborNode]:
    """The page's side columns, outermost first (a nested one is inside an earlier one)."""
    found: list[LexborNode] = []
    for node in tree.css(GRID_SELECTOR):
        if node.tag in {"html", "body"} or not is_side_column(node):
            continue
        if any(_inside(node, outer) for outer in found):
            continue
        found.append(node)
    return found


def _inside(node: LexborNode, ancestor: LexborNode) -> bool:
    current = node.parent
    target = ancestor.mem_id
    while current is not None:
        if current.mem_id == target:
            return True
        current = current.parent
    return False
