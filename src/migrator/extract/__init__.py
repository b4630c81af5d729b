"""RawPage → Page: the extract stage, pure (no network, clock or database).

``extract_page`` decodes the body (``decode.py``), parses it once with selectolax's Lexbor
parser and shares that tree between the field extractors. Each field is taken from the
first layer that has it: configured CSS selectors, then structured data (JSON-LD,
microdata, ``<meta>``), then DOM heuristics; trafilatura reads the body only where the
cheap region detection finds no article (``rules.use_trafilatura``). Which layer gave each
field is recorded in ``Page.sources``. A page that is not HTML, empty or undecodable
raises ``ExtractError``; every field is computed defensively so that no other exception
escapes, whatever the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import structlog
from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.clean import sanitize_html, tree_to_markdown
from migrator.config import DateOrder, ExtractConfig
from migrator.decode import Decoded, decode_body
from migrator.errors import ExtractError
from migrator.extract.blocks import furniture_nodes, norm
from migrator.extract.body import (
    Block,
    clean_region,
    find_region,
    media_region,
    read_blocks,
    select_safely,
    trafilatura_html,
)
from migrator.extract.breadcrumbs import find_breadcrumbs
from migrator.extract.dates import (
    EARLIEST,
    PUBLISHED_META,
    UPDATED_META,
    date_line_nodes,
    dates_from_scope,
    find_date_in_text,
    node_date,
    parse_date,
    plausible,
    same_day,
)
from migrator.extract.featured import find_featured_image
from migrator.extract.guards import CONTROL_CHARS, MAX_DEPTH, check_input, nesting_depth
from migrator.extract.kind import kind_before_body, post_or_page
from migrator.extract.links import PageHrefs, absolute_url, host_of
from migrator.extract.markers import (
    ARTICLE_SCOPE,
    class_id,
)
from migrator.extract.nodes import memo_ancestors
from migrator.extract.pagetype import cms_page_type, split_page_number
from migrator.extract.sections import body_images, split_sections
from migrator.extract.sidebar import find_sidebar_links
from migrator.extract.structured import Structured, jsonld_text, read_structured
from migrator.extract.taxonomy import taxonomy
from migrator.extract.template import template_signature
from migrator.extract.title import find_author, find_title, listing_title
from migrator.extract.titleparts import title_parts
from migrator.models import Crumb, Page, PageType, RawPage, SidebarLink, SiteModel, record_hash
from migrator.urls import is_http_url

__all__ = [
    "EXTRACTOR_VERSION",
    "SiteModel",
    "extract_page",
    "model_changes_page",
    "page_links",
    "template_of",
    "version_tag",
]

# Bump whenever the output for the same input changes: stored pages are re-extracted.
EXTRACTOR_VERSION = "5"

log = structlog.get_logger()
T = TypeVar("T")

_TRAFILATURA_MAX_CHARS = 5_000_000
_WS = re.compile(r"\s+")


@dataclass(slots=True)
class _Draft:
    """Mutable working state while one page's fields are filled in."""

    url: str
    base: str
    fetched_at: datetime
    sources: dict[str, str] = field(default_factory=dict)
    undated: bool = False  # the site model says the page shows no date of its own


def _guard(draft: _Draft, name: str, work: Callable[[], T]) -> T | None:
    """Run one field's extraction; a failure costs that field, never the page.

    This is the one deliberate broad catch outside the pipeline: the brief for this stage
    is that no exception other than ``ExtractError`` escapes on any input, and a parser
    bug on one field of one hostile page must not lose the rest of the record.
    """
    try:
        return work()
    except Exception as exc:  # noqa: BLE001 - see docstring
        log.warning("field_failed", url=draft.url, field=name, error=type(exc).__name__)
        return None


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
    page = _capture_date_fallback(raw, page)
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
        base = _base_url(tree, raw.url)
    except Exception:  # noqa: BLE001 - as in extraction (_guard): the page's own URL
        base = raw.url
    try:
        return _links(tree, PageHrefs(base))
    except Exception:  # noqa: BLE001 - as in extraction (_guard): no links, not a crash
        return ()


def _capture_date_fallback(raw: RawPage, page: Page) -> Page:
    """An archived post (``raw.source`` set) that gives no publication date anywhere
    gets its capture day: it was published by then. Marked ``published: capture_date``
    in the field sources, so it is never mistaken for a date the page states. A live
    fetch time says nothing about publication and is never used; a static page, a
    listing or an attachment has no date unless it shows one (issue #10)."""
    if raw.source is None or page.published is not None or page.page_type != "post":
        return page
    sources = (*page.sources, ("published", "capture_date"))
    return replace(page, published=raw.fetched_at.astimezone(UTC).date(), sources=sources)


def model_changes_page(raw: RawPage, before: SiteModel, after: SiteModel) -> bool:
    """Whether the page's record under the template rules ``after`` could differ from
    the one extracted under ``before`` (other than in ``extractor_version``).

    Extraction reads a model's rules through its fingerprinted fields. When the two
    agree on all of them but the furniture and the site names, the record is the same
    when the furniture finds the same blocks on this page under both and no site name
    that only one of them has is among the texts the title is compared with (the
    ``<title>`` and ``og:title`` parts, the headline element's text): the page is only
    parsed and keyed, a fraction of extracting it. Any doubt (a page that does not
    decode or parse, another template) answers ``True``.
    """
    same_but = replace(
        before,
        furniture=after.furniture,
        signature=after.signature,
        site_names=after.site_names,
    )
    if same_but.fingerprint != after.fingerprint:
        return True
    try:
        check_input(raw)
        text = decode_body(raw.body, raw.header("content-type")).text
        if text.count("<") > MAX_DEPTH:
            return True  # the depth guard's business: extract it for real
        tree = LexborHTMLParser(text)
    except Exception:  # noqa: BLE001 - doubt means extract again
        return True
    if after.signature is not None and template_signature(tree) != after.signature:
        return True
    names = before.site_names ^ after.site_names
    if names and not names.isdisjoint(_name_probes(tree, after.title_selector)):
        return True
    old = [node.mem_id for node in furniture_nodes(tree, before)]
    return old != [node.mem_id for node in furniture_nodes(tree, after)]


def _name_probes(tree: LexborHTMLParser, title_selector: str | None) -> set[str]:
    """Every text ``find_title`` compares with the site names, normalized (a superset)."""
    probes: set[str] = set()
    for node in tree.css('title, meta[property="og:title"], meta[name="twitter:title"]'):
        value = node.text(deep=True) if node.tag == "title" else node.attributes.get("content")
        if value:
            probes.add(norm(value))
            probes.update(title_parts(value))
    if title_selector:
        for node in select_safely(tree, title_selector):
            probes.add(norm(node.text(deep=True, separator=" ")))
    return probes


def _base_url(tree: LexborHTMLParser, url: str) -> str:
    node = tree.css_first("base[href]")
    if node is not None:
        href = absolute_url(node.attributes.get("href"), url)
        if href:
            return href
    return url


def _links(tree: LexborHTMLParser, hrefs: PageHrefs) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for node in tree.css("a[href], area[href]"):
        url = hrefs.resolve(node.attributes.get("href"))
        if url is not None:
            seen.setdefault(url, None)
    return tuple(seen)


def _canonical(tree: LexborHTMLParser, url: str, hrefs: PageHrefs) -> str:
    node = tree.css_first('link[rel~="canonical" i][href]')
    if node is not None:
        href = hrefs.resolve(node.attributes.get("href"))
        if href and is_http_url(href) and host_of(href) == host_of(url):
            return href
    return url


_PART_CLASS = re.compile(r"\b(?:single|page)-paged-(\d+)\b")


def _split_post(
    url: str, links: tuple[str, ...], cms_evidence: str | None, tree: LexborHTMLParser
) -> tuple[str | None, int | None, bool]:
    """``(first page, part number, has parts)`` of a post split with ``<!--nextpage-->``.

    Page N says so in its body class (``single-paged-N``) and sits at ``<post>/N/``; the
    first page links to ``<post>/2/``.
    """
    if cms_evidence == "body.single-paged":
        body = tree.body
        match = _PART_CLASS.search((body.attributes.get("class") or "") if body else "")
        number = split_page_number(url)
        if match and number == int(match.group(1)):
            first = re.sub(r"/\d{1,3}/?$", "/", url)
            return (first, number, False) if first != url else (None, None, False)
        return None, None, False
    if not url.endswith("/"):
        return None, None, False
    return None, None, url + "2/" in links


def _shortlink(tree: LexborHTMLParser, url: str, hrefs: PageHrefs) -> str | None:
    """``<link rel=shortlink>`` (WordPress's ``/?p=123``): another URL of this page."""
    node = tree.css_first('link[rel~="shortlink" i][href]')
    if node is None:
        return None
    href = hrefs.resolve(node.attributes.get("href"))
    if href and is_http_url(href) and host_of(href) == host_of(url) and href != url:
        return href
    return None


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


def _scope(tree: LexborHTMLParser, region: LexborNode | None) -> LexborNode | None:
    """The article container around the body: where its title and date line live."""
    if region is None:
        return tree.body
    current: LexborNode | None = region
    for _ in range(5):
        if current is None or current.tag in {"body", "html"}:
            break
        if current is not region and (
            current.tag == "article" or ARTICLE_SCOPE.search(class_id(current))
        ):
            return current
        current = current.parent
    # No article wrapper: the region's surroundings up to two levels (header + body);
    # the date helpers skip sidebars, comments and footers inside it.
    current = region
    for _ in range(2):
        parent = current.parent
        if parent is None or parent.tag == "html":
            break
        current = parent
        if current.tag == "body":
            break
    return current


def _dates(
    tree: LexborHTMLParser,
    structured: Structured,
    rules: ExtractConfig,
    scope: LexborNode | None,
    region: LexborNode | None,
    draft: _Draft,
    model: SiteModel | None = None,
) -> tuple[date | datetime | None, date | datetime | None]:
    """Published and updated dates, each from the first layer with a plausible value.

    A value outside 1990 … fetch time + 1 day (``plausible``) is passed over: the next
    layer gets its chance, as if the first had said nothing. The site model's date
    element (learned across the crawl) comes after structured data, before the
    per-page heuristics; its numeric date order wins over the configured one.
    """
    order: DateOrder = rules.date_order
    if model is not None and model.date_order in {"MDY", "DMY", "YMD"}:
        order = model.date_order  # type: ignore[assignment]
    fetched_at = draft.fetched_at

    def accept(value: date | datetime | None) -> bool:
        return value is not None and plausible(value, fetched_at)

    found: dict[str, date | datetime | None] = {"published": None, "updated": None}

    def offer(name: str, value: date | datetime | None, layer: str) -> None:
        if found[name] is None and accept(value):
            found[name] = value
            draft.sources[name] = layer

    for name, selector in (
        ("published", rules.selectors.published),
        ("updated", rules.selectors.updated),
    ):
        for node in select_safely(tree, selector) if selector else ():
            offer(name, node_date(node, order), "config")
            if found[name] is not None:
                break
    article = structured.article
    if article is not None:
        for key in ("datePublished", "dateCreated", "uploadDate"):
            offer("published", parse_date(jsonld_text(article.get(key)), "YMD"), "jsonld")
        offer("updated", parse_date(jsonld_text(article.get("dateModified")), "YMD"), "jsonld")
    for name, key in (("published", "datePublished"), ("updated", "dateModified")):
        if structured.microdata.get(key):
            offer(name, parse_date(structured.microdata[key], order), "microdata")
    for name, key in (("published", "datePublished"), ("updated", "dateModified")):
        if structured.rdfa.get(key):
            offer(name, parse_date(structured.rdfa[key], order), "rdfa")
    for name, keys in (("published", PUBLISHED_META), ("updated", UPDATED_META)):
        if found[name] is None:
            for key in keys:
                offer(name, parse_date(structured.meta.get(key), "YMD"), "meta")
    if model is not None and model.date_selector and found["published"] is None:
        for node in select_safely(tree, model.date_selector):
            offer("published", node_date(node, order), "site")
            if found["published"] is not None:
                break
        if found["published"] is None and model.date_exclusive:
            # The template shows its pages' dates there and nowhere else: this page has
            # none of its own (an event's start, a widget's date are not its date).
            draft.undated = True
            return None, found["updated"]
    if (found["published"] is None or found["updated"] is None) and scope is not None:
        seen_published, seen_updated = dates_from_scope(scope, order, region, accept)
        parent = scope.parent
        if seen_published is None and parent is not None and parent.tag != "html":
            # Blogger-style themes put the date header just outside the post wrapper.
            seen_published, seen_updated = dates_from_scope(parent, order, region, accept)
        offer("published", seen_published, "heuristic")
        offer("updated", seen_updated, "heuristic")
    return found["published"], found["updated"]


def _htmldate(text: str, url: str, fetched_at: datetime) -> date | None:
    """htmldate's original publication date: the last resort for a post without one.

    ``extensive_search`` stays off: on the demo's About and Contact pages it turns the
    footer's copyright year into a date. Costs 1–3 ms (htmldate parses again with lxml),
    so it only runs where every cheaper layer found nothing.

    htmldate *downloads* a ``str`` input that looks like a URL (a ``text/html`` body of
    ``http://10.0.0.1/…`` made extraction open a connection): it gets a tree parsed
    from bytes by its own loader, which only downloads strings, or nothing at all.
    """
    try:
        from htmldate import find_date
        from htmldate.utils import load_html

        tree = load_html(text.encode("utf-8", errors="replace"))
        if tree is None:
            return None
        found = find_date(
            tree,
            url=url,
            original_date=True,
            extensive_search=False,
            outputformat="%Y-%m-%d",
            min_date=EARLIEST.isoformat(),
            max_date=(fetched_at.date() + timedelta(days=1)).isoformat(),
        )
    except Exception:  # noqa: BLE001 - a third-party parser on hostile input
        return None
    if not isinstance(found, str):
        return None
    try:
        value = date.fromisoformat(found)
    except ValueError:
        return None
    return value if plausible(value, fetched_at) else None


def _remove_furniture(
    tree: LexborHTMLParser,
    model: SiteModel,
    keep: LexborNode | None,
    basis: list[LexborNode] | None = None,
) -> tuple[int, bool]:
    """Take the blocks the site repeats on many pages out of the tree.

    The breadcrumb trail (``keep``) was read already and stays, so no freed node is
    touched later.

    Returns:
        ``(how many went, whether one of them was inside a ``basis`` node, or one of
        them or their ancestors)``: ``find_region``'s answer from ``basis`` still
        holds when not. Without ``basis``, any removal counts as touching it.
    """
    # The trail's own nodes and its ancestors, each a set look-up instead of a walk up
    # from every block (``contains`` both ways).
    spared: set[int] = set()
    if keep is not None:
        spared.update(node.mem_id for node in keep.traverse(include_text=True))
        current = keep.parent
        while current is not None:
            spared.add(current.mem_id)
            current = current.parent
    going = [node for node in furniture_nodes(tree, model) if node.mem_id not in spared]
    touched = bool(going) and not basis
    if going and basis:
        # Asked before anything is freed: the tree is whole while it is walked.
        inside = {node.mem_id: True for node in basis}
        above = {ancestor.mem_id for node in basis for ancestor in _self_and_ancestors(node)}
        touched = any(node.mem_id in above or memo_ancestors(node, inside) for node in going)
    for node in going:
        node.decompose()
    return len(going), touched


def _self_and_ancestors(node: LexborNode) -> Iterator[LexborNode]:
    current: LexborNode | None = node
    while current is not None:
        yield current
        current = current.parent


def _date_nodes(region: LexborNode, selector: str) -> tuple[LexborNode, ...]:
    """The site's date element inside the body (a Blogger date header): a field, not text.

    A heading left holding nothing but the date goes with it.
    """
    found = []
    for node in select_safely(region, selector):
        text = node.text(deep=True)
        if len(text) > 200 or find_date_in_text(text) is None:
            continue
        parent = node.parent
        if (
            parent is not None
            and parent.tag in {"h1", "h2", "h3", "h4", "h5", "h6"}
            and norm(parent.text(deep=True)) == norm(node.text(deep=True))
        ):
            found.append(parent)
        else:
            found.append(node)
    return tuple(found)


def _title_headings(region: LexborNode, title: str) -> tuple[LexborNode, ...]:
    """The body's headings that repeat the headline: the title, not a section."""
    wanted = norm(title)
    return tuple(
        node
        for node in region.css("h1, h2, h3, h4")
        if norm(node.text(deep=True, separator=" ")) == wanted
    )


def _body(
    tree: LexborHTMLParser,
    page_text: Callable[[], str],
    rules: ExtractConfig,
    region: LexborNode | None,
    strong: bool,
    draft: _Draft,
    taken: tuple[LexborNode, ...] = (),
    dates: tuple[date | datetime | None, ...] = (),
    title: str | None = None,
) -> tuple[str, list[Block]]:
    """Sanitized body HTML and its blocks (own region detection, else trafilatura).

    From our own region, the nodes other fields took (``taken``: the breadcrumb trail)
    and the date lines showing ``dates`` are left out: they are the page's furniture,
    already stored as fields.
    """
    mode = rules.use_trafilatura
    use_own = region is not None and (mode == "never" or (mode == "auto" and strong))
    if not use_own and mode != "never" and len(page_text()) <= _TRAFILATURA_MAX_CHARS:
        extracted = trafilatura_html(page_text(), draft.url)
        if extracted is not None:
            fragment = LexborHTMLParser(extracted)
            node = fragment.body
            if node is not None:
                wanted = norm(title) if title else None
                days = {same_day(d) for d in dates if d is not None}
                for heading in node.css("h1, h2, h3, h4"):
                    shown = norm(heading.text(deep=True, separator=" "))
                    dated = find_date_in_text(shown) if len(shown) <= 60 else None
                    if (
                        heading.tag == "h1"
                        or (wanted and shown == wanted)
                        or (dated is not None and same_day(dated) in days)
                    ):
                        heading.decompose()  # the title, or a date header: fields
                blocks = read_blocks(node)
                media = None if blocks else media_region(tree)
                if media is None:
                    draft.sources["body"] = "trafilatura"
                    return sanitize_html(node.inner_html or "", draft.base), blocks
                region = media  # no text at all: a picture post, whose body is the picture
        elif (media := media_region(tree)) is not None:
            region = media  # trafilatura found nothing: a picture post
    if region is None:
        return "", []
    if dates and not rules.selectors.content:
        taken = (*taken, *date_line_nodes(region, dates, rules.date_order))
    cleaned = clean_region(region, rules, taken)
    draft.sources.setdefault("body", "heuristic")
    return sanitize_html(cleaned.inner_html or "", draft.base), read_blocks(cleaned)


def _build(
    raw: RawPage,
    rules: ExtractConfig,
    tree: LexborHTMLParser,
    text: str,
    model: SiteModel | None,
) -> Page:
    url = raw.url
    draft = _Draft(url=url, base=url, fetched_at=raw.fetched_at)
    signature = template_signature(tree) if model is not None else None
    if model is not None and signature is not None:
        model = model.for_template(signature)  # the page's own template's rules
    draft.base = _guard(draft, "base", lambda: _base_url(tree, url)) or url
    base = draft.base
    # Each distinct href is resolved once and shared by every field that reads links.
    hrefs = PageHrefs(base)
    links = _guard(draft, "links", lambda: _links(tree, hrefs)) or ()
    canonical = _guard(draft, "canonical_url", lambda: _canonical(tree, url, hrefs)) or url
    # The nodes whose texts alone placed the region: removing the furniture from
    # elsewhere leaves it where it is (no second search).
    basis: list[LexborNode] = []
    region, region_layer, strong = _guard(
        draft, "region", lambda: find_region(tree, rules, basis=basis)
    ) or (None, "heuristic", False)
    structured = _guard(draft, "structured", lambda: read_structured(tree, region)) or Structured()
    # The trail and the widgets repeat on every page: read them before the furniture goes.
    crumbs: tuple[Crumb, ...]
    crumbs, crumbs_layer, crumbs_node = _guard(
        draft, "breadcrumbs", lambda: find_breadcrumbs(tree, structured, rules, base)
    ) or ((), None, None)
    sidebar: tuple[SidebarLink, ...]
    sidebar, sidebar_layer = _guard(
        draft,
        "sidebar_links",
        lambda: find_sidebar_links(tree, rules, url, base, hrefs=hrefs),
    ) or ((), None)
    cms_kind, cms_evidence = _guard(draft, "page_type", lambda: cms_page_type(tree, text)) or (
        None,
        None,
    )
    # Category and tag links repeat across pages too: read them before the furniture goes.
    first_scope = _guard(draft, "scope", lambda: _scope(tree, region))
    tags, categories = _guard(
        draft, "taxonomy", lambda: taxonomy(structured, first_scope, draft.sources)
    ) or ((), ())
    shortlink = _guard(draft, "shortlink", lambda: _shortlink(tree, url, hrefs))
    removed, touched = (
        _guard(draft, "furniture", lambda: _remove_furniture(tree, model, crumbs_node, basis))
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
        region, region_layer, strong = _guard(
            draft, "region", lambda: find_region(tree, rules)
        ) or (None, "heuristic", False)
    if region is not None and rules.selectors.content:
        draft.sources["body"] = region_layer
    scope = _guard(draft, "scope", lambda: _scope(tree, region))
    title, title_layer = _guard(
        draft, "title", lambda: find_title(tree, structured, rules, region, model)
    ) or (None, None)
    author, author_layer = _guard(
        draft, "author", lambda: find_author(tree, structured, rules)
    ) or (None, None)
    published, updated = _guard(
        draft, "dates", lambda: _dates(tree, structured, rules, scope, region, draft, model)
    ) or (None, None)
    language = _guard(draft, "language", lambda: _language(tree, structured)) or None
    description = structured.meta_first("description", "og:description", "twitter:description")
    featured, featured_layer = _guard(
        draft, "featured_image", lambda: find_featured_image(tree, structured, rules, base, model)
    ) or (None, None)
    kind, kind_layer = _guard(
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
        own = _guard(draft, "title", lambda: listing_title(tree, structured))
        if own:
            title, title_layer = own, "heuristic"
    elif published is None and kind not in {"page", "attachment", "other"} and not draft.undated:
        # Last resort, never where a cheaper layer found a date; not for listings.
        published = _guard(draft, "published", lambda: _htmldate(page_text(), url, raw.fetched_at))
        if published is not None:
            draft.sources["published"] = "htmldate"
    taken: tuple[LexborNode, ...] = (crumbs_node,) if crumbs_node is not None else ()
    if title and region is not None:
        taken = (*taken, *_title_headings(region, title))
    if model is not None and model.date_selector and region is not None:
        taken = (*taken, *_date_nodes(region, model.date_selector))
    body_html, blocks = (
        ("", [])
        if listing
        else _guard(
            draft,
            "body",
            lambda: _body(
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
        _guard(draft, "body_markdown", lambda: tree_to_markdown(fragment)) or ""
        if fragment is not None
        else ""
    )
    body_text = "\n\n".join(b.text for b in blocks)
    flat = fragment is not None and all(
        h.parent is not None and h.parent.mem_id == fragment.mem_id
        for h in fragment.css("h2, h3, h4")
    )
    sections = (
        _guard(draft, "sections", lambda: split_sections(blocks, body_html, body_markdown, flat))
        or ()
    )
    images = (
        _guard(draft, "images", lambda: body_images(fragment)) or ()
        if fragment is not None and "<img" in body_html
        else ()
    )
    page_type: PageType = (
        kind
        if kind is not None
        else _guard(
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
    part_of, part, has_parts = _split_post(url, links, cms_evidence, tree)
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


def version_tag(model: SiteModel | None, signature: str | None = None) -> str:
    """What ``pages.extractor_version`` records: the extractor, the page's template and
    the fingerprint of the site-model rules it was extracted with."""
    if model is None:
        return EXTRACTOR_VERSION
    return f"{EXTRACTOR_VERSION}+{signature or '-'}:{_fingerprint(model)}"


# A model's fingerprint sorts, dumps and hashes its whole furniture (~0.3 ms on a
# realistic theme's 500 blocks), and every page of a crawl names it. A worker receives
# the model anew with each page (a fresh object, equal to the last), so the memo is keyed
# by the model's value: hashing and comparing its frozen fields costs a fraction of that.
# Equal models have equal fingerprints (a function of those fields).
_FINGERPRINTS: dict[SiteModel, str] = {}
_MAX_FINGERPRINTS = 64


def _fingerprint(model: SiteModel) -> str:
    """``model.fingerprint``, memoized by value (bounded: a crawl has a few models)."""
    found = _FINGERPRINTS.get(model)
    if found is None:
        if len(_FINGERPRINTS) >= _MAX_FINGERPRINTS:
            _FINGERPRINTS.clear()
        found = _FINGERPRINTS[model] = model.fingerprint
    return found


def template_of(tag: str | None) -> str | None:
    """The template signature a ``version_tag`` of this extractor records, else ``None``."""
    prefix = EXTRACTOR_VERSION + "+"
    if not tag or not tag.startswith(prefix) or ":" not in tag:
        return None
    signature = tag[len(prefix) :].rpartition(":")[0]
    return None if signature in {"", "-"} else signature
