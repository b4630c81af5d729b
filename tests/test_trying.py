"""Trying a migration before doing it: ``run --limit N`` (and a second run continues),
``parse`` of a URL fetched with the real fetcher, of several files and of stdin, and
progress lines at level info."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
import structlog
from click.testing import CliRunner

from migrator import progress
from migrator.cli import cli
from migrator.demo import demo_site_dir, serve_site
from migrator.log import setup_logging
from servers import Reply, TestServer

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "pages"
FAST = ["--delay", "0", "--concurrency", "4", "-q", "--json"]


def _content_urls(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT url FROM pages")}
    finally:
        conn.close()


@pytest.mark.slow
def test_cli_run_limit_stops_after_n_pages_and_a_second_run_continues(tmp_path):
    db = tmp_path / "m.db"
    with serve_site(demo_site_dir(), port=0) as server:
        start = server.base_url + "/"
        first = CliRunner().invoke(cli, ["run", start, "--db", str(db), "--limit", "5", *FAST])
        assert first.exit_code == 0, first.stderr
        report = json.loads(first.stdout)
        assert report["counts"]["new"] == 5
        assert "--limit" in report["message"]
        after_first = _content_urls(db)
        assert len(after_first) == 5
        second = CliRunner().invoke(cli, ["run", start, "--db", str(db), "--limit", "5", *FAST])
        assert second.exit_code == 0, second.stderr
        assert json.loads(second.stdout)["counts"]["new"] == 5
        after_second = _content_urls(db)
        assert len(after_second) == 10
        assert after_first < after_second
        # Without a limit the rest comes: every post of the demo blog, each once.
        rest = CliRunner().invoke(cli, ["run", start, "--db", str(db), *FAST])
        assert rest.exit_code == 0, rest.stderr
        assert json.loads(rest.stdout)["message"] is None
    conn = sqlite3.connect(db)
    try:
        states = dict(conn.execute("SELECT state, count(*) FROM crawl_state GROUP BY state"))
        posts = conn.execute("SELECT count(*) FROM pages WHERE page_type = 'post'").fetchone()[0]
    finally:
        conn.close()
    assert "in_progress" not in states
    assert "queued" not in states
    assert posts == 48


def test_cli_run_limit_must_be_positive(tmp_path):
    result = CliRunner().invoke(
        cli, ["run", "http://127.0.0.1/", "--limit", "0", "--db", str(tmp_path / "m.db")]
    )
    assert result.exit_code == 2
    assert "--limit" in result.stderr


def test_cli_parse_url_fetches_with_the_real_fetcher(tmp_path):
    html = (PAGES / "blogger_classic.html").read_bytes()
    with TestServer(rewrite_base=None) as server:
        server.set_robots("User-agent: *\nDisallow: /private/\n")
        server.script("/2013/05/tomatoes.html", Reply(body=html))
        url = server.url("/2013/05/tomatoes.html")
        result = CliRunner().invoke(cli, ["parse", url])
        assert result.exit_code == 0, result.stderr
        record = json.loads(result.stdout)
        assert record["url"] == url
        assert record["title"] == "Tomatoes in a cold spring"
        agent = server.requests_for("/2013/05/tomatoes.html")[0].headers["user-agent"]
        assert "migrator" in agent.lower()
        assert server.count("/robots.txt") == 1
        denied = CliRunner().invoke(cli, ["parse", server.url("/private/x.html")])
        assert denied.exit_code == 1
        assert "robots" in denied.stderr
        assert server.count("/private/x.html") == 0
        missing = CliRunner().invoke(cli, ["parse", server.url("/nope.html")])
        assert missing.exit_code == 1
        assert "http_404" in missing.stderr
        assert "Traceback" not in missing.stderr


def test_cli_parse_several_files_prints_one_record_per_line():
    files = sorted(PAGES.glob("*.html"))[:3]
    result = CliRunner().invoke(cli, ["parse", *map(str, files)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    for file, record in zip(files, records, strict=True):
        expected = json.loads(file.with_suffix(".expected.json").read_text())
        assert record["url"].endswith(file.name)
        if "title" in expected:
            assert record["title"] == expected["title"]


def test_cli_parse_reads_stdin():
    html = (PAGES / "blogger_classic.html").read_bytes()
    url = "https://garden.example.com/2013/05/tomatoes.html"
    result = CliRunner().invoke(cli, ["parse", "-", "--url", url], input=html)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["url"] == url
    assert record["title"] == "Tomatoes in a cold spring"


def test_cli_parse_url_option_with_several_files_exits_2():
    files = [str(p) for p in sorted(PAGES.glob("*.html"))[:2]]
    result = CliRunner().invoke(cli, ["parse", *files, "--url", "https://example.com/"])
    assert result.exit_code == 2
    assert "--url" in result.stderr


def test_progress_lines_are_info_not_warning(monkeypatch, tmp_path, capsys):
    """Progress is logged at info: shown with -v, not mixed into a default cron log."""
    monkeypatch.setattr(progress, "_LOG_EVERY_S", -1.0)  # log on every call
    saved = structlog.get_config()
    try:
        _progress_events(tmp_path, capsys)
    finally:
        structlog.configure(**saved)


def _progress_events(tmp_path, capsys):
    for verbosity in (1, 0):
        setup_logging(verbosity, json_lines=True)
        with (
            (tmp_path / "err").open("w") as stream,
            progress.live_progress(enabled=True, stream=stream) as update,
        ):
            update(Counter(fetched=3))
        events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        shown = [e for e in events if e["event"] == "run_progress"]
        if verbosity == 1:
            assert [e["level"] for e in shown] == ["info"]
            assert shown[0]["fetched"] == 3
        else:
            assert shown == []
