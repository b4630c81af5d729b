"""End to end: serve the demo blog on 127.0.0.1, run the whole pipeline into a real
SQLite file, and compare every post in the database with its ground truth."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from migrator.config import Config
from migrator.demo import demo_site_dir, serve_site
from migrator.load import Store
from migrator.pipeline import run

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "fixtures" / "site_expected"
MANIFEST = json.loads((EXPECTED / "manifest.json").read_text())

pytestmark = pytest.mark.slow


def _fast_config() -> Config:
    # Our own loopback server: no politeness delay needed, one extraction worker.
    config = Config().with_fetch(delay=0.0, concurrency=8, timeout=5.0, deadline=10.0)
    return config.replace(extract=config.extract.__class__(workers=1))


def _ws(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """One full run of the demo blog; yields (db path, base URL, server request log)."""
    db = tmp_path_factory.mktemp("e2e") / "demo.db"
    with serve_site(demo_site_dir(), port=0) as server:
        with Store.open(db) as store:
            report = run(_fast_config(), store, start=server.base_url + "/")
        yield db, server.base_url, list(server.requests), report, server


def _query(db: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_pipeline_stores_every_post_exactly_once(migrated):
    db, base, _, report, _ = migrated
    posts = [p for p in MANIFEST["pages"] if p["type"] == "post"]
    rows = _query(db, "SELECT url FROM pages WHERE page_type = 'post'")
    assert sorted(r["url"] for r in rows) == sorted(base + p["path"] for p in posts)
    assert report.counts["failed"] == 0, report.failures


def test_pipeline_keeps_listings_out_of_pages(migrated):
    db, base, _, _, _ = migrated
    listings = {base + p["path"] for p in MANIFEST["pages"] if p["type"] == "listing"}
    stored = {r["url"] for r in _query(db, "SELECT url FROM pages")}
    assert not listings & stored
    states = _query(db, "SELECT url, page_type FROM crawl_state WHERE page_type = 'listing'")
    assert {r["url"] for r in states} >= listings - {base + "/"}


def test_pipeline_never_requests_robots_disallowed(migrated):
    _, _, requests, _, _ = migrated
    assert not [p for _, p in requests if p.startswith("/private/")]
    assert any(p == "/robots.txt" for _, p in requests)


def test_pipeline_downloads_each_page_once(migrated):
    _, _, requests, _, _ = migrated
    paths = [p.split("?")[0].split("#")[0] for m, p in requests if m == "GET"]
    html = [p for p in paths if p.endswith("/")]
    assert len(html) == len(set(html)), "a page was downloaded twice"


@pytest.mark.parametrize(
    "case", [p for p in MANIFEST["pages"] if p["expected"]], ids=lambda p: p["path"]
)
def test_pipeline_record_matches_ground_truth(migrated, case):
    db, base, _, _, _ = migrated
    expected = json.loads((EXPECTED / case["expected"]).read_text())
    (page,) = _query(db, "SELECT * FROM pages WHERE url = ?", base + expected["url"])
    assert page["title"] == expected["title"]
    assert (page["published_at"] or "")[:10] == (expected["published"] or "")
    assert page["page_type"] == expected["page_type"]

    crumbs = _query(db, "SELECT * FROM breadcrumbs WHERE page_id = ? ORDER BY position", page["id"])
    assert [(c["label"], c["url"]) for c in crumbs] == [
        (c["label"], base + c["url"] if c["url"] else None) for c in expected["breadcrumbs"]
    ]
    sections = _query(db, "SELECT * FROM sections WHERE page_id = ? ORDER BY position", page["id"])
    assert [(s["level"], s["heading"], _ws(s["text"])) for s in sections] == [
        (s["level"], s["heading"], _ws(s["text"])) for s in expected["sections"]
    ]
    links = _query(
        db, "SELECT * FROM sidebar_links WHERE page_id = ? ORDER BY position", page["id"]
    )
    assert [(s["group_name"], s["label"], s["url"], s["published_at"]) for s in links] == [
        (s["group"], s["label"], base + s["url"], s["date"]) for s in expected["sidebar_links"]
    ]
    body = _ws(page["body_markdown"]) + " " + _ws(page["body_text"])
    for phrase in expected["body_must_contain"]:
        assert _ws(phrase) in body
    for phrase in expected["body_must_not_contain"]:
        assert _ws(phrase) not in body


def test_pipeline_second_run_changes_nothing(migrated):
    """Running again over the same database gives the same rows, no duplicates."""
    db, base, _, _, _ = migrated
    tables = ("pages", "breadcrumbs", "sections", "sidebar_links", "raw_pages")
    before = {t: _query(db, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in tables}
    with Store.open(db) as store:
        report = run(_fast_config(), store, start=base + "/")
    after = {t: _query(db, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in tables}
    assert after == before
    assert report.counts["new"] == 0


def test_pipeline_records_the_run(migrated):
    db, _, _, report, _ = migrated
    from migrator import __version__

    (row,) = _query(db, "SELECT * FROM runs WHERE id = ?", report.run_id)
    posts_and_pages = sum(1 for p in MANIFEST["pages"] if p["type"] in {"post", "page"})
    assert (row["mode"], row["status"]) == ("run", "ok")
    assert row["new"] == posts_and_pages
    assert row["failed"] == 0
    assert row["migrator_version"] == __version__
    assert len(row["config_hash"]) == 16
    assert row["finished_at"] >= row["started_at"]


def test_pipeline_full_text_search_finds_a_post(migrated):
    db, base, _, _, _ = migrated
    case = next(p for p in MANIFEST["pages"] if p["type"] == "post")
    expected = json.loads((EXPECTED / case["expected"]).read_text())
    word = max(re.findall(r"[A-Za-z]{6,}", expected["title"]), key=len)
    rows = _query(
        db,
        "SELECT p.url FROM pages_fts JOIN pages p ON p.id = pages_fts.rowid"
        " WHERE pages_fts MATCH ?",
        word,
    )
    assert base + expected["url"] in {r["url"] for r in rows}


def test_extract_command_rewrites_only_changed_records(migrated, tmp_path):
    """`migrator extract` re-runs offline; a config change rewrites what it changes."""
    import shutil

    from click.testing import CliRunner

    from migrator.cli import cli

    db, _, _, _, _ = migrated
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    runner = CliRunner()
    result = runner.invoke(cli, ["extract", "--db", str(copy), "--json", "-q"])
    assert result.exit_code == 0, result.stderr
    counts = json.loads(result.stdout)["counts"]
    posts_and_pages = sum(1 for p in MANIFEST["pages"] if p["type"] in {"post", "page"})
    assert counts.get("changed", 0) == 0
    assert counts["unchanged"] == posts_and_pages

    config = tmp_path / "site.toml"
    config.write_text('[extract.selectors]\ntitle = "title"\n')
    result = runner.invoke(
        cli, ["extract", "--db", str(copy), "--config", str(config), "--json", "-q"]
    )
    assert result.exit_code == 0, result.stderr
    counts = json.loads(result.stdout)["counts"]
    assert counts["changed"] == posts_and_pages
    versions = _query(copy, "SELECT count(*) AS n FROM page_versions")[0]["n"]
    assert versions == posts_and_pages
