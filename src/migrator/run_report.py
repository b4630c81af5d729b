"""What a run did (``RunReport``), shared by the crawl, the offline extract, the progress
display and the CLI; and the configuration hash stored with each run."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Literal

from migrator.config import Config

__all__ = ["LOG_FAILURES", "Mode", "ProgressCallback", "RunReport", "config_hash"]


Mode = Literal["run", "fetch", "sync"]

ProgressCallback = Callable[[Counter[str]], None]

LOG_FAILURES = 20  # failures kept in the report for the summary


@dataclass(slots=True, kw_only=True)
class RunReport:
    """What a run did: counts by outcome, timing, and the first failures."""

    run_id: int
    mode: str
    db_path: str
    started_at: datetime
    finished_at: datetime | None = None
    status: Literal["ok", "failed", "aborted", "interrupted"] = "ok"
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    message: str | None = None

    @property
    def elapsed_s(self) -> float:
        """Wall-clock seconds of the run."""
        end = self.finished_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly view for ``--json`` output."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        data["counts"] = dict(self.counts)
        data["elapsed_s"] = round(self.elapsed_s, 3)
        return data


def config_hash(config: Config) -> str:
    """A short stable hash of the effective configuration, stored with each run."""
    blob = json.dumps(asdict(config), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
