"""Where a crawl reads its answers from: the live site, or an archive of it.

A :class:`Source` hands the pipeline a fetcher (the live :class:`~migrator.fetch.Fetcher`
or an :class:`~migrator.sources.replay.ArchiveFetcher` that replays archived answers
through the same redirect, robots and content-type logic), the URLs the archive holds
(seeded like sitemap entries) and the config to crawl it with. Everything after fetching
(extraction, the site model, load, aliases, export) is the same for every source. This
package never extracts, never writes to the database and never prints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from migrator.config import Config
from migrator.errors import ConfigError
from migrator.fetch import Fetcher
from migrator.scope import Scope

__all__ = ["LiveSource", "Source", "open_source", "reopen_source"]


class Source(Protocol):
    """What the pipeline needs from a source of answers."""

    @property
    def live(self) -> bool:
        """True for the live site (the pipeline checks that the host answers first)."""
        ...

    def prepare(self, config: Config) -> Config:
        """The config to crawl this source with (an archive needs no politeness)."""
        ...

    def open(self, config: Config, scope: Scope) -> Fetcher:
        """A fetcher for this source, to use as ``async with``."""
        ...

    def seeds(self) -> list[str]:
        """URLs to queue besides the start's discovery (every page an archive holds)."""
        ...

    def limits(self) -> dict[str, int]:
        """What a limit of the source left unread, by limit name (reported, never
        silent): ``wayback_cdx`` rows of a CDX listing the server cut."""
        ...

    def describe(self) -> dict[str, Any] | None:
        """The options that open this source again (``runs.source``); ``None``: live."""
        ...

    def sync_against(self, known: Mapping[str, datetime]) -> None:
        """Make this source a sync's: a URL whose stored answer (capture time by URL) is
        as new as the archive's capture answers 304 without being read."""
        ...


class LiveSource:
    """The live site over HTTP: the default source."""

    live = True

    def prepare(self, config: Config) -> Config:
        return config

    def open(self, config: Config, scope: Scope) -> Fetcher:
        return Fetcher(config, scope)

    def seeds(self) -> list[str]:
        return []

    def limits(self) -> dict[str, int]:
        return {}

    def describe(self) -> dict[str, Any] | None:
        return None

    def sync_against(self, known: Mapping[str, datetime]) -> None:
        return


def open_source(
    *,
    start: str | None = None,
    from_warc: tuple[str, ...] = (),
    from_dir: str | None = None,
    base_url: str | None = None,
    from_wayback: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    wayback_server: str | None = None,
) -> tuple[Source | None, str | None]:
    """Build the source the command line asked for, and the start URL to crawl it from.

    ``start`` may name one more WARC file after ``--from-warc`` (``--from-warc A B``).
    No archive option means the live site: ``(None, start)``.

    Returns:
        The source (``None`` for the live site) and the start URL (``None``: the
        config's).

    Raises:
        ConfigError: conflicting options, a missing file or folder, an empty archive.
    """
    chosen = [bool(from_warc), from_dir is not None, from_wayback is not None]
    if sum(chosen) > 1:
        raise ConfigError("give only one of --from-warc, --from-dir and --from-wayback")
    if base_url is not None and from_dir is None:
        raise ConfigError("--base-url goes with --from-dir")
    if (date_from or date_to or wayback_server) and from_wayback is None:
        raise ConfigError("--from, --to and --wayback-server go with --from-wayback")
    if from_warc:
        return _warc_source(from_warc, start)
    if from_dir is not None:
        return _dir_source(from_dir, base_url, start)
    if from_wayback is not None:
        from migrator.sources.wayback import wayback_source

        source, root = wayback_source(
            from_wayback, date_from=date_from, date_to=date_to, start=start, server=wayback_server
        )
        return source, root
    return None, start


def _warc_source(from_warc: tuple[str, ...], start: str | None) -> tuple[Source, str | None]:
    """``--from-warc``: the WARC files, and the start URL (given, or the archive's first)."""
    from migrator.sources.replay import ArchiveSource
    from migrator.sources.warc import WarcArchive

    files = list(from_warc)
    if start is not None and not start.startswith(("http://", "https://")):
        files.append(start)  # `--from-warc A.warc.gz B.warc.gz`: B lands in START
        start = None
    paths = [_existing_file(f) for f in files]
    warc = WarcArchive(paths)
    options: dict[str, Any] = {"from_warc": [str(p.absolute()) for p in paths]}
    return ArchiveSource(warc, options), start or warc.start_url()


def _dir_source(
    from_dir: str, base_url: str | None, start: str | None
) -> tuple[Source, str | None]:
    """``--from-dir``: a mirrored folder served as ``base_url``, and the start URL."""
    from migrator.sources.mirror import MirrorArchive
    from migrator.sources.replay import ArchiveSource

    if not base_url:
        raise ConfigError("--from-dir needs --base-url URL (the site's original address)")
    folder = Path(from_dir)
    if not folder.is_dir():
        raise ConfigError(f"--from-dir: not a folder: {from_dir}")
    mirror = MirrorArchive(folder, base_url)
    options: dict[str, Any] = {"from_dir": str(folder.absolute()), "base_url": base_url}
    return ArchiveSource(mirror, options), start or mirror.start_url()


def reopen_source(options: str) -> tuple[Source, str]:
    """Open the archive a migration was read from again, from its ``runs.source``.

    A sync of a database made ``--from-wayback`` asks the CDX again (newer captures); one
    made ``--from-warc``/``--from-dir`` reads the same files or folder again (a mirror
    refreshed in place).

    Raises:
        ConfigError: the recorded options are unreadable, or the archive is gone.
    """
    try:
        spec = json.loads(options)
        if not isinstance(spec, dict):
            raise TypeError(type(spec).__name__)
        kwargs = {str(k): v for k, v in spec.items()}
        if "from_warc" in kwargs:
            kwargs["from_warc"] = tuple(kwargs["from_warc"])
        source, start = open_source(**kwargs)
    except ConfigError as exc:
        raise ConfigError(
            f"this migration was read from an archive and sync reads it again: {exc}"
            " (give the archive options to sync from another)"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"the archive options stored in runs.source are unreadable: {exc}"
        ) from exc
    if source is None or start is None:
        raise ConfigError("the archive options stored in runs.source name no archive")
    return source, start


def _existing_file(name: str) -> Path:
    path = Path(name)
    if not path.is_file():
        raise ConfigError(f"--from-warc: no such file: {name}")
    return path
