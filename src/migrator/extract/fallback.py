"""The third-party extractors behind the heuristics: trafilatura for a body the cheap
detection cannot read, and the check that they import at all.

A broken installation is reported at start (``require_dependencies``), never met as a
quietly worse extraction; a page trafilatura fails on only loses the fallback.
"""

from __future__ import annotations

import importlib

from migrator.config import ExtractConfig
from migrator.errors import ConfigError

__all__ = ["require_dependencies", "trafilatura_html"]


def require_dependencies(rules: ExtractConfig) -> None:
    """Check that the third-party extractors import, before a run relies on them.

    A resolver that does not bring ``lxml_html_clean`` (a separate package since lxml
    5.2, imported by trafilatura's dependency justext) gives a trafilatura that cannot
    be imported; the body F1 then dropped from 0.96 to 0.84 without a word. That is a
    broken installation, reported at start, never a quiet downgrade.

    Raises:
        ConfigError: a module cannot be imported; the message says how to repair it.
    """
    modules = ["htmldate"]  # the last-resort publication date (extract/published.py)
    if rules.use_trafilatura != "never":
        modules.append("trafilatura")
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            without = (
                ", or set extract.use_trafilatura = 'never' to run without it"
                if name == "trafilatura"
                else ""
            )
            raise ConfigError(
                f"broken installation: {name} cannot be imported ({' '.join(str(exc).split())});"
                " reinstall the"
                f" locked dependencies with 'make env' (or 'uv sync --frozen'){without}"
            ) from exc


def trafilatura_html(html: str, url: str) -> str | None:
    """Main-content HTML according to trafilatura, or ``None`` when it finds none.

    Called with ``str`` (trafilatura ignores ``<meta charset>`` on bytes) and never lets
    its exceptions escape: a fallback must not fail the page. An ``ImportError`` is not
    the page's fault but a broken installation (see :func:`require_dependencies`): it
    escapes.
    """
    import trafilatura

    try:
        result = trafilatura.extract(
            html,
            url=url,
            output_format="html",
            include_images=True,
            include_links=True,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
            with_metadata=False,
        )
    except Exception:  # noqa: BLE001 - a third-party parser on hostile input
        return None
    return result if isinstance(result, str) and result.strip() else None
