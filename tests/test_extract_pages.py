"""One parametrized test over every hand-written legacy page in tests/fixtures/pages/.

Each ``<case>.html`` has a ``<case>.expected.json`` with the fields it must produce;
keys that are absent are not checked. ``"config"`` names a file in tests/fixtures/config/.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from migrator.config import ExtractConfig, load_config
from migrator.extract import extract_page
from migrator.models import Page, RawPage

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(
    p.name.removesuffix(".expected.json") for p in (FIXTURES / "pages").glob("*.expected.json")
)


def _extract(case: str) -> tuple[Page, dict[str, Any]]:
    expected = json.loads((FIXTURES / "pages" / f"{case}.expected.json").read_text("utf-8"))
    rules = (
        load_config(FIXTURES / "config" / expected["config"]).extract
        if "config" in expected
        else ExtractConfig()
    )
    raw = RawPage(
        url=expected["url"],
        requested_url=expected["url"],
        status=200,
        headers=(("content-type", "text/html"),),
        body=(FIXTURES / "pages" / f"{case}.html").read_bytes(),
        fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    return extract_page(raw, rules), expected


def test_extract_fixture_pages_cover_enough_styles():
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES)
def test_extract_page_matches_expected(case: str):
    page, expected = _extract(case)
    record = page.to_record(explain=True)
    for key in (
        "title", "published", "updated", "author", "language", "description", "page_type",
        "canonical_url", "encoding", "tags", "categories", "images",
    ):  # fmt: skip
        if key in expected:
            assert record[key] == expected[key], key
    if "breadcrumbs" in expected:
        got = [{"label": c["label"], "url": c["url"]} for c in record["breadcrumbs"]]
        assert got == expected["breadcrumbs"]
    if "sections" in expected:
        assert [(s["level"], s["heading"]) for s in record["sections"]] == [
            (s["level"], s["heading"]) for s in expected["sections"]
        ]
        for got_section, want in zip(record["sections"], expected["sections"], strict=True):
            for key in ("text", "parent"):
                if key in want:
                    assert got_section[key] == want[key], (want["heading"], key)
    if "sidebar_links" in expected:
        assert record["sidebar_links"] == expected["sidebar_links"]
    for field, layer in expected.get("sources", {}).items():
        assert record["sources"].get(field) == layer, field
    for url in expected.get("links_include", []):
        assert url in page.links
    for phrase in expected["body_must_contain"]:
        assert phrase in page.body_text or phrase in page.body_html, phrase
    for phrase in expected["body_must_not_contain"]:
        assert phrase not in page.body_text, phrase
        assert phrase not in page.body_html, phrase
        assert phrase not in page.body_markdown, phrase
    assert page.url == expected["url"]
    assert len(page.content_hash) == 64
