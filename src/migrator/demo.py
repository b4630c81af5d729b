"""The bundled demo: serve a static legacy blog on 127.0.0.1 and migrate it.

``serve_site`` is a small threaded static file server with the manners of a real one
(``/x/`` → ``/x/index.html``, ETag and Last-Modified with 304 answers, a 404 page,
HEAD), so ``migrator demo`` and the tests exercise the real fetch path. The generated
demo site writes absolute URLs (sitemap, robots.txt) with the placeholder base
``http://127.0.0.1:8000``; when the server has to listen elsewhere it rewrites that
base in the text bodies it serves. It serves files below its root only.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import mimetypes
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["PLACEHOLDER_BASE", "DemoServer", "demo_site_dir", "serve_site"]

PLACEHOLDER_BASE = "http://127.0.0.1:8000"
_REWRITTEN_TYPES = ("text/xml", "application/xml", "text/plain", "application/rss+xml")


def demo_site_dir() -> Path:
    """The bundled demo blog: ``tests/fixtures/site`` of the source checkout."""
    return Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "site"


@dataclass(slots=True)
class DemoServer:
    """A running static server: its base URL and a log of the paths requested."""

    base_url: str
    root: Path
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str) -> int:
        """How many times ``path`` was requested (GET or HEAD)."""
        with self.lock:
            return sum(1 for _, p in self.requests if p == path)


def _handler(server_state: DemoServer) -> type[BaseHTTPRequestHandler]:
    root = server_state.root.resolve()

    class Handler(BaseHTTPRequestHandler):
        server_version = "LegacyBlog/1.0"
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: with Nagle on, every keep-alive
        # answer waits ~40 ms for the delayed ACK.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Silence the default stderr access log; requests go to the state log."""

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_GET(self) -> None:
            self._serve(head=False)

        def _serve(self, *, head: bool) -> None:
            path = urlsplit(self.path).path
            with server_state.lock:
                server_state.requests.append((self.command, self.path))
            file = self._resolve(path)
            if file is None:
                self._send(HTTPStatus.NOT_FOUND, b"<h1>Not found</h1>", "text/html", head=head)
                return
            body = file.read_bytes()
            ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if ctype in _REWRITTEN_TYPES and server_state.base_url != PLACEHOLDER_BASE:
                body = body.replace(PLACEHOLDER_BASE.encode(), server_state.base_url.encode())
            etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:16] + '"'
            mtime = email.utils.formatdate(file.stat().st_mtime, usegmt=True)
            if self.headers.get("If-None-Match") == etag or (
                "If-None-Match" not in self.headers
                and self.headers.get("If-Modified-Since") == mtime
            ):
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if ctype.startswith("text/"):
                ctype += "; charset=utf-8" if ctype == "text/html" else ""
            self._send(HTTPStatus.OK, body, ctype, head=head, etag=etag, mtime=mtime)

        def _resolve(self, path: str) -> Path | None:
            candidate = (root / unquote(path).lstrip("/")).resolve()
            if not candidate.is_relative_to(root):
                return None
            if candidate.is_dir():
                if not path.endswith("/"):
                    return None
                candidate = candidate / "index.html"
            return candidate if candidate.is_file() else None

        def _send(
            self,
            status: HTTPStatus,
            body: bytes,
            ctype: str,
            *,
            head: bool,
            etag: str | None = None,
            mtime: str | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            if mtime:
                self.send_header("Last-Modified", mtime)
            self.end_headers()
            if not head:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

    return Handler


@contextlib.contextmanager
def serve_site(root: Path, *, port: int = 8000, host: str = "127.0.0.1") -> Iterator[DemoServer]:
    """Serve ``root`` over HTTP in a background thread for the duration of the block.

    Args:
        root: the site's folder.
        port: the port to try first; 0, or a port in use, falls back to a free one.
        host: the loopback address to bind.

    Yields:
        The running server's state (base URL, request log).
    """
    state = DemoServer(base_url="", root=root)
    handler = _handler(state)
    try:
        httpd = ThreadingHTTPServer((host, port), handler)
    except OSError:
        httpd = ThreadingHTTPServer((host, 0), handler)
    httpd.daemon_threads = True
    state.base_url = f"http://{host}:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def copy_site(src: Path, dst: Path) -> Path:
    """Copy a site folder (tests mutate copies, never the bundled one)."""
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst
