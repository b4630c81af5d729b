"""The body's sections (h2-h4 headings with their text, HTML and Markdown, nested by
level) and its images."""

from __future__ import annotations

import re
from dataclasses import replace

from selectolax.lexbor import LexborNode

from migrator.clean import sanitize_html
from migrator.extract.body import (
    Block,
)
from migrator.models import Image, Section

__all__ = ["body_images", "split_sections"]


_HEADING_SPLIT = re.compile(r"<h([234])\b[^>]*>(.*?)</h\1>", re.I | re.S)

_MD_HEADING = re.compile(r"^(#{2,4}) .*$", re.M)


def split_sections(
    blocks: list[Block], body_html: str, body_markdown: str, flat: bool
) -> tuple[Section, ...]:
    """Sections from the block list; html/markdown sliced from the rendered body."""
    heads = [b for b in blocks if b.level]
    html_parts = _split_html(body_html, len(heads), flat)
    md_parts = _split_markdown(body_markdown, len(heads))
    sections: list[Section] = []
    texts: list[str] = []
    open_levels: list[tuple[int, int]] = []  # (level, index) of enclosing sections
    for block in blocks:
        if block.level:
            if sections:
                sections[-1] = replace(sections[-1], text="\n\n".join(texts))
            texts = []
            while open_levels and open_levels[-1][0] >= block.level:
                open_levels.pop()
            parent = open_levels[-1][1] if open_levels else None
            index = len(sections)
            sections.append(
                Section(
                    level=block.level,
                    heading=block.text,
                    text="",
                    anchor=block.anchor,
                    html=html_parts[index] if html_parts else "",
                    markdown=md_parts[index] if md_parts else "",
                    parent=parent,
                )
            )
            open_levels.append((block.level, index))
        elif sections:
            texts.append(block.text)
    if sections:
        sections[-1] = replace(sections[-1], text="\n\n".join(texts))
    return tuple(sections)


def _split_html(body_html: str, count: int, flat: bool) -> list[str]:
    """Each section's HTML: the sanitized body sliced between its h2–h4 headings.

    When every heading is a top-level element of the body (``flat``), each slice is a run
    of whole elements of already-sanitized HTML and is kept as it is; otherwise a slice
    may open or close a wrapper, and is re-sanitized to balance it.
    """
    matches = list(_HEADING_SPLIT.finditer(body_html))
    if len(matches) != count or not count:
        return []
    parts = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(body_html)
        chunk = body_html[match.end() : end]
        if not chunk.strip():
            parts.append("")
        elif flat:
            parts.append(chunk.strip())
        else:
            parts.append(sanitize_html(chunk, "http://invalid/"))
    return parts


def _split_markdown(markdown: str, count: int) -> list[str]:
    matches = list(_MD_HEADING.finditer(markdown))
    if len(matches) != count or not count:
        return []
    parts = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(markdown)
        parts.append(markdown[match.end() : end].strip())
    return parts


def body_images(fragment: LexborNode) -> tuple[Image, ...]:
    seen: dict[str, Image] = {}
    for img in fragment.css("img[src]"):
        src = img.attributes.get("src") or ""
        if src and src not in seen:
            seen[src] = Image(src=src, alt=(img.attributes.get("alt") or "").strip())
    return tuple(seen.values())
