"""YAML front matter for Hugo and Jekyll, written by a YAML library so every value round-trips.

``front_matter`` hands the fields to PyYAML's ``safe_dump`` with a dumper that writes
every string double-quoted (PyYAML escapes quotes, backslashes, controls, U+2028/U+2029
and U+FEFF there), never wraps a line, and never emits anchors or tags: a title holding
``---``, a newline, ``: ``, ``#`` or ``{{`` stays one scalar inside the block, so
nothing in a value can close the front matter or start a new key. This module does
not decide which fields a page has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

__all__ = ["front_matter", "yaml_document"]


class _Dumper(yaml.SafeDumper):
    """SafeDumper with every string double-quoted and no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _quoted(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')


def _mapping(dumper: yaml.SafeDumper, value: dict[Any, Any]) -> yaml.MappingNode:
    node = dumper.represent_mapping("tag:yaml.org,2002:map", value.items())
    for key, _ in node.value:
        key.style = None  # keys are the exporter's own identifiers: plain
    return node


_Dumper.add_representer(str, _quoted)
_Dumper.add_representer(dict, _mapping)


def _dump(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 30,
        explicit_start=False,
    )


def yaml_document(fields: Mapping[str, Any]) -> str:
    """Render ``fields`` as a whole YAML file (a Jekyll ``_config.yml``), keys in order.

    Args:
        fields: plain keys to scalars, lists of scalars or nested mappings.

    Returns:
        The document, ending with a newline.
    """
    return _dump(dict(fields))


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
    kept = {
        key: list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value
        for key, value in fields.items()
        if value is not None
        and not (isinstance(value, Sequence) and not isinstance(value, str) and not value)
    }
    body = _dump(kept) if kept else ""
    return "---\n" + body + "---\n"
