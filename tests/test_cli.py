"""Command-line behaviour: exit codes, one-line errors on stderr, data on stdout."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrator.cli import cli
from migrator.load import Store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _assert_one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


def test_cli_run_bad_start_url_exits_2(runner, tmp_path):
    result = runner.invoke(cli, ["run", "ftp://example.com/", "--db", str(tmp_path / "m.db")])
    assert "not an http(s) URL" in _assert_one_line_error(result)


def test_cli_run_unreachable_host_exits_2(runner, tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/"
    result = runner.invoke(cli, ["run", url, "--db", str(tmp_path / "m.db"), "-q"])
    assert "cannot reach 127.0.0.1" in _assert_one_line_error(result)


def test_cli_run_unknown_config_key_exits_2(runner, tmp_path):
    config = tmp_path / "site.toml"
    config.write_text("[fetch]\nconcurency = 3\n")
    result = runner.invoke(cli, ["run", "http://127.0.0.1/", "--config", str(config)])
    assert "unknown config key 'fetch.concurency'" in _assert_one_line_error(result)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('title = "h1[[["', "extract.selectors.title"),
        ('content = "article, "', "extract.selectors.content"),
        ('remove = [".ad", "p:contains(x)"]', "extract.selectors.remove[1]"),
    ],
)
@pytest.mark.parametrize("command", ["run", "parse"])
def test_cli_invalid_css_selector_in_config_exits_2(runner, tmp_path, toml, key, command):
    """A selector the CSS engine cannot parse is a usage error naming its key."""
    config = tmp_path / "site.toml"
    config.write_text(f"[extract.selectors]\n{toml}\n")
    page = tmp_path / "p.html"
    page.write_text("<html><body><h1>x</h1></body></html>")
    args = ["http://127.0.0.1/"] if command == "run" else [str(page)]
    result = runner.invoke(cli, [command, *args, "--config", str(config)])
    line = _assert_one_line_error(result)
    assert f"'{key}' is not a valid CSS selector" in line


def test_cli_valid_css_selectors_in_config_load(runner, tmp_path):
    config = tmp_path / "site.toml"
    config.write_text(
        '[extract.selectors]\ntitle = "h1.post-title"\npublished = "div > p:nth-child(2)"\n'
        'remove = [".ad", "a[href^=\'/share\']"]\n'
    )
    page = tmp_path / "p.html"
    page.write_text('<html><body><h1 class="post-title">Right</h1><h1>Wrong</h1></body></html>')
    result = runner.invoke(cli, ["parse", str(page), "--config", str(config)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "Right"


def test_cli_run_missing_config_file_exits_2(runner, tmp_path):
    result = runner.invoke(cli, ["run", "--config", str(tmp_path / "nope.toml")])
    assert "config file not found" in _assert_one_line_error(result)


def test_cli_run_unwritable_db_exits_2(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = runner.invoke(cli, ["run", "http://127.0.0.1:1/", "--db", str(blocker / "m.db")])
    _assert_one_line_error(result)


def test_cli_run_negative_concurrency_exits_2(runner, tmp_path):
    result = runner.invoke(
        cli, ["run", "http://127.0.0.1/", "--concurrency", "0", "--db", str(tmp_path / "m.db")]
    )
    assert "concurrency" in _assert_one_line_error(result)


def test_cli_sync_without_database_exits_2(runner, tmp_path):
    result = runner.invoke(cli, ["sync", "--db", str(tmp_path / "absent.db")])
    assert "no migration database" in _assert_one_line_error(result)


def test_cli_parse_prints_contract_record(runner):
    manifest = json.loads((ROOT / "tests/fixtures/site_expected/manifest.json").read_text())
    case = next(p for p in manifest["pages"] if p["type"] == "post")
    expected = json.loads((ROOT / "tests/fixtures/site_expected" / case["expected"]).read_text())
    file = ROOT / "src/migrator/demo_site" / case["path"].strip("/") / "index.html"
    base = "https://blog.example.com"
    result = runner.invoke(cli, ["parse", str(file), "--url", base + case["path"]])
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    for key in (
        "url",
        "canonical_url",
        "title",
        "published",
        "updated",
        "author",
        "breadcrumbs",
        "sections",
        "sidebar_links",
        "body_markdown",
        "body_html",
    ):
        assert key in record
    assert record["url"] == base + case["path"]
    assert record["title"] == expected["title"]
    assert record["published"][:10] == expected["published"]
    assert [(c["label"], c["url"]) for c in record["breadcrumbs"]] == [
        (c["label"], base + c["url"] if c["url"] else None) for c in expected["breadcrumbs"]
    ]
    assert [(s["level"], s["heading"]) for s in record["sections"]] == [
        (s["level"], s["heading"]) for s in expected["sections"]
    ]
    assert [(s["label"], s["url"], s["date"]) for s in record["sidebar_links"]] == [
        (s["label"], base + s["url"], s["date"]) for s in expected["sidebar_links"]
    ]


def test_cli_parse_explain_names_sources(runner):
    manifest = json.loads((ROOT / "tests/fixtures/site_expected/manifest.json").read_text())
    case = next(p for p in manifest["pages"] if p["type"] == "post")
    file = ROOT / "src/migrator/demo_site" / case["path"].strip("/") / "index.html"
    result = runner.invoke(cli, ["parse", str(file), "--explain"])
    assert result.exit_code == 0, result.stderr
    sources = json.loads(result.stdout)["sources"]
    assert sources["title"] in {"config", "jsonld", "microdata", "rdfa", "meta", "heuristic"}


def test_cli_parse_missing_file_exits_2(runner, tmp_path):
    result = runner.invoke(cli, ["parse", str(tmp_path / "absent.html")])
    assert "cannot read" in _assert_one_line_error(result)


def test_cli_parse_relative_url_exits_2(runner, tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<h1>x</h1>")
    result = runner.invoke(cli, ["parse", str(page), "--url", "/relative/"])
    assert "--url" in _assert_one_line_error(result)


def test_readme_documents_every_command():
    """A command missing from the README is a documentation bug."""
    readme = (ROOT / "README.md").read_text()
    for name in cli.commands:
        assert re.search(rf"`migrator {name}\b", readme), f"README lacks `migrator {name}`"
    assert "make demo" in readme
    assert "make test" in readme


def test_cli_sync_while_another_run_holds_the_database_exits_5(runner, tmp_path):
    from migrator.load import Store

    db = tmp_path / "m.db"
    with Store.open(db):
        result = runner.invoke(cli, ["sync", "--db", str(db)])
    assert "another migrator run" in _assert_one_line_error(result, code=5)


def test_cli_verbosity_options_work_before_the_command(runner, tmp_path):
    db = tmp_path / "m.db"
    Store.open(db).close()
    quiet = runner.invoke(cli, ["-q", "report", "--db", str(db), "--out", str(tmp_path / "r")])
    assert quiet.exit_code == 0, quiet.stderr
    assert quiet.stdout == ""
    loud = runner.invoke(cli, ["-v", "report", "--db", str(db), "--out", str(tmp_path / "r")])
    assert loud.exit_code == 0, loud.stderr
    assert "report:" in loud.stdout
    page = tmp_path / "p.html"
    page.write_text("<html><body><h1>x</h1><p>y</p></body></html>")
    both = runner.invoke(cli, ["-v", "parse", str(page), "-v"])
    assert both.exit_code == 0, both.stderr
    assert json.loads(both.stdout)["title"] == "x"
