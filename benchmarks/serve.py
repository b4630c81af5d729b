"""Serve a generated site on 127.0.0.1 for the benchmarks: nginx when installed, else a
threaded stdlib server.

nginx runs as an unprivileged foreground process with a generated config in a temporary
directory (``try_files $uri $uri/index.html =404``, ETag and Last-Modified on, keep-alive,
access log off). The fallback is a ``ThreadingHTTPServer`` with TCP_NODELAY, fast enough for a
few hundred pages/s. ``serve(root)`` is a context manager that yields a ``Served`` with the base
URL and which server it is.

    .venv/bin/python benchmarks/serve.py DIR [--port 8089]   # serve until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx")

NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{
        text/html html;
        text/css css;
        text/plain txt;
        application/xml xml;
        image/jpeg jpg jpeg;
        image/png png;
    }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 100000;
    {validators}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{
            try_files $uri $uri/index.html =404;
        }}
    }}
}}
"""


# WordPress-like answers: the SSI filter removes Last-Modified and ETag from the HTML it
# passes (ssi_last_modified is off), and no If-Modified-Since is honoured.
_NO_VALIDATORS = "etag off; if_modified_since off; ssi on; ssi_types text/html;"


@dataclass(frozen=True, slots=True, kw_only=True)
class Served:
    """A running server: its base URL (no trailing slash), kind and process id."""

    base_url: str
    kind: str
    pid: int


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_nginx() -> str | None:
    """The nginx binary, or None when it is not installed."""
    found = shutil.which("nginx")
    if found:
        return found
    return next((c for c in NGINX_CANDIDATES if os.access(c, os.X_OK)), None)


def _wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


@contextlib.contextmanager
def serve_nginx(root: Path, port: int, nginx: str, *, validators: bool = True) -> Iterator[Served]:
    """Run nginx in the foreground over ``root`` until the context exits.

    ``validators=False`` serves like WordPress's dynamic pages: no ``ETag``, no
    ``Last-Modified`` (nginx's SSI filter drops both) and never a 304.
    """
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                tmp=tmp,
                port=port,
                root=root.resolve(),
                validators="etag on;" if validators else _NO_VALIDATORS,
            )
        )
        proc = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", tmp, "-e", f"{tmp}/error.log"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_listening(port)
            time.sleep(0.2)
            if proc.poll() is not None:  # e.g. the port was taken by another server
                log = Path(tmp, "error.log").read_text(errors="replace")
                raise RuntimeError(f"nginx exited with {proc.returncode}: {log.strip()}")
            yield Served(base_url=f"http://127.0.0.1:{port}", kind="nginx", pid=proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class _Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@contextlib.contextmanager
def serve_threaded(root: Path, port: int) -> Iterator[Served]:
    """Serve ``root`` with the stdlib threaded server in a background thread."""
    handler = functools.partial(_Handler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(base_url=f"http://127.0.0.1:{port}", kind="python-threaded", pid=os.getpid())
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def serve(
    root: Path, port: int | None = None, *, force_python: bool = False, validators: bool = True
) -> Iterator[Served]:
    """Serve ``root`` on 127.0.0.1: nginx when available, else the threaded server.

    ``validators=False`` (nginx only) sends no ``ETag``/``Last-Modified``, like WordPress.
    """
    port = port or free_port()
    with socket.socket() as sock:  # fail loudly rather than benchmark a stale server
        sock.bind(("127.0.0.1", port))
    nginx = None if force_python else find_nginx()
    if not validators and not nginx:
        raise RuntimeError("serving without validators needs nginx")
    if nginx:
        with serve_nginx(root, port, nginx, validators=validators) as served:
            yield served
    else:
        with serve_threaded(root, port) as served:
            yield served


def main() -> None:
    parser = argparse.ArgumentParser(description="serve a generated site on 127.0.0.1")
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--python", action="store_true", help="use the stdlib server")
    args = parser.parse_args()
    with serve(args.root, args.port, force_python=args.python) as served:
        print(f"serving {args.root} at {served.base_url} with {served.kind}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
