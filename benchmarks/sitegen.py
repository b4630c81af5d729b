"""Deterministic generator for the bundled demo blog ("Calm Harbor") and for benchmark sites.

This module owns the synthetic legacy blog that ``make demo``, the end-to-end tests and the
benchmarks crawl, and the ground truth that goes with it. It must not import ``migrator``
(the site is the yardstick the extractor is measured against) and uses only the stdlib.

Usage::

    python benchmarks/sitegen.py --posts 48 --seed 0 --out src/migrator/demo_site \
        --expected tests/fixtures/site_expected

The committed demo is exactly that command's output (``tests/test_sitegen.py`` checks it); to
regenerate it, delete both directories first: the generator never deletes files.

Layout of ``--out`` (the served tree; every page is ``<path>/index.html``):

* ``/`` home (listing), ``/blog/`` and ``/blog/page/N/`` (listing, 10 posts per page, newest
  first), ``/blog/<category>/`` and ``/blog/<category>/page/N/`` (listing, 5 per page),
  ``/blog/<category>/<slug>/`` (post), ``/about/`` and ``/contact/`` (page),
  ``/private/secret/`` (exists, linked from every footer, disallowed by robots.txt: a polite
  crawler never fetches it), ``/images/*`` (tiny valid JPEG/PNG files), ``/robots.txt`` and
  ``/sitemap.xml``.
* HTML links (and JSON-LD URLs) are root-relative, so the tree works on any host and port.
  Only ``robots.txt`` (``Sitemap:``) and the sitemap ``<loc>`` values are absolute, built from
  ``--base-url`` (the committed demo uses ``http://127.0.0.1:8000``); a test serving the tree
  elsewhere regenerates it into a temporary directory or rewrites those two files.
* The sitemap lists the home page, ``/blog/``, each category's first page, the static pages
  and every post, with ``<lastmod>``. Above ``sitemap_limit`` URLs (50,000) ``/sitemap.xml``
  becomes a sitemap index over ``/sitemap-1.xml``, ``/sitemap-2.xml``, ...

Layout of ``--expected`` (outside the served tree, never linked):

* ``manifest.json``: ``{"posts", "seed", "base_url", "categories", "pages": [{"path",
  "type": "post"|"page"|"listing", "expected": "<file>.json"|null}], "disallowed": [paths]}``.
* ``<slug>.json`` for each post (slugs are unique site-wide), ``about.json``, ``contact.json``:
  ``url``, ``title``, ``published`` (``YYYY-MM-DD`` or null), ``breadcrumbs`` (``label``,
  ``url``), ``sections`` (``level``, ``heading``, ``text``), ``sidebar_links`` (``group``,
  ``label``, ``url``, ``date``: "You may also like", then on ``--realistic`` sites the
  undated "Recent Posts" widget without the page itself), ``body_must_contain``,
  ``body_must_not_contain``, ``page_type``. Every URL is a root-relative path: tests join
  it to the served base URL.
  ``published`` is the day; where the markup carries a time (2016 theme) compare the date part.
* Section text rule: sections are the h2/h3/h4 headings of the article body in document order
  (the h1 and headings in sidebar, comments or footer are not sections). A section's text is
  the blocks (each ``<p>`` and each ``<li>``, including those inside ``<blockquote>``) after
  its heading and before the next h2/h3/h4 or the end of the body; a block's text is its text
  content (no alt text) with whitespace runs collapsed to one space and stripped; empty blocks
  (image-only paragraphs) are dropped; blocks are joined with ``"\\n\\n"``. A heading directly
  followed by a subheading has text ``""``. Intro paragraphs before the first h2 belong to
  no section.

Three theme generations, chosen by publication year: "2012" (before 2015; XHTML, table layout,
``div.breadcrumb`` with ``&raquo;``, ``p.postmeta`` "Posted on <date> by ...", body in
``div.entry``, sidebar ``div#sidebar`` with ``<h3>`` groups), "2016" (2015-2018; WordPress-like,
Yoast ``p#breadcrumbs``, ``h1.entry-title``, ``time.entry-date.published`` plus a later
``time.updated``, body in ``div.entry-content``, ``aside#secondary`` widgets with ``h2``
titles) and "2019" (2019 on, static pages and listings; ``nav[aria-label=breadcrumb] > ol``,
``time[datetime]``, body in ``div.post-content``, ``aside.sidebar`` with
``section.widget.related-posts``, JSON-LD ``BlogPosting``).

Variety, by position ``p`` of a post in date order (``plan_posts`` sets the flags): no sidebar
at all when ``p % 16 == 5``; h4 subsections when ``p % 12 == 3``; comments (with later dates)
when ``p % 4 == 1``; a publish date only as text in "2021-03-12", "12 March 2021" or
"Mar 12, 2021" form (2012 and 2019 themes) when ``p % 7 == 2``; a later "Updated" date on 2016
posts and on 2019 posts with ``p % 6 == 4``; one body link written as ``.../index.html``,
``...?utm_source=feed`` or ``...#comments`` when ``p % 5 == 0``. Exactly one post
(``p == posts - 3``) has its breadcrumbs only in a JSON-LD ``BreadcrumbList``, and the first
self-care post is titled ``SPECIAL_TITLE`` (non-ASCII letters, curly quotes, "&", colon).
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import struct
import sys
import unicodedata
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, TextIO

SITE_NAME = "Calm Harbor"
TAGLINE = "Notes on mental health and everyday wellbeing"
COPYRIGHT_HOLDER = "Calm Harbor Wellness"
SIDEBAR_GROUP = "You may also like"
RECENT_GROUP = "Recent Posts"  # the realistic furniture's undated widget
BLOG_PER_PAGE = 10
CATEGORY_PER_PAGE = 5
SITEMAP_LIMIT = 50_000
FIRST_DAY = date(2011, 1, 1)
LAST_DAY = date(2024, 12, 31)
STATIC_LASTMOD = date(2020, 1, 15)
DISALLOWED = ("/private/secret/",)
SPECIAL_TITLE = "Café Culture & Über-Stress: “Why” Rest Isn’t Lazy"

Theme = Literal["2012", "2016", "2019"]
PageType = Literal["post", "page", "listing"]

# fmt: off
# The word lists stay packed: one entry per line would triple the module for no reader.
CATEGORIES: dict[str, str] = {
    "depression": "Depression",
    "anxiety": "Anxiety",
    "sleep": "Sleep",
    "mindfulness": "Mindfulness",
    "relationships": "Relationships",
    "self-care": "Self-Care",
}

TOPICS: dict[str, tuple[str, ...]] = {
    "depression": (
        "low mood", "motivation", "self-criticism", "rumination", "low energy",
        "hopelessness", "daily routine", "small wins", "talking therapy", "grey mornings",
    ),
    "anxiety": (
        "worry", "panic", "racing thoughts", "avoidance", "shallow breathing",
        "uncertainty", "social situations", "health anxiety", "exposure", "the body's alarm",
    ),
    "sleep": (
        "insomnia", "bedtime routines", "screens at night", "naps", "caffeine",
        "early waking", "sleep pressure", "the bedroom", "shift work", "vivid dreams",
    ),
    "mindfulness": (
        "the breath", "attention", "body scans", "walking meditation", "self-compassion",
        "noticing thoughts", "everyday moments", "acceptance", "short practices", "mindful eating",
    ),
    "relationships": (
        "boundaries", "difficult conversations", "listening", "conflict", "loneliness",
        "friendships", "family visits", "trust", "apologies", "asking for help",
    ),
    "self-care": (
        "rest", "saying no", "movement", "nutrition", "time outdoors",
        "journaling", "burnout", "weekends", "hobbies", "checking in",
    ),
}

ACTIONS: dict[str, tuple[str, ...]] = {
    "depression": (
        "go for a short walk", "text one friend", "make your bed", "open the curtains",
        "write down one thing that went fine", "plan one small task",
    ),
    "anxiety": (
        "breathe out slowly for a count of six", "name five things you can see",
        "write your worries on paper", "loosen your shoulders", "walk around the block",
        "put a time limit on checking the news",
    ),
    "sleep": (
        "dim the lights", "put your phone in another room", "keep a regular wake-up time",
        "write tomorrow's to-do list", "read a paper book", "stretch gently",
    ),
    "mindfulness": (
        "notice three breaths", "feel your feet on the floor", "eat one meal without screens",
        "listen to the sounds around you", "pause before opening email",
        "scan your body from head to toe",
    ),
    "relationships": (
        "ask one open question", "listen without planning your reply", "say thank you out loud",
        "agree on a time to talk", "name what you need", "take a break when voices rise",
    ),
    "self-care": (
        "drink a glass of water", "take a proper lunch break", "say no to one request",
        "spend ten minutes outdoors", "stretch between meetings", "turn off notifications",
    ),
}

CONTEXTS = (
    "Work Is Busy", "You Live Alone", "the Days Are Short", "You Have Small Children",
    "Money Is Tight", "You Are Travelling", "Nothing Seems to Help", "You Are Starting Over",
    "Exams Are Coming", "the Holidays Arrive", "You Work Nights", "Friends Move Away",
)

TITLE_TEMPLATES = (
    "How to Cope with {T} When {C}",
    "{n} Gentle Ways to Work with {T}",
    "What Nobody Tells You About {T}",
    "A Beginner's Guide to {T}",
    "Why {T} Feels Harder When {C}",
    "{T} and {T2}: What Actually Helps",
    "Understanding {T}: A Practical Guide",
    "Small Steps for {T} When {C}",
    "Questions to Ask About {T}",
    "My Month Tracking {T}",
    "The Truth About {T} and {T2}",
    "Ten Minutes a Day for {T}",
    "Rethinking {T} When {C}",
)

SENTENCES = (
    "Many readers tell us that their experience of {t} changes from week to week, and that is "
    "normal.",
    "It can help to notice {t} for a few days before you try to change anything.",
    "Small, regular habits usually matter more than occasional big efforts.",
    "If problems with {t} start to affect your work, your sleep or your appetite, talk to your "
    "doctor.",
    "Try setting aside ten minutes each {time} to {action}.",
    "{person} told us that learning to {action} made the biggest difference.",
    "There is no single right way to approach {t}; what matters is finding something you "
    "can repeat.",
    "Be patient with yourself, because progress with {t} is rarely a straight line.",
    "Some people find it easier to {action} when a friend is doing it with them.",
    "Notice how {t} and {t2} affect each other over the course of a day.",
    "A simple note on your phone is enough to keep track of what works.",
    "You do not have to fix everything at once.",
    "On difficult days the goal can be as modest as getting to the {time} without judging "
    "yourself.",
    "Research on {t} keeps pointing in the same direction: consistency beats intensity.",
    "When everything around {t} feels overwhelming, shrink the next step into something you "
    "could do in two minutes.",
    "It is worth asking what your struggle with {t} is trying to tell you, rather than "
    "fighting it.",
    "Think of this as an experiment rather than a test you can fail.",
    "Write down one thing you learned this week about {t2}.",
    "Even a short pause to {action} can change the tone of the whole {time}.",
    "Most of the people we spoke to had tried {num} different approaches before one stuck.",
    "Professional support is not a last resort; it is one of the tools available to you.",
    "It is easy to underestimate the part {t2} plays in the way we feel.",
    "A routine that works in summer may need adjusting when the days get shorter.",
    "Keep your expectations kind and specific.",
    "In our survey of {num}00 readers, {t} came up more often than anything else.",
    "Ask yourself what a good friend would suggest if they saw you struggling with {t}.",
)

LIST_ITEMS = (
    "Choose one moment each {time} to {action}.",
    "Keep a short log of {t} for a week.",
    "Tell one person what you are trying.",
    "Notice what happens to {t2} on the days you {action}.",
    "Expect a few bad days and plan for them.",
    "Review what worked at the end of the week.",
)

QUOTES = (
    "The smallest step in the right direction is still a step.",
    "You are allowed to rest before you are exhausted.",
    "Nothing about {t} is a sign that you are failing.",
)

H2_HEADINGS = (
    "Why This Matters", "What the Research Says", "Practical Steps", "When to Ask for Help",
    "A Simple Routine", "Common Myths About {T}", "How {T2} Fits In", "What We Learned",
    "Getting Started", "Tracking Your Progress", "A Closer Look at {T}", "Looking Ahead",
)
H3_HEADINGS = (
    "Start Small", "Notice the Pattern", "Involve Someone You Trust", "Make It Easy",
    "Plan for Setbacks", "Keep a Journal", "Try It for a Week", "Adjust as You Go",
    "One Thing at a Time", "Be Kind to Yourself",
)
H4_HEADINGS = (
    "A Quick Example", "Why This Works", "If It Does Not Help", "A Note for Parents",
    "For Shift Workers",
)
LAST_HEADING = "Final Thoughts"

COMMENTS = (
    "Thank you for writing this, it helped me more than I expected.",
    "I tried the breathing tip last night and it made a real difference.",
    "Sharing this with my sister, she has been struggling lately.",
    "Could you write a follow-up about doing this at work?",
    "Bookmarked. The part about setbacks was exactly what I needed today.",
)
PEOPLE = ("Maria", "Tom", "Aisha", "Jonas", "Priya", "Daniel", "Mei", "Oliver", "Sofia", "Liam")
TIMES = ("morning", "evening", "lunch break", "afternoon", "weekend")
IMAGES: dict[str, str] = {
    "calm-lake.jpg": "A calm lake at dawn",
    "forest-path.jpg": "A path through a green forest",
    "morning-tea.png": "A cup of tea on a windowsill",
    "notebook.png": "An open notebook with a pen",
    "sunrise.jpg": "The sun rising over hills",
    "window-light.png": "Soft light through a window",
}
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
FOOTER_PHRASE = "All rights reserved"
# fmt: on


# --------------------------------------------------------------------------- models


@dataclass(slots=True)
class Post:
    """One post's metadata, known for every post before any page is written."""

    index: int
    category: str
    slug: str
    title: str
    published: date
    topics: tuple[str, str]
    theme: Theme = "2019"
    updated: date | None = None
    sidebar: bool = True
    h4: bool = False
    alt_date: int | None = None  # index into ALT_DATE_FORMATS; no machine-readable date then
    comments: bool = False
    link_variant: int | None = None  # index into LINK_VARIANTS for one body link
    jsonld_crumbs_only: bool = False
    jsonld_posting: bool = False

    @property
    def path(self) -> str:
        """The post's root-relative URL path."""
        return f"/blog/{self.category}/{self.slug}/"


@dataclass(slots=True)
class Section:
    """A heading of the article body and the blocks that follow it."""

    level: int
    heading: str
    blocks: list[Block] = field(default_factory=list)


# A segment is ("t", text), ("a", text, href) or ("img", file); a block is a paragraph,
# a list, a blockquote (each a list of segment lists) tagged by kind.
Segment = tuple[str, ...]


@dataclass(slots=True)
class Block:
    """A paragraph ("p"), list ("ul") or blockquote ("quote") of the article body."""

    kind: Literal["p", "ul", "quote"]
    items: list[list[Segment]]


@dataclass(slots=True)
class Article:
    """A post's generated content."""

    intro: list[Block]
    sections: list[Section]
    sidebar: list[Post]
    comments: list[tuple[str, date, str]]
    must_contain: list[str]


ALT_DATE_FORMATS = ("iso", "day-month", "short-month")
LINK_VARIANTS = ("index.html", "?utm_source=feed", "#comments")


# --------------------------------------------------------------------------- helpers


def long_date(day: date) -> str:
    """Format a date as "June 12, 2024"."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def alt_date(day: date, style: int) -> str:
    """Format a date in one of the alternative, unambiguous legacy styles."""
    name = ALT_DATE_FORMATS[style]
    if name == "iso":
        return day.isoformat()
    if name == "day-month":
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return f"{MONTHS[day.month - 1][:3]} {day.day}, {day.year}"


def slugify(text: str) -> str:
    """Turn a title into an ASCII URL slug."""
    text = text.replace("'", "").replace("’", "")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def cap(text: str) -> str:
    """Capitalize every word of a topic for use in titles and headings."""
    return " ".join(word[:1].upper() + word[1:] for word in text.split())


def esc(text: str) -> str:
    """Escape text for HTML content and attribute values."""
    return html.escape(text, quote=True)


def plain(segments: Sequence[Segment]) -> str:
    """The text content of a list of segments, whitespace collapsed."""
    text = "".join(seg[1] for seg in segments if seg[0] in {"t", "a"})
    return " ".join(text.split())


def theme_for(day: date) -> Theme:
    """Pick the theme generation that was live when a post was published."""
    if day.year < 2015:
        return "2012"
    if day.year < 2019:
        return "2016"
    return "2019"


# --------------------------------------------------------------------------- planning


def plan_posts(count: int, seed: int) -> list[Post]:
    """Create every post's metadata, sorted oldest first, with the variety flags set.

    Args:
        count: number of posts.
        seed: random seed; the same seed always gives the same site.

    Returns:
        The posts, oldest first; ``Post.index`` is the position in that order.
    """
    rng = random.Random(seed)
    cats = list(CATEGORIES)
    span = (LAST_DAY - FIRST_DAY).days
    seen: set[str] = set()
    drafts: list[tuple[date, int, str, str, str, tuple[str, str]]] = []
    for i in range(count):
        category = cats[i % len(cats)]
        topics = TOPICS[category]
        topic, topic2 = rng.sample(topics, 2)
        template = rng.choice(TITLE_TEMPLATES)
        title = template.format(
            T=cap(topic), T2=cap(topic2), C=rng.choice(CONTEXTS), n=rng.randint(3, 9)
        )
        if i == 5:  # the first self-care post gets the non-ASCII title
            title, topic, topic2 = SPECIAL_TITLE, "rest", "burnout"
        base_title, part = title, 1
        while slugify(title) in seen:
            part += 1
            title = f"{base_title} (Part {part})"
        slug = slugify(title)
        seen.add(slug)
        published = FIRST_DAY + timedelta(days=rng.randrange(span + 1))
        drafts.append((published, i, category, slug, title, (topic, topic2)))
    drafts.sort()
    posts = [
        Post(
            index=p,
            category=cat,
            slug=slug,
            title=title,
            published=day,
            topics=topics,
            theme=theme_for(day),
        )
        for p, (day, _, cat, slug, title, topics) in enumerate(drafts)
    ]
    crumbs_only = count - 3 if count >= 3 else None
    for post in posts:
        p = post.index
        post.sidebar = p % 16 != 5
        post.h4 = p % 12 == 3
        post.comments = p % 4 == 1
        if p % 5 == 0:
            post.link_variant = (p // 5) % len(LINK_VARIANTS)
        if p == crumbs_only:
            post.jsonld_crumbs_only = True
            post.theme = "2019"
        if post.theme != "2016" and p % 7 == 2 and not post.jsonld_crumbs_only:
            post.alt_date = (p // 7) % len(ALT_DATE_FORMATS)
        if post.theme == "2016":
            post.updated = min(post.published + timedelta(days=30 + p % 200), LAST_DAY)
            post.jsonld_posting = p % 3 == 0
        elif post.theme == "2019":
            post.jsonld_posting = post.alt_date is None
            if p % 6 == 4:
                post.updated = min(post.published + timedelta(days=90 + p % 300), LAST_DAY)
    return posts


def write_article(
    post: Post, posts: Sequence[Post], by_category: dict[str, list[Post]], seed: int
) -> Article:
    """Generate one post's body, sidebar and comments from its own random stream."""
    rng = random.Random(f"sitegen:{seed}:{post.index}")
    topics = TOPICS[post.category]
    actions = ACTIONS[post.category]
    topic, topic2 = post.topics

    def fill(template: str) -> str:
        text = template.format(
            t=topic,
            t2=rng.choice(topics),
            action=rng.choice(actions),
            time=rng.choice(TIMES),
            person=rng.choice(PEOPLE),
            num=rng.randint(2, 6),
        )
        return text[:1].upper() + text[1:]

    def sentences(low: int, high: int) -> list[str]:
        return [fill(s) for s in rng.sample(SENTENCES, rng.randint(low, high))]

    def paragraph(low: int = 2, high: int = 4) -> Block:
        return Block("p", [[("t", " ".join(sentences(low, high)))]])

    others = [
        other
        for other in (posts[(post.index + d) % len(posts)] for d in (7, 19, 31))
        if other.index != post.index
    ]
    intro = [paragraph(3, 4)]
    if rng.random() < 0.5:
        intro.append(paragraph(2, 3))

    n_h2 = rng.randint(3, 5)
    h2s = [h.format(T=cap(topic), T2=cap(topic2)) for h in rng.sample(H2_HEADINGS, n_h2 - 1)]
    h2s.append(LAST_HEADING)
    sections: list[Section] = []
    h4_done = False
    for k, h2 in enumerate(h2s):
        last = k == len(h2s) - 1
        n_h3 = 0 if last else rng.choice((0, 0, 1, 2))
        section = Section(2, h2)
        sections.append(section)
        if n_h3 == 0 or rng.random() < 0.7:
            section.blocks.extend(paragraph() for _ in range(rng.randint(1, 3)))
        if not last and rng.random() < 0.3:
            items = [fill(s) for s in rng.sample(LIST_ITEMS, rng.randint(3, 4))]
            section.blocks.append(Block("ul", [[("t", item)] for item in items]))
        if rng.random() < 0.15:
            section.blocks.append(Block("quote", [[("t", fill(rng.choice(QUOTES)))]]))
        for h3 in rng.sample(H3_HEADINGS, n_h3):
            sub = Section(3, h3, [paragraph() for _ in range(rng.randint(1, 2))])
            sections.append(sub)
            if post.h4 and not h4_done:
                h4_done = True
                for h4 in rng.sample(H4_HEADINGS, rng.randint(1, 2)):
                    sections.append(Section(4, h4, [paragraph(2, 3)]))
    if post.h4 and not h4_done:
        sections.insert(1, Section(3, H3_HEADINGS[0], [paragraph()]))
        sections.insert(2, Section(4, H4_HEADINGS[0], [paragraph(2, 3)]))

    # Images: one image-only paragraph, sometimes an image leading a text paragraph.
    body_sections = [s for s in sections if s.blocks]
    target = rng.choice(body_sections)
    target.blocks.insert(0, Block("p", [[("img", rng.choice(list(IMAGES)))]]))
    if rng.random() < 0.5:
        para = next((b for b in rng.choice(body_sections).blocks if b.kind == "p"), None)
        if para is not None and para.items[0][0][0] != "img":
            para.items[0].insert(0, ("img", rng.choice(list(IMAGES))))

    # Internal links to other posts, appended to text paragraphs.
    text_paras = [
        b for s in sections for b in s.blocks if b.kind == "p" and b.items[0][-1][0] == "t"
    ]
    for n, other in enumerate(others[:2]):
        para = rng.choice(text_paras)
        href = other.path
        if n == 0 and post.link_variant is not None:
            href += LINK_VARIANTS[post.link_variant]
        lead = rng.choice(("See also", "We wrote more about this in", "Related reading:"))
        para.items[0].extend([("t", f" {lead} "), ("a", other.title, href), ("t", ".")])

    sidebar: list[Post] = []
    if post.sidebar and len(posts) > 1:
        want = min(10, len(posts) - 1)
        same = [
            p
            for p in rng.sample(by_category[post.category], min(len(by_category[post.category]), 7))
            if p.index != post.index
        ]
        chosen = {p.index for p in same[:6]}
        sidebar = list(same[:6])
        while len(sidebar) < want:
            cand = posts[rng.randrange(len(posts))]
            if cand.index != post.index and cand.index not in chosen:
                chosen.add(cand.index)
                sidebar.append(cand)

    comments: list[tuple[str, date, str]] = []
    if post.comments:
        for j in range(rng.randint(1, 3)):
            when = post.published + timedelta(days=3 + 40 * j + rng.randrange(30))
            comments.append((rng.choice(PEOPLE), when, COMMENTS[(post.index + j) % len(COMMENTS)]))

    first = intro[0].items[0][0][1].split(". ")[0].rstrip(".") + "."
    last_para = next(b for b in reversed(sections[-1].blocks) if b.kind == "p")
    last_text = next(seg[1] for seg in last_para.items[0] if seg[0] == "t")
    must = [first, last_text.split(". ")[-1].strip()]
    return Article(intro, sections, sidebar, comments, must)


# --------------------------------------------------------------------------- HTML pieces


def render_segments(segments: Sequence[Segment], theme: Theme) -> str:
    """Render inline segments (text, links, images) to HTML."""
    out: list[str] = []
    for seg in segments:
        if seg[0] == "t":
            out.append(esc(seg[1]))
        elif seg[0] == "a":
            out.append(f'<a href="{esc(seg[2])}">{esc(seg[1])}</a>')
        else:
            src, alt = f"/images/{seg[1]}", IMAGES[seg[1]]
            if theme == "2012":
                out.append(f'<img src="{src}" alt="{esc(alt)}" align="left" hspace="8" />')
            else:
                out.append(f'<img src="{src}" alt="{esc(alt)}" loading="lazy">')
    return "".join(out)


def render_blocks(blocks: Sequence[Block], theme: Theme) -> list[str]:
    """Render body blocks to HTML lines."""
    lines: list[str] = []
    for block in blocks:
        if block.kind == "p":
            lines.append(f"<p>{render_segments(block.items[0], theme)}</p>")
        elif block.kind == "ul":
            lines.append("<ul>")
            lines.extend(f"  <li>{render_segments(i, theme)}</li>" for i in block.items)
            lines.append("</ul>")
        else:
            inner = "".join(f"<p>{render_segments(i, theme)}</p>" for i in block.items)
            lines.append(f"<blockquote>{inner}</blockquote>")
    return lines


def render_body(article: Article, theme: Theme) -> str:
    """Render the article body (intro, headings and blocks)."""
    lines = render_blocks(article.intro, theme)
    for section in article.sections:
        attr = f' id="{slugify(section.heading)}"' if theme == "2019" else ""
        lines.append(f"<h{section.level}{attr}>{esc(section.heading)}</h{section.level}>")
        lines.extend(render_blocks(section.blocks, theme))
    return "\n".join(lines)


def nav_items() -> list[tuple[str, str]]:
    """Header navigation (label, href)."""
    return [("Home", "/"), ("Blog", "/blog/"), ("About", "/about/"), ("Contact", "/contact/")]


def footer_html(theme: Theme, years: str) -> str:
    """The site footer: copyright, links and the robots-disallowed staff link."""
    links = (
        '<a href="/about/">About</a> | <a href="/contact/">Contact</a> | '
        '<a href="/sitemap.xml">Sitemap</a> | <a href="/private/secret/">Staff area</a>'
    )
    text = f"&copy; {years} {COPYRIGHT_HOLDER}. {FOOTER_PHRASE}."
    if theme == "2012":
        return f'<div id="footer"><p>{text}</p><p>{links}</p></div>'
    if theme == "2016":
        return (
            '<footer id="colophon" class="site-footer"><div class="site-info">'
            f"<p>{text}</p><p>{links}</p>"
            '<p>Proudly powered by <a href="https://wordpress.org/">WordPress</a></p>'
            "</div></footer>"
        )
    return (
        f'<footer class="site-footer"><p>{text}</p><nav aria-label="Footer">{links}</nav></footer>'
    )


def header_html(theme: Theme) -> str:
    """The site header with logo and main navigation."""
    items = "".join(f'<li><a href="{href}">{label}</a></li>' for label, href in nav_items())
    if theme == "2012":
        return (
            f'<div id="header"><div class="logo"><a href="/">{SITE_NAME}</a></div>'
            f'<div class="tagline">{TAGLINE}</div><ul id="nav">{items}</ul></div>'
        )
    if theme == "2016":
        return (
            '<header id="masthead" class="site-header"><div class="site-branding">'
            f'<p class="site-title"><a href="/" rel="home">{SITE_NAME}</a></p>'
            f'<p class="site-description">{TAGLINE}</p></div>'
            '<nav id="site-navigation" class="main-navigation">'
            f'<ul id="primary-menu" class="menu">{items}</ul></nav></header>'
        )
    return (
        f'<header class="site-header"><a class="brand" href="/">{SITE_NAME}</a>'
        f'<nav class="main-nav" aria-label="Main"><ul>{items}</ul></nav></header>'
    )


def categories_widget(theme: Theme) -> str:
    """The "Categories" widget (links to category pages; not sidebar links of the record)."""
    items = "".join(
        f'<li><a href="/blog/{slug}/">{esc(name)}</a></li>' for slug, name in CATEGORIES.items()
    )
    if theme == "2012":
        return f"<h3>Categories</h3><ul>{items}</ul>"
    if theme == "2016":
        return (
            '<section id="categories-2" class="widget widget_categories">'
            f'<h2 class="widget-title">Categories</h2><ul>{items}</ul></section>'
        )
    return (
        '<section class="widget categories"><h2 class="widget-title">Categories</h2>'
        f"<ul>{items}</ul></section>"
    )


def related_widget(theme: Theme, related: Sequence[Post]) -> str:
    """The "You may also like" widget: ten (date, title) links to other posts."""
    if theme == "2012":
        items = "".join(
            f'<li><span class="date">{long_date(p.published)}</span> &ndash; '
            f'<a href="{p.path}">{esc(p.title)}</a></li>'
            for p in related
        )
        return f"<h3>{SIDEBAR_GROUP}</h3><ul>{items}</ul>"
    if theme == "2016":
        items = "".join(
            f'<li><a href="{p.path}">{esc(p.title)}</a> '
            f'<span class="post-date">{long_date(p.published)}</span></li>'
            for p in related
        )
        return (
            '<section id="recent-posts-3" class="widget widget_recent_entries">'
            f'<h2 class="widget-title">{SIDEBAR_GROUP}</h2><ul>{items}</ul></section>'
        )
    items = "".join(
        f'<li><time datetime="{p.published.isoformat()}">{long_date(p.published)}</time> '
        f'<a href="{p.path}">{esc(p.title)}</a></li>'
        for p in related
    )
    return (
        '<section class="widget related-posts">'
        f'<h2 class="widget-title">{SIDEBAR_GROUP}</h2><ul>{items}</ul></section>'
    )


def sidebar_html(theme: Theme, related: Sequence[Post]) -> str:
    """The whole sidebar: related posts (if any), categories, a search box."""
    parts = [related_widget(theme, related)] if related else []
    parts.append(categories_widget(theme))
    if theme == "2012":
        return f'<div id="sidebar">{"".join(parts)}</div>'
    if theme == "2016":
        return f'<aside id="secondary" class="widget-area">{"".join(parts)}</aside>'
    return f'<aside class="sidebar">{"".join(parts)}</aside>'


def crumbs_of(post: Post) -> list[tuple[str, str | None]]:
    """The breadcrumb trail of a post: (label, root-relative URL or None)."""
    return [
        ("Home", "/"),
        ("Blog", "/blog/"),
        (CATEGORIES[post.category], f"/blog/{post.category}/"),
        (post.title, None),
    ]


def crumbs_html(theme: Theme, crumbs: Sequence[tuple[str, str | None]]) -> str:
    """Render a visible breadcrumb trail in a theme's markup."""
    if theme == "2012":
        parts = [
            f'<a href="{url}">{esc(label)}</a>' if url else esc(label) for label, url in crumbs
        ]
        return f'<div class="breadcrumb">{" &raquo; ".join(parts)}</div>'
    if theme == "2016":
        inner = ""
        for label, url in reversed(crumbs):
            if url is None:
                inner = f'<span class="breadcrumb_last" aria-current="page">{esc(label)}</span>'
            else:
                inner = f'<span><a href="{url}">{esc(label)}</a> » {inner}</span>'
        return f'<p id="breadcrumbs">{inner}</p>'
    items = "".join(
        f'<li class="breadcrumb-item"><a href="{url}">{esc(label)}</a></li>'
        if url
        else f'<li class="breadcrumb-item active" aria-current="page">{esc(label)}</li>'
        for label, url in crumbs
    )
    return f'<nav aria-label="breadcrumb"><ol class="breadcrumb">{items}</ol></nav>'


def crumbs_jsonld(crumbs: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """A schema.org BreadcrumbList (root-relative item URLs)."""
    items: list[dict[str, Any]] = []
    for pos, (label, url) in enumerate(crumbs, start=1):
        item: dict[str, Any] = {"@type": "ListItem", "position": pos, "name": label}
        if url is not None:
            item["item"] = url
        items.append(item)
    return {"@type": "BreadcrumbList", "itemListElement": items}


def jsonld_script(data: dict[str, Any]) -> str:
    """A JSON-LD script element."""
    text = json.dumps({"@context": "https://schema.org", **data}, ensure_ascii=False)
    text = text.replace("</", "<\\/")  # keep "</script>" inside a string from ending the element
    return f'<script type="application/ld+json">{text}</script>'


def comments_html(theme: Theme, post: Post, comments: Sequence[tuple[str, date, str]]) -> str:
    """The comments block, with its own (later) dates."""
    if not comments:
        return ""
    count = f"{len(comments)} Response{'s' if len(comments) > 1 else ''}"
    if theme == "2012":
        items = "".join(
            f'<li class="comment" id="comment-{post.index}{n}"><cite>{name}</cite> says:<br />'
            f'<small class="commentmetadata">{long_date(when)} at 9:{10 + n:02d} pm</small>'
            f"<p>{esc(text)}</p></li>"
            for n, (name, when, text) in enumerate(comments)
        )
        return (
            f'<div id="comments"><h3>{count} to &#8220;{esc(post.title)}&#8221;</h3>'
            f'<ol class="commentlist">{items}</ol><h3 id="respond">Leave a Reply</h3></div>'
        )
    items = "".join(
        f'<li class="comment" id="comment-{post.index}{n}"><article class="comment-body">'
        f'<footer class="comment-meta"><b class="fn">{name}</b> '
        f'<time datetime="{when.isoformat()}T21:{10 + n:02d}:00+00:00">{long_date(when)} at '
        f'9:{10 + n:02d} pm</time></footer><div class="comment-content"><p>{esc(text)}</p></div>'
        "</article></li>"
        for n, (name, when, text) in enumerate(comments)
    )
    return (
        f'<section id="comments" class="comments-area"><h2 class="comments-title">{count} to '
        f'&ldquo;{esc(post.title)}&rdquo;</h2><ol class="comment-list">{items}</ol>'
        '<h3 id="reply-title">Leave a Reply</h3></section>'
    )


def document(theme: Theme, title: str, head_extra: str, body: str) -> str:
    """Wrap a page body into a full HTML document of a theme generation."""
    if theme == "2012":
        return (
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
            '<html xmlns="http://www.w3.org/1999/xhtml">\n<head>\n'
            '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />\n'
            f"<title>{esc(title)} | {SITE_NAME}</title>\n"
            '<link rel="stylesheet" href="/style.css" type="text/css" />\n'
            f"{head_extra}</head>\n<body>\n{body}\n</body>\n</html>\n"
        )
    cls = "wp-theme" if theme == "2016" else "site"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)} &#8211; {SITE_NAME}</title>\n"
        f'{head_extra}</head>\n<body class="{cls}">\n{body}\n</body>\n</html>\n'
    )


# --------------------------------------------------------------------------- pages


def render_post(post: Post, article: Article, years: str) -> str:
    """Render one post page in its theme."""
    theme = post.theme
    crumbs = crumbs_of(post)
    body = render_body(article, theme)
    related = article.sidebar
    head = f'<link rel="canonical" href="{post.path}">\n'
    if post.jsonld_posting:
        posting: dict[str, Any] = {
            "@type": "BlogPosting",
            "headline": post.title,
            "datePublished": post.published.isoformat(),
            "author": {"@type": "Person", "name": "Calm Harbor Team"},
            "mainEntityOfPage": post.path,
        }
        if theme == "2016":
            posting["@type"] = "Article"
            posting["datePublished"] = f"{post.published.isoformat()}T08:30:00+00:00"
        if post.updated:
            posting["dateModified"] = post.updated.isoformat()
        head += jsonld_script(posting) + "\n"
    if post.jsonld_crumbs_only:
        head += jsonld_script(crumbs_jsonld(crumbs)) + "\n"
    comments = comments_html(theme, post, article.comments)
    if theme == "2012":
        shown = (
            alt_date(post.published, post.alt_date)
            if post.alt_date is not None
            else long_date(post.published)
        )
        cat = f'<a href="/blog/{post.category}/">{CATEGORIES[post.category]}</a>'
        side = (
            f'<td id="side" valign="top" width="260">{sidebar_html(theme, related)}</td>'
            if post.sidebar
            else ""
        )
        page = (
            f'<div id="wrap">\n{header_html(theme)}\n'
            '<table id="layout" width="960" cellpadding="0" cellspacing="0"><tr>'
            '<td id="main" valign="top">\n'
            f"{crumbs_html(theme, crumbs)}\n"
            f'<div class="post" id="post-{post.index + 100}">\n'
            f"<h1>{esc(post.title)}</h1>\n"
            f'<p class="postmeta">Posted on {shown} by admin in {cat}</p>\n'
            f'<div class="entry">\n{body}\n</div>\n'
            f'<p class="tags">Filed under: {cat} | '
            f'<a href="{post.path}#comments">{len(article.comments)} Comments</a></p>\n'
            f"</div>\n{comments}\n</td>{side}</tr></table>\n"
            f"{footer_html(theme, years)}\n</div>"
        )
        return document(theme, post.title, head, page)
    if theme == "2016":
        published = post.published.isoformat()
        updated = (post.updated or post.published).isoformat()
        side = sidebar_html(theme, related) if post.sidebar else ""
        page = (
            f'<div id="page" class="site">\n{header_html(theme)}\n'
            '<div id="content" class="site-content"><div id="primary" class="content-area">'
            '<main id="main" class="site-main">\n'
            f"{crumbs_html(theme, crumbs)}\n"
            f'<article id="post-{post.index + 100}" class="post type-post status-publish '
            f'category-{post.category}">\n'
            f'<header class="entry-header"><h1 class="entry-title">{esc(post.title)}</h1>'
            '<div class="entry-meta"><span class="posted-on">Posted on '
            f'<a href="{post.path}" rel="bookmark"><time class="entry-date published" '
            f'datetime="{published}T08:30:00+00:00">{long_date(post.published)}</time>'
            f'<time class="updated" datetime="{updated}T10:00:00+00:00">'
            f"{long_date(post.updated or post.published)}</time></a></span></div></header>\n"
            f'<div class="entry-content">\n{body}\n</div>\n'
            '<footer class="entry-footer"><span class="cat-links">Posted in '
            f'<a href="/blog/{post.category}/" rel="category tag">'
            f"{CATEGORIES[post.category]}</a></span></footer>\n</article>\n"
            f"{comments}\n</main></div>\n{side}\n</div>\n"
            f"{footer_html(theme, years)}\n</div>"
        )
        return document(theme, post.title, head, page)
    if post.alt_date is not None:
        meta = f'<time class="published">{alt_date(post.published, post.alt_date)}</time>'
    else:
        meta = (
            f'<time class="published" datetime="{post.published.isoformat()}">'
            f"{long_date(post.published)}</time>"
        )
    meta = f'<p class="post-meta">Published on {meta}'
    if post.updated:
        meta += (
            f' &middot; Updated <time class="updated" datetime="'
            f'{post.updated.isoformat()}">{long_date(post.updated)}</time>'
        )
    meta += "</p>"
    trail = "" if post.jsonld_crumbs_only else crumbs_html(theme, crumbs) + "\n"
    side = sidebar_html(theme, related) if post.sidebar else ""
    page = (
        f'{header_html(theme)}\n<div class="container"><main class="content">\n{trail}'
        f'<article class="post">\n<header class="post-header"><h1 class="post-title">'
        f"{esc(post.title)}</h1>\n{meta}</header>\n"
        f'<div class="post-content">\n{body}\n</div>\n'
        '<div class="share">Share this post: <a href="https://twitter.com/intent/tweet">'
        'Twitter</a> <a href="https://www.facebook.com/sharer.php">Facebook</a></div>\n'
        f"</article>\n{comments}\n</main>\n{side}\n</div>\n{footer_html(theme, years)}"
    )
    return document(theme, post.title, head, page)


def post_expected(post: Post, article: Article, recent: Sequence[Post] = ()) -> dict[str, Any]:
    """The ground-truth record of one post.

    ``recent`` is the realistic furniture's undated "Recent Posts" widget (the site's newest
    posts, newest first): on a page with a sidebar it is a second group of sidebar links,
    after "You may also like", without the page's own link.
    """
    sections = []
    for section in article.sections:
        blocks = [plain(item) for block in section.blocks for item in block.items]
        sections.append(
            {
                "level": section.level,
                "heading": section.heading,
                "text": "\n\n".join(b for b in blocks if b),
            }
        )
    must_not = [SIDEBAR_GROUP, "Categories"] if post.sidebar else []
    must_not.extend([FOOTER_PHRASE, "Staff area"])
    must_not.extend(text for _, _, text in article.comments[:1])
    return {
        "url": post.path,
        "title": post.title,
        "published": post.published.isoformat(),
        "breadcrumbs": [{"label": label, "url": url} for label, url in crumbs_of(post)],
        "sections": sections,
        "sidebar_links": [
            {
                "group": SIDEBAR_GROUP,
                "label": p.title,
                "url": p.path,
                "date": p.published.isoformat(),
            }
            for p in article.sidebar
        ]
        + [
            {"group": RECENT_GROUP, "label": p.title, "url": p.path, "date": None}
            for p in (recent if post.sidebar else ())
            if p is not post
        ],
        "body_must_contain": article.must_contain,
        "body_must_not_contain": must_not,
        "page_type": "post",
    }


STATIC_PAGES: dict[str, tuple[str, list[tuple[str, list[str]]]]] = {
    "about": (
        "About Calm Harbor",
        [
            (
                "Who We Are",
                [
                    "Calm Harbor started in 2011 as a small notebook of things that helped "
                    "on hard days.",
                    "Today a handful of volunteers write about mood, sleep, worry and the "
                    "people around us, in plain language and without judgement.",
                ],
            ),
            (
                "What We Are Not",
                [
                    "We are not a medical service. If you are in crisis, contact your local "
                    "emergency number or a crisis line straight away.",
                ],
            ),
            (
                "How We Write",
                [
                    "Every article is read by at least two people before it goes live, and we "
                    "update older posts when the evidence changes.",
                ],
            ),
        ],
    ),
    "contact": (
        "Contact Us",
        [
            (
                "Get in Touch",
                [
                    "We read every message, although we cannot always reply to each one.",
                    "For press questions, please mention the article you are writing about.",
                ],
            ),
            (
                "Send Us a Message",
                [
                    "Use the form below and we will get back to you within a week.",
                ],
            ),
        ],
    ),
}


def render_static(slug: str, years: str) -> tuple[str, dict[str, Any]]:
    """Render a static page (2019 theme, no date, no sidebar) and its ground truth."""
    title, parts = STATIC_PAGES[slug]
    crumbs: list[tuple[str, str | None]] = [("Home", "/"), (title, None)]
    lines: list[str] = []
    for heading, paras in parts:
        lines.append(f"<h2>{esc(heading)}</h2>")
        lines.extend(f"<p>{esc(p)}</p>" for p in paras)
    if slug == "contact":
        lines.append(
            '<form class="contact-form" action="/contact/" method="post">'
            '<div class="field"><label for="name">Your name</label>'
            '<input id="name" name="name" type="text"></div>'
            '<div class="field"><label for="msg">Your message</label>'
            '<textarea id="msg" name="message"></textarea></div>'
            '<button type="submit">Send</button></form>'
        )
    body = "\n".join(lines)
    page = (
        f'{header_html("2019")}\n<div class="container"><main class="content">\n'
        f'{crumbs_html("2019", crumbs)}\n<article class="page">\n'
        f'<header class="post-header"><h1 class="post-title">{esc(title)}</h1></header>\n'
        f'<div class="post-content">\n{body}\n</div>\n</article>\n</main>\n</div>\n'
        f"{footer_html('2019', years)}"
    )
    head = f'<link rel="canonical" href="/{slug}/">\n'
    expected = {
        "url": f"/{slug}/",
        "title": title,
        "published": None,
        "breadcrumbs": [{"label": label, "url": url} for label, url in crumbs],
        "sections": [
            {"level": 2, "heading": heading, "text": "\n\n".join(paras)} for heading, paras in parts
        ],
        "sidebar_links": [],
        "body_must_contain": [parts[0][1][0]],
        "body_must_not_contain": [FOOTER_PHRASE, "Staff area"],
        "page_type": "page",
    }
    return document("2019", title, head, page), expected


def listing_path(base: str, page: int) -> str:
    """The path of page ``page`` (1-based) of a paginated listing rooted at ``base``."""
    return base if page == 1 else f"{base}page/{page}/"


def render_listing(
    title: str,
    base: str,
    page: int,
    pages: int,
    items: Sequence[Post],
    crumbs: Sequence[tuple[str, str | None]],
    years: str,
    intro: str = "",
) -> str:
    """Render one page of a post listing (home, blog index, category)."""
    entries = "\n".join(
        f'<article class="post-summary"><h2><a href="{p.path}">{esc(p.title)}</a></h2>'
        f'<p class="post-meta"><time datetime="{p.published.isoformat()}">'
        f"{long_date(p.published)}</time> in "
        f'<a href="/blog/{p.category}/">{CATEGORIES[p.category]}</a></p>'
        f'<p>A short read about {esc(p.title.lower())}. <a href="{p.path}">Continue reading'
        "</a></p></article>"
        for p in items
    )
    pager: list[str] = []
    if page > 1:
        pager.append(f'<a class="prev" href="{listing_path(base, page - 1)}">Newer posts</a>')
    for n in range(max(1, page - 2), min(pages, page + 2) + 1):
        if n == page:
            pager.append(f'<span class="current">{n}</span>')
        else:
            pager.append(f'<a class="page-numbers" href="{listing_path(base, n)}">{n}</a>')
    if page < pages:
        pager.append(f'<a class="next" href="{listing_path(base, page + 1)}">Older posts</a>')
    heading = esc(title) if page == 1 else f"{esc(title)} &#8211; Page {page}"
    trail = crumbs_html("2019", crumbs) + "\n" if crumbs else ""
    page_html = (
        f'{header_html("2019")}\n<div class="container"><main class="content">\n{trail}'
        f'<h1 class="page-title">{heading}</h1>\n{intro}{entries}\n'
        f'<nav class="pagination" aria-label="Pagination">{" ".join(pager)}</nav>\n</main>\n'
        f"{sidebar_html('2019', [])}\n</div>\n{footer_html('2019', years)}"
    )
    canonical = f'<link rel="canonical" href="{listing_path(base, page)}">\n'
    return document("2019", title if page == 1 else f"{title} - Page {page}", canonical, page_html)


def private_page(years: str) -> str:
    """The robots-disallowed page a polite crawler must never fetch."""
    body = (
        f"{header_html('2019')}\n<main><h1>Staff area</h1><p>Internal notes. This page is "
        f"disallowed in robots.txt and must never be crawled.</p></main>\n"
        f"{footer_html('2019', years)}"
    )
    return document("2019", "Staff area", '<meta name="robots" content="noindex">\n', body)


# --------------------------------------------------------------------------- images


def tiny_jpeg(width: int, height: int) -> bytes:
    """A valid baseline grey JPEG: every 8x8 block has DC difference 0 and an immediate EOB."""

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    jfif = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    dqt = segment(0xDB, b"\x00" + bytes([1] * 64))
    sof = segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    lengths = bytes([1] + [0] * 15)
    dht = segment(0xC4, b"\x00" + lengths + b"\x00" + b"\x10" + lengths + b"\x00")
    sos = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = "00" * blocks
    bits += "1" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big")
    return b"\xff\xd8" + jfif + dqt + sof + dht + sos + data + b"\xff\xd9"


def tiny_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid single-colour RGB PNG."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    row = b"\x00" + bytes(rgb) * width
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(row * height, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def write_images(out: Path) -> None:
    """Write the handful of tiny images the posts reuse."""
    folder = out / "images"
    folder.mkdir(parents=True, exist_ok=True)
    colours = [(120, 170, 200), (90, 140, 90), (230, 200, 160)]
    for n, name in enumerate(IMAGES):
        if name.endswith(".jpg"):
            data = tiny_jpeg(16 + 8 * n, 16)
        else:
            data = tiny_png(12 + n, 8, colours[n % len(colours)])
        (folder / name).write_bytes(data)


# --------------------------------------------------------------------------- output


def write_text(path: Path, text: str) -> None:
    """Write a UTF-8 text file with LF line endings, creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def write_json(path: Path, data: Any) -> None:
    """Write pretty, stable JSON (non-ASCII kept as is)."""
    write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def page_file(out: Path, url_path: str) -> Path:
    """The file that serves a root-relative directory path."""
    return out / url_path.strip("/") / "index.html"


def sitemap_entries(posts: Sequence[Post]) -> Iterator[tuple[str, date]]:
    """Yield (path, lastmod) for every URL the sitemap lists."""
    newest = posts[-1].published if posts else STATIC_LASTMOD
    yield "/", newest
    yield "/blog/", newest
    for cat in CATEGORIES:
        dates = [p.published for p in posts if p.category == cat]
        yield f"/blog/{cat}/", max(dates, default=STATIC_LASTMOD)
    yield "/about/", STATIC_LASTMOD
    yield "/contact/", STATIC_LASTMOD
    for post in posts:
        yield post.path, post.updated or post.published


def write_urlset(path: Path, base_url: str, entries: Iterator[tuple[str, date]], limit: int) -> int:
    """Write up to ``limit`` entries as one ``<urlset>``; return how many were written."""
    count = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        )
        for url_path, lastmod in entries:
            fh.write(
                f"  <url><loc>{esc(base_url + url_path)}</loc>"
                f"<lastmod>{lastmod.isoformat()}</lastmod></url>\n"
            )
            count += 1
            if count >= limit:
                break
        fh.write("</urlset>\n")
    return count


def write_sitemaps(out: Path, posts: Sequence[Post], base_url: str, limit: int) -> None:
    """Write /sitemap.xml, split into an index plus children above ``limit`` URLs."""
    total = 2 + len(CATEGORIES) + 2 + len(posts)
    entries = sitemap_entries(posts)
    if total <= limit:
        write_urlset(out / "sitemap.xml", base_url, entries, limit)
        return
    children = -(-total // limit)
    lastmod = max((p.updated or p.published for p in posts), default=STATIC_LASTMOD)
    for n in range(1, children + 1):
        write_urlset(out / f"sitemap-{n}.xml", base_url, entries, limit)
    with (out / "sitemap.xml").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        )
        for n in range(1, children + 1):
            fh.write(
                f"  <sitemap><loc>{esc(base_url)}/sitemap-{n}.xml</loc>"
                f"<lastmod>{lastmod.isoformat()}</lastmod></sitemap>\n"
            )
        fh.write("</sitemapindex>\n")


def write_listings(
    out: Path,
    posts: Sequence[Post],
    by_category: dict[str, list[Post]],
    years: str,
    manifest: list[dict[str, Any]],
    dress: Dresser | None = None,
) -> None:
    """Write the home page, the paginated blog index and the paginated category pages."""
    dress = dress or _undressed
    newest = list(reversed(posts))
    home_intro = (
        f'<p class="intro">{esc(TAGLINE)}. Browse the <a href="/blog/">blog</a> or start with '
        "one of the categories below.</p>\n"
    )
    write_text(
        out / "index.html",
        dress(
            render_listing(f"Welcome to {SITE_NAME}", "/", 1, 1, newest[:5], [], years, home_intro),
            "2019",
            "/",
            False,
        ),
    )
    manifest.append({"path": "/", "type": "listing", "expected": None})
    listings = [("Blog", "/blog/", newest, BLOG_PER_PAGE, [("Home", "/"), ("Blog", None)])]
    for cat, name in CATEGORIES.items():
        crumbs: list[tuple[str, str | None]] = [("Home", "/"), ("Blog", "/blog/"), (name, None)]
        listings.append(
            (name, f"/blog/{cat}/", list(reversed(by_category[cat])), CATEGORY_PER_PAGE, crumbs)
        )
    for title, base, items, per_page, trail in listings:
        pages = max(1, -(-len(items) // per_page))
        for page in range(1, pages + 1):
            chunk = items[(page - 1) * per_page : page * per_page]
            path = listing_path(base, page)
            html_page = render_listing(title, base, page, pages, chunk, trail, years)
            write_text(page_file(out, path), dress(html_page, "2019", path, False))
            manifest.append({"path": path, "type": "listing", "expected": None})


def recent_posts(posts: Sequence[Post]) -> list[Post]:
    """The realistic sidebar's "Recent Posts" widget: the five newest posts, newest first."""
    return list(reversed(posts[-5:]))


Dresser = Callable[[str, Theme, str, bool], str]


def _undressed(page: str, theme: Theme, path: str, is_post: bool) -> str:
    return page


def _dresser(posts: Sequence[Post], years: str) -> Dresser:
    """``benchmarks/furniture.py``'s ``dress`` bound to this site (imported only here)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    from furniture import dress

    recent = [(esc(p.title), p.path) for p in recent_posts(posts)]

    def apply(page: str, theme: Theme, path: str, is_post: bool) -> str:
        return dress(
            page,
            theme=theme,
            path=path,
            header=header_html(theme),
            sidebar_anchor=categories_widget(theme),
            footer=footer_html(theme, years),
            recent=recent,
            is_post=is_post,
        )

    return apply


def generate_site(
    out_dir: Path,
    posts: int,
    seed: int = 0,
    base_url: str = "http://127.0.0.1:8000",
    *,
    expected_dir: Path | None = None,
    sitemap_limit: int = SITEMAP_LIMIT,
    realistic: bool = False,
) -> None:
    """Generate the blog into ``out_dir`` (and its ground truth into ``expected_dir``).

    The output depends only on the arguments: no clock, no environment. Pages are written as
    they are rendered; only the posts' metadata is held in memory.

    Args:
        out_dir: directory to serve; created if missing. Existing files are overwritten but
            never deleted, so start from an empty directory.
        posts: number of posts (at least 1).
        seed: random seed.
        base_url: scheme and host (no trailing slash) for the sitemap and robots.txt.
        expected_dir: where to write ``manifest.json`` and one JSON file per post and static
            page; nothing is written when None.
        sitemap_limit: most URLs per sitemap file before splitting into a sitemap index.
        realistic: wrap every page in the furniture real themes carry
            (``benchmarks/furniture.py``: scripts, styles, an SVG sprite, a mega menu,
            widgets, a comment form, footer columns); the ground truth is the same but
            for the widgets' undated "Recent Posts" links (``post_expected``).

    Raises:
        ValueError: if ``posts`` or ``sitemap_limit`` is below 1.
    """
    if posts < 1 or sitemap_limit < 1:
        raise ValueError("posts and sitemap_limit must be at least 1")
    base_url = base_url.rstrip("/")
    plan = plan_posts(posts, seed)
    by_category: dict[str, list[Post]] = {cat: [] for cat in CATEGORIES}
    for post in plan:
        by_category[post.category].append(post)
    years = f"{plan[0].published.year}–{plan[-1].published.year}"
    manifest: list[dict[str, Any]] = []

    write_images(out_dir)
    dress = _dresser(plan, years) if realistic else _undressed
    recent = recent_posts(plan) if realistic else []
    for post in plan:
        article = write_article(post, plan, by_category, seed)
        write_text(
            page_file(out_dir, post.path),
            dress(render_post(post, article, years), post.theme, post.path, True),
        )
        name = f"{post.slug}.json"
        if expected_dir is not None:
            write_json(expected_dir / name, post_expected(post, article, recent))
        manifest.append({"path": post.path, "type": "post", "expected": name})
    for slug in STATIC_PAGES:
        page_html, expected = render_static(slug, years)
        write_text(page_file(out_dir, f"/{slug}/"), dress(page_html, "2019", f"/{slug}/", False))
        if expected_dir is not None:
            write_json(expected_dir / f"{slug}.json", expected)
        manifest.append({"path": f"/{slug}/", "type": "page", "expected": f"{slug}.json"})
    write_listings(out_dir, plan, by_category, years, manifest, dress)
    write_text(page_file(out_dir, DISALLOWED[0]), private_page(years))
    write_text(out_dir / "style.css", "body{font-family:Georgia,serif;max-width:60em}\n")
    write_text(
        out_dir / "robots.txt",
        f"User-agent: *\nDisallow: /private/\n\nSitemap: {base_url}/sitemap.xml\n",
    )
    write_sitemaps(out_dir, plan, base_url, sitemap_limit)
    if expected_dir is not None:
        write_manifest(expected_dir / "manifest.json", posts, seed, base_url, manifest)
        write_text(expected_dir / "README.md", EXPECTED_README)


EXPECTED_README = """\
# Ground truth for the generated demo blog

Generated by `benchmarks/sitegen.py` together with the served tree, `src/migrator/demo_site/`;
do not edit by hand. To regenerate the committed demo:

    rm -rf src/migrator/demo_site tests/fixtures/site_expected
    python benchmarks/sitegen.py --posts 48 --seed 0 --out src/migrator/demo_site \\
        --expected tests/fixtures/site_expected

- `manifest.json`: every served page path with its type (post, page, listing) and its
  expected file; `disallowed` lists paths robots.txt forbids (never fetch them).
- `<slug>.json`, `about.json`, `contact.json`: the expected record of each post and static
  page. URLs are root-relative paths: join them to the base URL the tree is served on.
- Only `robots.txt` and `sitemap.xml` in the served tree hold absolute URLs
  (`http://127.0.0.1:8000`); to serve elsewhere, regenerate with `--base-url` or rewrite them.

The section-text rule and the theme variants are described in the module docstring of
`benchmarks/sitegen.py`.
"""


def write_manifest(
    path: Path, posts: int, seed: int, base_url: str, pages: Sequence[dict[str, Any]]
) -> None:
    """Write the manifest, one page entry per line so that large sites stream and diff well."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = {
        "posts": posts,
        "seed": seed,
        "base_url": base_url,
        "categories": CATEGORIES,
        "disallowed": list(DISALLOWED),
    }
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(json.dumps(head, ensure_ascii=False)[:-1] + ',\n "pages": [\n')
        for n, entry in enumerate(pages):
            sep = ",\n" if n < len(pages) - 1 else "\n"
            fh.write("  " + json.dumps(entry, ensure_ascii=False) + sep)
        fh.write(" ]\n}\n")


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, required=True, help="number of posts")
    parser.add_argument("--out", type=Path, required=True, help="output directory (served)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--base-url",
        default="http://127.0.0.1:8000",
        help="absolute base for sitemap.xml and robots.txt",
    )
    parser.add_argument(
        "--expected",
        type=Path,
        default=None,
        help="also write manifest.json and per-page ground truth here",
    )
    parser.add_argument(
        "--sitemap-limit",
        type=int,
        default=SITEMAP_LIMIT,
        help="most URLs per sitemap file (default 50000)",
    )
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="pages sized and shaped like real blogs (benchmarks/furniture.py)",
    )
    args = parser.parse_args(argv)
    if args.posts < 1 or args.sitemap_limit < 1:
        parser.error("--posts and --sitemap-limit must be at least 1")
    generate_site(
        args.out,
        args.posts,
        args.seed,
        args.base_url,
        expected_dir=args.expected,
        sitemap_limit=args.sitemap_limit,
        realistic=args.realistic,
    )
    print(f"wrote {args.posts} posts to {args.out}", file=stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
