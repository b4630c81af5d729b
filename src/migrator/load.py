"""The load stage: ``Store``, the SQLite migration database (``migrator.store``).

The stage's name, kept for the modules and scripts that import ``migrator.load``; the
store itself lives in the ``store`` package, one module a concern.
"""

from __future__ import annotations

from migrator.store import CrawlItem, RunMode, RunStatus, SaveResult, Store, StoredAsset

__all__ = ["CrawlItem", "RunMode", "RunStatus", "SaveResult", "Store", "StoredAsset"]
