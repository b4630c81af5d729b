"""Progress and the run summary: a live line (host, counts, rate, pages left, ETA) only
when stderr is a terminal, checked through a real pseudo-terminal; without one, stderr
holds JSON lines only and the summary is one ``run_summary`` event; ``-q`` stays quiet."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from collections import Counter
from pathlib import Path

import pytest

from migrator.demo import demo_site_dir, serve_site
from migrator.progress import Meter

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _argv(start: str, db: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "migrator",
        "run",
        start,
        "--db",
        str(db),
        "--delay",
        "0.02",
        "--concurrency",
        "2",
        *extra,
    ]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["TERM"] = "xterm-256color"
    env.pop("NO_COLOR", None)
    return env


def _run_on_a_terminal(argv: list[str]) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal (stdout a pipe); what the terminal got."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.run(
            argv, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
            env=_env(), timeout=240, check=False,
        )  # fmt: skip
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_run_shows_a_live_line_on_a_terminal_and_json_lines_elsewhere(tmp_path):
    with serve_site(demo_site_dir(), port=0) as server:
        start = server.base_url + "/"
        host = start.split("/")[2]
        code, screen = _run_on_a_terminal(_argv(start, tmp_path / "tty.db"))
        piped = subprocess.run(
            _argv(start, tmp_path / "pipe.db", "--limit", "5"), capture_output=True,
            text=True, env=_env(), timeout=240, check=False,
        )  # fmt: skip
        quiet = subprocess.run(
            _argv(start, tmp_path / "quiet.db", "-q", "--limit", "3"), capture_output=True,
            text=True, env=_env(), timeout=240, check=False,
        )  # fmt: skip
    assert code == 0, screen[-3000:]
    text = ANSI.sub("", screen)
    lines = [ln for ln in re.split(r"[\r\n]+", text) if "pages/s" in ln and "migrating" in ln]
    assert lines, text[-3000:]
    assert all(host in ln for ln in lines)
    busy = [ln for ln in lines if (m := re.search(r"fetched (\d+)", ln)) and int(m.group(1))]
    assert busy, lines  # the line moved while pages came in
    assert any(re.search(r"\d+ left +ETA \d+:\d\d", ln) for ln in lines), lines
    assert "outcome" in text  # the summary table, for a person
    assert "run_summary" not in text

    assert piped.returncode == 0, piped.stderr[-3000:]
    events = [json.loads(line) for line in piped.stderr.splitlines() if line.strip()]
    assert events  # every line parsed as JSON: nothing else on stderr
    # At the default verbosity the summary is the one info event: the run's result.
    assert [e["event"] for e in events if e["level"] == "info"] == ["run_summary"]
    summary = events[-1]
    assert summary["status"] == "ok"
    assert summary["counts"]["new"] == 5
    assert "--limit" in summary["message"]
    assert "pages/s" not in piped.stderr

    assert quiet.returncode == 0
    assert quiet.stderr == ""  # -q: nothing at all on success


def test_meter_rate_pages_left_and_eta():
    now = [100.0]
    meter = Meter("blog.example.com", clock=lambda: now[0])
    now[0] = 110.0
    counts = Counter(discovered=120, fetched=15, failed=3, skipped=2)
    measured = meter.measure(counts)
    assert measured == {"done": 20, "pages_per_s": 2.0, "left": 100, "eta_s": 50.0}
    line = meter.line(counts).plain
    assert line.startswith("migrating blog.example.com")
    assert "fetched 15" in line
    assert "2.0 pages/s" in line
    assert "100 left" in line
    assert line.endswith("ETA 0:50")


def test_meter_has_no_eta_when_the_frontier_is_unknown():
    now = [0.0]
    meter = Meter(None, clock=lambda: now[0])
    now[0] = 5.0
    measured = meter.measure(Counter(discovered=10, fetched=10))
    assert measured["left"] is None
    assert measured["eta_s"] is None
    assert "ETA" not in meter.line(Counter(discovered=10, fetched=10)).plain
