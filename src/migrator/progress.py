"""What a person sees while and after a run: a live progress line on a terminal
(counts, pages per second, pages left and ETA where the frontier's size is known, the
host), periodic ``run_progress`` log lines otherwise, and at the end the summary: a
table on a terminal, one ``run_summary`` log event otherwise.

Rendering only: it reads the counts the pipeline keeps and never changes them.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import structlog
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from migrator.log import log_always
from migrator.run_report import ProgressCallback, RunReport

__all__ = ["Meter", "live_progress", "render_summary", "report_summary", "summary_event"]

log = structlog.get_logger()

_LIVE_KEYS = ("discovered", "fetched", "new", "changed", "unchanged", "listings", "failed")
# Outcomes that finish one URL of the frontier (a page fetched, revalidated, failed,
# skipped or gone); the rest of `discovered` is still to do.
_DONE_KEYS = (
    "fetched",
    "not_modified",
    "failed",
    "skipped",
    "dead_links",
    "removal_candidates",
    "removed",
    "already_removed",
)
_LOG_EVERY_S = 5.0


class Meter:
    """Rate, pages left and ETA from the running counts.

    The rate is URLs finished per second since the meter started. Pages left is
    ``discovered`` minus the URLs finished, known only when the frontier was mostly
    listed up front (sitemaps, feeds); a crawl that finds its pages by following links
    has no useful ETA until late, and then it is shown as a lower bound ("≥").
    """

    def __init__(self, host: str | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self._clock = clock
        self._started = clock()

    def measure(self, counts: Counter[str]) -> dict[str, Any]:
        """``{"done", "pages_per_s", "left", "eta_s"}``; ``left``/``eta_s`` ``None``
        when unknown."""
        done = sum(counts.get(k, 0) for k in _DONE_KEYS)
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = done / elapsed
        discovered = counts.get("discovered", 0)
        left = discovered - done if discovered > done else None
        eta = left / rate if left is not None and rate > 0 else None
        return {"done": done, "pages_per_s": round(rate, 1), "left": left, "eta_s": eta}

    def line(self, counts: Counter[str]) -> Text:
        """The one-line display: host, counts, rate, pages left, ETA."""
        m = self.measure(counts)
        parts = [
            f"{k} {counts.get(k, 0)}" for k in _LIVE_KEYS if counts.get(k, 0) or k == "fetched"
        ]
        text = Text("migrating ", style="bold")
        if self.host:
            text.append(self.host, style="cyan")
            text.append("  ")
        text.append(" · ".join(parts))
        text.append(f"  {m['pages_per_s']:.1f} pages/s")
        if m["left"] is not None:
            text.append(f"  {m['left']} left")
        if m["eta_s"] is not None:
            text.append(f"  ETA {_clock_time(m['eta_s'])}", style="bold")
        return text


def _clock_time(seconds: float) -> str:
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@contextmanager
def live_progress(
    *, enabled: bool = True, stream: TextIO | None = None, host: str | None = None
) -> Iterator[ProgressCallback]:
    """Yield a progress callback for ``pipeline.run``.

    On a terminal it redraws one line (host, counts, rate, pages left, ETA); elsewhere
    it logs ``run_progress`` (level info) at most every few seconds, so a cron log stays
    readable.

    Args:
        enabled: ``False`` (``-q``) shows nothing.
        stream: where the live line goes (default stderr); only a terminal gets it.
        host: the site being migrated, shown on the line.
    """
    out = stream or sys.stderr
    meter = Meter(host)
    if enabled and out.isatty():
        console = Console(file=out)
        with Live(
            meter.line(Counter()), console=console, transient=True, refresh_per_second=4
        ) as live:

            def update(counts: Counter[str]) -> None:
                live.update(meter.line(counts))

            yield update
        return

    last = [time.monotonic()]

    def log_line(counts: Counter[str]) -> None:
        now = time.monotonic()
        if enabled and now - last[0] >= _LOG_EVERY_S:
            last[0] = now
            m = meter.measure(counts)
            log.info(
                "run_progress",
                host=host,
                pages_per_s=m["pages_per_s"],
                left=m["left"],
                eta_s=round(m["eta_s"]) if m["eta_s"] is not None else None,
                **{k: counts.get(k, 0) for k in _LIVE_KEYS},
            )

    yield log_line


def summary_event(report: RunReport) -> dict[str, Any]:
    """The fields of the ``run_summary`` log event: what the table shows, as data."""
    elapsed = report.elapsed_s
    return {
        "run_id": report.run_id,
        "mode": report.mode,
        "status": report.status,
        "counts": dict(sorted(report.counts.items())),
        "elapsed_s": round(elapsed, 1),
        "pages_per_s": round(report.counts.get("fetched", 0) / elapsed, 1) if elapsed else 0.0,
        "first_failures": [{"url": url, "reason": reason} for url, reason in report.failures],
        "message": report.message,
        "db": report.db_path,
    }


def report_summary(report: RunReport, *, stream: TextIO | None = None) -> None:
    """The end of a run for a person: the table on a terminal, else one ``run_summary``
    log event (JSON lines stay JSON lines)."""
    out = stream or sys.stderr
    if out.isatty():
        render_summary(report, stream=out)
    else:
        log_always("run_summary", **summary_event(report))


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
