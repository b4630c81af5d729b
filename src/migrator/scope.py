"""Which URLs belong to the migration, and the crawler-trap guard that bounds a crawl.

``Scope.allows`` is a pure test of one URL against the configured hosts, path
prefixes, include/exclude patterns and size limits. ``Scope.admit`` adds the stateful
guard a crawl needs against infinite URL spaces (calendars, faceted search): a depth
limit, a page budget and a cap on URLs sharing one *path shape* (digits folded to
``N``). The counters are in memory; the pipeline seeds them on resume with
:meth:`Scope.seed`. This module makes no requests and knows nothing about HTML.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import structlog

from migrator.config import Config
from migrator.urls import canonical_url, host_of, is_http_url

__all__ = ["Scope", "url_pattern"]

log = structlog.get_logger()

_DIGITS = re.compile(r"\d+")


# Links to files that are never pages: not worth a request (the content-type filter
# would refuse them anyway, after a download). Sitemaps and feeds come via discovery.
_NON_PAGE = re.compile(
    r"\.(?:jpe?g|png|gif|webp|svg|ico|bmp|tiff?|css|js|mjs|json|xml|xml\.gz|rss|atom|pdf|"
    r"zip|gz|tgz|rar|7z|exe|dmg|mp3|mp4|m4a|wav|ogg|webm|avi|mov|docx?|xlsx?|pptx?|"
    r"woff2?|ttf|eot|txt)$",
    re.IGNORECASE,
)


def url_pattern(url: str) -> str:
    """The *shape* of a URL: host and path with every run of digits replaced by ``N``.

    ``/calendar/2024/05/`` and ``/calendar/1999/01/`` share the shape
    ``host/calendar/N/N/``; the query keeps only its sorted parameter names, so
    ``?page=2`` and ``?page=3`` share one too.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    names = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    shape = f"{(parts.hostname or '').lower()}{_DIGITS.sub('N', parts.path)}"
    return f"{shape}?{'&'.join(names)}" if names else shape


@dataclass(slots=True, kw_only=True)
class Scope:
    """The migration's URL space and the crawl budget.

    Build it with :meth:`from_config`. ``allows`` never changes state; ``admit`` counts
    each URL it accepts (a URL admitted twice is counted once).

    Attributes:
        hosts: lower-cased host names in scope (start hosts plus ``scope.allowed_hosts``).
        path_prefixes: path prefixes in scope (empty: every path).
        include: compiled include patterns (empty: everything not excluded).
        exclude: compiled exclude patterns.
        max_depth: most link hops from a start URL.
        max_pages: most URLs admitted in one run.
        max_urls_per_pattern: most URLs admitted per :func:`url_pattern`.
        max_query_params: most query parameters a URL may carry.
        max_url_length: longest URL (characters) accepted.
    """

    hosts: frozenset[str]
    path_prefixes: tuple[str, ...] = ()
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    max_depth: int = 0  # 0: no limit (prev/next chains run as deep as the blog is long)
    max_pages: int = 1_000_000
    max_urls_per_pattern: int = 5_000
    max_query_params: int = 4
    max_url_length: int = 2_048
    # hash() of each admitted canonical URL: a quarter of the memory of the strings.
    # The www/no-www twin of each start host, folded onto the start host.
    twins: dict[str, str] = field(default_factory=dict)
    # URLs refused by a limit (not by the scope rules), by limit: said in the report.
    limited: Counter[str] = field(default_factory=Counter)
    _seen: set[int] = field(default_factory=set)
    _patterns: Counter[str] = field(default_factory=Counter)
    _warned: set[str] = field(default_factory=set)

    @classmethod
    def from_config(cls, config: Config, start_urls: Sequence[str]) -> Scope:
        """Build the scope of a run.

        Args:
            config: the run's configuration (its ``scope`` section is used).
            start_urls: the start URLs (site roots or sitemaps); their hosts are in scope.

        Returns:
            A fresh scope with empty counters.
        """
        sc = config.scope
        starts = {host_of(u) for u in start_urls if is_http_url(u)}
        hosts = set(starts)
        hosts.update(h.strip().lower().rstrip(".") for h in sc.allowed_hosts if h.strip())
        twins: dict[str, str] = {}
        for host in sorted(h for h in starts if h):
            twin = host[4:] if host.startswith("www.") else "www." + host
            if twin not in hosts and "." in twin and not twin.replace(".", "").isdigit():
                twins[twin] = host
        return cls(
            hosts=frozenset(h for h in hosts | set(twins) if h),
            twins=twins,
            path_prefixes=tuple(sc.path_prefixes),
            include=tuple(re.compile(p) for p in sc.include),
            exclude=tuple(re.compile(p) for p in sc.exclude),
            max_depth=sc.max_depth,
            max_pages=sc.max_pages,
            max_urls_per_pattern=sc.max_urls_per_pattern,
            max_query_params=sc.max_query_params,
            max_url_length=sc.max_url_length,
        )

    def fold(self, url: str) -> str:
        """``url`` with a start host's www/no-www twin replaced by the start host.

        Old blogs link both spellings (``mike-austin.com`` and ``www.mike-austin.com``),
        sitemaps use one, pages the other: one page, one URL.
        """
        if not self.twins:
            return url
        try:
            parts = urlsplit(url)
        except ValueError:
            return url
        host = (parts.hostname or "").lower()
        primary = self.twins.get(host)
        if primary is None:
            return url
        netloc = primary if parts.port is None else f"{primary}:{parts.port}"
        return canonical_url(parts._replace(netloc=netloc).geturl())

    def allows_host(self, url: str) -> bool:
        """True when ``url`` is http(s) and its host is in scope (used for redirects)."""
        return is_http_url(url) and host_of(url) in self.hosts

    def allows(self, url: str) -> bool:
        """True when ``url`` belongs to the migration.

        Checks, in order: http(s) with an in-scope host, URL length, number of query
        parameters, path prefixes, exclude patterns, include patterns. Patterns are
        searched (not matched) in the whole URL.
        """
        if len(url) > self.max_url_length or not self.allows_host(url):
            return False
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        if len(parse_qsl(parts.query, keep_blank_values=True)) > self.max_query_params:
            return False
        path = parts.path or "/"
        if _NON_PAGE.search(path):
            return False
        if self.path_prefixes and not any(path.startswith(p) for p in self.path_prefixes):
            return False
        if any(p.search(url) for p in self.exclude):
            return False
        return not self.include or any(p.search(url) for p in self.include)

    def admit(self, url: str, depth: int) -> bool:
        """Decide whether a crawl should take ``url`` found at ``depth``, and count it.

        A URL already admitted is admitted again without being counted twice (so the
        caller may re-check). A new URL must be in scope, within ``max_depth``, within
        the page budget and within its pattern's budget.

        Args:
            url: the URL (canonicalized here before counting).
            depth: link hops from a start URL or sitemap entry.

        Returns:
            True when the URL should be fetched.
        """
        key = canonical_url(url)
        if hash(key) in self._seen:
            return True
        if not self.allows(key):
            return False
        if self.max_depth and depth > self.max_depth:
            self.limited["max_depth"] += 1
            self._warn_once("max_depth", "scope_depth_limit_reached", limit=self.max_depth)
            return False
        if len(self._seen) >= self.max_pages:
            self.limited["max_pages"] += 1
            self._warn_once("max_pages", "scope_page_budget_reached", limit=self.max_pages)
            return False
        pattern = url_pattern(key)
        if self._patterns[pattern] >= self.max_urls_per_pattern:
            self.limited["max_urls_per_pattern"] += 1
            self._warn_once(
                pattern,
                "scope_pattern_budget_reached",
                pattern=pattern,
                limit=self.max_urls_per_pattern,
            )
            return False
        self._seen.add(hash(key))
        self._patterns[pattern] += 1
        return True

    def seed(self, urls: Iterable[str]) -> None:
        """Count URLs admitted by an earlier run (resume), without checking them."""
        for url in urls:
            key = canonical_url(url)
            if hash(key) not in self._seen:
                self._seen.add(hash(key))
                self._patterns[url_pattern(key)] += 1

    @property
    def admitted(self) -> int:
        """How many distinct URLs have been admitted (or seeded)."""
        return len(self._seen)

    def _warn_once(self, key: str, event: str, **fields: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(event, **fields)
