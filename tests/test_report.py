"""``migrator report`` and ``migrator failures``: the HTML report (checked in a real
headless Chromium: no console errors, every chart drawn), escaping of hostile content,
and the failure listing as text, JSON and CSV."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrator.cli import cli
from migrator.extract.template import html_template_signature
from migrator.load import Store
from migrator.models import Crumb, Image, Page, RawPage, Section, SidebarLink, SiteModel

BASE = "http://127.0.0.1:8000"
HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
CATEGORIES = ("Anxiety", "Sleep")
TEMPLATE_HTML = (
    '<html><head><title>{title}</title></head><body><div id="page"><div id="content">'
    "<h1>{title}</h1><p>Text.</p></div></div></body></html>"
)


def _post(n: int, **changes: object) -> Page:
    category = CATEGORIES[n % 2]
    url = f"{BASE}/blog/{category.lower()}/post-{n}/"
    fields: dict[str, object] = {
        "url": url,
        "source_url": url,
        "canonical_url": url,
        "title": f"Post number {n}",
        # Spread over 2019-2021 with a gap: months per post, not one per month.
        "published": date(2019 + n // 6, 1 + (n * 2) % 12, 5),
        "page_type": "post",
        "author": "Ann" if n % 3 else None,
        "breadcrumbs": (
            Crumb(label="Home", url=BASE + "/"),
            Crumb(label=category, url=f"{BASE}/blog/{category.lower()}/"),
            Crumb(label=f"Post number {n}", current=True),
        ),
        "sections": tuple(
            Section(level=2, heading=f"Part {i}", text=f"Text of part {i}.") for i in range(n % 4)
        ),
        "sidebar_links": (
            SidebarLink(group="You may also like", label="Next", url=f"{BASE}/blog/sleep/post-1/"),
        ),
        "images": (Image(src=f"{BASE}/images/a.jpg", alt="a"),) if n % 2 else (),
        "body_markdown": "Some words. " * (5 + n),
        "body_text": "Some words. " * (5 + n),
    }
    fields.update(changes)
    return Page(**fields)  # type: ignore[arg-type]


def _raw(url: str, title: str) -> RawPage:
    return RawPage(
        url=url,
        requested_url=url,
        status=200,
        headers=(("content-type", "text/html; charset=utf-8"),),
        body=TEMPLATE_HTML.format(title=title).encode(),
        fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def report_db(tmp_path_factory) -> Path:
    """A migration database with posts, a hostile title, a dangling link, a failure,
    a changed page, a site model with a template and two runs."""
    path = tmp_path_factory.mktemp("report") / "m.db"
    signature = html_template_signature(TEMPLATE_HTML.format(title="x"))
    assert signature is not None
    with Store.open(path) as store:
        first = store.start_run("run", config_hash="x", start_url=BASE + "/")
        for n in range(12):
            page = _post(n)
            if n < 4:
                store.save_fetch(page.url, _raw(page.url, page.title or ""))
            store.save_page(page, raw_url=page.url if n < 4 else None)
        store.save_page(
            _post(
                20,
                title=HOSTILE,
                published=None,
                sidebar_links=(
                    SidebarLink(group="Related", label=HOSTILE, url=f"{BASE}/gone/"),
                    SidebarLink(group="Related", label="js", url="javascript:alert(1)"),
                ),
            )
        )
        store.save_page(_post(21, title="Calm Harbor"))
        store.save_listing(f"{BASE}/blog/anxiety/page/2/", "listing")
        store.save_failure(
            f"{BASE}/missing/", stage="fetch", reason="http_404", status=404, attempts=1
        )
        store.save_failure(f"{BASE}/broken/", stage="fetch", reason=HOSTILE, status=500, attempts=4)
        store.save_site_model(
            SiteModel(
                pages_sampled=14,
                site_names=frozenset({"calm harbor"}),
                title_selector="h1.post-title",
                title_agreement=(12, 14),
                date_selector="p.post-meta",
                date_agreement=(11, 14),
                cms="wordpress",
                templates=((signature, 4), ("deadbeef", 2)),
                evidence=("title: h1.post-title holds the <title> headline on 12/14 pages",),
            )
        )
        store.finish_run(first, status="ok", counts={"new": 14, "failed": 2})
        second = store.start_run("sync", config_hash="x", start_url=None)
        store.save_page(_post(3, body_markdown="Rewritten.\n\nEntirely new text.\n\nMore."))
        store.save_failure(
            f"{BASE}/missing/", stage="fetch", reason="http_404", status=404, attempts=2
        )
        store.finish_run(second, status="ok", counts={"changed": 1, "failed": 1})
    return path


@pytest.fixture(scope="module")
def report_dir(report_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "report"
    result = CliRunner().invoke(cli, ["report", "--db", str(report_db), "--out", str(out)])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert str(out / "index.html") in result.stdout
    return out


def _charts(html: str) -> dict[str, str]:
    return dict(re.findall(r'<svg class="chart" id="chart-([\w-]+)"(.*?)</svg>', html, re.S))


def test_report_draws_every_chart_with_data(report_dir):
    html = (report_dir / "index.html").read_text()
    charts = _charts(html)
    assert set(charts) == {
        "pages-by-type",
        "crawl-states",
        "failures-by-reason",
        "coverage",
        "posts-per-month",
    }
    for name, svg in charts.items():
        assert re.search(r'<rect class="bar"[^>]* data-value="[1-9]', svg), name
    months = re.findall(r'data-label="(\d{4}-\d\d)" data-value="(\d+)"', charts["posts-per-month"])
    assert sum(int(v) for _, v in months) == 13  # every dated post, once
    points = int(re.search(r'data-points="(\d+)"', charts["posts-per-month"]).group(1))
    assert points > len(months)  # months without posts are on the axis, as gaps


def test_report_coverage_by_section_and_template(report_dir):
    html = (report_dir / "index.html").read_text()
    coverage = _charts(html)["coverage"]
    values = dict(re.findall(r'data-label="([\w ]+)" data-value="(\d+)"', coverage))
    assert values["title"] == "100"
    assert values["date"] == str(round(100 * 13 / 14))
    assert values["breadcrumbs"] == "100"
    assert "<h3>By section of the site</h3>" in html
    section = html.split("<h3>By section of the site</h3>")[1].split("</table>")[0]
    assert "<td>Anxiety</td>" in section
    assert "<td>Sleep</td>" in section
    template = html.split("<h3>By template</h3>")[1].split("</table>")[0]
    assert re.search(r"<td>template 1</td><td class=\"n\">4</td>", template)
    assert "<td>other</td>" in template


def test_report_escapes_hostile_content(report_dir):
    html = (report_dir / "index.html").read_text()
    assert html.count("<script") == 1  # the report's own
    assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    assert "javascript:alert(1)" in html  # shown as text, not as a link


def test_report_lists_odd_pages_with_records(report_dir):
    html = (report_dir / "index.html").read_text()
    odd = html.split('<section id="odd">')[1].split("</section>")[0]
    undated = odd.split("Posts with no date (1)")[1].split("</table>")[0]
    assert f"{BASE}/blog/anxiety/post-20/" in undated
    named = odd.split("Title equal to a site name (1)")[1].split("</table>")[0]
    assert "Calm Harbor" in named
    changes = odd.split("Largest changes")[1].split("</table>")[0]
    assert f"{BASE}/blog/sleep/post-3/" in changes
    for page_id in re.findall(r'href="records/(\d+)\.json"', odd):
        record = json.loads((report_dir / "records" / f"{page_id}.json").read_text())
        assert record["url"].startswith(BASE)
    assert "<td>dangling</td>" not in html
    dangling = html.split('<section id="dangling">')[1].split("</section>")[0]
    assert "Dangling sidebar links (2)" in dangling
    assert f"{BASE}/gone/" in dangling


def test_report_shows_runs_and_site_model(report_dir):
    html = (report_dir / "index.html").read_text()
    runs = html.split('<section id="runs">')[1].split("</section>")[0]
    assert "<td>sync</td>" in runs
    assert "run 2 (sync): 1 pages changed or removed" in runs
    model = html.split('<section id="model">')[1].split("</section>")[0]
    assert "h1.post-title" in model
    assert "(12/14 pages agree)" in model
    assert "holds the &lt;title&gt; headline" in model


def test_cli_report_without_database_exits_2(tmp_path):
    result = CliRunner().invoke(
        cli, ["report", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert "no migration database" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------- in a browser


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is required in CI but is not on PATH")
    pytest.skip("chromium is not installed")


def _load_in_chromium(page: Path, profile: Path) -> tuple[str, list[str]]:
    """Load ``page`` from disk in headless Chromium: its DOM after scripts ran, and
    every console message the page produced."""
    command = [
        _chromium(),
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        # Chromium's helper processes share its session: none outlives the test.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == 0, err[-2000:]
    console = [line for line in err.splitlines() if ":CONSOLE" in line]
    return out, console


def test_report_in_chromium_has_no_console_errors_and_draws_charts(report_dir, tmp_path):
    dom, console = _load_in_chromium(report_dir / "index.html", tmp_path / "profile")
    assert console == []
    # The report's script ran to its end and counted every chart with bars.
    assert re.search(r'<body data-charts="5"', dom), dom[:500]
    charts = _charts(dom)
    assert len(charts) == 5
    for name, svg in charts.items():
        assert re.search(r"<rect[^>]* data-value=\"[1-9]", svg), name
    assert "<script>alert" not in dom


def test_chromium_check_sees_console_errors(tmp_path):
    """The browser check above would notice a script error or a blocked load."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy"'
        " content=\"default-src 'none'\"></head><body><script>undefinedFn()</script>"
        '<img src="http://127.0.0.1:9/x.png"></body></html>'
    )
    _, console = _load_in_chromium(page, tmp_path / "profile")
    assert any("Content Security Policy" in line for line in console), console


# ---------------------------------------------------------------------- failures


def test_cli_failures_lists_still_failing_urls(report_db):
    result = CliRunner().invoke(cli, ["failures", "--db", str(report_db)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    missing = next(line for line in lines if "/missing/" in line).split("\t")
    assert missing[:4] == ["fetch", "404", "http_404", "3"]  # attempts over both runs
    assert "2 failed URLs" in result.stderr


def test_cli_failures_json_and_csv(report_db):
    as_json = CliRunner().invoke(cli, ["failures", "--db", str(report_db), "--json"])
    rows = json.loads(as_json.stdout)
    by_url = {r["url"]: r for r in rows}
    assert by_url[f"{BASE}/broken/"] == {
        **by_url[f"{BASE}/broken/"],
        "stage": "fetch",
        "status": 500,
        "reason": HOSTILE,
        "attempts": 4,
        "run_id": 1,
    }
    assert by_url[f"{BASE}/missing/"]["run_id"] == 2
    assert (
        by_url[f"{BASE}/missing/"]["last_tried_at"] >= by_url[f"{BASE}/missing/"]["first_failed_at"]
    )
    as_csv = CliRunner().invoke(cli, ["failures", "--db", str(report_db), "--csv"])
    table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["url"] for r in table] == [r["url"] for r in rows]
    assert table[0].keys() >= {"url", "stage", "status", "reason", "attempts", "last_tried_at"}


def test_failures_forget_a_url_that_later_succeeded(tmp_path):
    db = tmp_path / "m.db"
    page = _post(1)
    with Store.open(db) as store:
        run = store.start_run("run", config_hash="x", start_url=BASE + "/")
        store.save_failure(page.url, stage="fetch", reason="timeout", status=None, attempts=4)
        store.save_fetch(page.url, _raw(page.url, "x"))
        store.save_page(page)
        store.finish_run(run, status="ok", counts={})
    result = CliRunner().invoke(cli, ["failures", "--db", str(db), "--json"])
    assert json.loads(result.stdout) == []


@pytest.mark.slow
def test_cli_demo_ends_with_the_report(tmp_path):
    """`make demo` (migrator demo) writes the demo migration's report and prints its path."""
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "-q"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    report = tmp_path / "demo-report" / "index.html"
    assert f"Report: {report}" in result.stdout
    months = _charts(report.read_text())["posts-per-month"]
    posts = sum(int(v) for v in re.findall(r'data-value="(\d+)"', months))
    with Store.open(db, lock=False) as store:
        dated = store.query(
            "SELECT count(*) FROM pages WHERE page_type = 'post' AND published_at IS NOT NULL"
        )
    assert posts == dated[0][0] > 0


def test_cli_report_of_an_empty_migration(tmp_path):
    db = tmp_path / "m.db"
    Store.open(db).close()
    result = CliRunner().invoke(cli, ["report", "--db", str(db), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.stderr
    html = (tmp_path / "r" / "index.html").read_text()
    assert "<svg" not in html
    assert html.count("nothing to show") == 5
