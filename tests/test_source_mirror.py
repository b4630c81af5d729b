"""Mirror folder input (#12): `wget --mirror --adjust-extension --convert-links` and HTTrack
folders of the demo blog give the same records as a live crawl; file names map back to
URLs, rewritten links back to the site's, HTTrack stubs to redirects."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from archives import aliases, archive_records, fast_config, records, sources, wget_mirror
from migrator.cli import cli
from migrator.demo import demo_site_dir, serve_site
from migrator.errors import ConfigError
from migrator.load import Store
from migrator.pipeline import run
from migrator.sources import open_source
from migrator.sources.mirror import MirrorArchive
from migrator.urls import canonical_url

BASE = "http://blog.example"


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    """A live crawl of the demo blog, a wget mirror and (where installed) an HTTrack
    mirror of the same server; the server is gone before a mirror is read."""
    tmp = tmp_path_factory.mktemp("mirror")
    with serve_site(demo_site_dir(), port=0) as server:
        base = server.base_url
        with Store.open(tmp / "live.db") as store:
            run(fast_config(), store, start=base + "/")
        wget_mirror(base, tmp / "wget")
        httrack = shutil.which("httrack")
        if httrack is not None:
            subprocess.run(
                [httrack, base + "/", "-O", str(tmp / "httrack"), "-q", "-%v0", "-c8"],
                check=False,
                timeout=180,
                capture_output=True,
            )
    return {"tmp": tmp, "base": base, "httrack": httrack is not None}


_SITE_URL = re.compile(r"http://127\.0\.0\.1:\d+[^\s\"'()<>\\]*")


def _normalized(out: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """The records as a mirror can give them back.

    A mirror keeps files, not the spellings of the links to them: `/x/index.html`,
    `/x/?utm_source=feed` and `/x/` are one file, so a rewritten link comes back as the
    page's stored (canonical) URL; links are compared in that spelling, and the content
    hash, computed from the text, is left out. A folder keeps no HTTP headers either, so
    pages are decoded by their <meta charset> where the live crawl used the header (the
    text is the same); where the charset was read is left out.
    """
    for record in out.values():
        used = record["sources"]
        assert isinstance(used, dict)
        used.pop("encoding", None)
        record.pop("content_hash")
        for key, value in record.items():
            if isinstance(value, str):
                record[key] = _SITE_URL.sub(lambda m: canonical_url(m.group(0)), value)
            elif isinstance(value, list):
                record[key] = [_SITE_URL.sub(lambda m: canonical_url(m.group(0)), v) for v in value]
    return out


def _comparable(db: Path, live_db: Path) -> tuple[dict, dict]:
    archived, live = archive_records(db, live_db)
    return _normalized(archived), _normalized(live)


def _run_mirror(db: Path, folder: Path, base: str) -> object:
    source, start = open_source(from_dir=str(folder), base_url=base)
    with Store.open(db) as store:
        return run(fast_config(), store, start=start, source=source)


@pytest.mark.slow
def test_wget_mirror_gives_the_live_crawls_records(mirrored):
    db = mirrored["tmp"] / "from-wget.db"
    report = _run_mirror(db, mirrored["tmp"] / "wget", mirrored["base"])
    assert report.counts["failed"] == 0, report.failures
    archived, live = _comparable(db, mirrored["tmp"] / "live.db")
    assert sorted(archived) == sorted(live)
    for url, record in live.items():
        assert archived[url] == record, url
    post = next(u for u in archived if u.count("/") > 5)
    host = mirrored["base"].split("//", 1)[1]
    assert sources(db)[post] == f"dir:{host}/{post.split(host + '/', 1)[1]}index.html"


@pytest.mark.slow
def test_httrack_mirror_gives_the_live_crawls_records(mirrored):
    if not mirrored["httrack"]:
        pytest.skip("httrack is not installed (CI installs it: .ci/run)")
    db = mirrored["tmp"] / "from-httrack.db"
    report = _run_mirror(db, mirrored["tmp"] / "httrack", mirrored["base"])
    assert report.counts["failed"] == 0, report.failures
    archived, live = _comparable(db, mirrored["tmp"] / "live.db")
    assert sorted(archived) == sorted(live)
    for url, record in live.items():
        assert archived[url] == record, url


def _page(title: str, *links: str) -> bytes:
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1><p>Some words about {title}.</p>"
        f"<ul>{anchors}</ul></article></body></html>"
    ).encode()


def _write(root: Path, rel: str, body: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def test_mirror_reconstructs_urls_from_wget_file_names(tmp_path):
    site = tmp_path / "blog.example"
    _write(site, "index.html", _page("Home", "blog/index.html", "blog/index.html%3Fpage=2.html"))
    _write(site, "blog/index.html", _page("Blog"))
    _write(site, "blog/index.html?page=2.html", _page("Blog 2"))
    _write(site, "tag/index.html@tag=calm.html", _page("Calm"))
    _write(site, "about.html", _page("About"))
    _write(site, "style.css", b"body{}")
    archive = MirrorArchive(tmp_path, BASE)
    assert archive.site_dir == site
    urls = {c.url for c in archive.captures()}
    assert urls == {
        f"{BASE}/",
        f"{BASE}/blog/",
        f"{BASE}/blog/?page=2",
        f"{BASE}/tag/?tag=calm",
        f"{BASE}/about.html",
        f"{BASE}/style.css",
    }
    assert archive.lookup(f"{BASE}/style.css").content_type == "text/css"


def test_mirror_maps_rewritten_links_back_to_site_urls(tmp_path):
    site = tmp_path / "blog.example"
    _write(
        site,
        "blog/post/index.html",
        _page(
            "Post",
            "../../index.html",
            "../index.html%3Fpage=2.html#top",
            "../../missing/index.html",
            "https://elsewhere.example/x",
            "/root/relative/",
        ),
    )
    _write(site, "index.html", _page("Home"))
    _write(site, "blog/index.html?page=2.html", _page("Blog 2"))
    archive = MirrorArchive(tmp_path, BASE)
    body = asyncio.run(archive.read(archive.lookup(f"{BASE}/blog/post/"))).body.decode()
    assert f'href="{BASE}/"' in body
    assert f'href="{BASE}/blog/?page=2#top"' in body
    assert 'href="../../missing/index.html"' in body  # broken: left for the page URL
    assert 'href="https://elsewhere.example/x"' in body
    assert 'href="/root/relative/"' in body


_STUB = (
    "<HTML>\r\n<!-- Created by HTTrack Website Copier/3.49-4 [XR&CO'2014] -->\r\n"
    '<HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html;charset=UTF-8">'
    '<META HTTP-EQUIV="Refresh" CONTENT="0; URL={0}"><TITLE>Page has moved</TITLE></HEAD>\r\n'
    '<BODY>\r\n<A HREF="{0}"><h3>Click here...</h3></A>\r\n</BODY>\r\n'
    "<!-- Created by HTTrack Website Copier/3.49-4 [XR&CO'2014] -->\r\n</HTML>\r\n"
)


def _httrack_page(url: str, title: str, *links: str) -> bytes:
    comment = (
        f"<!-- Mirrored from {url} by HTTrack Website Copier/3.x [XR&CO'2014], "
        "Tue, 03 Mar 2015 10:20:30 GMT -->\n"
        '<!-- Added by HTTrack --><meta http-equiv="content-type" content="text/html;'
        'charset=utf-8" /><!-- /Added by HTTrack -->\n'
    ).encode()
    page = _page(title, *links)
    return page.replace(b"<html>", b"<html>\n" + comment, 1)


def test_mirror_reads_httrack_comments_and_stubs(tmp_path):
    site = tmp_path / "blog.example"
    _write(site, "index.html", _httrack_page("blog.example/", "Home", "old/index.html"))
    _write(site, "new/index.html", _httrack_page("blog.example/new/", "New"))
    _write(site, "old/index.html", _STUB.format("../new/index.html").encode())
    _write(
        site,
        "list/index4b2c.html",
        _httrack_page("blog.example/list/?page=3", "List 3", "../broken/index.html"),
    )
    _write(tmp_path, "hts-cache/doit.log", b"")
    _write(tmp_path, "backblue.gif", b"GIF89a")
    archive = MirrorArchive(tmp_path, BASE)
    assert archive.stubs == 1
    stub = archive.lookup(f"{BASE}/old/")
    assert stub.status == 301
    assert stub.location == f"{BASE}/new/"
    listed = archive.lookup(f"{BASE}/list/?page=3")
    assert listed.date.year == 2015
    body = asyncio.run(archive.read(listed)).body
    assert b"Mirrored from" not in body
    assert b"Added by HTTrack" not in body
    assert archive.lookup(f"{BASE}/backblue.gif") is None


def test_mirror_run_turns_stubs_into_aliases_and_survives_broken_links(tmp_path):
    site = tmp_path / "blog.example"
    _write(site, "index.html", _httrack_page("blog.example/", "Home", "old/index.html"))
    _write(site, "new/index.html", _httrack_page("blog.example/new/", "A new post"))
    _write(site, "old/index.html", _STUB.format("../new/index.html").encode())
    _write(site, "post/index.html", _page("Post", "../gone/index.html", "../gone2.html"))
    db = tmp_path / "stub.db"
    report = _run_mirror(db, tmp_path, BASE)
    assert report.counts["failed"] == 0, report.failures
    assert aliases(db)[f"{BASE}/old/"] == (f"{BASE}/new/", "redirect")
    assert {f"{BASE}/new/", f"{BASE}/post/"} <= set(records(db))
    assert report.counts["dead_links"] >= 2


def test_mirror_refuses_an_empty_folder_and_a_bad_base(tmp_path):
    with pytest.raises(ConfigError, match="no files of"):
        MirrorArchive(tmp_path, BASE)
    with pytest.raises(ConfigError, match="not an http"):
        MirrorArchive(tmp_path, "blog.example")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-dir", "."], "--from-dir needs --base-url"),
        (["--from-dir", "/nonexistent/folder", "--base-url", BASE], "not a folder"),
        (["--base-url", BASE], "--base-url goes with --from-dir"),
    ],
)
def test_cli_from_dir_usage_errors(tmp_path, args, message):
    result = CliRunner().invoke(cli, ["run", *args, "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
