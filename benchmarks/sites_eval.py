"""Whole-site accuracy on the real blogs of ../shared/corpus/sites (issue #10).

For each site: serve its ``www/`` on 127.0.0.1 with the same static server the tests use,
run ``migrator run`` from the site's start page with default settings (except pace:
``--concurrency 8 --delay 0``), the site's original hosts mapped to the local server
(``--resolve``), then compare the database with the site's hand-labelled ``truth.json``:

- coverage: post URLs (``post_urls``) found and stored;
- page types: every stored URL typed ``post`` iff it is one of ``post_urls``;
- title, published, breadcrumbs, sections, sidebar links on the labelled posts.

Usage: ``python benchmarks/sites_eval.py [SITE …] [--json OUT] [--keep DIR] [--db-only]``
(``--db-only`` re-scores the databases of an earlier ``--keep`` run with no crawl).
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT.parent / "shared" / "corpus" / "sites"
sys.path.insert(0, str(ROOT / "tests"))

# Where each site starts and which of its original hosts are mapped to the local server.
START = {
    "lafuite": ("/index.html", ["www.lafuiteautourdumonde.com"]),
    "mikeaustin": ("/blog/index.html", ["mike-austin.com", "www.mike-austin.com"]),
    "owtphil": ("/index.html", ["www.onewayticketphil.com"]),
    "romantik": ("/index.html", ["www.tkr.od.ua", "tkr.od.ua"]),
}
_WS = re.compile(r"\s+")


def norm_text(value: str | None) -> str:
    value = unicodedata.normalize("NFKC", value or "")
    value = value.replace("\u2019", "'").replace("\u2018", "'")
    value = value.replace("\u201c", '"').replace("\u201d", '"')
    return _WS.sub(" ", value).strip().casefold()


def file_of(path: str) -> str:
    """The ``www/`` file a URL path is served from (``/a/`` → ``a/index.html``)."""
    path = unquote(path).lstrip("/")
    if not path or path.endswith("/"):
        return path + "index.html"
    return path


@dataclass
class Score:
    site: str
    posts_total: int = 0
    posts_found: int = 0
    typed: int = 0
    typed_right: int = 0
    labelled: int = 0
    title_right: int = 0
    published_right: int = 0
    crumbs_right: int = 0
    sections_right: int = 0
    sidebar_right: int = 0
    elapsed_s: float = 0.0
    misses: dict[str, list[str]] = field(default_factory=dict)

    def miss(self, kind: str, text: str) -> None:
        self.misses.setdefault(kind, []).append(text)

    def line(self) -> str:
        def pct(a: int, b: int) -> str:
            return f"{a}/{b} ({100 * a / b:.1f}%)" if b else "-"

        return (
            f"{self.site:<11} found {pct(self.posts_found, self.posts_total):<16} "
            f"types {pct(self.typed_right, self.typed):<18} "
            f"title {pct(self.title_right, self.labelled):<14} "
            f"date {pct(self.published_right, self.labelled):<14} "
            f"crumbs {pct(self.crumbs_right, self.labelled):<14} "
            f"sect {pct(self.sections_right, self.labelled):<14} "
            f"side {pct(self.sidebar_right, self.labelled):<14} {self.elapsed_s:.0f}s"
        )


def crawl(site: str, db: Path, migrator: str) -> float:
    from servers import serve  # tests/servers.py: the static server the tests use

    start_path, hosts = START[site]
    with serve(SITES / site / "www", rewrite_base=None) as server:
        netloc = urlsplit(server.base_url).netloc
        args = [migrator, "run", f"http://{hosts[0]}{start_path}", "--db", str(db)]
        args += ["--concurrency", "8", "--delay", "0", "-q"]
        for host in hosts:
            args += ["--resolve", f"{host}={netloc}"]
        began = time.perf_counter()
        done = subprocess.run(args, check=False, capture_output=True, text=True)
        elapsed = time.perf_counter() - began
    if done.returncode not in (0, 3):
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{site}: migrator exited {done.returncode}")
    return elapsed


def score(site: str, db: Path) -> Score:
    truth = json.loads((SITES / site / "truth.json").read_text())
    post_files = set(truth["post_urls"])
    result = Score(site=site, posts_total=len(post_files))
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    pages = {file_of(urlsplit(r["url"]).path): r for r in con.execute("SELECT * FROM pages")}
    typed: dict[str, str] = {}
    for row in con.execute(
        "SELECT url, final_url, page_type FROM crawl_state WHERE page_type IS NOT NULL"
    ):
        typed[file_of(urlsplit(row["final_url"] or row["url"]).path)] = row["page_type"]
    for key, row in pages.items():
        typed[key] = row["page_type"]
    found = {k for k in pages if k in post_files}
    result.posts_found = len(found)
    for key, kind in sorted(typed.items()):
        result.typed += 1
        right = (kind == "post") == (key in post_files)
        result.typed_right += right
        if not right:
            result.miss("type", f"{key}: {kind}")
    for missing in sorted(post_files - found):
        result.miss("not_found", missing)
    for label in truth["pages"]:
        result.labelled += 1
        row = pages.get(label["file"])
        if row is None:
            result.miss("labelled_missing", label["file"])
            continue
        pid = row["id"]
        if norm_text(row["title"]) == norm_text(label["title"]):
            result.title_right += 1
        else:
            result.miss("title", f"{label['file']}: {row['title']!r} != {label['title']!r}")
        got = (row["published_at"] or "")[:10]
        if got == (label["published"] or "")[:10]:
            result.published_right += 1
        else:
            result.miss("published", f"{label['file']}: {got!r} != {label['published']!r}")
        crumbs = [
            norm_text(r[0])
            for r in con.execute(
                "SELECT label FROM breadcrumbs WHERE page_id = ? ORDER BY position", (pid,)
            )
        ]
        want = [norm_text(c if isinstance(c, str) else c["label"]) for c in label["breadcrumbs"]]
        # The trail's last crumb is often the post's own title: compare without it.
        if crumbs == want or crumbs[:-1] == want or crumbs == want[:-1]:
            result.crumbs_right += 1
        else:
            result.miss("breadcrumbs", f"{label['file']}: {crumbs} != {want}")
        heads = [
            norm_text(r[0])
            for r in con.execute(
                "SELECT heading FROM sections WHERE page_id = ? ORDER BY position", (pid,)
            )
        ]
        want_heads = [
            norm_text(s[1] if isinstance(s, list) else s["heading"]) for s in label["sections"]
        ]
        if heads == want_heads:
            result.sections_right += 1
        else:
            result.miss("sections", f"{label['file']}: {heads} != {want_heads}")
        links = [
            urlsplit(r[0]).path
            for r in con.execute(
                "SELECT url FROM sidebar_links WHERE page_id = ? ORDER BY position", (pid,)
            )
        ]
        want_links = [urlsplit(s["url"]).path for s in label["sidebar_links"]]
        if links == want_links:
            result.sidebar_right += 1
        else:
            result.miss("sidebar", f"{label['file']}: {len(links)} links != {len(want_links)}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sites", nargs="*", default=sorted(START))
    parser.add_argument("--json", type=Path, help="write the scores and misses here")
    parser.add_argument("--keep", type=Path, help="keep the databases in this folder")
    parser.add_argument("--db-only", action="store_true", help="score the kept databases")
    parser.add_argument("--misses", type=int, default=8, help="misses printed per kind")
    args = parser.parse_args()
    if not SITES.is_dir():
        raise SystemExit(f"no corpus at {SITES}")
    migrator = str(Path(sys.executable).parent / "migrator")
    out_dir = args.keep or Path(tempfile.mkdtemp(prefix="sites-eval-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = []
    for site in args.sites:
        db = out_dir / f"{site}.db"
        elapsed = 0.0
        if not args.db_only:
            db.unlink(missing_ok=True)
            elapsed = crawl(site, db, migrator)
        result = score(site, db)
        result.elapsed_s = elapsed
        scores.append(result)
        print(result.line(), flush=True)
        for kind, items in result.misses.items():
            print(f"    {kind} ({len(items)}): " + "; ".join(items[: args.misses]))
    if args.json:
        args.json.write_text(json.dumps([s.__dict__ for s in scores], indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
