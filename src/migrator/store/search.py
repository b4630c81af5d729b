"""Full-text search over pages: the ``pages_fts`` index and the triggers that keep it.

Built with sqlite-utils' ``enable_fts`` (an external-content FTS5 table over ``pages``,
``rowid = pages.id``), so ``sqlite_utils.Database(path)["pages"].search("word")`` and
Datasette work on a migration database. One trigger is replaced by a hand-written one,
measured in BENCHMARKS.md ("The store on sqlite-utils"): sqlite-utils' ``pages_au``
fires on every ``UPDATE`` of a page, so a sync that only bumps ``last_seen_at`` on an
unchanged page would delete and re-insert its words; ours fires only when ``title`` or
``body_text`` is in the SET list. This module never writes rows itself.
"""

from __future__ import annotations

from sqlite_utils import Database

__all__ = ["SEARCHED_COLUMNS", "enable_page_search"]

SEARCHED_COLUMNS = ("title", "body_text")

_UPDATE_TRIGGER = """
    CREATE TRIGGER pages_au AFTER UPDATE OF title, body_text ON pages BEGIN
        INSERT INTO pages_fts (pages_fts, rowid, title, body_text)
        VALUES ('delete', old.id, old.title, old.body_text);
        INSERT INTO pages_fts (rowid, title, body_text)
        VALUES (new.id, new.title, new.body_text);
    END
"""


def enable_page_search(db: Database) -> None:
    """Create ``pages_fts`` with its triggers and index the pages already stored.

    Runs inside the caller's transaction (sqlite-utils 4 does not commit an open one).
    """
    pages = db.table("pages")
    pages.enable_fts(list(SEARCHED_COLUMNS), create_triggers=True)
    db.execute("DROP TRIGGER pages_au")
    db.execute(_UPDATE_TRIGGER)
