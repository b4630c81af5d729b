"""WARC and ARC input (#12): archives made by real wget from the demo blog give the same
records as a live crawl of it; damaged records are skipped with a reason, never a crash."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import re
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from structlog.testing import capture_logs
from warcio.archiveiterator import ArchiveIterator

from archives import aliases, archive_records, fast_config, records, sources, wget_warc
from migrator.cli import cli
from migrator.demo import demo_site_dir, serve_site
from migrator.errors import ConfigError
from migrator.load import Store
from migrator.pipeline import run
from migrator.sources import open_source
from migrator.sources.replay import ArchiveSource
from migrator.sources.warc import WarcArchive
from migrator.urls import canonical_url

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """A live crawl of the demo blog and wget WARCs of the same server (plus `/about`,
    which answers a redirect to `/about/`); the server is gone before any WARC is read."""
    tmp = tmp_path_factory.mktemp("warc")
    with serve_site(demo_site_dir(), port=0) as server:
        base = server.base_url
        with Store.open(tmp / "live.db") as store:
            run(fast_config(), store, start=base + "/")
        warc = wget_warc(base, tmp / "site.warc.gz", base + "/about")
        plain = wget_warc(base, tmp / "plain.warc", compress=False)
        dedup = wget_warc(base, tmp / "again.warc.gz", dedup=tmp / "site.cdx")
    return {"tmp": tmp, "base": base, "warc": warc, "plain": plain, "dedup": dedup}


def _run_archive(db: Path, *files: Path) -> object:
    source, start = open_source(from_warc=tuple(str(f) for f in files))
    with Store.open(db) as store:
        return run(fast_config(), store, start=start, source=source)


@pytest.fixture(scope="module")
def warc_run(crawled):
    """A run from the wget WARC: (database, report)."""
    db = crawled["tmp"] / "from-warc.db"
    return db, _run_archive(db, crawled["warc"])


def test_warc_run_gives_the_live_crawls_records(crawled, warc_run):
    db, report = warc_run
    assert report.counts["failed"] == 0, report.failures
    archived, live = archive_records(db, crawled["tmp"] / "live.db")
    # Every post of the demo shows its date; the about and contact pages show none and,
    # being static pages, get no capture day either.
    dated = [u for u, r in records(db).items() if "capture_date" in str(r["sources"])]
    assert dated == []
    assert sorted(archived) == sorted(live)
    assert sum(1 for r in live.values() if r["page_type"] == "post") >= 40
    for url, record in live.items():
        assert archived[url] == record, url


def test_warc_run_keeps_redirects_as_aliases(crawled, warc_run):
    db, _ = warc_run
    base = crawled["base"]
    assert aliases(db)[base + "/about"] == (base + "/about/", "redirect")


def test_warc_run_records_provenance_and_capture_time(crawled, warc_run):
    db, _ = warc_run
    where = sources(db)
    post = next(u for u in where if "/blog/" in u and u.count("/") > 5)
    assert re.fullmatch(r"warc:site\.warc\.gz#\d+", where[post] or "")
    offset = int((where[post] or "").rsplit("#", 1)[1])
    with crawled["warc"].open("rb") as file:
        file.seek(offset)
        record = next(iter(ArchiveIterator(file)))
        assert record.rec_headers.get_header("WARC-Target-URI").strip("<>") == post
        captured = record.rec_headers.get_header("WARC-Date")
    conn = sqlite3.connect(db)
    try:
        (fetched_at,) = conn.execute(
            "SELECT fetched_at FROM raw_pages WHERE url = ?", (post,)
        ).fetchone()
    finally:
        conn.close()
    assert datetime.fromisoformat(fetched_at) == datetime.fromisoformat(captured)
    assert set(sources(crawled["tmp"] / "live.db").values()) == {None}


def test_warc_uncompressed_reads_the_same_pages(crawled):
    gz = WarcArchive([crawled["warc"]])
    plain = WarcArchive([crawled["plain"]])
    assert {c.url for c in plain.captures()} <= {c.url for c in gz.captures()}
    assert len(plain) >= 60
    assert plain.skipped == 0


def test_warc_revisits_resolve_to_their_original_payload(crawled):
    """wget --warc-dedup writes revisit records for pages whose payload it already has."""
    both = WarcArchive([crawled["warc"], crawled["dedup"]])
    revisits = [c for c in both.captures() if c.payload_ref is not None]
    assert len(revisits) >= 40
    capture = next(c for c in revisits if c.url.endswith("/blog/"))
    answer = asyncio.run(both.read(capture))
    assert b"<html" in answer.body.lower()
    assert capture.status == 200
    assert capture.origin.startswith("warc:again.warc.gz#")


def test_warc_revisit_without_its_original_is_skipped_with_a_reason(crawled):
    with capture_logs() as logs:
        alone = WarcArchive([crawled["dedup"]])
    skipped = [e for e in logs if e["event"] == "warc_record_skipped"]
    assert alone.skipped == len(skipped) >= 40
    assert all("revisit of a record not in these files" in e["reason"] for e in skipped)


def _members(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each gzip member of a .warc.gz."""
    spans = []
    records = ArchiveIterator(io.BytesIO(data))
    for _ in records:
        spans.append((records.get_record_offset(), 0))
    ends = [o for o, _ in spans[1:]] + [len(data)]
    return [(o, e - o) for (o, _), e in zip(spans, ends, strict=True)]


def _response_members(data: bytes) -> list[tuple[int, int]]:
    return [
        (o, n)
        for o, n in _members(data)
        if b"WARC-Type: response" in gzip.decompress(data[o : o + n])[:400]
    ]


def test_warc_truncated_gzip_member_skips_that_record_only(crawled, tmp_path):
    data = crawled["warc"].read_bytes()
    good = WarcArchive([crawled["warc"]])
    offset, length = _response_members(data)[5]
    broken = tmp_path / "truncated.warc.gz"
    broken.write_bytes(data[: offset + length // 2] + data[offset + length :])
    with capture_logs() as logs:
        archive = WarcArchive([broken])
    skipped = [e for e in logs if e["event"] == "warc_record_skipped"]
    assert archive.skipped == 1 == len(skipped)
    assert skipped[0]["offset"] == offset
    assert skipped[0]["reason"]
    victim = gzip.decompress(data[offset : offset + length])
    url = re.search(rb"WARC-Target-URI: <?([^>\r\n]+)", victim).group(1).decode()
    lost = {c.url for c in good.captures()} - {c.url for c in archive.captures()}
    assert lost <= {canonical_url(url)}  # another capture may answer for the same URL


def test_warc_truncated_file_end_keeps_every_whole_record(crawled, tmp_path):
    data = crawled["warc"].read_bytes()
    offset, length = _response_members(data)[-1]
    broken = tmp_path / "cut.warc.gz"
    broken.write_bytes(data[: offset + length // 2])
    archive = WarcArchive([broken])
    assert archive.skipped == 1
    assert len(archive) == len(WarcArchive([crawled["warc"]])) - 1


@pytest.mark.parametrize("delta", [-200, +300])
def test_warc_wrong_content_length_skips_that_record_only(crawled, tmp_path, delta):
    """A Content-Length too short leaves junk before the next record; one too long
    swallows the start of the next: either way that record alone is skipped."""
    data = crawled["plain"].read_bytes()
    starts = [m.start() + 1 for m in re.finditer(rb"\nWARC/1\.0\r\nWARC-Type: response", data)]
    at = starts[10]
    header_end = data.index(b"\r\n\r\n", at)
    head = data[at:header_end]
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    new_head = head.replace(
        b"Content-Length: %d" % length, b"Content-Length: %d" % (length + delta)
    )
    broken = tmp_path / "length.warc"
    broken.write_bytes(data[:at] + new_head + data[header_end:])
    good = WarcArchive([crawled["plain"]])
    with capture_logs() as logs:
        archive = WarcArchive([broken])
    skipped = [e for e in logs if e["event"] == "warc_record_skipped"]
    assert archive.skipped == len(skipped) >= 1
    assert skipped[0]["offset"] == at
    assert len(archive) == len(good) - 1


def test_warc_run_with_a_damaged_record_fails_no_other_page(crawled, tmp_path):
    data = crawled["warc"].read_bytes()
    offset, length = _response_members(data)[8]
    victim = gzip.decompress(data[offset : offset + length])
    url = re.search(rb"WARC-Target-URI: <?([^>\r\n]+)", victim).group(1).decode()
    broken = tmp_path / "damaged.warc.gz"
    broken.write_bytes(data[: offset + 40] + data[offset + length :])
    report = _run_archive(tmp_path / "damaged.db", broken)
    archived, live = archive_records(tmp_path / "damaged.db", crawled["tmp"] / "live.db")
    assert report.counts["failed"] == 0, report.failures
    missing = set(live) - set(archived)
    assert missing <= {url}
    for page_url, record in archived.items():
        assert record == live[page_url]


def _arc_record(url: str, date: str, http: bytes) -> bytes:
    header = f"{url} 127.0.0.1 {date} text/html {len(http)}\n".encode()
    return gzip.compress(header + http + b"\n")


def test_arc_file_is_read_as_captures(tmp_path):
    """The older ARC format (gzipped, one member per record), as Heritrix wrote it."""
    body = b"<html><head><title>Old</title></head><body><h1>Old</h1><p>text</p></body></html>"
    http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    filedesc = b"filedesc://old.arc 0.0.0.0 20090102030405 text/plain 77\n"
    filedesc += b"1 0 Test\nURL IP-address Archive-date Content-type Archive-length\n\n"
    arc = tmp_path / "old.arc.gz"
    arc.write_bytes(
        gzip.compress(filedesc) + _arc_record("http://old.example/post/", "20090102030405", http)
    )
    archive = WarcArchive([arc])
    capture = archive.lookup("http://old.example/post/")
    assert capture is not None
    assert capture.status == 200
    assert capture.date.isoformat().startswith("2009-01-02T03:04:05")
    assert asyncio.run(archive.read(capture)).body == body
    assert archive.start_url() == "http://old.example/"


def test_warc_source_seeds_pages_and_redirects_only(crawled):
    source = ArchiveSource(WarcArchive([crawled["warc"]]))
    seeds = set(source.seeds())
    base = crawled["base"]
    assert base + "/about" in seeds  # a redirect: becomes an alias
    assert base + "/robots.txt" not in seeds
    assert base + "/style.css" not in seeds


def test_open_source_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        open_source(from_warc=(str(tmp_path / "missing.warc.gz"),))
    junk = tmp_path / "junk.warc"
    junk.write_bytes(b"this is not an archive\n" * 10)
    with pytest.raises(ConfigError, match=r"no http\(s\) answers|no readable WARC"):
        open_source(from_warc=(str(junk),))
    with pytest.raises(ConfigError, match="only one of"):
        open_source(from_warc=("a",), from_dir=str(tmp_path))


def test_cli_run_from_warc_takes_several_files(crawled, tmp_path):
    db = tmp_path / "cli.db"
    result = CliRunner().invoke(
        cli,
        [
            "-q",
            "run",
            "--from-warc",
            str(crawled["warc"]),
            str(crawled["dedup"]),
            "--db",
            str(db),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    archived, live = archive_records(db, crawled["tmp"] / "live.db")
    assert archived == live


def test_cli_run_from_missing_warc_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        cli, ["run", "--from-warc", str(tmp_path / "nope.warc.gz"), "--db", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert "no such file" in result.output
    assert "Traceback" not in result.output


def test_export_warc_round_trips_to_the_same_records(crawled, warc_run, tmp_path):
    """`migrator export warc` writes every stored answer (and each redirect alias); a
    run from that WARC gives the same records and aliases again."""
    source_db, _ = warc_run
    out = tmp_path / "export" / "migration.warc.gz"
    result = CliRunner().invoke(
        cli, ["export", "warc", "--db", str(source_db), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["responses"] == len(sources(source_db))
    assert summary["redirects"] == 1
    archive = WarcArchive([out])
    assert archive.skipped == 0
    assert len(archive) == summary["responses"] + summary["redirects"]
    db = tmp_path / "again.db"
    report = _run_archive(db, out)
    assert report.counts["failed"] == 0, report.failures
    archived, live = archive_records(db, crawled["tmp"] / "live.db")
    assert archived == live
    base = crawled["base"]
    assert aliases(db)[base + "/about"] == (base + "/about/", "redirect")


def test_export_warc_refuses_a_folder_as_out(crawled, tmp_path):
    result = CliRunner().invoke(
        cli, ["export", "warc", "--db", str(crawled["tmp"] / "live.db"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "is a folder" in result.output
