"""The ``migrator`` click group and the console-script entry point.

The group only keeps ``-v``/``-q`` given before the command; the commands live in the
sibling modules, which register themselves on :data:`cli` (``migrator.cli`` imports
them all).
"""

from __future__ import annotations

import os

import click

from migrator.version import __version__

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migrator")
@click.option("-v", "--verbose", count=True, help="More log output (also after the command).")
@click.option("-q", "--quiet", is_flag=True, help="Errors only (also after the command).")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Move a legacy blog into SQLite: fetch, extract, load, re-sync, export."""
    ctx.meta["group_verbosity"] = (verbose, quiet)


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli(prog_name="migrator")
