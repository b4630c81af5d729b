"""Cached link resolution for the extract stage.

Every page resolves ~50 hrefs (navigation, categories, sidebar, crumbs), mostly the same
site-wide ones, and ``urllib.parse.urljoin`` plus ``canonical_url`` were the largest cost
of ``extract_page`` after Markdown conversion. The results depend only on the href and,
for a relative href, on the base: an absolute href ignores the base, and a root-relative
one (``/blog/x/``) needs only the base's scheme and host. So the cache key drops what
cannot change the answer, and the site-wide links hit the cache from one page to the
next. Pure functions of their arguments; the same answers as ``migrator.urls``.

Within one page, :class:`PageHrefs` resolves each distinct attribute value once and
hands the answer to every field that reads the link (the page's links, the sidebar, the
menus, the page's own addresses): a theme repeats its menu and widget links, and the
fields read the same anchors several times over.
"""

from __future__ import annotations

import functools
import re

from migrator.urls import absolute_url as _absolute_url
from migrator.urls import host_of as _host_of

__all__ = ["PageHrefs", "absolute_url", "host_of"]

_ORIGIN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+")  # a host: "http://" alone is relative


def absolute_url(href: str | None, base: str) -> str | None:
    """``migrator.urls.absolute_url``, memoized on what the answer depends on."""
    if href is None:
        return None
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    if _ORIGIN.match(href) and "\\" not in href:
        return _cached(href, "")
    if href.startswith("/") and not href.startswith("//") and "\\" not in href:
        origin = _ORIGIN.match(base)
        if origin is not None:
            return _cached(href, origin.group(0) + "/")
    return _cached(href, base)


@functools.lru_cache(maxsize=16384)
def _cached(href: str, base: str) -> str | None:
    return _absolute_url(href, base)


@functools.lru_cache(maxsize=4096)
def host_of(url: str) -> str:
    """``migrator.urls.host_of``, memoized."""
    return _host_of(url)


# The answers for hrefs that do not depend on the page beyond its origin (absolute and
# root-relative ones, and those that are no link at all), keyed by ``(origin, href)`` as
# written: a theme's menus and widgets repeat the same hundreds of hrefs on every page,
# and this look-up skips the stripping, the pattern tests and the cache key of
# ``absolute_url``. Bounded: emptied when full (the site-wide ones come straight back).
_SITE_WIDE: dict[tuple[str | None, str], str | None] = {}
_MAX_SITE_WIDE = 20_000


def _origin_only(href: str, has_origin: bool) -> bool:
    """Whether ``absolute_url(href, base)`` reads no more of ``base`` than its origin
    (``has_origin``: the base has one; without it a root-relative href reads it all)."""
    href = href.strip()
    if not href or href.startswith("#"):
        return True
    if "\\" in href:
        return False
    if _ORIGIN.match(href):
        return True
    return has_origin and href.startswith("/") and not href.startswith("//")


class PageHrefs:
    """One page's hrefs, each distinct attribute value resolved once against its base.

    ``resolve(href)`` is ``absolute_url(href, base)``; the memo lives as long as the
    page's extraction (one dictionary look-up for every repeat), and the hrefs whose
    answer only depends on the base's origin are shared with the next pages.
    """

    __slots__ = ("_origin", "_urls", "base")

    def __init__(self, base: str) -> None:
        self.base = base
        self._urls: dict[str | None, str | None] = {}
        origin = _ORIGIN.match(base)
        self._origin = origin.group(0) if origin is not None else None

    def resolve(self, href: str | None) -> str | None:
        """The absolute canonical URL of ``href`` on this page (``None``: not a link)."""
        try:
            return self._urls[href]
        except KeyError:
            pass
        if href is None:
            url = self._urls[href] = None
            return url
        key = (self._origin, href)
        try:
            url = _SITE_WIDE[key]
        except KeyError:
            url = absolute_url(href, self.base)
            if _origin_only(href, self._origin is not None):
                if len(_SITE_WIDE) >= _MAX_SITE_WIDE:
                    _SITE_WIDE.clear()
                _SITE_WIDE[key] = url
        self._urls[href] = url
        return url
