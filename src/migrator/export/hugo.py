"""The Hugo flavour of the site export: config, layouts, sections, one Markdown file a page.

Posts go to ``content/<new path>.md`` (laid out by category) with YAML front matter;
``url`` pins each page to its planned path and ``aliases`` lists its old paths, for
which Hugo writes redirect pages. Bodies are Markdown generated from the sanitized
HTML with every ``<`` of text escaped, so they hold no raw HTML: goldmark's ``unsafe``
renderer stays off and anything HTML-like that reaches a body is dropped by Hugo, not
served. Hugo reads ``{{<`` / ``{{%`` as shortcodes everywhere, code included: in
text they become entities (``&#123;&#123;<``), inside code spans and fences (where an
entity would show as written) a complete ``{{< … >}}`` becomes Hugo's own comment form
``{{</* … */>}}`` (printed as the original) and a stray opener gets a zero-width
joiner between its braces. This module only renders files through ``OutputDir``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from migrator.export.files import OutputDir
from migrator.export.frontmatter import front_matter
from migrator.export.links import Entry
from migrator.export.site import SiteContext, alias_paths

__all__ = ["ASSET_FOLDER", "ASSET_PREFIX", "escape_shortcodes", "taxonomy_terms", "write_hugo"]

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
# Bodies are Markdown made from sanitized HTML and hold no raw HTML of their own: any
# that appears (a hand-edited file, an old database) is dropped instead of served.
unsafe = false
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


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_SHORTCODE_IN_CODE = re.compile(r"\{\{([<%])(.*?)([>%])\}\}|\{\{(?=[<%])")
_OPENER = re.compile(r"\{\{(?=[<%])")


def _escape_text(text: str) -> str:
    # In text the entity reads the same once rendered, and Hugo never sees "{{<".
    return _OPENER.sub("&#123;&#123;", text)


def _escape_code(code: str) -> str:
    # Entities show as written in code: use Hugo's comment form for a whole shortcode
    # ("{{</* x */>}}" prints "{{< x >}}"), and break a stray opener invisibly.
    def comment(match: re.Match[str]) -> str:
        if match[1] is None or (
            match[1] + match[3] not in {"<>", "%%"} or "*/" in match[2] or "{{" in match[2]
        ):
            return _OPENER.sub("{\u200d{", match[0])
        return "{{" + match[1] + "/*" + match[2] + "*/" + match[3] + "}}"

    return _SHORTCODE_IN_CODE.sub(comment, code)


def escape_shortcodes(markdown: str) -> str:
    """Make ``markdown`` free of Hugo shortcode openers while rendering the same text."""
    if "{{" not in markdown:
        return markdown
    out: list[str] = []
    fence: str | None = None
    block: list[str] = []
    for line in markdown.splitlines(keepends=True):
        marker = _FENCE.match(line)
        if fence is None and marker:
            fence = marker[1]
            out.append(line)
            continue
        if fence is not None:
            if marker and marker[1][0] == fence[0] and len(marker[1]) >= len(fence):
                out.append(_escape_code("".join(block)))
                out.append(line)
                fence, block = None, []
            else:
                block.append(line)
            continue
        block.append(line)
        if line.strip() == "":  # a paragraph ends: code spans never cross it
            out.append(_escape_paragraph("".join(block)))
            block = []
    rest = "".join(block)
    out.append(_escape_code(rest) if fence is not None else _escape_paragraph(rest))
    return "".join(out)


def _escape_paragraph(text: str) -> str:
    out: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_escape_text(text[last : match.start()]))
        out.append(match[1] + _escape_code(match[2]) + match[1])
        last = match.end()
    out.append(_escape_text(text[last:]))
    return "".join(out)


_PATH_SEPARATORS = re.compile(r"[/\\]+")


def taxonomy_terms(values: Iterable[str]) -> list[str]:
    """Tags and categories Hugo can turn into pages: no path separators, some letter.

    Hugo makes ``/tags/<term>/`` of every term: ``..`` failed the whole build ("missing
    taxonomy") and ``../../x`` or ``a/../b`` wrote outside the taxonomy folder.
    """
    terms = (_PATH_SEPARATORS.sub(" ", v).strip() for v in values)
    return list(dict.fromkeys(t for t in terms if any(c.isalnum() for c in t)))


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
        "categories": taxonomy_terms(entry.categories),
        "tags": taxonomy_terms(str(t) for t in record.get("tags") or []),
        "author": record.get("author"),
        "description": record.get("description"),
        # Hugo's own templates (opengraph, twitter_cards) read ``images``.
        "images": [featured] if (featured := ctx.featured_for(entry)) else None,
        "aliases": alias_paths(entry.old_urls, entry.new_path, taken),
        "related": ctx.related_for(entry),
    }
    return front_matter(fields) + "\n" + escape_shortcodes(ctx.body_for(entry))


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
