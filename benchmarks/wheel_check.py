"""CI's wheel job: migrator installed from its wheel with plain pip, no uv and no lock.

Run from the locked environment (``.venv/bin/uv run --frozen python
benchmarks/wheel_check.py``; ``.ci/run`` does): it builds the wheel and sdist with
``python -m build``, creates a fresh virtualenv with the standard library's ``venv``
(plain pip, no uv, no ``uv.lock``), installs the wheel there, and then checks, each
check counted:

- the wheel holds the demo blog, and the virtualenv has no uv;
- trafilatura imports there (a resolver that leaves out ``lxml_html_clean`` breaks it);
- ``migrator demo`` run from an empty folder outside the checkout migrates every post of
  the bundled demo blog;
- ``migrator parse`` on the single-page fixtures and a few demo posts gives the same
  body (``body_markdown``, ``body_html``) as the locked environment on the same files.
  Other fields that differ are printed, not failed: the issue asks the body.

The last line is ``wheel_check: N passed, N failed``; the exit status is 1 when any check
failed. ``--work DIR`` keeps the build, the virtualenv and the outputs there.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "pages"
DEMO = ROOT / "src" / "migrator" / "demo_site"
MANIFEST = ROOT / "tests" / "fixtures" / "site_expected" / "manifest.json"
BODY_FIELDS = ("body_markdown", "body_html")
VERSIONS = "import importlib.metadata as m; print(' '.join(f'{n}=={m.version(n)}' for n in {}))"
LIBRARIES = ("trafilatura", "justext", "lxml", "lxml_html_clean", "htmldate", "selectolax", "nh3")


def _run(argv: list[str], *, cwd: Path | None = None, timeout: float = 900) -> str:
    """Run ``argv``; its stdout, or SystemExit with its stderr's tail when it fails."""
    done = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise CheckError(f"{' '.join(argv[:3])}… exited {done.returncode}:\n{tail}")
    return done.stdout


class CheckError(Exception):
    """One check did not hold; the message says why."""


def _records(argv: list[str], files: list[Path]) -> dict[str, dict[str, object]]:
    out = _run([*argv, "parse", *map(str, files)])
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    if len(records) != len(files):
        raise CheckError(f"parse printed {len(records)} records for {len(files)} files")
    return {
        file.name if file.parent == PAGES else str(file.relative_to(DEMO)): r
        for file, r in zip(files, records, strict=True)
    }


def _parse_files() -> list[Path]:
    manifest = json.loads(MANIFEST.read_text())
    posts = [p["path"] for p in manifest["pages"] if p["type"] == "post"][:6]
    demo = [DEMO / path.strip("/") / "index.html" for path in posts]
    return sorted(PAGES.glob("*.html")) + demo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="keep everything in this folder")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="migrator-wheel-"))
    work.mkdir(parents=True, exist_ok=True)
    venv = work / "venv"
    results: list[tuple[str, str | None]] = []

    def check(name: str, step: Callable[[], str]) -> bool:
        started = time.monotonic()
        try:
            detail = step()
        except (CheckError, subprocess.TimeoutExpired) as exc:
            results.append((name, str(exc)))
            print(f"FAIL {name}: {exc}", flush=True)
            return False
        results.append((name, None))
        print(f"ok   {name} ({time.monotonic() - started:.0f} s){detail}", flush=True)
        return True

    def build() -> str:
        shutil.rmtree(work / "dist", ignore_errors=True)
        _run([sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(ROOT)])
        (wheel,) = (work / "dist").glob("migrator-*.whl")
        (sdist,) = (work / "dist").glob("migrator-*.tar.gz")
        names = zipfile.ZipFile(wheel).namelist()
        served = sum(1 for n in names if n.startswith("migrator/demo_site/"))
        expected = sum(1 for p in DEMO.rglob("*") if p.is_file())
        if served != expected:
            raise CheckError(f"the wheel holds {served} demo site files, the checkout {expected}")
        return f": {wheel.name} ({served} demo site files), {sdist.name}"

    def install() -> str:
        shutil.rmtree(venv, ignore_errors=True)
        # The base interpreter's venv and its bundled pip: nothing of the locked environment.
        base = getattr(sys, "_base_executable", sys.executable)
        _run([base, "-m", "venv", str(venv)])
        (wheel,) = (work / "dist").glob("migrator-*.whl")
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)])
        if (venv / "bin" / "uv").exists():
            raise CheckError("the plain virtualenv has uv in it")
        pip = _run([str(venv / "bin" / "python"), "-m", "pip", "--version"]).split()[1]
        return f": pip {pip}"

    def imports() -> str:
        code = "import trafilatura, migrator; print(migrator.__file__)"
        where = _run([str(venv / "bin" / "python"), "-c", code], cwd=work).strip()
        if not where.startswith(str(venv)):
            raise CheckError(f"migrator imported from {where}, not from the virtualenv")
        return ""

    def demo() -> str:
        run_dir = work / "run"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir()
        _run([str(venv / "bin" / "migrator"), "-q", "demo"], cwd=run_dir)
        manifest = json.loads(MANIFEST.read_text())
        with sqlite3.connect(run_dir / "data" / "demo.db") as conn:
            (posts,) = conn.execute(
                "SELECT count(*) FROM pages WHERE page_type = 'post'"
            ).fetchone()
        if posts != manifest["posts"]:
            raise CheckError(f"the demo migrated {posts} posts of {manifest['posts']}")
        if not (run_dir / "data" / "demo-report" / "index.html").is_file():
            raise CheckError("the demo wrote no report")
        return f": {posts} posts"

    def parse() -> str:
        files = _parse_files()
        wheel = _records([str(venv / "bin" / "migrator")], files)
        locked = _records([sys.executable, "-m", "migrator"], files)
        body_diffs = [
            f"{name}.{field}"
            for name, record in wheel.items()
            for field in BODY_FIELDS
            if record.get(field) != locked[name].get(field)
        ]
        other = sorted(
            {
                field
                for name, record in wheel.items()
                for field in record.keys() | locked[name].keys()
                if field not in BODY_FIELDS and record.get(field) != locked[name].get(field)
            }
        )
        if other:
            print(f"note: fields other than the body differ: {', '.join(other)}", flush=True)
        if body_diffs:
            raise CheckError(f"the body differs from the locked environment's: {body_diffs}")
        return f": {len(files)} pages, same body as the locked environment"

    ok = check("build wheel and sdist (python -m build)", build)
    ok = ok and check("install the wheel with plain pip into a fresh virtualenv", install)
    if ok:
        check("trafilatura and migrator import from the virtualenv", imports)
        check("migrator demo from the wheel", demo)
        check("migrator parse: body equal to the locked environment's", parse)
        code = VERSIONS.replace("{}", repr(LIBRARIES))
        for label, python in (("wheel", str(venv / "bin" / "python")), ("lock", sys.executable)):
            try:
                print(f"{label}: {_run([python, '-c', code]).strip()}")
            except CheckError as exc:
                print(f"{label}: versions unknown ({exc})")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    failed = sum(1 for _, error in results if error is not None)
    print(f"wheel_check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
