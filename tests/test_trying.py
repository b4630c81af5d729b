"""Trying a migration before doing it: ``run --limit N`` (and a second run continues),
``parse`` of a URL fetched with the real fetcher, of several files and of stdin, and
progress lines at level info."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
import structlog
from click.testing import CliRunner
from selectolax.lexbor import LexborHTMLParser

from migrator import progress
from migrator.cli import cli
from migrator.decode import decode_body
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
        # No page was fetched that the run did not store: 5 posts and the listings.
        pages = [p for m, p in server.requests if m == "GET" and p.endswith("/")]
        pages = [p for p in pages if p != "/feed/"]
        assert len(pages) == len(set(pages)) == 5 + report["counts"]["listings"]
        assert "in_progress" not in _states(db)
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
    states = _states(db)
    assert "in_progress" not in states
    assert "queued" not in states
    conn = sqlite3.connect(db)
    try:
        posts = conn.execute("SELECT count(*) FROM pages WHERE page_type = 'post'").fetchone()[0]
    finally:
        conn.close()
    assert posts == 48


def _states(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT state, count(*) FROM crawl_state GROUP BY state"))
    finally:
        conn.close()


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


def _explained(args: list[str]) -> dict:
    result = CliRunner().invoke(cli, ["parse", *args, "--explain"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "file",
    [
        *sorted(PAGES.glob("*.html")),
        ROOT / "src/migrator/demo_site/blog/anxiety/my-month-tracking-avoidance/index.html",
    ],
    ids=lambda p: p.parent.name if p.name == "index.html" else p.stem,
)
def test_cli_parse_explain_names_each_fields_element(file):
    """Each explained element is a CSS path to one element that holds the field."""
    record = _explained([str(file), "--url", "https://blog.example.com/post/"])
    explain = record["explain"]
    tree = LexborHTMLParser(decode_body(file.read_bytes(), "text/html").text)
    for name, entry in explain.items():
        assert entry["layer"] == record["sources"].get(name), name
        assert entry["rule"], name
        if entry["element"] is None:
            continue
        matches = tree.css(entry["element"])
        assert len(matches) == 1, (name, entry["element"])
        text = re.sub(r"\s+", " ", matches[0].text() or "")
        if name == "title":
            assert record["title"].casefold() in text.casefold()
        if name == "breadcrumbs":
            for crumb in record["breadcrumbs"][:-1]:
                assert crumb["label"] in text
        if name == "sidebar_links":
            assert record["sidebar_links"][0]["label"] in text


def test_cli_parse_explain_demo_post_elements():
    file = ROOT / "src/migrator/demo_site/blog/anxiety/my-month-tracking-avoidance/index.html"
    explain = _explained([str(file), "--url", "https://blog.example.com/post/"])["explain"]
    assert explain["title"]["element"].endswith("h1.post-title")
    assert explain["published"]["element"].endswith("time.published")
    assert explain["breadcrumbs"]["element"].endswith("nav > ol.breadcrumb")
    assert explain["sidebar_links"]["groups"] == {
        "You may also like": explain["sidebar_links"]["element"]
    }
    assert explain["author"] == {"layer": "jsonld", "rule": "JSON-LD", "element": None}


def test_cli_parse_explain_names_the_config_rule(tmp_path):
    config = tmp_path / "site.toml"
    config.write_text('[extract.selectors]\ntitle = "h1.post-title"\n')
    page = tmp_path / "p.html"
    page.write_text(
        '<html><body><div id="main"><h1>Blog</h1><h1 class="post-title">Right</h1>'
        "<p>Body text of the post, long enough to be a body.</p></div></body></html>"
    )
    explain = _explained([str(page), "--config", str(config)])["explain"]
    assert explain["title"] == {
        "layer": "config",
        "rule": "extract.selectors.title = 'h1.post-title'",
        "element": "div#main > h1.post-title:nth-of-type(2)",
    }
