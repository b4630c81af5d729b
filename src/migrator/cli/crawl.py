"""The crawling commands: ``migrator run``, ``migrator fetch`` and ``migrator sync``.

Each builds the config from its options, opens the store and hands the whole crawl to
``pipeline.run``; a first run whose start URL fails leaves no database behind.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from migrator.cli.app import cli
from migrator.cli.exits import _finish, handle_errors
from migrator.cli.options import (
    _config,
    _db_path,
    archive_options,
    common_options,
    crawl_options,
    db_option,
    report_options,
)
from migrator.errors import ConfigError

if TYPE_CHECKING:
    from migrator.config import Config
    from migrator.load import Store
    from migrator.pipeline import Mode, RunReport

__all__ = ["sync_command"]


def _run_crawl(
    mode: Mode,
    start: str | None,
    config: Config,
    db_path: str,
    *,
    max_failures: int | None,
    as_json: bool,
    limit: int | None = None,
    archive: dict[str, Any] | None = None,
) -> None:
    from migrator.load import Store
    from migrator.pipeline import run
    from migrator.progress import live_progress
    from migrator.sources import open_source

    ctx = click.get_current_context()
    source, start = open_source(start=start, **(archive or {}))
    # A first run whose start URL fails (unreachable, 404) leaves no database behind.
    created = mode != "sync" and not Path(db_path).exists()
    new_folder = not Path(db_path).absolute().parent.exists()
    try:
        with (
            Store.open(db_path) as store,
            live_progress(
                enabled=ctx.meta["verbosity"] >= 0,
                host=_host(start or config.site.start or store.last_start_url()),
            ) as cb,
        ):
            report = run(
                config,
                store,
                mode=mode,
                start=start,
                progress=cb,
                limit=limit,
                max_failures=max_failures,
                source=source,
            )
            if mode != "sync":
                _check_start_answered(store, report)
    except ConfigError:
        if created:
            _remove_empty_database(db_path, new_folder=new_folder)
        raise
    _finish(report, as_json=as_json)


def _host(url: str | None) -> str | None:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or None if url else None


def _check_start_answered(store: Store, report: RunReport) -> None:
    """A run that stored nothing at all because its start URL failed is a usage error.

    Raises:
        ConfigError: the database holds no fetched page and this run's first URL failed
            (404, robots.txt, a network error): there is nothing to migrate.
    """
    if report.counts.get("fetched", 0) or report.counts.get("not_modified", 0):
        return
    if store.query("SELECT 1 FROM raw_pages LIMIT 1"):
        return
    rows = store.query(
        "SELECT url, status, reason FROM errors WHERE run_id = ? ORDER BY id LIMIT 1",
        (report.run_id,),
    )
    if not rows:
        return
    url, status, reason = rows[0]
    answer = f"answered {status}" if status is not None else f"failed ({reason})"
    raise ConfigError(f"start URL {url} {answer}: nothing to migrate")


def _remove_empty_database(db_path: str, *, new_folder: bool) -> None:
    """Delete a database this command created (and its folder, if it made it and
    left it empty), when it holds no fetched page."""
    import sqlite3

    path = Path(db_path)
    if not path.exists():
        return
    try:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            if conn.execute("SELECT 1 FROM raw_pages LIMIT 1").fetchone() is not None:
                return
    except sqlite3.Error:
        return  # not ours to judge: leave it
    for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
        Path(db_path + suffix).unlink(missing_ok=True)
    if new_folder:
        with contextlib.suppress(OSError):
            path.absolute().parent.rmdir()


def _crawl_command(mode: Literal["run", "fetch"], doc: str) -> None:
    """Define ``migrator run`` / ``migrator fetch``: same options, different stage set."""

    def command(
        start: str | None,
        config_path: str | None,
        db_path: str | None,
        concurrency: int | None,
        resolve: tuple[str, ...],
        delay: float | None,
        max_failures: int | None,
        as_json: bool,
        limit: int | None = None,
        **archive: Any,
    ) -> None:
        config = _config(config_path, concurrency=concurrency, delay=delay, resolve=resolve)
        path = _db_path(db_path, config)
        _run_crawl(
            mode,
            start,
            config,
            path,
            max_failures=max_failures,
            as_json=as_json,
            limit=limit,
            archive=archive,
        )

    if mode == "run":
        command = click.option(
            "--limit",
            type=click.IntRange(min=1),
            help="Stop cleanly after N content pages; a later run continues.",
        )(command)
    command = archive_options(command)
    decorators = (
        cli.command(mode, help=doc),
        click.argument("start", required=False),
        common_options,
        db_option,
        crawl_options,
        report_options,
        handle_errors,
    )
    for decorate in reversed(decorators):
        command = decorate(command)


_crawl_command("run", "Fetch, extract and load a site. START is a site root or sitemap URL.")
_crawl_command(
    "fetch",
    "Download a site's pages into the database without extracting them. "
    "START is a site root or sitemap URL.",
)


@cli.command("sync")
@common_options
@db_option
@crawl_options
@report_options
@archive_options
@handle_errors
def sync_command(
    config_path: str | None,
    db_path: str | None,
    concurrency: int | None,
    resolve: tuple[str, ...],
    delay: float | None,
    max_failures: int | None,
    as_json: bool,
    **archive: Any,
) -> None:
    """Re-sync an existing migration: conditional re-fetch, new and removed pages.

    A migration read from an archive is synced from that archive again (newer
    captures only) unless --from-warc, --from-dir or --from-wayback name another.
    """
    config = _config(config_path, concurrency=concurrency, delay=delay, resolve=resolve)
    path = _db_path(db_path, config)
    if not Path(path).exists():
        raise ConfigError(f"no migration database at {path}: run 'migrator run' first")
    # A scheduler must see a partly failed sync: by default any failed page exits 3.
    limit = 0 if max_failures is None else max_failures
    _run_crawl("sync", None, config, path, max_failures=limit, as_json=as_json, archive=archive)
