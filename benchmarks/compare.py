"""Whole-pipeline benchmark: ``migrator run`` and ``migrator sync`` against a Scrapy spider.

Generates a legacy blog of N posts with ``benchmarks/sitegen.py`` (kept under
``benchmarks/out/`` and reused when it already exists), serves it on 127.0.0.1 with nginx (or
a threaded stdlib server when nginx is missing; the output says which), then runs, alternating,
``--runs`` rounds of:

1. ``migrator run START --db <fresh> --concurrency 16 --delay 0 -q``;
2. ``migrator sync`` with nothing changed (every page revalidated by a conditional GET);
3. ``migrator sync`` with nothing changed and ``[sync] trust_lastmod = true``;
4. ``migrator sync`` after 5% of the posts changed (file edited, sitemap ``lastmod`` bumped);
5. the same with ``trust_lastmod`` (another 5% changed); the site is restored afterwards;
6. the Scrapy + trafilatura spider (``benchmarks/scrapy_spider.py``), writing JSON lines;
   it canonicalises URLs like migrator, so both fetch the same pages;
7. trafilatura's own command line over the site's URL list (every page of the manifest,
   the same pages the crawlers reach), 16 download threads, Markdown with metadata.

The site is the realistic one by default (``--shape realistic``: pages sized and shaped
like real blogs, ``benchmarks/furniture.py``); ``--shape tiny`` is the old 1-8 KB page
site, a ceiling figure only.

Every command is a subprocess; its process tree is sampled with psutil every 50 ms for CPU
seconds (user + system, summed over processes) and peak memory (sum of RSS). It prints each
measurement, the medians, the ratio migrator / spider and per-field accuracy of both against
the generator's ground truth (share of posts exactly right), and writes the same as JSON and
Markdown next to the site. No number here is asserted by a test.

    .venv/bin/python benchmarks/compare.py --posts 10000 --runs 3
    .venv/bin/python benchmarks/compare.py --posts 10000 --runs 3 --shape tiny
    .venv/bin/python benchmarks/compare.py --posts 100000 --runs 1 --only migrator
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from serve import serve  # noqa: E402
from sitegen import generate_site  # noqa: E402

VENV_BIN = Path(sys.executable).parent
MIGRATOR = [str(VENV_BIN / "python"), "-m", "migrator"]
SPIDER = [str(VENV_BIN / "python"), str(HERE / "scrapy_spider.py")]
TRAFILATURA = [str(VENV_BIN / "trafilatura")]
FIELDS = ("title", "published", "breadcrumbs", "sections", "sidebar_links")
# Like an ordinary installation, the measured programs read and write bytecode caches:
# compiling every module from source would add ~0.5 s of start-up to each process.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
CHANGED_SHARE = 0.05
BUMPED_LASTMOD = "2031-01-01"


@dataclass(slots=True, kw_only=True)
class Measure:
    """One subprocess run."""

    name: str
    round: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    pages: int = 0
    exit_code: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall_s if self.wall_s else 0.0


def measure(
    cmd: list[str], *, name: str, rnd: int, log: Path, env: dict[str, str] | None = None
) -> Measure:
    """Run ``cmd``, sampling its process tree's CPU time and summed RSS every 50 ms."""
    started = time.perf_counter()
    with log.open("ab") as err:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, env=env or ENV
        )
        root = psutil.Process(proc.pid)
        cpu: dict[tuple[int, float], float] = {}
        peak = 0
        while proc.poll() is None:
            rss = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                procs = []
            for p in procs:
                try:
                    with p.oneshot():
                        t = p.cpu_times()
                        cpu[(p.pid, p.create_time())] = t.user + t.system
                        rss += p.memory_info().rss
                except psutil.Error:
                    pass
            peak = max(peak, rss)
            time.sleep(0.05)
        wall = time.perf_counter() - started
    return Measure(
        name=name,
        round=rnd,
        wall_s=wall,
        cpu_s=sum(cpu.values()),
        peak_rss_mb=peak / 2**20,
        exit_code=proc.returncode,
    )


# --------------------------------------------------------------------------- site


def ensure_site(
    out: Path, posts: int, seed: int, base_url: str, shape: str = "realistic"
) -> tuple[Path, Path]:
    """Generate the site (reused when a complete one for the same arguments exists)."""
    tag = f"real-{posts}" if shape == "realistic" else f"{posts}"
    site, expected = out / f"site-{tag}", out / f"expected-{tag}"
    manifest = expected / "manifest.json"
    if manifest.exists():
        head = json.loads(manifest.read_text())
        if head["posts"] == posts and head["seed"] == seed and head["base_url"] == base_url:
            return site, expected
    shutil.rmtree(site, ignore_errors=True)
    shutil.rmtree(expected, ignore_errors=True)
    print(f"generating {posts} posts into {site} ...", flush=True)
    t0 = time.perf_counter()
    generate_site(
        site, posts, seed, base_url, expected_dir=expected, realistic=shape == "realistic"
    )
    print(f"  generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return site, expected


def post_paths(expected: Path) -> list[dict[str, Any]]:
    return list(json.loads((expected / "manifest.json").read_text())["pages"])


class SiteEditor:
    """Changes a share of posts (body and sitemap lastmod) and restores them afterwards."""

    def __init__(self, site: Path, posts: list[str]) -> None:
        self.site = site
        self.posts = posts
        self.saved: dict[Path, bytes] = {}

    def _save(self, path: Path) -> None:
        if path not in self.saved:
            self.saved[path] = path.read_bytes()

    def change(self, share: float, offset: int) -> int:
        """Edit every ``1/share``-th post starting at ``offset``; return how many."""
        step = round(1 / share)
        chosen = self.posts[offset::step]
        for rel in chosen:
            page = self.site / rel.strip("/") / "index.html"
            self._save(page)
            text = page.read_text(encoding="utf-8")
            note = "<p>Editor's note: this post was revised for the benchmark.</p>"
            text = text.replace("<h2", note + "<h2", 1)
            page.write_text(text, encoding="utf-8")
        paths = set(chosen)
        for sitemap in self.site.glob("sitemap*.xml"):
            self._save(sitemap)
            xml = sitemap.read_text(encoding="utf-8")

            def bump(match: re.Match[str]) -> str:
                loc = re.sub(r"^https?://[^/]+", "", match.group(1))
                if loc in paths:
                    return f"<loc>{match.group(1)}</loc><lastmod>{BUMPED_LASTMOD}</lastmod>"
                return match.group(0)

            xml = re.sub(r"<loc>([^<]+)</loc>\s*<lastmod>[^<]*</lastmod>", bump, xml)
            sitemap.write_text(xml, encoding="utf-8")
        return len(chosen)

    def restore(self) -> None:
        for path, data in self.saved.items():
            path.write_bytes(data)
        self.saved.clear()


# --------------------------------------------------------------------------- accuracy


def _ws(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def expected_record(exp: dict[str, Any], base: str) -> dict[str, Any]:
    def absolute(url: str | None) -> str | None:
        return base + url if url else None

    return {
        "title": exp["title"],
        "published": exp["published"] or "",
        "breadcrumbs": [(c["label"], absolute(c["url"])) for c in exp["breadcrumbs"]],
        "sections": [(s["level"], s["heading"], _ws(s["text"])) for s in exp["sections"]],
        "sidebar_links": [
            (s["group"], s["label"], absolute(s["url"]), s["date"]) for s in exp["sidebar_links"]
        ],
    }


def migrator_records(db: Path) -> dict[str, dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    out: dict[str, dict[str, Any]] = {}
    try:
        children: dict[str, dict[int, list[sqlite3.Row]]] = {}
        for table in ("breadcrumbs", "sections", "sidebar_links"):
            rows: dict[int, list[sqlite3.Row]] = {}
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY page_id, position"):
                rows.setdefault(row["page_id"], []).append(row)
            children[table] = rows
        for page in conn.execute("SELECT id, url, title, published_at FROM pages"):
            pid = page["id"]
            out[page["url"]] = {
                "title": page["title"],
                "published": (page["published_at"] or "")[:10],
                "breadcrumbs": [
                    (c["label"], c["url"]) for c in children["breadcrumbs"].get(pid, [])
                ],
                "sections": [
                    (s["level"], s["heading"], _ws(s["text"]))
                    for s in children["sections"].get(pid, [])
                ],
                "sidebar_links": [
                    (s["group_name"], s["label"], s["url"], s["published_at"])
                    for s in children["sidebar_links"].get(pid, [])
                ],
            }
    finally:
        conn.close()
    return out


def spider_records(jsonl: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with jsonl.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            out[r["url"]] = {
                "title": r["title"],
                "published": (r["published"] or "")[:10],
                "breadcrumbs": [(c["label"], c["url"]) for c in r["breadcrumbs"]],
                "sections": [(s["level"], s["heading"], _ws(s["text"])) for s in r["sections"]],
                "sidebar_links": [
                    (s["group"], s["label"], s["url"], s["date"]) for s in r["sidebar_links"]
                ],
            }
    return out


_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def trafilatura_records(folder: Path) -> dict[str, dict[str, Any]]:
    """trafilatura's Markdown files: title, date and url from the front matter, sections
    from the Markdown headings (the spider's reading); it has no breadcrumbs or sidebar."""
    sys.path.insert(0, str(HERE))
    from scrapy_spider import find_sections

    out: dict[str, dict[str, Any]] = {}
    for path in folder.rglob("*.txt"):  # 1/, 2/ … above 1,000 files
        text = path.read_text(encoding="utf-8")
        match = _FRONT.match(text)
        if match is None:
            continue
        head: dict[str, str] = {}
        for line in match.group(1).splitlines():
            key, _, value = line.partition(": ")
            head[key] = value.strip().strip('"')
        out[head.get("url", path.name)] = {
            "title": head.get("title"),
            "published": head.get("date", "")[:10],
            "breadcrumbs": None,
            "sections": [
                (s["level"], s["heading"], _ws(s["text"]))
                for s in find_sections(text[match.end() :])
            ],
            "sidebar_links": None,
        }
    return out


def accuracy(records: dict[str, dict[str, Any]], expected: Path, base: str) -> dict[str, float]:
    """Per field, the share of posts whose value is exactly the ground truth."""
    posts = [p for p in post_paths(expected) if p["type"] == "post"]
    right = dict.fromkeys(FIELDS, 0)
    for post in posts:
        want = expected_record(json.loads((expected / post["expected"]).read_text()), base)
        got = records.get(base + post["path"])
        if got is None:
            continue
        for name in FIELDS:
            right[name] += got[name] == want[name]
    for name in FIELDS:  # a field the program does not extract at all
        if all(r.get(name) is None for r in records.values()):
            right[name] = -len(posts)
    return {name: right[name] / len(posts) for name in FIELDS}


# --------------------------------------------------------------------------- runs


def run_counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        (counts,) = conn.execute("SELECT counts FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return json.loads(counts)


def one_round(
    rnd: int,
    *,
    base: str,
    work: Path,
    editor: SiteEditor,
    only: str,
    sync: bool,
    baseline: Path | None = None,
    trafilatura: bool = True,
) -> list[Measure]:
    results: list[Measure] = []
    log = work / "stderr.log"
    crawl = ["--concurrency", "16", "--delay", "0", "-q"]
    if baseline is not None and only in {"all", "migrator"}:
        # Another migrator source tree (e.g. a copy of the last commit's src/), measured
        # the same way right before this one: a before/after ratio from one round.
        db = work / f"baseline-{rnd}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        m = measure(
            [*MIGRATOR, "run", base + "/", "--db", str(db), *crawl],
            name="run_baseline",
            rnd=rnd,
            log=log,
            env={**ENV, "PYTHONPATH": str(baseline)},
        )
        counts = run_counts(db)
        m.pages, m.extra = counts.get("fetched", 0), counts
        if rnd == 0:
            m.extra["accuracy"] = accuracy(migrator_records(db), work.parent, base)
        results.append(m)
        report(m)
    if only in {"all", "migrator"}:
        db = work / f"migrator-{rnd}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        m = measure(
            [*MIGRATOR, "run", base + "/", "--db", str(db), *crawl], name="run", rnd=rnd, log=log
        )
        counts = run_counts(db)
        m.pages, m.extra = counts.get("fetched", 0), counts
        results.append(m)
        report(m)
        if sync:
            trust = work / "trust.toml"
            trust.write_text("[sync]\ntrust_lastmod = true\n")
            steps = [
                ("sync_unchanged", [], None),
                ("sync_unchanged_trust_lastmod", ["--config", str(trust)], None),
                ("sync_5pct_changed", [], 0),
                ("sync_5pct_changed_trust_lastmod", ["--config", str(trust)], 1),
            ]
            try:
                for name, extra, offset in steps:
                    changed = editor.change(CHANGED_SHARE, offset) if offset is not None else 0
                    cmd = [
                        *MIGRATOR,
                        "sync",
                        "--db",
                        str(db),
                        *extra,
                        *crawl,
                        "--max-failures",
                        "1000000",
                    ]
                    m = measure(cmd, name=name, rnd=rnd, log=log)
                    counts = run_counts(db)
                    m.pages, m.extra = (
                        counts.get("fetched", 0) + counts.get("not_modified", 0),
                        {
                            **counts,
                            "files_changed": changed,
                        },
                    )
                    results.append(m)
                    report(m)
            finally:
                editor.restore()
        if rnd == 0:
            run = next(m for m in results if m.name == "run")
            run.extra["accuracy"] = accuracy(migrator_records(db), work.parent, base)
    if only in {"all", "spider"}:
        out = work / f"spider-{rnd}.jsonl"
        m = measure([*SPIDER, base, str(out)], name="spider", rnd=rnd, log=log)
        m.pages = sum(1 for _ in out.open(encoding="utf-8"))
        if rnd == 0:
            m.extra["accuracy"] = accuracy(spider_records(out), work.parent, base)
        results.append(m)
        report(m)
    if only in {"all", "trafilatura"} and trafilatura:
        urls = work / "urls.txt"
        disallowed = set(json.loads((work.parent / "manifest.json").read_text())["disallowed"])
        urls.write_text(
            "".join(
                base + p["path"] + "\n"
                for p in post_paths(work.parent)
                if p["path"] not in disallowed
            )
        )
        cfg = work / "trafilatura.cfg"
        cfg.write_text(TRAFILATURA_CFG)
        out_dir = work / f"trafilatura-{rnd}"
        shutil.rmtree(out_dir, ignore_errors=True)
        cmd = [
            *TRAFILATURA,
            "-i",
            str(urls),
            "--parallel",
            "16",
            "--markdown",
            "--with-metadata",
            "--no-comments",
            "-o",
            str(out_dir),
            "--config-file",
            str(cfg),
        ]
        m = measure(cmd, name="trafilatura", rnd=rnd, log=log)
        m.pages = sum(1 for _ in out_dir.rglob("*.txt"))
        m.extra["requested"] = sum(1 for _ in urls.open())
        if rnd == 0:
            m.extra["accuracy"] = accuracy(trafilatura_records(out_dir), work.parent, base)
        results.append(m)
        report(m)
    return results


# trafilatura's settings.cfg with its loopback guard off (the site is on 127.0.0.1), no
# pause between requests (as for the other two) and no per-file extraction timeout.
TRAFILATURA_CFG = """\
[DEFAULT]
DOWNLOAD_TIMEOUT = 30
MAX_FILE_SIZE = 20000000
MIN_FILE_SIZE = 10
SLEEP_TIME = 0
USER_AGENTS =
COOKIE =
MAX_REDIRECTS = 2
SSRF_PROTECTION = off
INSECURE_SSL_FALLBACK = on
MIN_EXTRACTED_SIZE = 250
MIN_OUTPUT_SIZE = 1
MIN_OUTPUT_COMM_SIZE = 1
MAX_TREE_SIZE =
EXTRACTION_TIMEOUT = 0
MIN_DUPLCHECK_SIZE = 100
MAX_REPETITIONS = 2
EXTENSIVE_DATE_SEARCH = on
EXTERNAL_URLS = off
"""


def report(m: Measure) -> None:
    print(
        f"  round {m.round} {m.name:34s} {m.wall_s:7.2f} s  {m.pages:7d} pages "
        f"{m.pages_per_s:7.1f} pages/s  cpu {m.cpu_s:7.2f} s  peak {m.peak_rss_mb:6.0f} MB"
        + (f"  exit {m.exit_code}" if m.exit_code else "")
        + "".join(
            f"  {k}={m.extra[k]}"
            for k in ("files_changed", "changed", "new", "not_modified", "failed")
            if m.extra.get(k)
        ),
        flush=True,
    )


def summarize(results: list[Measure]) -> dict[str, dict[str, float]]:
    names = list(dict.fromkeys(m.name for m in results))
    summary: dict[str, dict[str, float]] = {}
    for name in names:
        ms = [m for m in results if m.name == name]
        summary[name] = {
            "runs": len(ms),
            "wall_s": statistics.median(m.wall_s for m in ms),
            "pages": statistics.median(m.pages for m in ms),
            "pages_per_s": statistics.median(m.pages_per_s for m in ms),
            "cpu_s": statistics.median(m.cpu_s for m in ms),
            "cpu_ms_per_page": statistics.median(1000 * m.cpu_s / max(m.pages, 1) for m in ms),
            "peak_rss_mb": statistics.median(m.peak_rss_mb for m in ms),
        }
    return summary


def environment(server: str) -> dict[str, str]:
    from importlib.metadata import version

    def ver(pkg: str) -> str:
        try:
            return version(pkg)
        except Exception:  # noqa: BLE001 - best effort
            return "?"

    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, {platform.platform()}",
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "server": server,
        "versions": ", ".join(
            f"{p} {ver(p)}" for p in ("migrator", "httpx", "selectolax", "trafilatura", "scrapy")
        ),
        "sqlite": sqlite3.sqlite_version,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def markdown(
    summary: dict[str, dict[str, float]],
    results: list[Measure],
    env: dict[str, str],
    args: argparse.Namespace,
) -> str:
    lines = [
        f"posts: {args.posts} ({args.shape} site), rounds: {args.runs} (alternating), "
        f"seed {args.seed}",
        "",
        *(f"- {k}: {v}" for k, v in env.items()),
        "",
        "| measurement | runs | wall s | pages | pages/s | CPU s | CPU ms/page | peak MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {name} | {s['runs']} | {s['wall_s']:.2f} | {s['pages']:.0f} "
            f"| {s['pages_per_s']:.1f} | {s['cpu_s']:.1f} | {s['cpu_ms_per_page']:.2f} "
            f"| {s['peak_rss_mb']:.0f} |"
        )
    for peer in ("spider", "trafilatura", "run_baseline"):
        if "run" in summary and peer in summary:
            r, s = summary["run"], summary[peer]
            lines += [
                "",
                f"migrator / {peer}: pages/s x{r['pages_per_s'] / s['pages_per_s']:.2f}, "
                f"time to finish x{s['wall_s'] / r['wall_s']:.2f}, "
                f"CPU per page x{r['cpu_ms_per_page'] / s['cpu_ms_per_page']:.2f}, "
                f"peak memory x{r['peak_rss_mb'] / s['peak_rss_mb']:.2f}",
            ]
        # Ratios per round (side by side, so the shared machine's load cancels out).
        rounds = sorted({m.round for m in results})
        per_round = []
        for rnd in rounds:
            a = [m for m in results if m.round == rnd and m.name == "run"]
            b = [m for m in results if m.round == rnd and m.name == peer]
            if a and b and b[0].pages_per_s:
                per_round.append(f"{a[0].pages_per_s / b[0].pages_per_s:.2f}")
        if per_round:
            lines.append(f"pages/s ratio per round, migrator / {peer}: {', '.join(per_round)}")
    if "run" in summary:
        first = summary["run"]["wall_s"]
        for name in summary:
            if name.startswith("sync"):
                lines.append(f"{name}: {summary[name]['wall_s'] / first:.3f} of the first run")
    acc = {m.name: m.extra["accuracy"] for m in results if "accuracy" in m.extra}
    if acc:
        lines += ["", "| field (share of posts exactly right) | " + " | ".join(acc) + " |"]
        lines.append("| --- |" + " ---: |" * len(acc))
        for f in FIELDS:
            lines.append(
                f"| {f} | "
                + " | ".join(f"{acc[n][f]:.4f}" if acc[n][f] >= 0 else "n/a" for n in acc)
                + " |"
            )
    lines += ["", "Per run:", ""]
    for m in results:
        lines.append(
            f"- round {m.round} {m.name}: {m.wall_s:.2f} s, {m.pages} pages, "
            f"{m.pages_per_s:.1f} pages/s, CPU {m.cpu_s:.1f} s, peak {m.peak_rss_mb:.0f} MB"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument(
        "--only", choices=("all", "migrator", "spider", "trafilatura"), default="all"
    )
    parser.add_argument("--shape", choices=("realistic", "tiny"), default="realistic")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="also run migrator from this source tree (PYTHONPATH) in each round",
    )
    parser.add_argument(
        "--trafilatura-rounds",
        type=int,
        default=1_000,
        help="run the trafilatura CLI peer only in the first N rounds",
    )
    parser.add_argument("--no-sync", action="store_true", help="skip the sync measurements")
    parser.add_argument("--python-server", action="store_true", help="do not use nginx")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: the edited posts are restored and nginx is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    base = f"http://127.0.0.1:{args.port}"
    site, expected = ensure_site(args.out, args.posts, args.seed, base, args.shape)
    work = expected / "runs"
    work.mkdir(exist_ok=True)
    posts = [p["path"] for p in post_paths(expected) if p["type"] == "post"]
    editor = SiteEditor(site, posts)
    results: list[Measure] = []
    with serve(site, args.port, force_python=args.python_server) as served:
        env = environment(served.kind)
        print(f"serving {site} at {served.base_url} with {served.kind}", flush=True)
        for rnd in range(args.runs):
            results += one_round(
                rnd,
                base=base,
                work=work,
                editor=editor,
                only=args.only,
                sync=not args.no_sync,
                baseline=args.baseline,
                trafilatura=rnd < args.trafilatura_rounds,
            )
    summary = summarize(results)
    text = markdown(summary, results, env, args)
    print("\n" + text)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (args.out / f"compare-{args.shape}-{args.posts}-{stamp}.md").write_text(text)
    (args.out / f"compare-{args.shape}-{args.posts}-{stamp}.json").write_text(
        json.dumps(
            {
                "env": env,
                "args": {k: str(v) for k, v in vars(args).items()},
                "summary": summary,
                "results": [asdict(m) for m in results],
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
