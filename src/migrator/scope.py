"""Which URLs belong to the migration, and the crawler-trap guard that bounds a crawl.

``Scope.allows`` is a pure test of one URL against the site's origins, path
prefixes, include/exclude patterns and size limits. The origin is host *and port*:
another port of the site's host is another server (an admin panel, a metadata
service, someone else's app) and is out of scope for every request, whether the URL
came from a link, a sitemap, robots.txt or a redirect. ``http`` and ``https`` on their
default ports count as one site (the usual upgrade redirect). ``Scope.admit`` adds the stateful
guard a crawl needs against infinite URL spaces (calendars, faceted search): a depth
limit, a page budget and a cap on URLs sharing one *path shape* (digits folded to
``N``), and the crawler-trap rules of :mod:`migrator.traps` (calendars, repeated path
segments, query explosions), all before a request is sent. The counters are in
memory; the pipeline seeds them on resume with :meth:`Scope.seed`. This module makes
no requests and knows nothing about HTML.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, urlsplit

import structlog

from migrator.config import Config
from migrator.traps import TrapGuard
from migrator.urls import canonical_url, host_of, is_http_url

__all__ = ["Scope", "origin_of", "url_pattern"]

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
# A CMS's own machinery, never content: log-in and admin screens, APIs, comment posting,
# search result pages, print views (matched on the path and query).
_MACHINERY = re.compile(
    r"/(?:wp-login\.php|wp-admin/|wp-json/|xmlrpc\.php|wp-comments-post\.php|wp-cron\.php|"
    r"wp-signup\.php|wp-trackback\.php|mt-search\.cgi|mt-comments\.cgi|mt\.cgi|"
    r"cgi-bin/mt/)|[?&](?:action=(?:lostpassword|register|login|logout)|replytocom=|"
    r"share=|s=[^&]*$)",
    re.IGNORECASE,
)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, int] | None:
    """``(host, port)`` of an http(s) URL, the port made explicit; ``None`` if unparseable."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    scheme = parts.scheme.lower()
    if not host or scheme not in _DEFAULT_PORTS:
        return None
    return host, port if port is not None else _DEFAULT_PORTS[scheme]


def _site_origins(url: str) -> set[tuple[str, int]]:
    origin = origin_of(url)
    if origin is None:
        return set()
    host, port = origin
    if port in _DEFAULT_PORTS.values():
        return {(host, p) for p in _DEFAULT_PORTS.values()}
    return {origin}


def _host_and_port(value: str) -> tuple[str, int | None]:
    """``"Host"`` or ``"host:8443"`` (a configured extra host) as ``(host, port)``."""
    text = value.strip().lower()
    parsed = origin_of(text if "://" in text else f"http://{text}")
    if parsed is None:
        return "", None
    explicit = ":" in text.rsplit("]", 1)[-1].split("://", 1)[-1]
    return parsed[0], parsed[1] if explicit else None


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
        origins: ``(host, port)`` pairs in scope: each start URL's host and port (both
            80 and 443 for a default port), each extra host on those ports too, or on
            exactly the port it names (``"cdn.example.com:8443"``). Empty: any port of
            ``hosts`` (a scope built by hand).
        path_prefixes: path prefixes in scope (empty: every path).
        include: compiled include patterns (empty: everything not excluded).
        exclude: compiled exclude patterns.
        max_depth: most link hops from a start URL.
        max_pages: most URLs admitted in one run.
        max_urls_per_pattern: most URLs admitted per :func:`url_pattern`.
        max_query_params: most query parameters a URL may carry.
        max_url_length: longest URL (characters) accepted.
        max_sitemaps: sitemap files read per start, indexes included (discovery).
        max_sitemap_depth: how deep sitemap indexes may nest (discovery).
        detect_traps: refuse crawler traps told by the URL (see :mod:`migrator.traps`).
        earliest_year: calendar URLs dated before this year are traps.
        today: the crawl's date (calendar URLs after next month are traps).
    """

    hosts: frozenset[str]
    origins: frozenset[tuple[str, int]] = frozenset()
    path_prefixes: tuple[str, ...] = ()
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    max_depth: int = 0  # 0: no limit (prev/next chains run as deep as the blog is long)
    max_pages: int = 1_000_000
    max_urls_per_pattern: int = 5_000
    max_query_params: int = 4
    max_url_length: int = 2_048
    max_sitemaps: int = 1_000
    max_sitemap_depth: int = 5
    detect_traps: bool = True
    earliest_year: int = 1990
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    # hash() of each admitted canonical URL: a quarter of the memory of the strings.
    # The www/no-www twin of each start host, folded onto the start host.
    twins: dict[str, str] = field(default_factory=dict)
    # URLs refused by a limit (not by the scope rules), by limit: said in the report.
    limited: Counter[str] = field(default_factory=Counter)
    _seen: set[int] = field(default_factory=set)
    _patterns: Counter[str] = field(default_factory=Counter)
    _warned: set[str] = field(default_factory=set)
    _traps: TrapGuard | None = None

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
        origins = {o for u in start_urls if is_http_url(u) for o in _site_origins(u)}
        ports = {port for _, port in origins} | set(_DEFAULT_PORTS.values())
        for extra in sc.allowed_hosts:
            name, port = _host_and_port(extra)
            if name:
                origins.update((name, p) for p in ([port] if port else ports))
        # The www/no-www twin of each start host (same ports) is the same site.
        twins: dict[str, str] = {}
        named = {h for h, _ in origins}
        for host, port in sorted(o for u in start_urls if is_http_url(u) for o in _site_origins(u)):
            twin = host[4:] if host.startswith("www.") else "www." + host
            if twin not in named and "." in twin and not twin.replace(".", "").isdigit():
                twins[twin] = host
                origins.add((twin, port))
        return cls(
            hosts=frozenset(h for h, _ in origins),
            origins=frozenset(origins),
            twins=twins,
            path_prefixes=tuple(sc.path_prefixes),
            include=tuple(re.compile(p) for p in sc.include),
            exclude=tuple(re.compile(p) for p in sc.exclude),
            max_depth=sc.max_depth,
            max_pages=sc.max_pages,
            max_urls_per_pattern=sc.max_urls_per_pattern,
            max_query_params=sc.max_query_params,
            max_url_length=sc.max_url_length,
            max_sitemaps=sc.max_sitemaps,
            max_sitemap_depth=sc.max_sitemap_depth,
            detect_traps=sc.detect_traps,
            earliest_year=sc.earliest_year,
        )

    def fold(self, url: str) -> str:
        """``url`` with a start host's www/no-www twin replaced by the start host.

        Old blogs link both spellings (``mike-austin.com`` and ``www.mike-austin.com``),
        sitemaps use one, pages the other: one page, one URL.
        """
        if not self.twins:
            return url
        # The host is a substring of the URL (urlsplit neither decodes nor unescapes
        # it): a URL that names no twin anywhere is returned without being parsed,
        # which is almost every link of a crawl (the pipeline folds each one).
        lowered = url.lower()
        if not any(twin in lowered for twin in self.twins):
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
        """True when ``url`` is http(s) on an in-scope origin (host and port)."""
        if not is_http_url(url) or host_of(url) not in self.hosts:
            return False
        return not self.origins or origin_of(url) in self.origins

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
        if _MACHINERY.search(path + ("?" + parts.query if parts.query else "")):
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
        trap = self._trap_guard().check(key) if self.detect_traps else None
        if trap is not None:
            self.limited[f"trap_{trap}"] += 1
            self._warn_once(f"trap_{trap}", "crawler_trap_refused", kind=trap, url=key)
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
        if self.detect_traps:
            self._trap_guard().note(key)
        return True

    def _trap_guard(self) -> TrapGuard:
        if self._traps is None:
            self._traps = TrapGuard(today=self.today, earliest_year=self.earliest_year)
        return self._traps

    def seed(self, urls: Iterable[str]) -> None:
        """Count URLs admitted by an earlier run (resume), without checking them."""
        for url in urls:
            key = canonical_url(url)
            if hash(key) not in self._seen:
                self._seen.add(hash(key))
                self._patterns[url_pattern(key)] += 1
                if self.detect_traps:
                    self._trap_guard().note(key)

    @property
    def exhausted(self) -> bool:
        """True once the page budget is spent: nothing new will be admitted."""
        return len(self._seen) >= self.max_pages

    @property
    def admitted(self) -> int:
        """How many distinct URLs have been admitted (or seeded)."""
        return len(self._seen)

    def _warn_once(self, key: str, event: str, **fields: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(event, **fields)
