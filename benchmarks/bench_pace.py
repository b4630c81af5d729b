"""Pace benchmark: fixed politeness (the old default) against adaptive pacing, on a
healthy local server and on one that starts answering slowly.

The server is a threaded stdlib server on 127.0.0.1 with a sitemap of N pages of ~30 KB.
``healthy`` answers each request in ~5 ms. ``slowing`` answers as fast for 5 s after
the first page request, then takes 1.5 s for every request (a fragile WordPress under
load). Each variant runs ``migrator fetch START --db X -q`` in a subprocess with a config file:

- ``fixed``: ``[fetch] adaptive = false`` with the old defaults (2 requests at a time,
  0.5 s between request starts);
- ``adaptive``: the defaults (start at 0.5 s, follow the server's latency between
  ``min_delay`` and ``max_delay``, back off on 429/5xx and timeouts).

On ``healthy`` it reports the wall time to fetch every page; on ``slowing`` it stops
the fetch with SIGTERM after a fixed window and reports how many requests the server
got, how many of them it had to answer slowly, and their rate once it was slow.

    .venv/bin/python benchmarks/bench_pace.py [--pages 200] [--window 30]
        [--servers healthy slowing] [--variants fixed adaptive]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

PARAGRAPH = "<p>" + "A perfectly ordinary sentence of a legacy blog post. " * 12 + "</p>"
PAGE = (
    "<!doctype html><html><head><meta charset=utf-8><title>Post {n}</title></head><body>"
    "<article><h1>Post {n}</h1><time datetime='2020-01-02'>Jan 2, 2020</time>"
    + PARAGRAPH * 40
    + "</article></body></html>"
)
VARIANTS = {
    "fixed": "[fetch]\nadaptive = false\n",
    "adaptive": "",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    pages = 200
    slow_after: float | None = None  # seconds after the first page request
    slow_s = 1.5
    fast_s = 0.005

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.page_requests = 0
        self.slow_answers = 0
        self.first: float | None = None
        self.slow_since: float | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        server = self.server
        base = f"http://127.0.0.1:{server.server_address[1]}"
        if self.path == "/sitemap.xml":
            locs = "".join(f"<url><loc>{base}/p/{n}/</loc></url>" for n in range(server.pages))
            body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
            self._send(200, "application/xml", body.encode())
            return
        if not self.path.startswith("/p/"):
            self._send(404, "text/html", b"<h1>Not found</h1>")
            return
        with server.lock:
            now = time.monotonic()
            server.page_requests += 1
            server.first = server.first or now
            slow = server.slow_after is not None and now - server.first > server.slow_after
            if slow and server.slow_since is None:
                server.slow_since = server.first + (server.slow_after or 0.0)
            server.slow_answers += slow
        time.sleep(server.slow_s if slow else server.fast_s)
        number = self.path.strip("/").rsplit("/", 1)[-1]
        self._send(200, "text/html; charset=utf-8", PAGE.format(n=number).encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _migrator(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "migrator", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _fetch(server: _Server, variant: str, tmp: Path, window: float | None) -> float:
    """Run ``migrator fetch`` with ``variant``; SIGTERM after ``window`` s; return wall s."""
    config = tmp / f"{variant}.toml"
    config.write_text(VARIANTS[variant])
    db = tmp / f"{variant}-{time.monotonic_ns()}.db"
    start = f"http://127.0.0.1:{server.server_address[1]}/sitemap.xml"
    argv = _migrator(["fetch", start, "--db", str(db), "--config", str(config), "-q"])
    began = time.perf_counter()
    proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.DEVNULL)
    try:
        proc.wait(timeout=window)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--window", type=float, default=30.0, help="seconds on 'slowing'")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--servers", nargs="*", default=["healthy", "slowing"])
    args = parser.parse_args()
    print(
        "| server | pacing | pages | wall s | pages/s | page requests | slow answers"
        " | requests/s once slow |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="bench-pace-") as name:
        tmp = Path(name)
        for kind in args.servers:
            for variant in args.variants:
                server = _Server()
                server.pages = args.pages
                server.slow_after = 5.0 if kind == "slowing" else None
                thread = threading.Thread(target=server.serve_forever, daemon=True)
                thread.start()
                try:
                    window = args.window if kind == "slowing" else None
                    wall = _fetch(server, variant, tmp, window)
                    ended = time.monotonic()
                finally:
                    server.shutdown()
                    server.server_close()
                done = server.page_requests
                slow_rate = (
                    f"{server.slow_answers / (ended - server.slow_since):.2f}"
                    if server.slow_since is not None
                    else "-"
                )
                print(
                    f"| {kind} | {variant} | {args.pages} | {wall:.1f} | {done / wall:.1f}"
                    f" | {done} | {server.slow_answers} | {slow_rate} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
