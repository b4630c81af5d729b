"""Posts split over several URLs (WordPress ``<!--nextpage-->``): one record per post.

Extraction marks page 2, 3 … of a split post (``Page.part_of``, ``Page.part``) and the
first page when it links to its parts (``Page.has_parts``). The loader keeps each part's
body in ``page_parts`` and stores the first page with every known part appended: body
HTML, Markdown and text, sections and images, in page order. A part is never a row of
its own in ``pages``: its URL becomes an alias (kind ``duplicate``) of the post. Parts
arriving after the first page are merged into it by re-reading the first page's stored
answer, so the order of fetching does not matter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

from migrator.load import Store
from migrator.models import Image, Page, RawPage, Section, record_hash

__all__ = ["load_part", "merged"]


def _section_json(section: Section) -> dict[str, object]:
    return {
        "level": section.level,
        "heading": section.heading,
        "text": section.text,
        "anchor": section.anchor,
        "html": section.html,
        "markdown": section.markdown,
        "parent": section.parent,
    }


def part_json(page: Page) -> str:
    """What a part contributes to its post, as JSON."""
    return json.dumps(
        {
            "body_html": page.body_html,
            "body_markdown": page.body_markdown,
            "body_text": page.body_text,
            "sections": [_section_json(s) for s in page.sections],
            "images": [[i.src, i.alt] for i in page.images],
        },
        ensure_ascii=False,
    )


def merged(first: Page, parts: list[str]) -> Page:
    """``first`` with the bodies of its later parts (``part_json`` texts) appended."""
    if not parts:
        return first
    html, markdown, text = [first.body_html], [first.body_markdown], [first.body_text]
    sections = list(first.sections)
    images = {i.src: i for i in first.images}
    for blob in parts:
        data = json.loads(blob)
        html.append(data["body_html"])
        markdown.append(data["body_markdown"])
        text.append(data["body_text"])
        offset = len(sections)
        for s in data["sections"]:
            parent = s["parent"]
            sections.append(
                Section(
                    level=int(s["level"]),
                    heading=str(s["heading"]),
                    text=str(s["text"]),
                    anchor=s["anchor"],
                    html=str(s["html"]),
                    markdown=str(s["markdown"]),
                    parent=None if parent is None else int(parent) + offset,
                )
            )
        for src, alt in data["images"]:
            images.setdefault(src, Image(src=src, alt=alt))
    page = replace(
        first,
        body_html="\n".join(h for h in html if h),
        body_markdown="\n\n".join(m for m in markdown if m),
        body_text="\n\n".join(t for t in text if t),
        sections=tuple(sections),
        images=tuple(images.values()),
    )
    return replace(page, content_hash=record_hash(page.to_record()))


def load_part(
    store: Store,
    page: Page,
    *,
    raw_url: str,
    extract: Callable[[RawPage], Page] | None,
) -> str:
    """Load one extracted page that belongs to a split post; returns the count name.

    ``page`` is a later part (``part_of`` set): its body is kept and, when the post's
    first page is stored, the post is rewritten with it (``extract`` re-reads the first
    page's stored answer). Or it is a first page with parts (``has_parts``): it is
    stored with every part known so far.
    """
    if page.part_of is not None and page.part is not None:
        store.save_part(page.part_of, page.part, page.url, part_json(page))
        first_raw = store.raw_page(page.part_of) if extract is not None else None
        if first_raw is not None and extract is not None and store.page_record(page.part_of):
            first = extract(first_raw)
            if first.has_parts and first.part_of is None:
                store.save_page(merged(first, store.parts(first.url)), raw_url=first_raw.url)
        return "parts"
    return store.save_page(merged(page, store.parts(page.url)), raw_url=raw_url)
