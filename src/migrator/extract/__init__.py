"""RawPage → Page: the extract stage, pure (no network, clock or database).

``extract_page`` decodes the body (``decode.py``), parses it once with selectolax's Lexbor
parser and shares that tree between the field extractors. Each field is taken from the
first layer that has it: configured CSS selectors, then structured data (JSON-LD,
microdata, ``<meta>``), then DOM heuristics; trafilatura reads the body only where the
cheap region detection finds no article (``rules.use_trafilatura``). Which layer gave each
field is recorded in ``Page.sources``. A page that is not HTML, empty or undecodable
raises ``ExtractError``; every field is computed defensively so that no other exception
escapes, whatever the input.

The package root only re-exports what other stages use: ``page`` parses and checks the
page, ``record`` builds its record in stages, ``furniture`` holds the learned furniture's
removal and ``model_changes_page``, ``versioning`` the ``extractor_version`` tag.
"""

from __future__ import annotations

from migrator.extract.furniture import model_changes_page
from migrator.extract.page import extract_page, page_links
from migrator.extract.versioning import EXTRACTOR_VERSION, template_of, version_tag
from migrator.models import SiteModel

__all__ = [
    "EXTRACTOR_VERSION",
    "SiteModel",
    "extract_page",
    "model_changes_page",
    "page_links",
    "template_of",
    "version_tag",
]
