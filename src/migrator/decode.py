"""Bytes → text for fetched pages, recording which clue chose the encoding.

The order is the browser's: a byte-order mark, then the HTTP ``charset``, then a
``<meta charset>`` / ``http-equiv`` declaration in the first few kilobytes, then
charset-normalizer's detection. A label is only trusted when the bytes actually decode
under it: legacy blogs often declare UTF-8 while serving windows-1252. Latin-1 labels are
read as windows-1252 (the WHATWG Encoding Standard does the same), so curly quotes in the
0x80–0x9F range never become control characters. This module does no HTML parsing beyond
that prescan and never touches the network.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

from charset_normalizer import from_bytes

__all__ = ["DecodeSource", "Decoded", "decode_body", "normalize_encoding"]

DecodeSource = Literal["bom", "header", "meta", "detected", "fallback"]

_PRESCAN_BYTES = 4096
_DETECT_BYTES = 200_000
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
# WHATWG aliases that differ from Python's codec names.
_ALIASES = {
    "iso-8859-1": "windows-1252",
    "iso8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "l1": "windows-1252",
    "us-ascii": "windows-1252",
    "ascii": "windows-1252",
    "cp1252": "windows-1252",
    "iso-8859-9": "windows-1254",
    "iso-8859-11": "windows-874",
    "tis-620": "windows-874",
    "x-sjis": "shift_jis",
    "sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "x-user-defined": "windows-1252",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Decoded:
    """A decoded body: the text, the codec used and the clue that chose it."""

    text: str
    encoding: str
    source: DecodeSource


def normalize_encoding(label: str | None) -> str | None:
    """Map an encoding label to a Python codec name, browser-style; ``None`` if unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    if codec in {"latin-1", "iso8859-1", "ascii"}:
        return "windows-1252"
    if codec in {"shift_jis", "shift_jis_2004", "shift_jisx0213"}:
        # cp932 is the superset every Japanese site actually writes (①, ～, NEC specials).
        return "cp932"
    return "utf-8" if codec == "utf-8" else name


def _try(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf16_meta(encoding: str) -> str:
    # A <meta> that says UTF-16 was readable as ASCII, so the page is not UTF-16 (WHATWG).
    return "utf-8" if encoding.startswith("utf-16") else encoding


def decode_body(body: bytes, content_type: str | None) -> Decoded:
    """Decode a page body to text.

    Args:
        body: the raw body bytes.
        content_type: the ``Content-Type`` header value (may carry ``charset=``), or ``None``.

    Returns:
        The text with the encoding used and its source (``bom``, ``header``, ``meta``,
        ``detected`` or ``fallback``). Never raises: the fallback decodes windows-1252,
        mapping its five undefined bytes to C1 controls as browsers do.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            text = _try(body[len(bom) :], encoding)
            if text is not None:
                return Decoded(text=text, encoding=encoding, source="bom")
    if content_type:
        header_match = _HEADER_CHARSET.search(content_type)
        label = normalize_encoding(header_match.group(1)) if header_match else None
        if label:
            found = _decode_labelled(body, label)
            if found is not None:
                return Decoded(text=found[0], encoding=found[1], source="header")
    meta_match = _META_CHARSET.search(body[:_PRESCAN_BYTES])
    if meta_match:
        label = normalize_encoding(meta_match.group(1).decode("ascii", "replace"))
        if label:
            found = _decode_labelled(body, _utf16_meta(label))
            if found is not None:
                return Decoded(text=found[0], encoding=found[1], source="meta")
    text = _try(body, "utf-8")
    if text is not None:
        return Decoded(text=text, encoding="utf-8", source="detected")
    if _mostly_isolated_high_bytes(body[:_DETECT_BYTES]):
        text = body.decode("windows-1252", errors="migrator-c1")
        return Decoded(text=text, encoding="windows-1252", source="detected")
    best = from_bytes(body[:_DETECT_BYTES]).best()
    if best is not None:
        guess = normalize_encoding(best.encoding)
        # Without a BOM, markup is never UTF-16/32: its ASCII tags would be NUL-padded.
        if guess and not guess.startswith(("utf-16", "utf-32", "utf_16", "utf_32")):
            guessed = _try(body, guess)
            if guessed is not None:
                return Decoded(text=guessed, encoding=guess, source="detected")
    return Decoded(
        text=body.decode("windows-1252", errors="migrator-c1"),
        encoding="windows-1252",
        source="fallback",
    )


_HIGH_RUN = re.compile(rb"[\x80-\xff]+")


def _mostly_isolated_high_bytes(sample: bytes) -> bool:
    """True when non-ASCII bytes mostly stand alone, as accented letters do in Western text.

    CJK legacy encodings use byte pairs and UTF-8 uses runs; windows-1252 "café", "naïve",
    curly quotes put one high byte between ASCII letters. This beats statistical detection
    on short pages, where charset-normalizer guesses exotic code pages.
    """
    runs = _HIGH_RUN.findall(sample)
    if not runs:
        return False
    single = sum(1 for run in runs if len(run) == 1)
    return single >= 0.8 * len(runs)


def _c1_controls(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return chr(error.object[error.start]), error.start + 1


codecs.register_error("migrator-c1", _c1_controls)
_SINGLE_BYTE = frozenset({"windows-1252", "windows-1250", "windows-1251", "windows-1254"})


def _decode_labelled(body: bytes, encoding: str) -> tuple[str, str] | None:
    """Decode under a declared label; ``None`` when the bytes contradict it.

    A body labelled UTF-8 that is not valid UTF-8 is almost always windows-1252 (old
    editors, database dumps), so the caller goes on to detection instead of producing
    replacement characters. windows-1252 leaves five bytes undefined; browsers map them to
    C1 controls, and so do we rather than rejecting the label.
    """
    if encoding in _SINGLE_BYTE and not body.isascii():
        # Valid multi-byte UTF-8 under a single-byte label is UTF-8 pasted into an old
        # template; read as labelled it would become mojibake ("Ã©").
        utf8 = _try(body, "utf-8")
        if utf8 is not None:
            return utf8, "utf-8"
    text = _try(body, encoding)
    if text is not None:
        return text, encoding
    if encoding == "windows-1252":
        return body.decode("windows-1252", errors="migrator-c1"), encoding
    return None
