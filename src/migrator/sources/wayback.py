"""Read a site's captures from a Wayback Machine: the Internet Archive's, or any replay
server with the same two interfaces (pywb).

The CDX API lists the captures under the site's URL (prefix match, ``--from``/``--to``);
the index keeps the best capture per URL (a 200 before a redirect, the latest among
equals; see :meth:`Archive.add`). Pages are read raw with the ``id_`` URL form
(``SERVER/TIMESTAMPid_/URL``: the archived bytes, no toolbar, original links), and the
original headers are taken back from their ``X-Archive-Orig-*`` copies. A redirect
capture, which a replay server answers with a redirect to the replay of its target, keeps
the target's original URL, so it becomes an alias. The Archive's rate limits: the CDX
query is retried on 429/5xx with ``Retry-After``; a page read that meets one hands the
429/503 to the fetcher, whose politeness and retries (not disabled for this source) wait
and try again. This module never parses HTML and never writes to the database.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import httpx
import structlog

from migrator.config import Config
from migrator.errors import ConfigError, RunFailed
from migrator.fetch import parse_retry_after
from migrator.sources.replay import Answer, Archive, ArchiveReadError, ArchiveSource, Capture
from migrator.urls import canonical_url, is_http_url

__all__ = ["DEFAULT_SERVER", "WaybackArchive", "WaybackSource", "wayback_source"]

log = structlog.get_logger()

DEFAULT_SERVER = "https://web.archive.org/web/"
CDX_PAGE_SIZE = 5000  # CDX rows asked for per request (the Archive's paging)
# The CDX query retries on its own, not through fetch.Fetcher's policy (STYLE.md keeps
# all retrying there): it is one synchronous request to the archive, not the site, made
# before the crawl starts, outside the site's scope and robots.txt, and its answer (every
# capture of the site) may pass the page size cap.
_CDX_ATTEMPTS = 5
_CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
_CDX_TIMEOUT = 60.0
_MAX_WAIT = 120.0  # seconds: the longest Retry-After honoured for the CDX query
_RETRY = frozenset({429, 500, 502, 503, 504})
_REPLAY = re.compile(r"/(\d{4,14})(?:[a-z]{2}_)?/+(https?:/+.*)$")
_SAME_CAPTURE_HOPS = 3  # a replay server's redirects to a nearby timestamp of one URL
# Headers of the answer itself, kept as they are; the rest comes from X-Archive-Orig-*.
_OWN = ("content-type",)
_ORIG = "x-archive-orig-"
_SKIP_ORIG = frozenset({"content-length", "transfer-encoding", "content-encoding", "connection"})


def cdx_endpoint(server: str) -> str:
    """The CDX API beside a replay prefix: the Internet Archive's ``/web/`` has its CDX
    at ``/cdx/search/cdx``; a pywb collection ``/COLL/`` at ``/COLL/cdx``."""
    parts = urlsplit(server)
    if parts.path.rstrip("/") == "/web":
        return f"{parts.scheme}://{parts.netloc}/cdx/search/cdx"
    return server.rstrip("/") + "/cdx"


def wayback_date(value: str | None, *, end: bool = False) -> str | None:
    """A ``--from``/``--to`` date as CDX digits (``2015``, ``2015-03-01``, ``20150301…``).

    Raises:
        ConfigError: the value is not a date.
    """
    if value is None:
        return None
    digits = re.sub(r"[-:T ]", "", value.strip())
    if not digits.isdigit() or len(digits) not in {4, 6, 8, 10, 12, 14}:
        raise ConfigError(f"not a date: {value!r} (use YYYY, YYYY-MM-DD or YYYYMMDDhhmmss)")
    return digits.ljust(14, "9" if end else "0")


class WaybackArchive(Archive):
    """The captures a Wayback Machine holds of one site."""

    name = "wayback"

    def __init__(
        self,
        site: str,
        *,
        server: str = DEFAULT_SERVER,
        date_from: str | None = None,
        date_to: str | None = None,
        user_agent: str = "migrator",
        page_size: int = CDX_PAGE_SIZE,
    ) -> None:
        """List the site's captures with the CDX API.

        Raises:
            ConfigError: the site or a date is not valid, the server cannot be reached.
            RunFailed: the CDX API kept failing.
        """
        super().__init__()
        if not is_http_url(site) or not is_http_url(server):
            raise ConfigError(f"--from-wayback: not an http(s) URL: {site}")
        self.site = canonical_url(site)
        self.server = server.rstrip("/") + "/"
        self.cdx = cdx_endpoint(self.server)
        self.date_from = wayback_date(date_from)
        self.date_to = wayback_date(date_to, end=True)
        self.skipped = 0
        self.page_size = page_size
        self.pages = 0  # CDX answers read
        self.limited = 0  # rows of a last page the server cut without a resume key
        self._headers = {"User-Agent": user_agent}
        self._client: httpx.AsyncClient | None = None
        for rows in self._query():
            for row in rows:
                self._add_row(row)
        if not len(self):
            raise ConfigError(f"--from-wayback: no captures of {self.site} in {self.cdx}")
        log.info(
            "wayback_indexed",
            site=self.site,
            captures=len(self),
            skipped=self.skipped,
            cdx_pages=self.pages,
        )

    # ------------------------------------------------------------------ the CDX

    def _query(self) -> Iterator[list[dict[str, str]]]:
        """The CDX answer page by page (bounded memory), following the Archive's
        ``resumeKey``: ``limit`` rows per request and ``showResumeKey=true``; the answer
        ends with an empty row and the key to ask for the next page.

        A server that does not page (pywb ignores ``showResumeKey``) but honours
        ``limit`` returns a full page without a key: the listing may be cut there, and
        that is counted in :attr:`limited` and logged, never silently taken as all.

        Raises:
            RunFailed: the CDX API kept failing, or its paging repeats a key.
        """
        params = {"url": self.site, "matchType": "prefix", "output": "json"}
        if self.date_from:
            params["from"] = self.date_from
        if self.date_to:
            params["to"] = self.date_to
        params["limit"] = str(self.page_size)
        params["showResumeKey"] = "true"
        seen_keys: set[str] = set()
        with httpx.Client(timeout=_CDX_TIMEOUT, trust_env=False, headers=self._headers) as cx:
            while True:
                rows, key = self._rows(self._get(cx, f"{self.cdx}?{urlencode(params)}"))
                self.pages += 1
                yield rows
                if key is None:
                    if len(rows) >= self.page_size:
                        self.limited = len(rows)
                        log.warning(
                            "wayback_cdx_limited",
                            cdx=self.cdx,
                            rows=len(rows),
                            reason="a full page and no resume key: the server does not page",
                        )
                    return
                if key in seen_keys:
                    raise RunFailed(f"the Wayback CDX paging repeats itself at {self.cdx}")
                seen_keys.add(key)
                params["resumeKey"] = key

    def _get(self, cx: httpx.Client, url: str) -> str:
        for attempt in range(1, _CDX_ATTEMPTS + 1):
            try:
                response = cx.get(url)
            except httpx.TransportError as exc:
                # Refused or unresolvable: a wrong address, not a busy server.
                if attempt == _CDX_ATTEMPTS or isinstance(exc, httpx.ConnectError):
                    raise ConfigError(f"--from-wayback: cannot reach {self.cdx}: {exc}") from exc
                wait = float(2 ** (attempt - 1))
            else:
                if response.status_code == 200:
                    return response.text
                if response.status_code not in _RETRY or attempt == _CDX_ATTEMPTS:
                    raise RunFailed(
                        f"the Wayback CDX query failed: HTTP {response.status_code} from {self.cdx}"
                    )
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                wait = retry_after if retry_after is not None else float(2 ** (attempt - 1))
            wait = min(wait, _MAX_WAIT)
            log.warning("wayback_cdx_retry", attempt=attempt, wait_s=wait)
            time.sleep(wait)
        raise RunFailed("the Wayback CDX query failed")  # pragma: no cover - loop returns

    def _rows(self, text: str) -> tuple[list[dict[str, str]], str | None]:
        """CDX rows as dicts (pywb's JSON lines, the Archive's JSON table, or plain
        text) and the resume key that ends a page of the Archive's paging, if any."""
        text = text.strip()
        if not text:
            return [], None
        if text.startswith("["):  # the Internet Archive: a header row, then rows
            try:
                table = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RunFailed(f"the Wayback CDX answer is not JSON: {exc}") from exc
            if not table:
                return [], None
            key = None
            if len(table) >= 2 and table[-2] == [] and len(table[-1]) == 1:
                key = str(table[-1][0])  # `[]` then `["<resume key>"]`
                table = table[:-2]
            header = [str(h) for h in table[0]]
            body = table[1:]
            if "original" not in header:  # a page without the header row
                header, body = list(_CDX_FIELDS), table
            rows = [dict(zip(header, map(str, row), strict=False)) for row in body if row]
            return rows, key or None
        rows = []
        lines = text.splitlines()
        key = None
        if len(lines) >= 2 and not lines[-2].strip() and len(lines[-1].split()) == 1:
            key = lines[-1].strip()  # the text form: a blank line, then the key
            lines = lines[:-2]
        for line in lines:
            if not line.strip():
                continue
            if line.startswith("{"):
                try:
                    rows.append({k: str(v) for k, v in json.loads(line).items()})
                except (json.JSONDecodeError, AttributeError):
                    self._skip_row(line, "not a JSON object")
                continue
            fields = line.split()  # the classic text form
            if len(fields) >= 5:
                rows.append(
                    {"timestamp": fields[1], "original": fields[2], "statuscode": fields[4]}
                )
            else:
                self._skip_row(line, "too few fields")
        return rows, key

    def _add_row(self, row: dict[str, str]) -> None:
        original = row.get("original") or row.get("url") or ""
        timestamp = row.get("timestamp", "")
        status = row.get("statuscode") or row.get("status") or ""
        if not is_http_url(original):
            self._skip_row(str(row), "no original URL")
            return
        if not (timestamp.isdigit() and 4 <= len(timestamp) <= 14):
            self._skip_row(str(row), "bad timestamp")
            return
        if not status.isdigit():  # "-": a revisit or warcinfo row without a status
            self._skip_row(str(row), f"no status ({status or 'empty'})")
            return
        stamp = timestamp.ljust(14, "0")
        if (self.date_from and stamp < self.date_from) or (self.date_to and stamp > self.date_to):
            return  # a server that ignores from/to
        mime = row.get("mimetype") or row.get("mime") or ""
        self.add(
            Capture(
                url=canonical_url(original),
                status=int(status),
                date=datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC),
                origin=f"wayback:{stamp}",
                content_type=mime.split(";", 1)[0].strip().lower() or None,
                ref=(original, int(stamp)),
            )
        )

    def _skip_row(self, row: str, reason: str) -> None:
        self.skipped += 1
        log.warning("wayback_cdx_row_skipped", row=row[:200], reason=reason)

    # ---------------------------------------------------------------- replaying

    def replay_url(self, capture: Capture) -> str:
        """The raw (``id_``) replay URL of ``capture``."""
        original, stamp = capture.ref
        return f"{self.server}{stamp}id_/{original}"

    async def read(self, capture: Capture) -> Answer:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=_CDX_TIMEOUT, trust_env=False, headers=self._headers
            )
        url = self.replay_url(capture)
        for _hop in range(_SAME_CAPTURE_HOPS + 1):
            try:
                response = await self._client.get(url)
            except httpx.TransportError as exc:
                raise ArchiveReadError(f"{url}: {exc!r}") from exc
            status = response.status_code
            headers = _original_headers(response.headers.multi_items())
            if status in _RETRY:  # the Archive's rate limit: the fetcher waits and retries
                return Answer(headers=headers, body=b"", status=status)
            location = response.headers.get("location")
            if 300 <= status < 400 and location:
                target = _replayed(location)
                if target is None:
                    return Answer(headers=headers, body=b"", status=status, location=location)
                if canonical_url(target) == capture.url:
                    url = location  # the same URL at a nearby timestamp
                    continue
                return Answer(
                    headers=headers, body=b"", status=capture.status or status, location=target
                )
            return Answer(headers=headers, body=response.content, status=status)
        raise ArchiveReadError(f"{url}: too many redirects between captures of one URL")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _original_headers(items: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    kept = []
    for name, value in items:
        lower = name.lower()
        if lower.startswith(_ORIG):
            original = lower[len(_ORIG) :]
            if original not in _SKIP_ORIG:
                kept.append((original, value))
        elif lower in _OWN or lower == "retry-after":
            kept.append((lower, value))
    return tuple(kept)


def _replayed(location: str) -> str | None:
    """The original URL inside a replay URL (``…/20150101000000id_/http://x/``)."""
    match = _REPLAY.search(urlsplit(location).path + _query(location))
    if match is None:
        return None
    target = re.sub(r"^(https?):/+", r"\1://", match.group(2))
    return target if is_http_url(target) else None


def _query(url: str) -> str:
    query = urlsplit(url).query
    return f"?{query}" if query else ""


class WaybackSource(ArchiveSource):
    """An :class:`ArchiveSource` over the network: politeness and retries stay on."""

    def prepare(self, config: Config) -> Config:
        return config

    def limits(self) -> dict[str, int]:
        """A CDX listing the server cut (a full page, no resume key): ``wayback_cdx``."""
        assert isinstance(self.archive, WaybackArchive)
        return {"wayback_cdx": self.archive.limited} if self.archive.limited else {}


def wayback_source(
    site: str,
    *,
    date_from: str | None,
    date_to: str | None,
    start: str | None,
    server: str | None = None,
) -> tuple[WaybackSource, str]:
    """The source for ``--from-wayback SITE``, and the start URL (the site's root).

    Raises:
        ConfigError: a bad URL or date, an unreachable server, no captures.
        RunFailed: the CDX API kept failing.
    """
    archive = WaybackArchive(
        site, server=server or DEFAULT_SERVER, date_from=date_from, date_to=date_to
    )
    options = {
        "from_wayback": site,
        "date_from": date_from,
        "date_to": date_to,
        "wayback_server": server,
    }
    return WaybackSource(archive, options), start or archive.site
