"""URL normalization: one canonical spelling per page, so a page reached by several
URLs is fetched and stored once.

Pure string work on absolute URLs — no network and no knowledge of the site beyond
what the caller passes in. ``canonical_url`` never raises and is idempotent.
"""

from __future__ import annotations

import contextlib
import functools
import re
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

__all__ = [
    "TRACKING_PARAMS",
    "absolute_url",
    "canonical_url",
    "host_of",
    "is_http_url",
    "url_origin",
]

# Query parameters that never select content: analytics tags and session ids.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "igshid",
        "ref",
        "ref_src",
        "phpsessid",
        "jsessionid",
        "sid",
        "sessionid",
        "aspsessionid",
        "cfid",
        "cftoken",
        "s_kwcid",
        "replytocom",
    }
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_INDEX_FILES = re.compile(r"/(?:index|default)\.(?:html?|php|aspx?|jsp)$", re.IGNORECASE)
_SAFE_PATH = "/:@!$&'()*+,;=-._~"
# "+" is not safe in a query: it means a space, so a literal plus must stay %2B.
_SAFE_QUERY = "/:@!$'()*,;-._~?"
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_UNSAFE_QUERY_CHARS = re.compile(r"[^\x21-\x7e]")


def is_http_url(url: str) -> bool:
    """True when ``url`` is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)


def host_of(url: str) -> str:
    """The lower-cased host name of ``url`` (empty when it has none)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased (the key for robots and politeness)."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def absolute_url(href: str | None, base: str) -> str | None:
    """Resolve ``href`` against ``base``; ``None`` for empty, fragment-only or non-HTTP.

    Args:
        href: an attribute value as found in the page (may be relative, padded, odd).
        base: the page's URL (or its ``<base href>``).

    Returns:
        The canonical absolute URL, or ``None`` when the link leads nowhere fetchable
        (``mailto:``, ``javascript:``, ``#top``, empty).
    """
    if href is None:
        return None
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        joined = urljoin(base, href)
    except ValueError:
        return None
    if not is_http_url(joined):
        return None
    return canonical_url(joined)


# Pure and called for every link of every page (~45 per post, mostly the same nav,
# category and related-post URLs): a small cache cut extraction CPU by ~10% (BENCHMARKS.md).
@functools.lru_cache(maxsize=16384)
def canonical_url(url: str) -> str:
    """Normalize an absolute URL to the one spelling migrator stores.

    Lower-cases scheme and host, drops default ports, fragments, tracking parameters
    and ``index.html``-style file names, resolves ``.``/``..`` segments, sorts the query
    and normalizes percent-escapes. The path's trailing slash is kept as the site
    wrote it, except that an empty path becomes ``/``. Never raises: a string that is
    not a parseable URL comes back stripped but otherwise unchanged.
    """
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError:
        return raw
    if scheme not in _DEFAULT_PORTS or not host:
        return raw
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and str(port) != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    try:
        path = _normalize_path(parts.path)
        query = _normalize_query(parts.query)
    except ValueError:  # pragma: no cover - defensive: keep the promise never to raise
        return raw
    return urlunsplit((scheme, netloc, path, query, ""))


def _normalize_escapes(text: str, safe: str) -> str:
    """RFC 3986 §6.2.2: decode escapes of unreserved characters, upper-case the others,
    and escape (as UTF-8) whatever else is not ``safe``. ``%2F`` stays ``%2F``."""
    out: list[str] = []
    last = 0
    for match in _ESCAPE.finditer(text):
        out.append(quote(text[last : match.start()], safe=safe, errors="surrogatepass"))
        char = chr(int(match.group(1), 16))
        out.append(char if char in _UNRESERVED else match.group(0).upper())
        last = match.end()
    out.append(quote(text[last:], safe=safe, errors="surrogatepass"))
    return "".join(out)


def _normalize_path(path: str) -> str:
    if not path:
        return "/"
    path = _normalize_escapes(path, _SAFE_PATH)
    segments: list[str] = []
    for segment in path.split("/")[1:] if path.startswith("/") else path.split("/"):
        if segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    trailing = path.endswith(("/", "/.", "/.."))
    normalized = "/" + "/".join(segments)
    if trailing and not normalized.endswith("/"):
        normalized += "/"
    return _INDEX_FILES.sub("/", normalized)


def _normalize_query(query: str) -> str:
    if not query:
        return ""
    # Escape literal non-ASCII as UTF-8 first, then split byte-exactly (latin-1 maps
    # every byte to one character), so a legacy latin-1 ``%E9`` survives unchanged.
    query = _UNSAFE_QUERY_CHARS.sub(
        lambda m: quote(m.group(0), safe="", errors="surrogatepass"), query
    )
    pairs = [
        (k, v)
        for k, v in parse_qsl(query, keep_blank_values=True, encoding="latin-1")
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")
    ]
    pairs.sort()
    return urlencode(pairs, safe=_SAFE_QUERY, quote_via=quote, encoding="latin-1")
