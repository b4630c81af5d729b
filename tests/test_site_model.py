"""The site model (issue #10): learned from whole legacy blogs, applied to every page.

Each site in ``legacy_sites`` is served on 127.0.0.1 and migrated with the default
settings through the real command line; every post must come out once, typed ``post``,
with its headline and date, and nothing else typed ``post``. The unit tests below pin
what the learner takes from a site and what extraction does with it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from legacy_sites import LegacySite, club_cms, movable_type, wordpress_ja, wordpress_pl
from migrator.config import ExtractConfig
from migrator.extract import extract_page
from migrator.extract.blocks import furniture_nodes
from migrator.extract.site import learn_site
from migrator.models import RawPage, SiteModel
from site_runs import migrate_folder, raw_page


def _raw(url: str, html: str, encoding: str = "utf-8") -> RawPage:
    return raw_page(url, html, encoding)


def _pages(site: LegacySite, base: str) -> list[tuple[str, str]]:
    pages = []
    for path in [*site.posts, *sorted(site.others)]:
        file = site.root / path.lstrip("/")
        if path.endswith("/"):
            file = file / "index.html"
        pages.append((base + path, file.read_bytes().decode(site.encoding)))
    return pages


def _migrate(site: LegacySite, tmp_path: Path) -> sqlite3.Connection:
    db = tmp_path / "site.db"
    done = migrate_folder(site.root, db)
    assert done.returncode == 0, done.stderr[-2000:]
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    return con


def _check_site(site: LegacySite, con: sqlite3.Connection) -> None:
    rows = {
        r["path"]: r
        for r in con.execute(
            "SELECT substr(url, instr(substr(url, 8), '/') + 7) AS path, title, published_at,"
            " page_type FROM pages"
        )
    }
    typed_post = {path for path, row in rows.items() if row["page_type"] == "post"}
    assert typed_post == set(site.posts), "posts typed post, nothing else"
    for path, (title, published) in site.posts.items():
        row = rows[path]
        assert (row["title"], (row["published_at"] or "")[:10]) == (title, published), path
    model = con.execute("SELECT title_selector, date_selector FROM site_models").fetchall()
    assert model, "a site model was learned and stored"


@pytest.mark.slow
def test_movable_type_blog(tmp_path):
    """Blog name in h1 on every page, headline in h3, 'next entry' dates, archives."""
    site = movable_type(tmp_path / "www")
    con = _migrate(site, tmp_path)
    _check_site(site, con)
    # Monthly archives hold several entries: listings, not posts.
    archive = con.execute(
        "SELECT page_type FROM crawl_state WHERE url LIKE '%/archives/2005/03/'"
    ).fetchone()
    assert archive["page_type"] == "listing"


@pytest.mark.slow
def test_polish_wordpress_2_blog(tmp_path):
    """h1 blog name, h2 headline, '19.07.2009 r.' dates, a footer block with a fixed date,
    furniture headings in every post, tag pages with one or two posts."""
    site = wordpress_pl(tmp_path / "www")
    con = _migrate(site, tmp_path)
    _check_site(site, con)
    headings = {r[0] for r in con.execute("SELECT heading FROM sections")}
    assert not headings & {"Zobacz także", "Komentarze do wpisu", "Mini-blog"}
    bodies = [r[0] for r in con.execute("SELECT body_text FROM pages WHERE page_type = 'post'")]
    assert not any("Wróciliśmy z gór" in body for body in bodies), "footer block is furniture"


@pytest.mark.slow
def test_japanese_wordpress_blog(tmp_path):
    """'8月 13, 2020' dates, short headlines, day archives with one post, and posts
    reachable only through a prev/next chain deeper than the old depth limit (50)."""
    site = wordpress_ja(tmp_path / "www")
    con = _migrate(site, tmp_path)
    _check_site(site, con)
    limited = con.execute("SELECT count(*) FROM runs WHERE status != 'ok'").fetchone()[0]
    assert limited == 0
    # The post's own thumbnail is its featured image; the site's og:image card on every
    # page is nobody's, nor is the author's avatar in the header.
    featured = {
        r["path"]: json.loads(r["featured_image"]) if r["featured_image"] else None
        for r in con.execute(
            "SELECT substr(url, instr(substr(url, 8), '/') + 7) AS path, featured_image"
            " FROM pages WHERE page_type = 'post'"
        )
    }
    for index, path in enumerate(site.posts):
        image = featured[path]
        if index % 3 == 0:
            assert image is not None, path
            assert image["src"].endswith(path.strip("/").replace("/", "-") + ".jpg")
            assert image["alt"] == site.posts[path][0] + "の写真"
        else:
            assert image is None, (path, image)
    # The post split over three URLs is one record with the sections of all its pages.
    split = next(p for p in site.others if p.endswith("/2/"))[: -len("2/")]
    row = con.execute("SELECT id FROM pages WHERE url LIKE ?", (f"%{split}",)).fetchone()
    headings = [
        r[0]
        for r in con.execute(
            "SELECT heading FROM sections WHERE page_id = ? ORDER BY position", (row["id"],)
        )
    ]
    assert headings == ["第2部", "第3部"]
    parts = con.execute(
        "SELECT url FROM aliases WHERE kind = 'part' AND target_url LIKE ?", (f"%{split}",)
    ).fetchall()
    assert len(parts) == 2
    assert not con.execute(
        "SELECT 1 FROM pages WHERE url LIKE ? OR url LIKE ?", (f"%{split}2/", f"%{split}3/")
    ).fetchall()


@pytest.mark.slow
def test_club_cms_on_a_bootstrap_grid(tmp_path):
    """The date element is the only place a post shows its date: event pages (start and
    end dates) and static pages (a dated sidebar) are not posts; the narrow grid column
    is the sidebar, without its login form, menu links and type labels."""
    site = club_cms(tmp_path / "www")
    con = _migrate(site, tmp_path)
    _check_site(site, con)
    model = con.execute("SELECT model_json FROM site_models ORDER BY id DESC").fetchone()[0]
    assert '"date_exclusive": true' in model
    undated = con.execute(
        "SELECT count(*) FROM pages WHERE url LIKE '%/party/_/' AND published_at IS NULL"
    ).fetchone()[0]
    assert undated == 3, "an event's start date is not its publication date"
    post = con.execute("SELECT id FROM pages WHERE url LIKE '%/blog/3/'").fetchone()["id"]
    links = con.execute(
        "SELECT group_name, url FROM sidebar_links WHERE page_id = ? ORDER BY position", (post,)
    ).fetchall()
    assert [tuple(r) for r in links] == [
        ("Новые материалы", f"{_base(con)}/materials/{70 + n}") for n in range(5)
    ]


def _base(con: sqlite3.Connection) -> str:
    url = con.execute("SELECT url FROM pages LIMIT 1").fetchone()[0]
    return url[: url.index("/", 8)]


# ------------------------------------------------------------------------- units


@pytest.fixture(scope="module")
def mt_model(tmp_path_factory) -> tuple[LegacySite, SiteModel]:
    site = movable_type(tmp_path_factory.mktemp("mt"))
    model = learn_site(_pages(site, "http://blog.example"))
    assert model is not None
    return site, model


def test_learns_headline_and_date_elements(mt_model):
    _, model = mt_model
    assert model.title_selector == "h3.entry-header"
    assert model.date_selector == "h2.date-header"
    assert "café notes" in model.site_names
    assert model.cms == "movabletype"


def test_model_fixes_what_a_single_page_gets_wrong(mt_model):
    site, model = mt_model
    path, (title, published) = next(iter(site.posts.items()))
    html = (site.root / path.lstrip("/")).read_bytes().decode("iso-8859-1")
    raw = _raw("http://blog.example" + path, html, "iso-8859-1")
    alone = extract_page(raw, ExtractConfig())
    learned = extract_page(raw, ExtractConfig(), model)
    assert alone.title != title  # the blog's name or the <title> part wins alone
    assert (learned.title, str(learned.published)) == (title, published)
    assert dict(learned.sources)["title"] == "site"
    assert "Powered by Movable Type" not in learned.body_text
    assert learned.extractor_version.startswith("5+")
    assert learned.extractor_version.rsplit(":", 1)[1] in {
        r.fingerprint for r in (model, *model.by_template)
    }


def test_archive_with_several_headlines_is_a_listing(mt_model):
    site, model = mt_model
    path = next(p for p in site.others if p.startswith("/archives/"))
    html = (site.root / path.lstrip("/") / "index.html").read_bytes().decode("iso-8859-1")
    page = extract_page(
        _raw("http://blog.example" + path, html, "iso-8859-1"), ExtractConfig(), model
    )
    assert page.page_type == "listing"


def test_repeated_heading_that_opens_a_paragraph_is_kept(tmp_path):
    """'Final Thoughts' in every post is a section; 'Related posts' before a list is not."""
    pages = []
    for index in range(12):
        text = f"Paragraph number {index} with enough distinct words to be a real paragraph."
        pages.append(
            (
                f"http://blog.example/post-{index}/",
                f"<html><head><title>Post {index} | Blog</title></head><body>"
                f'<h1 class="site">Blog</h1><article><h1 class="entry-title">Post {index}</h1>'
                f'<div class="entry-content"><p>{text} Intro.</p><h2>Final Thoughts</h2>'
                f"<p>{text} Closing.</p><h3>Related posts</h3><ul><li>x</li></ul></div>"
                "</article></body></html>",
            )
        )
    model = learn_site(pages)
    assert model is not None
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(pages[0][1])
    gone = {n.text(deep=True) for n in furniture_nodes(tree, model)}
    assert "Final Thoughts" not in gone
    assert "Related posts" in gone
    assert "Blog" in gone


def test_numeric_date_order_learned_from_the_site():
    pages = [
        (
            f"http://blog.example/p{d}/",
            f"<html><head><title>P{d} - Site</title></head><body><div class='post'>"
            f"<h2 class='title'>P{d}</h2><span class='when'>{d:02d}/03/2011</span>"
            f"<p>Body text {d} that is long enough to count as a paragraph here.</p>"
            "</div></body></html>",
        )
        for d in range(1, 20)
    ]
    model = learn_site(pages)
    assert model is not None
    assert model.date_order == "DMY"
    assert model.date_selector == "span.when"
    page = extract_page(_raw(*pages[4]), ExtractConfig(), model)
    assert str(page.published) == "2011-03-05"


def test_constant_og_title_is_the_site_not_the_headline():
    pages = [
        (
            f"http://club.example/blog/{i}",
            '<html><head><meta property="og:title" content="походы и не только!">'
            f"<title>Новость {i} | Турклуб</title></head><body><div class='col'>"
            f"<h2>Новость {i}<br><small>Опубликовано: {i + 1:02d}.02.2017</small></h2>"
            f"<div class='body'><p>Текст новости номер {i}, достаточно длинный.</p></div>"
            "</div></body></html>",
        )
        for i in range(10)
    ]
    model = learn_site(pages)
    assert model is not None
    page = extract_page(_raw(*pages[3]), ExtractConfig(), model)
    assert page.title == "Новость 3"
    assert str(page.published) == "2017-02-04"


def test_model_round_trips_as_json(mt_model):
    _, model = mt_model
    again = SiteModel.from_json(model.to_json())
    assert again == model
    assert again is not None
    assert again.fingerprint == model.fingerprint
    data = json.loads(model.to_json())
    assert data["version"] == 2
    assert SiteModel.from_json('{"version": 99}') is None
    assert SiteModel.from_json("not json") is None


def test_too_few_pages_learn_nothing():
    assert learn_site([("http://a.example/", "<html><body><h1>x</h1></body></html>")]) is None


def _blog_pages(count: int = 12) -> list[tuple[str, str]]:
    pages = []
    for index in range(count):
        text = f"Paragraph number {index} with enough distinct words to be a real paragraph."
        pages.append(
            (
                f"http://blog.example/post-{index}/",
                f"<html><head><title>Post {index} | Blog</title></head><body>"
                f'<h1 class="site">Blog</h1><article><h1 class="entry-title">Post {index}</h1>'
                f'<p class="meta">March {index + 1}, 2011</p>'
                f'<div class="entry-content"><p>{text} Intro.</p><h2>Final Thoughts</h2>'
                f"<p>{text} Closing.</p></div></article>"
                '<div class="widget"><h3>Related posts</h3><ul><li>x</li></ul></div>'
                "</body></html>",
            )
        )
    return pages


def test_model_changes_page_only_when_the_record_could_change():
    """A page re-checked after a relearn is only re-tagged when the record is the same."""
    from dataclasses import replace

    from migrator.extract import model_changes_page

    pages = _blog_pages()
    model = learn_site(pages)
    assert model is not None
    assert model.furniture
    raw = _raw(*pages[0])
    unseen = replace(
        model, furniture=model.furniture | {12345}, site_names=model.site_names | {"never shown"}
    )
    assert not model_changes_page(raw, model, model)
    assert not model_changes_page(raw, model, unseen)
    record = extract_page(raw, ExtractConfig(), model).to_record()
    again = extract_page(raw, ExtractConfig(), unseen).to_record()
    record.pop("extractor_version", None)
    again.pop("extractor_version", None)
    assert again == record
    # Furniture that is on the page, another headline element, a name the title shows.
    assert model_changes_page(raw, model, replace(model, furniture=frozenset()))
    assert model_changes_page(raw, model, replace(model, title_selector="h2"))
    assert model_changes_page(raw, model, replace(model, site_names=model.site_names | {"post 0"}))
    # Not a page at all: doubt means extracting it again.
    assert model_changes_page(_raw("http://blog.example/x/", ""), model, unseen)


def test_add_templates_keeps_the_rules_pages_were_extracted_with():
    from dataclasses import replace

    from migrator.learn import add_templates

    base = learn_site(_blog_pages())
    assert base is not None
    old = replace(base, by_template=(replace(base, signature="aaaa", title_selector="h1"),))
    learned = replace(
        base,
        furniture=frozenset({1}),
        by_template=(
            replace(base, signature="aaaa", title_selector="h2"),
            replace(base, signature="bbbb", title_selector="h3"),
        ),
    )
    merged = add_templates(old, learned)
    assert merged.fingerprint == old.fingerprint  # the site-wide rules stay
    assert merged.for_template("aaaa") == old.for_template("aaaa")
    assert merged.for_template("bbbb").title_selector == "h3"
    assert add_templates(merged, learned) == merged
