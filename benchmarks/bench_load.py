"""Micro-benchmark of the load stage: save N synthetic Pages into a fresh Store.

Prints pages/s for: new pages in batches (the pipeline's writer), the same pages again
(unchanged, the nightly sync's common case), changed pages (history + child rows
replaced + FTS), and new pages committed one by one (what batching avoids).

    .venv/bin/python benchmarks/bench_load.py [--pages 5000] [--batch 50] [--db PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from migrator.load import Store
from migrator.models import (
    Crumb,
    Discovered,
    Page,
    RawPage,
    Section,
    SidebarLink,
    record_hash,
)

SITE = "https://blog.example.com"
WORDS = [
    *("lorem", "ipsum", "dolor", "sit", "amet", "consectetur"),
    *("adipiscing", "elit", "sed", "do", "eiusmod", "tempor"),
]


def make_page(i: int, *, rev: int = 0) -> Page:
    """A post with a realistic shape: ~6 kB of text, 6 sections, 3 crumbs, 8 sidebar links."""
    url = f"{SITE}/news/post-{i}/"
    paragraphs = [
        " ".join(WORDS[(i + j + k + rev) % len(WORDS)] for k in range(80)) for j in range(12)
    ]
    text = "\n\n".join(paragraphs)
    page = Page(
        url=url,
        source_url=url,
        canonical_url=url,
        title=f"Post number {i} rev {rev}",
        published=date(2020, 1, 1 + i % 28),
        page_type="post",
        breadcrumbs=(
            Crumb(label="Home", url=f"{SITE}/"),
            Crumb(label="News", url=f"{SITE}/news/"),
            Crumb(label=f"Post number {i}", current=True),
        ),
        sections=tuple(
            Section(level=2, heading=f"Part {j}", text=paragraphs[j], markdown=paragraphs[j])
            for j in range(6)
        ),
        sidebar_links=tuple(
            SidebarLink(group="Recent", label=f"Post {k}", url=f"{SITE}/news/post-{k}/")
            for k in range(i, i + 8)
        ),
        tags=("a", "b"),
        body_text=text,
        body_markdown=text,
        body_html="".join(f"<p>{p}</p>" for p in paragraphs),
        extractor_version="bench",
    )
    # extract sets the hash; do the same so save_page is measured, not hashing.
    return dataclasses.replace(page, content_hash=record_hash(page.to_record()))


def timed(label: str, n: int, fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    print(f"{label:<42} {n / elapsed:9.0f} pages/s  {elapsed * 1000 / n:6.3f} ms/page")
    return n / elapsed


def batched(store: Store, pages: list[Page], batch: int) -> None:
    for start in range(0, len(pages), batch):
        with store.transaction():
            for page in pages[start : start + batch]:
                store.save_page(page)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    n, batch = args.pages, args.batch
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        pages = [make_page(i) for i in range(n)]
        changed = [make_page(i, rev=1) for i in range(n)]
        with Store.open(path) as store:
            timed(f"new, {batch} per transaction", n, lambda: batched(store, pages, batch))
            timed("unchanged (same pages again)", n, lambda: batched(store, pages, batch))
            timed("changed (history, children, FTS)", n, lambda: batched(store, changed, batch))

            def one_by_one() -> None:
                for page in solo:
                    store.save_page(page)

            solo = [dataclasses.replace(p, url=p.url + "solo/") for p in pages[:500]]
            timed("new, one commit per page (500)", len(solo), one_by_one)

            raws = [
                RawPage(
                    url=p.url,
                    requested_url=p.url,
                    status=200,
                    headers=(("content-type", "text/html"),),
                    body=(p.body_html * 8).encode(),
                    fetched_at=datetime.now(UTC),
                )
                for p in pages
            ]
            store.add_urls(Discovered(url=p.url, via="sitemap") for p in pages)

            def save_raws() -> None:
                for start in range(0, n, batch):
                    with store.transaction():
                        for raw in raws[start : start + batch]:
                            store.save_fetch(raw.url, raw, page_type="post")

            timed(f"save_fetch ~{len(raws[0].body) // 1000} kB bodies", n, save_raws)
            timed("iter_raw_pages", n, lambda: sum(1 for _ in store.iter_raw_pages()))
        print(f"database size: {path.stat().st_size / 1e6:.1f} MB for {n} pages")


if __name__ == "__main__":
    main()
