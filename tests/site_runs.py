"""Set-up shared by the tests that extract single pages and migrate whole sites: a
``RawPage`` made from HTML, and ``migrator run`` as a subprocess against a folder served
on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from migrator.models import RawPage
from servers import serve

MIGRATOR = str(Path(sys.executable).parent / "migrator")


def raw_page(url: str, html: str | bytes, charset: str | None = None) -> RawPage:
    """A 200 answer for ``url`` holding ``html`` (encoded in ``charset``, which the
    Content-Type names when given), fetched on 2026-01-01."""
    content_type = "text/html" if charset is None else f"text/html; charset={charset}"
    return RawPage(
        url=url,
        requested_url=url,
        status=200,
        headers=(("content-type", content_type),),
        body=html if isinstance(html, bytes) else html.encode(charset or "utf-8"),
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def migrate_folder(root: Path, db: Path) -> subprocess.CompletedProcess[str]:
    """``migrator run`` of the site in ``root`` (served on 127.0.0.1, no delay) into
    ``db``; the caller checks the outcome."""
    with serve(root, rewrite_base=None) as server:
        return subprocess.run(
            [MIGRATOR, "run", server.base_url, "--db", str(db), "--delay", "0", "-q"],
            capture_output=True,
            text=True,
            check=False,
            timeout=240,
        )
