"""The vocabulary of boilerplate: which tags, classes and ids mark blocks that are not
the article, for every field, in one place.

A theme says what a block is in its tag and its ``class``/``id`` words (``sidebar``,
``widget``, ``related``, ``comment``…). Each field reads that vocabulary with its own
exceptions, so the lists below differ on purpose, and keeping them side by side shows
how: the body drops bylines, ``entry-meta`` and headers, where the date *is* (dates skip
neither, and an article's own ``<footer>`` holds its date); a title is never the blog's
name in the site header (``logo``, ``masthead``, ``site-title``); sidebar links reject
category, tag and share containers but keep widgets. :func:`class_id` is the one
class-and-id text they are matched against. This module only names blocks: it neither
walks the tree nor decides a field (the field modules do). The site model's block
signature (``template.py``) is a different thing: a stable key per template, not a word
test.
"""

from __future__ import annotations

import functools
import re

from selectolax.lexbor import LexborNode

__all__ = [
    "ARTICLE_SCOPE",
    "ASIDE_WORDS",
    "BODY_JUNK_CANDIDATES",
    "BODY_JUNK_TAGS",
    "BODY_JUNK_WORDS",
    "DATE_JUNK_TAGS",
    "DATE_JUNK_WORDS",
    "FEATURED_WIDGET_WORDS",
    "HEADING_TAGS",
    "POST_WRAPPER",
    "SIDEBAR_REJECT_CONTAINER",
    "SIDEBAR_WORDS",
    "TITLE_JUNK_WORDS",
    "WIDGET_OR_POST_WORDS",
    "class_id",
    "junk_marker",
    "marked_ancestor",
]

HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def class_id(node: LexborNode) -> str:
    """The node's ``class`` and ``id`` as one text (``"entry-meta byline post-7"``)."""
    attributes = node.attributes  # a new dict per call: read it once
    return (attributes.get("class") or "") + " " + (attributes.get("id") or "")


def marked_ancestor(
    node: LexborNode,
    tags: frozenset[str],
    words: re.Pattern[str],
    *,
    include_self: bool = False,
    through_body: bool = False,
) -> bool:
    """True when an ancestor of ``node`` (or ``node`` itself, with ``include_self``) is
    one of ``tags`` or has a class or id matching ``words``: the one walk behind "is this
    inside a widget, an aside, a footer…". It stops below ``<body>`` unless
    ``through_body``.
    """
    current = node if include_self else node.parent
    while current is not None and (through_body or current.tag not in {"body", "html"}):
        if current.tag in tags or words.search(class_id(current)):
            return True
        current = current.parent
    return False


# ---------------------------------------------------------------- the article itself

# The article container around the body: its title and date line live inside.
ARTICLE_SCOPE = re.compile(r"\b(?:post|hentry|entry|article|blog-post|type-post|story)\b", re.I)
# A post's own wrapper in WordPress-like themes (its classes, not its id).
POST_WRAPPER = re.compile(r"\b(?:hentry|type-post|post-\d+)\b")

# ---------------------------------------------------------------- body

# Never part of a body, wherever they sit inside the region (a CSS selector).
BODY_JUNK_TAGS = (
    "script, style, noscript, template, iframe, object, embed, form, button, input, select, "
    "textarea, nav, aside, footer, svg, canvas, dialog, [hidden], h1, "
    '[role="navigation"], [role="complementary"], [role="banner"], [role="contentinfo"], '
    '[aria-hidden="true"], .ad, .ads, .adsbygoogle'
)
# Class/id words of blocks that are never body; matched per token (see ``junk_marker``).
BODY_JUNK_WORDS = re.compile(
    r"share|sharing|social|related|comment|respond|newsletter|subscribe|signup|advert|"
    r"sponsor|(?:^|[-_])promo(?:s|box|tion|tions)?(?:$|[-_])|breadcrumb|sidebar|widget|author-bio|post-meta|postmeta|entry-meta|"
    r"entry-footer|entry-header|post-header|byline|^tags|-tags|cat-links|yarpp|you-may|popup|"
    r"modal|cookie|pagination|nav-links|post-nav|print-|read-more|readmore|rating|^ad-|-ad-|"
    r"^ad$",
    re.I,
)
# The elements worth a ``junk_marker`` test: a cheap CSS pre-filter on the same words.
BODY_JUNK_CANDIDATES = ", ".join(
    f'[class*="{word}"], [id*="{word}"]'
    for word in (
        "share", "sharing", "social", "related", "comment", "respond", "newsletter",
        "subscribe", "signup", "advert", "sponsor", "promo", "breadcrumb", "sidebar",
        "widget", "author-bio", "meta", "header", "footer", "byline", "tags", "cat-links",
        "yarpp", "you-may", "popup", "modal", "cookie", "pagination", "nav-links",
        "post-nav", "print-", "read-more", "readmore", "rating", "ad-",
    )
)  # fmt: skip
# WordPress and Drupal put taxonomy terms into classes ("category-promotions",
# "tag-social-media"): such a token says what the post is about, not what the block is.
_TAXONOMY_TOKEN = re.compile(
    r"^(?:category|tag|post|postid|type|format|status|has|single|page-id|term|author|"
    r"node--type|taxonomy)-",
    re.I,
)


def junk_marker(node: LexborNode) -> bool:
    """True when the node's class or id names a block that is never article text."""
    attrs = node.attributes
    classes = attrs.get("class")
    node_id = attrs.get("id")
    if not classes and not node_id:
        return False
    # A heading's id is an anchor slugged from its own words ("how-social-anxiety-works"):
    # it names the topic, not the block, so only its classes count.
    if node_id and node.tag in HEADING_TAGS:
        node_id = None
    return _junk_words(classes, node_id)


# A theme repeats the same class lists on every page (and the body's density search asks
# about each paragraph's ancestors): each distinct pair is matched once per process.
@functools.lru_cache(maxsize=8192)
def _junk_words(classes: str | None, node_id: str | None) -> bool:
    tokens = (classes or "").split()
    if node_id:
        tokens.append(node_id)
    return any(
        BODY_JUNK_WORDS.search(token) for token in tokens if not _TAXONOMY_TOKEN.match(token)
    )


# ---------------------------------------------------------------- title

# Ancestors of a heading that is not the page's headline; matched per class/id token.
TITLE_JUNK_WORDS = re.compile(
    r"sidebar|widget|footer|comment|related|logo|brand|masthead|^header$|site-header|"
    r"header-name|site-title|site-name|blog-title|^top$",
    re.I,
)

# ---------------------------------------------------------------- dates

# Ancestors whose dates are not the page's (comments, widgets, prev/next links).
DATE_JUNK_WORDS = re.compile(
    r"comment|sidebar|widget|related|footer|share|teaser|respond|reply|"
    r"(?:^|[\s_-])(?:nav|navigation|nav-links|pager|pagination|prev|previous|next)(?:$|[\s_-])",
    re.I,
)
# Quoted code and logs, navigation and quotations never hold the page's own date.
DATE_JUNK_TAGS = frozenset({"aside", "nav", "pre", "code", "blockquote", "textarea"})

# ---------------------------------------------------------------- sidebar links, page type

# Containers whose links are never "related posts": taxonomy, archives, sharing, menus.
SIDEBAR_REJECT_CONTAINER = re.compile(
    r"categor|tag-?cloud|archive|share|social|comment|nav|author|masthead|site-header|"
    r"branding",
    re.I,
)
# A heading inside these is not one of a listing's post titles (page type).
ASIDE_WORDS = re.compile(r"sidebar|widget|related|footer|comment|menu|nav", re.I)
# A link inside these is a sidebar link, not one of the body's.
SIDEBAR_WORDS = re.compile(r"sidebar|widget|related", re.I)
# Links inside these are the site's own posts (a widget's list or the post itself).
WIDGET_OR_POST_WORDS = re.compile(r"widget|sidebar|entry|post|comment", re.I)

# ---------------------------------------------------------------- featured image

# An image inside these is a widget's picture, not the post's featured image.
FEATURED_WIDGET_WORDS = re.compile(r"sidebar|widget|related|comment", re.I)
