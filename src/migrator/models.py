"""The records that cross stage boundaries: ``RawPage`` (fetch → extract, load) and
``Page`` (extract → load, export), with their parts.

Models are frozen, slotted dataclasses holding plain values only: no HTTP response,
parser node or database row ever lives here. ``Page.to_record()`` renders the JSON
record of ``CONTRACT.md``; nothing else decides that shape.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal

__all__ = [
    "SITE_MODEL_VERSION",
    "Crumb",
    "Discovered",
    "FieldSource",
    "Image",
    "Page",
    "PageType",
    "RawPage",
    "Section",
    "SidebarLink",
    "SiteModel",
    "iso",
    "record_hash",
]

PageType = Literal["post", "page", "listing", "attachment", "other"]
FieldSource = Literal["config", "jsonld", "microdata", "rdfa", "meta", "heuristic", "trafilatura"]


def iso(value: date | datetime | None) -> str | None:
    """Render a date or an aware datetime as ISO 8601, or ``None``."""
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True, kw_only=True)
class RawPage:
    """One HTTP answer as fetched, kept verbatim so extraction can re-run offline.

    Attributes:
        url: the final URL after redirects (normalized by ``urls.canonical_url``).
        requested_url: the URL that was asked for.
        status: the HTTP status of the final answer.
        headers: response headers, lower-cased names, in order.
        body: the raw (decompressed) body bytes.
        fetched_at: when the answer arrived (aware, UTC).
        redirects: every URL passed through before ``url``, in order.
        redirect_statuses: the 3xx each of ``redirects`` answered, in the same order.
        elapsed_ms: time from the first request to the last body byte.
        source: where the answer came from when it was not fetched live: an archive's
            provenance string (``warc:FILE#OFFSET``, ``dir:PATH``,
            ``wayback:TIMESTAMP``); ``fetched_at`` is then the capture time.
    """

    url: str
    requested_url: str
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    fetched_at: datetime
    redirects: tuple[str, ...] = ()
    elapsed_ms: float = 0.0
    source: str | None = None
    redirect_statuses: tuple[int, ...] = ()

    def header(self, name: str) -> str | None:
        """Return the first header called ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None

    @property
    def content_type(self) -> str | None:
        """The media type of the body without parameters, lower-cased."""
        value = self.header("content-type")
        return value.split(";", 1)[0].strip().lower() if value else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovered:
    """A URL found by discovery, with how it was found.

    Attributes:
        url: canonical absolute URL.
        via: how it was found: ``start``, ``robots``, ``sitemap``, ``feed``, ``link``, or
            ``archive`` (held by the archive a run reads: ``migrator.sources``).
        referrer: the sitemap, feed or page that listed it (``None`` for ``start``).
        depth: link hops from a start URL or sitemap entry (0 for those).
        lastmod: the sitemap's ``<lastmod>`` as given (ISO 8601), if any.
    """

    url: str
    via: Literal["start", "robots", "sitemap", "feed", "link", "archive"]
    referrer: str | None = None
    depth: int = 0
    lastmod: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Crumb:
    """One breadcrumb in display order; ``url`` is ``None`` when the crumb is unlinked."""

    label: str
    url: str | None = None
    current: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One heading of the article body with its own content (up to the next heading).

    ``parent`` is the index (in ``Page.sections``) of the enclosing section of a lower
    level, or ``None`` for a top-level section.
    """

    level: int
    heading: str
    text: str
    anchor: str | None = None
    html: str = ""
    markdown: str = ""
    parent: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SidebarLink:
    """A link to another post listed in a widget ("You may also like", "Recent posts"…)."""

    group: str
    label: str
    url: str
    date: date | datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    """An image the body uses: absolute URL and alt text."""

    src: str
    alt: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """The single extracted record of one page (see ``CONTRACT.md``).

    ``url`` is the final URL after redirects, ``source_url`` the URL that was requested,
    ``canonical_url`` the page's ``rel=canonical`` when in scope, else ``url``.
    ``sources`` records which layer gave each field (``title`` → ``jsonld`` …).
    """

    url: str
    source_url: str
    canonical_url: str
    title: str | None = None
    published: date | datetime | None = None
    updated: date | datetime | None = None
    author: str | None = None
    language: str | None = None
    description: str | None = None
    page_type: PageType = "other"
    breadcrumbs: tuple[Crumb, ...] = ()
    sections: tuple[Section, ...] = ()
    sidebar_links: tuple[SidebarLink, ...] = ()
    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    featured_image: Image | None = None  # the picture at the post's head
    body_html: str = ""
    body_markdown: str = ""
    body_text: str = ""
    links: tuple[str, ...] = ()  # every absolute http(s) link in the page, for discovery
    shortlink: str | None = None  # rel=shortlink (WordPress ?p=ID): stored as an alias
    # A post split over several URLs: page N (>= 2) names its first page; the first page
    # says it has parts. Neither is part of the record (see parts.py).
    part_of: str | None = None
    part: int | None = None
    has_parts: bool = False
    encoding: str | None = None
    sources: tuple[tuple[str, str], ...] = ()
    extractor_version: str = ""
    content_hash: str = field(default="")

    def to_record(self, *, explain: bool = False) -> dict[str, Any]:
        """Render the JSON record of ``CONTRACT.md`` (``explain`` adds field sources)."""
        record: dict[str, Any] = {
            "url": self.url,
            "canonical_url": self.canonical_url,
            "source_url": self.source_url,
            "page_type": self.page_type,
            "title": self.title,
            "published": iso(self.published),
            "updated": iso(self.updated),
            "author": self.author,
            "language": self.language,
            "description": self.description,
            "breadcrumbs": [
                {"label": c.label, "url": c.url, "current": c.current} for c in self.breadcrumbs
            ],
            "sections": [
                {
                    "level": s.level,
                    "heading": s.heading,
                    "anchor": s.anchor,
                    "parent": s.parent,
                    "text": s.text,
                    "html": s.html,
                    "markdown": s.markdown,
                }
                for s in self.sections
            ],
            "sidebar_links": [
                {"group": s.group, "label": s.label, "url": s.url, "date": iso(s.date)}
                for s in self.sidebar_links
            ],
            "tags": list(self.tags),
            "categories": list(self.categories),
            "images": [{"src": i.src, "alt": i.alt} for i in self.images],
            "featured_image": (
                {"src": self.featured_image.src, "alt": self.featured_image.alt}
                if self.featured_image is not None
                else None
            ),
            "body_markdown": self.body_markdown,
            "body_html": self.body_html,
            "body_text": self.body_text,
            "encoding": self.encoding,
            "content_hash": self.content_hash,
            "extractor_version": self.extractor_version,
        }
        if explain:
            record["sources"] = dict(self.sources)
        return record


def record_hash(record: dict[str, Any]) -> str:
    """Hash of a record's content fields: stable across runs, blind to bookkeeping.

    Change detection compares this, not the raw bytes: ads, nonces and timestamps in
    the HTML change on every fetch without changing the post.
    """
    content = {
        k: v
        for k, v in record.items()
        if k not in {"content_hash", "extractor_version", "sources", "source_url", "encoding"}
        # A field added later hashes only where it holds something: records stored before
        # it existed keep their hash (no spurious "changed" on the next sync).
        and not (k == "featured_image" and v is None)
    }
    blob = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


SITE_MODEL_VERSION = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteModel:
    """What a site's pages share; an input to extraction like the config's rules.

    Attributes:
        pages_sampled: how many pages it was learned from.
        furniture: :func:`block_key` of every block found on many pages.
        site_names: normalized texts that name the site (``<title>`` parts, og values).
        title_selector: CSS selector of the headline's element, or ``None``.
        title_agreement: (pages where it held the ``<title>`` headline, pages with one).
        date_selector: CSS selector of the publication date's element, or ``None``.
        date_agreement: (pages where it gave a date, post-like pages sampled).
        date_exclusive: the date element is where this template's pages show their own
            date (nearly every dated page of the sample has it): a page of the template
            without it shows no publication date, whatever other dates it carries (an
            event's start, a widget's, a static page's sidebar).
        date_order: the numeric date order the site writes, when its dates show it.
        cms: the CMS its markup names (``wordpress``, ``blogger``, ``movabletype`` …).
        shared_images: ``og:image`` values (``image_key``) on many pages: the site's
            default card or logo, never a post's featured image.
        templates: per template signature, how many sampled pages used it.
        evidence: short notes on what decided each learned value.
    """

    version: int = SITE_MODEL_VERSION
    pages_sampled: int = 0
    furniture: frozenset[int] = frozenset()
    furniture_texts: frozenset[int] = frozenset()  # crc32 of their texts: a cheap pre-test
    site_names: frozenset[str] = frozenset()
    title_selector: str | None = None
    title_agreement: tuple[int, int] = (0, 0)
    date_selector: str | None = None
    date_agreement: tuple[int, int] = (0, 0)
    date_exclusive: bool = False
    date_order: str | None = None
    cms: str | None = None
    shared_images: frozenset[str] = frozenset()  # og:image on most pages: the site's card
    templates: tuple[tuple[str, int], ...] = ()
    evidence: tuple[str, ...] = field(default=())
    # Per template (page skeleton signature) with enough sampled pages: its own furniture,
    # headline and date elements; the fields above are the site-wide fallback.
    signature: str | None = None
    by_template: tuple[SiteModel, ...] = ()

    def for_template(self, signature: str) -> SiteModel:
        """The rules for pages of one template: its own, else the site-wide ones."""
        for rules in self.by_template:
            if rules.signature == signature:
                return rules
        return self

    @property
    def model_fingerprint(self) -> str:
        """A short hash of the whole model, templates included (what is stored)."""
        blob = json.dumps([self.fingerprint, [t.fingerprint for t in self.by_template]])
        return hashlib.blake2b(blob.encode(), digest_size=6).hexdigest()

    @property
    def fingerprint(self) -> str:
        """A short hash of everything that changes extraction (stored with each page)."""
        blob = json.dumps(
            [
                self.version,
                self.signature,
                sorted(self.furniture),
                sorted(self.site_names),
                self.title_selector,
                self.date_selector,
                self.date_exclusive,
                self.date_order,
                self.cms,
                sorted(self.shared_images),
            ]
        )
        return hashlib.blake2b(blob.encode(), digest_size=6).hexdigest()

    def _data(self) -> dict[str, Any]:
        data = asdict(self)
        data["furniture"] = sorted(self.furniture)
        data["furniture_texts"] = sorted(self.furniture_texts)
        data["site_names"] = sorted(self.site_names)
        data["shared_images"] = sorted(self.shared_images)
        data["fingerprint"] = self.fingerprint
        data["by_template"] = [t._data() for t in self.by_template]
        return data

    def to_json(self) -> str:
        """The model as JSON (sets as sorted lists)."""
        return json.dumps(self._data(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SiteModel | None:
        """Read :meth:`to_json` output; ``None`` for another model version or bad data."""
        try:
            data = json.loads(text)
            if data.get("version") != SITE_MODEL_VERSION:
                return None
            return cls._from_data(data)
        except (ValueError, KeyError, TypeError):
            return None

    @classmethod
    def _from_data(cls, data: dict[str, Any]) -> SiteModel:
        return cls(
            version=SITE_MODEL_VERSION,
            pages_sampled=int(data["pages_sampled"]),
            furniture=frozenset(int(k) for k in data["furniture"]),
            furniture_texts=frozenset(int(k) for k in data.get("furniture_texts") or ()),
            site_names=frozenset(str(n) for n in data["site_names"]),
            title_selector=data.get("title_selector"),
            title_agreement=_pair(data.get("title_agreement")),
            date_selector=data.get("date_selector"),
            date_agreement=_pair(data.get("date_agreement")),
            date_exclusive=bool(data.get("date_exclusive")),
            date_order=data.get("date_order"),
            cms=data.get("cms"),
            shared_images=frozenset(str(s) for s in data.get("shared_images") or ()),
            templates=tuple((str(a), int(b)) for a, b in data.get("templates") or ()),
            evidence=tuple(data.get("evidence") or ()),
            signature=data.get("signature"),
            by_template=tuple(cls._from_data(t) for t in data.get("by_template") or ()),
        )


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    return (0, 0)
