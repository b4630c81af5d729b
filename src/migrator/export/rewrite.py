"""Link rewriting: a page body's internal links pointed at the new site's paths.

``rewrite_links`` points a Markdown body's internal links and image references at the
paths the site plan (``links.build_plan``) gave them and reports those that lead to pages
that were not migrated; ``markdown_targets`` lists every URL a body references. It
writes no files and fetches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from migrator.export.links import PAGE_SUFFIX, SitePlan
from migrator.urls import absolute_url, host_of

__all__ = ["BrokenLink", "markdown_targets", "rewrite_links"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokenLink:
    """An internal link to a page that was not migrated (kept pointing at the old URL)."""

    page: str
    url: str


_MD_TARGET = re.compile(r"(\]\(\s*<?)([^)\s>]+)(>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\))")
_REF_DEF = re.compile(r"^( {0,3}\[[^\]]+\]:[ \t]*<?)(\S+?)(>?(?:[ \t].*)?)$", re.MULTILINE)
_HTML_ATTR = re.compile(r"""(\b(?:href|src)\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE)


def rewrite_links(
    markdown: str,
    *,
    page_url: str,
    plan: SitePlan,
    assets: Mapping[str, str],
    broken: list[BrokenLink],
) -> str:
    """Point internal links and image references of a Markdown body at the new site.

    Args:
        markdown: the body.
        page_url: the page's legacy URL (relative links resolve against it).
        plan: the site plan.
        assets: legacy asset URL → new asset path (downloaded images).
        broken: receives a :class:`BrokenLink` for each internal link to a page that was
            not migrated; such links keep their absolute legacy URL.

    Returns:
        The rewritten body. External links are left as they are.
    """

    def target(href: str) -> str:
        return _rewrite_one(href, page_url=page_url, plan=plan, assets=assets, broken=broken)

    text = _MD_TARGET.sub(lambda m: m[1] + target(m[2]) + m[3], markdown)
    text = _REF_DEF.sub(lambda m: m[1] + target(m[2]) + m[3], text)
    return _HTML_ATTR.sub(lambda m: m[1] + m[2] + target(m[3]) + m[2], text)


def _rewrite_one(
    href: str,
    *,
    page_url: str,
    plan: SitePlan,
    assets: Mapping[str, str],
    broken: list[BrokenLink],
) -> str:
    if href.startswith("#"):
        return href
    absolute = absolute_url(href, page_url)
    if absolute is None or host_of(absolute) not in plan.hosts:
        return href
    fragment = "#" + href.split("#", 1)[1] if "#" in href else ""
    if absolute in assets:
        return assets[absolute]
    new = plan.resolve(absolute)
    if new is not None:
        return new + fragment
    if _looks_like_file(absolute):
        return absolute + fragment  # an asset not downloaded: keep the legacy address
    broken.append(BrokenLink(page=page_url, url=absolute))
    return absolute + fragment


def _looks_like_file(url: str) -> bool:
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    return "." in last and not PAGE_SUFFIX.search(last)


def markdown_targets(markdown: str, page_url: str) -> Iterable[str]:
    """Every absolute URL a Markdown body references (links, images, raw HTML)."""
    for pattern, group in ((_MD_TARGET, 2), (_REF_DEF, 2), (_HTML_ATTR, 3)):
        for match in pattern.finditer(markdown):
            absolute = absolute_url(match[group], page_url)
            if absolute is not None:
                yield absolute
