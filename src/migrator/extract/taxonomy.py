"""A post's tags and categories: ``rel=tag`` links in the article, else JSON-LD
``keywords``/``articleSection``, else ``article:tag``/``article:section`` meta."""

from __future__ import annotations

import re
from typing import Any

from selectolax.lexbor import LexborNode

from migrator.extract.structured import Structured, jsonld_text

__all__ = ["taxonomy"]

_WS = re.compile(r"\s+")


def _split_keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        return [k for v in value for k in _split_keywords(v)]
    if isinstance(value, dict):
        text = jsonld_text(value)
        return [text] if text else []
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    return []


def _dedupe(values: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        clean = _WS.sub(" ", value).strip()
        if clean and len(clean) <= 100 and clean.lower() not in {k.lower() for k in seen}:
            seen[clean] = None
    return tuple(seen)[:50]


def taxonomy(
    structured: Structured, scope: LexborNode | None, sources: dict[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    tags: list[str] = []
    categories: list[str] = []
    if scope is not None:
        for node in scope.css('a[rel~="tag"]'):
            label = _WS.sub(" ", node.text(deep=True)).strip()
            rel = (node.attributes.get("rel") or "").lower()
            (categories if "category" in rel else tags).append(label)
    if tags or categories:
        sources["tags"] = "heuristic"
    if not tags and structured.article is not None:
        tags = _split_keywords(structured.article.get("keywords"))
        if tags:
            sources["tags"] = "jsonld"
    if not categories and structured.article is not None:
        categories = _split_keywords(structured.article.get("articleSection"))
    if not tags:
        tags = list(structured.meta_all.get("article:tag", []))
    if not categories:
        categories = list(structured.meta_all.get("article:section", []))
    return _dedupe(tags), _dedupe(categories)
