"""decode_body: BOM, header, meta, detection and the windows-1252 rules."""

from __future__ import annotations

import codecs

import pytest

from migrator.decode import decode_body, normalize_encoding

TEXT = "<p>Caf\u00e9 \u201cquoted\u201d \u2013 na\u00efve cr\u00e8me br\u00fbl\u00e9e \u20ac5</p>"
JAPANESE = "<p>\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3067\u3059\u3002\u2460\uff5e</p>"


def test_decode_body_bom_wins_over_header():
    decoded = decode_body(codecs.BOM_UTF8 + TEXT.encode(), "text/html; charset=windows-1252")
    assert (decoded.text, decoded.encoding, decoded.source) == (TEXT, "utf-8", "bom")


def test_decode_body_header_charset():
    decoded = decode_body(TEXT.encode("cp1252"), 'text/html; charset="windows-1252"')
    assert (decoded.text, decoded.source) == (TEXT, "header")


def test_decode_body_meta_charset_latin1_means_windows_1252():
    body = b'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
    decoded = decode_body(body + TEXT.encode("cp1252"), "text/html")
    assert decoded.text.endswith(TEXT)
    assert (decoded.encoding, decoded.source) == ("windows-1252", "meta")


def test_decode_body_utf8_label_on_windows_1252_bytes_falls_back():
    decoded = decode_body(TEXT.encode("cp1252"), "text/html; charset=utf-8")
    assert decoded.text == TEXT
    assert "\ufffd" not in decoded.text
    assert decoded.encoding == "windows-1252"


def test_decode_body_single_byte_label_on_utf8_bytes_reads_utf8():
    decoded = decode_body(b"<meta charset=iso-8859-1>" + TEXT.encode(), None)
    assert decoded.text.endswith(TEXT)
    assert decoded.encoding == "utf-8"


@pytest.mark.parametrize("label", ["Shift_JIS", "shift-jis", "x-sjis"])
def test_decode_body_shift_jis_meta(label):
    body = f"<meta charset={label}>".encode() + JAPANESE.encode("cp932")
    decoded = decode_body(body, None)
    assert decoded.text.endswith(JAPANESE)
    assert decoded.encoding == "cp932"


def test_decode_body_detects_unlabelled_shift_jis():
    decoded = decode_body((JAPANESE * 3).encode("cp932"), "text/html")
    assert decoded.text == JAPANESE * 3
    assert decoded.source == "detected"


def test_decode_body_detects_unlabelled_windows_1252():
    decoded = decode_body(TEXT.encode("cp1252"), None)
    assert (decoded.text, decoded.encoding) == (TEXT, "windows-1252")


def test_decode_body_never_raises_on_undefined_bytes():
    decoded = decode_body(b"\x81\x8d\x8f\x90\x9d", "text/html; charset=windows-1252")
    assert decoded.text == "\x81\x8d\x8f\x90\x9d"


def test_decode_body_unknown_label_is_ignored():
    decoded = decode_body("<p>\u00e9t\u00e9</p>".encode(), "text/html; charset=klingon")
    assert decoded.text == "<p>\u00e9t\u00e9</p>"
    assert decoded.source == "detected"


def test_normalize_encoding_aliases():
    assert normalize_encoding("latin1") == "windows-1252"
    assert normalize_encoding("US-ASCII") == "windows-1252"
    assert normalize_encoding("UTF8") == "utf-8"
    assert normalize_encoding("nonsense") is None
    assert normalize_encoding(None) is None
