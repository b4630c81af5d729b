"""Downloading the images pages use: once per URL, deduplicated by content hash.

``download_assets`` fetches every image URL with ``fetch.Fetcher`` (robots.txt,
per-host politeness, retries, size cap, the configured User-Agent), names each
distinct content ``<stem>-<hash12>.<ext>`` with a name made only of safe characters
(no path from the legacy site can leave the output folder), records original URL →
content hash → file name in the ``assets`` table, and skips URLs whose file the last
export already wrote. It never decides which pages an image belongs to.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import structlog

from migrator.config import Config
from migrator.errors import FetchError
from migrator.export.files import OutputDir
from migrator.fetch import Fetcher
from migrator.load import Store, StoredAsset
from migrator.scope import Scope

__all__ = ["AssetResult", "download_assets", "safe_asset_name"]

log = structlog.get_logger()

IMAGE_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/svg+xml",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "image/bmp",
    "image/tiff",
)
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/svg+xml": "svg",
    "image/x-icon": "ico",
    "image/vnd.microsoft.icon": "ico",
    "image/bmp": "bmp",
    "image/tiff": "tif",
}
_KNOWN_SUFFIXES = frozenset(_EXTENSIONS.values()) | {"jpeg", "tiff"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_MAX_STEM = 60


def safe_asset_name(url: str, content_hash: str, content_type: str | None) -> str:
    """A file name for an asset: ASCII letters, digits, ``-``, ``_``, one dot.

    The stem comes from the URL's last path segment (decoded, accents folded, anything
    else replaced by ``-``), so ``..``, ``/``, ``\\``, absolute paths, NUL and control
    characters can never survive; the first 12 hex digits of the content hash keep
    names unique per content. The extension follows the content type, else a known
    image suffix of the URL, else ``bin``.

    Args:
        url: the asset's original URL.
        content_hash: SHA-256 hex digest of its bytes.
        content_type: the media type the server sent.
    """
    segment = unquote(urlsplit(url).path).replace("\\", "/").rsplit("/", 1)[-1]
    stem, _, suffix = segment.rpartition(".")
    if not stem:
        stem, suffix = segment, ""
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    clean = _UNSAFE.sub("-", folded).strip("-_")[:_MAX_STEM].strip("-_") or "asset"
    ext = _EXTENSIONS.get((content_type or "").split(";", 1)[0].strip().lower())
    if ext is None:
        lowered = suffix.lower()
        ext = lowered if lowered in _KNOWN_SUFFIXES else "bin"
    return f"{clean}-{content_hash[:12]}.{ext}"


@dataclass(slots=True, kw_only=True)
class AssetResult:
    """What ``download_assets`` did.

    Attributes:
        paths: original URL → the asset's path on the new site.
        fetched: how many URLs were downloaded in this export.
        reused: how many were already in the output from the last export.
        failed: URL → reason, for images that could not be fetched (references kept).
    """

    paths: dict[str, str] = field(default_factory=dict)
    fetched: int = 0
    reused: int = 0
    failed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Downloaded:
    url: str
    body: bytes
    content_type: str | None


def download_assets(
    urls: Iterable[str],
    *,
    store: Store,
    config: Config,
    out: OutputDir,
    folder: str,
    url_prefix: str,
) -> AssetResult:
    """Fetch each image once, save it under a safe name, and record it in ``assets``.

    Args:
        urls: absolute image URLs (duplicates are fine).
        store: the migration database (the ``assets`` table).
        config: the fetch politeness settings and User-Agent.
        out: the export's output folder.
        folder: where assets go inside it (``static/media``).
        url_prefix: their path on the new site (``/media``).

    Returns:
        The mapping and counts; failures are reported, never raised.
    """
    wanted = list(dict.fromkeys(urls))
    known = store.assets()
    result = AssetResult()
    missing: list[str] = []
    for url in wanted:
        asset = known.get(url)
        if asset is not None and out.has(f"{folder}/{asset.file_name}", asset.content_hash):
            out.keep(f"{folder}/{asset.file_name}", asset.content_hash)
            result.paths[url] = f"{url_prefix}/{asset.file_name}"
            result.reused += 1
        else:
            missing.append(url)
    if not missing:
        return result
    downloaded, failed = asyncio.run(_fetch_all(missing, config))
    result.failed.update(failed)
    by_hash = {a.content_hash: a.file_name for a in known.values()}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with store.transaction():
        for item in downloaded:
            digest = hashlib.sha256(item.body).hexdigest()
            name = by_hash.setdefault(digest, safe_asset_name(item.url, digest, item.content_type))
            relative = f"{folder}/{name}"
            if out.has(relative, digest) and relative not in out.written:
                out.keep(relative, digest)
            else:
                out.write(relative, item.body)
            store.save_asset(
                StoredAsset(
                    url=item.url,
                    content_hash=digest,
                    file_name=name,
                    content_type=item.content_type,
                    bytes=len(item.body),
                    fetched_at=now,
                )
            )
            result.paths[item.url] = f"{url_prefix}/{name}"
            result.fetched += 1
    log.info("assets_downloaded", fetched=result.fetched, reused=result.reused, failed=len(failed))
    return result


async def _fetch_all(urls: list[str], config: Config) -> tuple[list[_Downloaded], dict[str, str]]:
    scope = Scope.from_config(config, urls)
    done: list[_Downloaded] = []
    failed: dict[str, str] = {}
    gate = asyncio.Semaphore(max(1, config.fetch.concurrency) * 4)

    async def one(fetcher: Fetcher, url: str) -> None:
        async with gate:
            try:
                raw = await fetcher.fetch(url, accept=IMAGE_TYPES)
            except FetchError as exc:
                failed[url] = exc.reason
                log.info("asset_failed", url=url, reason=exc.reason)
                return
        if raw.status != 200 or not raw.body:
            failed[url] = f"http_{raw.status}"
            log.info("asset_failed", url=url, reason=failed[url])
            return
        done.append(_Downloaded(url=url, body=raw.body, content_type=raw.content_type))

    async with Fetcher(config, scope) as fetcher:
        await asyncio.gather(*(one(fetcher, u) for u in urls))
    order = {u: i for i, u in enumerate(urls)}
    done.sort(key=lambda d: order[d.url])
    return done, failed
