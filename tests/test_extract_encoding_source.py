"""extract_page records which source decided the encoding (header, meta, BOM, detection)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from migrator.config import ExtractConfig
from migrator.extract import extract_page
from migrator.models import RawPage

_PAGE = (
    "<html><head>{meta}<title>Caf\u00e9</title></head><body><h1>Caf\u00e9 cr\u00e8me</h1>"
    + ("<p>Un caf\u00e9 cr\u00e8me, s'il vous pla\u00eet, et une tarte aux pommes.</p>" * 5)
    + "</body></html>"
)


def _raw(body: bytes, content_type: str) -> RawPage:
    return RawPage(
        url="https://cafe.example.fr/p/",
        requested_url="https://cafe.example.fr/p/",
        status=200,
        headers=(("content-type", content_type),),
        body=body,
        fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("body", "content_type", "source", "encoding"),
    [
        (
            _PAGE.format(meta="").encode("cp1252"),
            "text/html; charset=windows-1252",
            "header",
            "windows-1252",
        ),
        (
            _PAGE.format(meta='<meta charset="windows-1252">').encode("cp1252"),
            "text/html",
            "meta",
            "windows-1252",
        ),
        (b"\xef\xbb\xbf" + _PAGE.format(meta="").encode("utf-8"), "text/html", "bom", "utf-8"),
    ],
)
def test_extract_records_encoding_source(body, content_type, source, encoding):
    page = extract_page(_raw(body, content_type), ExtractConfig())
    assert page.title == "Caf\u00e9 cr\u00e8me"
    assert page.encoding == encoding
    assert dict(page.sources)["encoding"] == source
