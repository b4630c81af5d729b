"""A page's template signature (its skeleton's layout containers) and its CMS."""

from __future__ import annotations

import hashlib
import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.extract.blocks import node_marker

__all__ = ["detect_cms", "html_template_signature", "parse_tree", "template_signature"]

_LAYOUT = frozenset({"div", "section", "main", "aside", "header", "footer", "nav", "table"})


def template_signature(tree: LexborHTMLParser) -> str:
    """A page skeleton's signature: the layout containers of its top levels.

    The ids and class names of the ``div``/``section``/``aside``… elements at most three
    levels below ``<body>`` (names with digits left out): the same on every page a theme's
    template renders, whatever the content; a comment block deep inside does not count.
    """
    body = tree.body
    if body is None:
        return "-"
    marks: set[str] = set()
    level: list[LexborNode] = [body]
    for _depth in range(3):
        below: list[LexborNode] = []
        for node in level:
            child = node.child
            while child is not None:
                if child.tag in _LAYOUT:
                    marks.add(node_marker(child))
                    below.append(child)
                child = child.next
        level = below[:200]
    return hashlib.blake2b("|".join(sorted(marks)).encode(), digest_size=4).hexdigest()


def html_template_signature(html: str) -> str | None:
    """The template signature of one page's HTML (as ``SiteModel.templates`` counts them)."""
    tree = parse_tree(html)
    return None if tree is None else template_signature(tree)


def parse_tree(html: str) -> LexborHTMLParser | None:
    """The page's tree, or ``None`` when it will not parse or has no ``<body>``."""
    try:
        tree = LexborHTMLParser(html)
    except Exception:  # noqa: BLE001 - a page that will not parse teaches nothing
        return None
    return tree if tree.body is not None else None


# --------------------------------------------------------------------------- CMS


# Each pattern with literal strings one of which every match contains (lower case):
# a pattern none of whose strings is in the folded page cannot match, and is not run
# (seven case-insensitive scans of 200 kB cost more than the rest of learning).
_CMS_PATTERNS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    (
        "wordpress",
        re.compile(r"wp-content/|wp-includes/|name=.generator. content=.WordPress", re.I),
        ("wp-content/", "wp-includes/", "wordpress"),
    ),
    (
        "blogger",
        re.compile(r"content=.blogger|_WidgetManager|blogger\.com/", re.I),
        ("blogger", "_widgetmanager"),
    ),
    (
        "movabletype",
        re.compile(r"Movable Type|mt-static|mt-search|mt\.cgi", re.I),
        ("movable type", "mt-static", "mt-search", "mt.cgi"),
    ),
    ("typepad", re.compile(r"typepad", re.I), ("typepad",)),
    (
        "drupal",
        re.compile(r"Drupal|/sites/default/files/", re.I),
        ("drupal", "/sites/default/files/"),
    ),
    ("joomla", re.compile(r"Joomla|/components/com_", re.I), ("joomla", "/components/com_")),
    ("ghost", re.compile(r"content=.Ghost|ghost-(?:url|api)", re.I), ("ghost",)),
)


# re.IGNORECASE also matches these to ASCII letters, which str.lower() leaves alone.
_CASE_FOLD = (("\u017f", "s"), ("\u0131", "i"), ("\u212a", "k"))


def detect_cms(html: str) -> str | None:
    """The CMS whose markup the page carries, or ``None``."""
    head = html[:200_000]
    folded = head.lower()
    if not folded.isascii():
        for odd, letter in _CASE_FOLD:
            if odd in folded:  # str.translate would cost more than all the searches
                folded = folded.replace(odd, letter)
    for name, pattern, needles in _CMS_PATTERNS:
        if any(needle in folded for needle in needles) and pattern.search(head):
            return name
    return None
