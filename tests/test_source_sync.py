"""`sync` of a migration read from WARC files or a mirror folder (#12). Without archive
options it reads the recorded files or folder again (a mirror refreshed in place); with
them it reads the archive given (a later crawl's WARC). Only captures newer than the
stored answers are read; a page the archive does not hold is left as it is (an archive's
silence is not a removal). WARCs are written with warcio, mirrors as wget lays them out."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from migrator.cli import cli
from servers import page

# The CLI's -q sets structlog's level for the whole process (see conftest).
pytestmark = pytest.mark.usefixtures("restore_logging")


_SITE = "http://old.example/"
_HOME = page("Home", "/post/", "/other/")
_V1 = page("A post", body="<p>" + "The post as first archived, word for word. " * 30 + "</p>")
_V2 = page("A post", body="<p>" + "The post as it was rewritten a year later. " * 30 + "</p>")
_OTHER = page("Another post", body="<p>" + "Another post that never changes at all. " * 30 + "</p>")


def _warc(path: Path, *answers: tuple[str, str, bytes]) -> Path:
    """A WARC of ``(url, ISO date, HTML body)`` response records."""
    with path.open("wb") as file:
        writer = WARCWriter(file, gzip=True)
        for url, date, body in answers:
            http = StatusAndHeaders(
                "200 OK",
                [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            record = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(body),
                length=len(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)
    return path


def _cli(*args: str, code: int = 0) -> CliRunner:
    result = CliRunner().invoke(cli, ["-q", *args])
    assert result.exit_code == code, result.output
    return result


def _counts(*args: str) -> dict[str, int]:
    return json.loads(_cli(*args, "--json").stdout)["counts"]


def _one(db: Path, sql: str, *params: object) -> object:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchone()[0]


def test_warc_sync_reads_the_recorded_files_then_a_later_crawls_warc(tmp_path):
    db = tmp_path / "w.db"
    first = _warc(
        tmp_path / "crawl-1.warc.gz",
        (_SITE, "2015-01-01T00:00:00Z", _HOME),
        (_SITE + "post/", "2015-01-01T00:00:00Z", _V1),
        (_SITE + "other/", "2015-01-01T00:00:00Z", _OTHER),
    )
    assert _counts("run", "--from-warc", str(first), "--db", str(db))["new"] == 3

    # Again from the recorded file: every capture is the stored one, nothing is read.
    same = _counts("sync", "--db", str(db))
    assert same.get("fetched", 0) == same.get("changed", 0) == same.get("removed", 0) == 0
    assert same["not_modified"] >= 3

    # A later crawl that holds only the rewritten post: that post changes, the pages the
    # WARC does not hold stay as they are (not removed).
    later = _warc(tmp_path / "crawl-2.warc.gz", (_SITE + "post/", "2016-01-01T00:00:00Z", _V2))
    counts = _counts("sync", "--from-warc", str(later), "--db", str(db))
    assert counts["changed"] == 1
    assert counts.get("removed", 0) == counts.get("failed", 0) == 0
    assert "rewritten a year later" in str(
        _one(db, "SELECT body_text FROM pages WHERE url = ?", _SITE + "post/")
    )
    source = _one(db, "SELECT source FROM raw_pages WHERE url = ?", _SITE + "post/")
    assert source == "warc:crawl-2.warc.gz#0"
    assert _one(db, "SELECT count(*) FROM pages WHERE removed_at IS NULL") == 3
    assert _one(db, "SELECT count(*) FROM page_versions") == 1

    # The recorded WARC is gone: one clear line, exit 2.
    later.rename(tmp_path / "moved.warc.gz")
    result = _cli("sync", "--db", str(db), code=2)
    assert "sync reads it again: --from-warc: no such file" in result.output
    assert result.output.count("\n") == 1


def test_sync_with_an_archive_of_another_site_is_a_usage_error(tmp_path):
    db = tmp_path / "w.db"
    mine = _warc(tmp_path / "a.warc.gz", (_SITE, "2015-01-01T00:00:00Z", _HOME))
    _cli("run", "--from-warc", str(mine), "--db", str(db))
    theirs = _warc(
        tmp_path / "b.warc.gz", ("http://elsewhere.example/", "2016-01-01T00:00:00Z", _HOME)
    )
    result = _cli("sync", "--from-warc", str(theirs), "--db", str(db), code=2)
    assert "archive is of elsewhere.example, this migration of old.example" in result.output
    result = _cli("sync", "--base-url", _SITE, "--db", str(db), code=2)
    assert "--base-url goes with --from-dir" in result.output


def _mirror(root: Path, files: dict[str, bytes], when: datetime) -> None:
    for name, body in files.items():
        path = root / "old.example" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        stamp = when.timestamp()
        os.utime(path, (stamp, stamp))


def test_mirror_sync_reads_a_refreshed_folder_again(tmp_path):
    """wget -N refreshes a mirror in place: a sync without options reads the recorded
    folder again, and only the file that is newer than its stored copy."""
    db, mirror = tmp_path / "m.db", tmp_path / "mirror"
    old = datetime(2015, 1, 1, tzinfo=UTC)
    files = {"index.html": _HOME, "post/index.html": _V1, "other/index.html": _OTHER}
    _mirror(mirror, files, old)
    run = _counts("run", "--from-dir", str(mirror), "--base-url", _SITE, "--db", str(db))
    assert run["new"] == 3
    _mirror(mirror, {"post/index.html": _V2}, datetime(2016, 1, 1, tzinfo=UTC))
    _cli("extract", "--db", str(db))  # a runs row of its own: the sync still finds the folder
    counts = _counts("sync", "--db", str(db))
    assert counts["changed"] == 1
    assert counts.get("removed", 0) == counts.get("failed", 0) == 0
    assert counts["not_modified"] >= 2
    recorded = json.loads(str(_one(db, "SELECT source FROM runs ORDER BY id DESC LIMIT 1")))
    assert recorded == {"base_url": _SITE, "from_dir": str(mirror.absolute())}
    shutil.rmtree(mirror)
    result = _cli("sync", "--db", str(db), code=2)
    assert "--from-dir: not a folder" in result.output
