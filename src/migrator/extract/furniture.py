"""The furniture the site model learned: taken out of a page, and whether a new model could
change a stored page's record."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.decode import decode_body
from migrator.extract.blocks import furniture_nodes, norm
from migrator.extract.body import select_safely
from migrator.extract.guards import MAX_DEPTH, check_input
from migrator.extract.nodes import memo_ancestors
from migrator.extract.template import template_signature
from migrator.extract.titleparts import title_parts
from migrator.models import RawPage, SiteModel


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


def remove_furniture(
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
