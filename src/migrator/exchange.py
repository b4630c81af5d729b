"""One HTTP exchange on the wire: the client the fetcher opens and one GET, fully read.

:func:`open_client` makes the run's ``httpx.AsyncClient`` (no automatic redirects, no
proxy from the environment, only the encodings ``inflate`` understands) and
:func:`send` sends one GET and reads its answer: a redirect's Location, an empty body
for 304 and retryable statuses, a refused content type, or the body read under its cap.
It neither retries, paces nor follows redirects: those belong to ``fetch.Fetcher``.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import structlog

from migrator.config import Config, FetchConfig
from migrator.errors import FetchError
from migrator.inflate import read_body
from migrator.pace import RETRY_STATUSES, TraceHook
from migrator.resolve import transport_for
from migrator.version import __version__

__all__ = ["REDIRECT_STATUSES", "Answer", "open_client", "send", "user_agent"]

log = structlog.get_logger()

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_LOCATION_KEY = "migrator_location"


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """One HTTP exchange, fully read (a RawPage is built from the last one)."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    location: str | None = None


def user_agent(config: Config) -> str:
    """The User-Agent header: ``fetch.user_agent`` or ``migrator/<version> (+<contact>)``."""
    if config.fetch.user_agent:
        return config.fetch.user_agent
    return f"migrator/{__version__} (+{config.site.contact})"


def open_client(
    config: FetchConfig, user_agent: str, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    """The run's HTTP client (close it with ``aclose``).

    Args:
        config: the run's ``fetch`` section (timeout, concurrency, ``resolve``).
        user_agent: the User-Agent header.
        transport: an httpx transport to use instead of the network (tests).
    """
    limits = httpx.Limits(max_keepalive_connections=max(10, config.concurrency * 4))
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=httpx.Timeout(config.timeout),
        headers={
            "User-Agent": user_agent,
            # Only what inflate.py understands, so the size cap sees real bytes.
            "Accept-Encoding": "gzip, deflate",
        },
        limits=limits,
        transport=transport or transport_for(config.resolve, limits),
        trust_env=False,
        event_hooks={"response": [_remember_location]},
    )


async def send(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: dict[str, str],
    accept: tuple[str, ...],
    requested: str,
    cap: int,
    truncate: bool,
    trace: TraceHook | None,
) -> Answer:
    """Send one GET for ``url`` and read its answer.

    Args:
        client: the client from :func:`open_client`.
        url: the URL of this hop.
        headers: extra request headers (conditional request validators).
        accept: media types accepted for a 2xx body (empty or ``*/*``: anything).
        requested: the URL first asked for, named in errors.
        cap: the most body bytes accepted, decompressed.
        truncate: keep the first ``cap`` bytes of a longer body instead of failing.
        trace: httpcore's trace hook (the shared pace's last check), or ``None``.

    Raises:
        FetchError: an unparseable or non-http(s) redirect target, an unwanted content
            type, a body over the cap or badly encoded.
        httpx.HTTPError: transport failures, for the caller's retry policy.
    """
    extensions = {"trace": trace} if trace is not None else None
    request = client.build_request("GET", url, headers=headers, extensions=extensions)
    try:
        response = await client.send(request, stream=True)
    except httpx.InvalidURL as exc:
        # httpx builds the next request of every redirect, even unfollowed ones, and
        # a Location it cannot parse (``data:…``) fails the whole exchange.
        location = request.extensions.get(_LOCATION_KEY)
        if location is None:
            raise
        scheme = location.split(":", 1)[0].strip().lower() if ":" in location else ""
        reason = "redirect_unsupported_scheme" if scheme.isalpha() else "bad_redirect"
        log.warning("redirect_refused", url=url, scheme=scheme, why="unparseable")
        raise FetchError(requested, reason) from exc
    try:
        status = response.status_code
        resp_headers = tuple((k.lower(), v) for k, v in response.headers.multi_items())
        location = response.headers.get("location")
        if status in REDIRECT_STATUSES and location:
            return Answer(url=url, status=status, headers=resp_headers, body=b"", location=location)
        if status == 304 or status in RETRY_STATUSES:
            return Answer(url=url, status=status, headers=resp_headers, body=b"")
        if 200 <= status < 300 and not _accepts(accept, response.headers.get("content-type")):
            raise FetchError(requested, "unwanted_content_type", status=status)
        body = await read_body(response, requested, cap, truncate=truncate)
        return Answer(url=url, status=status, headers=resp_headers, body=body)
    finally:
        await response.aclose()


async def _remember_location(response: httpx.Response) -> None:
    """Keep a redirect's Location on its request, for when httpx cannot parse it."""
    location = response.headers.get("location")
    if location is not None:
        response.request.extensions[_LOCATION_KEY] = location


def _accepts(accept: tuple[str, ...], content_type: str | None) -> bool:
    """True when ``content_type`` is one of ``accept`` (a missing type is let through)."""
    if not accept or "*/*" in accept or not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return any(media == a.lower() for a in accept)
