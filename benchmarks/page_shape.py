"""Page size and element count distributions of folders of HTML pages.

Compares the generated benchmark sites with real blogs (``../shared/corpus``): for each
folder, the 10th/25th/50th/75th/90th percentiles of the page size (KB), of the number of
elements (selectolax's ``*``) and of the bytes inside ``<script>``/``<style>`` (KB).

    .venv/bin/python benchmarks/page_shape.py ../shared/corpus/sites/*/www \\
        ../shared/corpus/realworld benchmarks/out/site-real-300
"""

from __future__ import annotations

import argparse
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

PERCENTILES = (10, 25, 50, 75, 90)


def _quantiles(values: list[float]) -> list[float]:
    ordered = sorted(values)
    return [ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] for p in PERCENTILES]


def shape(folder: Path) -> tuple[int, list[float], list[float], list[float]]:
    """(pages, size KB, elements, script+style KB) percentiles of the HTML pages in ``folder``."""
    sizes: list[float] = []
    elements: list[float] = []
    scripts: list[float] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in {".html", ".htm", ""}:
            continue
        body = path.read_bytes()
        if b"<html" not in body[:3000].lower() and b"<!doctype" not in body[:300].lower():
            continue
        tree = LexborHTMLParser(body.decode("utf-8", "replace"))
        sizes.append(len(body) / 1024)
        elements.append(len(tree.css("*")))
        scripts.append(sum(len(n.html or "") for n in tree.css("script, style")) / 1024)
    if not sizes:
        return 0, [], [], []
    return len(sizes), _quantiles(sizes), _quantiles(elements), _quantiles(scripts)


def main() -> None:
    """Print one Markdown table row per folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args()
    head = "/".join(f"p{p}" for p in PERCENTILES)
    print(f"| pages of | n | KB ({head}) | elements ({head}) | script+style KB ({head}) |")
    print("| --- | ---: | --- | --- | --- |")
    for folder in args.folders:
        count, size, elements, scripts = shape(folder)
        print(
            f"| {folder} | {count} | {' / '.join(f'{v:.1f}' for v in size)} "
            f"| {' / '.join(f'{v:.0f}' for v in elements)} "
            f"| {' / '.join(f'{v:.1f}' for v in scripts)} |"
        )


if __name__ == "__main__":
    main()
