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
        for candidate in entry.get("candidates", ()):
            assert candidate["value"], (name, candidate)
            if candidate["element"] is not None:
                assert len(tree.css(candidate["element"])) == 1, (name, candidate)
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
    assert explain["author"] == {
        "layer": "jsonld",
        "rule": "JSON-LD",
        "element": None,
        "candidates": [],
    }
    # Other layers offered the same title and date: listed, and marked as agreeing.
    assert {c["rule"] for c in explain["title"]["candidates"]} >= {"JSON-LD headline"}
    assert all(c["agrees"] for c in explain["title"]["candidates"])
    published = explain["published"]["candidates"]
    assert published[0]["element"] == explain["published"]["element"]
    assert published[0]["agrees"] is True
    sidebar = [c for c in published if "aside.sidebar" in (c["element"] or "")]
    assert sidebar, published  # the sidebar's dates lost
    assert not any(c["agrees"] for c in sidebar)


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
        "candidates": [
            {
                "layer": "heuristic",
                "rule": "headline classes (entry-title, post-title…)",
                "element": "div#main > h1.post-title:nth-of-type(2)",
                "value": "Right",
                "agrees": True,
            },
            {
                "layer": "heuristic",
                "rule": "h1",
                "element": "div#main > h1:nth-of-type(1)",
                "value": "Blog",
                "agrees": False,
            },
        ],
    }


LOSERS_PAGE = """<!doctype html><html><head>
<title>The real headline | Garden Notes</title>
<meta property="og:title" content="A social headline">
<meta property="article:published_time" content="2020-03-01T10:00:00+00:00">
<script type="application/ld+json">
{"@type": "BlogPosting", "headline": "A structured headline",
 "datePublished": "2020-03-02", "author": {"name": "Ann Example"}}
</script></head><body>
<div id="top"><h1>Garden Notes</h1></div>
<div id="main"><article class="post">
<h2 class="entry-title">The real headline</h2>
<p class="meta"><time datetime="2020-03-04">4 March 2020</time>
<span class="updated">Updated: 2021-05-06</span>
by <span class="author-name">Bob Writer</span></p>
<p>Body text of the post, long enough to be a body for the heuristics here.</p>
</article></div>
<aside id="side"><h3>Recent</h3><ul><li><a href="/x/">Other</a>
<span class="date">2019-01-02</span></li></ul></aside>
</body></html>"""


def test_cli_parse_explain_lists_the_candidates_that_lost(tmp_path):
    """Each losing candidate names its layer and rule, and its element selects the
    one element that shows its value."""
    page = tmp_path / "p.html"
    page.write_text(LOSERS_PAGE)
    record = _explained([str(page), "--url", "https://garden.example.com/p/"])
    explain = record["explain"]
    tree = LexborHTMLParser(LOSERS_PAGE)
    title = explain["title"]
    assert (record["title"], title["layer"]) == ("The real headline", "heuristic")
    lost = {(c["rule"], c["value"]) for c in title["candidates"]}
    assert ("h1", "Garden Notes") in lost
    assert ("JSON-LD headline", "A structured headline") in lost
    assert ("<meta> og:title", "A social headline") in lost
    assert ("<title> (site name cut off)", "The real headline | Garden Notes") in lost
    published = explain["published"]
    assert (record["published"], published["layer"]) == ("2020-03-02", "jsonld")
    dates = {(c["layer"], c["value"][:10]) for c in published["candidates"]}
    assert ("meta", "2020-03-01") in dates
    assert ("heuristic", "2020-03-04") in dates
    assert ("heuristic", "2019-01-02") in dates  # the sidebar's date
    assert ("heuristic", "2021-05-06") not in dates  # an update is not a publication
    assert record["updated"] == "2021-05-06"
    assert "span.updated" in explain["updated"]["element"]
    assert "2020-03-04" not in {c["value"] for c in explain["updated"]["candidates"]}
    assert (record["author"], explain["author"]["layer"]) == ("Ann Example", "jsonld")
    assert [(c["layer"], c["value"]) for c in explain["author"]["candidates"]] == [
        ("heuristic", "Bob Writer")
    ]
    for name in ("title", "published", "updated", "author"):
        for candidate in explain[name]["candidates"]:
            assert candidate["rule"], candidate
            if candidate["element"] is None:
                continue
            matches = tree.css(candidate["element"])
            assert len(matches) == 1, candidate
            node = matches[0]
            shown = " ".join(
                [
                    node.text() or "",
                    *(node.attributes.get(a) or "" for a in ("content", "datetime")),
                ]
            )
            if name == "title":
                assert candidate["value"] in shown, candidate
            else:
                assert candidate["value"][:4] in shown, candidate


def test_cli_parse_explain_marks_losers_the_site_model_knows_as_furniture(tmp_path):
    """With a migration's model, a losing candidate inside furniture says so."""
    from migrator.extract.site import learn_site
    from migrator.load import Store

    pages = []
    for index in range(12):
        text = f"Paragraph number {index} with enough distinct words to be a real paragraph."
        pages.append(
            (
                f"http://blog.example/post-{index}/",
                f"<html><head><title>Post {index} | Blog</title></head><body>"
                f'<h1 class="site">Blog</h1><article><h1 class="entry-title">Post {index}</h1>'
                f'<div class="entry-content"><p>{text}</p><p>{text} Closing.</p></div>'
                "</article></body></html>",
            )
        )
    model = learn_site(pages)
    assert model is not None
    db = tmp_path / "m.db"
    with Store.open(db) as store:
        store.save_site_model(model)
    page = tmp_path / "p.html"
    page.write_text(pages[3][1])
    record = _explained([str(page), "--url", pages[3][0], "--db", str(db)])
    assert record["title"] == "Post 3"
    losers = {c["value"]: c for c in record["explain"]["title"]["candidates"]}
    assert losers["Blog"]["furniture"] is True
    assert "furniture" not in losers.get("Post 3 | Blog", {})
