"""The site model: what a whole crawl says about each page that one page cannot.

A blog is a few templates filled hundreds of times. Read across a sample of its pages:

- **furniture**: a block whose text sits at the same place on many pages (the blog's name
  in an ``h1``, the footer, an unchanging widget, "See also" headings, a date in a footer
  "mini-blog") is part of the theme, never a title, a date, a section or the body;
- **site names**: the ``<title>`` parts, ``og:title`` or ``og:site_name`` values that
  repeat across pages name the site, not the page;
- **the headline's element**: the element whose text is the page's own ``<title>``
  headline on most pages (``h3.post-title`` on an old Blogger theme, ``h2 > a`` on a
  Movable Type one) — applied to every page, it gives the title and, where it repeats
  on one page, shows a listing;
- **the date's element**: the element that carries a distinct, plausible date on most
  pages — cross-checked with the feed's dates and dates in the URLs — and the site's
  numeric date order.

``learn_site`` builds a :class:`SiteModel` from a sample of ``(url, html)`` pages; it is
deterministic and pure. :func:`furniture_nodes` finds the furniture of one parsed page
under a model, cheaply (one pass over the page's text blocks). The model is plain data:
stored in the database, shown by ``--explain``, and written as selectors by ``migrator
learn``.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.extract.dates import (
    DATE_RE,
    NAV_TEXT,
    UPDATED_WORD,
    may_hold_date,
    node_date,
    same_day,
)
from migrator.extract.featured import image_key
from migrator.extract.layout import is_side_column
from migrator.extract.nodes import memo_ancestors
from migrator.extract.pagetype import url_page_type
from migrator.models import SiteModel

__all__ = [
    "SiteModel",
    "block_key",
    "cut_site_names",
    "furniture_nodes",
    "html_template_signature",
    "learn_site",
    "learn_template",
    "node_selector",
    "template_signature",
    "title_parts",
    "title_spans",
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
_NEVER = frozenset({"script", "style", "noscript", "template", "svg", "select", "option"})
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_WS = re.compile(r"\s+")
_VOLATILE = re.compile(r"\d")  # class/id tokens with numbers name one post, not a place
_SAFE_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_SEPARATORS = re.compile(r"\s+(?:\||–|—|-|::|:|«|»|·|•|/|\\)\s+|(?<=\w):\s+")
_MAX_TEXT = 2000
_MAX_NODES = 6000  # elements keyed per page; a theme's furniture sits well within this
_MIN_SAMPLE = 6  # fewer pages than this: nothing repeats meaningfully, no model
_FURNITURE_SHARE = 0.3  # a block on this share of the sample is furniture
_TEMPLATE_SHARE = 0.6  # … of the pages of its own template
_TEMPLATE_FURNITURE_PAGES = 30  # pages of a template needed to learn its own furniture
_MIN_FURNITURE_PAGES = 3
_EXCLUSIVE_PAGES = 20  # dated pages of a template needed to call its date element the only one
_EXCLUSIVE_SHARE = 0.9  # … and the share of them that show it
_SITE_NAME_SHARE = 0.3


# --------------------------------------------------------------------- blocks and keys


def norm(text: str) -> str:
    """Whitespace collapsed and case folded: how texts are compared across pages."""
    return " ".join(text.split()).casefold()


def _marker(node: LexborNode) -> str:
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
        parts.append(_marker(current))
        current = current.parent
    return _digest("/".join(reversed(parts)), text)


class _Keys:
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
            marker = self._markers[ident] = _marker(node)
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
    for _, node, text in _indexed_blocks(tree):
        yield node, text


def _indexed_blocks(tree: LexborHTMLParser) -> Iterable[tuple[int, LexborNode, str]]:
    """``iter_blocks`` with each block's position in the body's walk (``_nodes_at``)."""
    body = tree.body
    if body is None:
        return
    count = 0
    for node in body.traverse(include_text=False):
        count += 1
        if count > _MAX_NODES:
            return
        if node.tag in _NEVER or not _is_block(node):
            continue
        text = norm(node.text(deep=True, separator=" "))
        if text and len(text) <= _MAX_TEXT:
            yield count, node, text


def _nodes_at(tree: LexborHTMLParser, positions: Iterable[int]) -> dict[int, LexborNode]:
    """The nodes at these positions of the body's walk (as ``_indexed_blocks`` counts)."""
    wanted = set(positions)
    found: dict[int, LexborNode] = {}
    body = tree.body
    if body is None or not wanted:
        return found
    last = max(wanted)
    for count, node in enumerate(body.traverse(include_text=False), start=1):
        if count in wanted:
            found[count] = node
            if count >= last:
                break
    return found


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
    keys = _Keys()
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
        # ``_is_block`` inline, the tag read once (no ``_NEVER`` tag is a block).
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
        raw = node.text(deep=True, separator=" ")
        text, probe = _probe(raw) if len(raw) <= _MAX_TEXT else (norm(raw), None)
        if not text or len(text) > _MAX_TEXT:
            continue
        if texts and (text_key(text) if probe is None else probe) not in texts:
            continue  # most blocks: no furniture has this text, wherever it sits
        if keys.key(node, text) not in furniture:
            continue
        inside.add(node.mem_id)
        found.append(node)
    return found


_NOT_PROSE = re.compile(
    r"comment|respond|reply|related|share|social|widget|sidebar|footer|author|bio|meta|"
    r"trackback|pingback|discuss",
    re.I,
)


def _leads_text(node: LexborNode) -> int | None:
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
    if _NOT_PROSE.search(_marker(node) + " " + _marker(sibling)):
        return None  # "Komentarze do wpisu" opens the comments, not the post's prose
    text = norm(sibling.text(deep=True, separator=" "))
    if len(text) < 60:
        return None
    linked = sum(len(norm(a.text(deep=True, separator=" "))) for a in sibling.css("a"))
    return block_key(sibling, text[:_MAX_TEXT]) if linked < 0.5 * len(text) else None


def node_selector(node: LexborNode) -> str | None:
    """A CSS selector for a node's place: ``tag.class`` or ``parent.class > tag``."""
    own = _marker(node)
    if "." in own or "#" in own:
        return own
    parent = node.parent
    if parent is None or parent.tag in {"body", "html"}:
        return own
    up = _marker(parent)
    if "." not in up and "#" not in up:
        grand = parent.parent
        if grand is not None and grand.tag not in {"body", "html"}:
            top = _marker(grand)
            if "." in top or "#" in top:
                return f"{top} > {up} > {own}"
    return f"{up} > {own}"


def _tokens(title: str) -> list[str]:
    """``title`` split into parts and the separators between them (odd indexes)."""
    pattern = re.compile(f"({_SEPARATORS.pattern})")
    return [t for t in pattern.split(title) if t is not None]


def title_spans(title: str) -> set[str]:
    """Every run of consecutive ``<title>`` parts with their own separators, normalized:
    the headline is one of them ("Blog » Trip 0: the hills" → "trip 0: the hills")."""
    tokens = _tokens(title)
    parts = tokens[::2]
    spans: set[str] = set()
    for start in range(min(len(parts), 8)):
        for end in range(start, min(len(parts), start + 8)):
            spans.add(norm("".join(tokens[2 * start : 2 * end + 1])))
    spans.discard("")
    return spans


def cut_site_names(title: str, names: frozenset[str] | set[str]) -> str | None:
    """``title`` without the site-name parts at its start and end (``None`` if none)."""
    tokens = _tokens(title)
    cut = False
    while len(tokens) >= 3 and norm(tokens[0]) in names:
        tokens, cut = tokens[2:], True
    while len(tokens) >= 3 and norm(tokens[-1]) in names:
        tokens, cut = tokens[:-2], True
    kept = _WS.sub(" ", "".join(tokens)).strip()
    return kept if cut and kept else None


def title_parts(title: str) -> list[str]:
    """A ``<title>`` split at its separators ("Post | Blog", "Blog: Post"), normalized."""
    return [norm(p) for p in _SEPARATORS.split(title) if p.strip()]


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


# ---------------------------------------------------------------------- learning


@dataclass(slots=True)
class _Sample:
    url: str
    title: str
    og_title: str
    og_site: str
    keys: set[int]
    leading: dict[int, int]  # heading key -> key of the prose it opens on this page
    template: str
    # What the votes read, noted while the page's tree is alive (one pass, one tree at a
    # time): h1/h2 texts that may name the site, the elements showing a ``<title>`` part
    # (text, block key, selector, alone on the page) and the blocks giving a plausible
    # date (block key, selector, day, score, numeric orders), in document order. Only
    # the furniture, known after every page was read, decides which of them count.
    headings: list[tuple[str, int]]
    title_candidates: list[tuple[str, int, str, bool]]
    date_candidates: list[tuple[int, str, date, float, list[str]]]


@dataclass(slots=True)
class _Votes:
    """What the second pass over the sample counts."""

    title: Counter[str]
    title_pages: int
    title_single: Counter[str]
    heading_names: set[str]
    date_scores: defaultdict[str, float]
    date_present: Counter[str]
    date_values: defaultdict[str, set[date]]
    orders: Counter[str]
    dated: list[frozenset[str]]  # per page with one or two dates: the elements giving them


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
                    marks.add(_marker(child))
                    below.append(child)
                child = child.next
        level = below[:200]
    return hashlib.blake2b("|".join(sorted(marks)).encode(), digest_size=4).hexdigest()


def html_template_signature(html: str) -> str | None:
    """The template signature of one page's HTML (as ``SiteModel.templates`` counts them)."""
    tree = _parse(html)
    return None if tree is None else template_signature(tree)


def _parse(html: str) -> LexborHTMLParser | None:
    try:
        tree = LexborHTMLParser(html)
    except Exception:  # noqa: BLE001 - a page that will not parse teaches nothing
        return None
    return tree if tree.body is not None else None


def learn_site(
    pages: Iterable[tuple[str, str]],
    *,
    feed_dates: Mapping[str, str] | None = None,
    fetched_at: datetime | None = None,
) -> SiteModel | None:
    """Learn a site's furniture, names, headline and date elements from sample pages.

    Two passes over the sample, one page tree alive at a time: the first counts on how
    many pages each block appears (furniture) and collects ``<title>`` and ``og`` values
    (site names); the second, knowing the furniture, votes for the headline's and the
    date's elements.

    Args:
        pages: ``(url, html)`` of sample pages of one site (a few hundred suffice).
        feed_dates: ISO dates the site's feeds give for some URLs (a strong hint).
        fetched_at: when the pages were fetched (dates after it are not dates).

    Returns:
        The model, or ``None`` when there are too few pages to learn from.
    """
    read = _read_samples(pages, feed_dates, fetched_at)
    samples, texts_of = read.samples, read.texts_of
    cms_votes, templates, og_images = read.cms_votes, read.templates, read.og_images
    count = len(samples)
    if count < _MIN_SAMPLE:
        return None
    evidence: list[str] = []
    furniture = _learn_furniture(samples, evidence, share=_FURNITURE_SHARE)
    names = _title_names(samples)
    # Templates with enough pages of their own get their own rules (a blog that changed
    # theme, a gallery template); the site-wide ones serve every other page.
    groups: dict[str, list[_Sample]] = defaultdict(list)
    for sample in samples:
        groups[sample.template].append(sample)
    big = {
        sig: members
        for sig, members in groups.items()
        if len(groups) > 1 and len(members) >= max(_MIN_SAMPLE, 0.1 * count)
    }
    # Within one template, furniture is on nearly every page: more than half of them. A
    # template seen on few pages cannot tell its furniture from repeated content: it keeps
    # the site-wide furniture only.
    own_furniture = {
        sig: furniture
        | (
            _learn_furniture(members, [], share=_TEMPLATE_SHARE)
            if len(members) >= _TEMPLATE_FURNITURE_PAGES
            else frozenset()
        )
        for sig, members in big.items()
    }
    votes = _new_votes()
    own_votes = {sig: _new_votes() for sig in big}
    for sample in samples:
        for text, key in sample.headings:
            if key in furniture:
                votes.heading_names.add(text)
        _vote_title(sample, furniture, names, votes)
        _vote_date(sample, furniture, votes)
        if sample.template in big:
            mine = own_votes[sample.template]
            _vote_title(sample, own_furniture[sample.template], names, mine)
            _vote_date(sample, own_furniture[sample.template], mine)
    site_names = frozenset(names | votes.heading_names)
    if site_names:
        evidence.append("site names: " + ", ".join(sorted(site_names)[:5]))
    title_selector, title_agreement = _pick_title(votes, evidence)
    date_selector, date_agreement, date_order = _pick_date(votes, count, evidence)
    # With several templates the site-wide rules serve the rare ones: too few to tell.
    date_exclusive = len(groups) == 1 and _date_exclusive(votes, date_selector, evidence)
    cms = cms_votes.most_common(1)[0][0] if cms_votes else None
    if cms is not None and cms_votes[cms] < 0.3 * count:
        cms = None  # a few pages (a saved foreign page, a plugin's asset) name no CMS
    if cms:
        evidence.append(f"cms: {cms} on {cms_votes[cms]} of {count} pages")
    shared_images = frozenset(
        key
        for key, seen in og_images.items()
        if seen >= max(_MIN_FURNITURE_PAGES, _FURNITURE_SHARE * count)
    )
    if shared_images:
        evidence.append(f"og:image shared by many pages (the site's card): {len(shared_images)}")
    by_template = []
    for sig, members in sorted(big.items()):
        notes: list[str] = [f"template {sig}: {len(members)} pages"]
        t_title, t_title_agree = _pick_title(own_votes[sig], notes)
        t_date, t_date_agree, _ = _pick_date(own_votes[sig], len(members), notes)
        t_exclusive = _date_exclusive(own_votes[sig], t_date, notes)
        evidence.extend(notes)
        by_template.append(
            SiteModel(
                signature=sig,
                pages_sampled=len(members),
                furniture=own_furniture[sig],
                furniture_texts=frozenset(texts_of[k] for k in own_furniture[sig] if k in texts_of),
                site_names=site_names,
                title_selector=t_title,
                title_agreement=t_title_agree,
                date_selector=t_date,
                date_agreement=t_date_agree,
                date_exclusive=t_exclusive,
                date_order=date_order,
                cms=cms,
                shared_images=shared_images,
            )
        )
    return SiteModel(
        pages_sampled=count,
        furniture=furniture,
        furniture_texts=frozenset(texts_of[k] for k in furniture if k in texts_of),
        site_names=site_names,
        title_selector=title_selector,
        title_agreement=title_agreement,
        date_selector=date_selector,
        date_agreement=date_agreement,
        date_exclusive=date_exclusive,
        date_order=date_order,
        cms=cms,
        shared_images=shared_images,
        templates=tuple(templates.most_common(20)),
        evidence=tuple(evidence),
        by_template=tuple(by_template),
    )


def learn_template(
    pages: Iterable[tuple[str, str]],
    site: SiteModel,
    signature: str,
    *,
    feed_dates: Mapping[str, str] | None = None,
    fetched_at: datetime | None = None,
) -> SiteModel | None:
    """Learn one template's own rules from a sample of its own pages, for ``site``.

    What :func:`learn_site` learns for a template that is big in its sample (its
    furniture on top of the site's, its own headline and date elements), for a template
    the site model's sample missed (a blog's archive pages, found late in a crawl): read
    from that template's pages only, with the site-wide furniture, site names, date order,
    CMS and shared images of ``site``. Pages of other templates in ``pages`` are skipped.

    Returns:
        The template's rules (``signature`` set), or ``None`` when fewer than a handful of
        its pages were given.
    """
    read = _read_samples(pages, feed_dates, fetched_at, only=signature)
    members = read.samples
    if len(members) < _MIN_SAMPLE:
        return None
    furniture = site.furniture | (
        _learn_furniture(members, [], share=_TEMPLATE_SHARE)
        if len(members) >= _TEMPLATE_FURNITURE_PAGES
        else frozenset()
    )
    names = set(site.site_names)
    votes = _new_votes()
    for sample in members:
        _vote_title(sample, furniture, names, votes)
        _vote_date(sample, furniture, votes)
    notes = [f"template {signature}: {len(members)} pages of its own"]
    title, title_agreement = _pick_title(votes, notes)
    date_selector, date_agreement, _ = _pick_date(votes, len(members), notes)
    exclusive = _date_exclusive(votes, date_selector, notes)
    texts_of = read.texts_of
    return SiteModel(
        signature=signature,
        pages_sampled=len(members),
        furniture=furniture,
        furniture_texts=frozenset(texts_of[k] for k in furniture if k in texts_of),
        site_names=site.site_names,
        title_selector=title,
        title_agreement=title_agreement,
        date_selector=date_selector,
        date_agreement=date_agreement,
        date_exclusive=exclusive,
        date_order=site.date_order,
        cms=site.cms,
        shared_images=site.shared_images,
        evidence=tuple(notes),
    )


@dataclass(slots=True)
class _Read:
    """The first pass over a sample: each page's notes, and what is counted site-wide."""

    samples: list[_Sample]
    texts_of: dict[int, int]  # block key -> its text's key
    cms_votes: Counter[str]
    templates: Counter[str]
    og_images: Counter[str]


def _read_samples(
    pages: Iterable[tuple[str, str]],
    feed_dates: Mapping[str, str] | None,
    fetched_at: datetime | None,
    *,
    only: str | None = None,
) -> _Read:
    """Parse each sample page once (one tree alive at a time) and note what the votes
    read; ``only``: skip the pages of every other template."""
    read = _Read([], {}, Counter(), Counter(), Counter())
    samples, texts_of = read.samples, read.texts_of
    cms_votes, templates, og_images = read.cms_votes, read.templates, read.og_images
    latest = (fetched_at or datetime.now().astimezone()).date()
    feeds = feed_dates or {}
    for url, html in pages:
        tree = _parse(html)
        if tree is None:
            continue
        signature = template_signature(tree)
        if only is not None and signature != only:
            continue
        cms = detect_cms(html)
        if cms:
            cms_votes[cms] += 1
        templates[signature] += 1
        title_node = tree.css_first("title")
        title = title_node.text(deep=True) if title_node is not None else ""
        og_title = _meta(tree, "og:title")
        og_image = tree.css_first('meta[property="og:image"], meta[name="twitter:image"]')
        if og_image is not None and og_image.attributes.get("content"):
            og_images[image_key(og_image.attributes.get("content") or "")] += 1
        keys: set[int] = set()
        leading: dict[int, int] = {}
        headings: list[tuple[str, int]] = []
        dated: list[tuple[LexborNode, str, int]] = []
        block_keys = _Keys()
        for node, text in iter_blocks(tree):
            key = block_keys.key(node, text)
            keys.add(key)
            texts_of[key] = text_key(text)
            tag = node.tag
            if tag in _HEADINGS[1:]:
                prose = _leads_text(node)
                if prose is not None:
                    leading[key] = prose
            if tag in {"h1", "h2"} and len(text) <= 120:
                headings.append((text, key))
            if _may_vote_date(tag, text):
                dated.append((node, text, key))
        samples.append(
            _Sample(
                url=url,
                title=title,
                og_title=og_title,
                og_site=_meta(tree, "og:site_name"),
                keys=keys,
                leading=leading,
                template=signature,
                headings=headings,
                title_candidates=_title_candidates(tree, title, og_title),
                date_candidates=_date_candidates(url, dated, feeds, latest),
            )
        )
    return read


def _new_votes() -> _Votes:
    return _Votes(
        Counter(),
        0,
        Counter(),
        set(),
        defaultdict(float),
        Counter(),
        defaultdict(set),
        Counter(),
        [],
    )


def _meta(tree: LexborHTMLParser, prop: str) -> str:
    node = tree.css_first(f'meta[property="{prop}"], meta[name="{prop}"]')
    return norm(node.attributes.get("content") or "") if node is not None else ""


def _learn_furniture(
    samples: list[_Sample], evidence: list[str], *, share: float = 0.3
) -> frozenset[int]:
    document_frequency: Counter[int] = Counter()
    for sample in samples:
        document_frequency.update(sample.keys)
    threshold = max(_MIN_FURNITURE_PAGES, math.ceil(share * len(samples)))
    # A repeated heading (h2–h6) that mostly opens prose of the page's own (prose that is
    # not itself repeated) is the post's section: "Final Thoughts", "Summary".
    leading: Counter[int] = Counter()
    for sample in samples:
        leading.update(
            heading
            for heading, prose in sample.leading.items()
            if document_frequency[prose] < threshold
        )
    furniture = frozenset(
        k for k, n in document_frequency.items() if n >= threshold and leading[k] < 0.5 * n
    )
    evidence.append(
        f"furniture: {len(furniture)} blocks seen on at least {threshold} of {len(samples)} pages"
    )
    return furniture


def _title_names(samples: list[_Sample]) -> set[str]:
    """``<title>`` parts and ``og:title`` values that repeat across pages, og:site_name."""
    parts: Counter[str] = Counter()
    og_titles: Counter[str] = Counter()
    og_sites: Counter[str] = Counter()
    for sample in samples:
        parts.update(set(title_parts(sample.title)))
        if sample.og_title:
            og_titles[sample.og_title] += 1
        if sample.og_site:
            og_sites[sample.og_site] += 1
    threshold = max(_MIN_FURNITURE_PAGES, math.ceil(_SITE_NAME_SHARE * len(samples)))
    names = {p for p, n in parts.items() if n >= threshold}
    names.update(t for t, n in og_titles.items() if n >= threshold)
    # og:site_name on a few pages of a foreign stub (a saved captcha page) names nothing.
    names.update(t for t, n in og_sites.items() if n >= min(threshold, 0.1 * len(samples) + 1))
    names.discard("")
    return names


def _headline_candidates(sample: _Sample, site_names: set[str]) -> set[str]:
    wanted = {s for s in title_spans(sample.title) if s not in site_names and len(s) >= 2}
    if sample.og_title and sample.og_title not in site_names:
        wanted.add(sample.og_title)
    return wanted


_TITLE_CANDIDATES = "h1, h2, h3, h4, h5, [class*=title], [class*=headline], [itemprop=headline]"


def _title_candidates(
    tree: LexborHTMLParser, title: str, og_title: str
) -> list[tuple[str, int, str, bool]]:
    """The elements whose text is a ``<title>`` part or ``og:title``, in document order:
    ``(text, block key, selector, alone on the page)``."""
    shown = title_spans(title)
    if og_title:
        shown.add(og_title)
    if not shown:
        return []
    found: list[tuple[str, int, str, bool]] = []
    single: dict[str, bool] = {}
    for node in tree.css(_TITLE_CANDIDATES):
        if node.tag in _NEVER or node.tag in {"title", "meta", "head"}:
            continue
        text = norm(node.text(deep=True, separator=" "))
        if text not in shown:
            continue
        # The heading itself, not a link inside it: the selector names the heading.
        target = node
        if node.tag == "a" and node.parent is not None and node.parent.tag in _HEADINGS:
            target = node.parent
        selector = node_selector(target)
        if not selector:
            continue
        alone = single.get(selector)
        if alone is None:
            # On the page that is this headline's own, the element is there once: a
            # selector that also matches its sections or siblings names no headline.
            try:
                alone = len(tree.css(selector)) == 1
            except (ValueError, TypeError, RuntimeError):
                alone = False
            single[selector] = alone
        found.append((text, block_key(node, text), selector, alone))
    return found


def _vote_title(
    sample: _Sample,
    furniture: frozenset[int],
    names: set[str],
    votes: _Votes,
) -> None:
    wanted = _headline_candidates(sample, names)
    if not wanted:
        return
    votes.title_pages += 1
    seen: set[str] = set()
    for text, key, selector, alone in sample.title_candidates:
        if text not in wanted or key in furniture or selector in seen:
            continue
        seen.add(selector)
        votes.title[selector] += 1
        votes.title_single[selector] += alone


def _pick_title(votes: _Votes, evidence: list[str]) -> tuple[str | None, tuple[int, int]]:
    pages = votes.title_pages
    if not votes.title:
        evidence.append(f"title: no element shows the <title> headline ({pages} pages)")
        return None, (0, pages)
    selector, agree = max(votes.title.items(), key=lambda kv: (kv[1], kv[0][:1] == "h", kv[0]))
    if agree < max(_MIN_FURNITURE_PAGES, math.ceil(0.3 * pages)):
        evidence.append(f"title: no element agrees enough (best {selector}: {agree}/{pages})")
        return None, (agree, pages)
    evidence.append(f"title: {selector} holds the <title> headline on {agree}/{pages} pages")
    return selector, (agree, pages)


def _url_month(url: str) -> tuple[int, int] | None:
    match = re.search(r"/((?:19|20)\d{2})[/_-](0?[1-9]|1[0-2])(?:[/_-]|$)", urlsplit(url).path)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _may_vote_date(tag: str | None, text: str) -> bool:
    """The tests of ``_date_candidates`` that need neither the node nor the model."""
    if len(text) > 160 or tag in {"h1", "pre", "code", "a"}:
        return False
    return tag == "time" or may_hold_date(text)


def _date_candidates(
    url: str,
    blocks: list[tuple[LexborNode, str, int]],
    feed_dates: Mapping[str, str],
    latest: date,
) -> list[tuple[int, str, date, float, list[str]]]:
    """The page's blocks that show a plausible publication date, in document order:
    ``(block key, selector, day, score, numeric orders of its text)``."""
    feed_day = (feed_dates.get(url) or "")[:10]
    month = _url_month(url)
    found: list[tuple[int, str, date, float, list[str]]] = []
    asides: dict[int, bool] = {}
    for node, text, key in blocks:
        # The cheap tests first: a theme's widgets (archives, recent posts) are full of
        # years, and one walk up per parent answers for all their blocks.
        parent = node.parent
        if parent is not None and _aside(parent, asides):
            continue  # a widget's, a related post's or a comment's date
        if NAV_TEXT.search(text):
            continue  # "« Previous entry (March 3, 2005)": another post's date
        match = DATE_RE.search(text)
        if match is not None and UPDATED_WORD.search(text[: match.start()][-40:]):
            continue  # "Last updated on …": not the publication date
        own = (node.attributes.get("class") or "").lower()
        if ("updated" in own or "modified" in own) and not (
            "published" in own or "entry-date" in own
        ):
            continue  # <time class="updated">: when it changed, not when it was published
        if not (node.tag == "time" or match is not None):
            continue
        day_found = node_date(node, "MDY")
        if day_found is None:
            continue
        day = same_day(day_found)
        if not date(1990, 1, 1) <= day <= latest:
            continue
        selector = node_selector(node)
        if selector is None:
            continue
        score = 1.0
        if feed_day and day.isoformat() == feed_day:
            score += 3.0
        if month is not None:
            score += 1.0 if (day.year, day.month) == month else -1.0
        found.append((key, selector, day, score, _numeric_orders(text)))
    return found


def _vote_date(sample: _Sample, furniture: frozenset[int], votes: _Votes) -> None:
    seen: set[str] = set()
    days: set[date] = set()
    for key, selector, day, score, orders in sample.date_candidates:
        if key in furniture or selector in seen:
            continue
        seen.add(selector)
        votes.date_present[selector] += 1
        votes.date_values[selector].add(day)
        votes.date_scores[selector] += score
        votes.orders.update(orders)
        days.add(day)
    # Three and more days, or an archive's URL: a list of posts, not one post's page.
    if 0 < len(days) < 3 and url_page_type(sample.url) != "listing":
        votes.dated.append(frozenset(seen))


# Not "widget": Blogger's main column is itself a widget (div.widget.Blog).
_ASIDE_MARKER = re.compile(
    r"sidebar|widget-area|secondary|related|comment|footer|respond|share", re.I
)


_PAGE_TAGS = frozenset({"body", "html"})


def _aside(node: LexborNode, known: dict[int, bool]) -> bool:
    """Whether ``node`` or an ancestor below ``<body>`` is an aside, a nav, a footer or
    named like a widget area, related posts or comments (memoized by node in ``known``)."""
    return memo_ancestors(node, known, _is_aside, _PAGE_TAGS)


def _is_aside(node: LexborNode) -> bool:
    attributes = node.attributes
    return bool(
        node.tag in {"aside", "nav", "footer"}
        or _ASIDE_MARKER.search(
            (attributes.get("class") or "") + " " + (attributes.get("id") or "")
        )
        or is_side_column(node)  # a grid theme's narrow column (col-md-4 by col-md-8)
    )


def _date_exclusive(votes: _Votes, selector: str | None, evidence: list[str]) -> bool:
    """True when nearly every dated page of the sample shows its date in ``selector``.

    Then a page of the template without that element has no date of its own: what dates
    it shows belong to something else (an event's start and end, a widget, a sidebar).
    Only with enough pages to tell (``_EXCLUSIVE_PAGES``).
    """
    if selector is None or len(votes.dated) < _EXCLUSIVE_PAGES:
        return False
    having = sum(1 for elements in votes.dated if selector in elements)
    exclusive = having >= _EXCLUSIVE_SHARE * len(votes.dated)
    evidence.append(
        f"date: {selector} on {having} of {len(votes.dated)} dated pages"
        + (" (the only place a page shows its date)" if exclusive else "")
    )
    return exclusive


def _pick_date(
    votes: _Votes, count: int, evidence: list[str]
) -> tuple[str | None, tuple[int, int], str | None]:
    order = None
    if votes.orders:
        order = votes.orders.most_common(1)[0][0]
        evidence.append(f"date order: {order} ({dict(votes.orders)})")
    present, values, scores = votes.date_present, votes.date_values, votes.date_scores
    candidates = [
        s
        for s in scores
        if present[s] >= max(_MIN_FURNITURE_PAGES, math.ceil(0.2 * count))
        and len(values[s]) >= min(3, present[s])
    ]
    if not candidates:
        evidence.append("date: no element gives a date on enough pages")
        return None, (0, count), order

    def weight(selector: str) -> float:
        # "div.entry > p" names every paragraph; a classed element names a place.
        last = selector.rsplit(">", 1)[-1]
        return scores[selector] * (1.0 if ("." in last or "#" in last or "time" in last) else 0.5)

    best = max(candidates, key=lambda s: (weight(s), present[s], s))
    evidence.append(
        f"date: {best} on {present[best]}/{count} pages "
        f"({len(values[best])} distinct days, score {scores[best]:.0f})"
    )
    return best, (present[best], count), order


_NUMERIC = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-]((?:19|20)\d{2})\b")


def _numeric_orders(text: str) -> list[str]:
    orders = []
    for match in _NUMERIC.finditer(text):
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second:
            orders.append("DMY")
        elif second > 12 >= first:
            orders.append("MDY")
    return orders


def model_summary(model: SiteModel) -> dict[str, Any]:
    """A short JSON-friendly view for ``--explain`` and the run report."""
    return {
        "fingerprint": model.model_fingerprint,
        "pages_sampled": model.pages_sampled,
        "furniture_blocks": len(model.furniture),
        "site_names": sorted(model.site_names)[:10],
        "title_selector": model.title_selector,
        "title_agreement": list(model.title_agreement),
        "date_selector": model.date_selector,
        "date_agreement": list(model.date_agreement),
        "date_order": model.date_order,
        "cms": model.cms,
        "templates": [list(t) for t in model.templates],
        "by_template": [
            {
                "signature": t.signature,
                "pages_sampled": t.pages_sampled,
                "title_selector": t.title_selector,
                "date_selector": t.date_selector,
                "furniture_blocks": len(t.furniture),
            }
            for t in model.by_template
        ],
        "evidence": list(model.evidence),
    }
