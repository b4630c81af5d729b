"""A real, misbehaving HTTP server on 127.0.0.1 for tests (no mocks).

STYLE.md suggests ``httpx.MockTransport`` for fetch unit tests; they talk to this server
instead, because the bugs were in what a mock transport skips: the socket, Content-Length
framing, resets and drip-fed bodies, keep-alive and the pace the server really sees.

``TestServer`` is a ``ThreadingHTTPServer`` on an ephemeral port in a background
thread. It serves a directory (``/x/`` → ``x/index.html``) with ETag and Last-Modified
and correct 304 answers, rewrites the demo site's placeholder base
``http://127.0.0.1:8000`` in text bodies to its own base URL, and records every request
(method, path, headers, time) in a thread-safe log. Scripted routes make it misbehave
on purpose: a sequence of :class:`Reply` per path (the last one repeats), or a prefix
handler. :func:`misbehaving_routes` installs the standard set listed in its docstring.

Usage::

    with TestServer(root=SITE) as server:          # or TestServer() for routes only
        server.script("/flaky", Reply(status=503), Reply(status=503), Reply(body=b"ok"))
        url = server.url("/flaky")
        ...
        assert server.count("/flaky") == 3
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from migrator.demo import static_answer

PLACEHOLDER_BASE = "http://127.0.0.1:8000"

Action = Literal["normal", "reset", "truncate", "drip", "unsized"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    ``action``: ``normal``; ``reset`` (send the headers and half the body, then an RST);
    ``truncate`` (announce ``len(body) * 2`` bytes, send ``body``, close); ``drip``
    (send the body one byte every ``drip_interval`` seconds); ``unsized`` (no
    Content-Length: the body ends when the server closes the connection).
    """

    status: int = 200
    body: bytes = b"<!doctype html><title>ok</title><p>ok</p>"
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "text/html; charset=utf-8"
    action: Action = "normal"
    drip_interval: float = 1.0
    delay: float = 0.0  # seconds to wait before answering (to overlap requests)


Responder = Callable[["Request"], Reply]


@dataclass(frozen=True)
class Request:
    """One logged request: lower-cased header names; ``time`` is ``time.monotonic()``."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    time: float

    @property
    def host(self) -> str:
        return self.headers.get("host", "")


class TestServer:
    """A local HTTP server with a request log and scriptable misbehaviour.

    Args:
        root: a directory to serve (``None``: scripted routes only, else 404).
        rewrite_base: text in served text bodies replaced by :attr:`base_url`
            (the demo site's absolute URLs); ``None`` disables rewriting.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self, root: str | Path | None = None, *, rewrite_base: str | None = PLACEHOLDER_BASE
    ) -> None:
        self.root = Path(root) if root is not None else None
        self.rewrite_base = rewrite_base
        self._scripts: dict[str, list[Reply | Responder]] = {}
        self._prefixes: list[tuple[str, Responder]] = []
        self._log: list[Request] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being handled at once, ever
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    # --------------------------------------------------------------- lifecycle
    def start(self) -> TestServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> TestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------- URLs
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    # ---------------------------------------------------------------- scripts
    def script(self, path: str, *replies: Reply | Responder) -> None:
        """Answer requests for ``path`` (with query) with ``replies`` in turn; the last repeats."""
        with self._lock:
            self._scripts[path] = list(replies)

    def route(self, prefix: str, responder: Responder) -> None:
        """Answer every path starting with ``prefix`` by calling ``responder(request)``."""
        with self._lock:
            self._prefixes.append((prefix, responder))
            self._prefixes.sort(key=lambda p: -len(p[0]))

    def set_robots(self, text: str) -> None:
        """Serve ``text`` as /robots.txt."""
        self.script("/robots.txt", Reply(body=text.encode(), content_type="text/plain"))

    # -------------------------------------------------------------------- log
    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._log)

    def requests_for(self, path: str, *, host: str | None = None) -> list[Request]:
        """Logged requests whose path (query included, or excluded if ``path`` has none) matches."""
        out = []
        for r in self.requests:
            candidate = r.path if "?" in path else r.path.split("?", 1)[0]
            if candidate == path and (host is None or r.host.split(":")[0] == host):
                out.append(r)
        return out

    def count(self, path: str) -> int:
        return len(self.requests_for(path))

    def clear_log(self) -> None:
        """Forget logged requests and reset ``max_in_flight``."""
        with self._lock:
            self._log.clear()
            self.max_in_flight = 0

    # --------------------------------------------------------------- internal
    def _record(self, request: Request) -> None:
        with self._lock:
            self._log.append(request)

    def _answer(self, request: Request) -> Reply | None:
        with self._lock:
            script = self._scripts.get(request.path)
            if script is None:
                script = self._scripts.get(request.path.split("?", 1)[0])
            step = None
            if script:
                step = script.pop(0) if len(script) > 1 else script[0]
            prefixes = list(self._prefixes)
        if step is not None:
            return step(request) if callable(step) else step
        for prefix, responder in prefixes:
            if request.path.startswith(prefix):
                return responder(request)
        return None

    def _static(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        """Serve a file from ``root`` with validators (the demo server's own answer)."""
        if self.root is None:
            return 404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>"
        rewrite = (self.rewrite_base, self.base_url) if self.rewrite_base else None
        return static_answer(self.root, request.path, request.headers, rewrite=rewrite)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: TestServer

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hanging up on purpose (deadline, size cap) are part of the tests.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus the
    # client's delayed ACK add ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def _handle(self, method: str) -> None:
        owner = self.server.owner
        request = Request(
            method=method,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            time=time.monotonic(),
        )
        owner._record(request)
        with owner._lock:
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            self._respond(method, request)
        finally:
            with owner._lock:
                owner.in_flight -= 1

    def _respond(self, method: str, request: Request) -> None:
        owner = self.server.owner
        reply = owner._answer(request)
        if reply is not None and reply.delay:
            owner.stopping.wait(reply.delay)
        if reply is None:
            status, headers, body = owner._static(request)
            self._send(method, status, headers, body)
            return
        headers = dict(reply.headers)
        if reply.content_type and reply.status != 304:
            headers.setdefault("Content-Type", reply.content_type)
        body = reply.body
        if reply.action == "normal":
            self._send(method, reply.status, headers, body)
        elif reply.action == "truncate":
            self._head(reply.status, headers, len(body) * 2 + 10)
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
        elif reply.action == "reset":
            self._head(reply.status, headers, len(body))
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            # SO_LINGER 0 turns close() into an RST: "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif reply.action == "unsized":
            self.send_response(reply.status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Connection", "close")
            self.end_headers()
            with contextlib.suppress(OSError):  # the client may stop reading early
                self.wfile.write(body)
                self.wfile.flush()
            self.close_connection = True
        elif reply.action == "drip":
            self._head(reply.status, headers, len(body))
            try:
                for i in range(len(body)):
                    if owner.stopping.wait(reply.drip_interval if i else 0):
                        break
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True

    def _head(self, status: int, headers: dict[str, str], length: int) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if status != 304 and not any(k.lower() == "content-length" for k in headers):
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, method: str, status: int, headers: dict[str, str], body: bytes) -> None:
        try:
            self._head(status, headers, len(body))
            if method != "HEAD" and status != 304:
                self.wfile.write(body)
        except OSError:
            self.close_connection = True


def page(title: str, *links: str, body: str = "") -> bytes:
    """A small HTML page with ``links`` as anchors."""
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head>"
        f"<body><h1>{title}</h1>{body}<ul>{anchors}</ul></body></html>"
    ).encode()


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, body=b"", headers={"Location": location}, content_type=None)


def retry_after(seconds: int | None = None, *, date_in: float | None = None) -> Responder:
    """A 429 whose Retry-After is ``seconds`` or an HTTP date ``date_in`` seconds ahead."""

    def respond(_request: Request) -> Reply:
        if date_in is not None:
            value = email.utils.formatdate(time.time() + date_in, usegmt=True)
        else:
            value = str(seconds)
        return Reply(status=429, body=b"slow down", headers={"Retry-After": value})

    return respond


_BOMBS: dict[int, bytes] = {}


def gzip_bomb(size: int = 64 * 1024 * 1024) -> Reply:
    """Content-Encoding: gzip, a few KB on the wire, ``size`` zero bytes once inflated."""
    if size not in _BOMBS:
        comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        block = b"\0" * (1024 * 1024)
        parts = [comp.compress(block) for _ in range(size // len(block))]
        parts.append(comp.flush())
        _BOMBS[size] = b"".join(parts)
    return Reply(body=_BOMBS[size], headers={"Content-Encoding": "gzip"})


def gzipped(body: bytes, content_type: str = "text/html; charset=utf-8") -> Reply:
    return Reply(
        body=gzip.compress(body), headers={"Content-Encoding": "gzip"}, content_type=content_type
    )


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>http://example.com/&lol9;</loc></url>
</urlset>
"""


def calendar_trap(request: Request) -> Reply:
    """``/calendar/YYYY/MM/``: every month links to the previous and the next one, forever."""
    parts = [p for p in urlsplit(request.path).path.split("/") if p]
    try:
        year, month = int(parts[1]), int(parts[2])
    except (IndexError, ValueError):
        year, month = 2024, 1
    prev_y, prev_m = (year - 1, 12) if month == 1 else (year, month - 1)
    next_y, next_m = (year + 1, 1) if month == 12 else (year, month + 1)
    return Reply(
        body=page(
            f"Archive {year}-{month:02d}",
            f"/calendar/{prev_y}/{prev_m:02d}/",
            f"/calendar/{next_y}/{next_m:02d}/",
        )
    )


def misbehaving_routes(server: TestServer) -> None:
    """Install the standard misbehaving routes on ``server``.

    ==========================  =====================================================
    ``/ok/``                    200 HTML page
    ``/missing``                404 with an HTML body; ``/gone`` 410; ``/forbidden`` 403
    ``/rate-limited``           429 ``Retry-After: 1``, then 200
    ``/rate-limited-date``      429 ``Retry-After: <HTTP date 1 s ahead>``, then 200
    ``/flaky``                  503, 503, then 200; ``/always-503`` 503 forever
    ``/reset``                  connection reset mid-body (always)
    ``/truncated``              Content-Length larger than the body sent (always)
    ``/drip``                   a 200 body of 100 bytes sent at 1 byte/s
    ``/bomb``                   gzip bomb: ~64 KB on the wire, 64 MB inflated
    ``/gzipped``                a normal gzip-encoded page
    ``/loop/a``                 → ``/loop/b`` → ``/loop/a`` …
    ``/chain/N``                N redirects: ``/chain/N`` → ``/chain/N-1`` … → ``/chain/0``
    ``/to-other-host``          302 to ``http://localhost:<port>/secret``
    ``/to-file``                302 to ``file:///etc/passwd``; ``/to-data`` to ``data:``
    ``/calendar/YYYY/MM/``      infinite calendar trap
    ``/charset/header-lies``    header says ISO-8859-1, body is UTF-8 (``café ☕``)
    ``/charset/meta-only``      no header charset; ``<meta charset=windows-1252>``, cp1252
    ``/private/…``              disallowed by /robots.txt (served 200 if asked)
    ``/variants/``              links to one page spelled five ways
    ``/billion-laughs.xml``     a billion-laughs sitemap
    ``/image.png``              a non-HTML content type
    ``/robots.txt``             ``Disallow: /private/`` (unless the directory has one)
    ==========================  =====================================================
    """
    s = server
    s.script("/ok/", Reply(body=page("OK", "/missing")))
    s.script("/missing", Reply(status=404, body=page("Not found")))
    s.script("/gone", Reply(status=410, body=page("Gone")))
    s.script("/forbidden", Reply(status=403, body=page("Forbidden")))
    s.script("/rate-limited", retry_after(1), Reply(body=page("Finally")))
    s.script("/rate-limited-date", retry_after(date_in=1.5), Reply(body=page("Finally")))
    s.script("/flaky", Reply(status=503), Reply(status=503), Reply(body=page("Recovered")))
    s.script("/always-503", Reply(status=503, body=b"down"))
    s.script("/reset", Reply(body=page("Reset", body="x" * 20_000), action="reset"))
    s.script("/truncated", Reply(body=page("Truncated"), action="truncate"))
    s.script("/drip", Reply(body=b"x" * 100, action="drip"))
    s.route("/bomb", lambda _r: gzip_bomb())
    s.script("/gzipped", gzipped(page("Compressed", body="<p>" + "word " * 2000 + "</p>")))
    s.script("/loop/a", redirect("/loop/b"))
    s.script("/loop/b", redirect("/loop/a"))

    def chain(request: Request) -> Reply:
        n = int(request.path.rstrip("/").rsplit("/", 1)[-1] or 0)
        return redirect(f"/chain/{n - 1}") if n > 0 else Reply(body=page("End of chain"))

    s.route("/chain/", chain)
    s.script("/to-other-host", redirect(f"http://localhost:{s.port}/secret"))
    s.script("/secret", Reply(body=page("Secret")))
    s.script("/to-file", redirect("file:///etc/passwd"))
    s.script("/to-data", redirect("data:text/html,<h1>hi</h1>"))
    s.route("/calendar/", calendar_trap)
    s.script(
        "/charset/header-lies",
        Reply(
            body=page("Café ☕", body="<p>café ☕</p>"),
            content_type="text/html; charset=ISO-8859-1",
        ),
    )
    s.script(
        "/charset/meta-only",
        Reply(
            body=(
                "<!doctype html><html><head><meta charset=windows-1252><title>Caf\xe9</title>"
                "</head><body><p>\u201ccaf\xe9\u201d</p></body></html>"
            ).encode("cp1252"),
            content_type="text/html",
        ),
    )
    s.route("/private/", lambda _r: Reply(body=page("Private")))
    s.script(
        "/variants/",
        Reply(
            body=page(
                "Variants",
                "/ok/",
                "/ok/index.html",
                "/ok/?utm_source=feed&utm_medium=rss",
                "/ok/#comments",
                "/./ok/",
                "http://127.0.0.1:%d/ok/" % s.port,  # noqa: UP031 - literal port inline
            )
        ),
    )
    s.script("/billion-laughs.xml", Reply(body=BILLION_LAUGHS, content_type="application/xml"))
    s.script("/image.png", Reply(body=b"\x89PNG\r\n\x1a\n", content_type="image/png"))
    if s.root is None or not (s.root / "robots.txt").exists():
        s.set_robots("User-agent: *\nDisallow: /private/\n")


@contextmanager
def serve(
    root: str | Path | None = None,
    *,
    misbehave: bool = False,
    rewrite_base: str | None = PLACEHOLDER_BASE,
) -> Iterator[TestServer]:
    """Run a :class:`TestServer` for the duration of a ``with`` block.

    Args:
        root: directory to serve, if any.
        misbehave: install :func:`misbehaving_routes`.
        rewrite_base: see :class:`TestServer`.
    """
    server = TestServer(root, rewrite_base=rewrite_base)
    if misbehave:
        misbehaving_routes(server)
    with server:
        yield server
