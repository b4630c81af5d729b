"""A run stores pages with their links only until the site model exists, then extracts
each of them once with it (``crawl_learning.CrawlLearner.deferring``, ``extract.page_links``)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from legacy_sites import movable_type
from migrator.config import ExtractConfig
from migrator.extract import extract_page, page_links
from site_runs import MIGRATOR, migrate_folder, raw_page

FIXTURES = Path(__file__).parent / "fixtures" / "pages"


def test_page_links_equal_the_extracted_links_on_every_fixture_page():
    """What a deferred page's crawl follows is what its extraction would give."""
    pages = sorted(FIXTURES.glob("*.html"))
    assert pages, "the fixture pages exist"
    for path in pages:
        raw = raw_page(f"https://blog.example.com/{path.stem}/", path.read_bytes())
        assert page_links(raw) == extract_page(raw, ExtractConfig()).links, path.name


def test_page_links_resolve_against_base_href_and_keep_first_order():
    html = (
        '<html><head><base href="https://cdn.example.com/x/"></head><body>'
        '<a href="b">B</a><a href="a">A</a><a href="b">B again</a>'
        '<a href="mailto:me@example.com">mail</a></body></html>'
    )
    raw = raw_page("https://blog.example.com/post/", html)
    links = page_links(raw)
    assert links[:2] == ("https://cdn.example.com/x/b", "https://cdn.example.com/x/a")
    assert links == extract_page(raw, ExtractConfig()).links


def test_page_links_of_a_page_extraction_refuses_are_none():
    raw = raw_page("https://blog.example.com/file.pdf", b"%PDF-1.4 <a href='/x'>x</a>")
    assert page_links(raw) == ()


@pytest.mark.slow
def test_run_extracts_each_page_once_with_the_model(tmp_path):
    """A small blog: every page waits for the model learned when the frontier runs dry,
    then is extracted once with it; nothing is re-extracted and an offline extract
    afterwards changes no record."""
    site = movable_type(tmp_path / "www")
    db = tmp_path / "site.db"
    done = migrate_folder(site.root, db)
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(db) as con:
        models = con.execute("SELECT fingerprint FROM site_models").fetchall()
        counts = json.loads(con.execute("SELECT counts FROM runs").fetchone()[0])
        tags = con.execute(
            "SELECT r.url, coalesce(p.extractor_version, c.extracted_with) FROM raw_pages AS r"
            " LEFT JOIN pages AS p ON p.url = r.url LEFT JOIN crawl_state AS c ON c.url = r.url"
            " WHERE r.content_type LIKE 'text/html%'"
        ).fetchall()
        posts = con.execute("SELECT count(*) FROM pages WHERE page_type = 'post'").fetchone()[0]
        stored = con.execute("SELECT count(*) FROM pages").fetchone()[0]
    assert len(models) == 1, "one model, learned once"
    assert counts.get("reextracted", 0) == 0
    assert posts == len(site.posts)
    assert counts["new"] == stored, "each page counted once, as new"
    untagged = [url for url, tag in tags if not tag or "+" not in tag]
    assert not untagged, f"pages extracted without the model: {untagged[:5]}"
    again = subprocess.run(
        [MIGRATOR, "extract", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    report = json.loads(again.stdout)
    assert report["counts"].get("changed", 0) == 0
    assert report["counts"].get("new", 0) == 0
