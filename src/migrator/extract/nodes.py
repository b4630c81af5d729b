"""Small questions about the parsed selectolax tree that several field modules ask.

Pure tree navigation: no field knowledge, no parsing, no text rules.
"""

from __future__ import annotations

from selectolax.lexbor import LexborNode

__all__ = ["contains"]


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
