"""Write every stored answer as a WARC file, so a migration doubles as a preservation
copy that a replay server (pywb) can serve and ``migrator run --from-warc`` can read.

Each stored answer becomes a ``response`` record dated when it was fetched (or captured,
for an archive's answer) with its status and headers; the body is the stored one, already
decoded, so ``Content-Encoding`` and ``Transfer-Encoding`` are dropped and
``Content-Length`` set to match. Each redirect alias becomes a response with the 3xx
the site answered (301, 302, 307, 308… as stored) pointing at its target; an alias from
a crawl older than the stored status (schema 8) is written as a ``301`` and the record
says so (``WARC-Migrator-Note``). The file is written beside the output and renamed
into place once complete. This module never fetches and never changes the database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

import structlog
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from migrator.errors import ExportError
from migrator.load import Store
from migrator.models import RawPage
from migrator.version import __version__

__all__ = ["WarcExportReport", "export_warc"]

log = structlog.get_logger()

_DROPPED = frozenset({"content-encoding", "transfer-encoding", "content-length", "connection"})


@dataclass(frozen=True, slots=True, kw_only=True)
class WarcExportReport:
    """What one WARC export wrote."""

    out: str
    responses: int
    redirects: int
    bytes: int

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly view for ``--json``."""
        return {
            "format": "warc",
            "out": self.out,
            "responses": self.responses,
            "redirects": self.redirects,
            "bytes": self.bytes,
        }


def export_warc(store: Store, out: str | Path) -> WarcExportReport:
    """Write the database's stored answers to ``out`` (``.warc.gz`` is gzipped per record,
    anything else plain).

    Raises:
        ExportError: the file cannot be written.
    """
    target = Path(out)
    partial = target.with_name(target.name + ".partial")
    gzipped = target.name.endswith(".gz")
    responses = redirects = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as file:
            writer = WARCWriter(file, gzip=gzipped)
            writer.write_record(
                writer.create_warcinfo_record(
                    target.name,
                    {
                        "software": f"migrator/{__version__}",
                        "format": "WARC File Format 1.0",
                        "description": "answers stored by a migrator migration",
                    },
                )
            )
            for raw in store.iter_answers():
                writer.write_record(_response(writer, raw))
                responses += 1
            for url, target_url, seen, status in store.redirect_aliases():
                writer.write_record(_redirect(writer, url, target_url, seen, status))
                redirects += 1
            _sync(file)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    size = target.stat().st_size
    log.info("warc_exported", out=str(target), responses=responses, redirects=redirects)
    return WarcExportReport(out=str(target), responses=responses, redirects=redirects, bytes=size)


def _response(writer: WARCWriter, raw: RawPage) -> object:
    headers = [(k, v) for k, v in raw.headers if k.lower() not in _DROPPED]
    headers.append(("Content-Length", str(len(raw.body))))
    http = StatusAndHeaders(_status_line(raw.status), headers, protocol="HTTP/1.1")
    warc_headers = {"WARC-Date": _warc_date(raw.fetched_at)}
    if raw.source:
        warc_headers["WARC-Migrator-Source"] = raw.source
    return writer.create_warc_record(
        raw.url,
        "response",
        payload=BytesIO(raw.body),
        length=len(raw.body),
        http_headers=http,
        warc_headers_dict=warc_headers,
    )


def _redirect(writer: WARCWriter, url: str, target: str, seen: str, status: int | None) -> object:
    known = status is not None and 300 <= status < 400
    http = StatusAndHeaders(
        _status_line(status if known and status is not None else 301),
        [("Location", target), ("Content-Length", "0")],
        protocol="HTTP/1.1",
    )
    warc_headers = {"WARC-Date": _warc_date(datetime.fromisoformat(seen))}
    if not known:
        warc_headers["WARC-Migrator-Note"] = "redirect alias; the site's 3xx status was not stored"
    return writer.create_warc_record(
        url,
        "response",
        payload=BytesIO(b""),
        length=0,
        http_headers=http,
        warc_headers_dict=warc_headers,
    )


def _status_line(status: int) -> str:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return f"{status} {reason}"


def _warc_date(when: datetime) -> str:
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sync(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())
