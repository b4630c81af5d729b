"""Where ``extract_page`` spends its time, per page, with and without a site model.

For each folder of HTML pages (a generated site, ``../shared/corpus/sites/*/www``): learns
the model from up to 200 pages spread over the folder, then extracts up to ``--limit``
pages without and with it. Prints the total CPU ms/page (``time.process_time``, best of
``--repeat`` passes: the machine is shared and CPU time moves less than wall time) and,
from that best pass, the CPU ms/page of the functions that matter (inclusive: a function
counts what it calls). Each watched function is wrapped with a CPU timer; only functions
called a few times per page are watched, so the timers cost little (cProfile's per-call
overhead inflated the many small calls past the whole page's real time).
Run it under two source trees (``PYTHONPATH``) for a before/after. ``--trafilatura`` also
times the peers' extraction on the same pages (``trafilatura.extract`` as the Scrapy spider
calls it: Markdown, no comments), to check that a benchmark site costs trafilatura what
real blogs cost it.

    .venv/bin/python benchmarks/profile_extract.py /tmp/site-real-300 ../shared/corpus/sites/*/www
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import migrator
from bench_site_model import FETCHED, _pages  # the same page sample (benchmarks/ on sys.path)
from migrator.config import ExtractConfig
from migrator.errors import ExtractError
from migrator.extract import extract_page
from migrator.extract.site import learn_site
from migrator.models import RawPage, SiteModel

# The parts of extract_page worth watching, by function name: wherever a migrator module
# defines or imports one (modules move; a name no module holds any more is reported).
WATCHED = (
    "build_record",
    "link_urls",
    "remove_furniture",
    "article_body",
    "page_dates",
    "kind_before_body",
    "canonical_url",
    "split_sections",
    "taxonomy",
    "find_sidebar_links",
    "menu_urls",
    "own_urls",
    "side_columns",
    "find_region",
    "clean_region",
    "read_blocks",
    "furniture_nodes",
    "template_signature",
    "read_structured",
    "find_breadcrumbs",
    "find_title",
    "find_author",
    "find_featured_image",
    "cms_page_type",
    "sanitize_html",
    "tree_to_markdown",
    "decode_body",
    "LexborHTMLParser",
)


def _run(pages: Sequence[RawPage], rules: ExtractConfig, model: SiteModel | None) -> None:
    for raw in pages:
        with contextlib.suppress(ExtractError):
            extract_page(raw, rules, model)


def _instrument() -> dict[str, float]:
    """Wrap each watched function (wherever a ``migrator`` module holds it) so that it
    adds its CPU seconds to the returned dict. Only functions called a few times per page
    are watched: a timer per call of a per-link function would cost more than it measures.
    """
    spent: dict[str, float] = {}
    for info in pkgutil.walk_packages(migrator.__path__, "migrator."):
        if info.name.startswith(("migrator.extract", "migrator.clean", "migrator.decode")):
            importlib.import_module(info.name)
    importlib.import_module("selectolax.lexbor")
    modules = [m for n, m in sys.modules.items() if n.startswith(("migrator", "selectolax"))]
    for name in WATCHED:
        originals = {id(f): f for m in modules if callable(f := getattr(m, name, None))}
        if not originals:
            print(f"warning: no module holds {name} any more", file=sys.stderr)
        for original in originals.values():

            def timed(*args: Any, _f: Any = original, _n: str = name, **kwargs: Any) -> Any:
                start = time.process_time()
                try:
                    return _f(*args, **kwargs)
                finally:
                    spent[_n] = spent.get(_n, 0.0) + time.process_time() - start

            for holder in modules:
                if getattr(holder, name, None) is original:
                    setattr(holder, name, timed)
    return spent


def _measure(
    pages: Sequence[RawPage], model: SiteModel | None, repeat: int, spent: dict[str, float]
) -> tuple[float, dict[str, float]]:
    """The best pass's CPU ms/page and, from that pass, each watched function's."""
    rules = ExtractConfig()
    best, parts = float("inf"), {}
    for _ in range(repeat):
        spent.clear()
        start = time.process_time()
        _run(pages, rules, model)
        total = time.process_time() - start
        if total < best:
            best, parts = total, dict(spent)
    per_page = 1000 / max(1, len(pages))
    return best * per_page, {name: value * per_page for name, value in parts.items()}


def _trafilatura_ms(pages: Sequence[RawPage], repeat: int) -> float:
    """trafilatura's CPU ms/page on the pages, as the spider calls it (best of ``repeat``)."""
    import trafilatura

    texts = [(p.url, p.body.decode("utf-8", "replace")) for p in pages]
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for url, text in texts:
            trafilatura.extract(text, url=url, output_format="markdown", include_comments=False)
        best = min(best, time.process_time() - start)
    return best * 1000 / max(1, len(pages))


def main() -> None:
    """Print, per folder, total CPU ms/page and the watched functions' shares."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--trafilatura", action="store_true", help="also time trafilatura.extract on the pages"
    )
    args = parser.parse_args()
    spent = _instrument()
    for folder in args.folders:
        pages = _pages(folder, args.limit)
        sample = pages[:: max(1, len(pages) // 200)][:200]
        texts = [(p.url, p.body.decode("utf-8", "replace")) for p in sample]
        model = learn_site(texts, fetched_at=FETCHED)
        _run(pages, ExtractConfig(), model)  # warm the caches a crawl keeps warm
        plain, without = _measure(pages, None, args.repeat, spent)
        with_model, within = _measure(pages, model, args.repeat, spent)
        size = sum(len(p.body) for p in pages) / max(1, len(pages)) / 1024
        print(
            f"{folder}: {len(pages)} pages, {size:.1f} KB mean; CPU ms/page (best of "
            f"{args.repeat}): without a model {plain:.2f}, with it {with_model:.2f}"
        )
        if args.trafilatura:
            peer = _trafilatura_ms(pages, args.repeat)
            print(
                f"  trafilatura.extract {peer:.2f} ms/page: "
                f"{peer / with_model:.2f}x migrator's extract_page with the model"
            )
        print(f"  {'function':<22} {'no model':>9} {'model':>9}  (CPU ms/page, inclusive)")
        for name in sorted(without.keys() | within.keys(), key=lambda n: -within.get(n, 0.0)):
            print(f"  {name:<22} {without.get(name, 0.0):9.2f} {within.get(name, 0.0):9.2f}")


if __name__ == "__main__":
    main()
