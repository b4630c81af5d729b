"""The input guards of the extract stage: what is not HTML (binary magic, a non-HTML
content type), empty, or nested deeper than a parser should be asked to go."""

from __future__ import annotations

import re

from migrator.errors import ExtractError
from migrator.models import RawPage

__all__ = ["CONTROL_CHARS", "MAX_DEPTH", "check_input", "nesting_depth"]


_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")

_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b")

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")

_LOOKS_HTML = re.compile(r"<(?:!doctype|html|head|body|div|p|title|meta|table)\b", re.I)

# Real pages nest a few hundred levels at most (486 is the deepest in the shared corpus);
# Lexbor parses 4,096 levels in ~15 ms.
MAX_DEPTH = 4096

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)")

_NOT_NESTING = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option",
        "optgroup", "rp", "rt", "tbody", "thead", "tfoot", "colgroup", "caption", "html",
        "head", "body", "script", "style",
    }
)  # fmt: skip


def check_input(raw: RawPage) -> None:
    content_type = raw.content_type
    head = raw.body[:1024].lstrip()
    if not head:
        raise ExtractError(raw.url, "empty")
    if head.startswith(_BINARY_MAGIC):
        raise ExtractError(raw.url, "not_html")
    if content_type and not any(content_type.startswith(t) for t in _HTML_TYPES):
        sample = raw.body[:2048].decode("latin-1")
        if not (content_type.startswith("text/") and _LOOKS_HTML.search(sample)):
            raise ExtractError(raw.url, f"not_html:{content_type}")


def nesting_depth(text: str, limit: int) -> int:
    """An upper estimate of the element nesting depth, stopping once above ``limit``.

    Void elements and those whose end tag is optional (``p``, ``li``, ``td`` …) are not
    counted: legacy pages leave thousands of them open without nesting anything.
    """
    depth = deepest = 0
    for match in _TAG.finditer(text):
        if match.group(2).lower() in _NOT_NESTING:
            continue
        if match.group(1):
            depth = depth - 1 if depth else 0
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest
