"""The crawling commands: ``migrator run``, ``migrator fetch`` and ``migrator sync``.

Each builds the config from its options, opens the store and hands the whole crawl to
``pipeline.run``; a first run whose start URL fails leaves no database behind
(``store.discard``, ``Store.start_failure``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    from migrator.run_report import Mode

__all__: list[str] = []  # the commands register themselves on ``cli``


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
    from migrator.store.discard import discarded_on_usage_error

    ctx = click.get_current_context()
    source, start = open_source(start=start, **(archive or {}))
    # A first run whose start URL fails (unreachable, 404) leaves no database behind.
    with (
        discarded_on_usage_error(db_path, first_run=mode != "sync"),
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
        failure = store.start_failure(report.run_id, report.counts) if mode != "sync" else None
        if failure is not None:
            raise ConfigError(f"{failure}: nothing to migrate")
    _finish(report, as_json=as_json)


def _host(url: str | None) -> str | None:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or None if url else None


def _crawl_command(mode: Mode, doc: str) -> None:
    """Define ``migrator run`` / ``fetch`` / ``sync``: the same options (``run`` adds
    ``--limit``; ``sync`` takes no START), one call."""

    def command(
        config_path: str | None,
        db_path: str | None,
        concurrency: int | None,
        resolve: tuple[str, ...],
        delay: float | None,
        max_failures: int | None,
        as_json: bool,
        start: str | None = None,
        limit: int | None = None,
        **archive: Any,
    ) -> None:
        config = _config(config_path, concurrency=concurrency, delay=delay, resolve=resolve)
        path = _db_path(db_path, config)
        if mode == "sync":
            if not Path(path).exists():
                raise ConfigError(f"no migration database at {path}: run 'migrator run' first")
            # A scheduler must see a partly failed sync: by default any failed page exits 3.
            max_failures = 0 if max_failures is None else max_failures
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
    decorators = [
        cli.command(mode, help=doc),
        common_options,
        db_option,
        crawl_options,
        report_options,
        handle_errors,
    ]
    if mode != "sync":
        decorators.insert(1, click.argument("start", required=False))
    for decorate in reversed(decorators):
        command = decorate(command)


_crawl_command("run", "Fetch, extract and load a site. START is a site root or sitemap URL.")
_crawl_command(
    "fetch",
    "Download a site's pages into the database without extracting them. "
    "START is a site root or sitemap URL.",
)
_crawl_command(
    "sync",
    """Re-sync an existing migration: conditional re-fetch, new and removed pages.

    A migration read from an archive is synced from that archive again (newer
    captures only) unless --from-warc, --from-dir or --from-wayback name another.
    """,
)
