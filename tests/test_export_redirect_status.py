"""Redirects keep the status the legacy site answered (#12): a real server redirects with
301, 302, 307 and 308; the crawl stores each status with its alias; `export warc` writes
them as stored (and `--from-warc` reads them back), the redirect files use them where the
format can say so; an alias from an older crawl (no status) stays a marked 301."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archives import fast_config
from migrator.config import Config
from migrator.export import export
from migrator.export.warc import export_warc
from migrator.load import Store
from migrator.models import RawPage
from migrator.pipeline import run
from migrator.sources import open_source
from servers import Reply, TestServer, page, redirect

_STATUSES = {"/a": 302, "/b": 307, "/c": 308, "/d": 301}
_TARGETS = {
    "/a": "/blog/first/",
    "/b": "/blog/second/",
    "/c": "/blog/third/",
    "/d": "/blog/fourth/",
}
_BODY = "<p>" + "A post worth keeping, with enough words to be a body. " * 12 + "</p>"


def _alias_statuses(db: Path) -> dict[str, int | None]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT url, status FROM aliases WHERE kind = 'redirect'")
        return {str(url): status for url, status in rows}


def _warc_redirects(warc: Path) -> dict[str, tuple[int, str, str | None]]:
    found = {}
    with warc.open("rb") as file:
        for record in ArchiveIterator(file):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            status = int(record.http_headers.get_statuscode())
            if 300 <= status < 400:
                url = record.rec_headers.get_header("WARC-Target-URI")
                found[url] = (
                    status,
                    record.http_headers.get_header("Location"),
                    record.rec_headers.get_header("WARC-Migrator-Note"),
                )
    return found


@pytest.fixture
def crawled(tmp_path):
    """A live crawl of a site whose old URLs redirect with four different 3xx."""
    with TestServer() as server:
        server.script("/", Reply(body=page("Home", *_STATUSES)))
        for old, status in _STATUSES.items():
            server.script(old, redirect(server.url(_TARGETS[old]), status))
            server.script(_TARGETS[old], Reply(body=page(f"Post {old}", body=_BODY)))
        db = tmp_path / "live.db"
        with Store.open(db) as store:
            report = run(fast_config(), store, start=server.url("/"))
        assert report.counts["failed"] == 0, report.failures
        yield {"db": db, "base": server.base_url}


def test_crawl_stores_each_redirects_status(crawled):
    base = crawled["base"]
    assert _alias_statuses(crawled["db"]) == {base + old: s for old, s in _STATUSES.items()}


def test_export_warc_writes_redirects_with_their_stored_status(crawled, tmp_path):
    """The WARC holds each redirect as the site answered it, and reading that WARC
    back gives the same aliases with the same statuses."""
    base, warc = crawled["base"], tmp_path / "out.warc.gz"
    with Store.open(crawled["db"]) as store:
        report = export_warc(store, warc)
    assert report.redirects == len(_STATUSES)
    written = _warc_redirects(warc)
    for old, status in _STATUSES.items():
        assert written[base + old] == (status, base + _TARGETS[old], None), old
    source, start = open_source(from_warc=(str(warc),))
    again = tmp_path / "again.db"
    with Store.open(again) as store:
        run(fast_config(), store, start=start, source=source)
    assert _alias_statuses(again) == _alias_statuses(crawled["db"])


def test_export_redirect_files_use_the_stored_status(crawled, tmp_path):
    with Store.open(crawled["db"], lock=False) as store:
        for fmt in ("csv", "apache", "netlify", "nginx"):
            export(store, Config(), fmt="redirects", out=tmp_path / fmt, redirect_format=fmt)
    rows = (tmp_path / "csv/redirects.csv").read_text().splitlines()
    csv_status = {r.split(",")[1]: int(r.split(",")[3]) for r in rows[1:]}
    assert {old: csv_status[old] for old in _STATUSES} == _STATUSES
    netlify = (tmp_path / "netlify/_redirects").read_text()
    assert "/a  /first/  302!" in netlify
    assert "/c  /third/  308!" in netlify
    apache = (tmp_path / "apache/redirects.htaccess").read_text()
    assert 'RewriteRule ^ "/second/?" [R=307,L]' in apache
    assert 'RewriteRule ^ "/fourth/?" [R=301,L]' in apache
    nginx = (tmp_path / "nginx/redirects.nginx.conf").read_text()
    assert "map $request_uri $migrator_redirect_302 {" in nginx
    section = nginx[nginx.index("$migrator_redirect_302 {") :]
    assert '"/a" "/first/";' in section[: section.index("}")]
    binary = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if binary is None:
        pytest.skip("nginx is not installed (CI installs it)")
    server_lines = "\n".join(
        line.removeprefix("#     ") for line in nginx.splitlines() if "if ($migrator" in line
    )
    assert server_lines.count("return") == 4
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path / 'nginx/redirects.nginx.conf'};\n"
        f"  server {{\n    listen 127.0.0.1:8089;\n{server_lines}\n  }}\n}}\n"
    )
    checked = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_export_warc_marks_a_redirect_whose_status_was_not_stored(tmp_path):
    db, url, old = tmp_path / "old.db", "http://h.example/post/", "http://h.example/?p=1"
    with Store.open(db) as store:
        store.save_fetch(
            old,
            RawPage(
                url=url,
                requested_url=old,
                status=200,
                headers=(("content-type", "text/html"),),
                body=b"<h1>Post</h1>",
                fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
                redirects=(old,),  # an older crawl: no redirect_statuses
            ),
        )
        export_warc(store, tmp_path / "out.warc")
    status, location, note = _warc_redirects(tmp_path / "out.warc")[old]
    assert (status, location) == (301, url)
    assert "not stored" in (note or "")
