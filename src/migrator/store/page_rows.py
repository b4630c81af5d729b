"""The ``pages`` row of a ``Page`` and the record rebuilt from a page's rows.

Hand-written SQL on the hottest path of a crawl (see BENCHMARKS.md, "The store on
sqlite-utils"). It must not decide whether a page changed (``records.py`` does).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from migrator.models import Page, iso
from migrator.store.values import dumps

__all__ = [
    "PAGE_COLUMNS",
    "PAGE_COLUMNS_SQL",
    "PAGE_MARKS",
    "PAGE_SETS",
    "insert_children",
    "page_values",
    "read_record",
]

PAGE_COLUMNS = (
    "url",
    "canonical_url",
    "source_url",
    "raw_url",
    "title",
    "published_at",
    "updated_at",
    "author",
    "language",
    "description",
    "page_type",
    "body_html",
    "body_markdown",
    "body_text",
    "tags",
    "categories",
    "images",
    "featured_image",
    "encoding",
    "sources",
    "content_hash",
    "extractor_version",
)


PAGE_COLUMNS_SQL = ", ".join(PAGE_COLUMNS)


PAGE_MARKS = ", ".join("?" for _ in PAGE_COLUMNS)


PAGE_SETS = ", ".join(f"{c} = ?" for c in PAGE_COLUMNS)


def page_values(page: Page, content_hash: str, raw_url: str | None) -> tuple[Any, ...]:
    return (
        page.url,
        page.canonical_url,
        page.source_url,
        raw_url,
        page.title,
        iso(page.published),
        iso(page.updated),
        page.author,
        page.language,
        page.description,
        page.page_type,
        page.body_html,
        page.body_markdown,
        page.body_text,
        dumps(list(page.tags)),
        dumps(list(page.categories)),
        dumps([{"src": i.src, "alt": i.alt} for i in page.images]),
        (
            dumps({"src": page.featured_image.src, "alt": page.featured_image.alt})
            if page.featured_image is not None
            else None
        ),
        page.encoding,
        dumps(dict(page.sources)),
        content_hash,
        page.extractor_version,
    )


def read_record(conn: sqlite3.Connection, page_id: int) -> dict[str, Any]:
    """Rebuild the record of ``Page.to_record()`` from a page's row and child rows.

    The record is not stored whole: it would double the size of the database, and
    the columns hold every field. ``test_load`` checks the round trip stays exact.
    """
    p = conn.execute(
        "SELECT url, canonical_url, source_url, page_type, title, published_at, updated_at,"
        " author, language, description, tags, categories, images, body_markdown, body_html,"
        " body_text, encoding, content_hash, extractor_version, featured_image FROM pages"
        " WHERE id = ?",
        (page_id,),
    ).fetchone()
    return {
        "url": p[0],
        "canonical_url": p[1],
        "source_url": p[2],
        "page_type": p[3],
        "title": p[4],
        "published": p[5],
        "updated": p[6],
        "author": p[7],
        "language": p[8],
        "description": p[9],
        "breadcrumbs": _read_breadcrumbs(conn, page_id),
        "sections": _read_sections(conn, page_id),
        "sidebar_links": _read_sidebar_links(conn, page_id),
        "tags": json.loads(p[10]),
        "categories": json.loads(p[11]),
        "images": json.loads(p[12]),
        "featured_image": json.loads(p[19]) if p[19] else None,
        "body_markdown": p[13],
        "body_html": p[14],
        "body_text": p[15],
        "encoding": p[16],
        "content_hash": p[17],
        "extractor_version": p[18],
    }


def _read_breadcrumbs(conn: sqlite3.Connection, page_id: int) -> list[dict[str, Any]]:
    crumbs = conn.execute(
        "SELECT label, url, is_current FROM breadcrumbs WHERE page_id = ? ORDER BY position",
        (page_id,),
    )
    return [{"label": c[0], "url": c[1], "current": bool(c[2])} for c in crumbs]


def _read_sections(conn: sqlite3.Connection, page_id: int) -> list[dict[str, Any]]:
    sections = conn.execute(
        "SELECT level, heading, anchor, parent_position, text, html, markdown FROM sections"
        " WHERE page_id = ? ORDER BY position",
        (page_id,),
    )
    names = ("level", "heading", "anchor", "parent", "text", "html", "markdown")
    return [dict(zip(names, s, strict=True)) for s in sections]


def _read_sidebar_links(conn: sqlite3.Connection, page_id: int) -> list[dict[str, Any]]:
    links = conn.execute(
        "SELECT group_name, label, url, published_at FROM sidebar_links WHERE page_id = ?"
        " ORDER BY position",
        (page_id,),
    )
    return [{"group": s[0], "label": s[1], "url": s[2], "date": s[3]} for s in links]


def insert_children(conn: sqlite3.Connection, page_id: int, page: Page) -> None:
    if page.breadcrumbs:
        conn.executemany(
            "INSERT INTO breadcrumbs (page_id, position, label, url, is_current)"
            " VALUES (?, ?, ?, ?, ?)",
            [(page_id, i, c.label, c.url, int(c.current)) for i, c in enumerate(page.breadcrumbs)],
        )
    if page.sections:
        conn.executemany(
            "INSERT INTO sections (page_id, position, level, heading, anchor, parent_position,"
            " text, html, markdown) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (page_id, i, s.level, s.heading, s.anchor, s.parent, s.text, s.html, s.markdown)
                for i, s in enumerate(page.sections)
            ],
        )
    if page.sidebar_links:
        conn.executemany(
            "INSERT INTO sidebar_links (page_id, position, group_name, label, url, published_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (page_id, i, s.group, s.label, s.url, iso(s.date))
                for i, s in enumerate(page.sidebar_links)
            ],
        )
