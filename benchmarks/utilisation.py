"""How busy a ``migrator run`` keeps the cores: its process tree sampled once a second.

Serves the realistic generated blog (like ``ab_run.py``), runs one install on it and
prints, per interval, the cores used by the main process and by its worker processes
(CPU seconds per wall second, from psutil), then the share of the run each spent busy.

    .venv/bin/python benchmarks/utilisation.py --exe .venv/bin/migrator --posts 2000
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from compare import ENV, HERE, ROOT, ensure_site
from serve import serve


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exe", required=True, help="the migrator executable")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--port", type=int, default=8093)
    parser.add_argument("--every", type=float, default=10.0, help="seconds per printed line")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--shape", choices=("realistic", "tiny"), default="realistic")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    site, _ = ensure_site(args.out, args.posts, 0, base, args.shape)
    with tempfile.TemporaryDirectory() as tmp, serve(site, args.port) as served:
        db = Path(tmp) / "run.db"
        cmd = [args.exe, "run", served.base_url + "/", "--db", str(db)]
        cmd += ["--concurrency", "16", "--delay", "0", "-q"]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL)
        root = psutil.Process(proc.pid)
        seen: dict[tuple[int, float], float] = {}  # (pid, created) -> CPU s so far
        last = {"main": 0.0, "workers": 0.0}
        totals = {"main": 0.0, "workers": 0.0}
        mark = started
        print("   t s  main cores  worker cores  (2 cores = both busy)")
        while proc.poll() is None:
            time.sleep(1.0)
            try:
                children = root.children(recursive=True)
                main_cpu = _cpu(root)
            except psutil.Error:
                continue
            for child in children:
                with contextlib.suppress(psutil.Error):
                    seen[(child.pid, child.create_time())] = _cpu(child)
            now = {"main": main_cpu, "workers": sum(seen.values())}
            wall = time.perf_counter()
            if wall - mark >= args.every:
                used = {k: (now[k] - last[k]) / (wall - mark) for k in now}
                print(f"{wall - started:6.0f}  {used['main']:10.2f}  {used['workers']:12.2f}")
                last, mark = now, wall
            totals = now
        elapsed = time.perf_counter() - started
    print(
        f"wall {elapsed:.0f} s; CPU main {totals['main']:.1f} s"
        f" ({totals['main'] / elapsed:.2f} cores), workers {totals['workers']:.1f} s"
        f" ({totals['workers'] / elapsed:.2f} cores); exit {proc.returncode}"
    )


if __name__ == "__main__":
    main()
