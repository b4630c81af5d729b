"""The article body: cleaning its region and reading it as text blocks.

``clean_region`` works on a *clone* of the region (found by ``region.find_region``), so
the shared tree stays intact for the other fields, and removes what is never body:
navigation, sidebars, share buttons, related posts, comments, newsletter boxes, the
title and the date line. ``read_blocks`` turns a region into the ordered text blocks that
both the sections and ``body_text`` are built from. ``fallback.trafilatura_html`` is the
fallback for pages whose layout the cheap detection cannot read. Nothing here sanitizes
(``clean`` does). The names of ``region``, ``fallback`` and ``nodes.select_safely`` are
re-exported here for the modules that import them from ``body``.
"""

from __future__ import annotations

from dataclasses import dataclass

from selectolax.lexbor import LexborNode

from migrator.config import ExtractConfig
from migrator.extract.fallback import require_dependencies, trafilatura_html
from migrator.extract.markers import BODY_JUNK_CANDIDATES, BODY_JUNK_TAGS, junk_marker
from migrator.extract.nodes import select_safely
from migrator.extract.region import find_region, media_region

__all__ = [
    "Block",
    "clean_region",
    "find_region",
    "media_region",
    "read_blocks",
    "require_dependencies",
    "select_safely",
    "trafilatura_html",
]

INLINE_TAGS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i",
        "kbd", "label", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub",
        "sup", "time", "tt", "u", "var", "wbr", "big", "ins", "del", "nobr", "-text", "img",
        "picture", "source",
    }
)  # fmt: skip
_SKIP_TEXT_IN = frozenset({"script", "style", "noscript", "template", "head", "title"})
_DROP_MARK = "data-migrator-taken"
_MAX_OWNER_DEPTH = 200


@dataclass(frozen=True, slots=True)
class Block:
    """One paragraph-like run of text; ``level`` is 2–4 for a section heading, else 0."""

    text: str
    level: int = 0
    anchor: str | None = None


def clean_region(
    region: LexborNode, rules: ExtractConfig, drop: tuple[LexborNode, ...] = ()
) -> LexborNode:
    """A cleaned clone of the region: junk removed, lazy images resolved.

    The clone lives in its own tree, so the page tree stays intact for other fields.

    Args:
        region: the body region in the page tree.
        rules: the site's extraction rules (``selectors.remove``).
        drop: nodes of the page tree that other fields already took (the breadcrumb
            trail, the date line); those inside the region are left out of the clone.
    """
    # One node may be taken twice (the title heading is also the date's line): mark once.
    marked = list({n.mem_id: n for n in drop if _strictly_inside(n, region)}.values())
    for node in marked:
        node.attrs[_DROP_MARK] = ""
    try:
        clone = region.clone()
    finally:
        for node in marked:
            del node.attrs[_DROP_MARK]
    if marked:
        for node in clone.css(f"[{_DROP_MARK}]"):
            node.decompose()
    for selector in (BODY_JUNK_TAGS, *rules.selectors.remove):
        for node in select_safely(clone, selector):
            if node.mem_id != clone.mem_id:
                node.decompose()
    for node in clone.css(BODY_JUNK_CANDIDATES):
        if node.mem_id != clone.mem_id and junk_marker(node):
            node.decompose()
    for img in clone.css("img"):
        attrs = img.attrs
        src = attrs.get("src") or ""
        if not src or src.startswith("data:"):
            for name in ("data-src", "data-lazy-src", "data-original", "data-url"):
                value = attrs.get(name)
                if value:
                    attrs["src"] = value
                    break
    return clone


def _strictly_inside(node: LexborNode, region: LexborNode) -> bool:
    current = node.parent
    depth = 0
    while current is not None and depth < _MAX_OWNER_DEPTH:
        if current.mem_id == region.mem_id:
            return True
        current = current.parent
        depth += 1
    return False


def _owner(node: LexborNode, cache: dict[int, LexborNode | None]) -> LexborNode | None:
    """The nearest block-level ancestor of a text node (``None`` inside skipped tags)."""
    chain: list[int] = []
    current: LexborNode | None = node.parent
    found: LexborNode | None = None
    depth = 0
    while current is not None and depth < _MAX_OWNER_DEPTH:
        key = current.mem_id
        if key in cache:
            found = cache[key]
            break
        chain.append(key)
        if current.tag in _SKIP_TEXT_IN:
            found = None
            break
        if current.tag not in INLINE_TAGS:
            found = current
            break
        current = current.parent
        depth += 1
    for key in chain:
        cache[key] = found
    return found


def read_blocks(region: LexborNode) -> list[Block]:
    """The region's text as blocks in document order (headings h2–h4 marked by level).

    Each text run belongs to its nearest block-level ancestor, as a browser lays it out:
    ``<div>a<p>b</p>c</div>`` gives three blocks. Whitespace is collapsed inside a block;
    ``<br>`` counts as a space; image alt text is not text.
    """
    cache: dict[int, LexborNode | None] = {}
    blocks: list[Block] = []
    parts: list[str] = []
    owner_key: int | None = None
    owner_node: LexborNode | None = None

    def flush() -> None:
        if owner_node is None:
            return
        text = " ".join("".join(parts).split())  # = _WS.sub(" ", ...).strip(), faster
        parts.clear()
        if not text:
            return
        tag = owner_node.tag or ""
        if tag in {"h2", "h3", "h4"}:
            anchor = owner_node.attributes.get("id") or None
            blocks.append(Block(text, int(tag[1]), anchor))
        else:
            blocks.append(Block(text))

    for node in region.traverse(include_text=True):
        tag = node.tag
        if tag == "-text":
            owner = _owner(node, cache)
            piece = node.text_content or ""
        elif tag == "br":
            owner = _owner(node, cache)
            piece = " "
        else:
            continue
        if owner is None:
            continue
        if owner.mem_id != owner_key:
            flush()
            owner_key, owner_node = owner.mem_id, owner
            parts.clear()
        parts.append(piece)
    flush()
    return blocks
