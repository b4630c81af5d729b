"""Sitemaps: XML sitemaps and indexes streamed entry by entry, gzipped ones inflated as
they are read, text sitemaps, and the ``<loc>`` salvage of malformed ones.

Pure parsing: no fetching (the walk over indexes is ``discover``'s). A feed where a
sitemap was expected is read by ``feeds``.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable, Iterator
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import structlog
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from migrator.discover import xmlread
from migrator.discover.feeds import parse_feed
from migrator.discover.xmlread import child_text, gunzip, local_name, sniff_xml
from migrator.models import Discovered
from migrator.urls import absolute_url

__all__ = ["iter_sitemap", "parse_sitemap"]

log = structlog.get_logger()

_LOC = re.compile(rb"<loc>\s*(.*?)\s*</loc>", re.IGNORECASE | re.DOTALL)


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
    2,000,000 URLs (110 MB inflated) is read up to :data:`xmlread.MAX_SITEMAP_BYTES`, the
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
    kind = sniff_xml(head)
    if kind in {None, "rss", "feed", "rdf"}:
        data = gunzip(body, base)  # text sitemaps and feeds are small: read whole
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
        _Inflating(body, base, limit=xmlread.MAX_SITEMAP_BYTES)
        if head is not body
        else io.BytesIO(body)
    )
    try:
        yield from _stream_xml_sitemap(source, base)
    except DefusedXmlException as exc:
        log.warning("sitemap_rejected", url=base, why=type(exc).__name__)
    except (ParseError, ValueError) as exc:
        if isinstance(source, _Inflating) and source.truncated:
            log.warning("sitemap_truncated", url=base, limit=xmlread.MAX_SITEMAP_BYTES)
            if on_truncated is not None:
                on_truncated()
            return
        if isinstance(source, _Inflating) and source.broken:
            return
        log.warning("xml_malformed", url=base, error=str(exc)[:200])
        data = body if head is body else gunzip(body, base)
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
        name = local_name(element.tag)
        loc = child_text(element, "loc")
        url = absolute_url(loc, base) if loc else None
        if url is not None:
            if name == "sitemap":
                yield url
            elif name == "url":
                lastmod = child_text(element, "lastmod")
                yield Discovered(url=url, via="sitemap", referrer=base, lastmod=lastmod)
        if root is not None:
            root.clear()  # drop the entries read so far


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
