"""Sync of an unchanged site, with validators and without (WordPress-like).

A nightly sync of a site where nothing changed is the common case of the re-sync weeks.
Two servers over the same generated blog (nginx, ``serve.py``):

- ``validators``: nginx's ``ETag`` and ``Last-Modified``; the sync sends conditional GETs
  and every page answers 304;
- ``none``: no ``ETag``, no ``Last-Modified``, never a 304 — what WordPress's dynamic pages
  send. Every page comes back whole; migrator compares it byte for byte with the stored
  answer and skips extraction and writes when it is the same (``no_validators`` in the
  run's counts).

For each: ``migrator run`` into a fresh database, then ``migrator sync`` on it, each
measured as a subprocess tree (wall, CPU, peak RSS; ``compare.measure``), and the sync's
counts printed (``not_modified``, ``no_validators``, ``new``/``changed`` pages). No number
here is asserted by a test.

    .venv/bin/python benchmarks/bench_sync.py --posts 10000
    .venv/bin/python benchmarks/bench_sync.py --posts 2000 --exe /other/.venv/bin/migrator
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from compare import HERE, ROOT, ensure_site, measure, run_counts
from serve import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--shape", choices=("realistic", "tiny"), default="realistic")
    parser.add_argument("--exe", default=str(ROOT / ".venv" / "bin" / "migrator"))
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    site, _expected = ensure_site(args.out, args.posts, 0, base, args.shape)
    crawl = ["--concurrency", "16", "--delay", "0", "-q"]
    print(f"{args.posts} posts ({args.shape}), {args.exe}")
    print("| server | step | pages | wall s | pages/s | CPU s | CPU ms/page | peak MB | counts |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "stderr.log"
        for validators in (True, False):
            name = "validators" if validators else "none"
            db = Path(tmp) / f"{name}.db"
            with serve(site, args.port, validators=validators) as served:
                start = served.base_url + "/"
                steps = (
                    ("run", [args.exe, "run", start, "--db", str(db), *crawl]),
                    ("sync", [args.exe, "sync", "--db", str(db), *crawl]),
                )
                for step, cmd in steps:
                    m = measure(cmd, name=step, rnd=0, log=log)
                    counts = run_counts(db)
                    # An unchanged page without validators is fetched whole and counted
                    # as no_validators (not as fetched or not_modified).
                    pages = counts.get("fetched", 0) + max(
                        counts.get("not_modified", 0), counts.get("no_validators", 0)
                    )
                    shown = {k: v for k, v in counts.items() if v}
                    rate = pages / m.wall_s if m.wall_s else 0.0
                    per_page = 1000 * m.cpu_s / pages if pages else 0.0
                    print(
                        f"| {name} | {step} | {pages} | {m.wall_s:.1f} | {rate:.0f} |"
                        f" {m.cpu_s:.1f} | {per_page:.2f} | {m.peak_rss_mb:.0f} | {shown} |",
                        flush=True,
                    )
                    if m.exit_code:
                        print(f"exit {m.exit_code}; stderr in {log}: {log.read_text()[-2000:]}")


if __name__ == "__main__":
    main()
