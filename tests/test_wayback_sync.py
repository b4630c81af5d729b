"""`sync` of a migration read from the Wayback Machine (#12): it asks the CDX again and
reads only captures newer than the stored ones; changes go to history like a live
re-sync. A scripted Wayback (CDX and id_ replays) on 127.0.0.1 counts every replay."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrator.cli import cli
from servers import Reply, Request, TestServer, page

# The CLI's -q sets structlog's level for the whole process (see conftest).
pytestmark = pytest.mark.usefixtures("restore_logging")


_SITE = "http://old.example/"
_V1 = page("An old post", body="<p>" + "The first words of an old post. " * 30 + "</p>")
_V2 = page("An old post", body="<p>" + "The post as it was rewritten later. " * 30 + "</p>")
_NEW = page("A new post", body="<p>" + "A post written after the first crawl. " * 30 + "</p>")


class Wayback:
    """A CDX (JSON lines, like pywb) and id_ replays over a mutable set of captures."""

    def __init__(self) -> None:
        self.captures: dict[tuple[str, str], bytes] = {}
        self.statuses: dict[tuple[str, str], int] = {}  # captures that are not 200

    def cdx(self, _request: Request) -> Reply:
        lines = [
            json.dumps(
                {
                    "timestamp": ts,
                    "url": url,
                    "mime": "text/html",
                    "status": str(self.statuses.get((ts, url), 200)),
                }
            )
            for ts, url in sorted(self.captures)
        ]
        return Reply(body="\n".join(lines).encode(), content_type="text/x-ndjson")

    def replay(self, request: Request) -> Reply:
        ts, _, url = request.path.removeprefix("/coll/").partition("id_/")
        body = self.captures.get((ts, url))
        if body is None:
            return Reply(status=404, body=b"not archived")
        return Reply(body=body)


def _cli(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["-q", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _replays(server: TestServer, ts: str, url: str) -> int:
    return server.count(f"/coll/{ts}id_/{url}")


def test_wayback_sync_reads_only_newer_captures_and_keeps_history(tmp_path):
    db = tmp_path / "w.db"
    wayback = Wayback()
    wayback.captures[("20150101000000", _SITE)] = page("Home", "/post/")
    wayback.captures[("20150101000000", _SITE + "post/")] = _V1
    with TestServer() as server:
        server.route("/coll/cdx", wayback.cdx)
        server.route("/coll/", wayback.replay)
        coll = server.url("/coll/")
        first = _cli("run", "--from-wayback", _SITE, "--wayback-server", coll, "--db", str(db))
        assert first["counts"].get("failed", 0) == 0

        # Nothing newer: the sync reads the CDX, and not one page.
        before = len(server.requests_for("/coll/cdx"))
        same = _cli("sync", "--db", str(db))
        assert len(server.requests_for("/coll/cdx")) == before + 1
        assert same["counts"].get("changed", 0) == 0
        assert same["counts"].get("fetched", 0) == 0
        assert _replays(server, "20150101000000", _SITE + "post/") == 1
        assert _replays(server, "20150101000000", _SITE) == 1

        # A newer capture of the post and a new page: only those two are read.
        wayback.captures[("20160101000000", _SITE + "post/")] = _V2
        wayback.captures[("20160101000000", _SITE + "new/")] = _NEW
        later = _cli("sync", "--db", str(db))
        assert later["counts"]["changed"] == 1
        assert later["counts"]["new"] == 1
        assert later["counts"].get("failed", 0) == 0
        assert _replays(server, "20160101000000", _SITE + "post/") == 1
        assert _replays(server, "20160101000000", _SITE + "new/") == 1
        assert _replays(server, "20150101000000", _SITE + "post/") == 1
        assert _replays(server, "20150101000000", _SITE) == 1

    with sqlite3.connect(db) as conn:
        source = conn.execute(
            "SELECT source FROM raw_pages WHERE url = ?", (_SITE + "post/",)
        ).fetchone()[0]
        versions = conn.execute(
            "SELECT count(*) FROM page_versions v JOIN pages p ON p.id = v.page_id WHERE p.url = ?",
            (_SITE + "post/",),
        ).fetchone()[0]
        body = conn.execute(
            "SELECT body_text FROM pages WHERE url = ?", (_SITE + "post/",)
        ).fetchone()[0]
        recorded = [json.loads(s) for (s,) in conn.execute("SELECT source FROM runs ORDER BY id")]
    assert source == "wayback:20160101000000"
    assert versions == 1
    assert "rewritten later" in body
    assert all(r["from_wayback"] == _SITE for r in recorded)
    assert all(r["wayback_server"] == coll for r in recorded)


def test_sync_of_a_wayback_migration_whose_server_is_gone_is_one_clear_error(tmp_path):
    db = tmp_path / "w.db"
    wayback = Wayback()
    wayback.captures[("20150101000000", _SITE)] = page("Home", body="<p>home</p>")
    with TestServer() as server:
        server.route("/coll/cdx", wayback.cdx)
        server.route("/coll/", wayback.replay)
        coll = server.url("/coll/")
        _cli("run", "--from-wayback", _SITE, "--wayback-server", coll, "--db", str(db))
    result = CliRunner().invoke(cli, ["sync", "--db", str(db)])
    assert result.exit_code == 2
    assert "read from an archive and sync reads it again" in result.output
    assert "cannot reach" in result.output
    assert "Traceback" not in result.output
    assert len(Path(db).read_bytes()) > 0


def test_wayback_sync_marks_a_page_captured_gone_later_removed(tmp_path):
    """A 404 capture later than the stored one: the page is removed, as a live sync
    would see it (the 404 is known from the CDX, its replay is never asked for)."""
    db = tmp_path / "w.db"
    wayback = Wayback()
    posts = [f"post-{i}/" for i in range(6)]
    wayback.captures[("20150101000000", _SITE)] = page("Home", *(f"/{p}" for p in posts))
    for i, post in enumerate(posts):
        body = f"<p>{'Words of a post that is worth keeping. ' * 30} number {i}</p>"
        wayback.captures[("20150101000000", _SITE + post)] = page(f"Post {i}", body=body)
    with TestServer() as server:
        server.route("/coll/cdx", wayback.cdx)
        server.route("/coll/", wayback.replay)
        coll = server.url("/coll/")
        _cli("run", "--from-wayback", _SITE, "--wayback-server", coll, "--db", str(db))
        gone = ("20170101000000", _SITE + posts[0])
        wayback.captures[gone] = b"gone"
        wayback.statuses[gone] = 404
        counts = _cli("sync", "--db", str(db))["counts"]
        assert counts["removed"] == 1
        assert counts.get("failed", 0) == counts.get("changed", 0) == 0
        assert _replays(server, *gone) == 0
    with sqlite3.connect(db) as conn:
        removed = conn.execute("SELECT url FROM pages WHERE removed_at IS NOT NULL").fetchall()
    assert removed == [(_SITE + posts[0],)]
