"""What a user does with the demo migration after ``make demo``: the README's full-text
query, ``export jsonl --out -``, ``migrator raw``, ``parse --stored --explain``, and the
Datasette metadata served by a real Datasette. Plus a start URL that fails leaves no
database behind. All through the real command line, on one real demo migration."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from datasette.app import Datasette

from migrator.cli import cli
from migrator.demo import demo_site_dir
from servers import Reply, TestServer

ROOT = Path(__file__).resolve().parents[1]
POST = "/blog/sleep/small-steps-for-insomnia-when-you-live-alone/"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str]:
    """``migrator demo`` into a fresh folder: the database and the site's base URL."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    base = re.search(r"serving the demo blog at (http://\S+)/", result.stderr)
    assert base is not None, result.stderr
    assert "Browse it: datasette" in result.stdout
    return db, base.group(1)


def _readme_sql(heading: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(re.escape(heading) + r".*?```sql\n(.*?)```", readme, re.S)
    assert found is not None, heading
    return found.group(1)


@pytest.mark.slow
def test_readme_full_text_example_returns_rows_on_the_demo(demo):
    db, _ = demo
    sql = _readme_sql("Full-text search")
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(sql).fetchall()
    finally:
        conn.close()
    assert rows, sql
    assert all(row[0].startswith("http") for row in rows)
    assert any("[" in row[2] and "]" in row[2] for row in rows)  # the snippet marks hits


@pytest.mark.slow
def test_cli_export_jsonl_out_dash_writes_records_to_stdout_only(demo, tmp_path, monkeypatch):
    db, _ = demo
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["export", "jsonl", "--db", str(db), "--out", "-"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    conn = sqlite3.connect(db)
    try:
        live = conn.execute("SELECT count(*) FROM pages WHERE removed_at IS NULL").fetchone()[0]
    finally:
        conn.close()
    assert len(records) == live > 0
    assert {"url", "title", "breadcrumbs", "sections"} <= set(records[0])
    assert f"{live} pages" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no folder called '-'
    quiet = CliRunner().invoke(cli, ["export", "jsonl", "--db", str(db), "--out", "-", "-q"])
    assert quiet.stdout == result.stdout
    assert quiet.stderr == ""
    wrong = CliRunner().invoke(cli, ["export", "hugo", "--db", str(db), "--out", "-"])
    assert wrong.exit_code == 2
    assert "--out -" in wrong.stderr
    assert wrong.stdout == ""


@pytest.mark.slow
def test_cli_raw_prints_a_stored_page_decoded(demo):
    db, base = demo
    conn = sqlite3.connect(db)
    try:
        codec = conn.execute(
            "SELECT body_codec FROM raw_pages WHERE url = ?", (base + POST,)
        ).fetchone()[0]
    finally:
        conn.close()
    assert codec == "zlib"  # stored compressed: unreadable with SQL alone
    on_disk = (demo_site_dir() / POST.strip("/") / "index.html").read_bytes()
    result = CliRunner().invoke(cli, ["raw", "--db", str(db), base + POST])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == on_disk
    as_bytes = CliRunner().invoke(cli, ["raw", "--db", str(db), base + POST, "--bytes"])
    assert as_bytes.stdout_bytes == on_disk
    headers = CliRunner().invoke(cli, ["raw", "--db", str(db), base + POST, "--headers"])
    first, rest = headers.stdout.split("\n", 1)
    assert first == f"HTTP 200  {base + POST}"
    assert "content-type: text/html" in rest.lower()
    missing = CliRunner().invoke(cli, ["raw", "--db", str(db), base + "/nope/"])
    assert missing.exit_code == 2
    assert "no stored page" in missing.stderr
    assert "Traceback" not in missing.output


@pytest.mark.slow
def test_cli_parse_stored_explains_a_stored_page_without_fetching(demo):
    db, base = demo
    args = ["parse", base + POST, "--db", str(db), "--stored", "--explain"]
    result = CliRunner().invoke(cli, args)  # the demo server is gone: nothing to fetch
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["title"] == "Small Steps for Insomnia When You Live Alone"
    assert record["explain"]["title"]["element"].endswith("h1")
    assert "site_model" in record
    no_db = CliRunner().invoke(cli, ["parse", base + POST, "--stored"])
    assert no_db.exit_code == 2
    assert "--db" in no_db.stderr


@pytest.mark.slow
def test_datasette_serves_the_metadata(demo, tmp_path):
    """The metadata gives the posts view a search box, columns descriptions and canned
    queries that run; without it the view has no search box."""
    db, _ = demo
    out = tmp_path / "meta.json"
    result = CliRunner().invoke(cli, ["datasette-metadata", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    metadata = json.loads(out.read_text())
    beside = db.with_name("demo.metadata.json")  # written by `migrator demo`
    assert json.loads(beside.read_text()) == metadata
    stdout = CliRunner().invoke(cli, ["datasette-metadata", "--db", str(db), "--out", "-"])
    assert json.loads(stdout.stdout) == metadata

    async def browse(meta: dict | None) -> dict[str, object]:
        ds = Datasette([str(db)], metadata=meta)
        seen: dict[str, object] = {}
        posts = await ds.client.get("/demo/posts")
        seen["search_box"] = 'name="_search"' in posts.text
        seen["described"] = "The breadcrumb just before" in posts.text
        found = await ds.client.get("/demo/posts.json?_search=insomnia&_shape=array")
        seen["found"] = [r["title"] for r in found.json()] if found.status_code == 200 else None
        pages = await ds.client.get("/demo/pages")
        seen["pages_described"] = "The headline a reader sees" in pages.text
        for name in ("posts_without_dates", "failures", "posts_per_month"):
            answer = await ds.client.get(f"/demo/{name}.json?_shape=array")
            seen[name] = answer.json() if answer.status_code == 200 else answer.status_code
        search = await ds.client.get("/demo/search.json?_shape=array&words=insomnia")
        seen["search"] = search.json() if search.status_code == 200 else search.status_code
        return seen

    plain = asyncio.run(browse(None))
    assert plain["search_box"] is False
    assert plain["described"] is False
    assert plain["posts_without_dates"] == 404
    seen = asyncio.run(browse(metadata))
    assert seen["search_box"] is True
    assert seen["described"] is True
    assert seen["pages_described"] is True
    assert seen["found"]
    assert "Small Steps for Insomnia When You Live Alone" in seen["found"]
    assert len(seen["found"]) < 48  # searched, not every post
    assert seen["posts_without_dates"] == []  # every demo post has its date
    assert isinstance(seen["failures"], list)
    assert isinstance(seen["posts_per_month"], list)
    assert seen["posts_per_month"]
    assert isinstance(seen["search"], list)
    assert "[insomnia]" in seen["search"][0]["excerpt"]


def test_datasette_metadata_of_a_missing_database_exits_2(tmp_path):
    result = CliRunner().invoke(cli, ["datasette-metadata", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2
    assert "no migration database" in result.stderr


def test_cli_run_start_url_404_exits_2_and_leaves_no_database(tmp_path):
    db = tmp_path / "new" / "m.db"
    with TestServer(rewrite_base=None) as server:
        server.script("/", Reply(status=404, body=b"<html>gone</html>"))
        result = CliRunner().invoke(cli, ["run", server.url("/"), "--db", str(db), "--delay", "0"])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1
    assert "answered 404" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "new").exists()


def test_cli_run_unreachable_start_leaves_no_database(tmp_path):
    with TestServer(rewrite_base=None) as server:
        closed = server.url("/")
    db = tmp_path / "m.db"
    result = CliRunner().invoke(cli, ["run", closed, "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert "cannot reach" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_run_404_start_keeps_an_existing_database(tmp_path):
    """A database that was there before the run is the user's: it stays."""
    db = tmp_path / "m.db"
    with TestServer(rewrite_base=None) as server:
        server.script("/", Reply(status=404, body=b"<html>gone</html>"))
        first = CliRunner().invoke(cli, ["run", server.url("/"), "--db", str(db), "--delay", "0"])
        assert first.exit_code == 2
        db.touch()
        sqlite3.connect(db).close()
        again = CliRunner().invoke(cli, ["run", server.url("/"), "--db", str(db), "--delay", "0"])
    assert again.exit_code == 2
    assert db.exists()
