"""Archives of the demo blog made with real tools, and the records to compare.

``wget_warc`` and ``wget_mirror`` run Debian's wget against a running demo server (tests
skip where wget is missing; CI installs it). ``records`` reads every stored page with its
child rows, without the crawl bookkeeping (ids, times, run ids), so a live crawl and an
archive crawl of the same site can be compared for equality.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from migrator.config import Config, ExtractConfig

# Columns that say when and in which run a row was written, not what the page is.
_BOOKKEEPING = {"id", "first_seen_at", "last_seen_at", "changed_at", "run_id", "version"}


def need_wget() -> str:
    wget = shutil.which("wget")
    if wget is None:
        pytest.skip("wget is not installed (CI installs it: .ci/run)")
    return wget


def wget_warc(
    base: str, out: Path, *extra: str, compress: bool = True, dedup: Path | None = None
) -> Path:
    """Mirror ``base`` (plus ``extra`` URLs) with ``wget --warc-file``; the WARC's path."""
    wget = need_wget()
    stem = out.with_suffix("").with_suffix("") if out.name.endswith(".gz") else out
    stem = stem.with_suffix("") if stem.suffix == ".warc" else stem
    args = [wget, "-q", "--mirror", f"--warc-file={stem}", "-P", str(out.parent / "wget-tmp")]
    if not compress:
        args.append("--no-warc-compression")
    if dedup is not None:
        args.append(f"--warc-dedup={dedup}")
    else:
        args.append("--warc-cdx")
    subprocess.run([*args, base + "/", *extra], check=False, timeout=120)
    shutil.rmtree(out.parent / "wget-tmp", ignore_errors=True)
    made = stem.with_name(stem.name + (".warc.gz" if compress else ".warc"))
    assert made.is_file(), f"wget wrote no WARC at {made}"
    return made


def wget_mirror(base: str, dest: Path, *extra: str) -> Path:
    """``wget --mirror --adjust-extension --convert-links`` into ``dest``; the site folder."""
    wget = need_wget()
    args = [
        wget,
        "-q",
        "--mirror",
        "--adjust-extension",
        "--convert-links",
        "-P",
        str(dest),
        base + "/",
        *extra,
    ]
    subprocess.run(args, check=False, timeout=120)
    return dest


def fast_config() -> Config:
    """Our own loopback server: no politeness delay, one extraction worker."""
    config = Config().with_fetch(delay=0.0, concurrency=8, timeout=5.0, deadline=10.0)
    return config.replace(extract=ExtractConfig(workers=1))


def records(db: Path) -> dict[str, dict[str, object]]:
    """Every page of ``db`` by URL, with its breadcrumbs, sections and sidebar links."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        out: dict[str, dict[str, object]] = {}
        for row in conn.execute("SELECT * FROM pages ORDER BY url"):
            page = {k: row[k] for k in row.keys() if k not in _BOOKKEEPING}  # noqa: SIM118
            for table in ("breadcrumbs", "sections", "sidebar_links"):
                children = conn.execute(
                    f"SELECT * FROM {table} WHERE page_id = ? ORDER BY position",
                    (row["id"],),
                ).fetchall()
                page[table] = [
                    json.dumps({k: c[k] for k in c.keys() if k != "page_id"})  # noqa: SIM118
                    for c in children
                ]
            out[row["url"]] = page
        return out
    finally:
        conn.close()


def archive_records(
    db: Path, live_db: Path
) -> tuple[dict[str, dict[str, object]], dict[str, dict[str, object]]]:
    """The records of an archive run and of the live crawl, ready to compare.

    An archived page that gives no date gets its capture day as ``published``, marked
    ``sources.published = capture_date``; a live crawl has no such date. Each such
    record is checked against the live one (which must have no date) and the fallback
    is then set aside, with the content hash it changed. A ``source_url`` that is a
    redirect alias of the page (the archive holds the redirect) counts as the live one.
    ``sources`` becomes a dict.
    """
    archived, live = records(db), records(live_db)
    for record in (*archived.values(), *live.values()):
        record["sources"] = json.loads(str(record["sources"]))
    redirected = aliases(db)
    for url, record in archived.items():
        # An archive's redirect (`/about` -> `/about/`) is queued like its target: which of
        # the two reaches the page first sets `source_url`. Either is the same page.
        other = live.get(url)
        came_from = str(record["source_url"])
        if other is not None and redirected.get(came_from, ("",))[0] == url:
            record["source_url"] = other["source_url"]
        used = record["sources"]
        assert isinstance(used, dict)
        if used.get("published") != "capture_date":
            continue
        other = live.get(url)
        assert other is not None, url
        assert other["published_at"] is None, url
        used.pop("published")
        record["published_at"] = None
        record["content_hash"] = other["content_hash"] = None
    return archived, live


def aliases(db: Path) -> dict[str, tuple[str, str]]:
    """Every alias of ``db``: URL → (target URL, kind)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT url, target_url, kind FROM aliases").fetchall()
        return {url: (target, kind) for url, target, kind in rows}
    finally:
        conn.close()


def sources(db: Path) -> dict[str, str | None]:
    """Each stored answer's provenance (``raw_pages.source``)."""
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT url, source FROM raw_pages").fetchall())
    finally:
        conn.close()
