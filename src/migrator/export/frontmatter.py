"""YAML front matter for Hugo and Jekyll, written by hand so every value round-trips.

Every string is emitted double-quoted with JSON-style escapes for quotes, backslashes
and characters YAML parsers refuse raw (C0/C1 controls, U+2028/U+2029, U+FEFF,
lone surrogates), so titles with quotes, colons, ``&``, ``#`` or non-Latin scripts read
back exactly. Only the value shapes the exporters use are supported (str, int, bool,
``None``, lists of those, lists of flat mappings). This module does not decide which
fields a page has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["front_matter", "yaml_string"]

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _needs_escape(code: int) -> bool:
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or code in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF)
        or 0xD800 <= code <= 0xDFFF
    )


def yaml_string(value: str) -> str:
    """Quote ``value`` as a YAML double-quoted scalar that parses back to ``value``."""
    out: list[str] = ['"']
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _needs_escape(ord(char)):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return yaml_string(str(value))


def front_matter(fields: Mapping[str, Any]) -> str:
    """Render ``fields`` as a ``---`` delimited YAML block (keys in the given order).

    Keys whose value is ``None`` or an empty list are left out: an absent key and a null
    one mean the same to Hugo and Jekyll, and the files stay short.

    Args:
        fields: plain keys (letters, digits, ``_``) to scalars, lists of scalars or lists
            of flat mappings.

    Returns:
        The block, ending with a newline after the closing ``---``.
    """
    lines = ["---"]
    for key, value in fields.items():
        if value is None or (
            isinstance(value, Sequence) and not isinstance(value, str) and not value
        ):
            continue
        if isinstance(value, Sequence) and not isinstance(value, str):
            lines.append(f"{key}:")
            for item in value:
                if isinstance(item, Mapping):
                    pairs = [f"{k}: {_scalar(v)}" for k, v in item.items()]
                    lines.append("  - " + pairs[0])
                    lines.extend("    " + p for p in pairs[1:])
                else:
                    lines.append(f"  - {_scalar(item)}")
        else:
            lines.append(f"{key}: {_scalar(value)}")
    lines.append("---")
    return "\n".join(lines) + "\n"
