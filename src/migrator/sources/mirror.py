"""Index a mirror folder (``wget --mirror`` or HTTrack) as an
:class:`~migrator.sources.replay.Archive`.

Each file's original URL is reconstructed: from HTTrack's cache log
(``hts-cache/new.txt``) or its ``<!-- Mirrored from … -->`` comment when there is one,
else from the path below the site's folder (``x/index.html`` is ``/x/``; a query kept in
the name as ``?``, ``%3F`` or ``@`` comes back; the ``.html`` that ``--adjust-extension``
added after a query is dropped). HTTrack's "Page has moved" stubs become redirects. When a
page is read back, links that ``--convert-links`` (or HTTrack) rewrote to relative file
paths are mapped back to the site's URLs and HTTrack's own additions are removed, so
extraction sees the page as the site served it. A file name that cannot tell its URL
apart (wget's ``about.html`` for a redirected ``/about``) keeps the name's URL. This
module never fetches and never writes outside memory.
"""

from __future__ import annotations

import html
import mimetypes
import posixpath
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import structlog

from migrator.errors import ConfigError
from migrator.sources.replay import Answer, Archive, ArchiveReadError, Capture
from migrator.urls import canonical_url, is_http_url

__all__ = ["MirrorArchive"]

log = structlog.get_logger()

_HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
# HTTrack's files beside the site's folders, never pages of the site.
_HTTRACK_FILES = frozenset({"backblue.gif", "fade.gif", "hts-log.txt", "cookies.txt"})
_MIRRORED_FROM = re.compile(
    rb"<!-- Mirrored from (\S+) by HTTrack Website Copier/[^,]*, ([^>]*?) -->\r?\n?"
)
_ADDED_BY_HTTRACK = re.compile(rb"<!-- Added by HTTrack -->.*?<!-- /Added by HTTrack -->", re.S)
_MOVED_TITLE = re.compile(rb"<title>\s*Page has moved\s*</title>", re.I)
_MOVED_LINK = re.compile(rb"""<a\s+href\s*=\s*["']([^"']+)["']""", re.I)
_LINK_ATTR = re.compile(rb"""(\s(?:href|src|action)\s*=\s*)("[^"]*"|'[^']*')""", re.I)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_HEAD_BYTES = 4096  # where HTTrack's comment and stubs sit


class MirrorArchive(Archive):
    """The files of a mirror folder, by original URL.

    Attributes:
        site_dir: the folder that holds the site's root (``root/HOST:PORT`` …).
        stubs: HTTrack "Page has moved" stubs read as redirects.
    """

    name = "mirror"

    def __init__(self, root: Path, base_url: str) -> None:
        """Index every file below ``root`` for the site at ``base_url``.

        Raises:
            ConfigError: ``base_url`` is not an http(s) URL, or the folder has no page.
        """
        super().__init__()
        if not is_http_url(base_url):
            raise ConfigError(f"--base-url: not an http(s) URL: {base_url}")
        parts = urlsplit(canonical_url(base_url))
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.root = root
        self.site_dir = _site_dir(root, parts.hostname or "", parts.port)
        self.stubs = 0
        self._urls: dict[str, str] = {}  # file path below site_dir -> its URL
        known = _httrack_log(root, self.site_dir)
        files = [p for p in self.site_dir.rglob("*") if p.is_file() and not _skipped(p, root)]
        for path in files:
            rel = path.relative_to(self.site_dir).as_posix()
            self._urls[rel] = known.get(rel) or self._url_of(rel)
        for path in files:
            self._add_file(path)
        if not any(200 <= c.status < 300 for c in self._index.values()):
            raise ConfigError(f"--from-dir: no files of {self.base} below {root}")
        log.info("mirror_indexed", folder=str(self.site_dir), captures=len(self), stubs=self.stubs)

    def _url_of(self, rel: str) -> str:
        """The URL a file at ``rel`` (below the site folder) was saved from."""
        query = ""
        name = rel
        for mark in ("?", "%3F", "%3f"):
            if mark in name:
                name, query = name.split(mark, 1)
                break
        else:
            head, _, tail = name.rpartition("/")
            if "@" in tail and "=" in tail.split("@", 1)[1]:  # wget --restrict-file-names
                stem, query = tail.split("@", 1)
                name = f"{head}/{stem}" if head else stem
        if query and query.lower().endswith(_HTML_SUFFIXES[:2]):
            query = query[: query.rfind(".")]  # --adjust-extension's suffix
        url = f"{self.base}/{quote(name, safe='/:@!$&()*+,;=~')}"
        return canonical_url(f"{url}?{query}" if query else url)

    def _add_file(self, path: Path) -> None:
        rel = path.relative_to(self.site_dir).as_posix()
        url = self._urls[rel]
        content_type = _content_type(rel)
        stat = path.stat()
        date = datetime.fromtimestamp(stat.st_mtime, UTC)
        status, location = 200, None
        if content_type == "text/html":
            with path.open("rb") as file:
                head = file.read(_HEAD_BYTES)
            mirrored = _MIRRORED_FROM.search(head)
            if mirrored is not None:
                url = self._urls[rel] = _url_from_comment(mirrored.group(1), self.base) or url
                date = _http_date(mirrored.group(2)) or date
            if _MOVED_TITLE.search(head) and stat.st_size < _HEAD_BYTES:
                moved = _MOVED_LINK.search(head)
                if moved is not None:
                    status, location = 301, self._map_link(rel, moved.group(1).decode())
                    self.stubs += 1
        self.add(
            Capture(
                url=url,
                status=status,
                date=date,
                origin=f"dir:{path.relative_to(self.root).as_posix()}",
                content_type=content_type,
                location=location,
                ref=(str(path), 0),
            )
        )

    def _map_link(self, rel: str, value: str) -> str:
        """The site URL a link written in the file at ``rel`` points to."""
        value = html.unescape(value).strip()
        if not value or value.startswith(("#", "//")) or _SCHEME.match(value):
            return value
        target, _, fragment = value.partition("#")
        if target.startswith("/"):  # root-relative: already a site path
            return value
        url = None
        # HTTrack writes `file.html?query` (the original query after the file's name).
        for spelling in (target, target.split("?", 1)[0]):
            path = posixpath.normpath(posixpath.join(posixpath.dirname(rel), unquote(spelling)))
            url = self._urls.get(path)
            if url is not None:
                break
        if url is None:
            return value  # not in the mirror: leave it relative to the page's own URL
        return f"{url}#{fragment}" if fragment else url

    def _rewrite(self, rel: str, body: bytes) -> bytes:
        body = _MIRRORED_FROM.sub(b"", body, count=1)
        body = _ADDED_BY_HTTRACK.sub(b"", body)

        def back(match: re.Match[bytes]) -> bytes:
            quoted = match.group(2)
            value = quoted[1:-1].decode("utf-8", "surrogateescape")
            mapped = self._map_link(rel, value)
            if mapped == html.unescape(value).strip():
                return match.group(0)
            text = html.escape(mapped, quote=True).encode("utf-8", "surrogateescape")
            return match.group(1) + quoted[:1] + text + quoted[:1]

        return _LINK_ATTR.sub(back, body)

    async def read(self, capture: Capture) -> Answer:
        path = Path(capture.ref[0])
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise ArchiveReadError(f"{path}: {exc.strerror or exc}") from exc
        rel = path.relative_to(self.site_dir).as_posix()
        headers: list[tuple[str, str]] = []
        if capture.content_type:
            headers.append(("content-type", capture.content_type))
        if capture.content_type == "text/html":
            body = self._rewrite(rel, body)
        return Answer(headers=tuple(headers), body=body)


def _site_dir(root: Path, host: str, port: int | None) -> Path:
    """The folder below ``root`` that holds the site's root, as wget or HTTrack name it."""
    names = [host] if port is None else [f"{host}:{port}", f"{host}_{port}", f"{host}+{port}"]
    for name in names:
        if (root / name).is_dir():
            return root / name
    return root  # wget -nH, or a folder that is the site itself


def _skipped(path: Path, root: Path) -> bool:
    rel = path.relative_to(root).parts
    return rel[0] == "hts-cache" or (len(rel) == 1 and rel[0] in _HTTRACK_FILES)


def _httrack_log(root: Path, site_dir: Path) -> dict[str, str]:
    """File (below ``site_dir``) → original URL, from HTTrack's ``hts-cache/new.txt``."""
    log_file = root / "hts-cache" / "new.txt"
    if not log_file.is_file():
        return {}
    found: dict[str, str] = {}
    # Local paths are written as HTTrack was given its -O folder: match the site folder.
    marker = "/" + site_dir.name + "/"
    for line in log_file.read_text("utf-8", "replace").splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) < 9 or not fields[3].isdigit() or not 200 <= int(fields[3]) < 300:
            continue
        url, local = fields[7], "/" + fields[8]
        if marker in local and is_http_url(url):
            found[local.split(marker, 1)[1]] = canonical_url(url)
    return found


def _url_from_comment(value: bytes, base: str) -> str | None:
    text = value.decode("utf-8", "replace")
    url = text if _SCHEME.match(text) else f"{urlsplit(base).scheme}://{text}"
    return canonical_url(url) if is_http_url(url) else None


def _http_date(value: bytes) -> datetime | None:
    try:
        return parsedate_to_datetime(value.decode("ascii", "replace")).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def _content_type(rel: str) -> str | None:
    name = rel.split("?", 1)[0].lower()
    if name.endswith(_HTML_SUFFIXES) or rel.lower().endswith(_HTML_SUFFIXES):
        return "text/html"
    guessed, _ = mimetypes.guess_type(name)
    return guessed
