"""Fault injection through the real command line: a run never hangs, never leaves a
process behind, and says in one line why it stopped.

Each run is a ``python -m migrator``-like subprocess. Faults are injected by a small
prelude (``-c``) that patches one function of the main process and then calls the CLI:
the writer's save path, the commit, a full database (``PRAGMA max_page_count``, a real
``SQLITE_FULL``). Every subprocess carries a marker in its environment, which its
forkserver, resource tracker and workers inherit, so the processes left after it ended
can be counted with psutil.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from migrator.demo import demo_site_dir
from servers import Reply, TestServer

ROOT = Path(__file__).resolve().parents[1]
SITE = demo_site_dir()
MARK = "MIGRATOR_TEST_MARK"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SITE / "sitemap.xml").exists(), reason="no demo site"),
]

QUICK = ["--concurrency", "4", "--delay", "0", "-q"]
MANIFEST = json.loads((ROOT / "tests" / "fixtures" / "site_expected" / "manifest.json").read_text())
POSTS = sorted(p["path"] for p in MANIFEST["pages"] if p["type"] == "post")


def migrator_argv(*args: str, prelude: str = "") -> list[str]:
    """argv running the CLI after ``prelude`` (Python statements) in the main process."""
    code = f"{prelude}\nimport sys\nfrom migrator.cli import cli\ncli(prog_name='migrator')\n"
    return [sys.executable, "-c", code, *args]


def marked_env(mark: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env[MARK] = mark
    return env


def marked_processes(mark: str) -> list[psutil.Process]:
    """Live processes (zombies excluded) whose environment carries ``mark``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(MARK) == mark:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def leftover_processes(mark: str, *, patience: float = 10.0) -> list[str]:
    """The marked processes still alive once they had ``patience`` seconds to exit.

    Survivors are killed (so a failing test leaves nothing behind) and described.
    """
    deadline = time.monotonic() + patience
    while (alive := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    described = []
    for proc in alive:
        try:
            described.append(f"{proc.pid} ppid={proc.ppid()} {' '.join(proc.cmdline())[:120]}")
            proc.kill()
        except psutil.NoSuchProcess:
            continue
    return described


def run_cli(argv: list[str], mark: str, *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run to the end; a hang fails the test at ``timeout`` (and kills what it started)."""
    try:
        return subprocess.run(
            argv, env=marked_env(mark), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        leftover_processes(mark, patience=0)
        pytest.fail(f"the run hung: still running after {timeout} s")


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


SAVE_FETCH_FAILS = """
import migrator.load as load
def save_fetch(self, *args, **kwargs):
    raise RuntimeError("injected failure in save_fetch")
load.Store.save_fetch = save_fetch
"""

COMMIT_FAILS = """
import contextlib
import migrator.load as load
from migrator.errors import StoreError
original = load.Store.transaction
@contextlib.contextmanager
def transaction(self):
    with original(self):
        yield
        raise StoreError("cannot commit to the database: injected")
load.Store.transaction = transaction
"""

# A real SQLITE_FULL: the database may not grow past its size when the run started.
DISK_FULL = """
import migrator.load as load
original = load.Store.start_run
def start_run(self, *args, **kwargs):
    run_id = original(self, *args, **kwargs)
    pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
    self._conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    return run_id
load.Store.start_run = start_run
"""


@pytest.mark.parametrize(
    ("prelude", "message"),
    [
        (SAVE_FETCH_FAILS, "RuntimeError: injected failure in save_fetch"),
        (COMMIT_FAILS, "cannot commit to the database: injected"),
        (DISK_FULL, "full"),
    ],
    ids=["save_fetch", "commit", "disk_full"],
)
def test_faults_writer_failure_stops_the_run(tmp_path, prelude, message):
    """The writer dies: the run ends (no hang), exit non-zero, one line, nothing left."""
    db = tmp_path / "m.db"
    mark = uuid.uuid4().hex
    with TestServer(SITE) as server:
        argv = migrator_argv("run", server.url("/"), "--db", str(db), *QUICK, prelude=prelude)
        done = run_cli(argv, mark)
    assert done.returncode not in {0, 3}, done.stderr
    assert message in one_line(done.stderr)
    assert leftover_processes(mark) == []
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "SELECT status FROM runs") == [("failed",)]


# Slow enough (one host, 2 at a time, 30 ms apart) that a signal lands mid-crawl.
POLITE = ["--concurrency", "2", "--delay", "0.03", "-q"]
STOPS = [
    pytest.param(signal.SIGTERM, 143, id="SIGTERM"),
    pytest.param(signal.SIGINT, 130, id="SIGINT"),
    pytest.param(signal.SIGHUP, 129, id="SIGHUP"),
    pytest.param(signal.SIGKILL, -signal.SIGKILL, id="SIGKILL"),
]
# Each stop at a few moments (seeds); the machine is shared, so not every pair of both.
RUN_STOPS = [
    *(pytest.param(*p.values, 1, id=f"{p.id}-1") for p in STOPS),
    pytest.param(signal.SIGTERM, 143, 2, id="SIGTERM-2"),
    pytest.param(signal.SIGKILL, -signal.SIGKILL, 2, id="SIGKILL-2"),
]
# SIGINT and SIGHUP take SIGTERM's path (the CLI's _StopSignals) once inside the run.
SYNC_STOPS = [STOPS[0], STOPS[3]]


def _count(db: Path, sql: str) -> int:
    """One number from the database of a running process, read-only; -1 if not yet."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.5)
    except sqlite3.Error:
        return -1
    try:
        return int(conn.execute(sql).fetchone()[0])
    except sqlite3.Error:
        return -1
    finally:
        conn.close()


def stop_when(argv: list[str], mark: str, db: Path, sql: str, at_least: int, sig: int) -> int:
    """Start ``argv``, send ``sig`` once ``sql`` counts ``at_least``; return the exit code.

    Output goes to files, not pipes: a process left behind would hold a pipe open.
    """
    log = db.with_suffix(".stderr")
    with log.open("w") as err:
        proc = subprocess.Popen(argv, env=marked_env(mark), stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while _count(db, sql) < at_least:
            if proc.poll() is not None:
                pytest.fail(f"ended (exit {proc.returncode}) before the signal: {log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail("no progress within 60 s")
            time.sleep(0.01)
        proc.send_signal(sig)
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _posts(db: Path) -> list[str]:
    rows = query(db, "SELECT url FROM pages WHERE page_type = 'post' ORDER BY url")
    return [str(url) for (url,) in rows]


@pytest.mark.parametrize(("sig", "code", "seed"), RUN_STOPS)
def test_faults_stop_signal_during_run(tmp_path, sig, code, seed):
    """Stopped mid-run: the exit code, the run row, no process left, a clean resume."""
    db = tmp_path / "m.db"
    mark = uuid.uuid4().hex
    at_least = random.Random(seed).randint(3, 30)
    with TestServer(SITE) as server:
        argv = migrator_argv("run", server.url("/"), "--db", str(db), *POLITE)
        stop = "SELECT count(*) FROM raw_pages"
        assert stop_when(argv, mark, db, stop, at_least, sig) == code
        assert leftover_processes(mark) == []
        assert query(db, "PRAGMA integrity_check") == [("ok",)]
        if sig != signal.SIGKILL:
            assert f"interrupted ({sig.name})" in one_line(db.with_suffix(".stderr").read_text())
            assert query(db, "SELECT status FROM runs") == [("interrupted",)]
        again = run_cli(migrator_argv("run", server.url("/"), "--db", str(db), *QUICK), mark)
        expected = sorted(server.url(p) for p in POSTS)
    assert again.returncode == 0, again.stderr
    assert leftover_processes(mark) == []
    assert _posts(db) == expected  # every post, once
    assert query(db, "SELECT status FROM runs ORDER BY id") == [("interrupted",), ("ok",)]


@pytest.mark.parametrize(("sig", "code"), SYNC_STOPS)
def test_faults_stop_signal_during_sync(tmp_path, sig, code):
    """A sync (with its fetch helper process) stopped while it writes changed pages."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    db = tmp_path / "m.db"
    mark = uuid.uuid4().hex
    with TestServer(site) as server:
        first = run_cli(migrator_argv("run", server.url("/"), "--db", str(db), *QUICK), mark)
        assert first.returncode == 0, first.stderr
        for path in POSTS:
            file = site / path.strip("/") / "index.html"
            html = file.read_text(encoding="utf-8")
            html, n = re.subn(r"(<h2[^>]*>)", r"<p>Revised for the stop test.</p>\1", html, count=1)
            assert n == 1, path
            file.write_text(html, encoding="utf-8")
        argv = migrator_argv("sync", "--db", str(db), *POLITE)
        stop = "SELECT count(*) FROM page_versions"
        assert stop_when(argv, mark, db, stop, 5, sig) == code
        assert leftover_processes(mark) == []
        assert query(db, "PRAGMA integrity_check") == [("ok",)]
        if sig != signal.SIGKILL:
            assert query(db, "SELECT status FROM runs ORDER BY id") == [("ok",), ("interrupted",)]
        again = run_cli(migrator_argv("sync", "--db", str(db), *QUICK), mark)
        expected = sorted(server.url(p) for p in POSTS)
    assert again.returncode == 0, again.stderr
    assert leftover_processes(mark) == []
    assert _posts(db) == expected
    versions = query(db, "SELECT version, count(*) FROM pages WHERE page_type = 'post' GROUP BY 1")
    assert versions == [(2, len(POSTS))]  # each post changed once, never twice


# trafilatura's dependency justext imports lxml.html.clean, a separate package
# (lxml_html_clean) since lxml 5.2: an install without it cannot import trafilatura.
NO_LXML_HTML_CLEAN = "import sys\nsys.modules['lxml_html_clean'] = None\n"
ACCEPT_ANY_SELECTOR = (
    "import migrator.config\nmigrator.config._validate_selectors = lambda *a: None\n"
)


@pytest.mark.parametrize("command", ["parse", "run", "extract"])
def test_faults_broken_install_is_an_error_at_start(tmp_path, command):
    """Not a quiet downgrade: exit 2 and one line that says how to repair it."""
    page = ROOT / "src" / "migrator" / "demo_site" / "about" / "index.html"
    db = tmp_path / "m.db"
    sqlite3.connect(db).close()
    args = {
        "parse": ["parse", str(page)],
        "run": ["run", "http://127.0.0.1:9/", "--db", str(db)],
        "extract": ["extract", "--db", str(db)],
    }[command]
    mark = uuid.uuid4().hex
    done = run_cli(migrator_argv(*args, prelude=NO_LXML_HTML_CLEAN), mark)
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr)
    assert "trafilatura cannot be imported" in line
    assert "make env" in line
    assert done.stdout == ""
    assert leftover_processes(mark) == []


def test_faults_worker_warnings_reach_the_user(tmp_path):
    """A field warning logged in an extraction worker process shows on stderr."""
    config = tmp_path / "site.toml"
    config.write_text('[extract]\nworkers = 1\n[extract.selectors]\ntitle = "div[[["\n')
    mark = uuid.uuid4().hex
    with TestServer() as server:
        server.script("/", Reply(body=b"<!doctype html><title>t</title><p>Hello there.</p>"))
        args = ["run", server.url("/"), "--db", str(tmp_path / "m.db"), "--config", str(config)]
        # The config's selectors are checked at load time (a bad one is exit 2): let this
        # one through the check, so that a worker meets it and logs the field's failure.
        done = run_cli(migrator_argv(*args, prelude=ACCEPT_ANY_SELECTOR), mark)
    assert done.returncode == 0, done.stderr
    warnings = [json.loads(line) for line in done.stderr.splitlines() if "field_failed" in line]
    assert warnings, done.stderr
    assert warnings[0]["level"] == "warning"
    assert warnings[0]["field"] == "title"
    assert leftover_processes(mark) == []
