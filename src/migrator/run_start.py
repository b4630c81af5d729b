"""The start of a run: its start URLs, the archive a sync reads again, and a fast check
that the start host answers at all."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from migrator.config import Config
from migrator.errors import (
    ConfigError,
)
from migrator.fetch import resolve_map
from migrator.load import Store
from migrator.run_report import Mode
from migrator.sources import Source, reopen_source
from migrator.urls import canonical_url, is_http_url

__all__ = ["archive_for_sync", "check_reachable", "start_urls"]


async def check_reachable(url: str, *, timeout: float, resolve: tuple[str, ...] = ()) -> None:
    """Fail fast, as a usage error, when the start host cannot be reached at all.

    A TCP connect is enough to tell a typo'd host or a server that is down from a
    site with failing pages, without downloading anything twice.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    mapped = resolve_map(resolve).get(host.lower())
    if mapped is not None:
        host, port = mapped[0], mapped[1] or port
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ConfigError(f"cannot reach {host}:{port}: {reason}") from exc
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def archive_for_sync(
    store: Store, mode: Mode, source: Source | None, start: str | None
) -> tuple[Source | None, str | None]:
    """A sync reads the archive the migration was read from (``runs.source``) unless
    archive options name another; either way only captures newer than the stored
    answers are read (see ``ReplayTransport``).

    Raises:
        ConfigError: the stored archive is gone, or the archive given is of another site.
    """
    if mode != "sync":
        return source, start
    if source is None:
        stored = store.last_source()
        if stored is None:
            return None, start  # a live migration: the live site
        source, start = reopen_source(stored)
    if source.live:
        return source, start
    migrated = store.last_start_url()
    if start and migrated and _site_host(start) != _site_host(migrated):
        raise ConfigError(
            f"sync: the archive is of {urlsplit(start).netloc}, this migration of"
            f" {urlsplit(migrated).netloc}"
        )
    source.sync_against(store.capture_dates())
    return source, start


def _site_host(url: str) -> str:
    return (urlsplit(url).netloc or "").lower().removeprefix("www.")


def start_urls(config: Config, store: Store, start: str | None) -> list[str]:
    candidate = start or config.site.start or store.last_start_url()
    if not candidate:
        raise ConfigError(
            "no start URL: give START on the command line or site.start in the config"
        )
    if not is_http_url(candidate):
        raise ConfigError(f"not an http(s) URL: {candidate}")
    return [canonical_url(candidate)]
