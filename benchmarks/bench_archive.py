"""Pages per second from archive sources (#12): a generated blog archived by wget, read
back with ``migrator run --from-warc`` and ``--from-dir``, beside a live run of the site.

One wget pass (``--mirror --adjust-extension --convert-links --warc-file``) writes both
the WARC and the mirror folder from the served site; the server is stopped before either
archive is read, so nothing comes from the network. Each migrator run is a subprocess of
the real command line with the default extraction workers; pages/s is stored answers
over the run's own elapsed time (its report). Indexing (reading every record's headers,
or walking the folder) is also timed alone, in this process.

    .venv/bin/python benchmarks/bench_archive.py --posts 10000 --mode fetch
    .venv/bin/python benchmarks/bench_archive.py --posts 1000 --mode run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from migrator.sources.mirror import MirrorArchive  # noqa: E402
from migrator.sources.warc import WarcArchive  # noqa: E402
from serve import free_port, serve  # noqa: E402 - benchmarks/ is not a package
from sitegen import generate_site  # noqa: E402


def _migrate(mode: str, args: list[str], db: Path) -> dict[str, object]:
    """Run ``migrator MODE ARGS`` into ``db``; its JSON report plus the posts stored."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "migrator", "-q", mode, *args, "--db", str(db), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.strip()[-500:]}")
    report = json.loads(done.stdout)
    conn = sqlite3.connect(db)
    try:
        report["posts"] = conn.execute(
            "SELECT count(*) FROM pages WHERE page_type = 'post'"
        ).fetchone()[0]
    finally:
        conn.close()
    return report


def _row(name: str, report: dict[str, object], index_s: float | None) -> dict[str, object]:
    counts = report["counts"]
    assert isinstance(counts, dict)
    elapsed = float(report["elapsed_s"])  # type: ignore[arg-type]
    fetched = int(counts.get("fetched", 0))
    return {
        "source": name,
        "answers": fetched,
        "posts": report["posts"],
        "failed": int(counts.get("failed", 0)),
        "seconds": round(elapsed, 1),
        "pages_s": round(fetched / elapsed, 1) if elapsed else 0.0,
        "index_s": None if index_s is None else round(index_s, 2),
    }


def measure(
    posts: int, work: Path, *, live: bool, mode: str
) -> tuple[list[dict[str, object]], str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = work / "site"
    generate_site(site, posts, seed=1, base_url=base)
    wget = shutil.which("wget")
    if wget is None:
        raise SystemExit("wget is needed (apt-get install wget)")
    rows = []
    with serve(site, port) as served:
        t0 = time.perf_counter()
        subprocess.run(
            [
                *(wget, "-q", "--mirror", "--adjust-extension", "--convert-links"),
                *(f"--warc-file={work / 'site'}", "-P", str(work / "mirror"), base + "/"),
            ],
            check=False,
        )
        wget_s = time.perf_counter() - t0
        print(f"wget: {wget_s:.0f} s", file=sys.stderr)
        if live:
            report = _migrate(
                mode, [base + "/", "--delay", "0", "--concurrency", "16"], work / "l.db"
            )
            rows.append(_row("live site (reference)", report, None))
            print(rows[-1], file=sys.stderr)
        kind = served.kind
    warc = work / "site.warc.gz"
    t0 = time.perf_counter()
    WarcArchive([warc])
    warc_index = time.perf_counter() - t0
    report = _migrate(mode, ["--from-warc", str(warc)], work / "w.db")
    rows.append(
        _row(f"--from-warc ({warc.stat().st_size / 2**20:.0f} MiB .warc.gz)", report, warc_index)
    )
    print(rows[-1], file=sys.stderr)
    t0 = time.perf_counter()
    MirrorArchive(work / "mirror", base)
    dir_index = time.perf_counter() - t0
    report = _migrate(mode, ["--from-dir", str(work / "mirror"), "--base-url", base], work / "m.db")
    rows.append(_row("--from-dir (wget mirror)", report, dir_index))
    print(rows[-1], file=sys.stderr)
    return rows, f"served by {kind}; wget archived it in {wget_s:.0f} s"


def render(posts: int, rows: list[dict[str, object]], note: str, mode: str) -> str:
    what = (
        "discovery, reading and writing every answer to SQLite, no extraction"
        if mode == "fetch"
        else "discovery, reading, extraction, the site model and the writes"
    )
    lines = [
        f"`benchmarks/bench_archive.py --posts {posts} --mode {mode}`: a generated blog of"
        f" {posts:,} posts ({note}), read with `migrator {mode}` from the live site, from the"
        " WARC and from the mirror folder that one wget pass wrote; 2 shared cores."
        f" pages/s = stored answers / the run's elapsed time ({what}); index = reading the"
        " archive's index alone.",
        "",
        "| source | answers | posts | failed | seconds | pages/s | index (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        index = "" if r["index_s"] is None else f"{r['index_s']}"
        lines.append(
            f"| {r['source']} | {r['answers']:,} | {r['posts']:,} | {r['failed']} |"
            f" {r['seconds']} | {r['pages_s']} | {index} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--no-live", action="store_true", help="skip the live reference run")
    parser.add_argument("--mode", choices=["fetch", "run"], default="fetch")
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        Path(tmp).chmod(0o755)  # nginx's workers run as another user
        rows, note = measure(args.posts, Path(tmp), live=not args.no_live, mode=args.mode)
    print(render(args.posts, rows, note, args.mode))


if __name__ == "__main__":
    main()
