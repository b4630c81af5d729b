"""The new site's map: which legacy URL becomes which new path.

``build_plan`` reads the migration database once and decides, for every live page, its
slug, category and new path (``[export] base_path`` + ``permalink``), the sections
(category folders) those paths create, and every legacy URL that should land on each
of them: the page's URL, canonical and requested URLs, aliases and redirects observed
on the legacy site, breadcrumb and listing URLs for the sections. ``rewrite`` points
bodies' links at the new paths. It writes no files and fetches nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from migrator.config import ExportConfig
from migrator.load import Store
from migrator.urls import canonical_url, host_of

__all__ = [
    "PAGE_SUFFIX",
    "Entry",
    "SectionPlan",
    "SitePlan",
    "build_plan",
    "legacy_path",
    "slugify",
]

_NON_WORD = re.compile(r"[^\w]+")
_PAGINATION = re.compile(r"/page/\d+/?$")
# A page file's suffix: dropped from slugs (``rewrite`` takes any other for a file).
PAGE_SUFFIX = re.compile(r"\.(?:html?|php|aspx?|jsp)$", re.IGNORECASE)
_MAX_SLUG = 80


def slugify(text: str) -> str:
    """A lower-case slug of word characters (any script) and hyphens; may be empty."""
    text = unicodedata.normalize("NFKC", unquote(text)).lower()
    slug = _NON_WORD.sub("-", text.replace("_", "-")).strip("-")
    return slug[:_MAX_SLUG].strip("-")


def legacy_path(url: str) -> str:
    """The path and query of a legacy URL (``/blog/x/``, ``/?p=12``), as a server sees it."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One exported page.

    Attributes:
        record: the stored record (``Page.to_record()``).
        kind: ``post`` (dated, in a category folder) or ``page`` (static, at the top).
        slug: the page's slug.
        category: the label of its category (from the breadcrumbs), if any.
        categories: every category label for the front matter.
        new_path: its path on the new site (``/posts/self-care/slug/``).
        old_urls: the legacy URLs that should land on it, its own first.
        first_seen: when the migration first saw it (a fallback date).
    """

    record: Mapping[str, Any]
    kind: Literal["post", "page"]
    slug: str
    category: str | None
    categories: tuple[str, ...]
    new_path: str
    old_urls: tuple[str, ...]
    first_seen: str | None = None

    @property
    def url(self) -> str:
        """The page's URL in the migration database."""
        return str(self.record["url"])


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionPlan:
    """A folder of the new site (``/posts/``, ``/posts/self-care/``) with a list page."""

    path: str
    title: str
    old_urls: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class SitePlan:
    """The whole new site: entries, sections, and legacy URL → new path.

    Attributes:
        entries: exported pages, in database order.
        sections: category folders and their parents.
        targets: canonical legacy URL → new path (pages, sections, aliases).
        hosts: the legacy site's host names (links to them are internal).
        unmapped: legacy URLs seen (listings, redirects) that lead to no new path.
        statuses: canonical legacy URL → the 3xx the legacy site redirected it with,
            where the crawl stored one (a server redirect file keeps a 302 temporary).
    """

    entries: list[Entry] = field(default_factory=list)
    sections: list[SectionPlan] = field(default_factory=list)
    targets: dict[str, str] = field(default_factory=dict)
    hosts: frozenset[str] = frozenset()
    unmapped: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def resolve(self, url: str) -> str | None:
        """The new path for a legacy URL (any spelling ``canonical_url`` folds), or ``None``."""
        key = canonical_url(url)
        found = self.targets.get(key)
        if found is None:
            twin = key[:-1] if key.endswith("/") else key + "/"
            found = self.targets.get(twin)
        return found


def _category(record: Mapping[str, Any]) -> tuple[str | None, str | None, list[str]]:
    """The category crumb (label, url) and the crumb URLs above it (not the root).

    The category is the crumb just before the page's own crumb (the current one, or the
    one labelled with the title); the site root crumb never counts, as in the
    ``posts`` view.
    """
    crumbs = list(record.get("breadcrumbs") or [])
    title = (record.get("title") or "").strip()
    end = len(crumbs)
    for i, crumb in enumerate(crumbs):
        if crumb.get("current") or (title and crumb.get("label", "").strip() == title):
            end = i
            break
    trail = [
        c
        for i, c in enumerate(crumbs[:end])
        if not (i == 0 and c.get("url") and urlsplit(c["url"]).path in {"", "/"})
    ]
    if not trail:
        return None, None, []
    last = trail[-1]
    parents = [str(c["url"]) for c in trail[:-1] if c.get("url")]
    return str(last.get("label") or "").strip() or None, last.get("url"), parents


def _slug_for(record: Mapping[str, Any]) -> str:
    segments = [s for s in urlsplit(str(record["url"])).path.split("/") if s]
    if segments:
        slug = slugify(PAGE_SUFFIX.sub("", segments[-1]))
        if slug:
            return slug
    return slugify(str(record.get("title") or "")) or "page"


def _permalink(config: ExportConfig, record: Mapping[str, Any], category: str, slug: str) -> str:
    published = str(record.get("published") or "")
    values = {
        "category": category,
        "slug": slug,
        "year": published[:4],
        "month": published[5:7],
        "day": published[8:10],
    }
    pattern = config.base_path.strip("/") + "/" + config.permalink.strip("/")
    try:
        filled = pattern.format(**values)
    except (KeyError, IndexError, ValueError):
        filled = f"{config.base_path.strip('/')}/{category}/{slug}"
    parts = [slugify(p) for p in filled.split("/")]
    return "/" + "/".join(p for p in parts if p) + "/"


def _unique(path: str, used: set[str]) -> str:
    candidate, n = path, 2
    while candidate in used:
        candidate = f"{path.rstrip('/')}-{n}/"
        n += 1
    used.add(candidate)
    return candidate


def build_plan(store: Store, config: ExportConfig) -> SitePlan:
    """Decide the new site's paths and the legacy URLs that lead to each.

    Args:
        store: the migration database.
        config: the ``[export]`` section (``base_path``, ``permalink``).

    Returns:
        The plan; pages are in database (id) order, so a re-export keeps every slug.
    """
    aliases: dict[str, list[str]] = {}
    for url, target in store.query("SELECT url, target_url FROM aliases ORDER BY id"):
        aliases.setdefault(str(target), []).append(str(url))
    first_seen = {str(u): str(t) for u, t in store.query("SELECT url, first_seen_at FROM pages")}
    plan = SitePlan()
    for url, status in store.query(
        "SELECT url, status FROM aliases WHERE kind = 'redirect' AND status BETWEEN 300 AND 399"
    ):
        plan.statuses[canonical_url(str(url))] = int(status)
    used: set[str] = set()
    sections = _Sections()
    records = list(store.iter_records())

    def olds(record: Mapping[str, Any]) -> tuple[str, ...]:
        url = str(record["url"])
        found = [url, record.get("canonical_url"), record.get("source_url"), *aliases.get(url, [])]
        return tuple(dict.fromkeys(canonical_url(str(u)) for u in found if u))

    for record in records:
        if record.get("page_type") == "post":
            seen = first_seen.get(str(record["url"]))
            plan.entries.append(_post_entry(record, config, used, sections, olds(record), seen))
    used.update(sections.plans)
    for record in records:
        if record.get("page_type") not in {"post", "listing"}:
            seen = first_seen.get(str(record["url"]))
            plan.entries.append(_page_entry(record, used, olds(record), seen))
    plan.hosts = frozenset(h for e in plan.entries if (h := host_of(e.url)))
    _map_entries(plan, sections, records)
    _map_listings(store, plan, sections.plans)
    plan.sections = sorted(sections.plans.values(), key=lambda s: s.path)
    return plan


@dataclass(slots=True)
class _Sections:
    """The folders the posts' paths create, and the legacy URLs (crumbs) that name them."""

    plans: dict[str, SectionPlan] = field(default_factory=dict)
    olds: dict[str, list[str]] = field(default_factory=dict)

    def add(
        self,
        path: str,
        config: ExportConfig,
        label: str | None,
        crumb_url: str | None,
        parents: list[str],
    ) -> None:
        """The sections of a post at ``path``: its folder, and the ``base_path`` above."""
        folder = path.rstrip("/").rsplit("/", 1)[0] + "/"
        base = "/" + config.base_path.strip("/") + "/" if config.base_path.strip("/") else "/"
        if folder != "/":
            title = label or folder.rstrip("/").rsplit("/", 1)[-1].replace("-", " ").title()
            self.plans.setdefault(folder, SectionPlan(path=folder, title=title))
            if crumb_url:
                self.olds.setdefault(folder, []).append(canonical_url(str(crumb_url)))
        if base not in {"/", folder}:
            self.plans.setdefault(
                base, SectionPlan(path=base, title=base.strip("/").split("/")[-1].title())
            )
        for parent in parents:
            self.olds.setdefault(base, []).append(canonical_url(parent))


def _post_entry(
    record: Mapping[str, Any],
    config: ExportConfig,
    used: set[str],
    sections: _Sections,
    old_urls: tuple[str, ...],
    first_seen: str | None,
) -> Entry:
    """A post: its category, a path no other page took, and the sections that path makes."""
    label, crumb_url, parents = _category(record)
    extra = [str(c) for c in record.get("categories") or [] if str(c).strip()]
    cat_slug = slugify(label or "") or (slugify(extra[0]) if extra else "")
    slug = _slug_for(record)
    path = _unique(_permalink(config, record, cat_slug, slug), used)
    sections.add(path, config, label, crumb_url, parents)
    return Entry(
        record=record,
        kind="post",
        slug=slug,
        category=label or (extra[0] if extra else None),
        categories=tuple(dict.fromkeys([*([label] if label else []), *extra])),
        new_path=path,
        old_urls=old_urls,
        first_seen=first_seen,
    )


def _page_entry(
    record: Mapping[str, Any], used: set[str], old_urls: tuple[str, ...], first_seen: str | None
) -> Entry:
    """A static page: at the top of the site, under a path no post or section took."""
    slug = _slug_for(record)
    return Entry(
        record=record,
        kind="page",
        slug=slug,
        category=None,
        categories=(),
        new_path=_unique(f"/{slug}/", used),
        old_urls=old_urls,
        first_seen=first_seen,
    )


def _map_entries(plan: SitePlan, sections: _Sections, records: Iterable[Mapping[str, Any]]) -> None:
    """Pages' legacy URLs, then sections' (the crumbs no page claimed), then site roots."""
    for entry in plan.entries:
        for old in entry.old_urls:
            plan.targets.setdefault(old, entry.new_path)
    for path, olds_list in sections.olds.items():
        unique = tuple(u for u in dict.fromkeys(olds_list) if u not in plan.targets)
        for u in unique:
            plan.targets[u] = path
        if path in sections.plans:
            title = sections.plans[path].title
            sections.plans[path] = SectionPlan(path=path, title=title, old_urls=unique)
    for record in records:
        parts = urlsplit(str(record["url"]))
        plan.targets.setdefault(canonical_url(f"{parts.scheme}://{parts.netloc}/"), "/")


def _map_listings(store: Store, plan: SitePlan, sections: dict[str, SectionPlan]) -> None:
    """Listing URLs (archives, pagination) and redirect hops the crawl saw."""
    rows = store.query(
        "SELECT url, final_url, page_type FROM crawl_state WHERE state = 'fetched' ORDER BY id"
    )
    extra: dict[str, list[str]] = {}
    for url, final_url, _page_type in rows:
        key = canonical_url(str(url))
        if key in plan.targets or host_of(key) not in plan.hosts:
            continue
        found = plan.resolve(str(final_url)) if final_url else None
        if found is None and _PAGINATION.search(urlsplit(key).path):
            found = plan.resolve(_PAGINATION.sub("/", key))
        if found is None:
            plan.unmapped.append(key)
            continue
        plan.targets[key] = found
        extra.setdefault(found, []).append(key)
    for path, urls in extra.items():
        if path in sections:
            old = sections[path]
            sections[path] = SectionPlan(
                path=path, title=old.title, old_urls=tuple(dict.fromkeys([*old.old_urls, *urls]))
            )
