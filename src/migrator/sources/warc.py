"""Index WARC and ARC files (plain or gzipped) as an :class:`~migrator.sources.replay.Archive`.

Response records give the captures (original URL, status, headers, date); ``resource``
records of http(s) URLs count as 200 answers; revisit records are resolved to the
response whose payload they repeat (by payload digest, else by ``WARC-Refers-To``);
request, metadata, warcinfo and conversion records are ignored. Only file offsets are
kept: a body is read back when the crawl asks for it, so a 10,000-post WARC costs a few
megabytes of index. A truncated gzip member, a wrong Content-Length or a digest that does
not match skips that record with a logged reason (``warc_record_skipped``) and reading
goes on at the next record; it never stops the run. This module never fetches.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import structlog
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

from migrator.errors import ConfigError
from migrator.sources.replay import Answer, Archive, ArchiveReadError, Capture
from migrator.urls import canonical_url, is_http_url

__all__ = ["WarcArchive"]

log = structlog.get_logger()

# What warcio and zlib raise on a damaged record (found by truncating and editing real
# wget WARCs: tests/test_source_warc.py).
_CORRUPT: tuple[type[BaseException], ...] = (
    ArchiveLoadFailed,
    StatusAndHeadersParserException,
    zlib.error,
    EOFError,
    ValueError,
    IndexError,
    KeyError,
    OSError,
    # warcio parsing a record whose headers were cut: a missing WARC-Target-URI
    # reaches `None.startswith` (seen truncating a wget WARC's gzip member in half).
    AttributeError,
    TypeError,
)
_READ_ERRORS: tuple[type[BaseException], ...] = (*_CORRUPT, StopIteration)
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/1."
_RESYNC_CHUNK = 1 << 16
_SLACK = 4  # trailing CRLFs after the last record
_IGNORED = frozenset({"request", "metadata", "warcinfo", "conversion", "continuation"})

_Record = Any  # warcio's ArcWarcRecord (untyped)


class _Records(ArchiveIterator):  # type: ignore[misc]  # warcio is untyped
    """warcio's iterator, minus the warning it writes to stderr when a record is not
    followed by a blank line (its ``err_count`` still counts them; we log our own)."""

    INC_RECORD = ""


class WarcArchive(Archive):
    """The captures of one or more WARC/ARC files.

    Attributes:
        skipped: records skipped as corrupt or unresolvable.
        ignored: records of kinds that hold no answer (request, metadata …).
    """

    name = "warc"

    def __init__(self, paths: Sequence[Path]) -> None:
        """Index every record of ``paths``, in order.

        Raises:
            ConfigError: a file cannot be opened or is not a WARC/ARC file at all.
        """
        super().__init__()
        self.skipped = 0
        self.ignored = 0
        self._seen = 0  # records read, whatever became of them
        self._by_digest: dict[str, Capture] = {}
        self._by_uri_date: dict[tuple[str, str], Capture] = {}
        self._revisits: list[tuple[Capture, str | None, str | None, str | None]] = []
        for path in paths:
            self._index_file(path)
        self._resolve_revisits()
        log.info(
            "warc_indexed",
            files=len(paths),
            captures=len(self),
            skipped=self.skipped,
            ignored=self.ignored,
        )

    # ------------------------------------------------------------------ indexing

    def _index_file(self, path: Path) -> None:
        seen = self._seen
        try:
            size = path.stat().st_size
            with path.open("rb") as file:
                gzipped = file.read(3) == _GZIP_MAGIC
                pos = 0
                while pos < size:
                    resumed = self._index_from(path, file, pos, size)
                    if resumed is None:
                        break
                    pos = self._resync(file, resumed, gzipped=gzipped)
        except OSError as exc:
            raise ConfigError(f"--from-warc: cannot read {path}: {exc.strerror or exc}") from exc
        if self._seen == seen:
            raise ConfigError(f"--from-warc: no readable WARC or ARC record in {path}")

    def _index_from(self, path: Path, file: BinaryIO, pos: int, size: int) -> int | None:
        """Index records from ``pos`` on; ``None`` at a clean end, else the offset
        after which to look for the next record (a record was damaged)."""
        file.seek(pos)
        records = _Records(file, arc2warc=True, check_digests=True)
        pending: tuple[_Record, int] | None = None
        errors = 0
        try:
            for record in records:
                if pending is not None:  # fully read now: its digest is known
                    if records.err_count > errors and pending[0].digest_checker.passed is not True:
                        # Not followed by a blank line: its Content-Length is wrong.
                        self._skip(path, pending[1], "Content-Length does not match the record")
                    else:
                        self._commit(path, *pending)
                errors = records.err_count
                pending = (record, records.get_record_offset())
        except _CORRUPT as exc:
            at = pending[1] if pending is not None else pos
            if pending is not None and pending[0].digest_checker.passed is True:
                self._commit(path, *pending)  # the damage is after it
                at = pending[1]
            else:
                self._skip(path, at, _reason(exc))
            return at + 1
        if pending is None:
            end = pos
        else:
            end = pending[1] + records.get_record_length()
            if pending[0].digest_checker.passed is True or _whole(file, pending[1], size):
                self._commit(path, *pending)
            else:
                # warcio ends quietly, as at the end of the file, on a gzip member cut
                # short: skip that record and look for whole ones after it.
                self._skip(path, pending[1], "truncated: the record ends before its end")
                return pending[1] + 1
        if size - end > _SLACK:
            self._skip(path, end, f"truncated: {size - end} bytes after it are no whole record")
            return end + 1
        return None

    def _resync(self, file: BinaryIO, start: int, *, gzipped: bool) -> int:
        """The offset of the next plausible record at or after ``start`` (or the end)."""
        file.seek(start)
        base = start
        tail = b""
        magic = _GZIP_MAGIC if gzipped else b"\n" + _WARC_MAGIC
        while chunk := file.read(_RESYNC_CHUNK):
            data = tail + chunk
            offset = data.find(magic)
            while offset != -1:
                found = base - len(tail) + offset + (0 if gzipped else 1)
                if not gzipped or _gzip_member_at(file, found):
                    return found
                offset = data.find(magic, offset + 1)
            tail = data[-(len(magic) - 1) :]
            base += len(chunk)
        return base

    def _commit(self, path: Path, record: _Record, offset: int) -> None:
        self._seen += 1
        kind = record.rec_type
        if kind in _IGNORED:
            self.ignored += 1
            return
        uri = _target(record)
        if not is_http_url(uri):
            self.ignored += 1  # dns:, metadata://, urn:
            return
        if record.digest_checker.passed is False:
            problems = "; ".join(str(p) for p in record.digest_checker.problems)
            self._skip(path, offset, f"digest mismatch ({problems or 'block'})")
            return
        try:
            capture = self._capture(path, record, offset, uri)
        except _CORRUPT as exc:
            self._skip(path, offset, _reason(exc))
            return
        if kind == "revisit":
            refers_uri = record.rec_headers.get_header("WARC-Refers-To-Target-URI")
            self._revisits.append(
                (
                    capture,
                    record.rec_headers.get_header("WARC-Payload-Digest"),
                    _strip_brackets(refers_uri) if refers_uri else None,
                    record.rec_headers.get_header("WARC-Refers-To-Date"),
                )
            )
            return
        if kind not in {"response", "resource"}:
            self.ignored += 1
            return
        digest = record.rec_headers.get_header("WARC-Payload-Digest")
        if digest:
            self._by_digest.setdefault(digest, capture)
        date = record.rec_headers.get_header("WARC-Date") or ""
        self._by_uri_date[(uri, date)] = capture
        self.add(capture)

    def _capture(self, path: Path, record: _Record, offset: int, uri: str) -> Capture:
        http = record.http_headers
        if http is not None and http.statusline:
            status = int(http.get_statuscode())
            content_type = http.get_header("Content-Type")
            location = http.get_header("Location")
        else:  # a resource record, or a revisit without headers (status from its original)
            status = 200 if record.rec_type == "resource" else 0
            content_type = record.rec_headers.get_header("Content-Type")
            location = None
        return Capture(
            url=canonical_url(uri),
            status=status,
            date=_date(record.rec_headers.get_header("WARC-Date"), path),
            origin=f"warc:{path.name}#{offset}",
            content_type=content_type.split(";", 1)[0].strip().lower() if content_type else None,
            location=location,
            ref=(str(path), offset),
        )

    def _resolve_revisits(self) -> None:
        for capture, digest, refers_uri, refers_date in self._revisits:
            original = self._by_digest.get(digest) if digest else None
            if original is None and refers_uri:
                original = self._by_uri_date.get((refers_uri, refers_date or ""))
            if original is None:
                path, offset = capture.ref
                self._skip(Path(path), offset, "revisit of a record not in these files")
                continue
            self.add(
                Capture(
                    url=capture.url,
                    status=capture.status or original.status,
                    date=capture.date,
                    origin=capture.origin,
                    content_type=capture.content_type or original.content_type,
                    location=capture.location,
                    ref=capture.ref,
                    payload_ref=original.ref,
                )
            )
        self._revisits.clear()

    def _skip(self, path: Path, offset: int, reason: str) -> None:
        self.skipped += 1
        log.warning("warc_record_skipped", file=str(path), offset=offset, reason=reason)

    # ------------------------------------------------------------------- reading

    async def read(self, capture: Capture) -> Answer:
        headers, body = _load(capture.ref)
        if capture.payload_ref is not None:  # a revisit: its headers, the original's body
            original_headers, body = _load(capture.payload_ref)
            headers = headers or original_headers
        return Answer(headers=headers, body=body)


def _load(ref: tuple[str, int]) -> tuple[tuple[tuple[str, str], ...], bytes]:
    """One record's HTTP headers (lower-cased names) and decoded body."""
    path, offset = ref
    try:
        with open(path, "rb") as file:
            file.seek(offset)
            record = next(iter(ArchiveIterator(file, arc2warc=True)))
            http = record.http_headers
            if http is not None and http.statusline:
                headers = tuple((k.lower(), v) for k, v in http.headers)
            else:
                content_type = record.rec_headers.get_header("Content-Type")
                headers = (("content-type", content_type),) if content_type else ()
            body = record.content_stream().read()
    except _READ_ERRORS as exc:
        raise ArchiveReadError(f"{Path(path).name}#{offset}: {_reason(exc)}") from exc
    return headers, body


def _whole(file: BinaryIO, offset: int, size: int) -> bool:
    """Whether the file's last record, at ``offset``, ends as a record should: a gzip
    member with its trailer, or a plain record with its closing blank lines."""
    file.seek(offset)
    head = file.read(2)
    if head == _GZIP_MAGIC[:2]:
        file.seek(offset)
        inflate = zlib.decompressobj(wbits=31)
        try:
            while (chunk := file.read(_RESYNC_CHUNK)) and not inflate.eof:
                inflate.decompress(chunk)
        except zlib.error:
            return False
        return inflate.eof
    if head != _WARC_MAGIC[:2]:
        return True  # a plain ARC record: nothing marks its end
    file.seek(max(size - 4, 0))
    return file.read() == b"\r\n\r\n"


def _gzip_member_at(file: BinaryIO, offset: int) -> bool:
    """Whether a gzip member that starts like a WARC or ARC record begins at ``offset``."""
    here = file.tell()
    try:
        file.seek(offset)
        head = zlib.decompressobj(wbits=31).decompress(file.read(4096), 64)
    except zlib.error:
        return False
    finally:
        file.seek(here)
    first = head.split(b"\n", 1)[0]
    return head.startswith((_WARC_MAGIC, b"filedesc:")) or (
        b"://" in first and any(p.isdigit() and len(p) == 14 for p in first.split())
    )


def _target(record: _Record) -> str:
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    return _strip_brackets(uri)


def _strip_brackets(uri: str) -> str:
    # wget writes WARC 1.0's draft form `<http://…>`.
    uri = uri.strip()
    return uri[1:-1] if uri.startswith("<") and uri.endswith(">") else uri


def _date(value: str | None, path: Path) -> datetime:
    if value:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
