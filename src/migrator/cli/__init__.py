"""The ``migrator`` command line: parse arguments, call one library function, render.

Exit status: 0 ok; 1 error or failed run; 2 usage or configuration error (bad URL,
unknown config key, unreachable host, unwritable database); 3 finished with more page
failures than ``--max-failures``; 4 a sync stopped by the mass-removal guard; 5 the
database is in use by another run; 128 + the signal's number when interrupted (130
Ctrl-C, 143 SIGTERM, 129 SIGHUP). Errors print one line on stderr, never a
traceback (``-vv`` shows it).

One module per command group: ``app`` (the group and ``main``), ``options`` (the shared
options and the config/database paths), ``exits`` (errors and run outcomes to exit
codes), ``crawl`` (run, fetch, sync), ``offline`` (extract, parse, raw, learn),
``reports`` (report, failures, datasette-metadata), ``export`` and ``demo``. Importing
this package registers every command on :data:`cli`. STYLE.md keeps modules flat unless
one passes ~400 lines; the single ``cli.py`` had reached 870 (issue #14), so the
commands are grouped here, each module under 250 lines.
"""

from __future__ import annotations

from migrator.cli import crawl, demo, export, offline, reports
from migrator.cli.app import cli, main

__all__ = ["cli", "main"]

# The command modules register their commands on ``cli`` when imported.
_COMMAND_MODULES = (crawl, offline, reports, export, demo)
