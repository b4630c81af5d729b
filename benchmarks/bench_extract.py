"""Micro-benchmark of the extract stage: ``extract_page`` (what ``migrator parse`` runs).

Prints ms/page for: the demo blog's posts and its listings (src/migrator/demo_site), a
generated site (``--site``, e.g. a 2,000-post ``benchmarks/sitegen.py`` output), the shared
real-world corpus and the article-extraction benchmark, in ``auto`` mode and with
``use_trafilatura="never"``; how often trafilatura ran in ``auto`` mode; and the body
token F1 against the benchmark's ground truth. Bodies are read into memory first: only
extraction is timed. The shared corpus is read from ``<repo>/../shared`` when present.

    .venv/bin/python benchmarks/bench_extract.py [--site /tmp/site2k] [--limit 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from migrator.config import ExtractConfig
from migrator.errors import ExtractError
from migrator.extract import extract_page
from migrator.models import Page, RawPage

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"
TOKEN = re.compile(r"\w+")


def _raw(url: str, body: bytes) -> RawPage:
    return RawPage(
        url=url,
        requested_url=url,
        status=200,
        headers=(("content-type", "text/html; charset=utf-8"),),
        body=body,
        fetched_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


def _site_pages(root: Path, limit: int) -> dict[str, list[RawPage]]:
    """A generated site's pages, split by the manifest-free rule: /blog/<cat>/<slug>/."""
    groups: dict[str, list[RawPage]] = {"posts": [], "listings": []}
    for path in sorted(root.rglob("index.html")):
        rel = path.relative_to(root).as_posix().removesuffix("index.html")
        kind = "posts" if re.fullmatch(r"blog/[^/]+/[^/]+/", rel) else "listings"
        if kind == "posts" and len(groups["posts"]) >= limit:
            continue
        groups[kind].append(_raw("http://127.0.0.1:8000/" + rel, path.read_bytes()))
    return groups


def _time(pages: list[RawPage], rules: ExtractConfig, repeat: int) -> tuple[float, list[Page]]:
    """Best-of-``repeat`` ms/page, and the pages of the last pass."""
    best = float("inf")
    result: list[Page] = []
    for _ in range(repeat):
        result = []
        start = time.perf_counter()
        for raw in pages:
            with contextlib.suppress(ExtractError):
                result.append(extract_page(raw, rules))
        best = min(best, time.perf_counter() - start)
    return 1000 * best / max(1, len(pages)), result


def _f1(got: str, want: str) -> float:
    a, b = Counter(TOKEN.findall(got.lower())), Counter(TOKEN.findall(want.lower()))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def _report(name: str, pages: list[RawPage], repeat: int) -> list[Page]:
    if not pages:
        return []
    auto, extracted = _time(pages, ExtractConfig(), repeat)
    never, _ = _time(pages, replace(ExtractConfig(), use_trafilatura="never"), repeat)
    trafilatura = sum(1 for p in extracted if dict(p.sources).get("body") == "trafilatura")
    print(
        f"{name:<28} {len(pages):>5} pages  auto {auto:7.2f} ms/page  never {never:7.2f} ms/page"
        f"  trafilatura {trafilatura}/{len(extracted)}"
    )
    return extracted


def main() -> None:
    """Run the benchmark and print one line per page set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a generated site (benchmarks/sitegen.py)")
    parser.add_argument("--limit", type=int, default=500, help="posts taken from --site")
    parser.add_argument("--repeat", type=int, default=3, help="best of N passes")
    args = parser.parse_args()

    demo = _site_pages(ROOT / "src" / "migrator" / "demo_site", 10_000)
    _report("demo posts", demo["posts"], args.repeat)
    _report("demo listings/pages", demo["listings"], args.repeat)
    if args.site:
        site = _site_pages(args.site, args.limit)
        _report(f"{args.site.name} posts", site["posts"], args.repeat)
    if not SHARED.is_dir():
        print("shared corpus absent: skipped")
        return
    realworld = [
        _raw(f"https://example.com/{p.stem}/", p.read_bytes())
        for p in sorted((SHARED / "realworld").glob("*.html"))
    ]
    _report("shared realworld", realworld, args.repeat)
    bench = SHARED / "article-extraction-benchmark"
    truth = json.loads((bench / "ground-truth.json").read_text("utf-8"))
    keys = sorted(truth)
    pages = [_raw(truth[k]["url"], (bench / "html" / f"{k}.html").read_bytes()) for k in keys]
    extracted = _report("article-extraction-benchmark", pages, args.repeat)
    for mode in ("auto", "never"):
        rules = replace(ExtractConfig(), use_trafilatura=mode)
        scores = [
            _f1(extract_page(raw, rules).body_text, truth[k]["articleBody"])
            for k, raw in zip(keys, pages, strict=True)
        ]
        print(f"benchmark body token F1 ({mode}): {sum(scores) / len(scores):.4f}")
    del extracted


if __name__ == "__main__":
    main()
