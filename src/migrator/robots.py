"""robots.txt rules of one origin, and the per-origin cache the fetcher asks.

:class:`Robots` wraps protego with the two degenerate answers the robots standard (RFC
9309 §2.3.1) asks for: *allow everything* when robots.txt is unavailable (a 4xx),
*disallow everything* when it is unreachable (a 5xx or a network error).
:class:`RobotsCache` downloads each origin's file once (through the exchange the fetcher
hands it, so its requests keep the fetcher's pacing, retries and size cap) and follows
its redirects within the scope. This module sends no request of its own and knows
nothing of pacing or bodies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urljoin

import structlog
from protego import Protego

from migrator.errors import FetchError
from migrator.urls import url_origin

__all__ = ["MAX_ROBOTS_BYTES", "Robots", "RobotsAnswer", "RobotsCache"]

log = structlog.get_logger()

# RFC 9309 §2.5: crawlers must parse at least 500 KiB and may ignore the rest.
MAX_ROBOTS_BYTES = 512 * 1024
_ROBOTS_REDIRECTS = 5  # RFC 9309 §2.3.1.2: follow at least five


@dataclass(frozen=True, slots=True, kw_only=True)
class Robots:
    """The robots.txt verdict for one origin.

    Attributes:
        mode: ``rules`` (a parsed file), ``allow_all`` or ``disallow_all``.
        parser: the protego parser when ``mode`` is ``rules``.
    """

    mode: Literal["rules", "allow_all", "disallow_all"]
    parser: Protego | None = None

    @classmethod
    def parse(cls, body: bytes) -> Robots:
        """Parse a robots.txt body (UTF-8, invalid bytes replaced) up to ``MAX_ROBOTS_BYTES``.

        RFC 9309 §2.5: a crawler must parse at least 500 KiB and may ignore the rest. A
        body that reaches the limit was (or may have been) cut there: its last, partial
        line is dropped rather than read as a shorter rule (``Disallow: /a`` out of
        ``Disallow: /abc/``).
        """
        if len(body) >= MAX_ROBOTS_BYTES:
            body = body[:MAX_ROBOTS_BYTES].rpartition(b"\n")[0]
        text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
        return cls(mode="rules", parser=Protego.parse(text))

    @classmethod
    def allow_all(cls) -> Robots:
        """The answer for a missing robots.txt (4xx)."""
        return cls(mode="allow_all")

    @classmethod
    def disallow_all(cls) -> Robots:
        """The answer for an unreachable robots.txt (5xx or network error)."""
        return cls(mode="disallow_all")

    def can_fetch(self, url: str, user_agent: str) -> bool:
        """True when ``user_agent`` may fetch ``url``."""
        if self.mode == "allow_all":
            return True
        if self.mode == "disallow_all" or self.parser is None:
            return False
        return bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        """The ``Crawl-delay`` for ``user_agent`` in seconds, if the file sets one."""
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None

    @property
    def sitemaps(self) -> tuple[str, ...]:
        """The ``Sitemap:`` URLs the file lists, in order."""
        if self.parser is None:
            return ()
        return tuple(self.parser.sitemaps)


class RobotsAnswer(Protocol):
    """What :class:`RobotsCache` reads of one HTTP answer."""

    @property
    def status(self) -> int: ...

    @property
    def location(self) -> str | None: ...  # a redirect's target, else None

    @property
    def body(self) -> bytes: ...


class RobotsCache:
    """The robots.txt verdict of each origin, downloaded once and then kept.

    Args:
        exchange: ``exchange(url, robots_url)`` requests ``url`` (a hop of
            ``robots_url``'s redirects) with retries, at most ``MAX_ROBOTS_BYTES`` of
            body, and raises ``FetchError`` when that fails.
        allows_host: whether a redirect target is within the migration's scope.
        agent: the robots product token (for ``Crawl-delay``).
        on_crawl_delay: called with the origin and the seconds its file asks for.
        on_download: called once per robots.txt downloaded (the run's counters).
    """

    def __init__(
        self,
        *,
        exchange: Callable[[str, str], Awaitable[RobotsAnswer]],
        allows_host: Callable[[str], bool],
        agent: str,
        on_crawl_delay: Callable[[str, float], None],
        on_download: Callable[[], None],
    ) -> None:
        self._exchange = exchange
        self._allows_host = allows_host
        self._agent = agent
        self._on_crawl_delay = on_crawl_delay
        self._on_download = on_download
        self._robots: dict[str, Robots] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, url: str) -> Robots:
        """The robots.txt verdict for ``url``'s origin (fetched once, then cached)."""
        origin = url_origin(url)
        cached = self._robots.get(origin)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._robots.get(origin)
            if cached is None:
                cached = await self._load(origin)
                self._robots[origin] = cached
                delay = cached.crawl_delay(self._agent)
                if delay is not None:
                    self._on_crawl_delay(origin, delay)
            return cached

    async def _load(self, origin: str) -> Robots:
        """Download and parse ``origin/robots.txt`` (RFC 9309 error handling)."""
        url = origin + "/robots.txt"
        self._on_download()
        current = url
        for _ in range(_ROBOTS_REDIRECTS + 1):
            try:
                answer = await self._exchange(current, url)
            except FetchError as exc:
                # 5xx after retries or unreachable: assume the whole site is off limits.
                # A 429 lands here too (retried, then failed), although STYLE.md's rule
                # says a 4xx allows everything: "too many requests" says the server is
                # busy, not that there is no file (Google treats it as a 5xx as well).
                log.warning("robots_unreachable", url=url, reason=exc.reason)
                return Robots.disallow_all()
            if answer.location is None:
                break
            target = urljoin(current, answer.location.strip())
            if not self._allows_host(target):
                # Never fetched (the crawl stays in scope), so the file is unavailable:
                # RFC 9309 §2.3.1.3 lets the crawler go on as if there were none.
                log.warning("robots_redirect_out_of_scope", url=url, target=target)
                return Robots.allow_all()
            current = target
        else:
            # RFC 9309 §2.3.1.2: past five redirects the file may be taken as unavailable.
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
