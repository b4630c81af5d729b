"""What a person sees while and after a run: a live counter display on a terminal,
periodic ``run_progress`` log lines otherwise, and the summary table at the end.

Rendering only: it reads the counts the pipeline keeps and never changes them.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import structlog
from rich.console import Console
from rich.live import Live
from rich.table import Table

from migrator.pipeline import ProgressCallback, RunReport

__all__ = ["live_progress", "render_summary"]

log = structlog.get_logger()

_LIVE_KEYS = ("discovered", "fetched", "new", "changed", "unchanged", "listings", "failed")
_LOG_EVERY_S = 5.0


def _counts_table(counts: Counter[str], title: str) -> Table:
    table = Table(title=title, show_header=True, header_style="bold")
    for key in _LIVE_KEYS:
        table.add_column(key, justify="right")
    table.add_row(*(str(counts.get(k, 0)) for k in _LIVE_KEYS))
    return table


@contextmanager
def live_progress(
    *, enabled: bool = True, stream: TextIO | None = None
) -> Iterator[ProgressCallback]:
    """Yield a progress callback for ``pipeline.run``.

    On a terminal it redraws a one-row table; elsewhere it logs ``run_progress`` at
    most every few seconds, so a cron log stays readable.
    """
    out = stream or sys.stderr
    if enabled and out.isatty():
        console = Console(file=out)
        with Live(_counts_table(Counter(), "migrating…"), console=console, transient=True) as live:

            def update(counts: Counter[str]) -> None:
                live.update(_counts_table(counts, "migrating…"))

            yield update
        return

    last = [time.monotonic()]

    def log_line(counts: Counter[str]) -> None:
        now = time.monotonic()
        if enabled and now - last[0] >= _LOG_EVERY_S:
            last[0] = now
            log.info("run_progress", **{k: counts.get(k, 0) for k in _LIVE_KEYS})

    yield log_line


def render_summary(report: RunReport, *, stream: TextIO | None = None) -> None:
    """Print the end-of-run summary table (to stderr: stdout is for data)."""
    console = Console(file=stream or sys.stderr, width=100)
    table = Table(title=f"migrator {report.mode} #{report.run_id}: {report.status}")
    table.add_column("outcome")
    table.add_column("count", justify="right")
    for key, value in sorted(report.counts.items()):
        table.add_row(key, str(value))
    rate = report.counts.get("fetched", 0) / report.elapsed_s if report.elapsed_s else 0.0
    table.add_row("elapsed (s)", f"{report.elapsed_s:.1f}")
    table.add_row("pages/s", f"{rate:.1f}")
    console.print(table)
    if report.failures:
        console.print("first failures:")
        for url, reason in report.failures:
            console.print(f"  {url}  {reason}", markup=False, highlight=False)
    if report.message:
        console.print(report.message, markup=False)
    console.print(f"database: {report.db_path}", markup=False, highlight=False)
