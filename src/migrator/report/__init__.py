"""The migration report: one static HTML page that shows what a migration got.

``write_report(store, out)`` reads the migration database (never the network) and
writes ``out/index.html`` plus ``out/records/<id>.json`` for the pages it names: what
was found and what became of it, per-field coverage of the posts (overall, by section
of the site and by template), posts per month, dangling sidebar links, the oddest
pages, each run's changes and the site model. The page opens from disk: its CSS and
script are inline (allowed by hash in its Content-Security-Policy, which forbids every
other source) and its charts are SVG drawn here. Every value from the database is
untrusted legacy content and is escaped; only http(s) URLs become links.

Collecting (SQL over the store, ``collect``; the still-failing URLs, ``failures``) and
rendering (strings: ``render`` lays the sections out from the primitives of ``html``:
escaping, links, tables, SVG charts, the page shell, its CSS and script) are separate
steps; this package never changes the database. (A package rather than STYLE.md's flat
module: ``report.py`` had reached 830 lines, issue #14.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from migrator.errors import ConfigError
from migrator.load import Store
from migrator.report.collect import COVERAGE_FIELDS, ReportData, collect_report, named_pages
from migrator.report.failures import FAILURE_COLUMNS, failures
from migrator.report.render import render_report

__all__ = [
    "COVERAGE_FIELDS",
    "FAILURE_COLUMNS",
    "ReportData",
    "ReportResult",
    "collect_report",
    "failures",
    "render_report",
    "write_report",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportResult:
    """What ``write_report`` wrote."""

    path: Path
    posts: int
    charts: int
    records: int


def write_report(store: Store, out: str | Path) -> ReportResult:
    """Write the HTML report of the migration in ``store`` into the folder ``out``.

    Args:
        store: an open migration database (read only).
        out: the output folder (created; ``index.html`` and ``records/`` are replaced).

    Returns:
        Where the report is and how much it holds.

    Raises:
        ConfigError: the folder cannot be written.
    """
    data = collect_report(store)
    html_text, charts = render_report(data)
    folder = Path(out)
    named = sorted(named_pages(data))
    try:
        (folder / "records").mkdir(parents=True, exist_ok=True)
        for old in (folder / "records").glob("*.json"):
            old.unlink()
        for page_id in named:
            rows = store.query("SELECT url FROM pages WHERE id = ?", (page_id,))
            record = store.page_record(str(rows[0][0])) if rows else None
            if record is not None:
                (folder / "records" / f"{page_id}.json").write_text(
                    json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8"
                )
        path = folder / "index.html"
        path.write_text(html_text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the report into {folder}: {exc.strerror or exc}") from exc
    return ReportResult(path=path, posts=len(data.posts), charts=charts, records=len(named))
