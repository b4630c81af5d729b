"""Discovery: the URLs a crawl starts from, read from sitemaps, robots.txt and feeds.

``discover_start`` turns one START (a site root or a sitemap URL) into
:class:`~migrator.models.Discovered` URLs: the start page itself, every page listed by
the sitemaps that robots.txt names or that sit at ``/sitemap.xml`` (indexes followed
recursively, gzip understood), and the items of the site's ``/feed/``. The pure
parsers ``parse_sitemap`` and ``parse_feed`` are shared with the pipeline, which finds
further feeds and links in HTML. XML is parsed with defusedxml: a document declaring
entities (billion laughs) or external references is rejected, never expanded. This
module does not follow links in HTML and does not decide scope: the pipeline filters.
"""

from __future__ import annotations

import email.utils
import io
import re
import zlib
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

import structlog
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring, iterparse

from migrator.errors import FetchError
from migrator.fetch import Fetcher
from migrator.models import Discovered
from migrator.urls import absolute_url, canonical_url

__all__ = ["discover_start", "is_sitemap_url", "iter_sitemap", "parse_feed", "parse_sitemap"]

log = structlog.get_logger()

# sitemaps.org: 50,000 URLs and 50 MB uncompressed per file.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
XML_TYPES: tuple[str, ...] = ()  # sitemaps come as anything: xml, gzip, text, octet-stream
_LOC = re.compile(rb"<loc>\s*(.*?)\s*</loc>", re.IGNORECASE | re.DOTALL)
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
    queue: deque[tuple[str, int]] = deque((u, 0) for u in roots)
    # Hashes of the files read (a 1,000-file walk holds 1,000 ints).
    done: set[int] = set()
    read = 0
    skipped = 0  # child sitemaps left unread for max_sitemaps (at least)
    too_deep = 0
    while queue and read < max_files:
        url, depth = queue.popleft()
        key = hash(canonical_url(url))
        if key in done:
            continue
        done.add(key)
        if not scope.allows_host(url):
            log.warning("sitemap_out_of_scope", url=url)
            continue
        read += 1
        body = await _get(fetcher, url, quiet=url in quiet_missing)
        if body is None:
            continue
        pages = 0
        children = 0
        # Never hold more child sitemaps than could still be read: an index of 50,000
        # indexes of 50,000 would otherwise queue them all (1.87 GB seen). Once that
        # many are kept, the rest of an index is not even parsed (resolving 50,000
        # URLs took 5 s).
        capacity = max_files - read
        kept: list[tuple[str, int]] = []
        truncated = False

        def cut() -> None:
            nonlocal truncated
            truncated = True

        for entry in iter_sitemap(body, url, on_truncated=cut):
            if isinstance(entry, str):
                children += 1
                if depth >= max_depth:
                    too_deep += 1
                    if pages == 0:
                        break  # an index at the depth limit: none of its children is read
                elif len(kept) < capacity:
                    kept.append((entry, depth + 1))
                else:
                    skipped += 1
                    if pages == 0:
                        break  # a full index: nothing more to learn from it
            else:
                pages += 1
                yield entry
        del body
        if truncated:
            scope.limited["max_sitemap_bytes"] += 1
        if kept:
            # Depth first: an index's children are read before its siblings, so a
            # fan-out of indexes reaches the sitemaps that list pages (and max_pages)
            # within the file budget; when the budget cannot hold them all, the
            # siblings queued last give way.
            while queue and len(queue) + len(kept) > capacity:
                queue.pop()
                skipped += 1
            queue.extendleft(reversed(kept))
        log.info("sitemap_read", url=url, urls=pages, sitemaps=children)
    unread = skipped + sum(1 for u, _ in queue if hash(canonical_url(u)) not in done)
    if unread:
        scope.limited["max_sitemaps"] += unread
        log.warning("sitemap_limit_reached", limit=max_files, read=read, skipped_at_least=unread)
    if too_deep:
        scope.limited["max_sitemap_depth"] += too_deep
        log.warning("sitemap_too_deep", limit=max_depth, indexes=too_deep)


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
    return body is not None and _sniff_xml(_gunzip(body, url) or b"") in {"urlset", "sitemapindex"}


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


# --------------------------------------------------------------------- parsing


def parse_sitemap(body: bytes, base: str) -> tuple[list[Discovered], list[str]]:
    """Parse a sitemap, a sitemap index, a gzipped one, a text sitemap or a feed.

    Args:
        body: the bytes as fetched (gzip is detected by its magic number).
        base: the sitemap's own URL (referrer, and base for relative ``<loc>``).

    Returns:
        ``(pages, child_sitemaps)``: pages with ``via="sitemap"`` and their
        ``<lastmod>``; child sitemap URLs of an index. Both empty for an unreadable or
        rejected (entity-declaring) document.
    """
    pages: list[Discovered] = []
    children: list[str] = []
    for entry in iter_sitemap(body, base):
        if isinstance(entry, str):
            children.append(entry)
        else:
            pages.append(entry)
    return pages, children


def iter_sitemap(
    body: bytes, base: str, *, on_truncated: Callable[[], None] | None = None
) -> Iterator[Discovered | str]:
    """Stream the entries of a sitemap: pages as ``Discovered``, child sitemaps as ``str``.

    What :func:`parse_sitemap` returns, one entry at a time: an XML sitemap is read with
    ``iterparse`` and each ``<url>`` element is dropped once read, so memory stays flat
    however many URLs the file lists (a whole-tree parse of a 50,000-URL sitemap costs
    about 30 MB). A gzipped sitemap is inflated as it is parsed, never whole: one of
    2,000,000 URLs (110 MB inflated) is read up to :data:`MAX_SITEMAP_BYTES`, the
    protocol's limit, and the entries read so far are kept (``on_truncated`` is called).
    A malformed document falls back to the ``<loc>`` salvage, which may repeat entries
    already yielded.
    """
    if body.startswith(b"\x1f\x8b"):
        head = _Inflating(body, base, limit=64 * 1024).read()
        if not head:
            return
    else:
        head = body
    kind = _sniff_xml(head)
    if kind in {None, "rss", "feed", "rdf"}:
        data = _gunzip(body, base)  # text sitemaps and feeds are small: read whole
        if data is None:
            return
        if kind is None:
            yield from _parse_text_sitemap(data, base)
        else:
            yield from parse_feed(data, base)
        return
    if kind == "rejected":
        log.warning("sitemap_rejected", url=base, why="EntitiesForbidden")
        return
    source: io.RawIOBase | io.BytesIO
    source = (
        _Inflating(body, base, limit=MAX_SITEMAP_BYTES) if head is not body else io.BytesIO(body)
    )
    try:
        yield from _stream_xml_sitemap(source, base)
    except DefusedXmlException as exc:
        log.warning("sitemap_rejected", url=base, why=type(exc).__name__)
    except (ParseError, ValueError) as exc:
        if isinstance(source, _Inflating) and source.truncated:
            log.warning("sitemap_truncated", url=base, limit=MAX_SITEMAP_BYTES)
            if on_truncated is not None:
                on_truncated()
            return
        if isinstance(source, _Inflating) and source.broken:
            return
        log.warning("xml_malformed", url=base, error=str(exc)[:200])
        data = body if head is body else _gunzip(body, base)
        if data is None:
            return
        pages, children = _salvage_locs(data, base, index=kind == "sitemapindex")
        yield from pages
        yield from children


class _Inflating(io.RawIOBase):
    """A gzip body as a file that inflates on read, stopping at ``limit`` bytes out.

    ``truncated`` tells that the limit cut the document short; ``broken`` that the gzip
    stream itself is bad (logged as ``sitemap_rejected``).
    """

    def __init__(self, body: bytes, base: str, *, limit: int) -> None:
        super().__init__()
        self._body = memoryview(body)
        self._pos = 0
        self._base = base
        self._left = limit
        self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.truncated = False
        self.broken = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._left)
        out = b""
        try:
            while not out and not self._decoder.eof and (want > 0):
                pending: bytes | memoryview = self._decoder.unconsumed_tail
                if not pending:
                    if self._pos >= len(self._body):
                        break
                    pending = self._body[self._pos : self._pos + 65536]
                    self._pos += len(pending)
                out = self._decoder.decompress(pending, want)
        except zlib.error:
            if not self.broken:
                log.warning("sitemap_rejected", url=self._base, why="bad_gzip")
            self.broken = True
            return 0
        if want == 0 and not self._decoder.eof and len(buffer) > 0:
            self.truncated = True
        self._left -= len(out)
        buffer[: len(out)] = out
        return len(out)


def _stream_xml_sitemap(source: io.RawIOBase | io.BytesIO, base: str) -> Iterator[Discovered | str]:
    root: Element | None = None
    depth = 0
    events = iterparse(source, events=("start", "end"), forbid_entities=True)
    for event, element in events:
        if event == "start":
            if root is None:
                root = element
            depth += 1
            continue
        depth -= 1
        if depth != 1:  # only the root's children are entries
            continue
        name = _local(element.tag)
        loc = _child_text(element, "loc")
        url = absolute_url(loc, base) if loc else None
        if url is not None:
            if name == "sitemap":
                yield url
            elif name == "url":
                lastmod = _child_text(element, "lastmod")
                yield Discovered(url=url, via="sitemap", referrer=base, lastmod=lastmod)
        if root is not None:
            root.clear()  # drop the entries read so far


def parse_feed(body: bytes, base: str) -> list[Discovered]:
    """Parse an RSS 2.0, RSS 1.0 (RDF) or Atom feed into its items' URLs.

    Args:
        body: the feed's bytes (gzip detected).
        base: the feed's URL (referrer, and base for relative links).

    Returns:
        Items with ``via="feed"``; ``lastmod`` is the item's date as ISO 8601 when it
        parses (RSS ``pubDate`` is RFC 822), else as given. Empty when unreadable.
    """
    data = _gunzip(body, base)
    root = _parse_xml(data, base) if data is not None else None
    if root is None:
        return []
    found: list[Discovered] = []
    for item in root.iter():
        name = _local(item.tag)
        if name not in {"item", "entry"}:
            continue
        href: str | None = None
        if name == "entry":  # Atom: <link rel="alternate" href="…"/> (rel defaults to it)
            for link in item:
                if _local(link.tag) == "link" and link.get("rel", "alternate") == "alternate":
                    href = link.get("href")
                    break
            date = _child_text(item, "updated") or _child_text(item, "published")
        else:
            href = _child_text(item, "link") or item.get(
                "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
            )
            guid = next((g for g in item if _local(g.tag) == "guid"), None)
            if not href and guid is not None and guid.get("isPermaLink", "true") == "true":
                href = (guid.text or "").strip()
            date = _child_text(item, "pubDate") or _child_text(item, "date")
        url = absolute_url(href, base)
        if url is not None:
            found.append(Discovered(url=url, via="feed", referrer=base, lastmod=_iso_date(date)))
    return found


def _gunzip(body: bytes, base: str) -> bytes | None:
    """Inflate a gzip body (bounded: a bomb is refused), or return it unchanged."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = decoder.decompress(body, MAX_SITEMAP_BYTES + 1)
    except zlib.error:
        log.warning("sitemap_rejected", url=base, why="bad_gzip")
        return None
    if len(data) > MAX_SITEMAP_BYTES:
        log.warning("sitemap_rejected", url=base, why="too_large")
        return None
    return data


def _sniff_xml(data: bytes) -> str | None:
    """The root element's local name (``urlset``, ``rss`` …), ``rejected`` for a DTD with
    entities, or ``None`` when the body is not XML."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return None
    if re.search(rb"<!ENTITY", data[:65536], re.IGNORECASE):
        return "rejected"
    match = re.search(rb"<(?![?!])(?:[\w.-]+:)?([\w.-]+)", head)
    return match.group(1).decode("ascii", "replace").lower() if match else None


def _parse_xml(data: bytes, base: str) -> Element | None:
    try:
        root: Element = fromstring(data, forbid_dtd=False, forbid_entities=True)
    except DefusedXmlException as exc:
        log.warning("sitemap_rejected", url=base, why=type(exc).__name__)
        return None
    except (ParseError, ValueError) as exc:
        log.warning("xml_malformed", url=base, error=str(exc)[:200])
        return None
    return root


def _salvage_locs(data: bytes, base: str, *, index: bool) -> tuple[list[Discovered], list[str]]:
    """Legacy generators emit bare ``&`` in URLs: read ``<loc>`` values by pattern."""
    urls = []
    for match in _LOC.finditer(data):
        text = match.group(1).decode("utf-8", "replace").replace("&amp;", "&")
        url = absolute_url(text, base)
        if url is not None:
            urls.append(url)
    if urls:
        log.info("sitemap_salvaged", url=base, urls=len(urls))
    if index:
        return [], urls
    return [Discovered(url=u, via="sitemap", referrer=base) for u in urls], []


def _parse_text_sitemap(data: bytes, base: str) -> list[Discovered]:
    """A text sitemap: one absolute URL per line (sitemaps.org allows it)."""
    found = []
    for raw_line in data.decode("utf-8", "replace").splitlines():
        line = raw_line.strip()
        if line.startswith(("http://", "https://")):
            url = absolute_url(line, base)
            if url is not None:
                found.append(Discovered(url=url, via="sitemap", referrer=base))
    return found


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element: Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            text = (child.text or "").strip()
            return text or None
    return None


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return value
    try:
        return email.utils.parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        return value


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
