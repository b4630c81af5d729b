"""Parse a page once and build its record, field by field."""

from __future__ import annotations

from dataclasses import replace

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.clean import tree_to_markdown
from migrator.config import ExtractConfig
from migrator.decode import Decoded, decode_body
from migrator.errors import ExtractError
from migrator.extract import furniture
from migrator.extract.addresses import base_url, canonical_url, link_urls, shortlink_url, split_post
from migrator.extract.article import article_body, article_scope, site_date_nodes, title_headings
from migrator.extract.body import (
    find_region,
)
from migrator.extract.breadcrumbs import find_breadcrumbs
from migrator.extract.draft import Draft, guard
from migrator.extract.featured import find_featured_image
from migrator.extract.guards import CONTROL_CHARS, MAX_DEPTH, check_input, nesting_depth
from migrator.extract.kind import kind_before_body, post_or_page
from migrator.extract.links import PageHrefs
from migrator.extract.pagetype import cms_page_type
from migrator.extract.published import capture_date_fallback, htmldate_published, page_dates
from migrator.extract.sections import body_images, split_sections
from migrator.extract.sidebar import find_sidebar_links
from migrator.extract.site import (
    SiteModel,
    template_signature,
)
from migrator.extract.structured import Structured, read_structured
from migrator.extract.taxonomy import taxonomy
from migrator.extract.title import find_author, find_title, listing_title
from migrator.extract.versioning import version_tag
from migrator.models import Crumb, Page, PageType, RawPage, SidebarLink, record_hash


def extract_page(raw: RawPage, rules: ExtractConfig, model: SiteModel | None = None) -> Page:
    """Turn one fetched page into its record.

    Args:
        raw: the fetched page (body bytes and headers).
        rules: the site's extraction rules (selectors, date order, trafilatura mode).
        model: what the crawl learned about the site (furniture, the headline's and the
            date's elements); ``None`` reads the page on its own.

    Returns:
        The filled ``Page`` with ``content_hash`` and ``extractor_version`` set.

    Raises:
        ExtractError: the body is empty, binary, not HTML, or cannot be decoded/parsed.
    """
    decoded, tree = _parse_page(raw)
    page = _build(raw, rules, tree, decoded.text, model)
    # The winning decoding source is recorded with the field sources (--explain, pages.sources).
    sources = (*page.sources, ("encoding", decoded.source))
    page = replace(page, encoding=decoded.encoding, sources=sources)
    page = capture_date_fallback(raw, page)
    return replace(page, content_hash=record_hash(page.to_record()))


def _parse_page(raw: RawPage) -> tuple[Decoded, LexborHTMLParser]:
    """The page decoded and parsed, after the checks every extraction makes first.

    Raises:
        ExtractError: the body is empty, binary, not HTML, or cannot be decoded/parsed.
    """
    check_input(raw)
    try:
        decoded = decode_body(raw.body, raw.header("content-type"))
    except Exception as exc:
        raise ExtractError(raw.url, "undecodable") from exc
    text = decoded.text
    sample = text[:4096]
    if not text.strip():
        raise ExtractError(raw.url, "empty")
    if len(CONTROL_CHARS.findall(sample)) > max(8, len(sample) // 20):
        raise ExtractError(raw.url, "binary")
    # Lexbor's parse time grows with the square of the nesting depth (a 100,000-deep page
    # took ~24 s): refuse absurd nesting before parsing. A page with fewer tags than the
    # limit cannot nest deeper than it, so the scan only runs on large pages.
    if text.count("<") > MAX_DEPTH and nesting_depth(text, MAX_DEPTH) > MAX_DEPTH:
        raise ExtractError(raw.url, "too_deep")
    try:
        tree = LexborHTMLParser(text)
    except Exception as exc:
        raise ExtractError(raw.url, "unparseable") from exc
    if tree.body is None and tree.head is None:
        raise ExtractError(raw.url, "unparseable")
    return decoded, tree


def page_links(raw: RawPage) -> tuple[str, ...]:
    """The links ``extract_page`` gives ``raw`` (``Page.links``), from a parse alone.

    What a crawl follows from a page it extracts later (before its site model exists):
    the same links, in the same order, for a fraction of the cost. A page extraction
    would refuse has none.
    """
    try:
        _, tree = _parse_page(raw)
    except ExtractError:
        return ()
    try:
        base = base_url(tree, raw.url)
    except Exception:  # noqa: BLE001 - as in extraction (guard): the page's own URL
        base = raw.url
    try:
        return link_urls(tree, PageHrefs(base))
    except Exception:  # noqa: BLE001 - as in extraction (guard): no links, not a crash
        return ()


def _language(tree: LexborHTMLParser, structured: Structured) -> str | None:
    html = tree.css_first("html")
    lang = html.attributes.get("lang") or html.attributes.get("xml:lang") if html else None
    if not lang:
        lang = structured.meta_first("content-language", "og:locale", "dc.language", "language")
    if not lang:
        node = tree.css_first('meta[http-equiv="content-language" i]')
        lang = node.attributes.get("content") if node is not None else None
    if not lang:
        return None
    lang = lang.strip().split(",")[0].strip().replace("_", "-")
    return lang[:35] or None


def _build(
    raw: RawPage,
    rules: ExtractConfig,
    tree: LexborHTMLParser,
    text: str,
    model: SiteModel | None,
) -> Page:
    url = raw.url
    draft = Draft(url=url, base=url, fetched_at=raw.fetched_at)
    signature = template_signature(tree) if model is not None else None
    if model is not None and signature is not None:
        model = model.for_template(signature)  # the page's own template's rules
    draft.base = guard(draft, "base", lambda: base_url(tree, url)) or url
    base = draft.base
    # Each distinct href is resolved once and shared by every field that reads links.
    hrefs = PageHrefs(base)
    links = guard(draft, "links", lambda: link_urls(tree, hrefs)) or ()
    canonical = guard(draft, "canonical_url", lambda: canonical_url(tree, url, hrefs)) or url
    # The nodes whose texts alone placed the region: removing the furniture from
    # elsewhere leaves it where it is (no second search).
    basis: list[LexborNode] = []
    region, region_layer, strong = guard(
        draft, "region", lambda: find_region(tree, rules, basis=basis)
    ) or (None, "heuristic", False)
    structured = guard(draft, "structured", lambda: read_structured(tree, region)) or Structured()
    # The trail and the widgets repeat on every page: read them before the furniture goes.
    crumbs: tuple[Crumb, ...]
    crumbs, crumbs_layer, crumbs_node = guard(
        draft, "breadcrumbs", lambda: find_breadcrumbs(tree, structured, rules, base)
    ) or ((), None, None)
    sidebar: tuple[SidebarLink, ...]
    sidebar, sidebar_layer = guard(
        draft,
        "sidebar_links",
        lambda: find_sidebar_links(tree, rules, url, base, hrefs=hrefs),
    ) or ((), None)
    cms_kind, cms_evidence = guard(draft, "page_type", lambda: cms_page_type(tree, text)) or (
        None,
        None,
    )
    # Category and tag links repeat across pages too: read them before the furniture goes.
    first_scope = guard(draft, "scope", lambda: article_scope(tree, region))
    tags, categories = guard(
        draft, "taxonomy", lambda: taxonomy(structured, first_scope, draft.sources)
    ) or ((), ())
    shortlink = guard(draft, "shortlink", lambda: shortlink_url(tree, url, hrefs))
    removed, touched = (
        guard(
            draft, "furniture", lambda: furniture.remove_furniture(tree, model, crumbs_node, basis)
        )
        or (0, False)
        if model is not None
        else (0, False)
    )
    serialized: list[str] = []

    def page_text() -> str:
        """The page as trafilatura and htmldate read it (if they run): without its
        furniture, serialized once when first needed."""
        if not removed:
            return text
        if not serialized:
            serialized.append(tree.html or text)
        return serialized[0]

    if touched:
        region, region_layer, strong = guard(draft, "region", lambda: find_region(tree, rules)) or (
            None,
            "heuristic",
            False,
        )
    if region is not None and rules.selectors.content:
        draft.sources["body"] = region_layer
    scope = guard(draft, "scope", lambda: article_scope(tree, region))
    title, title_layer = guard(
        draft, "title", lambda: find_title(tree, structured, rules, region, model)
    ) or (None, None)
    author, author_layer = guard(draft, "author", lambda: find_author(tree, structured, rules)) or (
        None,
        None,
    )
    published, updated = guard(
        draft, "dates", lambda: page_dates(tree, structured, rules, scope, region, draft, model)
    ) or (None, None)
    language = guard(draft, "language", lambda: _language(tree, structured)) or None
    description = structured.meta_first("description", "og:description", "twitter:description")
    featured, featured_layer = guard(
        draft, "featured_image", lambda: find_featured_image(tree, structured, rules, base, model)
    ) or (None, None)
    kind, kind_layer = guard(
        draft,
        "page_type",
        lambda: kind_before_body(
            tree, rules, url, published, structured, strong, (cms_kind, cms_evidence), model
        ),
    ) or (None, None)
    listing = kind == "listing"
    if kind_layer:
        draft.sources["page_type"] = kind_layer
    if listing:
        own = guard(draft, "title", lambda: listing_title(tree, structured))
        if own:
            title, title_layer = own, "heuristic"
    elif published is None and kind not in {"page", "attachment", "other"} and not draft.undated:
        # Last resort, never where a cheaper layer found a date; not for listings.
        published = guard(
            draft, "published", lambda: htmldate_published(page_text(), url, raw.fetched_at)
        )
        if published is not None:
            draft.sources["published"] = "htmldate"
    taken: tuple[LexborNode, ...] = (crumbs_node,) if crumbs_node is not None else ()
    if title and region is not None:
        taken = (*taken, *title_headings(region, title))
    if model is not None and model.date_selector and region is not None:
        taken = (*taken, *site_date_nodes(region, model.date_selector))
    body_html, blocks = (
        ("", [])
        if listing
        else guard(
            draft,
            "body",
            lambda: article_body(
                tree,
                page_text,
                rules,
                region,
                strong,
                draft,
                taken,
                (published, updated),
                title,
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
    body_text = "\n\n".join(b.text for b in blocks)
    flat = fragment is not None and all(
        h.parent is not None and h.parent.mem_id == fragment.mem_id
        for h in fragment.css("h2, h3, h4")
    )
    sections = (
        guard(draft, "sections", lambda: split_sections(blocks, body_html, body_markdown, flat))
        or ()
    )
    images = (
        guard(draft, "images", lambda: body_images(fragment)) or ()
        if fragment is not None and "<img" in body_html
        else ()
    )
    page_type: PageType = (
        kind
        if kind is not None
        else guard(
            draft,
            "page_type",
            lambda: post_or_page(
                tree,
                published,
                structured,
                strong,
                body_text,
                # The template's own headline or date element: a post, even one with
                # no text (a photo, a video).
                titled=model is not None
                and (title_layer == "site" or draft.sources.get("published") == "site"),
            ),
        )
        or "other"
    )
    for name, layer in (
        ("title", title_layer),
        ("author", author_layer),
        ("breadcrumbs", crumbs_layer),
        ("sidebar_links", sidebar_layer),
        ("featured_image", featured_layer if page_type in {"post", "page"} else None),
    ):
        if layer:
            draft.sources[name] = layer
    if description:
        draft.sources["description"] = "meta"
    if sections:
        draft.sources["sections"] = draft.sources.get("body", "heuristic")
    part_of, part, has_parts = split_post(url, links, cms_evidence, tree)
    return Page(
        url=url,
        source_url=raw.requested_url,
        canonical_url=canonical,
        title=title,
        published=published,
        updated=updated,
        author=author,
        language=language,
        description=description[:1000] if description else None,
        page_type=page_type,
        breadcrumbs=crumbs,
        sections=sections,
        sidebar_links=sidebar,
        tags=tags,
        categories=categories,
        images=images,
        featured_image=featured if page_type in {"post", "page"} else None,
        body_html=body_html,
        body_markdown=body_markdown,
        body_text=body_text,
        links=links,
        shortlink=shortlink,
        part_of=part_of,
        part=part,
        has_parts=has_parts,
        sources=tuple(sorted(draft.sources.items())),
        extractor_version=version_tag(model, signature),
    )
