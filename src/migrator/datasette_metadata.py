"""Datasette metadata for a migration database: titles, table and column descriptions,
full-text search on ``pages`` and the ``posts`` view, and canned queries (posts without
a date, failures, oddest pages).

It describes only the tables and columns the database really has (read from its
schema), so an older database gets no description of a column it lacks. It never writes
to the database and never imports Datasette: the output is plain JSON that
``datasette DB --metadata FILE`` reads.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from migrator.errors import ConfigError

__all__ = ["datasette_metadata", "metadata_path"]

_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "pages": (
        "One row per page migrated: the record of each post, page and attachment.",
        {
            "id": "Row id; child tables refer to it as page_id.",
            "url": "The page's URL (final URL after redirects, canonical form).",
            "canonical_url": "<link rel=canonical>, else the URL itself.",
            "source_url": "The URL that was requested (before redirects).",
            "raw_url": "The raw_pages row this record was extracted from.",
            "title": "The headline a reader sees.",
            "published_at": "Publication date (ISO 8601; a date or an aware date-time).",
            "updated_at": "Last-update date shown on the page (ISO 8601).",
            "author": "The author's name.",
            "language": "Language tag (html lang, og:locale…).",
            "description": "The page's meta description.",
            "page_type": "post, page, listing, attachment or other.",
            "body_html": "The body, sanitized HTML.",
            "body_markdown": "The body as Markdown.",
            "body_text": "The body as plain text (what full-text search indexes).",
            "tags": "Tags, a JSON array.",
            "categories": "Categories, a JSON array.",
            "images": "Images in the body, a JSON array of {src, alt}.",
            "encoding": "The character encoding the page was decoded with.",
            "sources": "Which layer gave each field (config, site, jsonld, meta, heuristic…).",
            "content_hash": "Hash of the record: changes when the content changes.",
            "extractor_version": "Extractor version, template and site model fingerprint.",
            "first_seen_at": "When the page was first stored (UTC).",
            "last_seen_at": "When the page was last seen on the site (UTC).",
            "changed_at": "When the record last changed (UTC).",
            "removed_at": "When the page vanished from the site (404/410), else empty.",
            "version": "How many versions of the record exist (see page_versions).",
            "run_id": "The run that last wrote the record.",
        },
    ),
    "posts": (
        "The live posts, with their category (the breadcrumb before the title).",
        {
            "category": "The breadcrumb just before the post's own (its section).",
            "breadcrumb_path": "The whole trail, 'Home > Category > Title'.",
        },
    ),
    "breadcrumbs": (
        "The breadcrumb trail of each page, in display order.",
        {
            "page_id": "The page (pages.id).",
            "position": "Position in the trail, from 0.",
            "label": "The crumb's text.",
            "url": "Where it links; empty when unlinked.",
            "is_current": "1 for the crumb naming the page itself.",
        },
    ),
    "sections": (
        "The body's headings (h2-h4) with the content under each.",
        {
            "page_id": "The page (pages.id).",
            "position": "Position in the body, from 0.",
            "level": "Heading level (2 = h2).",
            "heading": "The heading's text.",
            "anchor": "The heading's id, for links to it.",
            "parent_position": "The enclosing section's position, if nested.",
            "text": "Plain text of the section.",
            "html": "Sanitized HTML of the section.",
            "markdown": "Markdown of the section.",
        },
    ),
    "sidebar_links": (
        "Links in sidebar widgets ('You may also like', recent posts…).",
        {
            "page_id": "The page the widget is on (pages.id).",
            "position": "Position on the page, from 0.",
            "group_name": "The widget's heading.",
            "label": "The link's text.",
            "url": "Where it links (absolute).",
            "published_at": "The date shown next to the link, if any.",
        },
    ),
    "sidebar_graph": (
        "The sidebar link graph: which page recommends which; dangling = 1 when the "
        "target was not migrated.",
        {"dangling": "1 when the link leads to no migrated (or a removed) page."},
    ),
    "pages_missing_fields": (
        "Pages missing a title, a date, breadcrumbs or sections.",
        {"missing": "The fields missing, comma-separated."},
    ),
    "raw_pages": (
        "Every fetched answer as the server sent it. body is zlib-compressed where "
        "body_codec = 'zlib': read one with 'migrator raw --db DB URL'.",
        {
            "status": "HTTP status.",
            "headers": "Response headers, a JSON array of [name, value].",
            "body": "The body bytes (compressed when body_codec is zlib).",
            "body_codec": "identity or zlib.",
            "body_bytes": "Size of the body before compression.",
            "redirects": "The redirect chain, a JSON array.",
            "fetched_at": "When it was fetched (UTC).",
            "checked_at": "When a sync last revalidated it (UTC).",
            "elapsed_ms": "Time to fetch, in milliseconds.",
        },
    ),
    "crawl_state": (
        "Every URL the crawler knows: state, how it was found, depth.",
        {
            "state": "queued, in_progress, done, failed…",
            "via": "How the URL was found (sitemap, feed, link, start…).",
            "depth": "Links from the start URL.",
            "lastmod": "The sitemap's lastmod.",
        },
    ),
    "aliases": ("Other URLs that lead to a page (redirects, duplicates, shortlinks).", {}),
    "page_versions": ("Earlier versions of changed records, with when each was valid.", {}),
    "runs": ("Each run, sync and extract: mode, status, times and counts.", {}),
    "errors": (
        "URLs that failed: stage, HTTP status, reason, attempts.",
        {
            "stage": "fetch, extract or load.",
            "reason": "Why: http_404, timeout, robots_disallowed, not_html…",
            "attempts": "Tries so far.",
        },
    ),
    "assets": ("Images downloaded by 'export --download-assets'.", {}),
    "site_models": ("The site models learned from the crawl (see 'migrator learn').", {}),
    "site_templates": ("The templates of each site model and how many pages use them.", {}),
}

_SEARCHABLE = ("pages", "posts")  # both use pages_fts (content=pages, rowid = pages.id)

_QUERIES: dict[str, dict[str, str]] = {
    "search": {
        "title": "Full-text search",
        "description": "Pages whose title or body match the words (FTS5 syntax).",
        "sql": (
            "SELECT p.id, p.url, p.title, p.published_at,\n"
            "  snippet(pages_fts, 1, '[', ']', '…', 12) AS excerpt\n"
            "FROM pages_fts JOIN pages AS p ON p.id = pages_fts.rowid\n"
            "WHERE pages_fts MATCH :words\n"
            "ORDER BY rank LIMIT 100"
        ),
    },
    "posts_without_dates": {
        "title": "Posts without a publication date",
        "description": "Check these before the cut-over: a selector or date order may be off.",
        "sql": (
            "SELECT id, url, title FROM pages\n"
            "WHERE page_type = 'post' AND published_at IS NULL AND removed_at IS NULL\n"
            "ORDER BY url"
        ),
    },
    "failures": {
        "title": "Failed URLs",
        "description": "What failed, at which stage and why (as 'migrator failures' lists).",
        "sql": (
            "SELECT url, stage, status, reason, attempts, first_failed_at, last_tried_at\n"
            "FROM errors ORDER BY last_tried_at DESC"
        ),
    },
    "posts_per_month": {
        "title": "Posts per month",
        "description": "Gaps and spikes show missing archives or wrong dates.",
        "sql": (
            "SELECT substr(published_at, 1, 7) AS month, count(*) AS posts FROM pages\n"
            "WHERE page_type = 'post' AND removed_at IS NULL AND published_at IS NOT NULL\n"
            "GROUP BY month ORDER BY month"
        ),
    },
    "dangling_sidebar_links": {
        "title": "Sidebar links to pages not migrated",
        "description": "Links in widgets whose target is missing or removed.",
        "sql": (
            "SELECT source_url, group_name, label, target_url FROM sidebar_graph\n"
            "WHERE dangling ORDER BY source_url, position"
        ),
    },
    "shortest_posts": {
        "title": "The shortest posts",
        "description": "A body this short is often a body that was not found.",
        "sql": (
            "SELECT id, url, title, length(body_text) AS characters FROM pages\n"
            "WHERE page_type = 'post' AND removed_at IS NULL\n"
            "ORDER BY characters LIMIT 50"
        ),
    },
}

# The queries read these tables; a database without one of them does not get them.
_QUERY_NEEDS: dict[str, tuple[str, ...]] = {
    "search": ("pages_fts", "pages"),
    "failures": ("errors",),
    "dangling_sidebar_links": ("sidebar_graph",),
}

_HIDDEN_PREFIX = "pages_fts_"  # FTS5's shadow tables: noise in the table list


def metadata_path(db_path: str | Path) -> Path:
    """Where the metadata of ``db_path`` goes by default: ``<db stem>.metadata.json``
    next to it (``data/demo.db`` → ``data/demo.metadata.json``)."""
    path = Path(db_path)
    return path.with_name(path.stem + ".metadata.json")


def datasette_metadata(db_path: str | Path) -> dict[str, Any]:
    """Datasette metadata describing the migration database ``db_path``.

    Args:
        db_path: an existing migration database; Datasette names it by its file stem.

    Returns:
        A JSON-ready dict for ``datasette DB --metadata FILE``.

    Raises:
        ConfigError: the file is missing or is not a SQLite database.
    """
    path = Path(db_path)
    columns, start = _read_schema(path)
    names = list(columns)
    if "pages" not in names:
        raise ConfigError(f"{path} is not a migration database (no pages table)")
    tables: dict[str, Any] = {}
    for name in names:
        if name.startswith(_HIDDEN_PREFIX):
            tables[name] = {"hidden": True}
        elif name in _TABLES:
            tables[name] = _table_entry(name, columns[name], fts="pages_fts" in names)
    queries = {
        key: query
        for key, query in _QUERIES.items()
        if all(table in names for table in _QUERY_NEEDS.get(key, ("pages",)))
    }
    site = f" of {start}" if start else ""
    return {
        "title": f"Migration{site}",
        "description": (
            "A legacy blog migrated by migrator: posts and pages with their breadcrumbs, "
            "sections and sidebar links; search the pages or posts table, or start from "
            "the canned queries below."
        ),
        "databases": {
            path.stem: {
                "description": f"migrator database{site}",
                "tables": tables,
                "queries": queries,
            }
        },
    }


def _read_schema(path: Path) -> tuple[dict[str, list[str]], str | None]:
    """The database's tables and views (by name) with their columns, and its start URL.

    Raises:
        ConfigError: the file is missing or is not a SQLite database.
    """
    if not path.is_file():
        raise ConfigError(f"no migration database at {path}")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            names = [
                str(r[0])
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
                )
            ]
            columns = {
                name: [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{name}")')]
                for name in names
            }
            start = _start_url(conn, names)
    except sqlite3.Error as exc:
        raise ConfigError(f"{path} is not a readable SQLite database: {exc}") from exc
    return columns, start


def _table_entry(name: str, columns: list[str], *, fts: bool) -> dict[str, Any]:
    """A described table's metadata: its description, the columns it has, search, sort."""
    description, column_text = _TABLES[name]
    entry: dict[str, Any] = {"description": description}
    known = {
        col: text
        for col, text in {**_TABLES["pages"][1], **column_text}.items()
        if col in columns and (name in {"pages", "posts"} or col in column_text)
    }
    if known:
        entry["columns"] = known
    if name in _SEARCHABLE and fts:
        entry["fts_table"] = "pages_fts"
        entry["fts_pk"] = "id"
    if name in {"pages", "posts"}:
        entry["sort_desc"] = "published_at"
    return entry


def _start_url(conn: sqlite3.Connection, names: list[str]) -> str | None:
    if "runs" not in names:
        return None
    row = conn.execute(
        "SELECT start_url FROM runs WHERE start_url IS NOT NULL ORDER BY id LIMIT 1"
    ).fetchone()
    return str(row[0]) if row is not None else None
