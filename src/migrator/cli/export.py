"""``migrator export FORMAT``: Hugo, Jekyll, JSON lines, redirects or WARC from the store.

``export jsonl --out -`` streams the records to stdout; ``export warc`` writes one file;
the other formats write a folder through ``migrator.export.export``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from migrator.cli.app import cli
from migrator.cli.exits import handle_errors
from migrator.cli.options import _config, _db_path, common_options, db_option
from migrator.errors import ConfigError

__all__ = ["export_command"]


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
