"""Memory benchmark: peak RSS of ``migrator run`` on a site of ~1 MB pages, at two sizes.

A threaded stdlib server on 127.0.0.1 serves a sitemap of N posts of ~1 MB each (the
same body, numbered). ``migrator run START --db X --concurrency 8 --delay 0 -q`` runs in
a subprocess; its peak RSS (``VmHWM``) is read from ``/proc`` while it runs, for the main
process and for the largest of its children (the extraction workers). With memory
bounded by bytes in flight, the main process's peak should not grow with N.

    .venv/bin/python benchmarks/bench_memory.py [--posts 60 240]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORDS = "A sentence of a long legacy post, repeated to make it big. "
BODY = "".join(f"<p>{n} {WORDS * 40}</p>" for n in range(450))  # ~1 MB


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    posts = 60


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/sitemap.xml":
            locs = "".join(f"<url><loc>{base}/p/{n}/</loc></url>" for n in range(self.server.posts))
            xml = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
            self._send("application/xml", xml.encode())
        elif self.path.startswith("/p/"):
            html = (
                f"<!doctype html><html><head><meta charset=utf-8><title>Post {self.path}"
                f"</title></head><body><article><h1>Post {self.path}</h1>{BODY}</article>"
                "</body></html>"
            )
            self._send("text/html; charset=utf-8", html.encode())
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def _send(self, content_type: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def _descendants(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found + [d for child in found for d in _descendants(child)]


def measure(posts: int, tmp: Path) -> tuple[float, int, int]:
    """Wall seconds, main peak RSS (MB) and the largest child's peak RSS (MB)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.posts = posts
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    start = f"http://127.0.0.1:{server.server_address[1]}/sitemap.xml"
    db = tmp / f"m{posts}.db"
    argv = [sys.executable, "-m", "migrator", "run", start, "--db", str(db)]
    argv += ["--concurrency", "8", "--delay", "0", "-q"]
    began = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    main_kb = child_kb = 0
    try:
        while proc.poll() is None:
            main_kb = max(main_kb, _hwm_kb(proc.pid))
            for child in _descendants(proc.pid):
                child_kb = max(child_kb, _hwm_kb(child))
            time.sleep(0.2)
    finally:
        server.shutdown()
        server.server_close()
    return time.perf_counter() - began, main_kb // 1024, child_kb // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, nargs="*", default=[60, 240])
    args = parser.parse_args()
    print("| posts (~1 MB each) | wall s | main peak RSS MB | largest worker peak RSS MB |")
    print("| ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as name:
        for posts in args.posts:
            wall, main_mb, child_mb = measure(posts, Path(name))
            print(f"| {posts} | {wall:.1f} | {main_mb} | {child_mb} |", flush=True)


if __name__ == "__main__":
    main()
