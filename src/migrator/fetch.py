"""The fetch stage: turn a URL into a :class:`~migrator.models.RawPage`, politely and safely.

:class:`Fetcher` owns the one ``httpx.AsyncClient`` of a run and everything about
manners and safety on the wire: robots.txt (cached per origin), per-host concurrency
and minimum delay between request starts, manual redirects checked hop by hop against
the :class:`~migrator.scope.Scope`, the single retry policy (tenacity: transport errors
and 429/5xx, jittered exponential backoff, ``Retry-After``), a total deadline per
exchange, and a cap on the *decompressed* body size enforced while streaming. It
returns bytes exactly as served (decompressed, never decoded to text) and never
parses HTML: decoding and extraction belong to later stages.
"""

from __future__ import annotations

import asyncio
import email.utils
import multiprocessing
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Self
from urllib.parse import urljoin, urlsplit

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from migrator.config import Config
from migrator.errors import FetchError, RobotsDisallowed
from migrator.models import RawPage
from migrator.robots import MAX_ROBOTS_BYTES, Robots
from migrator.scope import Scope
from migrator.urls import canonical_url, is_http_url

__all__ = [
    "FetchStats",
    "Fetcher",
    "ResolvingTransport",
    "SharedPace",
    "parse_retry_after",
    "resolve_map",
    "user_agent",
]

log = structlog.get_logger()

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SLOWDOWN_STATUSES = frozenset({429, 503})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Bodies arrive in chunks of this size at most once decompressed, so a gzip bomb is
# noticed after one chunk past the limit rather than after inflating a whole read.
_INFLATE_CHUNK = 256 * 1024
_LOCATION_KEY = "migrator_location"
_ROBOTS_REDIRECTS = 5  # RFC 9309 §2.3.1.2: follow at least five


def user_agent(config: Config) -> str:
    """The User-Agent header: ``fetch.user_agent`` or ``migrator/<version> (+<contact>)``."""
    if config.fetch.user_agent:
        return config.fetch.user_agent
    try:
        ver = version("migrator")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        ver = "0"
    return f"migrator/{ver} (+{config.site.contact})"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    Returns:
        A non-negative number of seconds, or ``None`` when absent or unparseable.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, delta)


@dataclass(slots=True)
class FetchStats:
    """Counters of one run's traffic, for the run summary.

    Attributes:
        requests: HTTP requests sent (robots.txt, redirects and retries included).
        retries: requests that were repeats of a failed attempt.
        bytes: decompressed body bytes received.
        not_modified: 304 answers to conditional requests.
        robots_fetched: robots.txt files requested.
        robots_disallowed: URLs refused because of robots.txt.
        failures: ``fetch()`` calls that raised ``FetchError``.
    """

    requests: int = 0
    retries: int = 0
    bytes: int = 0
    not_modified: int = 0
    robots_fetched: int = 0
    robots_disallowed: int = 0
    failures: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain mapping."""
        return {
            "requests": self.requests,
            "retries": self.retries,
            "bytes": self.bytes,
            "not_modified": self.not_modified,
            "robots_fetched": self.robots_fetched,
            "robots_disallowed": self.robots_disallowed,
            "failures": self.failures,
        }


@dataclass(slots=True)
class _Host:
    """Politeness state of one host: a concurrency slot pool and the start schedule."""

    slots: asyncio.Semaphore
    delay: float  # current minimum gap between request starts
    base_delay: float  # the configured (or Crawl-delay) gap the host returns to
    next_start: float = 0.0  # loop time before which no request may start
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    origin: str = ""


class SharedPace:
    """The request schedule of every host, shared by all the fetching processes of a run.

    With the sync's helper fetch process, each process applying the delay (or robots.txt
    ``Crawl-delay``) on its own let a ``Crawl-delay: 0.4`` site see twice the allowed
    rate. Both processes book request starts here instead: per host, the time before
    which no request may start and the current gap (the longest any process asks for:
    Crawl-delay, a 429 slow-down), under one lock. Times are ``time.monotonic()``, one
    clock for every process of the machine. Hosts map to a fixed table of slots by a
    stable hash; two hosts sharing a slot share a budget, which is only more polite.
    Create it before starting the helper process and pass it to both :class:`Fetcher`.
    """

    SLOTS = 64

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("forkserver")
        self._lock = ctx.Lock()
        self._next = ctx.RawArray("d", self.SLOTS)  # the booking cursor
        self._gap = ctx.RawArray("d", self.SLOTS)
        self._sent = ctx.RawArray("d", self.SLOTS)  # when the last request went out

    def _slot(self, origin: str) -> int:
        return zlib.crc32(origin.encode()) % self.SLOTS

    def book(self, origin: str, gap: float) -> tuple[float, float]:
        """Book the next request start for ``origin``; return it and the gap applied."""
        i = self._slot(origin)
        with self._lock:
            now = time.monotonic()
            start = max(now, float(self._next[i]))
            gap = max(gap, float(self._gap[i]))
            self._next[i] = start + gap
        return start, gap

    def admit(self, origin: str, gap: float) -> float:
        """At the moment a request's headers go out: record it and return 0, or return
        how long to wait first.

        Booking alone is not enough: a busy process (its first request in a fresh
        helper took 0.24 s between its booked start and the wire) can send late, just
        before another process's next slot. This check, run by httpcore's trace hook
        right before the bytes are written, keeps the gap between what the server sees.
        """
        i = self._slot(origin)
        with self._lock:
            now = time.monotonic()
            wait = float(self._sent[i]) + max(gap, float(self._gap[i])) - now
            if wait > 0:
                return wait
            self._sent[i] = now
        return 0.0

    def set_gap(self, origin: str, gap: float) -> None:
        """Publish this process's current gap for ``origin`` (Crawl-delay, slow-down)."""
        with self._lock:
            self._gap[self._slot(origin)] = gap

    def hold(self, origin: str, until: float) -> None:
        """No request to ``origin`` starts before ``until`` (``Retry-After``)."""
        i = self._slot(origin)
        with self._lock:
            self._next[i] = max(self._next[i], until)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Answer:
    """One HTTP exchange, fully read (internal; a RawPage is built from the last one)."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    location: str | None = None


class _Retryable(Exception):  # noqa: N818 - internal signal to tenacity, never escapes
    """A transient failure of one attempt; carries the error to raise if retries run out."""

    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        super().__init__(error.reason)
        self.error = error
        self.retry_after = retry_after


class Fetcher:
    """Fetch pages politely: robots.txt, per-host limits, redirects, retries, size caps.

    Use as ``async with Fetcher(config, scope) as fetcher: raw = await fetcher.fetch(url)``.

    Attributes:
        config: the run's configuration (``fetch`` section).
        scope: the migration's scope; redirect targets must be on its hosts.
        stats: traffic counters for the run summary.
    """

    def __init__(
        self,
        config: Config,
        scope: Scope,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        pace: SharedPace | None = None,
    ) -> None:
        """Prepare a fetcher; the HTTP client opens in ``__aenter__``.

        Args:
            config: the run's configuration.
            scope: the run's scope.
            transport: an httpx transport to use instead of the network (tests).
            pace: the request schedule shared with other fetching processes, if any.
        """
        self._pace = pace
        self.config = config
        self.scope = scope
        self.stats = FetchStats()
        self.user_agent = user_agent(config)
        # RFC 9309 §2.2.1: robots groups match the product token, not the whole header.
        self.robots_agent = self.user_agent.split("/", 1)[0].split()[0] or "migrator"
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._hosts: dict[str, _Host] = {}
        self._robots: dict[str, Robots] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Self:
        fc = self.config.fetch
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(fc.timeout),
            headers={
                "User-Agent": self.user_agent,
                # Only what _inflate understands, so the size cap sees real bytes.
                "Accept-Encoding": "gzip, deflate",
            },
            limits=httpx.Limits(max_keepalive_connections=max(10, fc.concurrency * 4)),
            transport=self._transport or _transport_for(fc.resolve),
            trust_env=False,
            event_hooks={"response": [_remember_location]},
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client (idempotent)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ------------------------------------------------------------------ public

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: tuple[str, ...] | None = None,
    ) -> RawPage:
        """Fetch one URL, following redirects within scope.

        Args:
            url: an absolute http(s) URL.
            etag: a stored ETag, sent as ``If-None-Match``.
            last_modified: a stored Last-Modified, sent as ``If-Modified-Since``.
            accept: media types accepted for a 2xx body (``None``: ``fetch.content_types``;
                an empty tuple or ``"*/*"``: anything, e.g. for sitemaps and feeds).

        Returns:
            The final answer: 2xx with its body, 304 with an empty body, or a permanent
            4xx (404, 410, 403 …) with whatever body it had.

        Raises:
            RobotsDisallowed: robots.txt forbids the URL or a redirect target.
            FetchError: after retries, or at once for a refused redirect, an unwanted
                content type, a body over ``max_body_bytes``, the per-request deadline.
        """
        try:
            return await self._fetch(url, etag=etag, last_modified=last_modified, accept=accept)
        except RobotsDisallowed:
            self.stats.robots_disallowed += 1
            log.info("robots_disallowed", url=url)
            raise
        except FetchError as exc:
            self.stats.failures += 1
            log.info("fetch_failed", url=url, reason=exc.reason, status=exc.status)
            raise

    async def robots_for(self, url: str) -> Robots:
        """The robots.txt verdict for ``url``'s origin (fetched once, then cached)."""
        origin = _origin(url)
        cached = self._robots.get(origin)
        if cached is not None:
            return cached
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._robots.get(origin)
            if cached is None:
                cached = await self._load_robots(origin)
                self._robots[origin] = cached
                delay = cached.crawl_delay(self.robots_agent)
                if delay is not None:
                    self._apply_crawl_delay(origin, delay)
            return cached

    # ----------------------------------------------------------------- fetching

    async def _fetch(
        self,
        url: str,
        *,
        etag: str | None,
        last_modified: str | None,
        accept: tuple[str, ...] | None,
    ) -> RawPage:
        if len(url) > self.config.scope.max_url_length:
            raise FetchError(url, "url_too_long")
        if not is_http_url(url):
            raise FetchError(url, "unsupported_scheme")
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        wanted = self.config.fetch.content_types if accept is None else accept
        started = time.perf_counter()
        current = url
        seen = {canonical_url(url)}
        passed: list[str] = []
        for _hop in range(self.config.fetch.max_redirects + 1):
            if self.config.fetch.obey_robots:
                robots = await self.robots_for(current)
                if not robots.can_fetch(current, self.robots_agent):
                    raise RobotsDisallowed(url)
            answer = await self._exchange(
                current, headers=headers, accept=wanted, requested=url, limit=None
            )
            if answer.location is None:
                return RawPage(
                    url=canonical_url(answer.url),
                    requested_url=url,
                    status=answer.status,
                    headers=answer.headers,
                    body=answer.body,
                    fetched_at=datetime.now(UTC),
                    redirects=tuple(passed),
                    elapsed_ms=(time.perf_counter() - started) * 1000,
                )
            target = self._redirect_target(url, current, answer.location, answer.status)
            key = canonical_url(target)
            if key in seen:
                raise FetchError(url, "redirect_loop", status=answer.status)
            seen.add(key)
            passed.append(canonical_url(current))
            log.debug("redirect_followed", url=current, target=target, status=answer.status)
            current = target
        raise FetchError(url, "too_many_redirects", status=None)

    def _redirect_target(self, url: str, current: str, location: str, status: int) -> str:
        try:
            target = urljoin(current, location.strip())
            scheme = urlsplit(target).scheme.lower()
        except ValueError as exc:
            raise FetchError(url, "bad_redirect", status=status) from exc
        if scheme not in {"http", "https"}:
            log.warning("redirect_refused", url=current, scheme=scheme, why="scheme")
            raise FetchError(url, "redirect_unsupported_scheme", status=status)
        if len(target) > self.config.scope.max_url_length:
            raise FetchError(url, "url_too_long", status=status)
        if not self.scope.allows_host(target):
            log.warning("redirect_refused", url=current, target=target, why="host")
            raise FetchError(url, "redirect_out_of_scope", status=status)
        return target.split("#", 1)[0]

    async def _exchange(
        self,
        url: str,
        *,
        headers: dict[str, str],
        accept: tuple[str, ...],
        requested: str,
        limit: int | None,
    ) -> _Answer:
        """One request, retried on transient failures (the single retry policy)."""
        fc = self.config.fetch

        def wait(state: RetryCallState) -> float:
            base = wait_random_exponential(multiplier=fc.backoff, max=fc.max_retry_after)(state)
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                return max(base, min(exc.retry_after, fc.max_retry_after))
            return float(base)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            reason = exc.error.reason if isinstance(exc, _Retryable) else repr(exc)
            self.stats.retries += 1
            log.info(
                "fetch_retry",
                url=url,
                reason=reason,
                attempt=state.attempt_number,
                wait_s=round(state.upcoming_sleep, 3),
            )

        retrying = AsyncRetrying(
            stop=stop_after_attempt(fc.max_attempts) | stop_before_delay(fc.retry_deadline),
            wait=wait,
            retry=retry_if_exception_type(_Retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        attempts = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    return await self._attempt(
                        url, headers=headers, accept=accept, requested=requested, limit=limit
                    )
        except _Retryable as exc:
            err = exc.error
            raise FetchError(err.url, err.reason, status=err.status, attempts=attempts) from exc
        except FetchError as exc:
            exc.attempts = attempts
            raise
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    async def _attempt(
        self,
        url: str,
        *,
        headers: dict[str, str],
        accept: tuple[str, ...],
        requested: str,
        limit: int | None,
    ) -> _Answer:
        """One HTTP exchange under the host's politeness gate and the total deadline."""
        assert self._client is not None, "use 'async with Fetcher(...)'"
        host = self._host(url)
        async with host.slots:
            await self._wait_turn(host)
            self.stats.requests += 1
            sent = [time.perf_counter()]  # the shared pace's hook moves it to the real send
            try:
                async with asyncio.timeout(self.config.fetch.deadline):
                    answer = await self._send(url, headers, accept, requested, limit, sent)
            except TimeoutError as exc:
                # A drip-feeding server: retrying would only drip again.
                raise FetchError(requested, "deadline") from exc
            except httpx.TimeoutException as exc:
                if self.config.fetch.adaptive:
                    self._slow_down(host, None)
                raise _Retryable(FetchError(requested, "timeout")) from exc
            except httpx.ConnectError as exc:
                raise _Retryable(FetchError(requested, "connect_error")) from exc
            except httpx.RemoteProtocolError as exc:  # truncated body, garbage status line
                raise _Retryable(FetchError(requested, "protocol_error")) from exc
            except httpx.NetworkError as exc:  # reset mid-body, broken pipe
                raise _Retryable(FetchError(requested, "network_error")) from exc
            except httpx.InvalidURL as exc:
                raise FetchError(requested, "invalid_url") from exc
            except httpx.HTTPError as exc:
                raise FetchError(requested, f"http_client_error: {type(exc).__name__}") from exc
        if self.config.fetch.adaptive:
            # Latency from the real send: a wait for the shared gap counted in would feed
            # the gap back into itself (a sync slowed to one page every 2 s).
            self._adapt(host, answer.status, time.perf_counter() - sent[-1], answer.headers)
        elif answer.status in SLOWDOWN_STATUSES:
            retry_after = parse_retry_after(_header(answer.headers, "retry-after"))
            self._slow_down(host, retry_after)
        elif answer.status < 400 and host.delay > host.base_delay:
            self._set_delay(host, max(host.base_delay, host.delay * 0.75))
        if answer.status in RETRY_STATUSES:
            retry_after = parse_retry_after(_header(answer.headers, "retry-after"))
            error = FetchError(requested, f"http_{answer.status}", status=answer.status)
            raise _Retryable(error, retry_after)
        if answer.status == 304:
            self.stats.not_modified += 1
        return answer

    async def _send(
        self,
        url: str,
        headers: dict[str, str],
        accept: tuple[str, ...],
        requested: str,
        limit: int | None,
        sent: list[float],
    ) -> _Answer:
        assert self._client is not None
        extensions = {"trace": self._admit_hook(url, sent)} if self._pace is not None else None
        request = self._client.build_request("GET", url, headers=headers, extensions=extensions)
        try:
            response = await self._client.send(request, stream=True)
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
                return _Answer(
                    url=url, status=status, headers=resp_headers, body=b"", location=location
                )
            if status == 304 or status in RETRY_STATUSES:
                return _Answer(url=url, status=status, headers=resp_headers, body=b"")
            if 200 <= status < 300 and not _accepts(accept, response.headers.get("content-type")):
                raise FetchError(requested, "unwanted_content_type", status=status)
            body = await self._read_body(response, requested, limit)
            return _Answer(url=url, status=status, headers=resp_headers, body=body)
        finally:
            await response.aclose()

    async def _read_body(
        self, response: httpx.Response, requested: str, limit: int | None
    ) -> bytes:
        """Stream the body, inflating it ourselves so the cap applies to real bytes."""
        cap = limit if limit is not None else self.config.fetch.max_body_bytes
        encoding = response.headers.get("content-encoding", "").strip().lower()
        declared = response.headers.get("content-length", "")
        if not encoding and declared.isdigit() and int(declared) > cap:
            raise FetchError(requested, "too_large", status=response.status_code)
        inflater = _Inflater(encoding, requested, response.status_code)
        parts: list[bytes] = []
        size = 0
        async for chunk in _raw_chunks(response):
            for piece in inflater.feed(chunk):
                size += len(piece)
                if size > cap:
                    if limit is not None:  # robots.txt: keep the head, ignore the rest
                        parts.append(piece[: len(piece) - (size - cap)])
                        self.stats.bytes += cap
                        return b"".join(parts)
                    log.warning("body_too_large", url=requested, limit=cap)
                    raise FetchError(requested, "too_large", status=response.status_code)
                parts.append(piece)
        for piece in inflater.flush():
            size += len(piece)
            if size > cap:
                raise FetchError(requested, "too_large", status=response.status_code)
            parts.append(piece)
        self.stats.bytes += size
        return b"".join(parts)

    # --------------------------------------------------------------- politeness

    def host_delay(self, url: str) -> float:
        """The current gap between request starts to ``url``'s host, in seconds."""
        return self._host(url).delay

    def _host(self, url: str) -> _Host:
        name = _origin(url)
        host = self._hosts.get(name)
        if host is None:
            fc = self.config.fetch
            floor = min(fc.delay, fc.min_delay) if fc.adaptive else fc.delay
            host = _Host(
                slots=asyncio.Semaphore(fc.concurrency),
                delay=fc.delay,
                base_delay=floor,
                origin=name,
            )
            self._hosts[name] = host
        return host

    async def _wait_turn(self, host: _Host) -> None:
        """Sleep until this host may see another request start, then book the next slot."""
        if self._pace is not None:  # booked with the other fetching processes
            start, _ = self._pace.book(host.origin, host.delay)
            wait = start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            return  # SharedPace.admit checks the gap again as the request goes out
        async with host.lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            start = max(now, host.next_start)
            host.next_start = start + host.delay
            if start > now:
                await asyncio.sleep(start - now)

    def _admit_hook(self, url: str, sent: list[float]) -> Callable[[str, object], Awaitable[None]]:
        """An httpcore trace hook: wait for the shared gap right before the request's
        headers are written (see :meth:`SharedPace.admit`); note when in ``sent``."""
        host = self._host(url)
        pace = self._pace
        assert pace is not None

        async def hook(event: str, _info: object) -> None:
            if event.endswith("send_request_headers.started"):
                while (wait := pace.admit(host.origin, host.delay)) > 0:
                    await asyncio.sleep(wait)
                sent.append(time.perf_counter())

        return hook

    def _set_delay(self, host: _Host, delay: float) -> None:
        host.delay = delay
        if self._pace is not None:
            self._pace.set_gap(host.origin, delay)

    def _adapt(
        self, host: _Host, status: int, latency: float, headers: tuple[tuple[str, str], ...]
    ) -> None:
        """Adaptive pacing after one answer, in the spirit of Scrapy's AutoThrottle.

        The gap moves halfway towards ``latency / target_concurrency``, so a server
        answering fast is asked more often and one answering slowly less; 429 and 5xx
        double it (:meth:`_slow_down`). It stays between the floor (``min_delay`` or
        ``delay``, raised by robots.txt Crawl-delay) and ``max_delay``. An error or
        redirect answer never speeds it up: such answers are small and fast whatever
        the server's load (a 304 does: a sync is mostly 304s).
        """
        fc = self.config.fetch
        if status in RETRY_STATUSES:
            self._slow_down(host, parse_retry_after(_header(headers, "retry-after")))
            return
        target = latency / fc.target_concurrency
        gap = max(target, (host.delay + target) / 2)
        gap = min(max(gap, host.base_delay), max(fc.max_delay, host.base_delay))
        if status >= 300 and status != 304 and gap < host.delay:
            return
        if gap != host.delay:
            self._set_delay(host, gap)

    def _slow_down(self, host: _Host, retry_after: float | None) -> None:
        """After a 429/503: double the host's gap and honour Retry-After for everyone."""
        fc = self.config.fetch
        self._set_delay(host, min(max(host.delay * 2, fc.backoff, 0.1), fc.max_retry_after))
        if retry_after is not None:
            wait = min(retry_after, fc.max_retry_after)
            now = asyncio.get_running_loop().time()
            host.next_start = max(host.next_start, now + wait)
            if self._pace is not None:
                self._pace.hold(host.origin, time.monotonic() + wait)
        log.info("host_slowed_down", delay_s=round(host.delay, 3), retry_after=retry_after)

    def _apply_crawl_delay(self, origin: str, delay: float) -> None:
        fc = self.config.fetch
        capped = min(delay, fc.max_retry_after)
        host = self._host(origin + "/")
        if capped > host.base_delay:
            host.base_delay = capped
            self._set_delay(host, max(host.delay, capped))
            log.info("crawl_delay_applied", origin=origin, delay_s=capped, requested_s=delay)

    # ------------------------------------------------------------------- robots

    async def _load_robots(self, origin: str) -> Robots:
        """Download and parse ``origin/robots.txt`` (RFC 9309 error handling)."""
        url = origin + "/robots.txt"
        self.stats.robots_fetched += 1
        current = url
        for _ in range(_ROBOTS_REDIRECTS + 1):
            try:
                answer = await self._exchange(
                    current, headers={}, accept=(), requested=url, limit=MAX_ROBOTS_BYTES
                )
            except FetchError as exc:
                # 5xx after retries or unreachable: assume the whole site is off limits.
                log.warning("robots_unreachable", url=url, reason=exc.reason)
                return Robots.disallow_all()
            if answer.location is None:
                break
            target = urljoin(current, answer.location.strip())
            if not self.scope.allows_host(target):
                log.warning("robots_redirect_out_of_scope", url=url, target=target)
                return Robots.allow_all()
            current = target
        else:
            log.warning("robots_too_many_redirects", url=url)
            return Robots.allow_all()
        if 200 <= answer.status < 300:
            robots = Robots.parse(answer.body)
            log.debug("robots_loaded", url=url, sitemaps=len(robots.sitemaps))
            return robots
        if 400 <= answer.status < 500:
            return Robots.allow_all()
        log.warning("robots_unreachable", url=url, status=answer.status)
        return Robots.disallow_all()


class _Inflater:
    """Incremental gzip/deflate decoding with bounded output per step (bomb-safe)."""

    def __init__(self, encoding: str, url: str, status: int) -> None:
        self.url = url
        self.status = status
        self.identity = encoding in {"", "identity"}
        if not self.identity and encoding not in {"gzip", "x-gzip", "deflate"}:
            raise FetchError(url, "unsupported_content_encoding", status=status)
        # 32 + MAX_WBITS: auto-detect a gzip or zlib header; raw deflate is the fallback.
        self.decoder = zlib.decompressobj(32 + zlib.MAX_WBITS)
        self.started = False
        self.raw_deflate = encoding == "deflate"

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Yield decoded pieces of at most ``_INFLATE_CHUNK`` bytes; stop reading any time."""
        if self.identity:
            if data:
                yield data
            return
        try:
            while data:
                piece = self._decompress(data)
                data = self.decoder.unconsumed_tail
                if not piece:
                    break
                yield piece
        except zlib.error as exc:
            raise FetchError(self.url, "bad_content_encoding", status=self.status) from exc

    def _decompress(self, data: bytes) -> bytes:
        if not self.started and self.raw_deflate:
            self.started = True
            probe = zlib.decompressobj(32 + zlib.MAX_WBITS)
            try:
                piece = probe.decompress(data, _INFLATE_CHUNK)
            except zlib.error:
                # "deflate" sent as a raw stream without the zlib wrapper (old IIS).
                self.decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decoder.decompress(data, _INFLATE_CHUNK)
            self.decoder = probe
            return piece
        self.started = True
        return self.decoder.decompress(data, _INFLATE_CHUNK)

    def flush(self) -> list[bytes]:
        if self.identity:
            return []
        try:
            rest = self.decoder.flush()
        except zlib.error as exc:
            raise FetchError(self.url, "bad_content_encoding", status=self.status) from exc
        return [rest] if rest else []


async def _raw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    async for chunk in response.aiter_raw():
        yield chunk


async def _remember_location(response: httpx.Response) -> None:
    """Keep a redirect's Location on its request, for when httpx cannot parse it."""
    location = response.headers.get("location")
    if location is not None:
        response.request.extensions[_LOCATION_KEY] = location


def resolve_map(entries: tuple[str, ...]) -> dict[str, tuple[str, int | None]]:
    """``fetch.resolve`` entries (``HOST=ADDRESS[:PORT]``) as ``{host: (address, port)}``."""
    mapping: dict[str, tuple[str, int | None]] = {}
    for entry in entries:
        host, _, target = entry.partition("=")
        address, port = target, None
        if target.rpartition(":")[2].isdigit() and not target.endswith("]"):
            address, _, digits = target.rpartition(":")
            port = int(digits)
        mapping[host.strip().lower().rstrip(".")] = (address.strip("[]"), port)
    return mapping


class ResolvingTransport(httpx.AsyncBaseTransport):
    """Connect to another address for some hosts, like ``curl --resolve``.

    The request keeps its URL and ``Host`` header (and TLS SNI), so the server sees the
    site's own name while the connection goes to the mapped address: a site already
    moved off its DNS name, a staging copy, or a local mirror of a site whose pages
    link to its public host.
    """

    def __init__(
        self, mapping: dict[str, tuple[str, int | None]], inner: httpx.AsyncBaseTransport
    ) -> None:
        self._mapping = mapping
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = self._mapping.get(request.url.host.lower())
        if target is None:
            return await self._inner.handle_async_request(request)
        address, port = target
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions.setdefault("sni_hostname", request.url.host)
        routed = httpx.Request(
            request.method,
            request.url.copy_with(host=address, port=port or request.url.port),
            headers=request.headers,  # Host: the original name, set when it was built
            stream=request.stream,
            extensions=extensions,
        )
        return await self._inner.handle_async_request(routed)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _transport_for(resolve: tuple[str, ...]) -> httpx.AsyncBaseTransport | None:
    if not resolve:
        return None
    return ResolvingTransport(resolve_map(resolve), httpx.AsyncHTTPTransport())


def _accepts(accept: tuple[str, ...], content_type: str | None) -> bool:
    """True when ``content_type`` is one of ``accept`` (a missing type is let through)."""
    if not accept or "*/*" in accept or not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return any(media == a.lower() for a in accept)


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased (the key for robots and politeness)."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
