"""The migrator version: one leaf every module may import, the package root included.

Modules read ``__version__`` from here rather than from ``migrator`` itself, so that no
module imports the package root (whose lazy exports point at ``pipeline``, ``load`` and
``extract``): the import graph keeps no upward arrow. Keep it equal to pyproject's.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
