"""The export stage: re-publishing outputs built from the migration database.

``export`` is the one entry point the command line calls. It reads the database (never
the network, unless ``download_assets`` is set), plans the new site (``links``; bodies'
links are pointed at it by ``rewrite``), and writes one format into an output folder
through ``files.OutputDir``, which rewrites only files whose bytes changed and removes
(or lists) files of pages that are gone:

- ``hugo`` / ``jekyll``: a static site (``hugo.py``, ``jekyll.py``), with internal
  links rewritten, a ``migrator-report.json`` listing links to pages that were not
  migrated, and optionally the images downloaded (``assets.py``);
- ``jsonl``: ``pages.jsonl``, one record per page, streamed (``jsonl.py``);
- ``redirects``: every old URL mapped to its new path (``redirects.py``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import structlog

from migrator.config import Config
from migrator.export.files import OutputDir
from migrator.export.links import SitePlan, build_plan
from migrator.export.redirects import (
    FILE_NAMES,
    RedirectFormat,
    collect_redirects,
    render_redirects,
)
from migrator.export.rewrite import BrokenLink, markdown_targets
from migrator.export.site import SiteContext
from migrator.load import Store

__all__ = ["FORMATS", "REPORT_NAME", "ExportFormat", "ExportReport", "RedirectFormat", "export"]

log = structlog.get_logger()

ExportFormat = Literal["hugo", "jekyll", "jsonl", "redirects"]
FORMATS: tuple[str, ...] = ("hugo", "jekyll", "jsonl", "redirects")
REPORT_NAME = "migrator-report.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportReport:
    """What one export did.

    Attributes:
        format: the format written (``redirects`` names its flavour: ``redirects-nginx``).
        out: the output folder.
        pages: how many pages (records) were exported.
        written: files written because they were new or changed.
        unchanged: files that already held the same bytes.
        removed: files of pages that are gone (deleted, or only listed with
            ``kept_removed``).
        kept_removed: whether ``removed`` files were kept on disk.
        broken_links: internal links to pages that were not migrated.
        unmapped_urls: legacy URLs the crawl saw that lead to no new path.
        redirects: how many old URLs the redirects output maps.
        skipped_urls: old URLs left out of server redirect files (unsafe characters).
        assets_fetched: images downloaded in this export.
        assets_reused: images already in the output from the last export.
        assets_failed: image URL → reason, for images that could not be fetched.
    """

    format: str
    out: str
    pages: int
    written: tuple[str, ...] = ()
    unchanged: int = 0
    removed: tuple[str, ...] = ()
    kept_removed: bool = False
    broken_links: tuple[BrokenLink, ...] = ()
    unmapped_urls: tuple[str, ...] = ()
    redirects: int = 0
    skipped_urls: tuple[str, ...] = ()
    assets_fetched: int = 0
    assets_reused: int = 0
    assets_failed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready values."""
        return {
            "format": self.format,
            "out": self.out,
            "pages": self.pages,
            "written": list(self.written),
            "unchanged": self.unchanged,
            "removed": list(self.removed),
            "kept_removed": self.kept_removed,
            "broken_links": [{"page": b.page, "url": b.url} for b in self.broken_links],
            "unmapped_urls": list(self.unmapped_urls),
            "redirects": self.redirects,
            "skipped_urls": list(self.skipped_urls),
            "assets": {
                "fetched": self.assets_fetched,
                "reused": self.assets_reused,
                "failed": dict(self.assets_failed),
            },
        }


def export(
    store: Store,
    config: Config,
    *,
    fmt: ExportFormat,
    out: str | Path,
    redirect_format: RedirectFormat = "csv",
    download_assets: bool = False,
    keep_removed: bool = False,
) -> ExportReport:
    """Write one export format from the migration database into ``out``.

    Exporting again into the same folder writes only what changed since the last
    export and removes the files of pages that are gone (``keep_removed``: keep them
    and only list them).

    Args:
        store: the migration database.
        config: the migration's configuration (``[export]``, and ``[fetch]`` for assets).
        fmt: ``hugo``, ``jekyll``, ``jsonl`` or ``redirects``.
        out: the output folder (created if needed).
        redirect_format: for ``redirects``: ``csv``, ``nginx``, ``apache`` or ``netlify``.
        download_assets: for sites: fetch every image pages use and rewrite references.
        keep_removed: list files of removed pages instead of deleting them.

    Returns:
        What was written, removed and reported.

    Raises:
        ExportError: the output folder cannot be written.
        ValueError: an unknown format.
    """
    root = Path(out)
    if fmt == "jsonl":
        folder = OutputDir(root, kind="jsonl")
        count = folder.write_stream("pages.jsonl", _jsonl_producer(store))
        return _finish(folder, "jsonl", count, keep_removed=keep_removed)
    plan = build_plan(store, config.export)
    if fmt == "redirects":
        return _export_redirects(plan, root, redirect_format, keep_removed=keep_removed)
    if fmt not in {"hugo", "jekyll"}:
        raise ValueError(f"unknown export format {fmt!r}")
    return _export_site(
        store,
        config,
        plan,
        fmt=fmt,
        root=root,
        download_assets=download_assets,
        keep_removed=keep_removed,
    )


def _export_redirects(
    plan: SitePlan, root: Path, redirect_format: RedirectFormat, *, keep_removed: bool
) -> ExportReport:
    if redirect_format not in FILE_NAMES:
        raise ValueError(f"unknown redirects format {redirect_format!r}")
    folder = OutputDir(root, kind=f"redirects-{redirect_format}")
    redirects, skipped = collect_redirects(plan)
    folder.write(FILE_NAMES[redirect_format], render_redirects(redirects, redirect_format))
    return _finish(
        folder,
        f"redirects-{redirect_format}",
        len(plan.entries),
        keep_removed=keep_removed,
        redirects=len(redirects),
        skipped_urls=tuple(skipped),
        unmapped_urls=tuple(plan.unmapped),
    )


def _jsonl_producer(store: Store) -> Any:
    from migrator.export.jsonl import write_jsonl

    return lambda stream: write_jsonl(store, stream)


def _export_site(
    store: Store,
    config: Config,
    plan: SitePlan,
    *,
    fmt: Literal["hugo", "jekyll"],
    root: Path,
    download_assets: bool,
    keep_removed: bool,
) -> ExportReport:
    from migrator.export import hugo, jekyll

    module = hugo if fmt == "hugo" else jekyll
    folder = OutputDir(root, kind=fmt)
    ctx = SiteContext(plan=plan, site_name=config.site.name)
    fetched = reused = 0
    failed: dict[str, str] = {}
    if download_assets:
        from migrator.export.assets import download_assets as fetch_assets

        result = fetch_assets(
            _image_urls(plan),
            store=store,
            config=config,
            out=folder,
            folder=module.ASSET_FOLDER,
            url_prefix=module.ASSET_PREFIX,
            site_urls=[e.url for e in plan.entries],
        )
        ctx.assets = result.paths
        fetched, reused, failed = result.fetched, result.reused, result.failed
    if fmt == "hugo":
        languages = [e.record.get("language") for e in plan.entries if e.record.get("language")]
        hugo.write_hugo(ctx, folder, language=str(languages[0]) if languages else "en")
    else:
        jekyll.write_jekyll(ctx, folder)
    broken = tuple(dict.fromkeys(ctx.broken))
    report = _finish(
        folder,
        fmt,
        len(plan.entries),
        keep_removed=keep_removed,
        broken_links=broken,
        unmapped_urls=tuple(plan.unmapped),
        assets_fetched=fetched,
        assets_reused=reused,
        assets_failed=failed,
    )
    folder.write_raw(REPORT_NAME, json.dumps(report.as_dict(), indent=1, ensure_ascii=False))
    return report


def _image_urls(plan: SitePlan) -> list[str]:
    """Every image a page uses: its record's images, and image references in its body."""
    urls: list[str] = []
    for entry in plan.entries:
        urls.extend(str(i.get("src")) for i in entry.record.get("images") or [] if i.get("src"))
        featured = entry.record.get("featured_image")
        if isinstance(featured, dict) and featured.get("src"):
            urls.append(str(featured["src"]))
        body = str(entry.record.get("body_markdown") or "")
        for match in _IMAGE_REF.finditer(body):
            urls.extend(markdown_targets(match[0], entry.url))
    return [u for u in dict.fromkeys(urls) if u.startswith(("http://", "https://"))]


def _finish(
    folder: OutputDir, fmt: str, pages: int, *, keep_removed: bool, **extra: Any
) -> ExportReport:
    removed = folder.finish(keep_removed=keep_removed)
    report = ExportReport(
        format=fmt,
        out=str(folder.root),
        pages=pages,
        written=tuple(folder.written),
        unchanged=folder.unchanged,
        removed=tuple(removed),
        kept_removed=keep_removed,
        **extra,
    )
    log.info(
        "export_finished",
        format=fmt,
        pages=pages,
        written=len(report.written),
        unchanged=report.unchanged,
        removed=len(removed),
        broken_links=len(report.broken_links),
    )
    return report


_IMAGE_REF = re.compile(r"!\[(?:[^\]\\]|\\.)*\]\([^)]*\)|<img\b[^>]*>", re.IGNORECASE)
