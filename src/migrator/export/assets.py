"""Downloading the images pages use: once per URL, deduplicated by content hash.

``download_assets`` fetches every image URL with ``fetch.Fetcher`` (robots.txt,
per-host politeness, retries, size cap, the configured User-Agent) under the crawl's
scope rule: the site's own origins (host and port) plus ``export.asset_hosts`` (CDNs),
redirects included; and before any request it resolves the host and refuses loopback,
link-local, private and other non-public addresses unless the site itself resolves to
that address (image URLs in content are written by anyone: no metadata service or
internal host is ever fetched into ``static/media``). It names each
distinct content ``<stem>-<hash12>.<ext>`` with a name made only of safe characters
(no path from the legacy site can leave the output folder), records original URL →
content hash → file name in the ``assets`` table, and skips URLs whose file the last
export already wrote. It never decides which pages an image belongs to.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import ipaddress
import re
import socket
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
from migrator.scope import Scope, origin_of

__all__ = ["AssetResult", "asset_refusal", "download_assets", "safe_asset_name"]

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
    site_urls: Iterable[str] = (),
) -> AssetResult:
    """Fetch each image once, save it under a safe name, and record it in ``assets``.

    Args:
        urls: absolute image URLs (duplicates are fine).
        site_urls: URLs of the site's pages (their origins are in scope; with
            ``site.start`` when empty).
        store: the migration database (the ``assets`` table).
        config: the fetch politeness settings and User-Agent.
        out: the export's output folder.
        folder: where assets go inside it (``static/media``).
        url_prefix: their path on the new site (``/media``).

    Returns:
        The mapping and counts; failures are reported, never raised.
    """
    known = store.assets()
    result = AssetResult()
    missing = _reuse(list(dict.fromkeys(urls)), known, result, out, folder, url_prefix)
    if not missing:
        return result
    origins = {f"{p.scheme}://{p.netloc}/" for u in site_urls if (p := urlsplit(u)).netloc}
    if config.site.start:
        origins.add(config.site.start)
    downloaded, failed = asyncio.run(_fetch_all(missing, config, sorted(origins)))
    result.failed.update(failed)
    by_hash = {a.content_hash: a.file_name for a in known.values()}
    with store.transaction():
        _save(downloaded, by_hash, result, store, out, folder, url_prefix)
    log.info("assets_downloaded", fetched=result.fetched, reused=result.reused, failed=len(failed))
    return result


def _reuse(
    wanted: list[str],
    known: dict[str, StoredAsset],
    result: AssetResult,
    out: OutputDir,
    folder: str,
    url_prefix: str,
) -> list[str]:
    """Keep the assets the last export already wrote; the URLs still to fetch."""
    missing: list[str] = []
    for url in wanted:
        asset = known.get(url)
        if asset is not None and out.has(f"{folder}/{asset.file_name}", asset.content_hash):
            out.keep(f"{folder}/{asset.file_name}", asset.content_hash)
            result.paths[url] = f"{url_prefix}/{asset.file_name}"
            result.reused += 1
        else:
            missing.append(url)
    return missing


def _save(
    downloaded: list[_Downloaded],
    by_hash: dict[str, str],
    result: AssetResult,
    store: Store,
    out: OutputDir,
    folder: str,
    url_prefix: str,
) -> None:
    """Write each downloaded content once (one file per hash) and record its URL."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
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


async def _addresses(host: str) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``host`` resolves to (empty when it does not resolve)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return set()
    found: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        mapped = getattr(address, "ipv4_mapped", None)
        found.add(mapped if mapped is not None else address)
    return found


async def asset_refusal(url: str, scope: Scope, site_addresses: set[object]) -> str | None:
    """Why ``url`` must not be fetched as an asset, or ``None`` when it may be.

    Args:
        url: the image URL.
        scope: the site's origins plus the configured asset hosts.
        site_addresses: the addresses the site's own hosts resolve to.

    Returns:
        ``out_of_scope`` (another origin), ``unresolvable``, ``blocked_address``
        (loopback, link-local, private, reserved … and not where the site is), or ``None``.
    """
    if not scope.allows_host(url):
        return "out_of_scope"
    origin = origin_of(url)
    addresses = await _addresses(origin[0]) if origin else set()
    if not addresses:
        return "unresolvable"
    if any(not a.is_global and a not in site_addresses for a in addresses):
        return "blocked_address"
    return None


async def _fetch_all(
    urls: list[str], config: Config, site: list[str]
) -> tuple[list[_Downloaded], dict[str, str]]:
    sc = config.scope
    hosts = (*sc.allowed_hosts, *config.export.asset_hosts)
    scope = Scope.from_config(
        config.replace(scope=dataclasses.replace(sc, allowed_hosts=hosts)), site
    )
    site_addresses: set[object] = set()
    for host in {o[0] for u in site if (o := origin_of(u))}:
        site_addresses.update(await _addresses(host))
    done: list[_Downloaded] = []
    failed: dict[str, str] = {}
    gate = asyncio.Semaphore(max(1, config.fetch.concurrency) * 4)

    async def one(fetcher: Fetcher, url: str) -> None:
        async with gate:
            refusal = await asset_refusal(url, scope, site_addresses)
            if refusal is not None:
                failed[url] = refusal
                log.warning("asset_refused", url=url, reason=refusal)
                return
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
