"""Resume after ``kill -9``: the real CLI is killed mid-run and run again.

A run and a sync of the demo blog are started as ``python -m migrator`` subprocesses,
killed with SIGKILL once some pages are in the database, and started again. The test
server's own request log proves that nothing stored before the kill was downloaded
again, and SQL proves that nothing was stored twice and the database is intact.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from migrator.demo import demo_site_dir
from servers import TestServer

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "fixtures" / "site_expected"
SITE = demo_site_dir()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SITE / "sitemap.xml").exists(), reason="no demo site"),
]

# Slow enough (one host, 2 at a time, 30 ms apart) that a kill lands mid-crawl.
POLITE = ["--concurrency", "2", "--delay", "0.03", "-q"]


def _manifest_posts() -> list[str]:
    manifest = json.loads((EXPECTED / "manifest.json").read_text())
    return sorted(p["path"] for p in manifest["pages"] if p["type"] == "post")


def _migrator(*args: str) -> list[str]:
    return [sys.executable, "-m", "migrator", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _count(db: Path, sql: str) -> int:
    """Read one number from the database of a running process, read-only; -1 if not yet."""
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


def _kill_when(proc: subprocess.Popen[bytes], db: Path, sql: str, at_least: int) -> None:
    """SIGKILL ``proc`` as soon as ``sql`` counts ``at_least``; fail if it ends first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before it could be killed")
        if _count(db, sql) >= at_least:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            assert proc.returncode == -signal.SIGKILL
            return
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    pytest.fail("no pages were stored within 60 s")


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _path(url: str, base: str) -> str:
    assert url.startswith(base), url
    return url[len(base) :]


def test_resume_after_sigkill_downloads_nothing_stored_twice(tmp_path):
    """Kill -9 mid-run; the next run finishes without re-downloading stored pages."""
    db = tmp_path / "resume.db"
    with TestServer(SITE) as server:
        base = server.base_url
        first = subprocess.Popen(
            _migrator("run", base + "/", "--db", str(db), *POLITE),
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _kill_when(first, db, "SELECT count(*) FROM raw_pages", 10)
        stored = _query(db, "SELECT url, requested_url FROM raw_pages")
        assert _query(db, "PRAGMA integrity_check") == [("ok",)]
        states = dict(_query(db, "SELECT state, count(*) FROM crawl_state GROUP BY state"))
        assert states.get("queued", 0) + states.get("in_progress", 0) > 0  # really mid-run
        killed_at = len(server.requests)

        second = subprocess.run(
            _migrator("run", base + "/", "--db", str(db), *POLITE),
            env=_env(),
            capture_output=True,
            timeout=120,
            check=False,
        )
        log = server.requests
    assert second.returncode == 0, second.stderr.decode()[-2000:]

    gets = Counter(r.path for r in log if r.method == "GET")
    stored_paths = {_path(u, base) for row in stored for u in row}  # type: ignore[arg-type]
    assert len(stored_paths) >= 10
    assert {p: gets[p] for p in stored_paths} == dict.fromkeys(stored_paths, 1)
    # Downloaded twice: only pages in flight (fetched, not yet stored) at the kill.
    again = {p for p, n in gets.items() if n > 1}
    discovery = {"/robots.txt", "/sitemap.xml", "/feed/"}
    for path in again - discovery:
        assert gets[path] == 2, path
        assert path in {r.path for r in log[:killed_at]}, path
    # The second run did work: it fetched pages the first never reached.
    assert len({r.path for r in log[killed_at:]} - discovery) > 0

    posts = _query(db, "SELECT url FROM pages WHERE page_type = 'post'")
    assert sorted(_path(str(u), base) for (u,) in posts) == _manifest_posts()
    assert _query(db, "SELECT count(*) FROM crawl_state WHERE state IN ('queued', 'in_progress')")[
        0
    ] == (0,)
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
    assert _query(db, "PRAGMA foreign_key_check") == []
    runs = _query(db, "SELECT status FROM runs ORDER BY id")
    assert runs == [("interrupted",), ("ok",)]  # the killed run never finished


def _revise_posts(site: Path) -> dict[str, str]:
    """Change a word of every post's title on disk; return {post path: old title}."""
    titles = {}
    for post in _manifest_posts():
        file = site / post.strip("/") / "index.html"
        name = post.strip("/").rsplit("/", 1)[-1] + ".json"
        title = json.loads((EXPECTED / name).read_text())["title"]
        # The longest plain word: posts spell titles with entities and legacy charsets.
        word = max(re.findall(r"[A-Za-z]{4,}", title), key=len).encode()
        html = file.read_bytes()
        assert word in html, post
        file.write_bytes(html.replace(word, word + b"ish"))
        titles[post] = title
    return titles


def test_resume_sync_killed_during_load_completes_without_duplicates(tmp_path):
    """Kill -9 while a sync writes changed pages; the next sync completes it exactly once."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    db = tmp_path / "sync.db"
    with TestServer(site) as server:
        base = server.base_url
        done = subprocess.run(
            _migrator(
                "run", base + "/", "--db", str(db), "--concurrency", "8", "--delay", "0", "-q"
            ),
            env=_env(),
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        posts = _revise_posts(site)
        sync = [*_migrator("sync", "--db", str(db), *POLITE), "--max-failures", "100"]
        first = subprocess.Popen(
            sync, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _kill_when(first, db, "SELECT count(*) FROM page_versions", 5)
        assert _query(db, "PRAGMA integrity_check") == [("ok",)]
        changed_before = _query(db, "SELECT count(*) FROM page_versions")[0][0]
        assert 5 <= changed_before < len(posts)  # type: ignore[operator]

        second = subprocess.run(sync, env=_env(), capture_output=True, timeout=120, check=False)
    assert second.returncode == 0, second.stderr.decode()[-2000:]

    rows = _query(
        db,
        "SELECT p.url, p.title, p.version, (SELECT count(*) FROM page_versions AS v"
        " WHERE v.page_id = p.id) FROM pages AS p WHERE p.page_type = 'post' ORDER BY p.url",
    )
    assert [_path(str(r[0]), base) for r in rows] == sorted(posts)
    assert all(r[1] != posts[_path(str(r[0]), base)] for r in rows), rows
    # Each post changed once: one old version kept, never a duplicate from the resume.
    assert {(r[2], r[3]) for r in rows} == {(2, 1)}
    assert _query(
        db, "SELECT count(*) FROM (SELECT url FROM pages GROUP BY url HAVING count(*) > 1)"
    ) == [(0,)]
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
    assert _query(db, "PRAGMA foreign_key_check") == []


_SINCE_SYNC = (
    "SELECT count(*) FROM crawl_state WHERE state = 'fetched' AND last_fetched_at >="
    " (SELECT started_at FROM runs WHERE mode = 'sync' ORDER BY id DESC LIMIT 1)"
)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_resume_sync_cut_short_continues_where_it_stopped(tmp_path, stop):
    """A sync stopped midway, run again, re-checks only what the first one had not."""
    db = tmp_path / "sync.db"
    with TestServer(SITE) as server:
        base = server.base_url
        done = subprocess.run(
            _migrator("run", base + "/", "--db", str(db), "--concurrency", "8", "--delay", "0"),
            env=_env(),
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        asked = {r.path for r in server.requests}  # robots.txt keeps /private/ unasked
        known = {str(u) for (u,) in _query(db, "SELECT url FROM crawl_state")}
        known = {u for u in known if _path(u, base) in asked}
        time.sleep(1.1)  # answers are stamped to the second: keep the run's apart
        before_sync = len(server.requests)
        sync = [*_migrator("sync", "--db", str(db), *POLITE), "--max-failures", "100"]
        first = subprocess.Popen(
            sync, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while _count(db, _SINCE_SYNC) < 10:
            assert first.poll() is None, "the sync ended before it could be stopped"
            assert time.monotonic() < deadline, "the sync re-checked nothing within 60 s"
            time.sleep(0.01)
        first.send_signal(stop)
        assert first.wait(timeout=30) == (143 if stop == signal.SIGTERM else -stop)
        checked = {
            str(u)
            for (u,) in _query(
                db,
                "SELECT url FROM crawl_state WHERE state = 'fetched' AND last_fetched_at >="
                " (SELECT started_at FROM runs ORDER BY id DESC LIMIT 1)",
            )
        }
        assert 10 <= len(checked) < len(known)  # really midway
        # After SIGKILL the helper fetch process notices its parent's death within a
        # moment and may finish the request it had in flight: wait for the server to
        # fall quiet, so that request is not counted as the next sync's.
        quiet_since, seen = time.monotonic(), len(server.requests)
        while time.monotonic() - quiet_since < 0.5 and time.monotonic() < deadline + 10:
            time.sleep(0.05)
            if len(server.requests) != seen:
                quiet_since, seen = time.monotonic(), len(server.requests)
        stopped_at = len(server.requests)

        second = subprocess.run(sync, env=_env(), capture_output=True, timeout=120, check=False)
        resumed = server.requests[stopped_at:]
        third = subprocess.run(sync, env=_env(), capture_output=True, timeout=120, check=False)
        again = server.requests[stopped_at + len(resumed) :]
        first_sync = server.requests[before_sync:stopped_at]
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    assert third.returncode == 0, third.stderr.decode()[-2000:]

    discovery = {"/robots.txt", "/sitemap.xml", "/feed/"}
    paths = {u: _path(u, base) for u in known}
    resumed_gets = Counter(r.path for r in resumed if r.method == "GET")
    # Nothing the cut-short sync had answered was asked again...
    assert {paths[u] for u in checked} & set(resumed_gets) - discovery == set()
    # ...and everything else was, once: the two syncs together checked the whole site.
    rest = {paths[u] for u in known - checked} - discovery
    assert {p: resumed_gets[p] for p in rest} == dict.fromkeys(rest, 1)
    assert {r.path for r in first_sync} | set(resumed_gets) >= set(paths.values())
    # A sync after a finished one starts over: every known URL is checked again.
    assert {r.path for r in again} >= set(paths.values())

    posts = _query(db, "SELECT url FROM pages WHERE page_type = 'post'")
    assert sorted(_path(str(u), base) for (u,) in posts) == _manifest_posts()
    assert _query(
        db, "SELECT count(*) FROM (SELECT url FROM pages GROUP BY url HAVING count(*) > 1)"
    ) == [(0,)]
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
    assert _query(db, "PRAGMA foreign_key_check") == []
    runs = _query(db, "SELECT mode, status, counts FROM runs ORDER BY id")
    assert [(r[0], r[1]) for r in runs] == [
        ("run", "ok"),
        ("sync", "interrupted"),
        ("sync", "ok"),
        ("sync", "ok"),
    ]
    assert json.loads(str(runs[2][2]))["resumed_checked"] >= len(checked)
    assert "resumed_checked" not in json.loads(str(runs[3][2]))
