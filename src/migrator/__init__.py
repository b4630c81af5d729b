"""migrator: move a legacy blog into SQLite — fetch, extract, load, re-sync, export.

The public API is small: ``load_config`` reads a site's configuration, ``Store`` opens
a migration database, ``run``/``extract`` drive the pipeline and ``extract_page``
turns one fetched page into a ``Page`` record. Importing the package is cheap: the
heavy modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from migrator.version import __version__

__all__ = [
    "Config",
    "Page",
    "RawPage",
    "Store",
    "__version__",
    "extract",
    "extract_page",
    "load_config",
    "run",
]

if TYPE_CHECKING:
    from migrator.config import Config, load_config
    from migrator.extract import extract_page
    from migrator.load import Store
    from migrator.models import Page, RawPage
    from migrator.pipeline import extract, run

_LAZY = {
    "Config": "migrator.config",
    "load_config": "migrator.config",
    "extract_page": "migrator.extract",
    "Store": "migrator.load",
    "Page": "migrator.models",
    "RawPage": "migrator.models",
    "extract": "migrator.pipeline",
    "run": "migrator.pipeline",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'migrator' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
