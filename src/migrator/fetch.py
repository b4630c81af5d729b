"""The fetch stage: turn a URL into a :class:`~migrator.models.RawPage`, politely and safely.

:class:`Fetcher` owns the one ``httpx.AsyncClient`` of a run and the exchange on the
wire: robots.txt asked before every hop (``robots.RobotsCache``), each request started
when the host's pace allows (``pace.Pacer``), manual redirects checked hop by hop
against the :class:`~migrator.scope.Scope`, the single retry policy (tenacity: transport
errors and 429/5xx, jittered exponential backoff, ``Retry-After``), a total deadline per
exchange, and the body read with a cap on its *decompressed* size (``inflate``). It
returns bytes exactly as served (decompressed, never decoded to text) and never parses
HTML: decoding and extraction belong to later stages.

STYLE.md draws all of the fetch stage in this one module; it is split by concern instead
(``exchange``: one GET on the wire, ``inflate``: reading a body, ``pace``: when a request
may start, ``robots``: robots.txt verdicts, ``resolve``: ``--resolve``) so that each part
stays small and is tested alone. The retry policy is still here and only here.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
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
from migrator.exchange import Answer, open_client, send, user_agent
from migrator.models import RawPage
from migrator.pace import RETRY_STATUSES, Pacer, SharedPace, header, parse_retry_after
from migrator.resolve import ResolvingTransport, resolve_map
from migrator.robots import MAX_ROBOTS_BYTES, Robots, RobotsCache
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
        return asdict(self)


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
        self.config = config
        self.scope = scope
        self.stats = FetchStats()
        self.user_agent = user_agent(config)
        # RFC 9309 §2.2.1: robots groups match the product token, not the whole header.
        self.robots_agent = self.user_agent.split("/", 1)[0].split()[0] or "migrator"
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._pacer = Pacer(config.fetch, pace)
        self._robots = RobotsCache(
            exchange=self._robots_exchange,
            allows_host=scope.allows_host,
            agent=self.robots_agent,
            on_crawl_delay=self._pacer.apply_crawl_delay,
            on_download=self._count_robots,
        )

    async def __aenter__(self) -> Self:
        self._client = open_client(self.config.fetch, self.user_agent, self._transport)
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
        return await self._robots.get(url)

    def host_delay(self, url: str) -> float:
        """The current gap between request starts to ``url``'s host, in seconds."""
        return self._pacer.host(url).delay

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
        statuses: list[int] = []
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
                    redirect_statuses=tuple(statuses),
                    elapsed_ms=(time.perf_counter() - started) * 1000,
                )
            target = self._redirect_target(url, current, answer.location, answer.status)
            key = canonical_url(target)
            if key in seen:
                raise FetchError(url, "redirect_loop", status=answer.status)
            seen.add(key)
            passed.append(canonical_url(current))
            statuses.append(answer.status)
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
    ) -> Answer:
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
    ) -> Answer:
        """One HTTP exchange under the host's politeness gate and the total deadline."""
        assert self._client is not None, "use 'async with Fetcher(...)'"
        host = self._pacer.host(url)
        async with host.slots:
            await self._pacer.wait_turn(host)
            self.stats.requests += 1
            sent = [time.perf_counter()]  # the shared pace's hook moves it to the real send
            try:
                async with asyncio.timeout(self.config.fetch.deadline):
                    answer = await send(
                        self._client,
                        url,
                        headers=headers,
                        accept=accept,
                        requested=requested,
                        cap=self.config.fetch.max_body_bytes if limit is None else limit,
                        truncate=limit is not None,
                        trace=self._pacer.admit_hook(host, sent),
                    )
            except TimeoutError as exc:
                # A drip-feeding server: retrying would only drip again.
                raise FetchError(requested, "deadline") from exc
            except httpx.TimeoutException as exc:
                self._pacer.after_timeout(host)
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
        # Latency from the real send: a wait for the shared gap counted in would feed the
        # gap back into itself (a sync slowed to one page every 2 s).
        latency = time.perf_counter() - sent[-1]
        self._pacer.after_answer(host, answer.status, latency, answer.headers)
        if answer.status in RETRY_STATUSES:
            retry_after = parse_retry_after(header(answer.headers, "retry-after"))
            error = FetchError(requested, f"http_{answer.status}", status=answer.status)
            raise _Retryable(error, retry_after)
        self.stats.bytes += len(answer.body)
        if answer.status == 304:
            self.stats.not_modified += 1
        return answer

    # ------------------------------------------------------------------- robots

    async def _robots_exchange(self, url: str, robots_url: str) -> Answer:
        """One hop of a robots.txt download: any type, at most ``MAX_ROBOTS_BYTES``."""
        return await self._exchange(
            url, headers={}, accept=(), requested=robots_url, limit=MAX_ROBOTS_BYTES
        )

    def _count_robots(self) -> None:
        self.stats.robots_fetched += 1
