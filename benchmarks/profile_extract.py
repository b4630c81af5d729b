"""Where ``extract_page`` spends its time, per page, with and without a site model.

For each folder of HTML pages (a generated site, ``../shared/corpus/sites/*/www``): learns
the model from up to 200 pages spread over the folder, then extracts up to ``--limit``
pages without and with it. Prints the total CPU ms/page (``time.process_time``, best of
``--repeat`` passes: the machine is shared and CPU time moves less than wall time) and,
from that best pass, the CPU ms/page of the functions that matter (inclusive: a function
counts what it calls). Each watched function is wrapped with a CPU timer; only functions
called a few times per page are watched, so the timers cost little (cProfile's per-call
overhead inflated the many small calls past the whole page's real time).
Run it under two source trees (``PYTHONPATH``) for a before/after.

    .venv/bin/python benchmarks/profile_extract.py /tmp/site-real-300 ../shared/corpus/sites/*/www
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_site_model import FETCHED, _pages  # the same page sample (benchmarks/ on sys.path)
from migrator.config import ExtractConfig
from migrator.errors import ExtractError
from migrator.extract import extract_page
from migrator.extract.site import learn_site
from migrator.models import RawPage, SiteModel

# (file name suffix, function name): the parts of extract_page worth watching.
WATCHED = (
    ("migrator.extract.record", "build_record"),
    ("migrator.extract.addresses", "link_urls"),
    ("migrator.extract.furniture", "remove_furniture"),
    ("migrator.extract.article", "article_body"),
    ("migrator.extract.published", "page_dates"),
    ("migrator.extract.kind", "kind_before_body"),
    ("migrator.extract.addresses", "canonical_url"),
    ("migrator.extract.sections", "split_sections"),
    ("migrator.extract.taxonomy", "taxonomy"),
    ("migrator.extract.sidebar", "find_sidebar_links"),
    ("migrator.extract.sidebar", "_menu_urls"),
    ("migrator.extract.sidebar", "_own_urls"),
    ("migrator.extract.layout", "side_columns"),
    ("migrator.extract.body", "find_region"),
    ("migrator.extract.body", "clean_region"),
    ("migrator.extract.body", "read_blocks"),
    ("migrator.extract.blocks", "furniture_nodes"),
    ("migrator.extract.template", "template_signature"),
    ("migrator.extract.structured", "read_structured"),
    ("migrator.extract.breadcrumbs", "find_breadcrumbs"),
    ("migrator.extract.title", "find_title"),
    ("migrator.extract.title", "find_author"),
    ("migrator.extract.featured", "find_featured_image"),
    ("migrator.extract.pagetype", "cms_page_type"),
    ("migrator.clean", "sanitize_html"),
    ("migrator.clean", "tree_to_markdown"),
    ("migrator.decode", "decode_body"),
    ("selectolax.lexbor", "LexborHTMLParser"),
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
    modules = [m for name, m in sys.modules.items() if name.startswith("migrator")]
    for module_name, name in WATCHED:
        module = importlib.import_module(module_name)
        original = getattr(module, name)

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


def main() -> None:
    """Print, per folder, total CPU ms/page and the watched functions' shares."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
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
        print(
            f"{folder}: {len(pages)} pages; CPU ms/page (best of {args.repeat}): "
            f"without a model {plain:.2f}, with it {with_model:.2f}"
        )
        print(f"  {'function':<22} {'no model':>9} {'model':>9}  (CPU ms/page, inclusive)")
        for name in sorted(without.keys() | within.keys(), key=lambda n: -within.get(n, 0.0)):
            print(f"  {name:<22} {without.get(name, 0.0):9.2f} {within.get(name, 0.0):9.2f}")


if __name__ == "__main__":
    main()
