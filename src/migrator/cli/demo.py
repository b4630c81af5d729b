"""``migrator demo``: serve the bundled demo blog on 127.0.0.1 and migrate it (``make demo``).

It writes ``data/demo.db``, prints the summary and an example query, then writes the
report and the Datasette metadata beside the database.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from migrator.cli.app import cli
from migrator.cli.exits import handle_errors
from migrator.cli.options import _config, common_options
from migrator.errors import ConfigError

__all__ = ["demo_command"]


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
