"""The end of a run: the error that stopped it, the limits that cut the crawl (said out
loud), a sync's removals under the mass-removal guard, and the ``runs`` row."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import structlog

from migrator.config import Config
from migrator.errors import (
    MigratorError,
    RunAborted,
    RunFailed,
    StoreError,
)
from migrator.load import Store
from migrator.run_report import RunReport
from migrator.scope import Scope

__all__ = ["apply_removals", "finish_run", "first_error", "report_limits"]

log = structlog.get_logger()


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that ended a crawl's task group (the others are its consequences).

    A library error is raised as it is (the CLI maps it to an exit code); anything
    else becomes a ``RunFailed`` naming the stage that died.
    """
    first = group.exceptions[0]
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    if isinstance(first, MigratorError | KeyboardInterrupt | SystemExit):
        return first
    log.debug("stage_crashed", error=repr(first), exc_info=first)
    error = RunFailed(f"the run stopped: {type(first).__name__}: {first}")
    error.__cause__ = first
    return error


def finish_run(store: Store, report: RunReport, max_failures: int | None) -> None:
    """Record the run's end; when the run already failed, a failure here (the disk is
    full) is logged, so the error that stopped the run is the one reported.

    A run that finished with more failed pages than ``max_failures`` is ``failed``: the
    ``runs`` row says what the exit status (3) says.
    """
    failed = report.counts.get("failed", 0)
    if report.status == "ok" and max_failures is not None and failed > max_failures:
        report.status = "failed"
        report.message = f"{failed} pages failed (more than --max-failures {max_failures})"
    report.finished_at = datetime.now(UTC)
    try:
        store.finish_run(report.run_id, status=report.status, counts=dict(report.counts))
    except StoreError as exc:
        if report.status == "ok":
            raise
        log.error("run_not_recorded", reason=str(exc))
    log.info("run_finished", status=report.status, **dict(report.counts))


# How the report says what each limit left out (the default: URLs refused by it).
_LIMIT_WORDS = {
    "max_sitemaps": "{n} child sitemaps or more not read (scope.max_sitemaps)",
    "max_sitemap_depth": "{n} sitemap indexes too deeply nested (scope.max_sitemap_depth)",
    "max_sitemap_bytes": "{n} sitemaps cut at 50 MB inflated (the sitemap protocol's limit)",
    "wayback_cdx": (
        "the Wayback CDX listing stopped at a full page of {n} rows without a resume key"
        " (the server does not page: captures past it were not read)"
    ),
}


def report_limits(
    scope: Scope, report: RunReport, source_limits: Mapping[str, int] | None = None
) -> None:
    """A limit that stopped the crawl is said out loud: counts, a warning, the message."""
    cut_by_source = []
    for name, cut in sorted((source_limits or {}).items()):
        report.counts[f"limited_{name}"] += cut
        words = _LIMIT_WORDS.get(name, "{n} entries cut by {name}")
        cut_by_source.append(words.format(n=cut, name=name))
    if not scope.limited:
        if cut_by_source:
            report.message = "crawl limited: " + "; ".join(cut_by_source)
        return
    said = []
    traps = {k: n for k, n in scope.limited.items() if k.startswith("trap_")}
    for name, refused in sorted(scope.limited.items()):
        report.counts[f"limited_{name}"] += refused
        if name not in traps:
            words = _LIMIT_WORDS.get(name, "{n} URLs refused by scope.{name}")
            said.append(words.format(n=refused, name=name))
    if said:
        said[-1] += " (raise them in the config)"
    if traps:
        kinds = ", ".join(f"{k.removeprefix('trap_')} {n}" for k, n in sorted(traps.items()))
        said.append(
            f"{sum(traps.values())} URLs refused as crawler traps ({kinds}; see"
            " scope.detect_traps and scope.earliest_year)"
        )
    report.message = "crawl limited: " + "; ".join(cut_by_source + said)
    log.warning("crawl_limited", **dict(scope.limited))


def apply_removals(config: Config, store: Store, report: RunReport, candidates: list[str]) -> None:
    """Mark pages removed, unless so many vanished that the site is more likely broken."""
    if not candidates:
        return
    known = max(store.page_count(), 1)
    share = len(candidates) / known
    if share > config.sync.max_removed_share:
        raise RunAborted(
            f"{len(candidates)} of {known} known pages ({share:.0%}) now answer 404/410, "
            f"more than sync.max_removed_share={config.sync.max_removed_share:.0%}; "
            "nothing was marked removed"
        )
    now = datetime.now(UTC)
    with store.transaction():
        for url in candidates:
            if store.mark_removed(url, now):
                report.counts["removed"] += 1
