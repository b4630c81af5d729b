"""Server redirect files: every old URL seen mapped to its new path.

``collect_redirects`` lists, from the plan, each legacy URL (pages' own, canonical and
requested URLs, aliases and redirects the crawl observed, breadcrumb and listing URLs)
with its new path, skipping identities; one old path (path plus query, as a server
sees it) maps to one target. ``render_redirects`` writes it as CSV, an nginx ``map``
(to include in the ``http`` block), Apache ``mod_rewrite`` rules or a Netlify
``_redirects`` file. Query-string URLs are kept here: only servers can redirect them.
A redirect is a 301 unless the legacy site answered that URL with another 3xx the crawl
stored (a 302 stays temporary): the CSV, Apache and Netlify write each status; nginx's
``return`` takes one literal code, so each status gets its own ``map``.

Old paths are untrusted (anyone could link to the legacy site with any URL), so a
path is written only when every format can hold it literally: the canonical spelling,
printable ASCII from a small allow-list (no quote, backslash, space, ``{``, ``}``,
``$``, ``;``, ``#``), and no percent-escape that decodes to a control character or to
one of those (Apache compares the *decoded* path). Anything else is skipped and
reported, never escaped into a config language. A redirect never shadows a path the
new site serves (its pages, sections and ``/``), and new paths are percent-encoded.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from migrator.export.links import SitePlan, legacy_path
from migrator.urls import canonical_url

__all__ = [
    "FILE_NAMES",
    "Redirect",
    "RedirectFormat",
    "collect_redirects",
    "is_safe_redirect_path",
    "render_redirects",
]

RedirectFormat = Literal["csv", "nginx", "apache", "netlify"]
FILE_NAMES: dict[str, str] = {
    "csv": "redirects.csv",
    "nginx": "redirects.nginx.conf",
    "apache": "redirects.htaccess",
    "netlify": "_redirects",
}
# What an old path may hold, raw and decoded, to be written into a server config as a
# literal: nginx reads "$" as a variable and "\\" / quotes as escapes, Apache decodes
# %-escapes before comparing (%0A was a new line in .htaccess), Netlify splits on
# whitespace and "#" starts a comment. Anything outside this set is skipped (reported).
_SAFE_RAW = re.compile(r"/[A-Za-z0-9\-._~!&'()*+,=:@/%]*(?:\?[A-Za-z0-9\-._~!()*+,=:@/%&?]*)?")
_SAFE_DECODED = re.compile(r"[^\x00-\x20\x7f\"'\\{}$;#<>`%|^\[\]]*")
# Longest old path written (a URL over this is junk, and nginx needs a bucket per key).
MAX_REDIRECT_PATH = 2048


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect:
    """One old URL and where it now lives."""

    old_url: str
    old_path: str
    new_path: str
    kind: str  # page, section, home
    status: int = 301  # the legacy site's own 3xx for this URL, where stored


def collect_redirects(plan: SitePlan) -> tuple[list[Redirect], list[str]]:
    """Every legacy URL of the plan with its new path.

    Old paths come from the canonical URLs; a path the new site serves itself (a page,
    a section, ``/``, or either of them with or without the trailing slash) is never
    redirected, so a legacy alias cannot hijack a live page.

    Returns:
        The redirects, sorted by old path, and the legacy URLs skipped because their
        path has characters a server config cannot hold safely.
    """
    kinds = {e.new_path: "page" for e in plan.entries}
    kinds.update({s.path: "section" for s in plan.sections})
    served = {"/", *kinds}
    served.update({p.rstrip("/") for p in served if p != "/"})
    found: dict[str, Redirect] = {}
    skipped: list[str] = []
    for old_url, new_path in plan.targets.items():
        path = legacy_path(canonical_url(old_url))
        if path == new_path or path in found or path in served:
            continue
        if not is_safe_redirect_path(path):
            skipped.append(old_url)
            continue
        found[path] = Redirect(
            old_url=old_url,
            old_path=path,
            new_path=new_path,
            kind=kinds.get(new_path, "home" if new_path == "/" else "page"),
            status=plan.statuses.get(canonical_url(old_url), 301),
        )
    return sorted(found.values(), key=lambda r: r.old_path), sorted(skipped)


def is_safe_redirect_path(path: str) -> bool:
    """True when an old path (path and query) can be written literally in every format."""
    if len(path) > MAX_REDIRECT_PATH or not _SAFE_RAW.fullmatch(path):
        return False
    # The query is compared raw by every server (nginx $request_uri, Apache
    # %{QUERY_STRING}, Netlify), so its escapes stay escapes; the path is decoded by Apache.
    head = path.partition("?")[0]
    try:
        decoded = unquote(head, errors="strict")
    except UnicodeDecodeError:
        return False
    return bool(_SAFE_DECODED.fullmatch(decoded))


def _encoded(new_path: str) -> str:
    # New paths are slugs (any script): percent-encode them so configs hold only ASCII.
    return quote(new_path, safe="/-._~")


def render_redirects(redirects: list[Redirect], fmt: RedirectFormat) -> str:
    """Render redirects in one server format, each with its status (301 by default)."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["old_url", "old_path", "new_path", "status", "kind"])
        for r in redirects:
            writer.writerow([r.old_url, r.old_path, r.new_path, r.status, r.kind])
        return buffer.getvalue()
    if fmt == "nginx":
        return _nginx(redirects)
    if fmt == "apache":
        return _apache(redirects)
    return _netlify(redirects)


def _nginx(redirects: list[Redirect]) -> str:
    statuses = sorted({r.status for r in redirects} | {301})
    lines = [
        "# migrator redirects: include this file inside the http { } block, then add to",
        "# the server { } block:",
        *(
            f"#     if (${_nginx_variable(s)}) {{ return {s} ${_nginx_variable(s)}; }}"
            for s in statuses
        ),
        "# $request_uri is the path and query exactly as the client sent them.",
        "# The hash sizes fit the longest old path (nginx refuses a key over the bucket).",
        f"map_hash_bucket_size {_nginx_bucket_size(redirects)};",
        f"map_hash_max_size {max(2048, 4 * len(redirects))};",
    ]
    for status in statuses:
        lines += [f"map $request_uri ${_nginx_variable(status)} {{", '    default "";']
        lines.extend(
            f'    "{r.old_path}" "{_encoded(r.new_path)}";' for r in redirects if r.status == status
        )
        lines.append("}")
    return "\n".join(lines) + "\n"


def _nginx_variable(status: int) -> str:
    # 301 keeps the name older exports told users to write in their server block.
    return "migrator_redirect" if status == 301 else f"migrator_redirect_{status}"


def _nginx_bucket_size(redirects: list[Redirect]) -> int:
    # ngx_hash: an element is a pointer plus the key and 2 bytes, aligned to a pointer;
    # a bucket also ends with a pointer. nginx rounds the bucket up to a cache line.
    longest = max((len(r.old_path.encode()) for r in redirects), default=0)
    needed = 8 + (longest + 2 + 7) // 8 * 8 + 8
    return max(256, (needed + 63) // 64 * 64)


def _apache(redirects: list[Redirect]) -> str:
    lines = [
        "# migrator redirects (mod_rewrite): .htaccess or <VirtualHost> context.",
        "RewriteEngine On",
    ]
    for r in _query_first(redirects):
        parts = urlsplit(r.old_path)
        # REQUEST_URI is decoded and has no query; "=" compares literally (no regex).
        # is_safe_redirect_path vouched that the decoded path holds no quote, space,
        # control character or "%"; QUERY_STRING is compared raw.
        lines.append(f'RewriteCond %{{REQUEST_URI}} "={unquote(parts.path)}"')
        if parts.query:
            lines.append(f'RewriteCond %{{QUERY_STRING}} "={parts.query}"')
        # The trailing "?" drops the old query string from the target. The new path is
        # a slug (word characters, "-", "/"): written as is, Apache escapes it itself
        # ("%8x" would read as a back-reference in a substitution).
        lines.append(f'RewriteRule ^ "{r.new_path}?" [R={r.status},L]')
    return "\n".join(lines) + "\n"


def _netlify(redirects: list[Redirect]) -> str:
    lines = ["# migrator redirects (Netlify _redirects)"]
    for r in _query_first(redirects):
        parts = urlsplit(r.old_path)
        if parts.query:
            # Netlify matches query parameters as name=value pairs after the path.
            params = " ".join(parts.query.split("&"))
            lines.append(f"{parts.path}  {params}  {_encoded(r.new_path)}  {r.status}!")
        else:
            lines.append(f"{r.old_path}  {_encoded(r.new_path)}  {r.status}!")
    return "\n".join(lines) + "\n"


def _query_first(redirects: list[Redirect]) -> list[Redirect]:
    # First match wins in Apache and Netlify: a rule for "/?p=12" must come before "/".
    return sorted(redirects, key=lambda r: ("?" not in r.old_path, r.old_path))
