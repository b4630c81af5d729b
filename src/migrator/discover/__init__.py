"""Discovery: the URLs a crawl starts from, read from sitemaps, robots.txt and feeds.

``discover_start`` turns one START (a site root or a sitemap URL) into
:class:`~migrator.models.Discovered` URLs: the start page itself, every page listed by
the sitemaps that robots.txt names or that sit at ``/sitemap.xml`` (indexes followed
recursively, gzip understood), and the items of the site's ``/feed/``. The pure
parsers ``parse_sitemap`` and ``parse_feed`` are shared with the pipeline, which finds
further feeds and links in HTML. XML is parsed with defusedxml: a document declaring
entities (billion laughs) or external references is rejected, never expanded. This
module does not follow links in HTML and does not decide scope: the pipeline filters.

One module a concern: this one fetches (the START, robots.txt, the sitemap walk, the
feed); ``sitemaps`` and ``feeds`` parse, ``xmlread`` reads XML safely. The parsers'
names are re-exported here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlsplit

import structlog

from migrator.discover.feeds import parse_feed
from migrator.discover.sitemaps import iter_sitemap, parse_sitemap
from migrator.discover.xmlread import gunzip, sniff_xml
from migrator.errors import FetchError
from migrator.fetch import Fetcher
from migrator.models import Discovered
from migrator.scope import Scope
from migrator.urls import canonical_url

__all__ = ["discover_start", "is_sitemap_url", "iter_sitemap", "parse_feed", "parse_sitemap"]

log = structlog.get_logger()

XML_TYPES: tuple[str, ...] = ()  # sitemaps come as anything: xml, gzip, text, octet-stream
_FEED_PATHS = ("/feed/",)


def is_sitemap_url(url: str) -> bool:
    """True when the URL names a sitemap (``*.xml``, ``*.xml.gz`` or ``…sitemap…``)."""
    path = urlsplit(url).path.lower()
    name = path.rsplit("/", 1)[-1]
    return name.endswith((".xml", ".xml.gz")) or "sitemap" in name


async def discover_start(fetcher: Fetcher, start: str) -> AsyncGenerator[Discovered, None]:
    """Yield the URLs found from one START, each once, with how it was found.

    A sitemap START (see :func:`is_sitemap_url`) is read, recursively, and nothing
    else; if its body turns out not to be a sitemap it is treated as a page. Any other
    START yields itself (``via="start"``), then the pages of the sitemaps listed in
    robots.txt and at ``/sitemap.xml``, then the items of ``/feed/``. Failures of
    single sitemaps or feeds are logged and skipped.

    Args:
        fetcher: an open fetcher (robots, politeness and retries apply).
        start: the START URL.

    Yields:
        Discovered URLs, canonical, not yet filtered by scope.
    """
    # Hashes, not the URLs: a 50,000-URL site costs 2 MB here instead of 8 (a collision,
    # about 1 in 10^10 at that size, would only drop one discovered URL).
    seen: set[int] = set()

    def fresh(found: Discovered) -> bool:
        key = hash(found.url)
        if key in seen:
            return False
        seen.add(key)
        return True

    if is_sitemap_url(start):
        walked = 0
        async for found in _walk_sitemaps(fetcher, [start]):
            walked += 1
            if fresh(found):
                yield found
        if walked == 0 and not await _is_sitemap(fetcher, start):
            yield Discovered(url=canonical_url(start), via="start")
        return

    root = canonical_url(start)
    seen.add(hash(root))
    yield Discovered(url=root, via="start")
    origin = _origin(start)
    sitemaps: list[str] = []
    try:
        robots = await fetcher.robots_for(start)
        sitemaps.extend(robots.sitemaps)
    except FetchError as exc:  # pragma: no cover - robots_for degrades, never raises
        log.warning("robots_unreadable", url=start, reason=exc.reason)
    default = origin + "/sitemap.xml"
    if canonical_url(default) not in {canonical_url(s) for s in sitemaps}:
        sitemaps.append(default)
    async for found in _walk_sitemaps(fetcher, sitemaps, quiet_missing={default}):
        if fresh(found):
            yield found
    for path in _FEED_PATHS:
        for found in await _read_feed(fetcher, origin + path):
            if fresh(found):
                yield found


@dataclass
class _Walk:
    """Where a sitemap walk stands: the files still to read (depth first) and what the
    bounds left unread."""

    queue: deque[tuple[str, int]]
    # Hashes of the files read (a 1,000-file walk holds 1,000 ints).
    done: set[int] = field(default_factory=set)
    read: int = 0
    skipped: int = 0  # child sitemaps left unread for max_sitemaps (at least)
    too_deep: int = 0

    def take(self, url: str) -> bool:
        """True the first time ``url`` comes up (each file is read once)."""
        key = hash(canonical_url(url))
        if key in self.done:
            return False
        self.done.add(key)
        return True

    def push_children(self, kept: list[tuple[str, int]], capacity: int) -> None:
        """Depth first: an index's children are read before its siblings, so a fan-out
        of indexes reaches the sitemaps that list pages (and max_pages) within the file
        budget; when the budget cannot hold them all, the siblings queued last give way."""
        while self.queue and len(self.queue) + len(kept) > capacity:
            self.queue.pop()
            self.skipped += 1
        self.queue.extendleft(reversed(kept))

    def report(self, scope: Scope) -> None:
        """Count and log what the bounds left unread, in ``scope.limited``."""
        done = self.done
        unread = self.skipped + sum(1 for u, _ in self.queue if hash(canonical_url(u)) not in done)
        if unread:
            scope.limited["max_sitemaps"] += unread
            log.warning(
                "sitemap_limit_reached",
                limit=scope.max_sitemaps,
                read=self.read,
                skipped_at_least=unread,
            )
        if self.too_deep:
            scope.limited["max_sitemap_depth"] += self.too_deep
            log.warning("sitemap_too_deep", limit=scope.max_sitemap_depth, indexes=self.too_deep)


async def _walk_sitemaps(
    fetcher: Fetcher, roots: list[str], *, quiet_missing: set[str] | frozenset[str] = frozenset()
) -> AsyncIterator[Discovered]:
    """Fetch sitemaps depth first, following indexes; yield the page URLs.

    Bounded by ``scope.max_sitemaps`` files (indexes included) and
    ``scope.max_sitemap_depth`` nesting. What a bound left unread is counted in
    ``scope.limited`` (``max_sitemaps``, ``max_sitemap_depth``, ``max_sitemap_bytes``),
    so the run's report says which limit stopped the walk (``max_sitemap_depth`` counts
    the indexes whose children were too deep).
    """
    scope = fetcher.scope
    max_files, max_depth = scope.max_sitemaps, scope.max_sitemap_depth
    walk = _Walk(deque((u, 0) for u in roots))
    while walk.queue and walk.read < max_files:
        url, depth = walk.queue.popleft()
        if not walk.take(url):
            continue
        if not scope.allows_host(url):
            log.warning("sitemap_out_of_scope", url=url)
            continue
        walk.read += 1
        body = await _get(fetcher, url, quiet=url in quiet_missing)
        if body is None:
            continue
        pages = 0
        children = 0
        # Never hold more child sitemaps than could still be read: an index of 50,000
        # indexes of 50,000 would otherwise queue them all (1.87 GB seen). Once that
        # many are kept, the rest of an index is not even parsed (resolving 50,000
        # URLs took 5 s).
        capacity = max_files - walk.read
        kept: list[tuple[str, int]] = []
        truncated: list[bool] = []
        for entry in iter_sitemap(body, url, on_truncated=partial(truncated.append, True)):
            if isinstance(entry, str):
                children += 1
                if depth >= max_depth:
                    walk.too_deep += 1
                    if pages == 0:
                        break  # an index at the depth limit: none of its children is read
                elif len(kept) < capacity:
                    kept.append((entry, depth + 1))
                else:
                    walk.skipped += 1
                    if pages == 0:
                        break  # a full index: nothing more to learn from it
            else:
                pages += 1
                yield entry
        del body
        if truncated:
            scope.limited["max_sitemap_bytes"] += 1
        if kept:
            walk.push_children(kept, capacity)
        log.info("sitemap_read", url=url, urls=pages, sitemaps=children)
    walk.report(scope)


async def _get(fetcher: Fetcher, url: str, *, quiet: bool = False) -> bytes | None:
    """The body of a 2xx answer, or ``None`` (logged) for anything else."""
    try:
        raw = await fetcher.fetch(url, accept=XML_TYPES)
    except FetchError as exc:
        log.warning("discovery_fetch_failed", url=url, reason=exc.reason, status=exc.status)
        return None
    if not 200 <= raw.status < 300:
        if not quiet:
            log.warning("discovery_fetch_failed", url=url, status=raw.status)
        return None
    return raw.body


async def _is_sitemap(fetcher: Fetcher, url: str) -> bool:
    body = await _get(fetcher, url, quiet=True)
    return body is not None and sniff_xml(gunzip(body, url) or b"") in {"urlset", "sitemapindex"}


async def _read_feed(fetcher: Fetcher, url: str) -> list[Discovered]:
    if not fetcher.scope.allows_host(url):
        return []
    body = await _get(fetcher, url, quiet=True)
    if body is None:
        return []
    found = parse_feed(body, url)
    if found:
        log.info("feed_read", url=url, urls=len(found))
    return found


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
