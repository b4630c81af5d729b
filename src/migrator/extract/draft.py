"""One page's record while its fields are filled in, and the guard that costs a failing
field only that field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import structlog

log = structlog.get_logger()
T = TypeVar("T")


@dataclass(slots=True)
class Draft:
    """Mutable working state while one page's fields are filled in."""

    url: str
    base: str
    fetched_at: datetime
    sources: dict[str, str] = field(default_factory=dict)
    undated: bool = False  # the site model says the page shows no date of its own


def guard(draft: Draft, name: str, work: Callable[[], T]) -> T | None:
    """Run one field's extraction; a failure costs that field, never the page.

    This is the one deliberate broad catch outside the pipeline: the brief for this stage
    is that no exception other than ``ExtractError`` escapes on any input, and a parser
    bug on one field of one hostile page must not lose the rest of the record.
    """
    try:
        return work()
    except Exception as exc:  # noqa: BLE001 - see docstring
        log.warning("field_failed", url=draft.url, field=name, error=type(exc).__name__)
        return None
