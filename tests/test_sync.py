"""Re-sync against a real local server: conditional requests, changes, removals,
history, and the mass-removal guard."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from migrator.config import Config, ScopeConfig, SyncConfig
from migrator.demo import demo_site_dir
from migrator.errors import RunAborted
from migrator.load import Store
from migrator.pipeline import run
from servers import Reply, TestServer, calendar_trap

EXPECTED = Path(__file__).resolve().parent / "fixtures" / "site_expected"
MANIFEST = json.loads((EXPECTED / "manifest.json").read_text())
POSTS = [p["path"] for p in MANIFEST["pages"] if p["type"] == "post"]

pytestmark = pytest.mark.slow


def _config(**sync: object) -> Config:
    config = Config().with_fetch(
        delay=0.0, concurrency=8, timeout=5.0, deadline=10.0, max_attempts=2, backoff=0.01
    )
    return config.replace(
        extract=config.extract.__class__(workers=1),
        sync=SyncConfig(**sync) if sync else config.sync,
    )


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(demo_site_dir(), root)
    return root


@pytest.fixture
def migrated(site, tmp_path):
    """A finished first run over a private copy of the demo blog, server still up."""
    db = tmp_path / "m.db"
    with TestServer(root=site) as server:
        with Store.open(db) as store:
            report = run(_config(), store, start=server.url("/"))
        assert report.counts["failed"] == 0, report.failures
        server.clear_log()
        yield db, server, site


def _count(db: Path, sql: str, *args: object) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql, args).fetchone()[0])


def _edit_post(site: Path, path: str, sentence: str) -> None:
    file = site / path.strip("/") / "index.html"
    html = file.read_text(encoding="utf-8")
    html, n = re.subn(r"(<h2[^>]*>)", rf"<p>{sentence}</p>\1", html, count=1)
    assert n == 1
    file.write_text(html, encoding="utf-8")


@pytest.mark.parametrize("processes", [1, 2], ids=["one-process", "fetch-helper"])
def test_sync_nothing_changed_is_all_304(migrated, processes):
    db, server, _ = migrated
    versions = _count(db, "SELECT count(*) FROM page_versions")
    with Store.open(db) as store:
        report = run(_config(fetch_processes=processes), store, mode="sync")
    gets = [r for r in server.requests if r.method == "GET" and r.path.endswith("/")]
    assert gets, "sync made no request"
    posts = set(POSTS)
    post_gets = [r for r in gets if r.path in posts]
    assert len(post_gets) == len(POSTS)
    assert all("if-none-match" in r.headers for r in post_gets)
    assert report.counts["changed"] == 0
    assert report.counts["new"] == 0
    assert report.counts["not_modified"] >= len(POSTS)
    assert report.counts.get("fetched", 0) == 0, "a 304 must not be downloaded again"
    assert _count(db, "SELECT count(*) FROM page_versions") == versions


@pytest.mark.parametrize("processes", [1, 2], ids=["one-process", "fetch-helper"])
def test_sync_reports_changed_removed_new(migrated, processes):
    db, server, site = migrated
    changed, removed = POSTS[:3], POSTS[3:5]
    for i, path in enumerate(changed):
        _edit_post(site, path, f"An update written for the sync test, number {i}.")
    for path in removed:
        shutil.rmtree(site / path.strip("/"))
    # A new post: a copy of an existing one under a new URL, listed in the sitemap.
    new_path = "/blog/sleep/a-brand-new-post/"
    shutil.copytree(site / POSTS[10].strip("/"), site / new_path.strip("/"))
    copy = site / new_path.strip("/") / "index.html"  # its own rel=canonical: not a duplicate
    copy.write_text(copy.read_text(encoding="utf-8").replace(POSTS[10], new_path), "utf-8")
    _edit_post(site, new_path, "This post did not exist at the first run.")
    sitemap = site / "sitemap.xml"
    sitemap.write_text(
        sitemap.read_text().replace(
            "</urlset>", f"<url><loc>http://127.0.0.1:8000{new_path}</loc></url></urlset>"
        )
    )
    with Store.open(db) as store:
        report = run(_config(fetch_processes=processes), store, mode="sync")
    assert (report.counts["changed"], report.counts["removed"], report.counts["new"]) == (3, 2, 1)
    base = server.base_url
    for path in changed:
        assert (
            _count(
                db,
                "SELECT count(*) FROM page_versions v JOIN pages p ON p.id = v.page_id"
                " WHERE p.url = ?",
                base + path,
            )
            >= 1
        )
    for path in removed:
        assert (
            _count(
                db,
                "SELECT count(*) FROM pages WHERE url = ? AND removed_at IS NOT NULL",
                base + path,
            )
            == 1
        )
    assert _count(db, "SELECT count(*) FROM pages WHERE url = ?", base + new_path) == 1

    # A removed page that comes back is alive again.
    shutil.copytree(site / POSTS[10].strip("/"), site / removed[0].strip("/"))
    with Store.open(db) as store:
        run(_config(fetch_processes=processes), store, mode="sync")
    assert (
        _count(
            db, "SELECT count(*) FROM pages WHERE url = ? AND removed_at IS NULL", base + removed[0]
        )
        == 1
    )


def test_sync_server_error_is_not_a_removal(migrated):
    db, server, _ = migrated
    server.script(POSTS[0], Reply(status=503, body=b"down"))
    with Store.open(db) as store:
        report = run(_config(), store, mode="sync")
    assert report.counts["removed"] == 0
    assert report.counts["failed"] >= 1
    assert _count(db, "SELECT count(*) FROM pages WHERE removed_at IS NOT NULL") == 0
    assert _count(db, "SELECT count(*) FROM errors WHERE url = ?", server.url(POSTS[0])) >= 1


def test_sync_mass_removal_guard_marks_nothing(migrated):
    db, _, site = migrated
    for path in POSTS[: len(POSTS) // 2]:
        shutil.rmtree(site / path.strip("/"))
    with Store.open(db) as store, pytest.raises(RunAborted, match="max_removed_share"):
        run(_config(), store, mode="sync")
    assert _count(db, "SELECT count(*) FROM pages WHERE removed_at IS NOT NULL") == 0
    assert _count(db, "SELECT count(*) FROM runs WHERE status = 'aborted'") == 1


def test_sync_trust_lastmod_skips_unmoved_pages(migrated):
    """With trust_lastmod, only URLs whose sitemap lastmod moved (or that left the
    sitemap) are requested at all."""
    db, server, site = migrated
    moved, dropped = POSTS[0], POSTS[1]
    sitemap = site / "sitemap.xml"
    xml = sitemap.read_text()
    entry = re.search(
        rf"<url>\s*<loc>[^<]*{re.escape(moved)}</loc>\s*<lastmod>([^<]+)</lastmod>", xml
    )
    assert entry is not None
    xml = xml.replace(entry.group(0), entry.group(0).replace(entry.group(1), "2030-01-01"))
    xml = re.sub(rf"<url>\s*<loc>[^<]*{re.escape(dropped)}</loc>.*?</url>", "", xml, flags=re.S)
    sitemap.write_text(xml)
    with Store.open(db) as store:
        report = run(_config(trust_lastmod=True), store, mode="sync")
    requested = {r.path for r in server.requests if r.method == "GET"}
    post_requests = requested & set(POSTS)
    assert post_requests == {moved, dropped}
    assert report.counts["changed"] == 0


def test_sync_keeps_trap_budgets_across_runs(tmp_path):
    """A crawler trap's per-pattern budget spans runs: a sync admits no new trap URLs."""
    db = tmp_path / "trap.db"
    config = _config().replace(scope=ScopeConfig(max_urls_per_pattern=8))
    with TestServer() as server:
        server.route("/calendar/", calendar_trap)
        with Store.open(db) as store:
            run(config, store, start=server.url("/calendar/2024/01/"))
        first = _count(db, "SELECT count(*) FROM crawl_state WHERE url LIKE '%/calendar/%'")
        with Store.open(db) as store:
            run(config, store, mode="sync")
        second = _count(db, "SELECT count(*) FROM crawl_state WHERE url LIKE '%/calendar/%'")
    assert first <= 9  # the start page plus 8 admitted by pattern
    assert second == first
