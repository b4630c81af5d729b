"""Where the store keeps hand-written SQL instead of sqlite-utils, measured side by side.

1. The page search trigger: sqlite-utils' ``enable_fts(create_triggers=True)`` re-indexes
   a page on every UPDATE; the store's ``pages_au`` fires only when ``title`` or
   ``body_text`` changes. Saves N pages, then times saving them again unchanged (a sync:
   only ``last_seen_at`` moves) with each trigger.
2. The answer upsert: ``raw_pages`` rows written (then rewritten) by the store's
   ``INSERT … ON CONFLICT`` against ``db["raw_pages"].upsert(row, pk="url")``.

Alternating rounds; only the ratios mean anything on a shared machine.

    .venv/bin/python benchmarks/bench_store_sql.py [--pages 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_load import batched, make_page
from migrator.load import Store
from migrator.models import RawPage
from migrator.store.raw import RAW_UPSERT, raw_row

# sqlite-utils 4.2's trigger, as enable_fts(create_triggers=True) writes it.
SQLITE_UTILS_AU = """
CREATE TRIGGER "pages_au" AFTER UPDATE ON "pages" BEGIN
  INSERT INTO "pages_fts" ("pages_fts", rowid, "title", "body_text")
  VALUES('delete', old.rowid, old."title", old."body_text");
  INSERT INTO "pages_fts" (rowid, "title", "body_text")
  VALUES (new.rowid, new."title", new."body_text");
END
"""


def unchanged_rate(path: Path, n: int, *, sqlite_utils_trigger: bool) -> float:
    pages = [make_page(i) for i in range(n)]
    with Store.open(path) as store:
        if sqlite_utils_trigger:
            store.query("DROP TRIGGER pages_au")
            store.query(SQLITE_UTILS_AU)
        batched(store, pages, 50)
        start = time.perf_counter()
        batched(store, pages, 50)
        return n / (time.perf_counter() - start)


def upsert_rate(path: Path, n: int, *, sqlite_utils_upsert: bool) -> float:
    raws = [
        RawPage(
            url=p.url,
            requested_url=p.url,
            status=200,
            headers=(("content-type", "text/html"),),
            body=(p.body_html * 8).encode(),
            fetched_at=datetime.now(UTC),
        )
        for p in (make_page(i) for i in range(n))
    ]
    with Store.open(path) as store:
        table = store.db.table("raw_pages")
        start = time.perf_counter()
        for _ in range(2):  # new rows, then the same rows again (updates)
            for first in range(0, n, 50):
                with store.transaction():
                    for raw in raws[first : first + 50]:
                        row = raw_row(raw)
                        if sqlite_utils_upsert:
                            table.upsert(row, pk="url")
                        else:
                            store.db.execute(RAW_UPSERT, tuple(row.values()))
        return 2 * n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for round_ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            ours = unchanged_rate(Path(tmp) / "a.db", args.pages, sqlite_utils_trigger=False)
            theirs = unchanged_rate(Path(tmp) / "b.db", args.pages, sqlite_utils_trigger=True)
        print(
            f"round {round_}: unchanged pages/s  store trigger {ours:8.0f}"
            f"  sqlite-utils trigger {theirs:8.0f}  ratio {ours / theirs:5.2f}"
        )
        with tempfile.TemporaryDirectory() as tmp:
            ours = upsert_rate(Path(tmp) / "a.db", args.pages, sqlite_utils_upsert=False)
            theirs = upsert_rate(Path(tmp) / "b.db", args.pages, sqlite_utils_upsert=True)
        print(
            f"round {round_}: raw_pages rows/s   hand-written {ours:8.0f}"
            f"  sqlite-utils upsert  {theirs:8.0f}  ratio {ours / theirs:5.2f}"
        )


if __name__ == "__main__":
    main()
