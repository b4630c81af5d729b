"""Tests for benchmarks/wordpress/ (`make wordpress-check`): the pure parts always, the
real WordPress run only when asked for (MIGRATOR_WORDPRESS_CHECK=1) and installed."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import struct
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks" / "wordpress"))

import wp_blog  # noqa: E402
import wp_compare  # noqa: E402

HOME = "http://127.0.0.1:8480/"


def _truth() -> dict:
    post = {
        "id": 5,
        "type": "post",
        "status": "publish",
        "title_raw": "Tom's post",
        "title": "Tom&#8217;s post",
        "date": "2015-03-01 00:30:00",
        "date_gmt": "2015-02-28 23:30:00",
        "author": "Alice Example",
        "parent": 0,
        "slug": "toms-post",
        "pages": 2,
        "has_sections": True,
        "categories": ["Travel"],
        "tags": ["trains"],
        "headings": [[2, "Background"]],
        "paragraphs": ["Hello   there."],
        "permalink": f"{HOME}2015/03/01/toms-post/",
        "shortlink": f"{HOME}?p=5",
        "featured": f"{HOME}wp-content/uploads/2015/03/river.png",
    }
    draft = {
        **post,
        "id": 6,
        "status": "draft",
        "title_raw": "Secret",
        "title": "Secret",
        "pages": 1,
        "permalink": f"{HOME}?p=6",
        "shortlink": f"{HOME}?p=6",
    }
    page = {
        **post,
        "id": 7,
        "type": "page",
        "title_raw": "About",
        "title": "About",
        "pages": 1,
        "permalink": f"{HOME}about/",
        "shortlink": f"{HOME}?page_id=7",
    }
    return {
        "home": HOME,
        "timezone": "Europe/Berlin",
        "posts": [post, draft, page],
        "terms": [
            {
                "taxonomy": "category",
                "id": 1,
                "name": "Travel",
                "count": 1,
                "link": f"{HOME}category/travel/",
            }
        ],
        "authors": [{"id": 1, "display_name": "Alice Example", "link": f"{HOME}author/alice/"}],
        "archives": {
            "year": [f"{HOME}2015/"],
            "month": [f"{HOME}2015/03/"],
            "day": [f"{HOME}2015/03/01/"],
        },
        "recent_posts": [post["permalink"]],
    }


def test_wp_compare_classify_kinds() -> None:
    t = wp_compare._index(_truth())
    assert wp_compare.classify(t, f"{HOME}2015/03/01/toms-post") == ("post", 5)
    assert wp_compare.classify(t, f"{HOME}2015/03/01/toms-post/2/") == ("post-subpage", 5)
    assert wp_compare.classify(t, f"{HOME}2015/03/")[0] == "month-archive"
    assert wp_compare.classify(t, f"{HOME}2015/03/page/2/")[0] == "month-archive-paged"
    assert wp_compare.classify(t, f"{HOME}category/travel/page/3/")[0] == "category-archive-paged"
    assert wp_compare.classify(t, f"{HOME}?p=6")[0] == "unpublished-post"
    assert wp_compare.classify(t, f"{HOME}page/2/")[0] == "home-paged"
    assert wp_compare.classify(t, f"{HOME}feed/")[0] == "feed"


def _db(path: Path, rows: list[tuple], aliases=(), links=(), sections=()):
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE pages (id INTEGER PRIMARY KEY, url TEXT, canonical_url TEXT, title TEXT,"
        " published_at TEXT, author TEXT, page_type TEXT, body_text TEXT, removed_at TEXT,"
        " categories TEXT DEFAULT '[]', tags TEXT DEFAULT '[]', featured_image TEXT);"
        "CREATE TABLE sections (page_id INT, position INT, level INT, heading TEXT);"
        "CREATE TABLE sidebar_links (page_id INT, position INT, group_name TEXT, label TEXT,"
        " url TEXT);"
        "CREATE TABLE aliases (url TEXT, target_url TEXT, page_id INT, kind TEXT);"
        "CREATE TABLE crawl_state (url TEXT, state TEXT, page_type TEXT, final_url TEXT,"
        " last_status INT);"
        "CREATE TABLE errors (url TEXT, stage TEXT, status INT, reason TEXT);"
    )
    conn.executemany(
        "INSERT INTO pages (id, url, title, published_at, author, page_type, body_text)"
        " VALUES (?, ?, ?, ?, ?, ?, '')",
        rows,
    )
    conn.executemany("INSERT INTO sections VALUES (?, ?, ?, ?)", sections)
    conn.executemany("INSERT INTO aliases VALUES (?, ?, ?, 'canonical')", aliases)
    conn.executemany("INSERT INTO sidebar_links VALUES (?, ?, 'Recent Posts', 'x', ?)", links)
    conn.commit()
    conn.close()
    return path


def _checks(result: dict) -> dict[str, dict]:
    return {c["name"]: c for c in result["checks"]}


def test_wp_compare_all_right(tmp_path: Path) -> None:
    """A database with exactly WordPress's answers passes every check."""
    url = f"{HOME}2015/03/01/toms-post/"
    db = _db(
        tmp_path / "m.db",
        [
            (1, url, "Tom’s post", "2015-03-01T00:30:00+01:00", "Alice Example", "post"),
            (2, f"{HOME}about/", "About", None, None, "page"),
        ],
        aliases=[(f"{HOME}?p=5", url, 1)],
        links=[(1, 0, url), (2, 0, url)],
        sections=[(1, 0, 2, "Background")],
    )
    conn = sqlite3.connect(db)
    conn.execute(
        """UPDATE pages SET categories = '["Travel"]', tags = '["trains"]',"""
        " body_text = 'Intro. Hello there. Outro.',"
        f""" featured_image = '{{"src": "{HOME}wp-content/uploads/2015/03/river.png"}}'"""
        " WHERE id = 1"
    )
    conn.commit()
    conn.close()
    checks = _checks(wp_compare.compare(_truth(), db))
    assert {n: c["failed"] for n, c in checks.items() if not c["ok"]} == {}


def test_wp_compare_reports_each_mistake(tmp_path: Path) -> None:
    url = f"{HOME}2015/03/01/toms-post/"
    db = _db(
        tmp_path / "m.db",
        [
            (1, url, "Blog name", "2003-03-03", "View all posts", "post"),
            (2, f"{HOME}2015/03/01/toms-post/2/", "Tom’s post", None, None, "post"),
            (3, f"{HOME}2015/03/", "Month: March 2015", "2015-03-01", None, "post"),
            (4, f"{HOME}?p=6", "Secret", None, None, "post"),
            (5, f"{HOME}about/", "About", "2024-11-07", None, "post"),
        ],
    )
    result = wp_compare.compare(_truth(), db)
    checks = _checks(result)
    assert checks["posts_once"]["reasons"] == {"more than one row typed post": 1}
    assert checks["nothing_else_post"]["reasons"] == {
        "post-subpage": 1,
        "month-archive": 1,
        "unpublished-post": 1,
        "static-page": 1,
    }
    assert checks["no_unpublished"]["failed"] == 1
    assert checks["title"]["failed"] == 1
    assert checks["published"]["reasons"] == {"wrong day": 1}
    assert checks["author"]["failed"] == 1
    assert checks["shortlink_alias"]["reasons"] == {"no alias row": 1}
    # the post itself is the only recent post: its own page is not asked to link it
    assert checks["recent_posts_sidebar"]["failed"] == 1
    assert checks["static_pages"]["reasons"] == {"dated, typed post": 1}
    assert checks["sections"]["reasons"] == {"headings lost": 1}
    assert checks["taxonomies"]["reasons"] == {"categories and tags": 1}
    assert checks["body"]["reasons"] == {"paragraphs lost": 1}
    assert checks["featured_image"]["reasons"] == {"missing": 1}
    assert "FAIL" in wp_compare.render_summary(result)


@pytest.mark.parametrize(
    ("got", "why"),
    [
        ("2015-03-01T00:30:00+01:00", None),
        ("2015-02-28T23:30:00Z", None),
        ("2015-03-01", None),
        ("2015-03-01T00:30:00", None),
        ("2015-03-01T09:00:00+01:00", "right day, wrong time or offset"),
        ("2015-02-28", "wrong day"),
        (None, "missing"),
    ],
)
def test_wp_compare_published(got: str | None, why: str | None) -> None:
    post = _truth()["posts"][0]
    from zoneinfo import ZoneInfo

    assert wp_compare._published_mismatch(got, post, ZoneInfo("Europe/Berlin")) == why


def test_wp_blog_spec_is_deterministic_and_covers_the_cases() -> None:
    spec = wp_blog.build_spec()
    assert json.dumps(spec) == json.dumps(wp_blog.build_spec())
    posts = [p for p in spec["posts"] if p["status"] == "publish"]
    assert len(posts) == wp_blog.POSTS
    years = {p["date"][:4] for p in posts}
    assert min(years) == "2009"
    assert max(years) == "2024"
    assert {p["status"] for p in spec["posts"]} >= {"draft", "private", "pending", "future"}
    assert sum("<!--nextpage-->" in p["content"] for p in posts) == 1
    assert sum(not p["title"].isascii() for p in posts) >= 4
    assert any(c["parent"] for c in spec["categories"])
    assert any(pg["parent"] for pg in spec["pages"])
    assert len({p["title"] for p in posts}) == len(posts)


def test_wp_blog_tiny_png_is_valid() -> None:
    png = wp_blog.tiny_png(4, 3, (10, 20, 30))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (4, 3)
    idat_len = struct.unpack(">I", png[33:37])[0]
    assert len(zlib.decompress(png[41 : 41 + idat_len])) == 3 * (1 + 4 * 3)


def _wordpress_ready() -> str | None:
    if os.environ.get("MIGRATOR_WORDPRESS_CHECK") != "1":
        return "set MIGRATOR_WORDPRESS_CHECK=1 to run the real WordPress check (~2 min)"
    if not Path("/usr/share/wordpress/wp-settings.php").exists():
        return "Debian's wordpress package is not installed"
    missing = [
        b
        for b in ("mariadbd", "nginx", "php")
        if shutil.which(b) is None and not Path(f"/usr/sbin/{b}").exists()
    ]
    if missing:
        return f"not installed: {missing}"
    if os.geteuid() != 0:
        return "needs root (mariadbd and nginx run with their own configs)"
    return None


@pytest.mark.wordpress
@pytest.mark.slow
@pytest.mark.skipif(_wordpress_ready() is not None, reason=str(_wordpress_ready()))
def test_wordpress_check_end_to_end(tmp_path: Path) -> None:
    """migrator on a real WordPress: every check of `make wordpress-check` passes."""
    import wpcheck

    report = tmp_path / "report.json"
    status = wpcheck.main(["--report", str(report)])  # reuses data/wordpress
    result = json.loads(report.read_text())
    failed = {c["name"]: c["reasons"] for c in result["checks"] if not c["ok"]}
    assert failed == {}
    assert status == 0


def test_wp_compare_split_post_is_one_record(tmp_path: Path) -> None:
    """Sub-pages /2/ stored as rows of their own (of any type) fail 'posts once'."""
    url = f"{HOME}2015/03/01/toms-post/"
    db = _db(
        tmp_path / "m.db",
        [
            (1, url, "Tom’s post", "2015-03-01", "Alice Example", "post"),
            (2, f"{url}2/", "Tom’s post", None, None, "other"),
        ],
    )
    checks = _checks(wp_compare.compare(_truth(), db))
    assert checks["posts_once"]["reasons"] == {"split post: sub-pages stored as separate rows": 1}
    assert checks["nothing_else_post"]["ok"]
