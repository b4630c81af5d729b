"""The parts of a ``<title>``: the headline and the site names around it."""

from __future__ import annotations

import re

from migrator.extract.blocks import norm

__all__ = ["cut_site_names", "title_parts", "title_spans"]

_WS = re.compile(r"\s+")
_SEPARATORS = re.compile(r"\s+(?:\||–|—|-|::|:|«|»|·|•|/|\\)\s+|(?<=\w):\s+")


def _tokens(title: str) -> list[str]:
    """``title`` split into parts and the separators between them (odd indexes)."""
    pattern = re.compile(f"({_SEPARATORS.pattern})")
    return [t for t in pattern.split(title) if t is not None]


def title_spans(title: str) -> set[str]:
    """Every run of consecutive ``<title>`` parts with their own separators, normalized:
    the headline is one of them ("Blog » Trip 0: the hills" → "trip 0: the hills")."""
    tokens = _tokens(title)
    parts = tokens[::2]
    spans: set[str] = set()
    for start in range(min(len(parts), 8)):
        for end in range(start, min(len(parts), start + 8)):
            spans.add(norm("".join(tokens[2 * start : 2 * end + 1])))
    spans.discard("")
    return spans


def cut_site_names(title: str, names: frozenset[str] | set[str]) -> str | None:
    """``title`` without the site-name parts at its start and end (``None`` if none)."""
    tokens = _tokens(title)
    cut = False
    while len(tokens) >= 3 and norm(tokens[0]) in names:
        tokens, cut = tokens[2:], True
    while len(tokens) >= 3 and norm(tokens[-1]) in names:
        tokens, cut = tokens[:-2], True
    kept = _WS.sub(" ", "".join(tokens)).strip()
    return kept if cut and kept else None


def title_parts(title: str) -> list[str]:
    """A ``<title>`` split at its separators ("Post | Blog", "Blog: Post"), normalized."""
    return [norm(p) for p in _SEPARATORS.split(title) if p.strip()]
