"""The views of the migration database: live posts with their category, the sidebar
link graph, and the pages missing fields a reader expects.

Views hold no data, so every upgrade (re)creates all of them with sqlite-utils'
``create_view(replace=True)``: they always match the newest tables. This module never
reads or writes rows.
"""

from __future__ import annotations

from sqlite_utils import Database

__all__ = ["VIEWS", "create_views"]

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


def create_views(db: Database) -> None:
    """Create every view, replacing one whose SQL differs (inside the caller's
    transaction)."""
    for name, select in VIEWS:
        db.create_view(name, select, replace=True)
