"""The page search trigger: sqlite-utils' ``pages_au`` against the store's own.

sqlite-utils' ``enable_fts(create_triggers=True)`` re-indexes a page on every UPDATE;
the store's trigger fires only when ``title`` or ``body_text`` changes. Saves N pages,
then times saving them again unchanged (a sync: only ``last_seen_at`` moves) with each
trigger, side by side in alternating rounds.

    .venv/bin/python benchmarks/bench_fts_trigger.py [--pages 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench_load import batched, make_page

from migrator.load import Store

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


if __name__ == "__main__":
    main()
