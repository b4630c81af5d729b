"""What Hugo and Jekyll exports share: bodies with rewritten links, alias paths, dates.

A :class:`SiteContext` carries the plan, the downloaded assets and the broken-link
list through one export; ``body_for`` and ``related_for`` give a page's Markdown and
related links pointing at the new site; ``alias_paths`` lists the old paths a static
site can serve as redirect pages. Nothing here writes files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from migrator.export.links import Entry, SitePlan
from migrator.export.rewrite import BrokenLink, rewrite_links

__all__ = ["SiteContext", "alias_paths"]


@dataclass(slots=True, kw_only=True)
class SiteContext:
    """One site export's shared state.

    Attributes:
        plan: the new site's map.
        assets: legacy asset URL → new asset path.
        broken: internal links to pages that were not migrated (filled while rendering).
        site_name: the site's title.
    """

    plan: SitePlan
    assets: Mapping[str, str] = field(default_factory=dict)
    broken: list[BrokenLink] = field(default_factory=list)
    site_name: str = "site"

    def body_for(self, entry: Entry) -> str:
        """The page's Markdown with internal links and images pointing at the new site."""
        body = str(entry.record.get("body_markdown") or "")
        text = rewrite_links(
            body, page_url=entry.url, plan=self.plan, assets=self.assets, broken=self.broken
        )
        return text.strip() + "\n"

    def related_for(self, entry: Entry) -> list[dict[str, str]]:
        """The sidebar's related posts as ``{"title", "url"}`` on the new site."""
        related: list[dict[str, str]] = []
        for link in entry.record.get("sidebar_links") or []:
            url = str(link.get("url") or "")
            new = self.plan.resolve(url)
            if new is None:
                self.broken.append(BrokenLink(page=entry.url, url=url))
                new = url
            related.append({"title": str(link.get("label") or ""), "url": new})
        return related

    def featured_for(self, entry: Entry) -> str | None:
        """The featured image's URL on the new site (its downloaded copy when there is one)."""
        image = entry.record.get("featured_image")
        src = str(image.get("src") or "") if isinstance(image, dict) else ""
        if not src.startswith(("http://", "https://")):
            return None
        return self.assets.get(src, src)

    def taken_paths(self) -> set[str]:
        """Every path the new site serves itself (aliases must not shadow them)."""
        paths = {e.new_path for e in self.plan.entries}
        paths.update(s.path for s in self.plan.sections)
        paths.add("/")
        return paths


def alias_paths(old_urls: tuple[str, ...], own: str, taken: set[str]) -> list[str]:
    """The old URLs a static site can answer with a redirect page: paths without query.

    Query-string URLs (``/?p=12``) cannot be files; they go to the server redirect
    outputs only. Paths the new site serves itself, ``..`` segments and control
    characters are left out.

    Args:
        old_urls: absolute legacy URLs.
        own: the page's new path.
        taken: paths the new site serves itself.
    """
    found: list[str] = []
    for url in old_urls:
        parts = urlsplit(url)
        if parts.query:
            continue
        path = unquote(parts.path or "/")
        segments = path.split("/")
        if (
            path in taken
            or path == own
            or any(s in {".", ".."} for s in segments)
            or any(ord(c) < 0x20 or c in '\\"' for c in path)
        ):
            continue
        found.append(path)
    return list(dict.fromkeys(found))


def date_part(value: Any) -> str | None:
    """``YYYY-MM-DD`` of an ISO date or datetime string, or ``None``."""
    text = str(value or "")
    return text[:10] if len(text) >= 10 and text[4] == "-" and text[7] == "-" else None
