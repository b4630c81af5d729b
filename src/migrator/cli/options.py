"""The options commands share, each defined once as a decorator, and the paths they give.

``common_options`` (``--config``, ``-v``, ``-q``: sets up logging), ``db_option``,
``crawl_options`` (run, fetch, sync), ``archive_options`` (run, fetch from an archive)
and ``report_options`` (commands that end with a run report); ``_config`` and
``_db_path`` turn them into a :class:`~migrator.config.Config` and a database path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from migrator.config import Config, load_config
from migrator.errors import ConfigError

__all__ = [
    "DEFAULT_DB",
    "archive_options",
    "common_options",
    "crawl_options",
    "db_option",
    "report_options",
]

DEFAULT_DB = "data/migration.db"

F = TypeVar("F", bound=Callable[..., Any])


def common_options(func: F) -> F:
    """The options every command shares: config, verbosity, JSON output."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        envvar="MIGRATOR_CONFIG",
        help="Site config (TOML). Env: MIGRATOR_CONFIG.",
    )
    @click.option("-v", "--verbose", count=True, help="More log output (-vv: debug, HTTP).")
    @click.option("-q", "--quiet", is_flag=True, help="Errors only.")
    @functools.wraps(func)
    def wrapper(*args: Any, verbose: int, quiet: bool, **kwargs: Any) -> Any:
        from migrator.log import setup_logging

        ctx = click.get_current_context()
        # -v/-q also work before the command (`migrator -v run …`): the group keeps them.
        before, quiet_before = ctx.meta.get("group_verbosity", (0, False))
        verbosity = -1 if quiet or quiet_before else verbose + before
        setup_logging(verbosity)
        ctx.meta["verbosity"] = verbosity
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def db_option(func: F) -> F:
    """``--db PATH``: default from the config, else data/migration.db."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        envvar="MIGRATOR_DB",
        help=f"Migration database. Env: MIGRATOR_DB. Default: config load.db or {DEFAULT_DB}.",
    )(func)


def _config(config_path: str | None, **fetch_overrides: Any) -> Config:
    # --delay is the pace asked for: adaptive pacing may slow down from it, never speed up.
    if fetch_overrides.get("delay") is not None:
        fetch_overrides["min_delay"] = fetch_overrides["delay"]
    # --concurrency N is the parallelism asked for: adaptive pacing aims at N requests in
    # flight while the server answers fast (gap = latency / N), as Scrapy's AutoThrottle
    # does with its target concurrency; N stays the hard cap. Left at the config's target
    # (1 by default), the gap followed the whole answer time and N requests at a time
    # never happened: a sync of 13,000 pages ran at one request per latency, ~200/s.
    if fetch_overrides.get("concurrency") is not None:
        fetch_overrides["target_concurrency"] = float(fetch_overrides["concurrency"])
    return load_config(config_path).with_fetch(**fetch_overrides)


def _db_path(db_path: str | None, config: Config) -> str:
    return db_path or (config.load.db if config.path else DEFAULT_DB)


def _existing_db(db_path: str | None, config_path: str | None) -> str:
    path = _db_path(db_path, _config(config_path))
    if not Path(path).exists():
        raise ConfigError(f"no migration database at {path}")
    return path


def crawl_options(func: F) -> F:
    """Options of the crawling commands (run, fetch)."""
    func = click.option(
        "--concurrency",
        type=int,
        help=(
            "Concurrent requests per host (adaptive pacing aims at this many while the"
            " server answers fast)."
        ),
    )(func)
    func = click.option(
        "--resolve",
        multiple=True,
        metavar="HOST=ADDR[:PORT]",
        help="Connect to ADDR:PORT for HOST, keeping its URLs (like curl --resolve); repeatable.",
    )(func)
    return click.option(
        "--delay",
        type=float,
        help="Seconds between requests to one host (adaptive pacing never goes faster).",
    )(func)


def archive_options(func: F) -> F:
    """Read an archive of the site instead of the live site (``migrator.sources``)."""
    func = click.option(
        "--to", "date_to", metavar="DATE", help="With --from-wayback: captures until DATE."
    )(func)
    func = click.option(
        "--from", "date_from", metavar="DATE", help="With --from-wayback: captures from DATE."
    )(func)
    func = click.option(
        "--wayback-server",
        metavar="URL",
        help="With --from-wayback: the replay prefix (default https://web.archive.org/web/;"
        " a pywb collection: http://HOST:PORT/COLL/).",
    )(func)
    func = click.option(
        "--from-wayback",
        metavar="URL",
        help="Read the site's captures from a Wayback Machine (CDX + id_ replay).",
    )(func)
    func = click.option(
        "--base-url", metavar="URL", help="With --from-dir: the site's original address."
    )(func)
    func = click.option(
        "--from-dir",
        metavar="DIR",
        help="Read a wget --mirror or HTTrack folder instead of the live site.",
    )(func)
    return click.option(
        "--from-warc",
        multiple=True,
        metavar="FILE",
        help="Read WARC/ARC files (.warc, .warc.gz, .arc.gz) instead of the live site.",
    )(func)


def report_options(func: F) -> F:
    """Options of every command that produces a run report."""
    func = click.option(
        "--max-failures",
        type=int,
        default=None,
        help="Exit with status 3 when more pages than this failed.",
    )(func)
    return click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")(func)
