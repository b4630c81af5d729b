"""The commands that read a migration database for people: ``report``, ``failures`` and
``datasette-metadata``. They open the store without its lock and never change it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from migrator.cli.app import cli
from migrator.cli.exits import handle_errors
from migrator.cli.options import _existing_db, common_options, db_option
from migrator.errors import ConfigError

__all__ = ["datasette_metadata_command", "failures_command", "report_command"]


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
