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

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from migrator.demo import demo_site_dir
from servers import TestServer

ROOT = Path(__file__).resolve().parents[1]
SITE = demo_site_dir()
MARK = "MIGRATOR_TEST_MARK"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SITE / "sitemap.xml").exists(), reason="no demo site"),
]

QUICK = ["--concurrency", "4", "--delay", "0", "-q"]


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
