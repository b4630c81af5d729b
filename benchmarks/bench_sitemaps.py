"""Peak memory of `migrator run` against hostile sitemaps (issue #15), served locally.

Two sites, generated on the fly by a local server (nothing is written to disk):

- ``fanout``: a sitemap index of 50,000 child indexes, each listing 50,000 more child
  indexes (no page anywhere): the walk must stay bounded in memory and in files read;
- ``big``: a sitemap index of 40 sitemaps of 50,000 URLs each (2,000,000 URLs) whose
  pages answer: the run must stop at ``max_pages``;
- ``fanout-pages``: the fan-out, but the grandchildren are urlsets of 50,000 pages that
  answer: the run must stop at ``max_pages``;
- ``one``: a single gzipped sitemap of 2,000,000 URLs (about 110 MB inflated, past the
  protocol's 50 MB): streamed as it inflates, stopped at ``max_pages``.

Each run is a `migrator run` subprocess; the peak RSS of it and its children is polled
(psutil, every 0.1 s) and the run is killed after ``--timeout`` seconds.

    .venv/bin/python benchmarks/bench_sitemaps.py [--max-pages 1000] [--timeout 300]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import psutil

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
FANOUT = 50_000
BIG_FILES, BIG_URLS = 40, 50_000
ONE_URLS = 2_000_000


_ONE: dict[str, bytes] = {}


def _one_sitemap(base: str) -> bytes:
    """2,000,000 URLs in one gzipped urlset, made once (compressed in pieces)."""
    if base not in _ONE:
        packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        parts = [packer.compress(f'<?xml version="1.0"?><urlset {NS}>'.encode())]
        for start in range(0, ONE_URLS, 50_000):
            chunk = "".join(
                f"<url><loc>{base}/post/one/{i}/</loc></url>" for i in range(start, start + 50_000)
            )
            parts.append(packer.compress(chunk.encode()))
        parts.append(packer.compress(b"</urlset>"))
        parts.append(packer.flush())
        _ONE[base] = b"".join(parts)
    return _ONE[base]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bench"
    served: ClassVar[dict[str, int]] = {"sitemaps": 0, "pages": 0}

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"  # type: ignore[index]
        path = self.path
        if path.startswith("/fanout-pages/") and path.count("-") == 3:
            name = path.removeprefix("/fanout-pages/").removesuffix(".xml")
            body = (
                f'<?xml version="1.0"?><urlset {NS}>'
                + "".join(f"<url><loc>{base}/post/{name}/{i}/</loc></url>" for i in range(BIG_URLS))
                + "</urlset>"
            )
            self._send(body.encode(), "application/xml", "sitemaps")
        elif path.startswith(("/fanout/", "/fanout-pages/")):
            folder, name = path.strip("/").removesuffix(".xml").split("/", 1)
            body = (
                f'<?xml version="1.0"?><sitemapindex {NS}>'
                + "".join(
                    f"<sitemap><loc>{base}/{folder}/{name}-{i}.xml</loc></sitemap>"
                    for i in range(FANOUT)
                )
                + "</sitemapindex>"
            )
            self._send(body.encode(), "application/xml", "sitemaps")
        elif path == "/one/sitemap.xml.gz":
            self._send(_one_sitemap(base), "application/gzip", "sitemaps")
        elif path.startswith("/fanout/"):
            name = path.removeprefix("/fanout/").removesuffix(".xml")
            body = (
                f'<?xml version="1.0"?><sitemapindex {NS}>'
                + "".join(
                    f"<sitemap><loc>{base}/fanout/{name}-{i}.xml</loc></sitemap>"
                    for i in range(FANOUT)
                )
                + "</sitemapindex>"
            )
            self._send(body.encode(), "application/xml", "sitemaps")
        elif path == "/big/index.xml":
            body = (
                f'<?xml version="1.0"?><sitemapindex {NS}>'
                + "".join(
                    f"<sitemap><loc>{base}/big/s{i}.xml</loc></sitemap>" for i in range(BIG_FILES)
                )
                + "</sitemapindex>"
            )
            self._send(body.encode(), "application/xml", "sitemaps")
        elif path.startswith("/big/s"):
            n = path.removeprefix("/big/s").removesuffix(".xml")
            body = (
                f'<?xml version="1.0"?><urlset {NS}>'
                + "".join(f"<url><loc>{base}/post/{n}/{i}/</loc></url>" for i in range(BIG_URLS))
                + "</urlset>"
            )
            self._send(body.encode(), "application/xml", "sitemaps")
        elif path.startswith("/post/"):
            text = "word " * 200
            body = f"<!doctype html><title>{path}</title><article><h1>{path}</h1><p>{text}</p>"
            self._send(body.encode(), "text/html; charset=utf-8", "pages")
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def _send(self, body: bytes, content_type: str, kind: str) -> None:
        Handler.served[kind] += 1
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def measure(start: str, folder: Path, max_pages: int, timeout: float) -> dict[str, object]:
    config = folder / "bench.toml"
    config.write_text(
        f"[scope]\nmax_pages = {max_pages}\n[fetch]\ndelay = 0.0\nconcurrency = 8\n"
        "[extract]\nworkers = 1\n"
    )
    db = folder / "bench.db"
    Handler.served = {"sitemaps": 0, "pages": 0}
    argv = [
        str(Path(sys.executable).parent / "migrator"),
        "run",
        start,
        "--config",
        str(config),
        "--db",
        str(db),
        "-q",
    ]
    began = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watched = psutil.Process(process.pid)
    peak = 0
    killed = False
    while process.poll() is None:
        try:
            procs = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
        except psutil.NoSuchProcess:
            pass
        if time.monotonic() - began > timeout:
            process.kill()
            killed = True
            break
        time.sleep(0.1)
    process.wait()
    elapsed = time.monotonic() - began
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        pages = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
        queued = conn.execute("SELECT count(*) FROM crawl_state").fetchone()[0]
        row = conn.execute("SELECT counts FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        counts = json.loads(row[0]) if row else {}
        message = {k: v for k, v in counts.items() if k.startswith("limited_")}
    finally:
        conn.close()
    return {
        "start": start.rsplit("/", 2)[-2] + "/" + start.rsplit("/", 1)[-1],
        "limited": message,
        "exit": process.returncode,
        "killed_at_timeout": killed,
        "seconds": round(elapsed, 1),
        "peak_rss_mb": round(peak / 1e6, 1),
        "pages_stored": pages,
        "urls_in_crawl_state": queued,
        "sitemaps_served": Handler.served["sitemaps"],
        "pages_served": Handler.served["pages"],
        "db_mb": round(db.stat().st_size / 1e6, 2),
    }


SITES = (
    ("fanout", "/fanout/root.xml"),
    ("fanout-pages", "/fanout-pages/root.xml"),
    ("big", "/big/index.xml"),
    ("one", "/one/sitemap.xml.gz"),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-pages", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--only", choices=[n for n, _ in SITES], default=None)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for name, start in SITES:
            if args.only not in {None, name}:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                print(name, measure(base + start, Path(tmp), args.max_pages, args.timeout))
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
