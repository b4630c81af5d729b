"""The commands that work without crawling: ``extract``, ``parse``, ``raw``, ``learn``.

``extract`` re-runs extraction over the stored raw pages, ``parse`` extracts files, URLs
or stdin and prints the records, ``raw`` prints a stored answer, ``learn`` writes the
site model as a site config.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from migrator.cli.app import cli
from migrator.cli.exits import _finish, handle_errors
from migrator.cli.options import (
    _config,
    _db_path,
    _existing_db,
    common_options,
    db_option,
    report_options,
)
from migrator.errors import ConfigError

__all__ = ["extract_command", "learn_command", "parse_command", "raw_command"]


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
