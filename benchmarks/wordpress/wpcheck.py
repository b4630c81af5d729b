"""`make wordpress-check`: migrate a real WordPress from Debian's packages and check the result.

This script owns the end-to-end check of issue #10's WordPress bullet: install the
Debian packages if missing, start a private MariaDB + PHP-FPM + nginx stack on
``127.0.0.1:PORT`` (``wp_services``), install WordPress and fill it with the generated
blog (``wp_blog`` + ``populate.php``) unless the state directory already holds the same
blog, run ``migrator run`` against it, dump WordPress's own view of the blog
(``dump.php``), stop every server, then compare (``wp_compare``): a summary table on
stdout, the detailed mismatches as JSON, exit status 1 when a check fails. It never
changes migrator's code and never talks to anything but loopback.

Usage: ``python benchmarks/wordpress/wpcheck.py [--port 8480] [--state data/wordpress]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from wp_blog import build_spec, spec_digest, write_images  # noqa: E402
from wp_compare import compare, render_summary  # noqa: E402
from wp_services import (  # noqa: E402
    PACKAGES,
    Stack,
    ensure_packages,
    running_stack,
)

ROOT = HERE.parent.parent
MIGRATOR = ROOT / ".venv" / "bin" / "migrator"


def _php(script: str, *args: str) -> str:
    result = subprocess.run(
        ["php", "-d", "memory_limit=512M", str(HERE / script), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"php {script} failed ({result.returncode}):\n"
            f"{result.stderr[-3000:]}\n{result.stdout[-3000:]}"
        )
    return result.stdout


def _blog_digest(stack: Stack) -> str:
    # The host is part of it: WordPress writes absolute URLs (images, attachment links)
    # into post bodies, so a blog built for another port is rebuilt, not reused.
    version = Path("/usr/share/wordpress/wp-includes/version.php").read_bytes()
    sources = [(HERE / name).read_bytes() for name in ("populate.php", "wp_blog.py")]
    return spec_digest(build_spec(), stack.host.encode(), version, *sources)


def install_blog(stack: Stack, *, rebuild: bool) -> bool:
    """Install and fill WordPress unless the state holds the same blog. True if built."""
    marker = stack.state / "blog.json"
    digest = _blog_digest(stack)
    tables = stack.mysql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'wpcheck'"
    ).strip()
    if (
        not rebuild
        and marker.exists()
        and json.loads(marker.read_text()).get("digest") == digest
        and tables not in ("", "0")
    ):
        return False
    marker.unlink(missing_ok=True)
    stack.mysql(
        "DROP DATABASE IF EXISTS wpcheck;"
        " CREATE DATABASE wpcheck CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
        " CREATE USER IF NOT EXISTS 'wpcheck'@'localhost' IDENTIFIED BY 'wpcheck';"
        " GRANT ALL ON wpcheck.* TO 'wpcheck'@'localhost'; FLUSH PRIVILEGES;"
    )
    uploads = stack.content_dir / "uploads"
    shutil.rmtree(uploads, ignore_errors=True)
    uploads.mkdir(parents=True)
    uploads.chmod(0o777)
    spec = build_spec()
    spec_file = stack.state / "spec.json"
    spec_file.write_text(json.dumps(spec, indent=1, ensure_ascii=False))
    write_images(spec, stack.state / "images")
    out = _php(
        "populate.php", str(spec_file), str(stack.state / "images"), stack.host, stack.config_name
    )
    print(f"populated: {out.strip()}", file=sys.stderr)
    # Uploads are written by root here and read by the www-data workers.
    for path in uploads.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    marker.write_text(json.dumps({"digest": digest, "built_at": time.time()}))
    return True


def run_migrator(stack: Stack, db: Path, concurrency: int) -> tuple[float, int, dict[str, Any]]:
    """Run ``migrator run`` from scratch; return (seconds, exit status, --json report)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    log = stack.state / "logs" / "migrator.log"
    started = time.monotonic()
    with log.open("wb") as err:
        result = subprocess.run(
            [
                str(MIGRATOR),
                "run",
                stack.base_url,
                "--db",
                str(db),
                "--concurrency",
                str(concurrency),
                "--delay",
                "0",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            check=False,
        )
    elapsed = time.monotonic() - started
    try:
        report: dict[str, Any] = json.loads(result.stdout or b"{}")
    except json.JSONDecodeError:
        report = {"stdout": result.stdout.decode(errors="replace")[-2000:]}
    return elapsed, result.returncode, report


def save_samples(truth: dict[str, Any], folder: Path) -> list[Path]:
    """Save raw HTML of representative pages (fixtures for the extraction work)."""
    folder.mkdir(parents=True, exist_ok=True)
    posts = [p for p in truth["posts"] if p["status"] == "publish"]
    # Twenty Twenty-One prints an author box instead of the byline for an author with a bio.
    bio_author = next(u["display_name"] for u in build_spec()["users"] if u["description"])
    split = next(p for p in posts if p["type"] == "post" and p["pages"] > 1)
    sectioned = next(p for p in posts if p["type"] == "post" and p["has_sections"])
    picks = {
        "post": sectioned["permalink"],
        "post-nonascii": next(
            p["permalink"] for p in posts if p["type"] == "post" and not p["title_raw"].isascii()
        ),
        "post-date-in-text": next(
            p["permalink"] for p in posts if p["type"] == "post" and p["names_a_year"]
        ),
        "post-author-bio": next(
            p["permalink"]
            for p in posts
            if p["type"] == "post" and p["author"] == bio_author and not p["names_a_year"]
        ),
        "static-page": next(p["permalink"] for p in posts if p["type"] == "page"),
        "sub-page": next(p["permalink"] for p in posts if p["type"] == "page" and p["parent"]),
        "attachment": next(p["permalink"] for p in truth["posts"] if p["type"] == "attachment"),
        "month-archive": truth["archives"]["month"][0],
        "day-archive": truth["archives"]["day"][0],
        "split-post-page-2": split["permalink"].rstrip("/") + "/2/",
        "split-post-page-1": split["permalink"],
        "category-archive": next(
            t["link"] for t in truth["terms"] if t["taxonomy"] == "category" and t["count"]
        ),
        "tag-archive": next(
            t["link"] for t in truth["terms"] if t["taxonomy"] == "post_tag" and t["count"]
        ),
        "home": truth["home"],
        "home-page-2": truth["home"] + "page/2/",
    }
    saved = []
    index = {}
    for name, url in picks.items():
        with urllib.request.urlopen(url, timeout=30) as answer:
            body = answer.read()
        path = folder / f"wp-{name}.html"
        path.write_bytes(body)
        saved.append(path)
        index[path.name] = url
    (folder / "wp-index.json").write_text(json.dumps(index, indent=1, ensure_ascii=False))
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--port", type=int, default=8480, help="nginx port on 127.0.0.1")
    parser.add_argument(
        "--state",
        type=Path,
        default=ROOT / "data" / "wordpress",
        help="state directory (database files, configs, logs); kept",
    )
    parser.add_argument("--db", type=Path, help="migration database (default STATE/migrator.db)")
    parser.add_argument(
        "--report", type=Path, help="mismatches as JSON (default STATE/report.json)"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rebuild", action="store_true", help="reinstall the blog")
    parser.add_argument("--samples", type=Path, help="save representative raw pages here")
    parser.add_argument(
        "--no-migrate", action="store_true", help="check an existing --db without running migrator"
    )
    args = parser.parse_args(argv)

    state: Path = args.state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    db: Path = (args.db or state / "migrator.db").resolve()
    report_path: Path = (args.report or state / "report.json").resolve()
    installed = ensure_packages(PACKAGES)
    if installed:
        print(f"installed Debian packages: {' '.join(installed)}", file=sys.stderr)
    stack = Stack(state=state, port=args.port)
    timings: dict[str, float] = {}
    run_status = 0
    run_report: dict[str, Any] = {}
    t0 = time.monotonic()
    with running_stack(stack):
        timings["start"] = time.monotonic() - t0
        t1 = time.monotonic()
        built = install_blog(stack, rebuild=args.rebuild)
        timings["install" if built else "reuse"] = time.monotonic() - t1
        truth: dict[str, Any] = json.loads(_php("dump.php", stack.host, stack.config_name))
        (state / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False))
        if not args.no_migrate:
            timings["migrate"], run_status, run_report = run_migrator(stack, db, args.concurrency)
        if args.samples:
            saved = save_samples(truth, args.samples)
            print(f"saved {len(saved)} sample pages into {args.samples}", file=sys.stderr)
    timings["total"] = time.monotonic() - t0
    result = compare(truth, db)
    result["run"] = {
        "migrator_exit_status": run_status,
        "migrator_report": run_report,
        "seconds": {k: round(v, 1) for k, v in timings.items()},
        "blog": "built" if "install" in timings else "reused",
        "wordpress": truth["wp_version"],
        "theme": truth["theme"],
        "url": stack.base_url,
        "db": str(db),
    }
    report_path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(render_summary(result))
    print(f"details: {report_path}")
    failed = [c["name"] for c in result["checks"] if not c["ok"]]
    return 1 if failed or run_status not in (0, 3) else 0


if __name__ == "__main__":
    sys.exit(main())
