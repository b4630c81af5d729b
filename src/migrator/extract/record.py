"""One parsed page's record, built in stages that each read the tree as the last left it.

Every field goes through ``guard``: a failure costs that field, never the page. The
stages, in order: what every field reads (the template's rules, the addresses, the body's
region, the structured data); what repeats on every page, read before the furniture goes
(the trail, the widgets, the taxonomy links); the furniture's removal; the fields around
the body (title, author, dates…); the page's kind where it shows before the body; the
body and what is read from it; the page type; the record with its field sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.clean import tree_to_markdown
from migrator.config import ExtractConfig
from migrator.extract import furniture
from migrator.extract.addresses import base_url, canonical_url, link_urls, shortlink_url, split_post
from migrator.extract.article import article_body, article_scope, site_date_nodes, title_headings
from migrator.extract.body import find_region
from migrator.extract.breadcrumbs import find_breadcrumbs
from migrator.extract.draft import Draft, guard
from migrator.extract.featured import find_featured_image
from migrator.extract.kind import kind_before_body, post_or_page
from migrator.extract.language import page_language
from migrator.extract.links import PageHrefs
from migrator.extract.pagetype import cms_page_type
from migrator.extract.published import htmldate_published, page_dates
from migrator.extract.sections import body_images, split_sections
from migrator.extract.sidebar import find_sidebar_links
from migrator.extract.structured import Structured, read_structured
from migrator.extract.taxonomy import taxonomy
from migrator.extract.template import template_signature
from migrator.extract.title import find_author, find_title, listing_title
from migrator.extract.versioning import version_tag
from migrator.models import Crumb, Image, Page, PageType, RawPage, Section, SidebarLink, SiteModel

__all__ = ["build_record"]


@dataclass(slots=True)
class _Build:
    """One page's record while it is built: the parsed page and what every field reads
    (set by ``_start``), then each later stage's findings (the fields, the layers that
    gave them, the nodes a later stage needs)."""

    raw: RawPage
    rules: ExtractConfig
    tree: LexborHTMLParser
    text: str
    model: SiteModel | None  # the page's own template's rules
    signature: str | None
    draft: Draft
    hrefs: PageHrefs
    links: tuple[str, ...]
    canonical: str
    basis: list[LexborNode]
    region: LexborNode | None
    region_layer: str
    strong: bool
    structured: Structured
    # Read before the furniture goes.
    crumbs: tuple[Crumb, ...] = ()
    crumbs_layer: str | None = None
    crumbs_node: LexborNode | None = None
    sidebar: tuple[SidebarLink, ...] = ()
    sidebar_layer: str | None = None
    cms_kind: PageType | None = None
    cms_evidence: str | None = None
    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    shortlink: str | None = None
    removed: int = 0  # furniture blocks taken out of the tree
    serialized: str | None = None  # the tree without them, once serialized
    # Around the body, and the kind.
    title: str | None = None
    title_layer: str | None = None
    author: str | None = None
    author_layer: str | None = None
    published: date | datetime | None = None
    updated: date | datetime | None = None
    language: str | None = None
    description: str | None = None
    featured: Image | None = None
    featured_layer: str | None = None
    kind: PageType | None = None
    # The body and what is read from it.
    body_html: str = ""
    body_markdown: str = ""
    body_text: str = ""
    sections: tuple[Section, ...] = ()
    images: tuple[Image, ...] = ()

    def page_text(self) -> str:
        """The page as trafilatura and htmldate read it (if they run): without its
        furniture, serialized once when first needed."""
        if not self.removed:
            return self.text
        if self.serialized is None:
            self.serialized = self.tree.html or self.text
        return self.serialized


def build_record(
    raw: RawPage,
    rules: ExtractConfig,
    tree: LexborHTMLParser,
    text: str,
    model: SiteModel | None,
) -> Page:
    """The record of ``raw``, parsed as ``tree`` from ``text`` (with a site model, the
    furniture is taken out of ``tree``)."""
    build = _start(raw, rules, tree, text, model)
    _read_before_furniture(build)
    _clear_furniture(build)
    _read_around_body(build)
    _read_kind(build)
    _read_body(build)
    return _record(build, _page_type(build))


def _start(
    raw: RawPage,
    rules: ExtractConfig,
    tree: LexborHTMLParser,
    text: str,
    model: SiteModel | None,
) -> _Build:
    """The page's template rules, its addresses, its body's region and its structured
    data: what the later stages read."""
    url = raw.url
    draft = Draft(url=url, base=url, fetched_at=raw.fetched_at)
    signature = template_signature(tree) if model is not None else None
    if model is not None and signature is not None:
        model = model.for_template(signature)  # the page's own template's rules
    draft.base = guard(draft, "base", lambda: base_url(tree, url)) or url
    # Each distinct href is resolved once and shared by every field that reads links.
    hrefs = PageHrefs(draft.base)
    links = guard(draft, "links", lambda: link_urls(tree, hrefs)) or ()
    canonical = guard(draft, "canonical_url", lambda: canonical_url(tree, url, hrefs)) or url
    # The nodes whose texts alone placed the region: removing the furniture from
    # elsewhere leaves it where it is (no second search).
    basis: list[LexborNode] = []
    region, region_layer, strong = guard(
        draft, "region", lambda: find_region(tree, rules, basis=basis)
    ) or (None, "heuristic", False)
    structured = guard(draft, "structured", lambda: read_structured(tree, region)) or Structured()
    return _Build(
        raw=raw,
        rules=rules,
        tree=tree,
        text=text,
        model=model,
        signature=signature,
        draft=draft,
        hrefs=hrefs,
        links=links,
        canonical=canonical,
        basis=basis,
        region=region,
        region_layer=region_layer,
        strong=strong,
        structured=structured,
    )


def _read_before_furniture(b: _Build) -> None:
    """The trail, the widgets, the CMS's page type, the taxonomy links and the shortlink,
    read before the furniture goes."""
    tree, rules, draft, url, base = b.tree, b.rules, b.draft, b.raw.url, b.draft.base
    structured, hrefs, region = b.structured, b.hrefs, b.region
    # The trail and the widgets repeat on every page: read them before the furniture goes.
    b.crumbs, b.crumbs_layer, b.crumbs_node = guard(
        draft, "breadcrumbs", lambda: find_breadcrumbs(tree, structured, rules, base)
    ) or ((), None, None)
    b.sidebar, b.sidebar_layer = guard(
        draft,
        "sidebar_links",
        lambda: find_sidebar_links(tree, rules, url, base, hrefs=hrefs),
    ) or ((), None)
    b.cms_kind, b.cms_evidence = guard(draft, "page_type", lambda: cms_page_type(tree, b.text)) or (
        None,
        None,
    )
    # Category and tag links repeat across pages too: read them before the furniture goes.
    first_scope = guard(draft, "scope", lambda: article_scope(tree, region))
    b.tags, b.categories = guard(
        draft, "taxonomy", lambda: taxonomy(structured, first_scope, draft.sources)
    ) or ((), ())
    b.shortlink = guard(draft, "shortlink", lambda: shortlink_url(tree, url, hrefs))


def _clear_furniture(b: _Build) -> None:
    """Take the site model's furniture out of the tree (the trail stays), and find the
    body's region again when a removed block touched the nodes that placed it."""
    tree, rules, draft, model = b.tree, b.rules, b.draft, b.model
    crumbs_node, basis = b.crumbs_node, b.basis
    # Called through its module, so that a test can replace it.
    b.removed, touched = (
        guard(
            draft, "furniture", lambda: furniture.remove_furniture(tree, model, crumbs_node, basis)
        )
        or (0, False)
        if model is not None
        else (0, False)
    )
    if touched:
        b.region, b.region_layer, b.strong = guard(
            draft, "region", lambda: find_region(tree, rules)
        ) or (None, "heuristic", False)
    if b.region is not None and rules.selectors.content:
        draft.sources["body"] = b.region_layer


def _read_around_body(b: _Build) -> None:
    """The fields around the body: title, author, dates, language, description and
    featured image, each from the first layer that has it."""
    tree, structured, rules, draft = b.tree, b.structured, b.rules, b.draft
    region, model = b.region, b.model
    scope = guard(draft, "scope", lambda: article_scope(tree, region))
    b.title, b.title_layer = guard(
        draft, "title", lambda: find_title(tree, structured, rules, region, model)
    ) or (None, None)
    b.author, b.author_layer = guard(
        draft, "author", lambda: find_author(tree, structured, rules)
    ) or (None, None)
    b.published, b.updated = guard(
        draft, "dates", lambda: page_dates(tree, structured, rules, scope, region, draft, model)
    ) or (None, None)
    b.language = guard(draft, "language", lambda: page_language(tree, structured)) or None
    b.description = structured.meta_first("description", "og:description", "twitter:description")
    b.featured, b.featured_layer = guard(
        draft,
        "featured_image",
        lambda: find_featured_image(tree, structured, rules, draft.base, model),
    ) or (None, None)


def _read_kind(b: _Build) -> None:
    """The page's kind where something says so before the body is read; a listing's own
    title; htmldate's date for a page that may be a post and has none yet."""
    draft, raw = b.draft, b.raw
    cms = (b.cms_kind, b.cms_evidence)
    b.kind, kind_layer = guard(
        draft,
        "page_type",
        lambda: kind_before_body(
            b.tree, b.rules, raw.url, b.published, b.structured, b.strong, cms, b.model
        ),
    ) or (None, None)
    if kind_layer:
        draft.sources["page_type"] = kind_layer
    if b.kind == "listing":
        own = guard(draft, "title", lambda: listing_title(b.tree, b.structured))
        if own:
            b.title, b.title_layer = own, "heuristic"
    elif (
        b.published is None and b.kind not in {"page", "attachment", "other"} and not draft.undated
    ):
        # Last resort, never where a cheaper layer found a date; not for listings.
        b.published = guard(
            draft, "published", lambda: htmldate_published(b.page_text(), raw.url, raw.fetched_at)
        )
        if b.published is not None:
            draft.sources["published"] = "htmldate"


def _taken(b: _Build) -> tuple[LexborNode, ...]:
    """The nodes in the body that other fields took: the trail, the headings that repeat
    the title, the site's date element."""
    region, model = b.region, b.model
    taken: tuple[LexborNode, ...] = (b.crumbs_node,) if b.crumbs_node is not None else ()
    if b.title and region is not None:
        taken = (*taken, *title_headings(region, b.title))
    if model is not None and model.date_selector and region is not None:
        taken = (*taken, *site_date_nodes(region, model.date_selector))
    return taken


def _read_body(b: _Build) -> None:
    """The body (none for a listing) without what other fields took, and what is read
    from it: its Markdown, its text, its sections and its images."""
    draft = b.draft
    taken = _taken(b)
    dates = (b.published, b.updated)
    body_html, blocks = (
        ("", [])
        if b.kind == "listing"
        else guard(
            draft,
            "body",
            lambda: article_body(
                b.tree, b.page_text, b.rules, b.region, b.strong, draft, taken, dates, b.title
            ),
        )
        or ("", [])
    )
    # The sanitized body is parsed once more (a small fragment) and that tree gives the
    # Markdown, the images and the section boundaries.
    fragment = LexborHTMLParser(body_html).body if body_html else None
    body_markdown = (
        guard(draft, "body_markdown", lambda: tree_to_markdown(fragment)) or ""
        if fragment is not None
        else ""
    )
    flat = fragment is not None and all(
        h.parent is not None and h.parent.mem_id == fragment.mem_id
        for h in fragment.css("h2, h3, h4")
    )
    b.sections = (
        guard(draft, "sections", lambda: split_sections(blocks, body_html, body_markdown, flat))
        or ()
    )
    b.images = (
        guard(draft, "images", lambda: body_images(fragment)) or ()
        if fragment is not None and "<img" in body_html
        else ()
    )
    b.body_html, b.body_markdown = body_html, body_markdown
    b.body_text = "\n\n".join(block.text for block in blocks)


def _page_type(b: _Build) -> PageType:
    """The kind found before the body, else post, page or other once the body is read."""
    if b.kind is not None:
        return b.kind
    return (
        guard(
            b.draft,
            "page_type",
            lambda: post_or_page(
                b.tree,
                b.published,
                b.structured,
                b.strong,
                b.body_text,
                # The template's own headline or date element: a post, even one with
                # no text (a photo, a video).
                titled=b.model is not None
                and (b.title_layer == "site" or b.draft.sources.get("published") == "site"),
            ),
        )
        or "other"
    )


def _record(b: _Build, page_type: PageType) -> Page:
    """The record: the fields found, and the layer that gave each (``Page.sources``)."""
    draft, raw = b.draft, b.raw
    shown = page_type in {"post", "page"}  # the only types that keep a featured image
    for name, layer in (
        ("title", b.title_layer),
        ("author", b.author_layer),
        ("breadcrumbs", b.crumbs_layer),
        ("sidebar_links", b.sidebar_layer),
        ("featured_image", b.featured_layer if shown else None),
    ):
        if layer:
            draft.sources[name] = layer
    if b.description:
        draft.sources["description"] = "meta"
    if b.sections:
        draft.sources["sections"] = draft.sources.get("body", "heuristic")
    part_of, part, has_parts = split_post(raw.url, b.links, b.cms_evidence, b.tree)
    return Page(
        url=raw.url,
        source_url=raw.requested_url,
        canonical_url=b.canonical,
        title=b.title,
        published=b.published,
        updated=b.updated,
        author=b.author,
        language=b.language,
        description=b.description[:1000] if b.description else None,
        page_type=page_type,
        breadcrumbs=b.crumbs,
        sections=b.sections,
        sidebar_links=b.sidebar,
        tags=b.tags,
        categories=b.categories,
        images=b.images,
        featured_image=b.featured if shown else None,
        body_html=b.body_html,
        body_markdown=b.body_markdown,
        body_text=b.body_text,
        links=b.links,
        shortlink=b.shortlink,
        part_of=part_of,
        part=part,
        has_parts=has_parts,
        sources=tuple(sorted(draft.sources.items())),
        extractor_version=version_tag(b.model, b.signature),
    )
