"""Exit codes a cron user can trust: a deleted post or a dead link does not fail every
night's sync, ``runs.status`` says what the exit status says, ``-q`` still explains a
non-zero exit in one line, ``extract`` keeps removals, and a server without
validators costs no extraction when nothing changed."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from migrator.cli import cli
from migrator.demo import demo_site_dir
from servers import Reply, TestServer, page

pytestmark = pytest.mark.slow

QUICK = ["--concurrency", "4", "--delay", "0"]
BODY = "".join(f"<p>Paragraph {i} of a perfectly ordinary post.</p>" for i in range(12))


def _query(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def _config(tmp_path: Path) -> str:
    config = tmp_path / "site.toml"
    config.write_text("[extract]\nworkers = 1\n")
    return str(config)


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _counts(result: Result) -> dict[str, int]:
    assert result.stdout, result.stderr
    return dict(json.loads(result.stdout)["counts"])


def test_sync_deleted_post_is_not_a_failure_on_any_night(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(demo_site_dir(), site)
    db = str(tmp_path / "m.db")
    config = _config(tmp_path)
    with TestServer(site) as server:
        first = _cli("run", server.url("/"), "--db", db, "--config", config, *QUICK, "-q")
        assert first.exit_code == 0, first.stderr
        post = "/blog/sleep/my-month-tracking-sleep-pressure/"
        shutil.rmtree(site / post.strip("/"))
        nights = [
            _cli("sync", "--db", db, "--config", config, *QUICK, "--json", "-q") for _ in range(2)
        ]
        url = server.url(post)
    for night in nights:
        assert night.exit_code == 0, night.stderr
        assert night.stderr == ""
    assert _counts(nights[0])["removed"] == 1
    assert _counts(nights[1])["already_removed"] == 1
    assert all(_counts(n).get("failed", 0) == 0 for n in nights)
    assert _query(db, "SELECT status FROM runs ORDER BY id") == [("ok",)] * 3
    removed = _query(db, "SELECT url FROM pages WHERE removed_at IS NOT NULL")
    assert removed == [(url,)]

    again = _cli("extract", "--db", db, "--config", config, "-q")
    assert again.exit_code == 0, again.stderr
    assert _query(db, "SELECT url FROM pages WHERE removed_at IS NOT NULL") == removed


def test_sync_dead_link_and_failure_exit_codes_match_runs_status(tmp_path):
    """A dead link to a never-stored page is counted, not failed; a 500 fails the sync
    (exit 3), the run row says failed, and -q prints one line saying why."""
    db = str(tmp_path / "m.db")
    config = _config(tmp_path)
    with TestServer() as server:
        server.script("/", Reply(body=page("Home", "/a/", "/b/", "/nowhere/", body=BODY)))
        server.script("/a/", Reply(body=page("Post A", "/", body=BODY)))
        server.script("/b/", Reply(body=page("Post B", "/", body=BODY)))
        run = _cli("run", server.url("/"), "--db", db, "--config", config, *QUICK, "--json")
        assert run.exit_code == 0, run.stderr
        assert _counts(run)["dead_links"] == 1
        assert _counts(run).get("failed", 0) == 0

        clean = _cli("sync", "--db", db, "--config", config, *QUICK, "-q")
        server.script("/b/", Reply(status=500, body=b"down"))
        broken = _cli("sync", "--db", db, "--config", config, *QUICK, "-q")
    assert clean.exit_code == 0, clean.stderr
    assert clean.stderr == ""
    assert broken.exit_code == 3
    lines = broken.stderr.strip().splitlines()
    assert len(lines) == 1, broken.stderr
    assert "1 pages failed" in lines[0]
    assert server.url("/b/") in lines[0]
    assert _query(db, "SELECT status FROM runs ORDER BY id") == [("ok",), ("ok",), ("failed",)]


def test_sync_without_validators_skips_unchanged_bodies(tmp_path):
    """Scripted replies carry no ETag or Last-Modified (like WordPress posts)."""
    db = str(tmp_path / "m.db")
    config = _config(tmp_path)
    with TestServer() as server:
        server.script("/", Reply(body=page("Home", "/a/", "/b/", body=BODY)))
        server.script("/a/", Reply(body=page("Post A", "/", body=BODY)))
        server.script("/b/", Reply(body=page("Post B", "/", body=BODY)))
        run = _cli("run", server.url("/"), "--db", db, "--config", config, *QUICK, "-q")
        assert run.exit_code == 0, run.stderr
        same = _cli("sync", "--db", db, "--config", config, *QUICK, "--json")
        server.script("/b/", Reply(body=page("Post B", "/", body=BODY + "<p>An update.</p>")))
        edited = _cli("sync", "--db", db, "--config", config, *QUICK, "--json")
    assert same.exit_code == 0, same.stderr
    counts = _counts(same)
    assert counts["no_validators"] == 3
    assert counts["same_body"] == 3
    assert counts.get("fetched", 0) == 0
    assert counts.get("changed", 0) + counts.get("new", 0) == 0
    assert edited.exit_code == 0, edited.stderr
    assert _counts(edited)["changed"] == 1
    assert _counts(edited)["same_body"] == 2
    versions = _query(db, "SELECT p.url FROM page_versions v JOIN pages p ON p.id = v.page_id")
    assert versions == [(server.url("/b/"),)]
