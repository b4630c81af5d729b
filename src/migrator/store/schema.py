"""The tables of the migration database and its versioned migrations, on sqlite-utils.

``MIGRATIONS[i]`` upgrades a database from ``user_version`` *i* to *i + 1*; each step is
a function of a ``sqlite_utils.Database`` that ``migrate.migrate`` runs inside one
``BEGIN IMMEDIATE`` transaction (sqlite-utils 4 joins an open transaction instead of
committing). Tables sqlite-utils can describe exactly are made with ``table.create``,
``add_column`` and ``create_index``. Written DDL remains only where ``table.create``
has no words for the contract's constraints: a ``UNIQUE`` column, a ``CHECK``, a
table-level ``UNIQUE``, an expression index, and an ``ALTER TABLE … REFERENCES`` (whose
sqlite-utils form, ``add_foreign_key``, rebuilds ``pages`` through ``transform``, which
a transaction with ``ON DELETE CASCADE`` children refuses). The full-text index and the
views live in ``search.py`` and ``views.py``. This module never reads or writes rows.

A step's tables keep the shape they had when that version shipped: an old database
upgraded step by step and a fresh one end with the same columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlite_utils import Database
from sqlite_utils.db import ForeignKey

from migrator.store.search import enable_page_search

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration"]

Migration = Callable[[Database], None]


def _create(
    db: Database,
    name: str,
    columns: Mapping[str, str],
    *,
    pk: str | tuple[str, ...] = "id",
    nullable: frozenset[str] = frozenset(),
    not_null: frozenset[str] | None = None,
    defaults: Mapping[str, object] | None = None,
    cascade_to: str | None = None,
) -> None:
    """``table.create`` with SQLite type names.

    Every column but ``nullable`` (and an ``id`` primary key) is NOT NULL, unless
    ``not_null`` lists them. ``cascade_to``: the first column references that table's
    ``id`` with ``ON DELETE CASCADE``.
    """
    keys = {pk} if isinstance(pk, str) else set(pk)
    if not_null is None:
        row_id = {"id"} & keys  # INTEGER PRIMARY KEY: never NULL, no need to say so
        not_null = frozenset(c for c in columns if c not in nullable | row_id)
    foreign = []
    if cascade_to is not None:
        column = next(iter(columns))
        foreign.append(
            ForeignKey(
                table=name,
                column=column,
                other_table=cascade_to,
                other_column="id",
                on_delete="CASCADE",
            )
        )
    db.table(name).create(
        dict(columns),
        pk=pk,
        not_null=not_null,
        defaults=dict(defaults or {}),
        foreign_keys=foreign,
    )


# Counts of a run, one column each (runs.counts keeps them all as JSON too).
RUN_COUNTS = (
    "discovered",
    "fetched",
    "not_modified",
    "new",
    "changed",
    "unchanged",
    "removed",
    "failed",
    "skipped",
)

_CRAWL_STATE = """
    CREATE TABLE crawl_state (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'in_progress', 'fetched', 'failed')),
        via TEXT,
        referrer TEXT,
        depth INTEGER NOT NULL DEFAULT 0,
        lastmod TEXT,
        page_type TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        etag TEXT,
        last_modified TEXT,
        final_url TEXT,
        first_seen_at TEXT NOT NULL,
        last_fetched_at TEXT,
        last_status INTEGER
    )
"""

_RAW_PAGES = """
    CREATE TABLE raw_pages (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        requested_url TEXT NOT NULL,
        status INTEGER NOT NULL,
        headers TEXT NOT NULL DEFAULT '[]',
        content_type TEXT,
        body BLOB NOT NULL,
        body_codec TEXT NOT NULL DEFAULT 'identity' CHECK (body_codec IN ('identity', 'zlib')),
        body_bytes INTEGER NOT NULL,
        redirects TEXT NOT NULL DEFAULT '[]',
        fetched_at TEXT NOT NULL,
        checked_at TEXT,
        elapsed_ms REAL NOT NULL DEFAULT 0,
        etag TEXT,
        last_modified TEXT
    )
"""

_PAGES = """
    CREATE TABLE pages (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        canonical_url TEXT,
        source_url TEXT,
        raw_url TEXT,
        title TEXT,
        published_at TEXT,
        updated_at TEXT,
        author TEXT,
        language TEXT,
        description TEXT,
        page_type TEXT NOT NULL DEFAULT 'other',
        body_html TEXT NOT NULL DEFAULT '',
        body_markdown TEXT NOT NULL DEFAULT '',
        body_text TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',
        categories TEXT NOT NULL DEFAULT '[]',
        images TEXT NOT NULL DEFAULT '[]',
        encoding TEXT,
        sources TEXT NOT NULL DEFAULT '{}',
        content_hash TEXT NOT NULL,
        extractor_version TEXT NOT NULL DEFAULT '',
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        changed_at TEXT NOT NULL,
        removed_at TEXT
    )
"""

_ERRORS = """
    CREATE TABLE errors (
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs (id),
        url TEXT NOT NULL,
        stage TEXT NOT NULL CHECK (stage IN ('fetch', 'extract', 'load')),
        status INTEGER,
        reason TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1,
        first_failed_at TEXT NOT NULL,
        last_tried_at TEXT NOT NULL
    )
"""


def _v1(db: Database) -> None:
    """Version 1: the core tables (what a first crawl needs)."""
    _create(
        db,
        "runs",
        {
            "id": "INTEGER",
            "mode": "TEXT",
            "status": "TEXT",
            "config_hash": "TEXT",
            "start_url": "TEXT",
            "started_at": "TEXT",
            "finished_at": "TEXT",
            **dict.fromkeys(RUN_COUNTS, "INTEGER"),
            "counts": "TEXT",
        },
        nullable=frozenset({"config_hash", "start_url", "finished_at"}),
        defaults={"status": "running", **dict.fromkeys(RUN_COUNTS, 0), "counts": "{}"},
    )
    db.execute(_CRAWL_STATE)
    db.table("crawl_state").create_index(["state", "depth", "id"], "crawl_state_frontier")
    db.execute(_RAW_PAGES)
    db.execute(_PAGES)
    db.table("pages").create_index(["canonical_url"], "pages_canonical_url")
    _create_children(db)
    db.execute(_ERRORS)
    db.table("errors").create_index(["url"], "errors_url")
    # An expression index: create_index takes column names only.
    db.execute("CREATE UNIQUE INDEX errors_run_url_stage ON errors (ifnull(run_id, 0), url, stage)")


def _create_children(db: Database) -> None:
    """The child rows of a page: breadcrumbs, sections, sidebar links (``position``
    from 0; deleted with their page)."""
    _create(
        db,
        "breadcrumbs",
        {
            "page_id": "INTEGER",
            "position": "INTEGER",
            "label": "TEXT",
            "url": "TEXT",
            "is_current": "INTEGER",
        },
        pk=("page_id", "position"),
        nullable=frozenset({"url"}),
        defaults={"is_current": 0},
        cascade_to="pages",
    )
    _create(
        db,
        "sections",
        {
            "page_id": "INTEGER",
            "position": "INTEGER",
            "level": "INTEGER",
            "heading": "TEXT",
            "anchor": "TEXT",
            "parent_position": "INTEGER",
            "text": "TEXT",
            "html": "TEXT",
            "markdown": "TEXT",
        },
        pk=("page_id", "position"),
        nullable=frozenset({"anchor", "parent_position"}),
        defaults={"text": "", "html": "", "markdown": ""},
        cascade_to="pages",
    )
    _create(
        db,
        "sidebar_links",
        {
            "page_id": "INTEGER",
            "position": "INTEGER",
            "group_name": "TEXT",
            "label": "TEXT",
            "url": "TEXT",
            "published_at": "TEXT",
        },
        pk=("page_id", "position"),
        nullable=frozenset({"published_at"}),
        cascade_to="pages",
    )
    db.table("sidebar_links").create_index(["url"], "sidebar_links_url")


def _aliases_table(name: str, kinds: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    return f"""
    CREATE TABLE {name} (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        target_url TEXT NOT NULL,
        page_id INTEGER REFERENCES pages (id) ON DELETE SET NULL,
        kind TEXT NOT NULL
            CHECK (kind IN ({listed})),
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
    )
    """


def _v2(db: Database) -> None:
    """Version 2: history, aliases and search. The child tables' primary keys start
    with page_id, which already indexes it; the explicit indexes cover the rest."""
    db.table("pages").add_column("version", "INTEGER", not_null_default=1)
    db.execute("ALTER TABLE pages ADD COLUMN run_id INTEGER REFERENCES runs (id)")
    db.execute("""
    CREATE TABLE page_versions (
        id INTEGER PRIMARY KEY,
        page_id INTEGER NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        record TEXT NOT NULL,
        valid_from TEXT NOT NULL,
        valid_to TEXT NOT NULL,
        run_id INTEGER REFERENCES runs (id),
        UNIQUE (page_id, version)
    )
    """)
    db.table("page_versions").create_index(["page_id"], "page_versions_page_id")
    db.execute(_aliases_table("aliases", ("redirect", "duplicate", "canonical")))
    db.table("aliases").create_index(["target_url"], "aliases_target_url")
    db.table("aliases").create_index(["page_id"], "aliases_page_id")
    db.table("crawl_state").create_index(["final_url"], "crawl_state_final_url")
    enable_page_search(db)


def _v3(db: Database) -> None:
    """Version 3: assets the export downloaded. One row per original URL (kept
    forever, so the legacy address of every image stays queryable); several URLs with
    the same bytes share one content_hash and one file_name."""
    db.execute("""
    CREATE TABLE assets (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        content_hash TEXT NOT NULL,
        file_name TEXT NOT NULL,
        content_type TEXT,
        bytes INTEGER NOT NULL,
        fetched_at TEXT NOT NULL
    )
    """)
    db.table("assets").create_index(["content_hash"], "assets_content_hash")


def _v4(db: Database) -> None:
    """Version 4: sitemap bookkeeping for ``sync.trust_lastmod``. ``fetched_lastmod`` is
    the sitemap lastmod the stored copy was fetched under; ``listed_at`` is when a
    sitemap last listed the URL (a URL that drops out of the sitemap is re-checked).
    Runs record the migrator version that made them."""
    db.table("crawl_state").add_column("fetched_lastmod", "TEXT")
    db.table("crawl_state").add_column("listed_at", "TEXT")
    db.table("runs").add_column("migrator_version", "TEXT")


def _v5(db: Database) -> None:
    """Version 5: the site model learned from the crawl (issue #10), shortlink and part
    aliases, the extraction a listing was typed by, and the parts of split posts."""
    _create(
        db,
        "site_models",
        {
            "id": "INTEGER",
            "learned_at": "TEXT",
            "fingerprint": "TEXT",
            "pages_sampled": "INTEGER",
            "cms": "TEXT",
            "title_selector": "TEXT",
            "title_agree": "INTEGER",
            "title_pages": "INTEGER",
            "date_selector": "TEXT",
            "date_agree": "INTEGER",
            "date_pages": "INTEGER",
            "date_order": "TEXT",
            "site_names": "TEXT",
            "evidence": "TEXT",
            "model_json": "TEXT",
        },
        not_null=frozenset({"learned_at", "fingerprint", "pages_sampled", "model_json"}),
    )
    # aliases.kind gains 'shortlink' (rel=shortlink, WordPress's /?p=ID) and 'part'.
    # SQLite cannot change a CHECK constraint and transform() keeps the old one, so
    # the table is rebuilt with its rows and index.
    kinds = ("redirect", "duplicate", "canonical", "shortlink", "part")
    db.execute(_aliases_table("aliases_v5", kinds))
    db.execute(
        "INSERT INTO aliases_v5 SELECT id, url, target_url, page_id, kind, first_seen_at,"
        " last_seen_at FROM aliases"
    )
    db.execute("DROP TABLE aliases")
    db.execute("ALTER TABLE aliases_v5 RENAME TO aliases")
    db.table("aliases").create_index(["target_url"], "aliases_target_url")
    db.table("crawl_state").add_column("extracted_with", "TEXT")
    _create(
        db,
        "page_parts",
        {"main_url": "TEXT", "part": "INTEGER", "url": "TEXT", "content": "TEXT"},
        pk=("main_url", "part"),
    )
    _create(
        db,
        "site_templates",
        {"model_id": "INTEGER", "signature": "TEXT", "pages": "INTEGER"},
        pk=("model_id", "signature"),
        cascade_to="site_models",
    )


def _v6(db: Database) -> None:
    """Version 6: the featured image: JSON {"src", "alt"}, NULL where the post shows
    none."""
    db.table("pages").add_column("featured_image", "TEXT")


def _v7(db: Database) -> None:
    """Version 7: where each stored answer came from when not fetched live (#12): an
    archive's provenance (``warc:FILE#OFFSET``, ``dir:PATH``, ``wayback:TIMESTAMP``),
    else NULL."""
    db.table("raw_pages").add_column("source", "TEXT")


def _v8(db: Database) -> None:
    """Version 8 (#12): the 3xx a redirect alias was answered with (NULL: not known, from
    an older crawl), and where a run read the site from (``runs.source``: the archive
    options as JSON, NULL for the live site), so a sync reads the same archive again."""
    db.table("aliases").add_column("status", "INTEGER")
    db.table("runs").add_column("source", "TEXT")


MIGRATIONS: tuple[Migration, ...] = (_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8)
SCHEMA_VERSION = len(MIGRATIONS)
