"""The ``migrator`` command line: parse arguments, call one library function, render.

Exit status: 0 ok; 1 error or failed run; 2 usage or configuration error (bad URL,
unknown config key, unreachable host, unwritable database); 3 finished with more page
failures than ``--max-failures``; 4 a sync stopped by the mass-removal guard; 5 the
database is in use by another run; 128 + the signal's number when interrupted (130
Ctrl-C, 143 SIGTERM, 129 SIGHUP). Errors print one line on stderr, never a
traceback (``-vv`` shows it).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from migrator import __version__
from migrator.config import Config, load_config
from migrator.errors import ConfigError, MigratorError, RunAborted, StoreError, StoreLocked

if TYPE_CHECKING:
    from migrator.load import Store
    from migrator.pipeline import Mode, RunReport

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_FAILURES, EXIT_GUARD, EXIT_LOCKED = 0, 1, 2, 3, 4, 5
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


def _fail(message: str, code: int) -> None:
    """Print one line on stderr and exit with ``code``."""
    click.echo(f"migrator: {message}", err=True)
    sys.exit(code)


class _StopSignals:
    """SIGTERM and SIGHUP stop a command the way Ctrl-C does.

    A signal does what SIGINT would do at that moment: inside the pipeline's event loop
    asyncio cancels the run (pages in flight are written or rolled back, the run row
    says ``interrupted``); elsewhere it raises ``KeyboardInterrupt``. The exit status
    is 128 + the signal's number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
    """

    def __init__(self) -> None:
        self.received = signal.SIGINT
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.received = signal.Signals(signum)
        interrupt = signal.getsignal(signal.SIGINT)
        if callable(interrupt) and interrupt is not signal.default_int_handler:
            interrupt(signal.SIGINT, frame)  # asyncio's: cancel the main task
            return
        raise KeyboardInterrupt

    @property
    def exit_code(self) -> int:
        return 128 + int(self.received)


def handle_errors(func: F) -> F:
    """Map library errors to exit codes with a one-line message."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        stop = _StopSignals()
        try:
            with stop:
                return func(*args, **kwargs)
        except StoreLocked as exc:
            _fail(str(exc), EXIT_LOCKED)
        except RunAborted as exc:
            _fail(f"stopped: {exc}", EXIT_GUARD)
        except (ConfigError, StoreError) as exc:
            _fail(str(exc), EXIT_USAGE)
        except MigratorError as exc:
            _fail(str(exc), EXIT_ERROR)
        except KeyboardInterrupt:
            name = stop.received.name
            _fail(f"interrupted ({name}); run again to resume", stop.exit_code)
        except Exception as exc:
            ctx = click.get_current_context(silent=True)
            if ctx is not None and ctx.meta.get("verbosity", 0) >= 2:
                raise
            _fail(
                f"internal error: {type(exc).__name__}: {exc} (run with -vv for details)",
                EXIT_ERROR,
            )
        return None

    return wrapper  # type: ignore[return-value]


def _config(config_path: str | None, **fetch_overrides: Any) -> Config:
    # --delay is the pace asked for: adaptive pacing may slow down from it, never speed up.
    if fetch_overrides.get("delay") is not None:
        fetch_overrides["min_delay"] = fetch_overrides["delay"]
    return load_config(config_path).with_fetch(**fetch_overrides)


def _db_path(db_path: str | None, config: Config) -> str:
    return db_path or (config.load.db if config.path else DEFAULT_DB)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migrator")
@click.option("-v", "--verbose", count=True, help="More log output (also after the command).")
@click.option("-q", "--quiet", is_flag=True, help="Errors only (also after the command).")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Move a legacy blog into SQLite: fetch, extract, load, re-sync, export."""
    ctx.meta["group_verbosity"] = (verbose, quiet)


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


def _finish(report: RunReport, *, as_json: bool) -> None:
    """Render a run report (JSON on stdout, or the summary on stderr) and set the exit.

    A run ``failed`` by its page failures (``--max-failures``) exits 3; with ``-q`` it
    still says so in one line, so a cron log shows why.
    """
    from migrator.progress import report_summary

    quiet = click.get_current_context().meta["verbosity"] < 0
    if as_json:
        click.echo(json.dumps(report.as_dict(), default=str))
    elif not quiet:
        report_summary(report)  # a table on a terminal, else a run_summary log event
    if report.status == "failed":
        if quiet:
            first = f"; first: {' '.join(report.failures[0])}" if report.failures else ""
            _fail(f"{report.mode} finished: {report.message}{first}", EXIT_FAILURES)
        sys.exit(EXIT_FAILURES)


def crawl_options(func: F) -> F:
    """Options of the crawling commands (run, fetch)."""
    func = click.option("--concurrency", type=int, help="Concurrent requests per host.")(func)
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


@cli.command("extract")
@common_options
@db_option
@report_options
@handle_errors
def extract_command(
    config_path: str | None, db_path: str | None, max_failures: int | None, as_json: bool
) -> None:
    """Re-extract every stored raw page offline, rewriting only what changed."""
    from migrator.load import Store
    from migrator.pipeline import extract
    from migrator.progress import live_progress

    config = _config(config_path)
    path = _db_path(db_path, config)
    if not Path(path).exists():
        raise ConfigError(f"no migration database at {path}")
    ctx = click.get_current_context()
    with Store.open(path) as store, live_progress(enabled=ctx.meta["verbosity"] >= 0) as cb:
        report = extract(config, store, progress=cb, max_failures=max_failures)
    _finish(report, as_json=as_json)


@cli.command("parse")
@click.argument("sources", nargs=-1, required=True, metavar="FILE|URL|-...")
@click.option("--url", help="The page's original address (one FILE or stdin only).")
@click.option("--explain", is_flag=True, help="Add which layer gave each field.")
@click.option(
    "--db",
    "model_db",
    type=click.Path(dir_okay=False),
    help="Use the site model learned in this migration database.",
)
@click.option(
    "--stored",
    is_flag=True,
    help="Read URLs from the --db database's stored pages instead of fetching them.",
)
@common_options
@handle_errors
def parse_command(
    sources: tuple[str, ...],
    url: str | None,
    explain: bool,
    model_db: str | None,
    stored: bool,
    config_path: str | None,
) -> None:
    """Extract HTML FILEs, pages fetched from URLs, or stdin ('-'); print the records.

    One source prints one JSON object; several print one JSON object per line.
    """
    from migrator.extract.body import require_dependencies
    from migrator.parse import load_site_model, parse_sources

    config = _config(config_path)
    require_dependencies(config.extract)
    if stored and model_db is None:
        raise ConfigError("--stored reads the pages stored in a migration: give --db")
    model = load_site_model(model_db) if model_db is not None else None
    records = parse_sources(
        sources,
        config,
        url=url,
        model=model,
        explain=explain,
        stdin=sys.stdin.buffer,
        stored_db=model_db if stored else None,
    )
    for record in records:
        if len(sources) == 1:
            click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        else:
            click.echo(json.dumps(record, ensure_ascii=False))


@cli.command("raw")
@click.argument("url")
@click.option("--bytes", "as_bytes", is_flag=True, help="The body as stored, not decoded.")
@click.option("--headers", is_flag=True, help="Print the status line and headers first.")
@common_options
@db_option
@handle_errors
def raw_command(
    url: str, as_bytes: bool, headers: bool, config_path: str | None, db_path: str | None
) -> None:
    """Print the stored page of URL (decompressed and decoded) from the database."""
    from migrator.decode import decode_body
    from migrator.parse import stored_page

    raw = stored_page(_existing_db(db_path, config_path), url)
    if headers:
        lines = [f"HTTP {raw.status}  {raw.url}", *(f"{k}: {v}" for k, v in raw.headers), ""]
        click.echo("\n".join(lines))
    if as_bytes:
        sys.stdout.flush()
        sys.stdout.buffer.write(raw.body)
        sys.stdout.buffer.flush()
        return
    decoded = decode_body(raw.body, raw.header("content-type"))
    sys.stdout.flush()
    sys.stdout.buffer.write(decoded.text.encode("utf-8"))
    sys.stdout.buffer.flush()


@cli.command("datasette-metadata")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="Where to write it ('-': stdout). Default: <db stem>.metadata.json beside the db.",
)
@common_options
@db_option
@handle_errors
def datasette_metadata_command(
    out: str | None, config_path: str | None, db_path: str | None
) -> None:
    """Write Datasette metadata for the database: descriptions, search, canned queries."""
    from migrator.datasette_metadata import datasette_metadata, metadata_path

    path = _existing_db(db_path, config_path)
    text = json.dumps(datasette_metadata(path), ensure_ascii=False, indent=2) + "\n"
    if out == "-":
        click.echo(text, nl=False)
        return
    target = Path(out) if out else metadata_path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from exc
    if click.get_current_context().meta["verbosity"] >= 0:
        click.echo(f"datasette metadata -> {target}\n  datasette {path} --metadata {target}")


@cli.command("learn")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the site config here.")
@click.option("--json", "as_json", is_flag=True, help="Print the model as JSON instead.")
@common_options
@db_option
@handle_errors
def learn_command(
    out: str | None, as_json: bool, config_path: str | None, db_path: str | None
) -> None:
    """Learn the site model from the stored pages and write it as a site config."""
    from migrator.extract.site import model_summary
    from migrator.learn import learn_from_store, model_toml
    from migrator.load import Store

    config = _config(config_path)
    path = _db_path(db_path, config)
    if not Path(path).exists():
        raise ConfigError(f"no migration database at {path}: run 'migrator run' first")
    with Store.open(path) as store:
        model = learn_from_store(store)
        if model is None:
            raise ConfigError(f"{path}: too few stored pages to learn a site model from")
        latest = store.latest_site_model()
        if latest is None or latest.model_fingerprint != model.model_fingerprint:
            store.save_site_model(model)
        start = store.last_start_url()
    if as_json:
        click.echo(json.dumps(model_summary(model), ensure_ascii=False, indent=2))
    text = model_toml(model, site=start)
    if out is None:
        if not as_json:
            click.echo(text, nl=False)
        return
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror or exc}") from exc
    if click.get_current_context().meta["verbosity"] >= 0:
        click.echo(
            f"site model {model.fingerprint} ({model.pages_sampled} pages) -> {out}", err=True
        )


@cli.command("report")
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False), help="Output folder."
)
@common_options
@db_option
@handle_errors
def report_command(out: str, config_path: str | None, db_path: str | None) -> None:
    """Write a static HTML report of the migration (opens from disk) into --out."""
    from migrator.load import Store
    from migrator.report import write_report

    path = _existing_db(db_path, config_path)
    with Store.open(path, lock=False) as store:
        result = write_report(store, out)
    if click.get_current_context().meta["verbosity"] >= 0:
        click.echo(f"report: {result.posts} posts, {result.charts} charts -> {result.path}")


@cli.command("failures")
@click.option("--json", "fmt", flag_value="json", help="One JSON array on stdout.")
@click.option("--csv", "fmt", flag_value="csv", help="CSV with a header row on stdout.")
@common_options
@db_option
@handle_errors
def failures_command(fmt: str | None, config_path: str | None, db_path: str | None) -> None:
    """List the URLs that still fail, with stage, status, reason, attempts and last try."""
    import csv

    from migrator.load import Store
    from migrator.report import FAILURE_COLUMNS, failures

    path = _existing_db(db_path, config_path)
    with Store.open(path, lock=False) as store:
        rows = failures(store)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=FAILURE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        for row in rows:
            status = row["status"] if row["status"] is not None else "-"
            click.echo(
                f"{row['stage']}\t{status}\t{row['reason']}\t{row['attempts']}"
                f"\t{row['last_tried_at']}\t{row['url']}"
            )
        if click.get_current_context().meta["verbosity"] >= 0:
            click.echo(f"{len(rows)} failed URLs", err=True)


def _existing_db(db_path: str | None, config_path: str | None) -> str:
    path = _db_path(db_path, _config(config_path))
    if not Path(path).exists():
        raise ConfigError(f"no migration database at {path}")
    return path


@cli.command("export")
@click.argument(
    "fmt",
    metavar="FORMAT",
    type=click.Choice(["hugo", "jekyll", "jsonl", "redirects", "warc"]),
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(),
    help="Output folder ('-': jsonl to stdout; warc: the output file, FILE.warc.gz).",
)
@click.option(
    "--flavor",
    type=click.Choice(["hugo", "jekyll"]),
    help="Static site generator for a site export (FORMAT hugo or jekyll).",
)
@click.option(
    "--format",
    "redirect_format",
    type=click.Choice(["csv", "nginx", "apache", "netlify"]),
    default="csv",
    show_default=True,
    help="Redirects file format (FORMAT redirects).",
)
@click.option("--download-assets", is_flag=True, help="Fetch every image posts use.")
@click.option("--keep-removed", is_flag=True, help="List files of removed pages, keep them.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@common_options
@db_option
@handle_errors
def export_command(
    fmt: str,
    out: str,
    flavor: str | None,
    redirect_format: str,
    download_assets: bool,
    keep_removed: bool,
    as_json: bool,
    config_path: str | None,
    db_path: str | None,
) -> None:
    """Write FORMAT (hugo, jekyll, jsonl, redirects, warc) from the database into --out."""
    from migrator.export import export
    from migrator.load import Store

    config = _config(config_path)
    path = _db_path(db_path, config)
    if out == "-":
        if fmt != "jsonl" or as_json:
            raise ConfigError("--out - (standard output) is for 'export jsonl' without --json")
        if not Path(path).exists():
            raise ConfigError(f"no migration database at {path}")
        _export_jsonl_to_stdout(path)
        return
    if not Path(path).exists():
        raise ConfigError(f"no migration database at {path}")
    if fmt == "warc":
        _export_warc(path, out, as_json=as_json)
        return
    if Path(out).is_file():
        raise ConfigError(f"--out must be a folder for {fmt}: {out} is a file")
    if flavor is not None and fmt in {"hugo", "jekyll"}:
        fmt = flavor
    with Store.open(path, lock=False) as store:
        report = export(
            store,
            config,
            fmt=fmt,  # type: ignore[arg-type]
            out=out,
            redirect_format=redirect_format,  # type: ignore[arg-type]
            download_assets=download_assets,
            keep_removed=keep_removed,
        )
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    if click.get_current_context().meta["verbosity"] >= 0:
        removed = "listed" if keep_removed else "removed"
        click.echo(
            f"{report.format}: {report.pages} pages, {len(report.written)} files written,"
            f" {report.unchanged} unchanged, {len(report.removed)} {removed},"
            f" {len(report.broken_links)} links to pages not migrated -> {report.out}"
        )
        for link in report.broken_links:
            click.echo(f"  not migrated: {link.url} (linked from {link.page})")
        for relative in report.removed if keep_removed else ():
            click.echo(f"  removed page, file kept: {relative}")


def _export_warc(db_path: str, out: str, *, as_json: bool) -> None:
    from migrator.export.warc import export_warc
    from migrator.load import Store

    if Path(out).is_dir():
        raise ConfigError(f"--out for warc is a file (FILE.warc.gz): {out} is a folder")
    with Store.open(db_path, lock=False) as store:
        report = export_warc(store, out)
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    elif click.get_current_context().meta["verbosity"] >= 0:
        click.echo(
            f"warc: {report.responses} answers and {report.redirects} redirects,"
            f" {report.bytes} bytes -> {report.out}"
        )


def _export_jsonl_to_stdout(db_path: str) -> None:
    """``export jsonl --out -``: the records on stdout (UTF-8), the count on stderr."""
    import io

    from migrator.export.jsonl import write_jsonl
    from migrator.load import Store

    sys.stdout.flush()
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    try:
        with Store.open(db_path, lock=False) as store:
            count = write_jsonl(store, stream)
        stream.flush()
    finally:
        stream.detach()  # sys.stdout keeps its buffer
    if click.get_current_context().meta["verbosity"] >= 0:
        click.echo(f"jsonl: {count} pages -> standard output", err=True)


@cli.command("demo")
@click.option(
    "--db",
    "db_path",
    default="data/demo.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the demo database.",
)
@click.option(
    "--site",
    type=click.Path(file_okay=False, exists=True),
    help="The site folder to serve (default: the bundled demo blog).",
)
@common_options
@handle_errors
def demo_command(db_path: str, site: str | None, config_path: str | None) -> None:
    """Serve the bundled demo blog on 127.0.0.1 and migrate it into data/demo.db."""
    from migrator.demo import demo_site_dir, serve_site
    from migrator.load import Store
    from migrator.pipeline import run
    from migrator.progress import live_progress, render_summary

    root = Path(site) if site else demo_site_dir()
    if not (root / "index.html").is_file():
        raise ConfigError(f"no demo site at {root}")
    config = _config(config_path)
    # A polite crawler on someone else's server; on our own loopback server, no delay.
    config = config.with_fetch(delay=0.0, concurrency=8)
    for suffix in ("", "-wal", "-shm"):
        Path(db_path + suffix).unlink(missing_ok=True)
    ctx = click.get_current_context()
    with serve_site(root) as server:
        click.echo(f"serving the demo blog at {server.base_url}/", err=True)
        with Store.open(db_path) as store, live_progress(enabled=ctx.meta["verbosity"] >= 0) as cb:
            report = run(config, store, mode="run", start=server.base_url + "/", progress=cb)
    render_summary(report, stream=sys.stdout)
    _print_demo_queries(db_path)
    from migrator.datasette_metadata import datasette_metadata, metadata_path
    from migrator.report import write_report

    with Store.open(db_path, lock=False) as store:
        written = write_report(store, Path(db_path).with_name("demo-report"))
    click.echo(f"\nReport: {written.path}")
    metadata = metadata_path(db_path)
    metadata.write_text(
        json.dumps(datasette_metadata(db_path), ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    click.echo(f"Browse it: datasette {db_path} --metadata {metadata}")


_DEMO_QUERY = """\
SELECT b.label AS category, count(*) AS posts
FROM pages p JOIN breadcrumbs b ON b.page_id = p.id AND b.position = 2
WHERE p.page_type = 'post'
GROUP BY b.label ORDER BY posts DESC"""


def _print_demo_queries(db_path: str) -> None:
    import sqlite3

    click.echo(f"\nExample query (sqlite3 {db_path}):\n\n{_DEMO_QUERY};\n")
    with sqlite3.connect(db_path) as conn:
        for category, posts in conn.execute(_DEMO_QUERY):
            click.echo(f"  {category:<20} {posts}")


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli(prog_name="migrator")
