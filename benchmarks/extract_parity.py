"""Dump every extracted record of a fixed page set, and compare two dumps field by field.

A speed-up of ``extract_page`` must not change a single record. ``dump`` extracts, with
the tree's current ``src/``: the hand-written fixture pages (each with its config), the
demo blog, the small legacy blogs of ``tests/legacy_sites.py``, a generated site
(``--site``, e.g. ``benchmarks/sitegen.py --realistic`` output) and, when ``../shared`` is
there, the four corpus blogs, the real-world pages and the article-extraction benchmark.
Whole sites are extracted twice: without a model and with the model ``learn_site`` learns
from up to 200 of their pages (spread over the folder, as a crawl samples). Each record is
one JSON line: every field of the ``Page``, the learned model's fingerprint alongside.
``compare`` prints each record that differs and the fields that do; exit status 1 if any.

    .venv/bin/python benchmarks/extract_parity.py dump /tmp/before.jsonl --site /tmp/site
    .venv/bin/python benchmarks/extract_parity.py compare /tmp/before.jsonl /tmp/after.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migrator.config import ExtractConfig, load_config
from migrator.errors import ExtractError
from migrator.extract import extract_page
from migrator.extract.site import learn_site
from migrator.models import RawPage, SiteModel

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures"
FETCHED = datetime(2030, 1, 1, tzinfo=UTC)
CORPUS_HOSTS = {
    "lafuite": "www.lafuiteautourdumonde.com",
    "mikeaustin": "mike-austin.com",
    "owtphil": "www.onewayticketphil.com",
    "romantik": "www.tkr.od.ua",
}


def _raw(url: str, body: bytes, content_type: str = "text/html") -> RawPage:
    return RawPage(
        url=url,
        requested_url=url,
        status=200,
        headers=(("content-type", content_type),),
        body=body,
        fetched_at=FETCHED,
    )


def _folder_pages(folder: Path, origin: str) -> list[RawPage]:
    """Every HTML file of a served folder at the URL a static server gives it."""
    pages = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in {".html", ".htm", ""}:
            continue
        body = path.read_bytes()
        head = body[:3000].lower()
        if b"<html" not in head and b"<!doctype" not in head:
            continue
        rel = path.relative_to(folder).as_posix()
        url = origin + "/" + rel.removesuffix("index.html")
        pages.append(_raw(url, body))
    return pages


def _model(pages: list[RawPage]) -> SiteModel | None:
    sample = pages[:: max(1, len(pages) // 200)][:200]
    texts = [(p.url, p.body.decode("utf-8", "replace")) for p in sample]
    return learn_site(texts, fetched_at=FETCHED)


def _sets(site: Path | None, legacy_root: Path) -> Iterator[tuple[str, list[RawPage], bool]]:
    """``(name, pages, learn a model too)`` for every page set that is present."""
    sys.path.insert(0, str(ROOT / "tests"))
    import legacy_sites  # the tests' builders, only for this tool

    demo = ROOT / "src" / "migrator" / "demo_site"
    yield "demo", _folder_pages(demo, "http://127.0.0.1:8000"), True
    for builder in ("movable_type", "wordpress_pl", "wordpress_ja", "club_cms"):
        built = getattr(legacy_sites, builder)(legacy_root / builder)
        yield builder, _folder_pages(built.root, "http://legacy.example"), True
    if site is not None:
        yield "site", _folder_pages(site, "http://127.0.0.1:8000"), True
    if SHARED.is_dir():
        for name, host in CORPUS_HOSTS.items():
            yield name, _folder_pages(SHARED / "sites" / name / "www", "http://" + host), True
        yield "realworld", _folder_pages(SHARED / "realworld", "http://realworld.example"), False
        bench = SHARED / "article-extraction-benchmark" / "html"
        yield "article-benchmark", _folder_pages(bench, "http://bench.example"), False


def _record(page: Any) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(page), default=str, ensure_ascii=False))


def dump(out: Path, site: Path | None) -> int:
    """Write one JSON line per extracted page (per model) into ``out``."""
    count = 0
    with out.open("w", encoding="utf-8") as fh, tempfile.TemporaryDirectory() as tmp:
        for case in sorted((FIXTURES / "pages").glob("*.expected.json")):
            expected = json.loads(case.read_text("utf-8"))
            rules = (
                load_config(FIXTURES / "config" / expected["config"]).extract
                if "config" in expected
                else ExtractConfig()
            )
            name = case.name.removesuffix(".expected.json")
            raw = _raw(expected["url"], (FIXTURES / "pages" / f"{name}.html").read_bytes())
            fh.write(json.dumps(_line("fixtures", raw, rules, None)) + "\n")
            count += 1
        rules = ExtractConfig()
        for name, pages, learn in _sets(site, Path(tmp)):
            models: list[SiteModel | None] = [None]
            if learn:
                models.append(_model(pages))
            for model in models:
                for raw in pages:
                    fh.write(json.dumps(_line(name, raw, rules, model), ensure_ascii=False) + "\n")
                    count += 1
            print(f"{name}: {len(pages)} pages", file=sys.stderr, flush=True)
    return count


def _line(name: str, raw: RawPage, rules: ExtractConfig, model: SiteModel | None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "set": name,
        "url": raw.url,
        "model": None if model is None else model.model_fingerprint,
    }
    try:
        line["record"] = _record(extract_page(raw, rules, model))
    except ExtractError as exc:
        line["error"] = str(exc)
    return line


def _key(line: dict[str, Any]) -> tuple[str, str, bool]:
    return line["set"], line["url"], line["model"] is not None


def compare(before: Path, after: Path) -> int:
    """Print the records that differ; the number of differing records."""
    old = {_key(line): line for line in map(json.loads, before.open(encoding="utf-8"))}
    new = {_key(line): line for line in map(json.loads, after.open(encoding="utf-8"))}
    differ = 0
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        differ += 1
        if a is None or b is None:
            print(key, "only in", "after" if a is None else "before")
            continue
        fields = sorted(
            f
            for f in (a.get("record") or {}).keys() | (b.get("record") or {}).keys()
            if (a.get("record") or {}).get(f) != (b.get("record") or {}).get(f)
        )
        other = [k for k in ("model", "error") if a.get(k) != b.get(k)]
        print(key, "differs in", other + fields)
    print(f"{len(old)} before, {len(new)} after, {differ} differ")
    return differ


def main() -> int:
    """Run ``dump`` or ``compare``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump")
    dumping.add_argument("out", type=Path)
    dumping.add_argument("--site", type=Path, default=None)
    comparing = commands.add_parser("compare")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        print(f"{dump(args.out, args.site)} records", file=sys.stderr)
        return 0
    return 1 if compare(args.before, args.after) else 0


if __name__ == "__main__":
    sys.exit(main())
