"""Logging set-up for the command line: structlog to stderr, human-readable on a
terminal and JSON lines otherwise (the standard ``logging`` module's records too, so a
cron log or a journal holds JSON lines only). The library only ever calls
``structlog.get_logger()``; nothing but the CLI configures logging, and stdout is
left to data.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

__all__ = ["log_always", "logging_settings", "setup_child_logging", "setup_logging"]

# The arguments of the last setup_logging call: worker processes repeat it, so their
# warnings reach the user the same way the main process's do.
_settings: tuple[int, bool] | None = None
_processors: list[structlog.types.Processor] = []


def logging_settings() -> tuple[int, bool] | None:
    """``(verbosity, json_lines)`` of the last :func:`setup_logging`, ``None`` if none."""
    return _settings


def setup_logging(verbosity: int = 0, *, json_lines: bool | None = None) -> None:
    """Configure structlog and the standard logging module.

    Args:
        verbosity: -1 quiet (errors only), 0 warnings and run events, 1 info, 2 debug
            including httpx's request lines.
        json_lines: force JSON lines (``True``) or console rendering (``False``);
            ``None`` picks console on a terminal, JSON otherwise.
    """
    global _settings  # noqa: PLW0603 - the process's one logging set-up
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    _settings = (verbosity, json_lines)
    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    _processors[:] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        stamp,
        renderer,
    ]
    structlog.configure(
        processors=list(_processors),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # The standard library's records (httpx, a dependency's warning) are rendered by
    # the same renderer: JSON lines off a terminal, never a bare "WARNING:name:" line.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[
                structlog.stdlib.add_logger_name,
                structlog.stdlib.add_log_level,
                stamp,
            ],
        )
    )
    logging.basicConfig(handlers=[handler], level=logging.WARNING, force=True)
    # httpx logs every request at INFO: only at -vv.
    logging.getLogger("httpx").setLevel(logging.INFO if verbosity >= 2 else logging.WARNING)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)


def log_always(event: str, **fields: Any) -> None:
    """Log ``event`` at level info whatever the verbosity, rendered as every other line.

    For what a command reports once at its end (the run summary): without a terminal it
    is the summary, so it must not depend on ``-v``. Before :func:`setup_logging` (the
    library used alone) it goes through structlog's default configuration.
    """
    if not _processors:
        structlog.get_logger().info(event, **fields)
        return
    logger = structlog.wrap_logger(
        structlog.PrintLogger(file=sys.stderr),
        processors=list(_processors),
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    logger.info(event, **fields)


def setup_child_logging(settings: tuple[int, bool] | None) -> None:
    """In a worker or helper process: log as the main process does.

    Args:
        settings: the main process's :func:`logging_settings`; ``None`` (migrator used
            as a library) logs warnings and errors to stderr.
    """
    if settings is not None:
        verbosity, json_lines = settings
        setup_logging(verbosity, json_lines=json_lines)
        return
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )
