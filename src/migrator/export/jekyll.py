"""The Jekyll flavour of the site export: ``_posts/YYYY-MM-DD-slug.md`` with front matter.

Each post's ``permalink`` pins its planned path and ``redirect_from`` (the
jekyll-redirect-from plugin) lists its old paths. Jekyll runs Liquid over the whole
body, code blocks included, before Markdown: every ``{`` that starts ``{{`` or ``{%``
in a body is written as the Liquid output ``{{ "{" }}``, so no text from the legacy
site can open a tag (``{% raw %}`` is not enough: ``{%endraw%}`` and
``{%- endraw -%}`` in content end it). A post
without a publication date takes the day the migration first saw it (Jekyll needs a
date in the file name). This module only renders files through ``OutputDir``.
"""

from __future__ import annotations

import re

from migrator.export.files import OutputDir
from migrator.export.frontmatter import front_matter, yaml_document
from migrator.export.links import Entry
from migrator.export.site import SiteContext, alias_paths, date_part

__all__ = ["ASSET_FOLDER", "ASSET_PREFIX", "post_file_name", "protect_liquid", "write_jekyll"]

ASSET_FOLDER = "assets/media"
ASSET_PREFIX = "/assets/media"

_LAYOUT = """<!DOCTYPE html>
<html lang="{{ site.lang | default: "en" }}">
<head><meta charset="utf-8"><title>{{ page.title | escape }}</title></head>
<body>
<nav><a href="{{ "/" | relative_url }}">{{ site.title | escape }}</a></nav>
<article>
<h1>{{ page.title | escape }}</h1>
{% if page.date -%}
<time datetime="{{ page.date | date: "%Y-%m-%d" }}">{{ page.date | date: "%Y-%m-%d" }}</time>
{%- endif %}
{{ content }}
</article>
</body>
</html>
"""
_INDEX = """---
layout: default
title: Home
---
<ul>
{% for post in site.posts -%}
<li><a href="{{ post.url | relative_url }}">{{ post.title | escape }}</a></li>
{% endfor %}</ul>
"""


def post_file_name(entry: Entry) -> str:
    """``_posts/YYYY-MM-DD-slug.md`` for a post (the date falls back to first seen)."""
    day = date_part(entry.record.get("published")) or date_part(entry.first_seen) or "1970-01-01"
    return f"_posts/{day}-{entry.slug}.md"


_LIQUID_OPEN = re.compile(r"\{(?=[{%])")


def protect_liquid(text: str) -> str:
    """Neutralise Liquid in ``text``: it renders back to ``text`` and runs no tag.

    Every ``{`` followed by ``{`` or ``%`` becomes ``{{ "{" }}``; afterwards the only
    ``{{`` / ``{%`` left in the text are these outputs (an unreplaced ``{`` is never
    followed by ``{`` or ``%``, and an output ends in ``}``).
    """
    return _LIQUID_OPEN.sub('{{ "{" }}', text)


def write_jekyll(ctx: SiteContext, out: OutputDir) -> None:
    """Write a Jekyll site: ``_config.yml``, a layout, an index, posts and pages.

    Args:
        ctx: the plan, assets and broken-link list of this export.
        out: the output folder.
    """
    out.write(
        "_config.yml",
        yaml_document(
            {
                "title": ctx.site_name,
                "markdown": "kramdown",
                "plugins": ["jekyll-redirect-from"],
                "exclude": ["migrator-report.json"],
            }
        ),
    )
    out.write("_layouts/default.html", _LAYOUT)
    out.write("index.html", _INDEX)
    taken = ctx.taken_paths()
    used: set[str] = set()
    for entry in ctx.plan.entries:
        record = entry.record
        fields = {
            "layout": "default",
            "title": record.get("title") or entry.slug,
            "date": record.get("published") or (entry.first_seen if entry.kind == "post" else None),
            "last_modified_at": record.get("updated"),
            "slug": entry.slug,
            "permalink": entry.new_path,
            "categories": list(entry.categories),
            "tags": [str(t) for t in record.get("tags") or []],
            "author": record.get("author"),
            "description": record.get("description"),
            "image": ctx.featured_for(entry),  # jekyll-seo-tag's field
            "redirect_from": alias_paths(entry.old_urls, entry.new_path, taken),
            "related": ctx.related_for(entry),
        }
        if entry.kind == "post":
            name = post_file_name(entry)
            stem, n = name[: -len(".md")], 2
            while name in used:
                name, n = f"{stem}-{n}.md", n + 1
        else:
            name = entry.new_path.strip("/") + ".md"
        used.add(name)
        text = front_matter(fields) + "\n" + protect_liquid(ctx.body_for(entry))
        out.write(name, text)
    for section in ctx.plan.sections:
        fields = {
            "layout": "default",
            "title": section.title,
            "permalink": section.path,
            "redirect_from": alias_paths(section.old_urls, section.path, taken),
        }
        out.write(section.path.strip("/") + "/index.html", front_matter(fields) + _LIST)


_LIST = """<ul>
{% for post in site.posts %}{% if post.url contains page.permalink -%}
<li><a href="{{ post.url | relative_url }}">{{ post.title | escape }}</a></li>
{% endif %}{% endfor %}</ul>
"""
