"""Tests of load.Store against real SQLite files in tmp_path."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, date, datetime

import pytest
import sqlite_utils

from migrator.errors import StoreError, StoreLocked
from migrator.load import Store
from migrator.models import (
    Crumb,
    Discovered,
    Image,
    Page,
    RawPage,
    Section,
    SidebarLink,
    record_hash,
)
from migrator.store.schema import SCHEMA_VERSION

SITE = "https://blog.example.com"
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def make_page(slug: str = "hello", **changes) -> Page:
    url = f"{SITE}/news/{slug}/"
    fields = {
        "url": url,
        "source_url": url,
        "canonical_url": url,
        "title": f"Post {slug}",
        "published": date(2023, 12, 12),
        "page_type": "post",
        "breadcrumbs": (
            Crumb(label="Home", url=f"{SITE}/"),
            Crumb(label="News", url=f"{SITE}/news/"),
            Crumb(label=f"Post {slug}", current=True),
        ),
        "sections": (
            Section(level=2, heading="Intro", text="aardvark intro"),
            Section(level=3, heading="Detail", text="detail text", parent=0),
        ),
        "sidebar_links": (
            SidebarLink(group="Recent", label="Other", url=f"{SITE}/news/other/"),
            SidebarLink(
                group="Recent", label="Gone", url=f"{SITE}/news/gone/", date=date(2024, 1, 2)
            ),
        ),
        "body_text": f"The aardvark of {slug} digs.",
        "body_markdown": f"The aardvark of {slug} digs.",
        "body_html": f"<p>The aardvark of {slug} digs.</p>",
        "tags": ("animals",),
        "extractor_version": "1",
    }
    fields.update(changes)
    return Page(**fields)


def make_raw(url: str, body: bytes = b"<html><body>hi</body></html>", **changes) -> RawPage:
    fields = {
        "url": url,
        "requested_url": url,
        "status": 200,
        "headers": (("content-type", "text/html; charset=utf-8"), ("etag", '"v1"')),
        "body": body,
        "fetched_at": T0,
    }
    fields.update(changes)
    return RawPage(**fields)


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "m.db") as opened:
        yield opened


def wait_for(proc: subprocess.Popen, marker: str) -> None:
    """Read the child's stdout up to ``marker`` (unconfigured structlog also prints there)."""
    for line in proc.stdout:
        if line.strip() == marker:
            return
    raise AssertionError(f"child exited before printing {marker!r}")


def rows(store: Store, sql: str, *params):
    return store.query(sql, params)


# ---------------------------------------------------------------------- opening


def test_store_open_creates_schema_and_pragmas(tmp_path):
    path = tmp_path / "deep" / "dir" / "m.db"
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        names = {r[0] for r in rows(store, "SELECT name FROM sqlite_master")}
        assert {
            "pages",
            "breadcrumbs",
            "sections",
            "sidebar_links",
            "raw_pages",
            "crawl_state",
            "aliases",
            "page_versions",
            "runs",
            "errors",
            "pages_fts",
            "posts",
            "sidebar_graph",
            "pages_missing_fields",
        } <= names
        assert rows(store, "PRAGMA journal_mode") == [("wal",)]
        assert rows(store, "PRAGMA foreign_keys") == [(1,)]
        assert rows(store, "PRAGMA synchronous") == [(1,)]  # NORMAL
        indexed = {
            r[0] for r in rows(store, "SELECT tbl_name FROM sqlite_master WHERE type = 'index'")
        }
        assert {"breadcrumbs", "sections", "sidebar_links", "page_versions", "aliases"} <= indexed
    assert path.exists()


def test_store_open_is_idempotent(tmp_path):
    path = tmp_path / "m.db"
    with Store.open(path) as store:
        store.save_page(make_page())
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.page_count() == 1


def test_store_open_locked_by_second_open(tmp_path):
    path = tmp_path / "m.db"
    with Store.open(path), pytest.raises(StoreLocked) as info:
        Store.open(path)
    assert str(info.value) == f"another migrator run is using {path}"
    # Released on close: a new open works.
    Store.open(path).close()


def test_store_open_without_lock_coexists(tmp_path):
    path = tmp_path / "m.db"
    with Store.open(path), Store.open(path, lock=False) as reader:
        assert reader.page_count() == 0


def test_store_open_lock_held_by_other_process(tmp_path):
    """The flock is per open file, so another process holding it blocks us too."""
    path = tmp_path / "m.db"
    script = textwrap.dedent(
        f"""
        import sys, time
        from migrator.load import Store
        s = Store.open({str(path)!r})
        print("ready", flush=True)
        sys.stdin.readline()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for(proc, "ready")
        with pytest.raises(StoreLocked):
            Store.open(path)
    finally:
        proc.communicate("\n", timeout=30)
    Store.open(path).close()


def test_store_open_under_regular_file_is_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as info:
        Store.open(blocker / "sub" / "m.db")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("cannot create the directory for database")
    assert not isinstance(info.value, StoreLocked)


def test_store_open_not_a_database(tmp_path):
    path = tmp_path / "m.db"
    path.write_bytes(b"this is plainly not sqlite " * 100)
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert "\n" not in str(info.value)
    assert "is not a SQLite database" in str(info.value)


def test_store_open_foreign_database_refused(tmp_path):
    path = tmp_path / "m.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="database of something else"):
        Store.open(path)


def test_store_open_newer_schema_refused(tmp_path):
    path = tmp_path / "m.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this migrator"):
        Store.open(path)


# Version 1 as it was laid down, written out by hand (not imported from schema.py),
# so the test keeps checking the upgrade from what old files really contain.
V1_DDL = """
CREATE TABLE runs (id INTEGER PRIMARY KEY, mode TEXT NOT NULL, status TEXT NOT NULL
  DEFAULT 'running', config_hash TEXT, start_url TEXT, started_at TEXT NOT NULL,
  finished_at TEXT, discovered INTEGER NOT NULL DEFAULT 0, fetched INTEGER NOT NULL DEFAULT 0,
  not_modified INTEGER NOT NULL DEFAULT 0, new INTEGER NOT NULL DEFAULT 0,
  changed INTEGER NOT NULL DEFAULT 0, unchanged INTEGER NOT NULL DEFAULT 0,
  removed INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0, counts TEXT NOT NULL DEFAULT '{}');
CREATE TABLE crawl_state (id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'in_progress', 'fetched', 'failed')),
  via TEXT, referrer TEXT, depth INTEGER NOT NULL DEFAULT 0, lastmod TEXT, page_type TEXT,
  attempts INTEGER NOT NULL DEFAULT 0, etag TEXT, last_modified TEXT, final_url TEXT,
  first_seen_at TEXT NOT NULL, last_fetched_at TEXT, last_status INTEGER);
CREATE INDEX crawl_state_frontier ON crawl_state (state, depth, id);
CREATE TABLE raw_pages (id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE,
  requested_url TEXT NOT NULL, status INTEGER NOT NULL, headers TEXT NOT NULL DEFAULT '[]',
  content_type TEXT, body BLOB NOT NULL, body_codec TEXT NOT NULL DEFAULT 'identity'
  CHECK (body_codec IN ('identity', 'zlib')), body_bytes INTEGER NOT NULL,
  redirects TEXT NOT NULL DEFAULT '[]', fetched_at TEXT NOT NULL, checked_at TEXT,
  elapsed_ms REAL NOT NULL DEFAULT 0, etag TEXT, last_modified TEXT);
CREATE TABLE pages (id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, canonical_url TEXT,
  source_url TEXT, raw_url TEXT, title TEXT, published_at TEXT, updated_at TEXT, author TEXT,
  language TEXT, description TEXT, page_type TEXT NOT NULL DEFAULT 'other',
  body_html TEXT NOT NULL DEFAULT '', body_markdown TEXT NOT NULL DEFAULT '',
  body_text TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '[]',
  categories TEXT NOT NULL DEFAULT '[]', images TEXT NOT NULL DEFAULT '[]', encoding TEXT,
  sources TEXT NOT NULL DEFAULT '{}', content_hash TEXT NOT NULL,
  extractor_version TEXT NOT NULL DEFAULT '',
  first_seen_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, changed_at TEXT NOT NULL,
  removed_at TEXT);
CREATE INDEX pages_canonical_url ON pages (canonical_url);
CREATE TABLE breadcrumbs (page_id INTEGER NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
  position INTEGER NOT NULL, label TEXT NOT NULL, url TEXT, is_current INTEGER NOT NULL
  DEFAULT 0, PRIMARY KEY (page_id, position));
CREATE TABLE sections (page_id INTEGER NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
  position INTEGER NOT NULL, level INTEGER NOT NULL, heading TEXT NOT NULL, anchor TEXT,
  parent_position INTEGER, text TEXT NOT NULL DEFAULT '', html TEXT NOT NULL DEFAULT '',
  markdown TEXT NOT NULL DEFAULT '', PRIMARY KEY (page_id, position));
CREATE TABLE sidebar_links (page_id INTEGER NOT NULL REFERENCES pages (id)
  ON DELETE CASCADE, position INTEGER NOT NULL, group_name TEXT NOT NULL, label TEXT NOT NULL,
  url TEXT NOT NULL, published_at TEXT, PRIMARY KEY (page_id, position));
CREATE INDEX sidebar_links_url ON sidebar_links (url);
CREATE TABLE errors (id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs (id),
  url TEXT NOT NULL, stage TEXT NOT NULL CHECK (stage IN ('fetch', 'extract', 'load')),
  status INTEGER, reason TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1,
  first_failed_at TEXT NOT NULL, last_tried_at TEXT NOT NULL);
CREATE INDEX errors_url ON errors (url);
CREATE UNIQUE INDEX errors_run_url_stage ON errors (ifnull(run_id, 0), url, stage);
PRAGMA user_version = 1;
"""


def test_store_open_upgrades_v1_database(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(V1_DDL)
    conn.execute(
        "INSERT INTO pages (url, title, body_text, content_hash, first_seen_at,"
        " last_seen_at, changed_at) VALUES (?, 'Old post', 'the wombat sleeps', 'h1',"
        " '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00',"
        " '2024-01-01T00:00:00+00:00')",
        (f"{SITE}/old/",),
    )
    conn.execute("INSERT INTO breadcrumbs VALUES (1, 0, 'Home', ?, 0)", (f"{SITE}/",))
    conn.commit()
    conn.close()

    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        # Data survives; new columns take their defaults.
        assert rows(store, "SELECT id, title, version FROM pages") == [(1, "Old post", 1)]
        # The existing page was indexed by the upgrade.
        assert rows(store, "SELECT rowid FROM pages_fts WHERE pages_fts MATCH 'wombat'") == [(1,)]
        assert rows(store, "SELECT count(*) FROM page_versions") == [(0,)]
        assert rows(store, "PRAGMA integrity_check") == [("ok",)]
        # The upgraded database takes new writes like a fresh one.
        old = make_page("old", url=f"{SITE}/old/", title="Old post", body_text="new wombat")
        assert store.save_page(old) == "changed"
        assert rows(store, "SELECT version, record FROM page_versions")[0][0] == 1
    with Store.open(path) as store:  # a second open does not migrate again
        assert store.schema_version == SCHEMA_VERSION
        assert rows(store, "SELECT count(*) FROM pages") == [(1,)]


def test_store_open_failed_upgrade_leaves_database_untouched(tmp_path):
    """An upgrade is one transaction: a clash half-way leaves version 1 intact."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(V1_DDL)
    conn.execute("CREATE TABLE aliases (x)")  # makes the v2 step fail on CREATE TABLE aliases
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="cannot upgrade database"):
        Store.open(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (1,)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(pages)")}
    assert "version" not in columns  # the ALTER before the clash was rolled back
    conn.close()


# ---------------------------------------------------------------------- pages


def test_save_page_new_then_unchanged(store):
    page = make_page()
    assert store.save_page(page) == "new"
    first = rows(store, "SELECT id, content_hash, changed_at, title, version FROM pages")
    assert store.save_page(page) == "unchanged"
    assert rows(store, "SELECT id, content_hash, changed_at, title, version FROM pages") == first
    assert rows(store, "SELECT count(*) FROM pages") == [(1,)]
    assert rows(store, "SELECT count(*) FROM page_versions") == [(0,)]
    assert rows(store, "SELECT count(*) FROM breadcrumbs") == [(3,)]


def test_save_page_fills_columns_and_children(store):
    page = make_page()
    store.save_page(page, raw_url=page.url)
    row = rows(
        store,
        "SELECT url, title, published_at, page_type, tags, raw_url, content_hash FROM pages",
    )[0]
    assert row[:6] == (page.url, "Post hello", "2023-12-12", "post", '["animals"]', page.url)
    assert len(row[6]) == 64  # computed from the record when the Page has none
    assert rows(store, "SELECT position, label, url, is_current FROM breadcrumbs") == [
        (0, "Home", f"{SITE}/", 0),
        (1, "News", f"{SITE}/news/", 0),
        (2, "Post hello", None, 1),
    ]
    assert rows(store, "SELECT position, level, heading, parent_position FROM sections") == [
        (0, 2, "Intro", None),
        (1, 3, "Detail", 0),
    ]
    assert rows(store, "SELECT position, group_name, label, published_at FROM sidebar_links") == [
        (0, "Recent", "Other", None),
        (1, "Recent", "Gone", "2024-01-02"),
    ]


def test_page_record_round_trips_to_record(store):
    """The record rebuilt from columns equals Page.to_record(), field for field."""
    page = make_page(
        updated=datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC),
        author="Ann",
        language="en",
        description="d",
        categories=("News",),
        images=(Image(src=f"{SITE}/a.png", alt="A"),),
        sections=(Section(level=2, heading="H", text="t", anchor="h", html="<p>t</p>"),),
        encoding="utf-8",
        sources=(("title", "jsonld"),),
    )
    page = dataclasses.replace(page, content_hash=record_hash(page.to_record()))
    store.save_page(page)
    assert store.page_record(page.url) == page.to_record()
    assert list(store.iter_records()) == [page.to_record()]
    assert store.page_record(f"{SITE}/missing/") is None


def test_save_page_changed_keeps_id_and_versions_old_record(store):
    first = make_page()
    store.save_page(first)
    (page_id,) = rows(store, "SELECT id FROM pages")[0]
    second = make_page(
        title="Renamed",
        breadcrumbs=(Crumb(label="Home", url=f"{SITE}/"), Crumb(label="Renamed", current=True)),
        sections=(Section(level=2, heading="Only", text="one"),),
        sidebar_links=(),
    )
    assert store.save_page(second) == "changed"
    assert rows(store, "SELECT id, title, version FROM pages") == [(page_id, "Renamed", 2)]
    versions = rows(store, "SELECT page_id, version, record FROM page_versions")
    assert [(v[0], v[1]) for v in versions] == [(page_id, 1)]
    assert json.loads(versions[0][2])["title"] == "Post hello"
    # Children replaced, positions from 0, foreign keys valid.
    assert rows(store, "SELECT position, label FROM breadcrumbs") == [(0, "Home"), (1, "Renamed")]
    assert rows(store, "SELECT position, heading FROM sections") == [(0, "Only")]
    assert rows(store, "SELECT count(*) FROM sidebar_links") == [(0,)]
    assert rows(store, "PRAGMA foreign_key_check") == []
    # A third version stacks on top.
    assert store.save_page(make_page(title="Third")) == "changed"
    assert rows(store, "SELECT version FROM page_versions ORDER BY version") == [(1,), (2,)]
    last = rows(store, "SELECT record FROM page_versions WHERE version = 2")[0][0]
    assert json.loads(last)["title"] == "Renamed"


def test_save_page_fts_follows_insert_and_update(store):
    store.save_page(make_page(body_text="the quokka smiles"))
    find = "SELECT p.url FROM pages_fts JOIN pages AS p ON p.id = pages_fts.rowid WHERE pages_fts MATCH ?"  # noqa: E501
    assert rows(store, find, "quokka") == [(f"{SITE}/news/hello/",)]
    store.save_page(make_page(body_text="the numbat naps"))
    assert rows(store, find, "quokka") == []
    assert rows(store, find, "numbat") == [(f"{SITE}/news/hello/",)]
    assert rows(store, find, "title:hello") == [(f"{SITE}/news/hello/",)]
    # sqlite-utils recognises the layout.
    db = sqlite_utils.Database(store.path)
    assert db["pages"].detect_fts() == "pages_fts"
    assert [r["url"] for r in db["pages"].search("numbat")] == [f"{SITE}/news/hello/"]
    db.close()


def test_save_page_removed_then_reappears(store):
    page = make_page()
    store.save_page(page)
    assert store.mark_removed(page.url, T0) is True
    assert store.mark_removed(page.url, T0) is False  # already removed
    assert rows(store, "SELECT removed_at FROM pages") == [("2024-06-01T12:00:00+00:00",)]
    assert store.page_count() == 0
    assert store.page_count(include_removed=True) == 1
    assert store.save_page(page) == "unchanged"
    assert rows(store, "SELECT removed_at FROM pages") == [(None,)]
    assert store.page_count() == 1


def test_mark_removed_follows_crawl_url_and_redirect(store):
    page = make_page()
    old = f"{SITE}/?p=12"
    store.add_urls([Discovered(url=old, via="sitemap")])
    store.save_fetch(old, make_raw(page.url, requested_url=old, redirects=(old,)))
    store.save_page(page, raw_url=page.url)
    assert store.mark_removed(old, T0) is True
    assert store.mark_removed(f"{SITE}/unknown/", T0) is False


def test_save_page_failure_rolls_back_only_that_page(store):
    good = make_page("good")
    bad = make_page("bad", sections=(Section(level=2, heading=None, text="x"),))  # NOT NULL
    with store.transaction():
        assert store.save_page(good) == "new"
        with pytest.raises(StoreError):
            store.save_page(bad)
        assert store.save_page(make_page("after")) == "new"
    assert store.known_page_urls() == {good.url, f"{SITE}/news/after/"}
    assert rows(store, "SELECT count(*) FROM breadcrumbs") == [(6,)]


def test_transaction_rolls_back_on_error(store):
    def write_then_fail():
        with store.transaction():
            store.save_page(make_page("a"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail()
    assert store.page_count() == 0
    with store.transaction(), store.transaction():  # nested becomes a savepoint
        store.save_page(make_page("b"))
    assert store.page_count() == 1


# ---------------------------------------------------------------------- frontier


def test_add_urls_counts_new_and_updates_lastmod(store):
    items = [
        Discovered(url=f"{SITE}/a/", via="sitemap", lastmod="2024-01-01"),
        Discovered(url=f"{SITE}/b/", via="link", referrer=f"{SITE}/", depth=1),
        Discovered(url=f"{SITE}/a/", via="link"),  # duplicate inside the batch
    ]
    assert store.add_urls(items) == 2
    assert store.add_urls([Discovered(url=f"{SITE}/a/", via="sitemap", lastmod="2024-03-01")]) == 0
    assert store.add_urls([Discovered(url=f"{SITE}/a/", via="sitemap", lastmod="2023-01-01")]) == 0
    assert store.add_urls([]) == 0
    assert rows(store, "SELECT url, via, lastmod, state FROM crawl_state ORDER BY id") == [
        (f"{SITE}/a/", "sitemap", "2024-03-01", "queued"),
        (f"{SITE}/b/", "link", None, "queued"),
    ]


def test_claim_orders_by_depth_and_marks_in_progress(store):
    store.add_urls(
        [
            Discovered(url=f"{SITE}/deep/", via="link", depth=2),
            Discovered(url=f"{SITE}/", via="start"),
            Discovered(url=f"{SITE}/one/", via="link", depth=1),
            Discovered(url=f"{SITE}/two/", via="link", depth=1),
        ]
    )
    first = store.claim(3)
    assert [i.url for i in first] == [f"{SITE}/", f"{SITE}/one/", f"{SITE}/two/"]
    assert first[0].via == "start"
    assert first[0].attempts == 0
    assert store.crawl_counts() == {"in_progress": 3, "queued": 1}
    assert [i.url for i in store.claim(10)] == [f"{SITE}/deep/"]
    assert store.claim(10) == []
    assert store.claim(0) == []


def test_claim_spread_takes_the_shallowest_depth_spread_over_the_frontier(store):
    """Before the site model is learned, a crawl claims the sitemap's URLs spread over
    the whole list (every template, not only its first entries); depth still comes first."""
    urls = [f"{SITE}/post-{n}/" for n in range(200)]
    store.add_urls([Discovered(url=u, via="sitemap") for u in urls])
    store.add_urls([Discovered(url=f"{SITE}/deep/", via="link", depth=1)])
    first = [i.url for i in store.claim(20, spread=True)]
    assert len(first) == 20
    assert first != urls[:20]  # not discovery order
    positions = sorted(urls.index(u) for u in first)
    assert positions[-1] - positions[0] > 100  # spread over the list, not a run of it
    rest = [i.url for i in store.claim(500, spread=True)]
    assert rest[-1] == f"{SITE}/deep/"
    assert sorted(first + rest[:-1]) == sorted(urls)


def test_retag_pages_only_where_the_old_tag_is_still_there(store):
    store.save_page(make_page("a", extractor_version="5+sig:old"))
    store.save_page(make_page("b", extractor_version="5+sig:newer"))
    store.save_listing(f"{SITE}/list/", "listing", version="5+sig:old")
    changed = store.retag_pages(
        [
            (f"{SITE}/news/a/", "5+sig:old", "5+sig:new"),
            (f"{SITE}/news/b/", "5+sig:old", "5+sig:new"),
            (f"{SITE}/list/", "5+sig:old", "5+sig:new"),
        ]
    )
    assert changed == 2
    versions = dict(rows(store, "SELECT url, extractor_version FROM pages"))
    assert versions == {f"{SITE}/news/a/": "5+sig:new", f"{SITE}/news/b/": "5+sig:newer"}
    listed = rows(store, "SELECT extracted_with FROM crawl_state WHERE url = ?", f"{SITE}/list/")
    assert listed == [("5+sig:new",)]


def test_requeue_in_progress_resumes_a_killed_run(tmp_path):
    path = tmp_path / "m.db"
    with Store.open(path) as store:
        store.add_urls([Discovered(url=f"{SITE}/{i}/", via="link") for i in range(5)])
        claimed = store.claim(3)
        store.save_fetch(claimed[0].url, make_raw(claimed[0].url))
        # ... the process dies here with two URLs in flight.
    with Store.open(path) as store:
        assert store.requeue_in_progress() == 2
        assert store.crawl_counts() == {"fetched": 1, "queued": 4}
        again = store.claim(10)
        assert [i.url for i in again] == [f"{SITE}/{i}/" for i in (1, 2, 3, 4)]
        assert [i.attempts for i in again] == [1, 1, 0, 0]


def test_queue_for_sync_keeps_validators(store):
    url = f"{SITE}/a/"
    store.add_urls([Discovered(url=url, via="sitemap"), Discovered(url=f"{SITE}/b/", via="link")])
    store.claim(2)
    store.save_fetch(
        url,
        make_raw(
            url, headers=(("etag", '"abc"'), ("last-modified", "Mon, 01 Jan 2024 00:00:00 GMT"))
        ),
    )
    store.save_failure(f"{SITE}/b/", stage="fetch", reason="http_500", status=500, attempts=3)
    assert store.queue_for_sync() == 2
    items = {i.url: i for i in store.claim(10)}
    assert items[url].etag == '"abc"'
    assert items[url].last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    store.save_not_modified(url, T0)
    assert rows(store, "SELECT state, last_status FROM crawl_state WHERE url = ?", url) == [
        ("fetched", 304)
    ]


# ---------------------------------------------------------------------- raw pages


def test_save_fetch_round_trips_and_compresses(store):
    body = ("<html><body>" + "<p>lorem ipsum dolor</p>" * 500 + "</body></html>").encode()
    url = f"{SITE}/big/"
    old = f"{SITE}/?p=7"
    raw = make_raw(url, body=body, requested_url=old, redirects=(old,), elapsed_ms=12.5)
    store.add_urls([Discovered(url=old, via="sitemap"), Discovered(url=url, via="link")])
    store.claim(10)
    store.save_fetch(old, raw, page_type="post")
    codec, stored, size = rows(store, "SELECT body_codec, length(body), body_bytes FROM raw_pages")[
        0
    ]
    assert codec == "zlib"
    assert size == len(body)
    assert stored < len(body) // 5
    assert store.raw_page(url) == raw
    assert list(store.iter_raw_pages()) == [raw]
    assert rows(store, "SELECT url, target_url, kind FROM aliases") == [(old, url, "redirect")]
    assert rows(store, "SELECT url, state, final_url, etag FROM crawl_state ORDER BY id") == [
        (old, "fetched", url, '"v1"'),
        (url, "fetched", url, '"v1"'),
    ]
    # Saving the page links the alias to it, so the redirect resolves to an id.
    store.save_page(make_page("big", url=url))
    assert rows(store, "SELECT a.page_id = p.id FROM aliases a, pages p") == [(1,)]


def test_iter_raw_pages_streams_only_html_2xx(store):
    for i in range(150):
        store.save_fetch(f"{SITE}/p{i}/", make_raw(f"{SITE}/p{i}/", body=b"x" * i))
    store.save_fetch(f"{SITE}/err/", make_raw(f"{SITE}/err/", status=500))
    store.save_fetch(
        f"{SITE}/img.png", make_raw(f"{SITE}/img.png", headers=(("content-type", "image/png"),))
    )
    seen = []
    for raw in store.iter_raw_pages():
        seen.append(raw.url)
        store.save_page(make_page(raw.url.rsplit("/", 2)[1]))  # writes between items work
    assert seen == [f"{SITE}/p{i}/" for i in range(150)]


def test_save_failure_records_error_and_state(store):
    url = f"{SITE}/x/"
    store.add_urls([Discovered(url=url, via="link")])
    run_id = store.start_run("run", config_hash="h", start_url=f"{SITE}/")
    store.save_failure(url, stage="fetch", reason="http_503", status=503, attempts=3)
    store.save_failure(url, stage="fetch", reason="timeout", status=None, attempts=2)
    assert rows(store, "SELECT run_id, url, stage, status, reason, attempts FROM errors") == [
        (run_id, url, "fetch", None, "timeout", 5)
    ]
    assert rows(store, "SELECT state, last_status FROM crawl_state") == [("failed", 503)]


def test_save_listing_keeps_type_in_crawl_state(store):
    store.save_listing(f"{SITE}/page/2/", "listing")
    assert rows(store, "SELECT url, state, page_type FROM crawl_state") == [
        (f"{SITE}/page/2/", "fetched", "listing")
    ]
    assert store.page_count() == 0


# ---------------------------------------------------------------------- runs


def test_runs_start_finish_and_interrupted(store):
    first = store.start_run("run", config_hash="abc", start_url=f"{SITE}/")
    second = store.start_run("sync", config_hash="abc", start_url=None)  # first was killed
    store.finish_run(second, status="ok", counts={"fetched": 3, "new": 2, "listings": 1})
    got = rows(store, "SELECT id, mode, status, fetched, new, counts FROM runs ORDER BY id")
    assert got[0][:3] == (first, "run", "interrupted")
    assert got[1][:5] == (second, "sync", "ok", 3, 2)
    assert json.loads(got[1][5]) == {"fetched": 3, "new": 2, "listings": 1}
    assert store.last_start_url() == f"{SITE}/"


# ---------------------------------------------------------------------- views


def test_views_on_small_dataset(store):
    hello = make_page("hello")  # sidebar: other (exists), gone (removed)
    other = make_page("other", sidebar_links=())
    gone = make_page("gone", sidebar_links=())
    bare = make_page(
        "bare",
        title=None,
        published=None,
        breadcrumbs=(Crumb(label="Home", url=f"{SITE}/"), Crumb(label="Recipes", url=f"{SITE}/r/")),
        sections=(),
        sidebar_links=(SidebarLink(group="More", label="Nowhere", url=f"{SITE}/nowhere/"),),
    )
    about = make_page("about", page_type="page", breadcrumbs=(), sections=(), sidebar_links=())
    for page in (hello, other, gone, bare, about):
        store.save_page(page)
    store.mark_removed(gone.url, T0)

    posts = {r[0]: r[1:] for r in rows(store, "SELECT url, category, breadcrumb_path FROM posts")}
    assert posts == {
        hello.url: ("News", "Home > News > Post hello"),
        other.url: ("News", "Home > News > Post other"),
        bare.url: ("Recipes", "Home > Recipes"),
    }

    graph = rows(
        store,
        "SELECT source_url, position, target_url, target_id, dangling FROM sidebar_graph"
        " ORDER BY source_id, position",
    )
    ids = dict(rows(store, "SELECT url, id FROM pages"))
    assert graph == [
        (hello.url, 0, other.url, ids[other.url], 0),
        (hello.url, 1, gone.url, ids[gone.url], 1),
        (bare.url, 0, f"{SITE}/nowhere/", None, 1),
    ]

    missing = rows(store, "SELECT url, missing FROM pages_missing_fields ORDER BY id")
    assert missing == [
        (bare.url, "title,published,sections"),
        (about.url, "breadcrumbs,sections"),
    ]


def test_posts_category_without_title_crumb_and_root_only(store):
    only_home = make_page("solo", breadcrumbs=(Crumb(label="Home", url=f"{SITE}/"),))
    first_is_category = make_page(
        "cat", breadcrumbs=(Crumb(label="Travel", url=f"{SITE}/travel/"), Crumb(label="Post cat"))
    )
    store.save_page(only_home)
    store.save_page(first_is_category)
    got = dict(rows(store, "SELECT url, category FROM posts"))
    assert got == {only_home.url: None, first_is_category.url: "Travel"}


# ---------------------------------------------------------------------- crash safety

KILL_SCRIPT = """
import sys
from datetime import date
from migrator.load import Store
from migrator.models import Crumb, Page, Section
store = Store.open(sys.argv[1])
i = 0
while True:
    with store.transaction():
        for _ in range(20):
            url = f"https://blog.example.com/p{i % 400}/"
            page = Page(
                url=url, source_url=url, canonical_url=url, title=f"t{i}",
                published=date(2024, 1, 1), page_type="post", body_text="x " * 500 + str(i),
                breadcrumbs=(Crumb(label="Home", url="https://blog.example.com/"),),
                sections=tuple(Section(level=2, heading=f"h{j}", text="y" * 200)
                               for j in range(5)),
            )
            store.save_page(page)
            i += 1
    if i == 200:
        print("saving", flush=True)
"""


def test_store_survives_sigkill_mid_save_loop(tmp_path):
    path = tmp_path / "m.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for(proc, "saving")
        time.sleep(0.5)  # not a timed assertion: lets the loop run into later batches
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -9
    with Store.open(path) as store:  # the lock died with the process
        assert rows(store, "PRAGMA integrity_check") == [("ok",)]
        assert rows(store, "PRAGMA foreign_key_check") == []
        (pages, distinct) = rows(store, "SELECT count(*), count(DISTINCT url) FROM pages")[0]
        assert pages == distinct
        assert 0 < pages <= 400
        assert rows(
            store,
            "SELECT count(*) FROM pages p WHERE (SELECT count(*) FROM sections s"
            " WHERE s.page_id = p.id) != 5",
        ) == [(0,)]
        # FTS in step with the table: every page is found by its title token.
        assert rows(store, "SELECT count(*) FROM pages_fts WHERE pages_fts MATCH 'x'") == [(pages,)]
        assert rows(store, "INSERT INTO pages_fts (pages_fts) VALUES ('integrity-check')") == []
        page = dataclasses.replace(make_page("after"), url=f"{SITE}/p0/")
        assert store.save_page(page) == "changed"


def test_store_open_directory_path_is_store_error(tmp_path):
    target = tmp_path / "a_directory"
    target.mkdir()
    with pytest.raises(StoreError) as info:
        Store.open(target)
    assert str(info.value).startswith(f"cannot open database {target}")
    assert "\n" not in str(info.value)


def test_save_not_modified_marks_page_seen(store):
    page = make_page()
    store.add_urls([Discovered(url=page.url, via="sitemap")])
    store.claim(1)
    store.save_fetch(page.url, make_raw(page.url))
    store.save_page(page, raw_url=page.url)
    store.mark_removed(page.url, T0)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    store.save_not_modified(page.url, later)
    assert rows(store, "SELECT last_seen_at, removed_at FROM pages") == [
        ("2030-01-01T00:00:00+00:00", None)
    ]
    assert rows(store, "SELECT checked_at, fetched_at FROM raw_pages") == [
        ("2030-01-01T00:00:00+00:00", "2024-06-01T12:00:00+00:00")
    ]
