"""The exception hierarchy of migrator.

Every error the library raises derives from :class:`MigratorError`, so the command
line can map outcomes to exit codes in one place. Page-level failures (``FetchError``,
``RobotsDisallowed``, ``ExtractError``) never stop a run: the pipeline records them in
the ``errors`` table and goes on. Run-level failures (``ConfigError``, ``StoreError``,
``RunAborted``) end the run.

    MigratorError
    ├── ConfigError          bad config file, key, value, start URL   (config.py, cli/)
    ├── FetchError           one URL could not be fetched              (fetch.py)
    │   └── RobotsDisallowed robots.txt forbids the URL                (fetch.py)
    ├── ExtractError         one page could not be turned into a Page  (extract/)
    ├── StoreError           the database cannot be opened or written  (store/)
    │   └── StoreLocked      another run or sync holds the database    (store/)
    ├── ExportError          the export's output cannot be written     (export/)
    ├── RunAborted           a guard stopped the run on purpose        (run_end.py)
    └── RunFailed            a stage of the run died (a bug, a failed commit)  (run_end.py)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "ExportError",
    "ExtractError",
    "FetchError",
    "MigratorError",
    "RobotsDisallowed",
    "RunAborted",
    "RunFailed",
    "StoreError",
    "StoreLocked",
]


class MigratorError(Exception):
    """Base class of every error migrator raises on purpose."""


class ConfigError(MigratorError):
    """Raised by ``config.load_config`` and the CLI for a bad file, key, value or URL."""


class FetchError(MigratorError):
    """Raised by ``fetch.Fetcher`` when one URL cannot be fetched.

    Attributes:
        url: the URL that failed.
        status: the HTTP status of the last answer, or ``None`` for a transport error.
        reason: a short machine-friendly reason (``http_404``, ``timeout``, ``too_large``…).
        attempts: how many requests were made.
    """

    def __init__(
        self, url: str, reason: str, *, status: int | None = None, attempts: int = 1
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.attempts = attempts

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses process boundaries (extraction workers, the sync fetch helper): the
        # default pickling would call __init__ with the message only.
        return (_restore, (type(self), vars(self)))


class RobotsDisallowed(FetchError):  # noqa: N818 - the name states the fact, as the style guide asks
    """Raised by ``fetch.Fetcher`` when robots.txt forbids fetching the URL."""

    def __init__(self, url: str) -> None:
        super().__init__(url, "robots_disallowed")


class ExtractError(MigratorError):
    """Raised by ``extract.extract_page`` when a page cannot be turned into a record."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in extraction worker processes and pickled back to the pipeline.
        return (_restore, (type(self), vars(self)))


def _restore(cls: type[MigratorError], state: dict[str, Any]) -> MigratorError:
    """Rebuild an error with its attributes, without calling its ``__init__``."""
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = (f"{state.get('url')}: {state.get('reason')}",)
    return error


class StoreError(MigratorError):
    """Raised by ``store.Store`` when the database cannot be opened, upgraded or written."""


class StoreLocked(StoreError):  # noqa: N818 - reads as a state, like RobotsDisallowed
    """Raised by ``store.Store`` when another run or sync already holds the database."""


class ExportError(MigratorError):
    """Raised by ``export`` when the output folder cannot be written or a path is unsafe."""


class RunAborted(MigratorError):  # noqa: N818 - a state, see above
    """Raised by ``pipeline`` when a guard (e.g. mass removal) stops a run on purpose."""


class RunFailed(MigratorError):  # noqa: N818 - a state, see above
    """Raised by ``pipeline`` when a stage of the run died: the whole run stops."""
