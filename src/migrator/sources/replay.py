"""Replay an archive's answers through the real fetcher.

An :class:`Archive` is an index of captures (one per canonical URL: the best answer the
archive holds) and a way to read one capture's headers and body. The
:class:`ReplayTransport` answers the fetcher's requests from it, so redirects, robots.txt,
content types and size caps behave exactly as in a live crawl and the records come out
the same; :class:`ArchiveFetcher` then stamps each answer with its capture time and where
it came from. A URL the archive does not hold answers 404 (``not in the archive``). This
module never parses archive formats (see ``warc.py``, ``mirror.py``, ``wayback.py``).
"""

from __future__ import annotations

import abc
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from migrator.config import Config
from migrator.errors import ConfigError
from migrator.fetch import Fetcher
from migrator.models import RawPage
from migrator.scope import Scope
from migrator.urls import canonical_url, is_http_url

__all__ = ["Archive", "ArchiveFetcher", "ArchiveSource", "Capture", "ReplayTransport"]

log = structlog.get_logger()

# Headers that describe the archived transfer, not the answer: the body handed to the
# fetcher is already de-chunked and decoded, and httpx sets its own Content-Length.
_TRANSFER_HEADERS = frozenset(
    {"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"}
)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_ARCHIVE_CONCURRENCY = 16
_GONE = frozenset({404, 410})


@dataclass(frozen=True, slots=True, kw_only=True)
class Capture:
    """One archived answer in an archive's index.

    Attributes:
        url: the canonical URL it answers for.
        status: its HTTP status (a mirror's files are 200, its redirect stubs 301).
        date: when it was captured (aware, UTC).
        origin: where it came from (``RawPage.source``): ``warc:FILE#OFFSET``…
        content_type: its media type without parameters, if known.
        location: a redirect's target, as the archive gives it.
        ref: where the archive reads it (a file and an offset, a path, a timestamp).
        payload_ref: a WARC revisit's original record, whose body it shares.
    """

    url: str
    status: int
    date: datetime
    origin: str
    content_type: str | None = None
    location: str | None = None
    ref: tuple[str, int] = ("", 0)
    payload_ref: tuple[str, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """A capture as read back: its headers (lower-cased names) and its decoded body;
    ``status`` and ``location`` when the reading says more than the index (a replay
    server's rate limit, a redirect's target)."""

    headers: tuple[tuple[str, str], ...]
    body: bytes
    status: int | None = None
    location: str | None = None


class ArchiveReadError(Exception):
    """A capture the index holds could not be read back (the page fails, not the run)."""


class Archive(abc.ABC):
    """An index of captures, best one per canonical URL, and a reader for them."""

    name = "archive"

    def __init__(self) -> None:
        self._index: dict[str, Capture] = {}
        self._gone: dict[str, Capture] = {}  # the latest 404/410 capture per URL

    def add(self, capture: Capture) -> None:
        """Index ``capture`` unless a better one of its URL is known: a 2xx beats a
        redirect, which beats anything else; among equals the latest capture wins."""
        known = self._index.get(capture.url)
        if known is None or _rank(capture) >= _rank(known):
            self._index[capture.url] = capture
        if capture.status in _GONE:
            gone = self._gone.get(capture.url)
            if gone is None or capture.date > gone.date:
                self._gone[capture.url] = capture

    def gone(self, url: str) -> Capture | None:
        """A 404/410 capture of ``url`` later than its indexed capture: the page was
        removed after the capture a run keeps (a sync marks it removed)."""
        key = canonical_url(url)
        gone, best = self._gone.get(key), self._index.get(key)
        if gone is None or best is None or gone.date <= best.date:
            return None
        return gone

    def lookup(self, url: str) -> Capture | None:
        """The capture answering for ``url`` (any spelling ``canonical_url`` folds)."""
        return self._index.get(canonical_url(url))

    def captures(self) -> list[Capture]:
        """Every indexed capture."""
        return list(self._index.values())

    def __len__(self) -> int:
        return len(self._index)

    def start_url(self) -> str:
        """The root of the host most of the archive's pages are on.

        Raises:
            ConfigError: the archive holds no http(s) answer at all.
        """
        hosts = Counter(
            f"{urlsplit(c.url).scheme}://{urlsplit(c.url).netloc}/" for c in self._index.values()
        )
        if not hosts:
            raise ConfigError(f"{self.name}: no http(s) answers found in the archive")
        return hosts.most_common(1)[0][0]

    @abc.abstractmethod
    async def read(self, capture: Capture) -> Answer:
        """Read one capture's headers and body.

        Raises:
            ArchiveReadError: the capture cannot be read (corrupt, gone).
        """

    async def aclose(self) -> None:
        """Release what reading needed (files, clients)."""
        return


def _rank(capture: Capture) -> tuple[int, datetime]:
    status = capture.status
    kind = 2 if 200 <= status < 300 else 1 if 300 <= status < 400 else 0
    return kind, capture.date


class ReplayTransport(httpx.AsyncBaseTransport):
    """An httpx transport answering every request from an :class:`Archive`.

    For a sync (``known``: the stored answer's capture time by canonical URL), a URL
    whose stored answer is as new as the archive's capture, or that the archive does
    not hold, answers ``304`` without reading anything: an archive's silence is not a
    removal, and an unchanged capture costs no page read (no replay request for the
    Wayback). Only a newer capture, or a URL never stored, is read. A URL the archive
    captured as 404/410 after both its stored answer and its best capture answers that
    status: the page was removed, and the sync marks it so (with its mass-removal guard).
    """

    def __init__(self, archive: Archive, known: Mapping[str, datetime] | None = None) -> None:
        self.archive = archive
        self.known = known

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        capture = self.archive.lookup(str(request.url))
        if self.known is not None:
            stored = self.known.get(canonical_url(str(request.url)))
            gone = self.archive.gone(str(request.url))
            if (
                stored is not None
                and gone is not None
                and gone.date.replace(microsecond=0) > stored
            ):
                # Captured gone after the stored answer: removed, as a live sync sees it.
                return httpx.Response(gone.status, stream=_Body(b""), request=request)
            if stored is not None and (
                capture is None or capture.date.replace(microsecond=0) <= stored
            ):
                return httpx.Response(304, stream=_Body(b""), request=request)
        if capture is None:
            return httpx.Response(
                404,
                headers={"content-type": "text/plain; charset=utf-8"},
                stream=_Body(b"not in the archive"),
                request=request,
            )
        try:
            answer = await self.archive.read(capture)
        except ArchiveReadError as exc:
            # A transport error: the fetcher turns it into this page's FetchError.
            raise httpx.ReadError(f"archive record unreadable: {exc}", request=request) from exc
        headers = [(k, v) for k, v in answer.headers if k not in _TRANSFER_HEADERS]
        location = answer.location or capture.location
        if location is not None:
            headers = [(k, v) for k, v in headers if k != "location"]
            headers.append(("location", location))
        headers.append(("content-length", str(len(answer.body))))
        # A stream, not content=: httpx reads content= at once, and the fetcher streams.
        return httpx.Response(
            answer.status or capture.status,
            headers=headers,
            stream=_Body(answer.body),
            request=request,
        )

    async def aclose(self) -> None:
        await self.archive.aclose()


class _Body(httpx.AsyncByteStream):
    def __init__(self, body: bytes) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._body


class ArchiveFetcher(Fetcher):
    """The live fetcher's logic over an archive: each answer keeps its capture time
    (``fetched_at``) and its provenance (``source``)."""

    def __init__(
        self,
        config: Config,
        scope: Scope,
        archive: Archive,
        known: Mapping[str, datetime] | None = None,
    ) -> None:
        super().__init__(config, scope, transport=ReplayTransport(archive, known))
        self.archive = archive

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: tuple[str, ...] | None = None,
    ) -> RawPage:
        raw = await super().fetch(url, etag=etag, last_modified=last_modified, accept=accept)
        capture = self.archive.lookup(raw.url)
        if capture is None:  # the archive's own 404
            return raw
        return dataclasses.replace(raw, fetched_at=capture.date, source=capture.origin)


class ArchiveSource:
    """A :class:`~migrator.sources.Source` reading an :class:`Archive`."""

    live = False

    def __init__(self, archive: Archive, options: Mapping[str, Any] | None = None) -> None:
        self.archive = archive
        self.options = dict(options or {})
        self.known: Mapping[str, datetime] | None = None

    def prepare(self, config: Config) -> Config:
        """No politeness and no retries: the archive is a file, its answers are final."""
        return config.with_fetch(
            delay=0.0,
            min_delay=0.0,
            adaptive=False,
            max_attempts=1,
            concurrency=max(config.fetch.concurrency, _ARCHIVE_CONCURRENCY),
        )

    def open(self, config: Config, scope: Scope) -> Fetcher:
        return ArchiveFetcher(config, scope, self.archive, self.known)

    def describe(self) -> dict[str, Any] | None:
        """The command-line options that opened this archive (absolute paths)."""
        return {k: v for k, v in self.options.items() if v is not None} or None

    def sync_against(self, known: Mapping[str, datetime]) -> None:
        """Answer 304 for URLs whose stored capture is as new as the archive's."""
        self.known = known

    def limits(self) -> dict[str, int]:
        """Nothing of a file archive is left unread."""
        return {}

    def seeds(self) -> list[str]:
        """The archive's pages and redirects: a page no link reaches is still migrated,
        and every redirect the archive shows becomes an alias."""
        found = []
        for capture in self.archive.captures():
            if not is_http_url(capture.url):
                continue
            page = 200 <= capture.status < 300 and capture.content_type in _HTML_TYPES
            if page or 300 <= capture.status < 400:
                found.append(capture.url)
        return found
