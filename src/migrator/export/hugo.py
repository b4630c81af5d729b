"""The Hugo flavour of the site export: config, layouts, sections, one Markdown file a page.

Posts go to ``content/<new path>.md`` (laid out by category) with YAML front matter;
``url`` pins each page to its planned path and ``aliases`` lists its old paths, for
which Hugo writes redirect pages. Raw HTML in bodies needs goldmark's ``unsafe``
renderer; ``{{<`` / ``{{%`` in bodies are escaped so Hugo never reads them as
shortcodes. This module only renders files through ``OutputDir``.
"""

from __future__ import annotations

import json

from migrator.export.files import OutputDir
from migrator.export.frontmatter import front_matter
from migrator.export.links import Entry
from migrator.export.site import SiteContext, alias_paths

__all__ = ["ASSET_FOLDER", "ASSET_PREFIX", "write_hugo"]

ASSET_FOLDER = "static/media"
ASSET_PREFIX = "/media"

_CONFIG = """\
baseURL = "/"
title = {title}
languageCode = {language}
# A migrated post is never "future" or "expired": build every page whatever its dates.
buildFuture = true
buildExpired = true

[markup.goldmark.renderer]
# Legacy bodies keep some raw HTML (tables, figures); Hugo drops it without this.
unsafe = true
"""

_HEAD = """<!DOCTYPE html>
<html lang="{{ .Site.LanguageCode }}">
<head>
<meta charset="utf-8">
<title>{{ .Title }}</title>
{{ with .Description }}<meta name="description" content="{{ . }}">{{ end }}
</head>
<body>
<nav><a href="{{ "/" | relURL }}">{{ .Site.Title }}</a></nav>
"""
_LAYOUTS = {
    "layouts/_default/single.html": _HEAD
    + """<article>
<h1>{{ .Title }}</h1>
{{ if not .Date.IsZero -}}
<time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2006-01-02" }}</time>
{{- end }}
{{ with .Params.author }}<p class="author">{{ . }}</p>{{ end }}
{{ .Content }}
</article>
{{ with .Params.related }}<aside><h2>Related</h2><ul>
{{ range . }}<li><a href="{{ .url }}">{{ .title }}</a></li>{{ end }}
</ul></aside>{{ end }}
</body>
</html>
""",
    "layouts/_default/list.html": _HEAD
    + """<h1>{{ .Title }}</h1>
<ul>
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
{{ end }}</ul>
</body>
</html>
""",
    "layouts/index.html": _HEAD
    + """<h1>{{ .Site.Title }}</h1>
<ul>
{{ range .Site.RegularPages.ByDate.Reverse }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
{{ end }}</ul>
</body>
</html>
""",
}


def _escape_shortcodes(markdown: str) -> str:
    # "{{<" and "{{%" open Hugo shortcodes even in plain text; the entity reads the same.
    return markdown.replace("{{<", "&#123;&#123;<").replace("{{%", "&#123;&#123;%")


def _content_path(path: str) -> str:
    return "content" + path.rstrip("/") + ".md"


def _page_file(ctx: SiteContext, entry: Entry, taken: set[str]) -> str:
    record = entry.record
    fields = {
        "title": record.get("title") or entry.slug,
        "date": record.get("published"),
        "lastmod": record.get("updated"),
        "slug": entry.slug,
        "url": entry.new_path,
        "categories": list(entry.categories),
        "tags": [str(t) for t in record.get("tags") or []],
        "author": record.get("author"),
        "description": record.get("description"),
        "aliases": alias_paths(entry.old_urls, entry.new_path, taken),
        "related": ctx.related_for(entry),
    }
    return front_matter(fields) + "\n" + _escape_shortcodes(ctx.body_for(entry))


def write_hugo(ctx: SiteContext, out: OutputDir, *, language: str = "en") -> None:
    """Write a Hugo site that ``hugo --source DIR`` builds as it is.

    Args:
        ctx: the plan, assets and broken-link list of this export.
        out: the output folder.
        language: the site's language code.
    """
    out.write(
        "config.toml",
        _CONFIG.format(title=json.dumps(ctx.site_name), language=json.dumps(language)),
    )
    for relative, text in _LAYOUTS.items():
        out.write(relative, text)
    taken = ctx.taken_paths()
    for section in ctx.plan.sections:
        fields = {
            "title": section.title,
            "url": section.path,
            "aliases": alias_paths(section.old_urls, section.path, taken),
        }
        out.write("content" + section.path + "_index.md", front_matter(fields))
    for entry in ctx.plan.entries:
        out.write(_content_path(entry.new_path), _page_file(ctx, entry, taken))
