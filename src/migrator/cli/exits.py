"""How a command ends: library errors, signals and run outcomes mapped to exit codes.

Exit status: 0 ok; 1 error or failed run; 2 usage or configuration error; 3 finished
with more page failures than ``--max-failures``; 4 a sync stopped by the mass-removal
guard; 5 the database is in use; 128 + the signal's number when interrupted. Every
error is one line on stderr (``-vv`` re-raises for the traceback). Nothing here parses
options or calls the pipeline.
"""

from __future__ import annotations

import functools
import json
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from migrator.cli.options import F
from migrator.errors import ConfigError, MigratorError, RunAborted, StoreError, StoreLocked

if TYPE_CHECKING:
    from migrator.run_report import RunReport

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAILURES",
    "EXIT_GUARD",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_USAGE",
    "handle_errors",
]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_FAILURES, EXIT_GUARD, EXIT_LOCKED = 0, 1, 2, 3, 4, 5


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
