"""The language the page says it is written in."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from migrator.extract.structured import Structured

__all__ = ["page_language"]


def page_language(tree: LexborHTMLParser, structured: Structured) -> str | None:
    """The page's language tag (``en-GB``): ``<html lang>``, else the ``<meta>`` that
    names one."""
    html = tree.css_first("html")
    lang = html.attributes.get("lang") or html.attributes.get("xml:lang") if html else None
    if not lang:
        lang = structured.meta_first("content-language", "og:locale", "dc.language", "language")
    if not lang:
        node = tree.css_first('meta[http-equiv="content-language" i]')
        lang = node.attributes.get("content") if node is not None else None
    if not lang:
        return None
    lang = lang.strip().split(",")[0].strip().replace("_", "-")
    return lang[:35] or None
