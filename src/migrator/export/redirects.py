"""Server redirect files: every old URL seen mapped to its new path.

``collect_redirects`` lists, from the plan, each legacy URL (pages' own, canonical and
requested URLs, aliases and redirects the crawl observed, breadcrumb and listing URLs)
with its new path, skipping identities; one old path (path plus query, as a server
sees it) maps to one target. ``render_redirects`` writes it as CSV, an nginx ``map``
(to include in the ``http`` block), Apache ``mod_rewrite`` rules or a Netlify
``_redirects`` file. Query-string URLs are kept here: only servers can redirect them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from migrator.export.links import SitePlan, legacy_path

__all__ = ["FILE_NAMES", "Redirect", "RedirectFormat", "collect_redirects", "render_redirects"]

RedirectFormat = Literal["csv", "nginx", "apache", "netlify"]
FILE_NAMES: dict[str, str] = {
    "csv": "redirects.csv",
    "nginx": "redirects.nginx.conf",
    "apache": "redirects.htaccess",
    "netlify": "_redirects",
}
# Characters that would need quoting games in server configs; such URLs are skipped
# (and reported) rather than risk a config that does not load.
_UNSAFE_FOR_SERVERS = re.compile(r"[\s\"'\\{};$#<>`]|[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect:
    """One old URL and where it now lives."""

    old_url: str
    old_path: str
    new_path: str
    kind: str  # page, section, home


def collect_redirects(plan: SitePlan) -> tuple[list[Redirect], list[str]]:
    """Every legacy URL of the plan with its new path.

    Returns:
        The redirects, sorted by old path, and the legacy URLs skipped because their
        path has characters a server config cannot hold safely.
    """
    kinds = {e.new_path: "page" for e in plan.entries}
    kinds.update({s.path: "section" for s in plan.sections})
    found: dict[str, Redirect] = {}
    skipped: list[str] = []
    for old_url, new_path in plan.targets.items():
        path = legacy_path(old_url)
        if path == new_path or path in found:
            continue
        if _UNSAFE_FOR_SERVERS.search(path):
            skipped.append(old_url)
            continue
        found[path] = Redirect(
            old_url=old_url,
            old_path=path,
            new_path=new_path,
            kind=kinds.get(new_path, "home" if new_path == "/" else "page"),
        )
    return sorted(found.values(), key=lambda r: r.old_path), sorted(skipped)


def render_redirects(redirects: list[Redirect], fmt: RedirectFormat) -> str:
    """Render redirects in one server format (every redirect is a permanent 301)."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["old_url", "old_path", "new_path", "status", "kind"])
        for r in redirects:
            writer.writerow([r.old_url, r.old_path, r.new_path, 301, r.kind])
        return buffer.getvalue()
    if fmt == "nginx":
        return _nginx(redirects)
    if fmt == "apache":
        return _apache(redirects)
    return _netlify(redirects)


def _nginx(redirects: list[Redirect]) -> str:
    lines = [
        "# migrator redirects: include this file inside the http { } block, then add to",
        "# the server { } block:",
        "#     if ($migrator_redirect) { return 301 $migrator_redirect; }",
        "# $request_uri is the path and query exactly as the client sent them.",
        "map_hash_bucket_size 256;",
        "map $request_uri $migrator_redirect {",
        '    default "";',
    ]
    lines.extend(f'    "{r.old_path}" "{r.new_path}";' for r in redirects)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _apache(redirects: list[Redirect]) -> str:
    lines = [
        "# migrator redirects (mod_rewrite): .htaccess or <VirtualHost> context.",
        "RewriteEngine On",
    ]
    for r in _query_first(redirects):
        parts = urlsplit(r.old_path)
        # REQUEST_URI is decoded and has no query; "=" compares literally (no regex).
        lines.append(f'RewriteCond %{{REQUEST_URI}} "={unquote(parts.path)}"')
        if parts.query:
            lines.append(f'RewriteCond %{{QUERY_STRING}} "={parts.query}"')
        # The trailing "?" drops the old query string from the target.
        lines.append(f'RewriteRule ^ "{r.new_path}?" [R=301,L]')
    return "\n".join(lines) + "\n"


def _netlify(redirects: list[Redirect]) -> str:
    lines = ["# migrator redirects (Netlify _redirects)"]
    for r in _query_first(redirects):
        parts = urlsplit(r.old_path)
        if parts.query:
            # Netlify matches query parameters as name=value pairs after the path.
            params = " ".join(parts.query.split("&"))
            lines.append(f"{parts.path}  {params}  {r.new_path}  301!")
        else:
            lines.append(f"{r.old_path}  {r.new_path}  301!")
    return "\n".join(lines) + "\n"


def _query_first(redirects: list[Redirect]) -> list[Redirect]:
    # First match wins in Apache and Netlify: a rule for "/?p=12" must come before "/".
    return sorted(redirects, key=lambda r: ("?" not in r.old_path, r.old_path))
