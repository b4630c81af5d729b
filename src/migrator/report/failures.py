"""The URLs that still fail: one query shared by the report and ``migrator failures``.

A URL fails while its latest error of a stage stands: its crawl state is ``failed`` (or
unknown) and no live page has its URL. Read only; nothing here renders.
"""

from __future__ import annotations

from typing import Any

from migrator.load import Store

__all__ = ["FAILURES_SQL", "FAILURE_COLUMNS", "failures"]

# Still-failing URLs: the latest errors row of each URL and stage whose URL is failed in
# the crawl state and has no live page (an extract failure fixed by a later re-extract is
# not a failure any more). Shared with ``failures``.
FAILURES_SQL = """
    SELECT e.url, e.stage, e.status, e.reason,
        (SELECT sum(x.attempts) FROM errors AS x WHERE x.url = e.url AND x.stage = e.stage)
            AS attempts,
        (SELECT min(x.first_failed_at) FROM errors AS x WHERE x.url = e.url
            AND x.stage = e.stage) AS first_failed_at,
        e.last_tried_at, e.run_id
    FROM errors AS e
    WHERE e.id = (SELECT x.id FROM errors AS x WHERE x.url = e.url AND x.stage = e.stage
                  ORDER BY x.last_tried_at DESC, x.id DESC LIMIT 1)
      AND NOT EXISTS (SELECT 1 FROM crawl_state AS c WHERE c.url = e.url
                      AND c.state <> 'failed')
      AND NOT EXISTS (SELECT 1 FROM pages AS p WHERE p.url = e.url AND p.removed_at IS NULL)
"""


FAILURE_COLUMNS = (
    "url",
    "stage",
    "status",
    "reason",
    "attempts",
    "first_failed_at",
    "last_tried_at",
    "run_id",
)


def failures(store: Store) -> list[dict[str, Any]]:
    """The URLs that still fail: one row per URL and stage, latest reason first seen.

    Attempts are summed over every run that tried; ``last_tried_at`` is the latest try.
    Ordered by stage, then reason, then URL.
    """
    rows = store.query(f"SELECT * FROM ({FAILURES_SQL}) ORDER BY stage, reason, url")
    return [dict(zip(FAILURE_COLUMNS, row, strict=True)) for row in rows]
