"""The article body: finding its region, cleaning it, and reading it as text blocks.

``find_region`` tries the configured selector, then well-known content containers
(``itemprop=articleBody``, ``.entry-content``, ``.post-body`` …), then a text-density
score over paragraphs. ``clean_region`` works on a *clone* of the region, so the shared
tree stays intact for the other fields, and removes what is never body: navigation,
sidebars, share buttons, related posts, comments, newsletter boxes, the title and the
date line. ``read_blocks`` turns a region into the ordered text blocks that both the
sections and ``body_text`` are built from. ``trafilatura_html`` is the fallback for pages
whose layout the cheap detection cannot read. Nothing here sanitizes (``clean.py`` does).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import ExtractConfig
from migrator.errors import ConfigError
from migrator.extract.markers import (
    BODY_JUNK_CANDIDATES,
    BODY_JUNK_TAGS,
    POST_WRAPPER,
    junk_marker,
)

__all__ = [
    "Block",
    "clean_region",
    "find_region",
    "read_blocks",
    "require_dependencies",
    "select_safely",
    "trafilatura_html",
]

# Containers that themes use for the article text, most specific first.
STRONG_SELECTORS = (
    '[itemprop="articleBody"]',
    ".entry-content",
    ".post-content",
    ".post-body",
    ".postbody",
    ".post-entry",
    ".entry-body",
    ".article-body",
    ".article__body",
    ".article-content",
    ".articleBody",
    ".article-text",
    ".story-body",
    ".story-content",
    ".blog-post-content",
    ".single-post-content",
    ".post-text",
    ".td-post-content",
    ".c-entry-content",
    ".field--name-body",
    ".field-name-body",
    ".node__content",
    ".content-body",
    ".entry-text",
    ".body-text",
    "#article-body",
    "#articleBody",
    "#post-body",
    "div.entry",
    ".storycontent",
    ".blog-content",
)
_ANY_STRONG = ", ".join(STRONG_SELECTORS)
WEAK_SELECTORS = ("article", '[role="main"]', "main", "#content", "#main", ".content")

INLINE_TAGS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i",
        "kbd", "label", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub",
        "sup", "time", "tt", "u", "var", "wbr", "big", "ins", "del", "nobr", "-text", "img",
        "picture", "source",
    }
)  # fmt: skip
_SKIP_TEXT_IN = frozenset({"script", "style", "noscript", "template", "head", "title"})
_WS = re.compile(r"\s+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_MIN_STRONG_CHARS = 50
_DROP_MARK = "data-migrator-taken"
_MAX_OWNER_DEPTH = 200


@dataclass(frozen=True, slots=True)
class Block:
    """One paragraph-like run of text; ``level`` is 2–4 for a section heading, else 0."""

    text: str
    level: int = 0
    anchor: str | None = None


def select_safely(root: LexborNode | LexborHTMLParser, selector: str) -> list[LexborNode]:
    """``root.css(selector)``, with an invalid (configured) selector matching nothing."""
    try:
        return list(root.css(selector))
    except (ValueError, TypeError, RuntimeError):
        return []


def _text_length(node: LexborNode) -> int:
    return len(" ".join(node.text(deep=True).split()))


def find_region(
    tree: LexborHTMLParser, rules: ExtractConfig, *, basis: list[LexborNode] | None = None
) -> tuple[LexborNode | None, str, bool]:
    """Locate the article body.

    Args:
        tree: the parsed page.
        rules: the site's extraction rules (``selectors.content``).
        basis: when given, receives the nodes whose texts alone decided the answer, when
            a well-known content container did (its matches and, for a split body, their
            common container). Removing from the tree only nodes that are neither inside
            one of them nor one of them or their ancestors leaves the answer the same:
            the containers match by their own tag and attributes, an earlier one that fell
            short has no more text afterwards, and the matches keep their text. Left
            empty when the answer depends on the whole page (the density search, a
            configured selector, which may be positional).

    Returns:
        ``(node, layer, strong)``: the region (``None`` when nothing plausible), the layer
        that found it (``config``, ``microdata`` or ``heuristic``) and whether the finding
        is trustworthy enough to skip trafilatura in ``auto`` mode.
    """
    if rules.selectors.content:
        matches = select_safely(tree, rules.selectors.content)
        if matches:
            return max(matches, key=_text_length), "config", True
    junk = _JunkAncestry()
    # One walk of the tree tells which of the containers are there at all (most pages
    # have one or none): only those are asked for in their order of preference.
    present = tree.css_first(_ANY_STRONG) is not None
    for selector in STRONG_SELECTORS if present else ():
        matches = [m for m in tree.css(selector) if not junk.inside(m)]
        if not matches:
            continue
        lengths = [_text_length(m) for m in matches]
        best = matches[lengths.index(max(lengths))]
        if max(lengths) >= _MIN_STRONG_CHARS or sum(lengths) >= 3 * _MIN_STRONG_CHARS:
            layer = "microdata" if selector.startswith("[itemprop") else "heuristic"
            if basis is not None:
                basis.extend(matches)
            return _merge_split(matches, lengths, basis) or best, layer, True
    scored = _density_region(tree, junk)
    if scored is not None:
        return scored, "heuristic", _holds_most_text(tree, scored)
    for selector in WEAK_SELECTORS:
        node = tree.css_first(selector)
        if node is not None and _text_length(node) >= _MIN_STRONG_CHARS:
            return node, "heuristic", False
    return tree.body, "heuristic", False


def media_region(tree: LexborHTMLParser) -> LexborNode | None:
    """The post body of a picture or video post: a body element holding media, little text.

    ``find_region`` wants text, and trafilatura drops a body that is only an image: a
    photo blog's post would come out empty.
    """
    for selector in STRONG_SELECTORS:
        for node in tree.css(selector):
            if not _inside_junk(node) and node.css_first("img[src], video, iframe[src], embed"):
                return node
    return None


def _ancestors(node: LexborNode) -> list[int]:
    chain: list[int] = []
    current: LexborNode | None = node
    while current is not None and len(chain) < _MAX_OWNER_DEPTH:
        chain.append(current.mem_id)
        current = current.parent
    return chain


def _merge_split(
    matches: list[LexborNode], lengths: list[int], basis: list[LexborNode] | None = None
) -> LexborNode | None:
    """The common container of a body that a theme split into several blocks.

    Magazine templates cut the article text into several ``.article__body`` or
    ``p.post-text`` pieces around ads and pictures; their nearest common ancestor is the
    body, provided it holds little else. ``basis`` receives that container when its text
    was read (see ``find_region``).
    """
    parts = [m for m, n in zip(matches, lengths, strict=True) if n >= 80]
    if len(parts) < 2:
        return None
    common = set(_ancestors(parts[0]))
    for part in parts[1:]:
        common &= set(_ancestors(part))
    current: LexborNode | None = parts[0]
    while current is not None and current.mem_id not in common:
        current = current.parent
    if current is None or current.tag in {"body", "html"}:
        return None
    if basis is not None:
        basis.append(current)
    if _text_length(current) > 1.5 * sum(lengths):
        return None
    return current


_FAR = 1 << 30  # no junk ancestor at all


class _JunkAncestry:
    """``_inside_junk`` for many nodes of one tree that does not change meanwhile.

    Each node's distance to its nearest junk-marked ancestor-or-self (``_FAR``: none) is
    found once: the paragraphs of one column share all their ancestors, which the plain
    walk tested again for each. ``inside(node)`` is exactly ``_inside_junk(node)``, its
    depth limit included: a junk ancestor at most ``_MAX_OWNER_DEPTH`` steps up.
    """

    __slots__ = ("_distance",)

    def __init__(self) -> None:
        self._distance: dict[int, int] = {}

    def inside(self, node: LexborNode) -> bool:
        parent = node.parent
        return parent is not None and self._of(parent) < _MAX_OWNER_DEPTH

    def _of(self, node: LexborNode) -> int:
        known = self._distance
        chain: list[int] = []
        current: LexborNode | None = node
        distance = _FAR
        while current is not None:
            ident = current.mem_id
            found = known.get(ident)
            if found is not None:
                distance = found
                break
            if current.tag in {"aside", "footer", "nav"} or junk_marker(current):
                known[ident] = distance = 0
                break
            chain.append(ident)
            current = current.parent
        for ident in reversed(chain):
            distance = min(distance + 1, _FAR)
            known[ident] = distance
        return known[node.mem_id]


def _inside_junk(node: LexborNode) -> bool:
    current = node.parent
    depth = 0
    while current is not None and depth < _MAX_OWNER_DEPTH:
        if current.tag in {"aside", "footer", "nav"}:
            return True
        if junk_marker(current):
            return True
        current = current.parent
        depth += 1
    return False


def _density_region(tree: LexborHTMLParser, junk: _JunkAncestry) -> LexborNode | None:
    """The element holding the most paragraph text (a readability-style score)."""
    scores: dict[int, float] = {}
    nodes: dict[int, LexborNode] = {}
    for para in tree.css("p, pre, blockquote, li"):
        text = para.text(deep=True)
        length = len(" ".join(text.split()))  # _text_length
        if _CJK.search(text[:50]):
            length *= 3  # one CJK character carries about a word
        if length < 25:
            continue
        if para.tag == "li":
            length //= 3  # link lists (menus, widgets) are li-heavy
        commas = text.count(",")
        score = 1 + min(length / 100, 3) + commas
        parent = para.parent
        for share in (1.0, 0.5):
            if parent is None or parent.tag in {"html", "body"}:
                break
            if junk.inside(para):
                break
            key = parent.mem_id
            nodes[key] = parent
            scores[key] = scores.get(key, 0.0) + score * share
            parent = parent.parent
    if not scores:
        return None
    best = max(scores, key=lambda k: scores[k])
    if scores[best] < 3:
        return None
    return nodes[best]


def _holds_most_text(tree: LexborHTMLParser, region: LexborNode) -> bool:
    """True on a simple page whose paragraphs nearly all sit inside ``region``.

    Then the density guess is unambiguous and trafilatura is not needed; on magazine
    layouts with text spread over many blocks it is not, and trafilatura does better.
    A long text counts only inside a marked post wrapper (``article``, ``.hentry``,
    ``.type-post``): long unmarked pages are usually magazine layouts.
    """
    total = sum(_text_length(p) for p in tree.css("p"))
    inside = sum(_text_length(p) for p in region.css("p"))
    if not total or inside < 0.9 * total:
        return False
    return total < 5000 or _in_post_wrapper(region)


def _in_post_wrapper(node: LexborNode) -> bool:
    current: LexborNode | None = node
    for _ in range(4):
        if current is None or current.tag in {"body", "html"}:
            return False
        if current.tag == "article" or POST_WRAPPER.search(current.attributes.get("class") or ""):
            return True
        current = current.parent
    return False


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


def require_dependencies(rules: ExtractConfig) -> None:
    """Check that the third-party extractors import, before a run relies on them.

    A resolver that does not bring ``lxml_html_clean`` (a separate package since lxml
    5.2, imported by trafilatura's dependency justext) gives a trafilatura that cannot
    be imported; the body F1 then dropped from 0.96 to 0.84 without a word. That is a
    broken installation, reported at start, never a quiet downgrade.

    Raises:
        ConfigError: a module cannot be imported; the message says how to repair it.
    """
    modules = ["htmldate"]  # the last-resort publication date (extract/__init__.py)
    if rules.use_trafilatura != "never":
        modules.append("trafilatura")
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            without = (
                ", or set extract.use_trafilatura = 'never' to run without it"
                if name == "trafilatura"
                else ""
            )
            raise ConfigError(
                f"broken installation: {name} cannot be imported ({' '.join(str(exc).split())});"
                " reinstall the"
                f" locked dependencies with 'make env' (or 'uv sync --frozen'){without}"
            ) from exc


def trafilatura_html(html: str, url: str) -> str | None:
    """Main-content HTML according to trafilatura, or ``None`` when it finds none.

    Called with ``str`` (trafilatura ignores ``<meta charset>`` on bytes) and never lets
    its exceptions escape: a fallback must not fail the page. An ``ImportError`` is not
    the page's fault but a broken installation (see :func:`require_dependencies`): it
    escapes.
    """
    import trafilatura

    try:
        result = trafilatura.extract(
            html,
            url=url,
            output_format="html",
            include_images=True,
            include_links=True,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
            with_metadata=False,
        )
    except Exception:  # noqa: BLE001 - a third-party parser on hostile input
        return None
    return result if isinstance(result, str) and result.strip() else None
