"""Where the article body is: the region of the page tree that holds the post's text.

``find_region`` tries the configured selector, then well-known content containers
(``itemprop=articleBody``, ``.entry-content``, ``.post-body`` …), then a text-density
score over paragraphs; ``media_region`` finds the body of a picture or video post. A
container inside an aside, a footer, a nav or a block named like boilerplate is never
the body. Reads the tree only; cleaning the region is ``body``'s concern.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import ExtractConfig
from migrator.extract.markers import POST_WRAPPER, junk_marker
from migrator.extract.nodes import BoundedMemo, memo_ancestors_within, select_safely

__all__ = ["find_region", "media_region"]

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

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_MIN_STRONG_CHARS = 50
_MAX_OWNER_DEPTH = 200


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
    known: BoundedMemo = {}  # one memo of ``_inside_junk`` answers for the page
    if rules.selectors.content:
        matches = select_safely(tree, rules.selectors.content)
        if matches:
            return max(matches, key=_text_length), "config", True
    # One walk of the tree tells which of the containers are there at all (most pages
    # have one or none): only those are asked for in their order of preference.
    present = tree.css_first(_ANY_STRONG) is not None
    for selector in STRONG_SELECTORS if present else ():
        matches = [m for m in tree.css(selector) if not _inside_junk(m, known)]
        if not matches:
            continue
        lengths = [_text_length(m) for m in matches]
        best = matches[lengths.index(max(lengths))]
        if max(lengths) >= _MIN_STRONG_CHARS or sum(lengths) >= 3 * _MIN_STRONG_CHARS:
            layer = "microdata" if selector.startswith("[itemprop") else "heuristic"
            if basis is not None:
                basis.extend(matches)
            return _merge_split(matches, lengths, basis) or best, layer, True
    scored = _density_region(tree, known)
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
    known: BoundedMemo = {}
    for selector in STRONG_SELECTORS:
        for node in tree.css(selector):
            if not _inside_junk(node, known) and node.css_first(
                "img[src], video, iframe[src], embed"
            ):
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


def _inside_junk(node: LexborNode, known: BoundedMemo) -> bool:
    """True below an aside, footer or nav or a block named like boilerplate, within
    ``_MAX_OWNER_DEPTH`` ancestors (``known``: the memo of earlier answers)."""
    return memo_ancestors_within(node.parent, known, _junk_block, _MAX_OWNER_DEPTH)


def _junk_block(node: LexborNode) -> bool:
    return node.tag in {"aside", "footer", "nav"} or junk_marker(node)


def _density_region(tree: LexborHTMLParser, known: BoundedMemo) -> LexborNode | None:
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
            if _inside_junk(para, known):
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
