"""The generated blog that ``wpcheck.py`` loads into a real WordPress: a pure function of a seed.

This module owns *what* the blog contains (users, categories, tags, posts over
2009-2024, static pages, images, comments, drafts) as one JSON-ready dict, plus the tiny
PNG files the posts show. It never talks to WordPress or the network: ``populate.php``
reads the spec and turns it into rows through WordPress's own API, and the check
compares migrator's output with WordPress's database, never with this spec, so a
WordPress filter (texturized quotes, slug encoding) cannot hide a mismatch.
"""

from __future__ import annotations

import hashlib
import json
import random
import struct
import zlib
from pathlib import Path
from typing import Any

__all__ = ["SPEC_VERSION", "build_spec", "spec_digest", "tiny_png", "write_images"]

# Bump when the blog's shape changes on purpose: the installed blog is rebuilt when the
# digest of the spec (which includes this number) differs from the one recorded.
SPEC_VERSION = 4

POSTS = 120
SEED = 20090101

_USERS: tuple[dict[str, str], ...] = (
    {
        "login": "alice",
        "display_name": "Alice Example",
        "email": "alice@example.invalid",
        "description": "",
    },
    {
        "login": "bartek",
        "display_name": "Bartosz Nowak",
        "email": "bartek@example.invalid",
        "description": "",
    },
    # An author with a biography: Twenty Twenty-One then prints an author box
    # ("By Chen Wei" in an h2) below the post instead of the byline.
    {
        "login": "chen",
        "display_name": "Chen Wei",
        "email": "chen@example.invalid",
        "description": "Chen writes about trains, tea and terminal emulators.",
    },
)

# (slug, name, parent slug): two levels under Travel, three under Tech.
_CATEGORIES: tuple[tuple[str, str, str | None], ...] = (
    ("travel", "Travel", None),
    ("europe", "Europe", "travel"),
    ("asia", "Asia", "travel"),
    ("tech", "Tech", None),
    ("python", "Python", "tech"),
    ("linux", "Linux", "tech"),
    ("debian", "Debian", "linux"),
    ("cooking", "Cooking", None),
    ("baking", "Baking", "cooking"),
    ("notes", "Notes", None),
)

_TAGS: tuple[str, ...] = (
    "trains",
    "coffee",
    "sqlite",
    "backups",
    "bread",
    "mountains",
    "weekend",
    "review",
    "howto",
    "photos",
    "winter",
    "summer",
    "tools",
    "books",
    "music",
    "cycling",
    "kitchen",
    "shell",
    "release",
    "travel-tips",
)

_TOPICS: tuple[str, ...] = (
    "night trains",
    "sourdough starters",
    "SQLite indexes",
    "backup rotation",
    "mountain huts",
    "espresso grinders",
    "shell history",
    "rye bread",
    "packing light",
    "Debian upgrades",
    "ferry timetables",
    "cast-iron pans",
    "tea ceremonies",
    "bicycle gears",
    "vinyl records",
    "winter hiking",
    "text editors",
    "fermented pickles",
    "old maps",
    "train stations",
)
_FORMS: tuple[str, ...] = (
    "Notes on {t}",
    "A weekend with {t}",
    "What I learned about {t}",
    "{T}, revisited",
    "Why {t} matter",
    "Ten years of {t}",
    "Getting started with {t}",
    "More about {t}",
    "{T} in practice",
    "Small lessons from {t}",
)
_WORDS: tuple[str, ...] = (
    "morning",
    "station",
    "window",
    "river",
    "kettle",
    "archive",
    "garden",
    "ticket",
    "lantern",
    "harbour",
    "notebook",
    "bridge",
    "market",
    "compass",
    "letter",
    "valley",
    "signal",
    "orchard",
    "ladder",
    "blanket",
    "pocket",
    "meadow",
    "engine",
    "candle",
)
# Titles a real blog has and a naive pipeline trips on: non-ASCII (slugs become
# percent-encoded or transliterated), and quotes/ampersands that wptexturize rewrites.
_SPECIAL_TITLES: dict[int, str] = {
    7: "Zażółć gęślą jaźń: a weekend in Łódź",
    23: "東京の夜行列車",
    41: "Привет из Петербурга",
    58: "Café crème in Zürich",
    77: 'Tom\'s Q&A: "fast" builds -- and slow ones',
    96: "Ελληνικά και ψωμί",
}
_SECTIONED = 3  # every third post has h2/h3 sections
_SPLIT_POST = 50  # index of the post split with <!--nextpage-->
_STICKY_POST = 100
_BURST = range(60, 72)  # the summer of 2016: all in August
_IMAGE_POSTS = (3, 15, 28, 40, 52, 64, 71, 83, 90, 104, 111, 118)
_FEATURED_POSTS = (15, 40, 64, 90, 111)


def _paragraph(rng: random.Random, words: int = 40) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _title(i: int) -> str:
    if i in _SPECIAL_TITLES:
        return _SPECIAL_TITLES[i]
    topic = _TOPICS[i % len(_TOPICS)]
    form = _FORMS[(i // len(_TOPICS) + i) % len(_FORMS)]
    title = form.format(t=topic, T=topic[0].upper() + topic[1:])
    # Several posts share a topic and form: a number keeps titles (and slugs) unique.
    return f"{title} ({i // len(_TOPICS) + 1})" if i >= len(_TOPICS) else title


def _post_body(i: int, rng: random.Random) -> str:
    parts = [_paragraph(rng) for _ in range(rng.randint(2, 4))]
    if i % 7 == 2:
        # A date quoted in the text and a log excerpt: neither is the publication date.
        parts.append(f"Back on March 3, 2003 I wrote about this for the first time ({i}).")
        parts.append("<pre>2001-05-17 10:12:01 job started\n2001-05-17 10:14:44 job finished</pre>")
    if i % 5 == 1:
        parts.insert(1, "<!--more-->")
    if i % _SECTIONED == 0:
        parts.append(f"<h2>Background {i}</h2>")
        parts.append(_paragraph(rng))
        parts.append(f"<h3>Details for post {i}</h3>")
        parts.append(_paragraph(rng, 25))
        parts.append(f"<h2>Conclusion {i}</h2>")
        parts.append(_paragraph(rng, 20))
    if i in _IMAGE_POSTS:
        # populate.php replaces the marker with a linked image (to its attachment page).
        parts.insert(1, "{{IMAGE}}")
    if i == _SPLIT_POST:
        parts = [
            "<p>This long read is split over three pages.</p>",
            _paragraph(rng),
            "<!--nextpage-->",
            "<h2>Part two</h2>",
            _paragraph(rng),
            "<!--nextpage-->",
            "<h2>Part three</h2>",
            _paragraph(rng),
        ]
    if i % 4 == 3:
        # Block-editor markup on some posts, as 5.x+ blogs mix both.
        return "\n\n".join(
            p
            if p.startswith(("<", "{{"))
            else f"<!-- wp:paragraph -->\n<p>{p}</p>\n<!-- /wp:paragraph -->"
            for p in parts
        )
    return "\n\n".join(parts)


def _comments(i: int, rng: random.Random) -> list[dict[str, Any]]:
    comments: list[dict[str, Any]] = []
    for n in range(rng.choice((0, 0, 1, 2, 3, 5))):
        parent = rng.randrange(n) if n and rng.random() < 0.4 else None
        comments.append(
            {
                "author": rng.choice(("Marta", "Jonas", "Keiko", "Pierre", "Olu")),
                "email": f"reader{n}@example.invalid",
                "content": _paragraph(rng, 15),
                "day_offset": n + 1,
                "parent": parent,
                # One held comment per dozen posts: it must not appear anywhere.
                "approved": not (i % 12 == 5 and n == 0),
            }
        )
    return comments


def build_spec(seed: int = SEED, posts: int = POSTS) -> dict[str, Any]:
    """Return the whole blog as JSON-ready data; the same seed gives the same blog.

    Args:
        seed: seed of the random choices (dates, words, comments).
        posts: number of published posts, spread over 2009-2024.

    Returns:
        A dict with ``site``, ``users``, ``categories``, ``tags``, ``posts`` (every
        status) and ``pages`` (static pages), as ``populate.php`` reads it.
    """
    rng = random.Random(seed)
    entries: list[dict[str, Any]] = []
    # Dates: spread evenly over 16 years, jittered, so most months have 0-1 posts and
    # a few have several (month archives with and without pagination).
    span_days = 16 * 365
    for i in range(posts):
        day = int(i * span_days / posts) + rng.randint(0, 20)
        year = 2009 + day // 365
        month = (day % 365) // 31 + 1
        mday = min(28, (day % 365) % 31 + 1)
        hour, minute = rng.randint(6, 22), rng.randint(0, 59)
        if i in _BURST:
            # A month with a dozen posts (two on one day): a paginated month archive.
            year, month, mday = 2016, 8, 1 + (i - _BURST.start) * 2 // 3
        date = f"{year:04d}-{month:02d}-{mday:02d} {hour:02d}:{minute:02d}:00"
        top = rng.choice(_CATEGORIES)
        cats = sorted({top[0], rng.choice(_CATEGORIES)[0]})
        entries.append(
            {
                "key": f"post-{i}",
                "status": "publish",
                "title": _title(i),
                "date": date,
                "author": _USERS[i % len(_USERS)]["login"],
                "categories": cats if i % 10 != 9 else [],  # some land in Uncategorized
                "tags": sorted(set(rng.sample(_TAGS, rng.randint(0, 4)))),
                "content": _post_body(i, rng),
                "sticky": i == _STICKY_POST,
                "image": f"image-{i}.png" if i in _IMAGE_POSTS else None,
                "featured": i in _FEATURED_POSTS,
                "comments": _comments(i, rng),
            }
        )
    # Not published: none of these may reach the migration database.
    hidden: tuple[tuple[str, str, str | None], ...] = (
        ("draft", "Unpublished draft about lighthouses", "2016-04-02 10:00:00"),
        ("draft", "Unpublished draft: half a recipe", "2021-09-12 10:00:00"),
        ("draft", "Unpublished draft with no date", None),
        ("private", "Private diary entry about taxes", "2018-02-14 20:00:00"),
        ("private", "Private note on server passwords", "2023-06-01 08:30:00"),
        ("pending", "Unpublished pending review about kayaks", "2019-07-07 12:00:00"),
        ("future", "Unpublished scheduled post for 2031", "2031-01-01 09:00:00"),
    )
    for n, (status, title, when) in enumerate(hidden):
        entries.append(
            {
                "key": f"hidden-{n}",
                "status": status,
                "title": title,
                "date": when,
                "author": "alice",
                "categories": ["notes"],
                "tags": ["weekend"],
                "content": f"<p>Secret words {n}: this {status} text must never be migrated.</p>",
                "sticky": False,
                "image": None,
                "featured": False,
                "comments": [],
            }
        )
    pages = [
        {
            "key": "about",
            "title": "About",
            "parent": None,
            "order": 1,
            "content": "<p>This blog is written by three friends since 2009.</p>"
            "<h2>Who we are</h2><p>" + _paragraph(rng) + "</p>",
        },
        {
            "key": "contact",
            "title": "Contact",
            "parent": None,
            "order": 2,
            "content": "<p>Write to us at blog@example.invalid.</p>",
        },
        {
            "key": "colophon",
            "title": "Colophon",
            "parent": None,
            "order": 3,
            "content": "<p>Set in system fonts, served by WordPress.</p>",
        },
        {
            "key": "team",
            "title": "The Team",
            "parent": None,
            "order": 4,
            "content": "<p>" + _paragraph(rng) + "</p>",
        },
        {
            "key": "history",
            "title": "Our History",
            "parent": "team",
            "order": 1,
            "content": "<p>We started on a train in January 2009.</p><p>"
            + _paragraph(rng)
            + "</p>",
        },
        {
            "key": "policy",
            "title": "Comment Policy",
            "parent": None,
            "order": 5,
            "content": "<p>Be kind. Comments are moderated.</p>",
        },
    ]
    return {
        "spec_version": SPEC_VERSION,
        "seed": seed,
        "site": {
            "title": "Slow Travel & Fast Code",
            "description": "A blog about trains, bread and computers",
            "timezone": "Europe/Berlin",
            "permalink_structure": "/%year%/%monthnum%/%day%/%postname%/",
        },
        "users": list(_USERS),
        "categories": [{"slug": s, "name": n, "parent": p} for s, n, p in _CATEGORIES],
        "tags": list(_TAGS),
        "posts": entries,
        "pages": pages,
    }


def spec_digest(spec: dict[str, Any], *extra: bytes) -> str:
    """A short digest of the spec plus the installer's own sources (``extra``)."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode())
    for blob in extra:
        digest.update(blob)
    return digest.hexdigest()[:16]


def tiny_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid truecolor PNG of one colour with a diagonal stripe, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows.extend((255, 255, 255) if x == y else rgb)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def write_images(spec: dict[str, Any], folder: Path) -> None:
    """Write every image the spec names into ``folder`` (deterministic bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, post in enumerate(spec["posts"]):
        if post["image"]:
            rgb = ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256)
            # The size of a real post picture: themes and migrator treat a 48 px image
            # as an icon, never as a featured image.
            (folder / post["image"]).write_bytes(tiny_png(640, 360, rgb))
