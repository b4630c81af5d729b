"""Sanitizing extracted HTML and turning it into Markdown, in that order.

``sanitize_html`` is an nh3 allow-list: structural and inline tags only, no script, style,
iframe, form or event-handler attributes, only http(s)/mailto links, and every link and
image made absolute against the page URL. ``html_to_markdown`` must only ever see
sanitized HTML (converters pass ``javascript:`` links through), and its Markdown is as
safe as that HTML: text is escaped so entity-escaped markup (``&lt;script&gt;``,
``[x](javascript:…)``) stays text, link and image URLs keep only the sanitizer's
schemes and are percent-encoded so they cannot close their own syntax, and code fences
are longer than any backtick run inside them. This module does not decide *what* the
body is; ``extract.region`` and ``extract.body`` do.

One module a step: ``sanitize`` (the nh3 allow-list), ``markdown`` (the walk over the
sanitized tree) and ``elements`` (what each element becomes in Markdown, and escaping).
"""

from __future__ import annotations

from migrator.clean.elements import escape_markdown_text
from migrator.clean.markdown import html_to_markdown, tree_to_markdown
from migrator.clean.sanitize import sanitize_html

__all__ = ["escape_markdown_text", "html_to_markdown", "sanitize_html", "tree_to_markdown"]
