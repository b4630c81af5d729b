"""Reading a response body: streamed, decompressed here, and capped on the real bytes.

:func:`read_body` streams an ``httpx`` response's raw bytes, inflates gzip or deflate
itself in pieces of at most 256 KiB (so a gzip bomb is stopped one piece past the
limit, not after inflating a whole read) and refuses a body over its cap with
``FetchError("too_large")``. It returns bytes exactly as served, never decoded to text
(``decode.py``), and knows nothing of requests, retries or pacing (``fetch.py``).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator

import httpx
import structlog

from migrator.errors import FetchError

__all__ = ["Inflater", "read_body"]

log = structlog.get_logger()

# Bodies arrive in chunks of this size at most once decompressed, so a gzip bomb is
# noticed after one chunk past the limit rather than after inflating a whole read.
_INFLATE_CHUNK = 256 * 1024


async def read_body(response: httpx.Response, requested: str, cap: int, *, truncate: bool) -> bytes:
    """Stream ``response``'s body, inflating it here so that ``cap`` applies to real bytes.

    Args:
        response: a streamed response (``client.send(..., stream=True)``).
        requested: the URL asked for, named in errors.
        cap: the most body bytes accepted, decompressed.
        truncate: keep the first ``cap`` bytes and ignore the rest (robots.txt) instead
            of failing.

    Returns:
        The decompressed body.

    Raises:
        FetchError: ``too_large``, ``unsupported_content_encoding`` or
            ``bad_content_encoding``.
    """
    encoding = response.headers.get("content-encoding", "").strip().lower()
    declared = response.headers.get("content-length", "")
    # A truncating read (robots.txt) keeps the head whatever size is announced: RFC 9309
    # §2.5 has a crawler parse at least 500 KiB and ignore the rest, and refusing a file
    # declared larger would make a big robots.txt forbid the whole site.
    if not truncate and not encoding and declared.isdigit() and int(declared) > cap:
        raise FetchError(requested, "too_large", status=response.status_code)
    inflater = Inflater(encoding, requested, response.status_code)
    parts: list[bytes] = []
    size = 0
    async for chunk in _raw_chunks(response):
        for piece in inflater.feed(chunk):
            size += len(piece)
            if size > cap:
                if truncate:  # robots.txt: keep the head, ignore the rest
                    parts.append(piece[: len(piece) - (size - cap)])
                    return b"".join(parts)
                log.warning("body_too_large", url=requested, limit=cap)
                raise FetchError(requested, "too_large", status=response.status_code)
            parts.append(piece)
    for piece in inflater.flush():
        size += len(piece)
        if size > cap:
            if truncate:
                parts.append(piece[: len(piece) - (size - cap)])
                return b"".join(parts)
            raise FetchError(requested, "too_large", status=response.status_code)
        parts.append(piece)
    return b"".join(parts)


class Inflater:
    """Incremental gzip/deflate decoding with bounded output per step (bomb-safe)."""

    def __init__(self, encoding: str, url: str, status: int) -> None:
        """Args:
        encoding: the ``Content-Encoding`` (lower-cased; empty for none).
        url: the URL asked for, named in errors.
        status: the answer's status, kept in errors.

        Raises:
            FetchError: ``unsupported_content_encoding``.
        """
        self.url = url
        self.status = status
        self.identity = encoding in {"", "identity"}
        if not self.identity and encoding not in {"gzip", "x-gzip", "deflate"}:
            raise FetchError(url, "unsupported_content_encoding", status=status)
        # 32 + MAX_WBITS: auto-detect a gzip or zlib header; raw deflate is the fallback.
        self.decoder = zlib.decompressobj(32 + zlib.MAX_WBITS)
        self.started = False
        self.raw_deflate = encoding == "deflate"

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Yield decoded pieces of at most ``_INFLATE_CHUNK`` bytes; stop reading any time."""
        if self.identity:
            if data:
                yield data
            return
        try:
            while data:
                piece = self._decompress(data)
                data = self.decoder.unconsumed_tail
                if not piece:
                    break
                yield piece
        except zlib.error as exc:
            raise FetchError(self.url, "bad_content_encoding", status=self.status) from exc

    def _decompress(self, data: bytes) -> bytes:
        if not self.started and self.raw_deflate:
            self.started = True
            probe = zlib.decompressobj(32 + zlib.MAX_WBITS)
            try:
                piece = probe.decompress(data, _INFLATE_CHUNK)
            except zlib.error:
                # "deflate" sent as a raw stream without the zlib wrapper (old IIS).
                self.decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decoder.decompress(data, _INFLATE_CHUNK)
            self.decoder = probe
            return piece
        self.started = True
        return self.decoder.decompress(data, _INFLATE_CHUNK)

    def flush(self) -> list[bytes]:
        """What the decoder still holds at the end of the stream."""
        if self.identity:
            return []
        try:
            rest = self.decoder.flush()
        except zlib.error as exc:
            raise FetchError(self.url, "bad_content_encoding", status=self.status) from exc
        return [rest] if rest else []


async def _raw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    async for chunk in response.aiter_raw():
        yield chunk
