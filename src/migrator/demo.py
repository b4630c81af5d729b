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
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["PLACEHOLDER_BASE", "DemoServer", "demo_site_dir", "serve_site", "static_answer"]

PLACEHOLDER_BASE = "http://127.0.0.1:8000"
_REWRITTEN_TYPES = ("text/xml", "application/xml", "text/plain", "application/rss+xml")


def demo_site_dir() -> Path:
    """The bundled demo blog: the ``demo_site`` folder shipped inside the package.

    It is package data (in the wheel and the sdist), so ``migrator demo`` works from an
    installed wheel as well as from a source checkout; the tests serve the same files.
    """
    return Path(__file__).resolve().parent / "demo_site"


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


_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css",
    ".js": "text/javascript",
    ".json": "application/json",
}


def static_answer(
    root: Path,
    path: str,
    request_headers: Mapping[str, str],
    *,
    rewrite: tuple[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Answer a GET for ``path`` from the files below ``root``, as a static server would.

    ``/x/`` serves ``x/index.html`` and ``/x`` redirects there; ETag and Last-Modified
    are sent and ``If-None-Match`` / ``If-Modified-Since`` get a 304; nothing outside
    ``root`` is ever served. ``rewrite`` replaces one string by another in text and XML
    bodies (the demo site's placeholder base URL by the real one).

    Args:
        root: the site folder.
        path: the request path (a query string is ignored).
        request_headers: the request's headers, names lower-cased.
        rewrite: ``(old, new)`` for text bodies, or ``None``.

    Returns:
        ``(status, headers, body)``.
    """
    path = urlsplit(path).path
    not_found = (404, {"Content-Type": "text/html; charset=utf-8"}, b"<h1>Not found</h1>")
    file = _file_for(root, path)
    if file is None:
        return not_found
    if file.is_dir():
        return 301, {"Location": path + "/"}, b""
    body = file.read_bytes()
    ctype = _TYPES.get(file.suffix.lower()) or (
        mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    )
    if rewrite and (ctype.startswith("text/") or "xml" in ctype):
        body = body.replace(rewrite[0].encode(), rewrite[1].encode())
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    mtime = int(file.stat().st_mtime)
    headers = {
        "Content-Type": ctype,
        "ETag": etag,
        "Last-Modified": email.utils.formatdate(mtime, usegmt=True),
    }
    if _not_modified(request_headers, etag, mtime):
        return 304, headers, b""
    return 200, headers, body


def _file_for(root: Path, path: str) -> Path | None:
    """The file below ``root`` that ``path`` names (``/x/``: ``x/index.html``); a folder
    asked for without its trailing slash (to redirect); ``None``: not found."""
    base = root.resolve()
    file = (base / unquote(path).lstrip("/")).resolve()
    if not file.is_relative_to(base):
        return None
    if file.is_dir():
        if not path.endswith("/"):
            return file
        file = file / "index.html"
    return file if file.is_file() else None


def _not_modified(request_headers: Mapping[str, str], etag: str, mtime: int) -> bool:
    """Whether the request's ``If-None-Match`` (first) or ``If-Modified-Since`` matches."""
    if_none_match = request_headers.get("if-none-match")
    if_modified_since = request_headers.get("if-modified-since")
    if if_none_match is not None:
        tags = [t.strip() for t in if_none_match.split(",")]
        return etag in tags or if_none_match.strip() == "*"
    if if_modified_since is not None:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            since = None
        return since is not None and mtime <= since
    return False


def _handler(server_state: DemoServer) -> type[BaseHTTPRequestHandler]:
    root = server_state.root

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
            with server_state.lock:
                server_state.requests.append((self.command, self.path))
            headers = {k.lower(): v for k, v in self.headers.items()}
            rewrite = None
            if server_state.base_url != PLACEHOLDER_BASE:
                rewrite = (PLACEHOLDER_BASE, server_state.base_url)
            status, answer, body = static_answer(root, self.path, headers, rewrite=rewrite)
            self.send_response(status)
            for key, value in answer.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0" if status == 304 else str(len(body)))
            self.end_headers()
            if not head and status != 304:
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
