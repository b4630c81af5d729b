"""Feeds: the items of an RSS 2.0, RSS 1.0 (RDF) or Atom feed as discovered URLs."""

from __future__ import annotations

import email.utils
import re

from migrator.discover.xmlread import child_text, gunzip, local_name, parse_xml
from migrator.models import Discovered
from migrator.urls import absolute_url

__all__ = ["parse_feed"]


def parse_feed(body: bytes, base: str) -> list[Discovered]:
    """Parse an RSS 2.0, RSS 1.0 (RDF) or Atom feed into its items' URLs.

    Args:
        body: the feed's bytes (gzip detected).
        base: the feed's URL (referrer, and base for relative links).

    Returns:
        Items with ``via="feed"``; ``lastmod`` is the item's date as ISO 8601 when it
        parses (RSS ``pubDate`` is RFC 822), else as given. Empty when unreadable.
    """
    data = gunzip(body, base)
    root = parse_xml(data, base) if data is not None else None
    if root is None:
        return []
    found: list[Discovered] = []
    for item in root.iter():
        name = local_name(item.tag)
        if name not in {"item", "entry"}:
            continue
        href: str | None = None
        if name == "entry":  # Atom: <link rel="alternate" href="…"/> (rel defaults to it)
            for link in item:
                if local_name(link.tag) == "link" and link.get("rel", "alternate") == "alternate":
                    href = link.get("href")
                    break
            date = child_text(item, "updated") or child_text(item, "published")
        else:
            href = child_text(item, "link") or item.get(
                "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
            )
            guid = next((g for g in item if local_name(g.tag) == "guid"), None)
            if not href and guid is not None and guid.get("isPermaLink", "true") == "true":
                href = (guid.text or "").strip()
            date = child_text(item, "pubDate") or child_text(item, "date")
        url = absolute_url(href, base)
        if url is not None:
            found.append(Discovered(url=url, via="feed", referrer=base, lastmod=_iso_date(date)))
    return found


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return value
    try:
        return email.utils.parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        return value
