"""Reading sitemap and feed XML safely: gzip inflated within the protocol's limit, the
root element sniffed, documents parsed with defusedxml (a document declaring entities
(billion laughs) or external references is rejected, never expanded), tag helpers.
"""

from __future__ import annotations

import re
import zlib
from xml.etree.ElementTree import Element, ParseError

import structlog
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

__all__ = ["MAX_SITEMAP_BYTES", "child_text", "gunzip", "local_name", "parse_xml", "sniff_xml"]

log = structlog.get_logger()

# sitemaps.org: 50,000 URLs and 50 MB uncompressed per file. Read as ``xmlread.
# MAX_SITEMAP_BYTES`` where it is used, so that a test can lower it in one place.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024


def gunzip(body: bytes, base: str) -> bytes | None:
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


def sniff_xml(data: bytes) -> str | None:
    """The root element's local name (``urlset``, ``rss`` …), ``rejected`` for a DTD with
    entities, or ``None`` when the body is not XML."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return None
    if re.search(rb"<!ENTITY", data[:65536], re.IGNORECASE):
        return "rejected"
    match = re.search(rb"<(?![?!])(?:[\w.-]+:)?([\w.-]+)", head)
    return match.group(1).decode("ascii", "replace").lower() if match else None


def parse_xml(data: bytes, base: str) -> Element | None:
    try:
        root: Element = fromstring(data, forbid_dtd=False, forbid_entities=True)
    except DefusedXmlException as exc:
        log.warning("sitemap_rejected", url=base, why=type(exc).__name__)
        return None
    except (ParseError, ValueError) as exc:
        log.warning("xml_malformed", url=base, error=str(exc)[:200])
        return None
    return root


def local_name(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def child_text(element: Element, name: str) -> str | None:
    for child in element:
        if local_name(child.tag) == name:
            text = (child.text or "").strip()
            return text or None
    return None
