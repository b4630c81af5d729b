"""The SQLite schema of the migration database and its versioned migrations.

This module owns the DDL only: the list of migrations (``MIGRATIONS[i]`` upgrades a
database from ``user_version`` *i* to *i + 1*), the full-text index and the views. It
never reads or writes rows; ``load.Store`` applies the migrations inside one
``BEGIN IMMEDIATE`` transaction and records the version in ``PRAGMA user_version``.
Statements are kept as separate strings (not a script) because ``executescript``
commits first, which would break the all-or-nothing upgrade.

The table layout is the one ``sqlite-utils`` expects (``pages_fts`` is an external
content FTS5 table over ``pages`` with ``rowid = pages.id``), so
``sqlite_utils.Database(path)["pages"].search("word")`` works on a migration database.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "VIEWS"]

# Version 1: the core tables (what a first crawl needs).
_V1: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        mode TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'running',
        config_hash TEXT,
        start_url TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        discovered INTEGER NOT NULL DEFAULT 0,
        fetched INTEGER NOT NULL DEFAULT 0,
        not_modified INTEGER NOT NULL DEFAULT 0,
        new INTEGER NOT NULL DEFAULT 0,
        changed INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        removed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        counts TEXT NOT NULL DEFAULT '{}'
    )
    """,
    """
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
    """,
    "CREATE INDEX crawl_state_frontier ON crawl_state (state, depth, id)",
    """
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
    """,
    """
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
    """,
    "CREATE INDEX pages_canonical_url ON pages (canonical_url)",
    """
    CREATE TABLE breadcrumbs (
        page_id INTEGER NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        label TEXT NOT NULL,
        url TEXT,
        is_current INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (page_id, position)
    )
    """,
    """
    CREATE TABLE sections (
        page_id INTEGER NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        level INTEGER NOT NULL,
        heading TEXT NOT NULL,
        anchor TEXT,
        parent_position INTEGER,
        text TEXT NOT NULL DEFAULT '',
        html TEXT NOT NULL DEFAULT '',
        markdown TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (page_id, position)
    )
    """,
    """
    CREATE TABLE sidebar_links (
        page_id INTEGER NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        group_name TEXT NOT NULL,
        label TEXT NOT NULL,
        url TEXT NOT NULL,
        published_at TEXT,
        PRIMARY KEY (page_id, position)
    )
    """,
    "CREATE INDEX sidebar_links_url ON sidebar_links (url)",
    """
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
    """,
    "CREATE INDEX errors_url ON errors (url)",
    "CREATE UNIQUE INDEX errors_run_url_stage ON errors (ifnull(run_id, 0), url, stage)",
)

# Version 2: history, aliases and search. The child tables' primary keys start with
# page_id, which already indexes it; the explicit indexes below cover the rest.
_V2: tuple[str, ...] = (
    "ALTER TABLE pages ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE pages ADD COLUMN run_id INTEGER REFERENCES runs (id)",
    """
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
    """,
    "CREATE INDEX page_versions_page_id ON page_versions (page_id)",
    """
    CREATE TABLE aliases (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        target_url TEXT NOT NULL,
        page_id INTEGER REFERENCES pages (id) ON DELETE SET NULL,
        kind TEXT NOT NULL CHECK (kind IN ('redirect', 'duplicate', 'canonical')),
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX aliases_target_url ON aliases (target_url)",
    "CREATE INDEX aliases_page_id ON aliases (page_id)",
    "CREATE INDEX crawl_state_final_url ON crawl_state (final_url)",
    # sqlite-utils' enable_fts(create_triggers=True) layout, written out because it
    # runs executescript (which commits mid-migration). The update trigger fires only
    # when an indexed column is in the SET list, so bumping last_seen_at on an
    # unchanged page does not rewrite the index.
    """
    CREATE VIRTUAL TABLE pages_fts USING fts5 (
        title, body_text, content=[pages], content_rowid=[id]
    )
    """,
    """
    CREATE TRIGGER pages_ai AFTER INSERT ON pages BEGIN
        INSERT INTO pages_fts (rowid, title, body_text)
        VALUES (new.id, new.title, new.body_text);
    END
    """,
    """
    CREATE TRIGGER pages_ad AFTER DELETE ON pages BEGIN
        INSERT INTO pages_fts (pages_fts, rowid, title, body_text)
        VALUES ('delete', old.id, old.title, old.body_text);
    END
    """,
    """
    CREATE TRIGGER pages_au AFTER UPDATE OF title, body_text ON pages BEGIN
        INSERT INTO pages_fts (pages_fts, rowid, title, body_text)
        VALUES ('delete', old.id, old.title, old.body_text);
        INSERT INTO pages_fts (rowid, title, body_text)
        VALUES (new.id, new.title, new.body_text);
    END
    """,
    # Pages loaded by a version-1 database get indexed now.
    "INSERT INTO pages_fts (pages_fts) VALUES ('rebuild')",
)

# Version 3: assets the export downloaded. One row per original URL (kept forever, so
# the legacy address of every image stays queryable); several URLs with the same bytes
# share one content_hash and one file_name.
_V3: tuple[str, ...] = (
    """
    CREATE TABLE assets (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        content_hash TEXT NOT NULL,
        file_name TEXT NOT NULL,
        content_type TEXT,
        bytes INTEGER NOT NULL,
        fetched_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX assets_content_hash ON assets (content_hash)",
)

# Version 4: sitemap bookkeeping for `sync.trust_lastmod`. `fetched_lastmod` is the
# sitemap lastmod the stored copy was fetched under; `listed_at` is when a sitemap
# last listed the URL (a URL that drops out of the sitemap is re-checked). Runs record
# the migrator version that made them.
_V4: tuple[str, ...] = (
    "ALTER TABLE crawl_state ADD COLUMN fetched_lastmod TEXT",
    "ALTER TABLE crawl_state ADD COLUMN listed_at TEXT",
    "ALTER TABLE runs ADD COLUMN migrator_version TEXT",
)

# Version 5: the site model learned from the crawl (issue #10), one row per learning.
_V5: tuple[str, ...] = (
    """
    CREATE TABLE site_models (
        id INTEGER PRIMARY KEY,
        learned_at TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        pages_sampled INTEGER NOT NULL,
        cms TEXT,
        title_selector TEXT,
        title_agree INTEGER,
        title_pages INTEGER,
        date_selector TEXT,
        date_agree INTEGER,
        date_pages INTEGER,
        date_order TEXT,
        site_names TEXT,
        evidence TEXT,
        model_json TEXT NOT NULL
    )
    """,
    # aliases.kind gains 'shortlink' (rel=shortlink, WordPress's /?p=ID): SQLite cannot
    # change a CHECK constraint, so the table is rebuilt with its rows and index.
    """
    CREATE TABLE aliases_v5 (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        target_url TEXT NOT NULL,
        page_id INTEGER REFERENCES pages (id) ON DELETE SET NULL,
        kind TEXT NOT NULL
            CHECK (kind IN ('redirect', 'duplicate', 'canonical', 'shortlink', 'part')),
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
    )
    """,
    "INSERT INTO aliases_v5 SELECT id, url, target_url, page_id, kind, first_seen_at,"
    " last_seen_at FROM aliases",
    "DROP TABLE aliases",
    "ALTER TABLE aliases_v5 RENAME TO aliases",
    "CREATE INDEX aliases_target_url ON aliases (target_url)",
    # The extraction a listing was typed by (pages.extractor_version for the rest).
    "ALTER TABLE crawl_state ADD COLUMN extracted_with TEXT",
    """
    CREATE TABLE page_parts (
        main_url TEXT NOT NULL,
        part INTEGER NOT NULL,
        url TEXT NOT NULL,
        content TEXT NOT NULL,
        PRIMARY KEY (main_url, part)
    )
    """,
    """
    CREATE TABLE site_templates (
        model_id INTEGER NOT NULL REFERENCES site_models (id) ON DELETE CASCADE,
        signature TEXT NOT NULL,
        pages INTEGER NOT NULL,
        PRIMARY KEY (model_id, signature)
    )
    """,
)

# The featured image: JSON {"src", "alt"}, NULL where the post shows none.
_V6: tuple[str, ...] = ("ALTER TABLE pages ADD COLUMN featured_image TEXT",)

# Version 7: where each stored answer came from when not fetched live (#12): an
# archive's provenance (`warc:FILE#OFFSET`, `dir:PATH`, `wayback:TIMESTAMP`), else NULL.
_V7: tuple[str, ...] = ("ALTER TABLE raw_pages ADD COLUMN source TEXT",)

# Version 8 (#12): the 3xx a redirect alias was answered with (NULL: not known, from an
# older crawl), and where a run read the site from (`runs.source`: the archive options as
# JSON, NULL for the live site), so a sync reads the same archive again.
_V8: tuple[str, ...] = (
    "ALTER TABLE aliases ADD COLUMN status INTEGER",
    "ALTER TABLE runs ADD COLUMN source TEXT",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8)
SCHEMA_VERSION = len(MIGRATIONS)

# A crumb is the site root when its URL has no path beyond "/": such a crumb
# ("Home") is never a post's category.
_IS_ROOT_CRUMB = "instr(rtrim(substr(c.url, instr(c.url, '://') + 3), '/'), '/') = 0"

# Views hold no data, so every upgrade drops and recreates all of them: they always
# match the newest tables. (name, select statement)
VIEWS: tuple[tuple[str, str], ...] = (
    (
        # Live posts with their category: the breadcrumb just before the title's crumb
        # (the current one, or the one labelled with the title); when the trail stops
        # before the title, its last crumb. The site root crumb never counts.
        "posts",
        f"""
        SELECT
            p.id, p.url, p.canonical_url, p.title, p.published_at, p.updated_at,
            p.author, p.language, p.description,
            (
                SELECT c.label FROM breadcrumbs AS c
                WHERE c.page_id = p.id
                  AND c.position = ifnull(
                      (SELECT min(t.position) FROM breadcrumbs AS t
                       WHERE t.page_id = p.id AND (t.is_current OR t.label = p.title)),
                      (SELECT max(t.position) + 1 FROM breadcrumbs AS t WHERE t.page_id = p.id)
                  ) - 1
                  AND NOT (c.url IS NOT NULL AND c.position = 0 AND {_IS_ROOT_CRUMB})
            ) AS category,
            (
                SELECT group_concat(label, ' > ') FROM (
                    SELECT b.label FROM breadcrumbs AS b
                    WHERE b.page_id = p.id ORDER BY b.position
                )
            ) AS breadcrumb_path,
            p.tags, p.categories, p.body_markdown, p.body_text, p.content_hash,
            p.first_seen_at, p.last_seen_at, p.changed_at
        FROM pages AS p
        WHERE p.page_type = 'post' AND p.removed_at IS NULL
        """,
    ),
    (
        # Every sidebar link with the page it points to, followed through redirects,
        # canonical URLs and aliases. dangling = 1 when no live page answers it.
        "sidebar_graph",
        """
        SELECT
            r.page_id AS source_id, src.url AS source_url, r.position, r.group_name,
            r.label, r.url AS target_url, r.published_at,
            tgt.id AS target_id, tgt.title AS target_title,
            (tgt.id IS NULL OR tgt.removed_at IS NOT NULL) AS dangling
        FROM (
            SELECT s.*, coalesce(
                (SELECT id FROM pages WHERE url = s.url),
                (SELECT a.page_id FROM aliases AS a WHERE a.url = s.url),
                (SELECT pp.id FROM aliases AS a JOIN pages AS pp ON pp.url = a.target_url
                 WHERE a.url = s.url),
                (SELECT min(id) FROM pages WHERE canonical_url = s.url)
            ) AS resolved_id
            FROM sidebar_links AS s
        ) AS r
        JOIN pages AS src ON src.id = r.page_id
        LEFT JOIN pages AS tgt ON tgt.id = r.resolved_id
        """,
    ),
    (
        # Live content pages missing any of the fields a reader expects.
        "pages_missing_fields",
        """
        SELECT id, url, page_type, missing_title, missing_published, missing_breadcrumbs,
            missing_sections,
            rtrim(
                iif(missing_title, 'title,', '') || iif(missing_published, 'published,', '')
                || iif(missing_breadcrumbs, 'breadcrumbs,', '')
                || iif(missing_sections, 'sections,', ''),
                ','
            ) AS missing
        FROM (
            SELECT p.id, p.url, p.page_type,
                (p.title IS NULL OR trim(p.title) = '') AS missing_title,
                (p.published_at IS NULL) AS missing_published,
                NOT EXISTS (SELECT 1 FROM breadcrumbs AS b WHERE b.page_id = p.id)
                    AS missing_breadcrumbs,
                NOT EXISTS (SELECT 1 FROM sections AS s WHERE s.page_id = p.id)
                    AS missing_sections
            FROM pages AS p
            WHERE p.removed_at IS NULL
        )
        WHERE missing_title OR missing_published OR missing_breadcrumbs OR missing_sections
        """,
    ),
)
