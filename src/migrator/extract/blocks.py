"""Text blocks, their keys across pages, and the furniture of one page.

A block is an element holding a run of text (a heading, a paragraph, a list item, a leaf
``div``). Its key (:func:`block_key`) is its normalized text and its place (the markers of
three levels): the same on every page a theme repeats it. :func:`furniture_nodes` finds the
blocks of one parsed page that a :class:`SiteModel` knows as furniture, cheaply (one pass
over the page's text blocks); :func:`node_selector` names a node's place as a CSS selector.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zlib
from collections.abc import Iterable

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.models import SiteModel

__all__ = [
    "NEVER",
    "BlockKeys",
    "block_key",
    "furniture_nodes",
    "iter_blocks",
    "leads_text",
    "node_marker",
    "node_selector",
    "norm",
    "text_key",
]

# Elements that hold a run of text: what a theme repeats and what content is made of.
_BLOCK_TAGS = frozenset(
    {
        "h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "dt", "dd", "td", "th", "pre",
        "blockquote", "figcaption", "caption", "address", "time", "legend",
    }
)  # fmt: skip
# Containers that count as a block only when no block element sits inside them.
_LEAF_TAGS = frozenset({"div", "span", "font", "center", "small", "a", "b", "strong", "em"})
NEVER = frozenset({"script", "style", "noscript", "template", "svg", "select", "option"})
_VOLATILE = re.compile(r"\d")  # class/id tokens with numbers name one post, not a place
_SAFE_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_MAX_TEXT = 2000
_MAX_NODES = 6000  # elements keyed per page; a theme's furniture sits well within this


def norm(text: str) -> str:
    """Whitespace collapsed and case folded: how texts are compared across pages."""
    return " ".join(text.split()).casefold()


def node_marker(node: LexborNode) -> str:
    """``tag.class1.class2`` with the tokens that do not name one post (no digits)."""
    attributes = node.attributes
    return _marker_of(node.tag or "", attributes.get("class"), attributes.get("id"))


@functools.lru_cache(maxsize=8192)
def _marker_of(tag: str, classes: str | None, ident: str | None) -> str:
    # A theme repeats the same few class lists on every page: sorted and filtered once.
    if not classes and not ident:
        return tag
    tokens = sorted(
        t for t in (classes or "").split() if _SAFE_TOKEN.match(t) and not _VOLATILE.search(t)
    )
    if ident and _SAFE_TOKEN.match(ident) and not _VOLATILE.search(ident):
        tokens.append("#" + ident)
    return tag + "".join("." + t if not t.startswith("#") else t for t in tokens)


# The same furniture (place and text) comes back on every page of a site: a hit skips
# the formatting, encoding and hashing.
@functools.lru_cache(maxsize=16384)
def _digest(place: str, text: str) -> int:
    digest = hashlib.blake2b(f"{place}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def block_key(node: LexborNode, text: str) -> int:
    """The identity of a block across pages: its text and its place (three levels)."""
    parts = []
    current: LexborNode | None = node
    for _ in range(3):
        if current is None or current.tag == "html":
            break
        parts.append(node_marker(current))
        current = current.parent
    return _digest("/".join(reversed(parts)), text)


class BlockKeys:
    """``block_key`` for the blocks of one tree, each node's marker computed once.

    Siblings share their parent's and grandparent's markers: a menu of 100 items
    computed the same two markers 100 times. The keys are exactly ``block_key``'s.
    """

    __slots__ = ("_markers", "_places")

    def __init__(self) -> None:
        self._markers: dict[int, str] = {}
        self._places: dict[int, str] = {}

    def _mark(self, node: LexborNode) -> str:
        ident = node.mem_id
        marker = self._markers.get(ident)
        if marker is None:
            marker = self._markers[ident] = node_marker(node)
        return marker

    def key(self, node: LexborNode, text: str) -> int:
        parent = node.parent
        if parent is None or parent.tag == "html":
            return _digest(self._mark(node), text)
        prefix = self._places.get(parent.mem_id)
        if prefix is None:
            grand = parent.parent
            prefix = self._mark(parent)
            if grand is not None and grand.tag != "html":
                prefix = self._mark(grand) + "/" + prefix
            self._places[parent.mem_id] = prefix
        return _digest(prefix + "/" + self._mark(node), text)


def text_key(text: str) -> int:
    """A block's text alone, hashed: the cheap first test of ``furniture_nodes``."""
    return zlib.crc32(text.encode())


# The theme's blocks come back on every page with the same texts (nine in ten blocks of
# a realistic page): each distinct short text is normalized and hashed once per process.
@functools.lru_cache(maxsize=4096)
def _probe(raw: str) -> tuple[str, int]:
    """``(norm(raw), text_key(norm(raw)))`` for a block's text of at most ``_MAX_TEXT``."""
    text = norm(raw)
    return text, text_key(text)


# Inside a leaf container, these make it no block (the text sits in them instead).
_NOT_LEAF = _BLOCK_TAGS | frozenset({"div", "ul", "ol", "table", "dl"})


def _is_block(node: LexborNode) -> bool:
    tag = node.tag
    if tag in _BLOCK_TAGS:
        return True
    if tag not in _LEAF_TAGS:
        return False
    child = node.child
    while child is not None:
        if child.tag in _NOT_LEAF:
            return False
        child = child.next
    return True


def iter_blocks(tree: LexborHTMLParser) -> Iterable[tuple[LexborNode, str]]:
    """Each text block of the page body with its normalized text (bounded)."""
    body = tree.body
    if body is None:
        return
    count = 0
    for node in body.traverse(include_text=False):
        count += 1
        if count > _MAX_NODES:
            return
        if node.tag in NEVER or not _is_block(node):
            continue
        text = norm(node.text(deep=True, separator=" "))
        if text and len(text) <= _MAX_TEXT:
            yield node, text


def furniture_nodes(tree: LexborHTMLParser, model: SiteModel | None) -> list[LexborNode]:
    """The page's blocks that the model knows as furniture, outermost first.

    A block inside another furniture block is not listed again (decomposing the outer
    one removes it).
    """
    if model is None or not model.furniture:
        return []
    body = tree.body
    if body is None:
        return []
    furniture = model.furniture
    texts = model.furniture_texts
    found: list[LexborNode] = []
    # The mem_ids of the blocks found and of every node inside them. The walk is in
    # document order, parents first: a node whose parent is in the set is inside a found
    # block, and is skipped (and added) before anything else is read of it.
    inside: set[int] = set()
    keys = BlockKeys()
    count = 0
    for node in body.traverse(include_text=False):  # the walk of iter_blocks, same limit
        count += 1
        if count > _MAX_NODES:
            break
        if inside:
            parent = node.parent
            if parent is not None and parent.mem_id in inside:
                inside.add(node.mem_id)
                continue
        # ``_is_block`` inline, the tag read once (no ``NEVER`` tag is a block).
        tag = node.tag
        if tag not in _BLOCK_TAGS:
            if tag not in _LEAF_TAGS:
                continue
            child = node.child
            while child is not None:
                if child.tag in _NOT_LEAF:
                    break
                child = child.next
            if child is not None:
                continue
        if _is_furniture(node, keys, furniture, texts):
            inside.add(node.mem_id)
            found.append(node)
    return found


def _is_furniture(
    node: LexborNode, keys: BlockKeys, furniture: frozenset[int], texts: frozenset[int]
) -> bool:
    """Whether the block ``node`` is one of the ``furniture`` (``texts``: their text keys)."""
    raw = node.text(deep=True, separator=" ")
    text, probe = _probe(raw) if len(raw) <= _MAX_TEXT else (norm(raw), None)
    if not text or len(text) > _MAX_TEXT:
        return False
    if texts and (text_key(text) if probe is None else probe) not in texts:
        return False  # most blocks: no furniture has this text, wherever it sits
    return keys.key(node, text) in furniture


_NOT_PROSE = re.compile(
    r"comment|respond|reply|related|share|social|widget|sidebar|footer|author|bio|meta|"
    r"trackback|pingback|discuss",
    re.I,
)


def leads_text(node: LexborNode) -> int | None:
    """The key of the prose a heading opens (``None``: it opens links, a list or nothing).

    A heading repeated across posts that opens prose of its own ("Final Thoughts",
    "Summary") is a section; one that opens links or comments ("Related posts",
    "Comments", "See also") is furniture.
    """
    sibling = node.next
    while sibling is not None and sibling.tag in {"-text", "-comment"}:
        sibling = sibling.next
    if sibling is None or sibling.tag in {"ul", "ol", "nav", "form", "table"}:
        return None
    if _NOT_PROSE.search(node_marker(node) + " " + node_marker(sibling)):
        return None  # "Komentarze do wpisu" opens the comments, not the post's prose
    text = norm(sibling.text(deep=True, separator=" "))
    if len(text) < 60:
        return None
    linked = sum(len(norm(a.text(deep=True, separator=" "))) for a in sibling.css("a"))
    return block_key(sibling, text[:_MAX_TEXT]) if linked < 0.5 * len(text) else None


def node_selector(node: LexborNode) -> str | None:
    """A CSS selector for a node's place: ``tag.class`` or ``parent.class > tag``."""
    own = node_marker(node)
    if "." in own or "#" in own:
        return own
    parent = node.parent
    if parent is None or parent.tag in {"body", "html"}:
        return own
    up = node_marker(parent)
    if "." not in up and "#" not in up:
        grand = parent.parent
        if grand is not None and grand.tag not in {"body", "html"}:
            top = node_marker(grand)
            if "." in top or "#" in top:
                return f"{top} > {up} > {own}"
    return f"{up} > {own}"
