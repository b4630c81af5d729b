"""What kind of page this is once the CMS and the URL said nothing sure: a listing (the
site's headline or date element repeated, linked headlines, post summaries) or a post,
a page or other (a date, an article, a body)."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import ExtractConfig
from migrator.extract.blocks import norm
from migrator.extract.body import (
    select_safely,
)
from migrator.extract.dates import (
    node_date,
)
from migrator.extract.links import absolute_url
from migrator.extract.markers import (
    ASIDE_WORDS,
    SIDEBAR_WORDS,
    class_id,
    marked_ancestor,
)
from migrator.extract.pagetype import url_page_type
from migrator.extract.structured import Structured
from migrator.models import PageType, SiteModel

__all__ = ["kind_before_body", "post_or_page"]


# Pagination in the URL. A query's page number counts from 2 on: "?idx=8576&page=1" is an
# article that carries its list position along, and "?p=123" is a WordPress post id.
_PAGE_N = re.compile(
    r"/page/\d+/?$|/seite/\d+/?$|[?&](?:page|paged)=(?:[2-9]|[1-9]\d+)(?:&|$)", re.I
)

_MAX_SUMMARIES = 60

_MIN_DOMINANT_CHARS = 2000


def _is_listing(
    tree: LexborHTMLParser,
    rules: ExtractConfig,
    url: str,
    published: date | datetime | None,
    structured: Structured,
    strong_region: bool,
) -> bool:
    """True for an index, archive or pagination page (decided before the body is read)."""
    for pattern in rules.listing_patterns:
        try:
            if re.search(pattern, url):
                return True
        except re.error:
            continue
    if _PAGE_N.search(url):
        return True
    sizes: dict[str, int] = {}
    for node in tree.css("article, .post, .hentry, .blog-post, .post-summary, .entry"):
        link = node.css_first("h1 a[href], h2 a[href], h3 a[href], .entry-title a[href]")
        if link is None:
            continue
        # Nested wrappers of one summary (article > .post > .entry) count once.
        href = link.attributes.get("href") or ""
        if href in sizes or _in_sidebar(node):
            continue
        sizes[href] = len(node.text(deep=True))
        if len(sizes) >= _MAX_SUMMARIES:
            break
    if len(sizes) < 3:
        return False
    if _is_article(structured) and strong_region and published is not None:
        return False
    # One article holding far more text than any teaser around it is the page itself.
    first, second = sorted(sizes.values(), reverse=True)[:2]
    return not (first >= _MIN_DOMINANT_CHARS and first >= 4 * second)


def _is_article(structured: Structured) -> bool:
    return structured.article is not None or (structured.og_type or "") == "article"


def kind_before_body(
    tree: LexborHTMLParser,
    rules: ExtractConfig,
    url: str,
    published: date | datetime | None,
    structured: Structured,
    strong: bool,
    cms: tuple[PageType | None, str | None],
    model: SiteModel | None,
) -> tuple[PageType | None, str | None]:
    """The page's kind when something says so before the body is read, with its layer.

    In order: what the CMS's markup states; the site's headline element repeated on the
    page (several posts shown: a listing); archive and taxonomy URL shapes; post
    summaries (``_is_listing``). ``None`` leaves the decision to the body and date.
    """
    kind, evidence = cms
    if kind is not None:
        return kind, f"cms:{evidence}"
    if model is not None and model.title_selector:
        headlines = {
            norm(node.text(deep=True, separator=" "))
            for node in select_safely(tree, model.title_selector)
        }
        headlines.discard("")
        if len(headlines) >= 2:
            return "listing", f"site:{len(headlines)} headlines"
    if model is not None and model.date_selector:
        days = {
            found
            for node in select_safely(tree, model.date_selector)[:50]
            if (found := node_date(node, "DMY" if model.date_order == "DMY" else "MDY"))
        }
        if len(days) >= 3:
            return "listing", f"site:{len(days)} dates"
    if url_page_type(url) == "listing":
        return "listing", "url"
    # Only with the whole site's evidence: on a lone page, "more stories" headings linking
    # elsewhere are too often mistaken for a list of posts.
    if model is not None and _linked_headlines(tree, url) >= 3:
        return "listing", "site:linked headlines"
    if _is_listing(tree, rules, url, published, structured, strong):
        return "listing", "heuristic"
    return None, None


def _linked_headlines(tree: LexborHTMLParser, url: str) -> int:
    """How many headings of the main column are one link each to another page.

    A list of posts shows each title as a link to the post (``<h2><a href=…>``); a post
    shows its own title unlinked, or linked to itself.
    """
    own = url.split("#", 1)[0].rstrip("/")
    for h1 in tree.css("h1"):
        text = h1.text(deep=True).strip()
        linked = sum(len(a.text(deep=True).strip()) for a in h1.css("a"))
        if len(text) >= 4 and linked < 0.5 * len(text):
            return 0  # the page shows its own headline: an article, whatever it links to
    targets: set[str] = set()
    for heading in tree.css("h1, h2, h3"):
        links = heading.css("a[href]")
        if len(links) != 1:
            continue
        href = absolute_url(links[0].attributes.get("href"), url)
        text = heading.text(deep=True).strip()
        if not href or len(links[0].text(deep=True).strip()) < 0.6 * len(text):
            continue
        href = href.split("#", 1)[0]
        if href.rstrip("/") == own or urlsplit(href).path in {"", "/"}:
            continue
        current = heading.parent
        aside = False
        while current is not None and current.tag not in {"body", "html"}:
            if current.tag in {"aside", "nav", "footer", "header"} or ASIDE_WORDS.search(
                class_id(current)
            ):
                aside = True
                break
            current = current.parent
        if not aside:
            targets.add(href)
            if len(targets) >= 3:
                break
    return len(targets)


def post_or_page(
    tree: LexborHTMLParser,
    published: date | datetime | None,
    structured: Structured,
    strong_region: bool,
    body_text: str,
    *,
    titled: bool = False,
) -> PageType:
    """Post, page or other, once no stronger signal decided (``kind_before_body``).

    ``titled``: the headline or the date came from the site's own element for it, so a
    dated page with no text (a photo, a video) is still a post.
    """
    if published is not None and titled:
        return "post"
    if published is not None and (
        _is_article(structured) or strong_region or tree.css_first("article")
    ):
        return "post"
    if published is not None and body_text.strip():
        return "post"
    if body_text.strip():
        return "page"
    return "other"


def _in_sidebar(node: LexborNode) -> bool:
    return marked_ancestor(node, frozenset({"aside", "footer"}), SIDEBAR_WORDS, through_body=True)
