"""A/B: ``migrator run`` of two installs on the same generated blog, side by side.

Each round runs every install once against the same nginx-served site (fresh database,
``--concurrency 16 --delay 0``), alternating the order, and prints pages/s, CPU seconds and
peak RSS per run plus the medians and the ratio B/A. Used to check that the site model
(issue #10) costs no throughput: A = an older checkout's ``.venv/bin/migrator``.

    .venv/bin/python benchmarks/ab_run.py --a /work/wt-old/.venv/bin/migrator \\
        --b .venv/bin/migrator --posts 2000 --runs 3
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
from pathlib import Path

from compare import HERE, ensure_site, measure
from serve import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="migrator executable A (baseline)")
    parser.add_argument("--b", required=True, help="migrator executable B")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{args.port}"
    site, _expected = ensure_site(args.out, args.posts, 0, base)
    results: dict[str, list[tuple[float, float, float]]] = {"A": [], "B": []}
    with tempfile.TemporaryDirectory() as tmp, serve(site, args.port) as served:
        log = Path(tmp) / "stderr.log"
        for rnd in range(args.runs):
            for name in ("A", "B") if rnd % 2 == 0 else ("B", "A"):
                db = Path(tmp) / f"{name}-{rnd}.db"
                cmd = [args.a if name == "A" else args.b, "run", served.base_url + "/"]
                cmd += ["--db", str(db), "--concurrency", "16", "--delay", "0", "-q"]
                m = measure(cmd, name=name, rnd=rnd, log=log)
                with sqlite3.connect(db) as con:
                    pages = con.execute("SELECT count(*) FROM raw_pages").fetchone()[0]
                    posts = con.execute(
                        "SELECT count(*) FROM pages WHERE page_type = 'post'"
                    ).fetchone()[0]
                rate = pages / m.wall_s
                results[name].append((rate, m.cpu_s, m.peak_rss_mb))
                print(
                    f"round {rnd} {name}: {pages} pages ({posts} posts) in {m.wall_s:.1f} s"
                    f" = {rate:.1f} pages/s, cpu {m.cpu_s:.1f} s, peak {m.peak_rss_mb:.0f} MB,"
                    f" exit {m.exit_code}",
                    flush=True,
                )
    med = {k: statistics.median(r[0] for r in v) for k, v in results.items()}
    cpu = {k: statistics.median(r[1] for r in v) for k, v in results.items()}
    print(f"median pages/s: A {med['A']:.1f}, B {med['B']:.1f}, B/A {med['B'] / med['A']:.3f}")
    print(f"median cpu s:   A {cpu['A']:.1f}, B {cpu['B']:.1f}, B/A {cpu['B'] / cpu['A']:.3f}")


if __name__ == "__main__":
    main()
