"""Small questions about the parsed selectolax tree that several field modules ask.

Pure tree navigation: no field knowledge, no parsing, no text rules.
"""

from __future__ import annotations

from collections.abc import Callable

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = [
    "BoundedMemo",
    "contains",
    "marked_within",
    "memo_ancestors",
    "memo_ancestors_within",
    "select_safely",
]

# ``memo_ancestors_within``'s memo: mem_id -> (verdict, steps up to where it was reached).
BoundedMemo = dict[int, tuple[bool, int]]


def select_safely(root: LexborNode | LexborHTMLParser, selector: str) -> list[LexborNode]:
    """``root.css(selector)``, with an invalid (configured) selector matching nothing."""
    try:
        return list(root.css(selector))
    except (ValueError, TypeError, RuntimeError):
        return []


def contains(ancestor: LexborNode | None, node: LexborNode) -> bool:
    """True when ``node`` is ``ancestor`` or lies inside it (``None`` contains nothing)."""
    if ancestor is None:
        return False
    target = ancestor.mem_id
    current: LexborNode | None = node
    while current is not None:
        if current.mem_id == target:
            return True
        current = current.parent
    return False


def marked_within(node: LexborNode | None, known: dict[int, bool]) -> bool:
    """Whether ``node`` or one of its ancestors is marked ``True`` in ``known``.

    ``known`` maps ``mem_id`` to a mark; the answer is memoized for every node of the
    walked chain, so siblings and cousins stop after a step or two. A ``False``
    memoized before an ancestor was marked stays: asked in document order (a node is
    marked before anything inside it is asked about), the answers are exact; out of
    order they may miss a later mark, never invent one (callers use it to skip work
    that would find nothing new, where a miss only costs the work).
    """
    return memo_ancestors(node, known)


def memo_ancestors(
    node: LexborNode | None,
    known: dict[int, bool],
    test: Callable[[LexborNode], object] | None = None,
    stop_tags: frozenset[str] = frozenset(),
) -> bool:
    """Whether ``node`` or an ancestor (below the first ``stop_tags`` element) is marked
    ``True`` in ``known`` or passes ``test``; the answer is memoized in ``known`` for
    every node of the walked chain (``mem_id`` keys), so later questions about siblings
    and cousins stop after a step or two."""
    chain: list[int] = []
    current = node
    answer = False
    while current is not None and not (stop_tags and current.tag in stop_tags):
        ident = current.mem_id
        cached = known.get(ident)
        if cached is not None:
            answer = cached
            break
        chain.append(ident)
        if test is not None and test(current):
            answer = True
            break
        current = current.parent
    for ident in chain:
        known[ident] = answer
    return answer


def memo_ancestors_within(
    node: LexborNode | None,
    known: BoundedMemo,
    test: Callable[[LexborNode], object],
    limit: int,
) -> bool:
    """:func:`memo_ancestors` bounded: whether one of the first ``limit`` nodes from
    ``node`` up passes ``test``, as a walk that gives up after ``limit`` steps answers.

    ``known`` maps ``mem_id`` to ``(verdict, steps)``: the verdict reached above that
    node and how many steps up it was reached (the node that passed ``test``, a node
    seeded as ``(False, 0)`` to stop at, the root). A verdict ``limit`` or more steps
    up is ``False``, as the bounded walk never gets there; the next node below stops at
    the first node of the chain it meets in ``known``.
    """
    chain: list[int] = []
    current = node
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
        if test(current):
            known[ident] = (True, 0)
            verdict, reached = True, len(chain)
            break
        chain.append(ident)
        current = current.parent
    for depth, ident in enumerate(chain):
        known[ident] = (verdict, reached - depth)
    return verdict if reached < limit else False
