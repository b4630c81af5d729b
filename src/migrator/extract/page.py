"""A page decoded, checked and parsed once, then its record built (``extract_page``); or its
links alone, from the parse (``page_links``)."""

from __future__ import annotations

from dataclasses import replace

from selectolax.lexbor import LexborHTMLParser

from migrator.config import ExtractConfig
from migrator.decode import Decoded, decode_body
from migrator.errors import ExtractError
from migrator.extract.addresses import base_url, link_urls
from migrator.extract.guards import CONTROL_CHARS, MAX_DEPTH, check_input, nesting_depth
from migrator.extract.links import PageHrefs
from migrator.extract.published import capture_date_fallback
from migrator.extract.record import build_record
from migrator.models import Page, RawPage, SiteModel, record_hash


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
    page = build_record(raw, rules, tree, decoded.text, model)
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
