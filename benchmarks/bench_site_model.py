"""What the site model costs per page: learning it, finding the furniture, extracting with it.

For each folder of HTML pages (a generated site, ``../shared/corpus/sites/*/www``): learns
the model from up to 200 pages spread over the folder (as a crawl does), then times per
page, best of ``--repeat`` passes over up to ``--limit`` pages: ``furniture_nodes`` alone
(after parsing), ``extract_page`` without a model and with it. Bodies are read first; only
the named work is timed. Run it under two source trees (``PYTHONPATH``) for a before/after.

    .venv/bin/python benchmarks/bench_site_model.py benchmarks/out/site-real-300 \\
        ../shared/corpus/sites/*/www
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from migrator.config import ExtractConfig
from migrator.errors import ExtractError
from migrator.extract import extract_page
from migrator.extract.blocks import furniture_nodes
from migrator.extract.site import learn_site
from migrator.models import RawPage

FETCHED = datetime(2030, 1, 1, tzinfo=UTC)


def _pages(folder: Path, limit: int) -> list[RawPage]:
    files = [
        p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix in {".html", ".htm", ""}
    ]
    pages = []
    for path in files[:: max(1, len(files) // limit)][:limit]:
        body = path.read_bytes()
        if b"<html" not in body[:3000].lower() and b"<!doctype" not in body[:300].lower():
            continue
        url = "http://blog.example/" + path.relative_to(folder).as_posix()
        pages.append(
            RawPage(
                url=url.removesuffix("index.html"),
                requested_url=url,
                status=200,
                headers=(("content-type", "text/html; charset=utf-8"),),
                body=body,
                fetched_at=FETCHED,
            )
        )
    return pages


def _best(repeat: int, work: Sequence[Any], run: Callable[..., object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in work:
            with contextlib.suppress(ExtractError):
                run(item)
        best = min(best, time.perf_counter() - start)
    return 1000 * best / max(1, len(work))


def main() -> None:
    """Print one line per folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rules = ExtractConfig()
    for folder in args.folders:
        pages = _pages(folder, args.limit)
        texts = [(p.url, p.body.decode("utf-8", "replace")) for p in pages]
        start = time.perf_counter()
        model = learn_site(texts, fetched_at=FETCHED)
        learn = 1000 * (time.perf_counter() - start) / max(1, len(texts))
        trees = [LexborHTMLParser(text) for _, text in texts]
        furniture = _best(args.repeat, trees, lambda tree, m=model: furniture_nodes(tree, m))
        plain = _best(args.repeat, pages, lambda raw: extract_page(raw, rules))
        with_model = _best(args.repeat, pages, lambda raw, m=model: extract_page(raw, rules, m))
        print(
            f"{folder}: {len(pages)} pages, learn {learn:.1f} ms/page, furniture "
            f"{furniture:.2f} ms/page, extract {plain:.2f} ms/page without the model, "
            f"{with_model:.2f} with it ({len(model.furniture) if model else 0} furniture blocks)",
            flush=True,
        )


if __name__ == "__main__":
    main()
