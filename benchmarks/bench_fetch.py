"""Fetch benchmark: ``migrator fetch`` against a real local server, with a plain httpx
loop over the same URLs as the ceiling, measured in the same run.

For each size N, a legacy blog of N posts is generated with ``sitegen.generate_site``
into a temporary directory under ``benchmarks/out/`` and served by nginx (an
unprivileged foreground process, see ``serve.py``; the threaded stdlib server when
nginx is missing). Then, each in its own subprocess so peak RSS is its own:

- ``httpx``: an ``asyncio`` loop with one ``httpx.AsyncClient`` and 16 requests in
  flight over the sitemap's URLs, bodies read and discarded (the ceiling);
- ``migrator fetch START --db X --concurrency 16 --delay 0 -q``: the fetch stage alone
  (discovery from robots.txt and the sitemap, politeness, retries, streaming into
  SQLite).

Pages/s is 2xx pages stored (or received, for httpx) over wall time; peak RSS is the
child's ``VmHWM`` high-water mark, polled from ``/proc``.

    .venv/bin/python benchmarks/bench_fetch.py [--posts 10000 50000] [--concurrency 16]
        [--markdown BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from serve import free_port, serve  # noqa: E402 - benchmarks/ is not a package
from sitegen import generate_site  # noqa: E402

SECTION = "## Fetch"


@dataclass(frozen=True, slots=True, kw_only=True)
class Measure:
    """One measured subprocess."""

    name: str
    pages: int
    seconds: float
    peak_rss_mb: float

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def _run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run ``cmd``; return (wall seconds, peak RSS in MiB, stdout).

    Peak RSS is the child's ``VmHWM`` (its own high-water mark, reset by ``exec``), read
    from ``/proc`` every 50 ms while it runs. ``ru_maxrss`` from ``wait4`` is no good
    here: Linux carries it across ``fork`` + ``exec``, so every child would report at
    least this parent's size (which holds the generated site's metadata).
    """
    started = time.perf_counter()
    peak_kib = 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        status = Path(f"/proc/{proc.pid}/status")
        while proc.poll() is None:
            peak_kib = max(peak_kib, _vm_hwm_kib(status))
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode()
        err.seek(0)
        errors = err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} exited {proc.returncode}: {errors[-2000:]}")
    return seconds, peak_kib / 1024, text


def _vm_hwm_kib(status: Path) -> int:
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):  # the process just ended
        pass
    return 0


def sitemap_urls(site: Path, base: str) -> list[str]:
    """Every page URL of the generated site's sitemaps (read from disk, indexes followed)."""
    from migrator.discover import parse_sitemap

    urls: list[str] = []
    todo = [base + "/sitemap.xml"]
    while todo:
        url = todo.pop()
        body = (site / url[len(base) + 1 :]).read_bytes()
        pages, children = parse_sitemap(body, url)
        urls += [p.url for p in pages]
        todo += children
    return urls


async def _httpx_loop(urls: list[str], concurrency: int) -> int:
    import httpx

    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    ok = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

        async def worker() -> None:
            nonlocal ok
            while not queue.empty():
                url = queue.get_nowait()
                async with client.stream("GET", url) as response:
                    async for _ in response.aiter_raw():
                        pass
                    ok += 200 <= response.status_code < 300

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok


def httpx_main(url_file: Path, concurrency: int) -> None:
    """Child process of the ceiling measurement: fetch every URL, print how many were 2xx."""
    urls = url_file.read_text().split()
    print(asyncio.run(_httpx_loop(urls, concurrency)))


def measure_size(posts: int, concurrency: int, work: Path) -> tuple[Measure, Measure, str]:
    """Generate, serve and measure one site size; return (httpx, migrator, server kind)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = work / f"site-{posts}"
    t0 = time.perf_counter()
    generate_site(site, posts, seed=1, base_url=base)
    print(f"[{posts}] generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    urls = sitemap_urls(site, base)
    url_file = work / f"urls-{posts}.txt"
    url_file.write_text("\n".join(urls))
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    with serve(site, port) as served:
        secs, rss, out = _run_measured(
            [sys.executable, __file__, "--httpx-loop", str(url_file), "-c", str(concurrency)]
        )
        ceiling = Measure(name="httpx loop", pages=int(out.strip()), seconds=secs, peak_rss_mb=rss)
        print(f"[{posts}] httpx: {ceiling.rate:.0f} pages/s, {rss:.0f} MiB", file=sys.stderr)
        db = work / f"fetch-{posts}.db"
        cmd = [sys.executable, "-m", "migrator", "fetch", base + "/", "--db", str(db)]
        cmd += ["--concurrency", str(concurrency), "--delay", "0", "-q"]
        secs, rss, _ = _run_measured(cmd, env=env)
        conn = sqlite3.connect(db)
        stored = conn.execute(
            "SELECT count(*) FROM raw_pages WHERE status BETWEEN 200 AND 299"
        ).fetchone()[0]
        conn.close()
        fetched = Measure(name="migrator fetch", pages=stored, seconds=secs, peak_rss_mb=rss)
        print(f"[{posts}] migrator: {fetched.rate:.0f} pages/s, {rss:.0f} MiB", file=sys.stderr)
        kind = served.kind
    shutil.rmtree(site, ignore_errors=True)
    return ceiling, fetched, kind


def render(results: list[tuple[int, Measure, Measure]], concurrency: int, kind: str) -> str:
    """The BENCHMARKS.md section."""
    cpu = platform.processor() or platform.machine()
    lines = [
        SECTION,
        "",
        f"`benchmarks/bench_fetch.py`: a generated blog served by {kind} on 127.0.0.1,"
        f" {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}. Both"
        f" clients keep {concurrency} requests in flight; each runs in its own process and"
        " peak RSS is that process's own high-water mark (`VmHWM`). `migrator fetch`"
        " includes discovery (robots.txt, sitemap), politeness bookkeeping and writing"
        " every body to SQLite; the httpx loop reads the same sitemap URLs and discards"
        " the bodies.",
        "",
        "| posts | client | pages | seconds | pages/s | % of ceiling | peak RSS (MiB) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for posts, ceiling, fetched in results:
        for m in (ceiling, fetched):
            share = f"{100 * m.rate / ceiling.rate:.0f} %" if ceiling.rate else "-"
            lines.append(
                f"| {posts:,} | {m.name} | {m.pages:,} | {m.seconds:.1f} | {m.rate:.0f} |"
                f" {share} | {m.peak_rss_mb:.0f} |"
            )
    if len(results) >= 2:
        small, large = results[0][2], results[-1][2]
        growth = 100 * (large.peak_rss_mb / small.peak_rss_mb - 1)
        lines += [
            "",
            f"Peak memory of `migrator fetch` at {results[-1][0]:,} posts is {growth:+.0f} %"
            f" of that at {results[0][0]:,} (the limit is +25 %).",
        ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace (or append) the ``## Fetch`` section of ``path``, leaving others alone."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        path.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    rest = "".join(lines[end:])
    path.write_text("".join(lines[:start]) + section + ("\n" + rest if rest else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("--markdown", type=Path, help="write the results into this file")
    parser.add_argument("--httpx-loop", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.httpx_loop:
        httpx_main(args.httpx_loop, args.concurrency)
        return
    (HERE / "out").mkdir(exist_ok=True)
    results = []
    kind = "?"
    with tempfile.TemporaryDirectory(prefix="fetch-", dir=HERE / "out") as tmp:
        os.chmod(tmp, 0o755)  # nginx's workers run as an unprivileged user
        for posts in args.posts:
            ceiling, fetched, kind = measure_size(posts, args.concurrency, Path(tmp))
            results.append((posts, ceiling, fetched))
    section = render(results, args.concurrency, kind)
    print(section)
    print(json.dumps([(n, c.rate, f.rate, f.peak_rss_mb) for n, c, f in results]))
    if args.markdown:
        write_section(args.markdown, section)


if __name__ == "__main__":
    main()
