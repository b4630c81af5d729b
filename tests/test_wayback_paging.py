"""CDX paging (#12): a site with more captures than one CDX answer holds is read whole
through the Archive's resumeKey paging, served by a real local CDX server that pages
like archive.org's; a server that cuts the listing without a key is reported."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from archives import fast_config
from migrator.errors import RunFailed
from migrator.load import Store
from migrator.pipeline import run
from migrator.sources.wayback import WaybackArchive, WaybackSource
from servers import Reply, Request, TestServer, page

_SITE = "http://old.example/"
_HEADER = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]


def _captures(n: int) -> list[list[str]]:
    rows = [["example)/", "20150101000000", _SITE, "text/html", "200", "D0", "100"]]
    for i in range(n - 1):
        url = f"{_SITE}post-{i:03d}/"
        rows.append([f"example)/post-{i:03d}", "20150101000000", url, "text/html", "200", "D", "1"])
    return rows


class ArchiveOrgCdx:
    """archive.org's CDX paging: ``limit`` rows, then ``[]`` and ``[resumeKey]`` when
    more follow (JSON output); the key is the next row's urlkey and timestamp."""

    def __init__(self, rows: list[list[str]], *, rate_limit_page: int | None = None) -> None:
        self.rows = rows
        self.rate_limit_page = rate_limit_page
        self.asked: list[dict[str, str]] = []
        self.limited_once = False

    def __call__(self, request: Request) -> Reply:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        self.asked.append(query)
        page_no = len(self.asked) - 1
        if page_no == self.rate_limit_page and not self.limited_once:
            self.limited_once = True
            return Reply(status=429, headers={"Retry-After": "0"}, body=b"slow down")
        start = 0
        if "resumeKey" in query:
            start = next(
                i for i, r in enumerate(self.rows) if f"{r[0]} {r[1]}" == query["resumeKey"]
            )
        limit = int(query.get("limit", "100000"))
        chunk = self.rows[start : start + limit]
        table: list[list[str]] = [_HEADER, *chunk]
        rest = self.rows[start + limit :]
        if rest and query.get("showResumeKey") == "true":
            table += [[], [f"{rest[0][0]} {rest[0][1]}"]]
        return Reply(body=json.dumps(table).encode(), content_type="text/plain")


class UnpagedCdx:
    """pywb's CDX on a plain index: honours ``limit``, ignores ``showResumeKey``."""

    def __init__(self, rows: list[list[str]]) -> None:
        self.rows = rows

    def __call__(self, request: Request) -> Reply:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        chunk = self.rows[: int(query.get("limit", "100000"))]
        lines = [
            json.dumps({"timestamp": r[1], "url": r[2], "mime": r[3], "status": r[4]})
            for r in chunk
        ]
        return Reply(body="\n".join(lines).encode(), content_type="text/x-ndjson")


def test_wayback_cdx_paging_reads_every_page_through_a_rate_limit():
    cdx = ArchiveOrgCdx(_captures(12), rate_limit_page=1)
    with TestServer() as server:
        server.route("/coll/cdx", cdx)
        archive = WaybackArchive(_SITE, server=server.url("/coll/"), page_size=5)
    assert len(archive) == 12
    assert archive.pages == 3  # 5 + 5 + 2 rows; the 429 was asked again
    assert archive.limited == 0
    first, second = "example)/post-004 20150101000000", "example)/post-009 20150101000000"
    assert [q.get("resumeKey") for q in cdx.asked] == [None, first, first, second]
    assert all(q["limit"] == "5" and q["showResumeKey"] == "true" for q in cdx.asked)


def test_wayback_cdx_paging_in_text_output_reads_the_key_after_the_blank_line():
    rows = _captures(4)

    def text_cdx(request: Request) -> Reply:
        query = parse_qs(urlsplit(request.path).query)
        lines = [" ".join(r) for r in (rows[2:] if "resumeKey" in query else rows[:2])]
        if "resumeKey" not in query:
            lines += ["", "example)/post-001+20150101000000"]
        return Reply(body="\n".join(lines).encode(), content_type="text/plain")

    with TestServer() as server:
        server.route("/coll/cdx", text_cdx)
        archive = WaybackArchive(_SITE, server=server.url("/coll/"), page_size=2)
    assert len(archive) == 4
    assert archive.pages == 2


def test_wayback_cdx_paging_that_repeats_a_key_is_one_clear_error():
    def stuck(_request: Request) -> Reply:
        table = [_HEADER, *_captures(2), [], ["example)/ 20150101000000"]]
        return Reply(body=json.dumps(table).encode(), content_type="text/plain")

    with TestServer() as server:
        server.route("/coll/cdx", stuck)
        with pytest.raises(RunFailed, match="repeats itself"):
            WaybackArchive(_SITE, server=server.url("/coll/"), page_size=2)


def test_wayback_cdx_cut_without_a_key_is_reported_in_the_run(tmp_path):
    """A server that stops the listing at ``limit`` rows without a resume key: the run
    says so (count and message), it does not pass the cut listing off as the site."""
    with TestServer() as server:
        server.route("/coll/cdx", UnpagedCdx(_captures(8)))
        server.route("/coll/2015", lambda _r: Reply(body=page("Home")))
        archive = WaybackArchive(_SITE, server=server.url("/coll/"), page_size=5)
        assert (len(archive), archive.limited) == (5, 5)
        with Store.open(tmp_path / "w.db") as store:
            report = run(fast_config(), store, start=_SITE, source=WaybackSource(archive))
    assert report.counts["limited_wayback_cdx"] == 5
    assert "Wayback CDX listing stopped at a full page of 5 rows" in (report.message or "")
