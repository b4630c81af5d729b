"""Decoding end to end: legacy charsets served by a real server come out as readers saw them.

Each route serves an article in a legacy encoding, labelled correctly, by ``<meta>``
only, or wrongly. The whole pipeline runs over them (fetch → extract → load) and the
stored titles and body text must hold the right characters: no U+FFFD, no mojibake.
"""

from __future__ import annotations

import sqlite3

import pytest

from migrator.config import Config
from migrator.load import Store
from migrator.pipeline import run
from servers import Reply, TestServer

FILLER = (
    " Every article of the old blog must keep its words exactly as they were written,"
    " accents, quotes and all, so that nothing reads strangely after the move."
)

# path: (title, a sentence of the body, encoding of the bytes, Content-Type, <meta> charset)
CASES = {
    "/cp1252/": (
        "Café déjà vu — “smart” quotes",
        "A naïve façade costs 50 € … or so.",
        "windows-1252",
        "text/html; charset=windows-1252",
        None,
    ),
    "/latin1/": (
        "Crème brûlée for «everyone»",
        "The cook’s “secret” is patience: ½ cup of sugar.",
        "windows-1252",  # labelled ISO-8859-1: browsers read it as windows-1252
        "text/html; charset=ISO-8859-1",
        None,
    ),
    "/sjis/": (
        "東京の喫茶店めぐり",
        "静かな午後に、古い喫茶店でコーヒーを飲みました。①番のおすすめ～",
        "cp932",
        "text/html",
        "Shift_JIS",
    ),
    "/utf8-as-latin1/": (
        "Smörgåsbord in Malmö",
        "Ünïcödé text pasted into an old Latin-1 template – still “fine”.",
        "utf-8",
        "text/html; charset=iso-8859-1",
        None,
    ),
    "/latin1-as-utf8/": (
        "Résumé of a café",
        "Señor Muñoz’s piñata was à la mode.",
        "windows-1252",
        "text/html; charset=utf-8",
        "utf-8",
    ),
}


def article(title: str, sentence: str, encoding: str, ctype: str, meta: str | None) -> Reply:
    head = f'<meta charset="{meta}">' if meta else ""
    html = (
        f"<!doctype html><html><head>{head}<title>{title}</title></head><body><article>"
        f'<h1>{title}</h1><p class="meta"><time datetime="2019-05-06">May 6, 2019</time></p>'
        f"<p>{sentence}{FILLER}</p><p>{sentence}{FILLER}</p><p>{FILLER}</p>"
        "</article></body></html>"
    )
    return Reply(body=html.encode(encoding), content_type=ctype)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    db = tmp_path_factory.mktemp("decode") / "decode.db"
    with TestServer() as server:
        anchors = "".join(f'<li><a href="{p}">{p}</a></li>' for p in CASES)
        server.script(
            "/", Reply(body=f"<!doctype html><title>Home</title><ul>{anchors}</ul>".encode())
        )
        for path, case in CASES.items():
            server.script(path, article(*case))
        config = Config().with_fetch(delay=0.0, concurrency=4)
        config = config.replace(extract=config.extract.__class__(workers=1))
        with Store.open(db) as store:
            report = run(config, store, start=server.url("/"))
        base = server.base_url
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT url, title, body_text, encoding FROM pages").fetchall()
    finally:
        conn.close()
    assert report.counts["failed"] == 0, report.failures
    return {url[len(base) :]: (title, body, enc) for url, title, body, enc in rows}


@pytest.mark.parametrize("path", list(CASES))
def test_decode_site_stores_text_as_readers_saw_it(stored, path):
    title, sentence, *_ = CASES[path]
    got_title, body, _ = stored[path]
    assert got_title == title
    assert sentence in body
    for bad in ("\ufffd", "Ã", "â€", "Â"):
        assert bad not in got_title + body


def test_decode_site_records_the_winning_encoding(stored):
    encodings = {path: stored[path][2] for path in CASES}
    assert encodings == {
        "/cp1252/": "windows-1252",
        "/latin1/": "windows-1252",
        "/sjis/": "cp932",
        "/utf8-as-latin1/": "utf-8",
        "/latin1-as-utf8/": "windows-1252",
    }
