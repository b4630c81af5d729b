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
    parser.add_argument("--c", help="a third executable C, run in the same rounds (optional)")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--keep", type=Path, help="keep each run's database in this folder")
    parser.add_argument(
        "--shape",
        choices=("realistic", "tiny"),
        default="realistic",
        help="realistic pages (default) or the ~1 KB pages of the first benchmark site",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{args.port}"
    site, _expected = ensure_site(args.out, args.posts, 0, base, args.shape)
    exe = {"A": args.a, "B": args.b} | ({"C": args.c} if args.c else {})
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in exe}
    with tempfile.TemporaryDirectory() as tmp, serve(site, args.port) as served:
        log = Path(tmp) / "stderr.log"
        dbs = args.keep or Path(tmp)
        dbs.mkdir(parents=True, exist_ok=True)
        for rnd in range(args.runs):
            for name in list(exe) if rnd % 2 == 0 else list(exe)[::-1]:
                db = dbs / f"{name}-{rnd}.db"
                db.unlink(missing_ok=True)
                cmd = [exe[name], "run", served.base_url + "/"]
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
    for name in exe:
        if name != "A":
            print(
                f"median pages/s: A {med['A']:.1f}, {name} {med[name]:.1f},"
                f" {name}/A {med[name] / med['A']:.3f}"
            )
            print(
                f"median cpu s:   A {cpu['A']:.1f}, {name} {cpu[name]:.1f},"
                f" {name}/A {cpu[name] / cpu['A']:.3f}"
            )


if __name__ == "__main__":
    main()
