"""URL variants and aliases end to end: a page reached by several URLs is stored once.

A small site on the test server offers one article under many spellings (session ids,
``index.html``, fragments), a case variant and other pages whose ``rel=canonical``
names it, a redirect to it, a canonical loop, a canonical that points at a 404 and
one that points off-site. The pipeline must store each article once and keep every
other URL as an alias of the stored one.
"""

from __future__ import annotations

import sqlite3

from migrator.config import Config
from migrator.load import Store
from migrator.pipeline import run
from servers import Reply, TestServer, redirect

TEXT = (
    "<p>Migrating an old blog means keeping every article, every address and every"
    " link that readers and search engines remember.</p>"
    "<p>Each article should be stored once, however many addresses lead to it.</p>"
) * 3


def article(title: str, canonical: str | None) -> Reply:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    html = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title>{link}</head>"
        f"<body><article><h1>{title}</h1>"
        f'<p class="meta"><time datetime="2020-03-04">March 4, 2020</time></p>'
        f"{TEXT}</article></body></html>"
    )
    return Reply(body=html.encode())


HOME_LINKS = [
    "/a/",
    "/a/?sessionid=1",
    "/a/index.html",
    "/a/#comments",
    "/A/",
    "/old-a",
    "/b/",
    "/d/",
    "/e/",
    "/f/",
    "/g/",
]


def site(server: TestServer) -> None:
    anchors = "".join(f'<li><a href="{h}">{h}</a></li>' for h in HOME_LINKS)
    home = f"<!doctype html><title>Home</title><h1>Home</h1><ul>{anchors}</ul>"
    server.script("/", Reply(body=home.encode()))
    server.script("/a/", article("Alpha", "/a/"))
    server.script("/A/", article("Alpha", server.url("/a/")))  # case variant, same page
    server.script("/old-a", redirect("/a/", 301))
    server.script("/b/", article("Gamma", "/c/"))  # canonical not linked anywhere
    server.script("/c/", article("Gamma", "/c/"))
    server.script("/d/", article("Delta", "/e/"))  # d and e name each other
    server.script("/e/", article("Delta", "/d/"))
    server.script("/f/", article("Phi", "/missing/"))  # the canonical is a 404
    server.script("/g/", article("Eta", "http://elsewhere.example/g/"))  # off-site


def config() -> Config:
    base = Config().with_fetch(delay=0.0, concurrency=4, max_attempts=1, backoff=0.01)
    return base.replace(extract=base.extract.__class__(workers=1))


def rows(db, sql):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_aliases_page_reached_by_several_urls_is_stored_once(tmp_path):
    db = tmp_path / "aliases.db"
    with TestServer() as server:
        site(server)
        with Store.open(db) as store:
            report = run(config(), store, start=server.url("/"))
        paths = [r.path for r in server.requests if r.method == "GET"]
    base = server.base_url

    def rel(url: str) -> str:
        return url[len(base) :] if url.startswith(base) else url

    pages = {rel(u): t for u, t in rows(db, "SELECT url, title FROM pages WHERE title != 'Home'")}
    # d and e name each other: whichever was fetched first is the alias of the other.
    delta = "/e/" if "/e/" in pages else "/d/"
    assert pages == {"/a/": "Alpha", "/c/": "Gamma", delta: "Delta", "/f/": "Phi", "/g/": "Eta"}
    aliases = {
        rel(u): (rel(t), k, p)
        for u, t, k, p in rows(
            db,
            "SELECT a.url, a.target_url, a.kind, p.url IS NOT NULL FROM aliases AS a"
            " LEFT JOIN pages AS p ON p.id = a.page_id",
        )
    }
    other = "/d/" if delta == "/e/" else "/e/"
    assert aliases == {
        "/A/": ("/a/", "canonical", 1),
        "/old-a": ("/a/", "redirect", 1),
        "/b/": ("/c/", "canonical", 1),
        other: (delta, "canonical", 1),
    }
    # Spellings that canonicalize to /a/ are never requested.
    assert [p for p in paths if p.startswith("/a/") and p != "/a/"] == []
    # The canonical target nobody links to was queued and fetched once; the 404 target
    # was tried once and the page that named it fetched again and kept as itself.
    assert paths.count("/c/") == 1
    assert paths.count("/missing/") == 1
    assert paths.count("/f/") == 2
    assert report.counts["aliased"] == 4  # /A/, /b/, one of d/e, and /f/ until /missing/ failed
    how = dict(rows(db, "SELECT url, via FROM crawl_state WHERE url LIKE '%/c/'"))
    assert how == {base + "/c/": "canonical"}


def test_aliases_reextraction_does_not_store_an_alias(tmp_path):
    """``migrator extract`` re-reads every raw page, aliases included, and stores none twice."""
    from migrator.pipeline import extract

    db = tmp_path / "aliases.db"
    with TestServer() as server:
        site(server)
        with Store.open(db) as store:
            run(config(), store, start=server.url("/"))
    before = rows(db, "SELECT url, content_hash FROM pages ORDER BY url")
    with Store.open(db) as store:
        report = extract(config(), store)
    assert rows(db, "SELECT url, content_hash FROM pages ORDER BY url") == before
    assert report.counts["aliased"] == 3
    assert report.counts["new"] == 0
