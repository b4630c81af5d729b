"""Wayback input (#12): a real pywb on 127.0.0.1 replays a wget WARC of the demo blog
through the CDX and id_ interfaces, and the run gives the live crawl's records; a
scripted server checks the CDX's errors and the Archive's rate limits."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from archives import aliases, archive_records, fast_config, records, sources, wget_warc
from migrator.cli import cli
from migrator.demo import demo_site_dir, serve_site
from migrator.errors import ConfigError, RunFailed
from migrator.export.warc import export_warc
from migrator.load import Store
from migrator.pipeline import run
from migrator.sources import open_source
from migrator.sources.wayback import WaybackArchive, cdx_endpoint, wayback_date
from servers import Reply, Request, TestServer, page

_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"pywb exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("pywb did not start listening")


@pytest.fixture(scope="module")
def pywb(tmp_path_factory):
    """A live crawl of the demo blog, a wget WARC of it (with `/about`, a redirect), and
    pywb serving that WARC as the collection `demo`; the demo server is gone by then."""
    manager, wayback = _BIN / "wb-manager", _BIN / "wayback"
    if not manager.exists() or not wayback.exists():
        pytest.skip("pywb is not installed (it is in the dev dependencies)")
    tmp = tmp_path_factory.mktemp("wayback")
    with serve_site(demo_site_dir(), port=0) as server:
        base = server.base_url
        with Store.open(tmp / "live.db") as store:
            run(fast_config(), store, start=base + "/")
        warc = wget_warc(base, tmp / "site.warc.gz", base + "/about")
    home = tmp / "pywb"
    home.mkdir()
    exported = tmp / "exported.warc.gz"
    with Store.open(tmp / "live.db") as store:
        export_warc(store, exported)
    steps = (["init", "demo"], ["add", "demo", str(warc)])
    steps += (["init", "export"], ["add", "export", str(exported)])
    for step in steps:
        subprocess.run(
            [str(manager), *step], cwd=home, capture_output=True, check=True, timeout=120
        )
    port = _free_port()
    proc = subprocess.Popen(
        [str(wayback), "-p", str(port), "-b", "127.0.0.1", "-t", "8"],
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, proc)
        root = f"http://127.0.0.1:{port}/"
        yield {"tmp": tmp, "base": base, "server": root + "demo/", "export": root + "export/"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _run_wayback(db: Path, site: str, server: str, **dates: str) -> object:
    source, start = open_source(from_wayback=site, wayback_server=server, **dates)
    with Store.open(db) as store:
        return run(fast_config(), store, start=start, source=source)


@pytest.mark.slow
def test_wayback_run_gives_the_live_crawls_records(pywb):
    db = pywb["tmp"] / "from-wayback.db"
    report = _run_wayback(db, pywb["base"] + "/", pywb["server"])
    assert report.counts["failed"] == 0, report.failures
    archived, live = archive_records(db, pywb["tmp"] / "live.db")
    assert sorted(archived) == sorted(live)
    for url, record in live.items():
        assert archived[url] == record, url
    base = pywb["base"]
    assert aliases(db)[base + "/about"] == (base + "/about/", "redirect")
    post = next(u for u in archived if u.count("/") > 5)
    assert sources(db)[post].startswith("wayback:20")


@pytest.mark.slow
def test_pywb_replays_a_migrations_warc_export(pywb):
    """`migrator export warc` output is a WARC pywb indexes and replays: a run from that
    replay gives the live crawl's records again."""
    db = pywb["tmp"] / "from-export.db"
    report = _run_wayback(db, pywb["base"] + "/", pywb["export"])
    assert report.counts["failed"] == 0, report.failures
    archived, live = archive_records(db, pywb["tmp"] / "live.db")
    assert archived == live


@pytest.mark.slow
def test_wayback_dates_outside_every_capture_find_nothing(pywb):
    with pytest.raises(ConfigError, match="no captures"):
        open_source(
            from_wayback=pywb["base"] + "/",
            wayback_server=pywb["server"],
            date_from="1999",
            date_to="2000-12-31",
        )


@pytest.mark.slow
def test_pywb_does_not_page_its_cdx_and_a_cut_listing_is_counted(pywb):
    """pywb's CDX on a plain collection honours ``limit`` but gives no resume key (it
    pages only ZipNum indexes): a full page is counted as cut, never taken as all."""
    whole = WaybackArchive(pywb["base"] + "/", server=pywb["server"])
    assert (whole.pages, whole.limited) == (1, 0)
    cut = WaybackArchive(pywb["base"] + "/", server=pywb["server"], page_size=5)
    assert (cut.pages, cut.limited) == (1, 5)
    assert len(cut) < len(whole)


@pytest.mark.slow
def test_cli_run_from_wayback(pywb, tmp_path):
    db = tmp_path / "cli.db"
    result = CliRunner().invoke(
        cli,
        [
            "-q",
            "run",
            "--from-wayback",
            pywb["base"] + "/",
            "--wayback-server",
            pywb["server"],
            "--from",
            "2000",
            "--db",
            str(db),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["new"] == len(records(pywb["tmp"] / "live.db"))


@pytest.mark.slow
def test_wayback_sync_against_pywb_with_no_newer_capture_reads_no_page(pywb, tmp_path):
    """A sync of a migration read from pywb asks its CDX again; every capture is the
    stored one, so no page is read and nothing changes or is removed."""
    db = tmp_path / "sync.db"
    report = _run_wayback(db, pywb["base"] + "/", pywb["server"])
    assert report.counts["failed"] == 0, report.failures
    result = CliRunner().invoke(cli, ["-q", "sync", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["counts"]
    assert counts.get("fetched", 0) == counts.get("changed", 0) == 0
    assert counts.get("removed", 0) == counts.get("failed", 0) == 0
    assert counts["not_modified"] >= report.counts["new"]


# ------------------------------------------------------------ a scripted Wayback


_SITE = "http://old.example/"
_POST = page("An old post", body="<p>" + "Words of an old post. " * 30 + "</p>")


def _cdx_lines(*rows: tuple[str, str, str]) -> bytes:
    return b"\n".join(
        json.dumps({"timestamp": ts, "url": url, "mime": "text/html", "status": status}).encode()
        for ts, url, status in rows
    )


def test_wayback_cdx_rate_limit_and_bad_rows_are_waited_for_and_skipped():
    with TestServer() as server:
        body = _cdx_lines(
            ("20150101000000", _SITE, "200"),
            ("20150101000000", _SITE + "post/", "200"),
            ("20160101000000", _SITE + "post/", "404"),  # a later 404 loses to the 200
            ("20150101000000", _SITE + "warcinfo", "-"),
        )
        server.script(
            "/coll/cdx",
            Reply(status=429, headers={"Retry-After": "1"}, body=b"slow down"),
            Reply(status=503, body=b"busy"),
            Reply(body=body + b"\nnot json at all\n", content_type="application/json"),
        )
        archive = WaybackArchive(_SITE, server=server.url("/coll/"))
        assert server.count("/coll/cdx") == 3
        assert {c.url for c in archive.captures()} == {_SITE, _SITE + "post/"}
        assert archive.lookup(_SITE + "post/").status == 200
        assert archive.skipped == 2


def test_wayback_cdx_failure_is_one_clear_error():
    with TestServer() as server:
        server.script("/coll/cdx", Reply(status=500, body=b"oops"))
        with pytest.raises(RunFailed, match="HTTP 500"):
            WaybackArchive(_SITE, server=server.url("/coll/"))
        server.script("/coll/cdx", Reply(status=403, body=b"no"))
        with pytest.raises(RunFailed, match="HTTP 403"):
            WaybackArchive(_SITE, server=server.url("/coll/"))


def test_wayback_page_rate_limit_is_retried_by_the_fetcher(tmp_path):
    """A 429 while replaying a page goes to the fetcher, which waits and tries again."""
    with TestServer() as server:
        server.script(
            "/coll/cdx",
            Reply(
                body=_cdx_lines(
                    ("20150101000000", _SITE, "200"),
                    ("20150101000000", _SITE + "post/", "200"),
                ),
                content_type="application/json",
            ),
        )
        home = page("Home", "/post/")
        server.script("/coll/20150101000000id_/" + _SITE, Reply(body=home))
        server.script(
            "/coll/20150101000000id_/" + _SITE + "post/",
            Reply(status=429, headers={"Retry-After": "1"}, body=b""),
            Reply(body=_POST, headers={"X-Archive-Orig-Last-Modified": "Thu, 01 Jan 2015"}),
        )

        def missing(_request: Request) -> Reply:
            return Reply(status=404, body=b"not archived")

        server.route("/coll/", missing)
        source, start = open_source(from_wayback=_SITE, wayback_server=server.url("/coll/"))
        config = fast_config().with_fetch(backoff=0.1, max_attempts=3)
        with Store.open(tmp_path / "w.db") as store:
            report = run(config, store, start=start, source=source)
        assert report.counts["failed"] == 0, report.failures
        assert server.count("/coll/20150101000000id_/" + _SITE + "post/") == 2
        stored = records(tmp_path / "w.db")
        assert stored[_SITE + "post/"]["title"] == "An old post"
        assert sources(tmp_path / "w.db")[_SITE + "post/"] == "wayback:20150101000000"


def test_wayback_helpers():
    assert cdx_endpoint("https://web.archive.org/web/") == "https://web.archive.org/cdx/search/cdx"
    assert cdx_endpoint("http://127.0.0.1:8080/coll/") == "http://127.0.0.1:8080/coll/cdx"
    assert wayback_date("2015") == "20150000000000"
    assert wayback_date("2015-03-01", end=True) == "20150301999999"
    with pytest.raises(ConfigError, match="not a date"):
        wayback_date("yesterday")


def test_cli_wayback_options_need_from_wayback(tmp_path):
    result = CliRunner().invoke(cli, ["run", "--from", "2015", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2
    assert "go with --from-wayback" in result.output


def test_wayback_unreachable_server_is_a_usage_error(tmp_path):
    port = _free_port()  # nothing listens there
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--from-wayback",
            _SITE,
            "--wayback-server",
            f"http://127.0.0.1:{port}/coll/",
            "--db",
            str(tmp_path / "x.db"),
        ],
    )
    assert result.exit_code == 2
    assert "cannot reach" in result.output
