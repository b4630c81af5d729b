"""robots.txt rules of one origin, as the fetcher applies them.

Wraps protego with the two degenerate answers the robots standard (RFC 9309 §2.3.1)
asks for: *allow everything* when robots.txt is unavailable (a 4xx), *disallow
everything* when it is unreachable (a 5xx or a network error). This module parses
only; ``fetch.Fetcher`` downloads the file and caches one :class:`Robots` per origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from protego import Protego

__all__ = ["Robots"]

# RFC 9309 §2.5: crawlers may stop reading after 500 KiB.
MAX_ROBOTS_BYTES = 512 * 1024


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
        """Parse a robots.txt body (UTF-8, invalid bytes replaced, capped at 500 KiB)."""
        text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace").lstrip("\ufeff")
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
