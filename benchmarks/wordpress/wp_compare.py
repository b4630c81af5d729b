"""Compare a migration database with WordPress's own view of the same blog.

This module owns the checks of the WordPress bullet of issue #10 and their report: it
reads ``dump.php``'s JSON (the truth) and migrator's SQLite file, classifies every URL
migrator stored by what WordPress says it is (post, static page, attachment, month
archive, sub-page of a split post...), and returns every mismatch with the URL, what
WordPress has, what migrator stored and which element of the page holds the answer.
It is pure apart from reading the database file: no network, no WordPress.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from migrator.urls import canonical_url

__all__ = ["classify", "compare", "render_summary", "url_key"]

# Where the right answer sits in a Twenty Twenty-One page (the "hint" of each check).
HINTS: dict[str, str] = {
    "posts_once": "body.single-post + link[rel=canonical]; one record per post, "
    "sub-pages /2/ /3/ fold into it",
    "nothing_else_post": "body class: archive date / category / tag / author / paged / "
    "attachment / page-template-default / home blog",
    "no_unpublished": "drafts, private, pending and scheduled posts are never served to "
    "anonymous visitors",
    "recent_posts_sidebar": 'section.widget_recent_entries > nav[aria-label="Recent Posts"] '
    "ul li a",
    "title": "h1.entry-title (= og/title minus ' – Site name')",
    "published": "time.entry-date.published[datetime] inside .posted-on (ISO 8601 with offset)",
    "author": "span.byline a[rel=author]; for authors with a bio: .author-bio h2.author-title "
    '("By Chen Wei")',
    "shortlink_alias": "link[rel=shortlink] href='/?p=ID' in <head>",
    "static_pages": "body.page: h1.entry-title; no date is shown on a static page",
    "sections": ".entry-content h2/h3 only (not widget titles, 'Leave a comment', author box)",
    "body": "div.entry-content: every p and pre of the post, no widget/comment furniture",
    "taxonomies": "footer.entry-footer .cat-links a[rel~=category] and .tags-links a[rel=tag]",
    "featured_image": "figure.post-thumbnail img.wp-post-image (set_post_thumbnail); none "
    "elsewhere: not the author's avatar, not an image of the body",
}


def url_key(url: str) -> str:
    """Match key of a URL: migrator's canonical form without a trailing slash."""
    parts = urlsplit(canonical_url(url))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


_PAGED = re.compile(r"^(?P<base>.*?)/page/(?P<n>\d+)$")
_SUBPAGE = re.compile(r"^(?P<base>.*?)/(?P<n>\d+)$")
_COMMENT_PAGE = re.compile(r"^(?P<base>.*?)/comment-page-\d+$")


@dataclass(slots=True)
class Truth:
    """WordPress's objects indexed by URL key."""

    home: str
    by_key: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    posts: dict[int, dict[str, Any]] = field(default_factory=dict)


def _index(truth: dict[str, Any]) -> Truth:
    t = Truth(home=truth["home"])
    by_key = t.by_key
    for p in truth["posts"]:
        t.posts[p["id"]] = p
        published = p["status"] in ("publish", "inherit")
        if p["type"] == "post" and p["status"] == "publish":
            by_key[url_key(p["permalink"])] = ("post", p["id"])
            by_key[url_key(p["shortlink"])] = ("post-shortlink", p["id"])
            for n in range(2, p["pages"] + 1):
                by_key[url_key(p["permalink"].rstrip("/") + f"/{n}/")] = ("post-subpage", p["id"])
        elif p["type"] == "page" and published:
            by_key[url_key(p["permalink"])] = ("static-page", p["id"])
        elif p["type"] == "attachment":
            by_key[url_key(p["permalink"])] = ("attachment", p["id"])
        elif p["type"] == "post":
            by_key.setdefault(url_key(p["permalink"]), ("unpublished-post", p["id"]))
            by_key[url_key(f"{truth['home']}?p={p['id']}")] = ("unpublished-post", p["id"])
    for term in truth["terms"]:
        kind = "category-archive" if term["taxonomy"] == "category" else "tag-archive"
        by_key[url_key(term["link"])] = (kind, term["id"])
    for author in truth["authors"]:
        by_key[url_key(author["link"])] = ("author-archive", author["id"])
    for kind in ("year", "month", "day"):
        for link in truth["archives"][kind]:
            by_key.setdefault(url_key(link), (f"{kind}-archive", None))
    by_key[url_key(truth["home"])] = ("home", None)
    return t


def classify(t: Truth, url: str) -> tuple[str, int | None]:
    """What WordPress serves at ``url``: (kind, post or term id)."""
    key = url_key(url)
    if key in t.by_key:
        return t.by_key[key]
    path = urlsplit(key).path
    query = urlsplit(key).query
    if "replytocom=" in query:
        return ("reply-link", None)
    if query.startswith("s=") or "&s=" in query:
        return ("search", None)
    if "/feed" in path or "feed=" in query:
        return ("feed", None)
    if path.startswith(("/wp-json", "/wp-login", "/wp-admin", "/xmlrpc")) or "rest_route" in query:
        return ("wp-endpoint", None)
    if path.endswith((".xml", ".xsl")):
        return ("sitemap", None)
    paged = _PAGED.match(path)
    if paged:
        base_url = urlunsplit(("http", urlsplit(key).netloc, paged["base"] or "/", query, ""))
        kind, ident = classify(t, base_url)
        return (f"{kind}-paged", ident)
    comment_page = _COMMENT_PAGE.match(path)
    if comment_page:
        return ("comment-page", None)
    return ("other", None)


def _parse_published(value: str | None) -> date | datetime | None:
    if not value:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _published_mismatch(got: str | None, post: dict[str, Any], tz: ZoneInfo) -> str | None:
    """None when ``got`` is WordPress's publication date, else why not."""
    local = datetime.fromisoformat(post["date"])
    instant = datetime.fromisoformat(post["date_gmt"]).replace(tzinfo=ZoneInfo("UTC"))
    parsed = _parse_published(got)
    if parsed is None:
        return "missing" if not got else "unparseable"
    if isinstance(parsed, datetime):
        if parsed.tzinfo is None:
            return (
                None
                if parsed == local
                else "wrong local time"
                if parsed.date() == local.date()
                else "wrong day"
            )
        if parsed == instant:
            return None
        if parsed.astimezone(tz).date() == local.date():
            return "right day, wrong time or offset"
        return "wrong day"
    return None if parsed == local.date() else "wrong day"


# Headings of Twenty Twenty-One's furniture: none belongs in a post's body.
_FURNITURE = (
    "Recent Posts",
    "Recent Comments",
    "Leave a Comment",
    "Post navigation",
    "Previous post",
    "Next post",
)


def _squash(text: str | None) -> str:
    return " ".join(html.unescape(text or "").split()).lower()


def _norm_title(value: str | None) -> str:
    return " ".join(html.unescape(value or "").split())


@dataclass(slots=True)
class Check:
    name: str
    label: str
    total: int = 0
    passed: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    def record(self, ok: bool, **details: Any) -> None:
        self.total += 1
        if ok:
            self.passed += 1
        else:
            self.mismatches.append(details)

    def as_dict(self) -> dict[str, Any]:
        reasons = Counter(str(m.get("reason", "mismatch")) for m in self.mismatches)
        return {
            "name": self.name,
            "label": self.label,
            "ok": not self.mismatches,
            "passed": self.passed,
            "total": self.total,
            "failed": len(self.mismatches),
            "reasons": dict(reasons.most_common()),
            "hint": HINTS.get(self.name, ""),
            "mismatches": self.mismatches,
        }


def compare(truth: dict[str, Any], db: Path) -> dict[str, Any]:
    """Run every check of migrator's database ``db`` against WordPress's ``truth``.

    Args:
        truth: ``dump.php``'s JSON.
        db: the migration database (``migrator run --db``).

    Returns:
        ``checks`` (each with counts, reasons and every mismatch), ``kinds`` (WordPress
        kind -> migrator page_type -> count, for every URL migrator stored or crawled)
        and ``crawl`` (counts of crawl states and errors).
    """
    t = _index(truth)
    tz = ZoneInfo(truth["timezone"]) if "/" in truth["timezone"] else ZoneInfo("UTC")
    if not db.exists():
        raise FileNotFoundError(f"no migration database at {db}")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    rows = conn.execute(
        "SELECT id, url, canonical_url, title, published_at, author, page_type, body_text,"
        " categories, tags, featured_image"
        " FROM pages WHERE removed_at IS NULL ORDER BY url"
    ).fetchall()
    sidebar: dict[int, list[sqlite3.Row]] = defaultdict(list)
    for link in conn.execute(
        "SELECT page_id, group_name, label, url FROM sidebar_links ORDER BY page_id, position"
    ):
        sidebar[link["page_id"]].append(link)
    headings: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for sec in conn.execute(
        "SELECT page_id, level, heading FROM sections ORDER BY page_id, position"
    ):
        headings[sec["page_id"]].append((sec["level"], " ".join(sec["heading"].split())))
    aliases = {
        url_key(a["url"]): a
        for a in conn.execute("SELECT url, target_url, page_id, kind FROM aliases")
    }
    crawl = conn.execute(
        "SELECT url, state, page_type, final_url, last_status FROM crawl_state"
    ).fetchall()
    errors = [dict(e) for e in conn.execute("SELECT url, stage, status, reason FROM errors")]
    conn.close()

    # Each stored row: what WordPress serves there (by its URL, else its canonical URL).
    classified: list[tuple[sqlite3.Row, str, int | None]] = []
    for row in rows:
        kind, ident = classify(t, row["url"])
        if kind == "other" and row["canonical_url"]:
            kind, ident = classify(t, row["canonical_url"])
        classified.append((row, kind, ident))

    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for _row, kind, _ident in classified:
        kinds[kind][_row["page_type"]] += 1
    stored = {url_key(r["url"]) for r in rows}
    for c in crawl:
        if url_key(c["final_url"] or c["url"]) in stored or url_key(c["url"]) in stored:
            continue
        kind, _ = classify(t, c["url"])
        label = f"not stored ({c['page_type'] or c['state']})"
        kinds[kind][label] += 1

    published = [p for p in truth["posts"] if p["type"] == "post" and p["status"] == "publish"]
    posts_once = Check("posts_once", "every published post stored once, typed post")
    nothing_else = Check("nothing_else_post", "nothing else typed post")
    unpublished = Check("no_unpublished", "no draft/private/pending/future post stored")
    recent = Check("recent_posts_sidebar", "Recent Posts links in sidebar_links")
    titles = Check("title", "post title = WordPress's")
    dates = Check("published", "post published = WordPress's")
    authors = Check("author", "post author = WordPress's")
    shortlinks = Check("shortlink_alias", "?p=ID shortlink recorded in aliases")
    static = Check("static_pages", "static page: title right, no date, not a post")
    sections = Check("sections", "post sections = the body's h2-h6")
    taxonomies = Check("taxonomies", "post categories and tags = WordPress's")
    bodies = Check("body", "post body keeps every paragraph, no furniture")
    featured = Check("featured_image", "post featured image = WordPress's post thumbnail")

    precision: Counter[str] = Counter()
    subpages: dict[int, list[str]] = defaultdict(list)
    for row, kind, ident in classified:
        if kind == "post-subpage" and ident is not None:
            subpages[ident].append(f"{row['url']} ({row['page_type']})")
    typed_post_by_id: dict[int, list[str]] = defaultdict(list)
    row_for_post: dict[int, sqlite3.Row] = {}
    for row, kind, ident in classified:
        if kind == "post" and ident is not None:
            row_for_post[ident] = row
        if row["page_type"] == "post" and ident is not None and kind.startswith("post"):
            typed_post_by_id[ident].append(row["url"])

    crawl_by_key = {url_key(c["url"]): c for c in crawl}
    for p in published:
        row = row_for_post.get(p["id"])
        typed = typed_post_by_id.get(p["id"], [])
        base = {"url": p["permalink"], "wp_id": p["id"], "title": p["title_raw"]}
        if row is None:
            c = crawl_by_key.get(url_key(p["permalink"]))
            got = (
                "never crawled"
                if c is None
                else (
                    f"crawled ({c['state']}, status {c['last_status']}, "
                    f"crawl page_type {c['page_type']}), no pages row"
                )
            )
            posts_once.record(
                False, reason="missing", expected="one row typed post", got=got, **base
            )
            continue
        if row["page_type"] != "post":
            posts_once.record(
                False,
                reason=f"typed {row['page_type']}",
                expected="post",
                got=row["page_type"],
                **base,
            )
        elif len(typed) > 1:
            posts_once.record(
                False, reason="more than one row typed post", expected="1 row", got=typed, **base
            )
        elif subpages.get(p["id"]):
            posts_once.record(
                False,
                reason="split post: sub-pages stored as separate rows",
                expected=f"one record for all {p['pages']} pages",
                got=subpages[p["id"]],
                **base,
            )
        else:
            posts_once.record(True)
        want_title = _norm_title(p["title"])
        got_title = _norm_title(row["title"])
        titles.record(
            got_title in (want_title, _norm_title(p["title_raw"])),
            expected=want_title,
            got=row["title"],
            **base,
        )
        why = _published_mismatch(row["published_at"], p, tz)
        # WordPress shows the time and offset too (time[datetime]): count who keeps them.
        precision["datetime" if len(row["published_at"] or "") > 10 else "date only"] += 1
        dates.record(
            why is None,
            reason=why,
            expected=f"{p['date']} {truth['timezone']} ({p['date_gmt']} UTC)",
            got=row["published_at"],
            **base,
        )
        authors.record(
            (row["author"] or "").strip() == p["author"],
            reason="missing" if not row["author"] else "different",
            expected=p["author"],
            got=row["author"],
            **base,
        )
        got_image = json.loads(row["featured_image"])["src"] if row["featured_image"] else None
        want_image = p.get("featured")
        featured.record(
            (got_image and url_key(got_image)) == (want_image and url_key(want_image)),
            reason="missing" if got_image is None else "different",
            expected=want_image,
            got=got_image,
            **base,
        )
        want_sections = [(level, _norm_title(text)) for level, text in p.get("headings", [])]
        got_sections = headings.get(row["id"], [])
        extra = [h for h in got_sections if h not in want_sections]
        lost = [h for h in want_sections if h not in got_sections]
        why = (
            " and ".join(
                w for w, bad in (("extra headings", extra), ("headings lost", lost)) if bad
            )
            or "order or level"
        )
        sections.record(
            got_sections == want_sections,
            reason=why,
            expected=want_sections,
            got=got_sections,
            **base,
        )
        want_tax = (
            sorted(_norm_title(c) for c in p.get("categories", [])),
            sorted(_norm_title(c) for c in p.get("tags", [])),
        )
        got_tax = (
            sorted(_norm_title(c) for c in json.loads(row["categories"] or "[]")),
            sorted(_norm_title(c) for c in json.loads(row["tags"] or "[]")),
        )
        taxonomies.record(
            got_tax == want_tax,
            reason=" and ".join(
                w for w, i in (("categories", 0), ("tags", 1)) if got_tax[i] != want_tax[i]
            ),
            expected={"categories": want_tax[0], "tags": want_tax[1]},
            got={"categories": got_tax[0], "tags": got_tax[1]},
            **base,
        )
        body = _squash(row["body_text"])
        lost_paragraphs = [x for x in p.get("paragraphs", []) if _squash(x) not in body]
        furniture = [f for f in _FURNITURE if f.lower() in body]
        bodies.record(
            not lost_paragraphs and not furniture,
            reason=" and ".join(
                w
                for w, bad in (
                    ("paragraphs lost", lost_paragraphs),
                    ("furniture in body", furniture),
                )
                if bad
            ),
            expected=f"{len(p.get('paragraphs', []))} paragraphs, no furniture",
            got={"lost": [x[:80] for x in lost_paragraphs], "furniture": furniture},
            **base,
        )
        alias = aliases.get(url_key(p["shortlink"]))
        alias_ok = alias is not None and (
            alias["page_id"] == row["id"] or url_key(alias["target_url"]) == url_key(row["url"])
        )
        shortlinks.record(
            alias_ok,
            reason="no alias row" if alias is None else "alias points elsewhere",
            expected=f"{p['shortlink']} -> {p['permalink']}",
            got=None
            if alias is None
            else f"{alias['url']} -> {alias['target_url']} ({alias['kind']})",
            **base,
        )

    recent_keys = [url_key(u) for u in truth["recent_posts"]]
    hidden_titles = {
        _norm_title(p["title_raw"]): p
        for p in truth["posts"]
        if p["type"] == "post" and p["status"] != "publish"
    }
    for row, kind, ident in classified:
        if row["page_type"] == "post" and kind != "post":
            nothing_else.record(
                False,
                reason=kind,
                url=row["url"],
                expected=f"not a post (WordPress: {kind})",
                got=f"post, title {row['title']!r}, published {row['published_at']}",
            )
        elif kind != "post":
            nothing_else.record(True)
        hidden = hidden_titles.get(_norm_title(row["title"]))
        leaked = (
            kind == "unpublished-post"
            or hidden is not None
            or "must never be migrated" in (row["body_text"] or "")
        )
        unpublished.record(
            not leaked,
            reason="unpublished content stored",
            url=row["url"],
            expected="absent",
            got=f"{row['page_type']}: {row['title']}",
        )
        if kind in ("post", "static-page", "attachment"):
            links = sidebar.get(row["id"], [])
            got_keys = {url_key(link["url"]) for link in links}
            # The page's own entry in the widget is not a link to another post.
            missing = [
                u
                for u, k in zip(truth["recent_posts"], recent_keys, strict=True)
                if k not in got_keys and k != url_key(row["url"])
            ]
            groups = sorted({link["group_name"] for link in links})
            recent.record(
                not missing,
                reason=f"{kind}: recent posts missing",
                url=row["url"],
                expected=truth["recent_posts"],
                got=f"{len(links)} sidebar links, groups {groups}",
                missing=len(missing),
            )
        if kind == "static-page" and ident is not None:
            page = t.posts[ident]
            problems = []
            if _norm_title(row["title"]) != _norm_title(page["title"]):
                problems.append("title")
            if row["published_at"]:
                problems.append("dated")
            if row["page_type"] != "page":
                problems.append(f"typed {row['page_type']}")
            static.record(
                not problems,
                reason=", ".join(problems),
                url=row["url"],
                expected=f"{page['title']!r}, no date, page",
                got=f"{row['title']!r}, {row['published_at']}, {row['page_type']}",
            )
    for p in truth["posts"]:
        if (
            p["type"] == "page"
            and p["status"] == "publish"
            and not any(
                kind == "static-page" and ident == p["id"] for _r, kind, ident in classified
            )
        ):
            static.record(
                False, reason="missing", url=p["permalink"], expected=p["title"], got="no pages row"
            )

    checks = [
        posts_once,
        nothing_else,
        unpublished,
        recent,
        titles,
        dates,
        authors,
        shortlinks,
        static,
        sections,
        taxonomies,
        bodies,
        featured,
    ]
    states = Counter(c["state"] for c in crawl)
    return {
        "checks": [c.as_dict() for c in checks],
        "kinds": {k: dict(v.most_common()) for k, v in sorted(kinds.items())},
        "crawl": {"states": dict(states), "errors": errors, "pages_rows": len(rows)},
        "published_precision": dict(precision),
        "wordpress": {
            "published_posts": len(published),
            "static_pages": sum(
                1 for p in truth["posts"] if p["type"] == "page" and p["status"] == "publish"
            ),
            "attachments": sum(1 for p in truth["posts"] if p["type"] == "attachment"),
            "unpublished_posts": sum(
                1 for p in truth["posts"] if p["type"] == "post" and p["status"] != "publish"
            ),
            "month_archives": len(truth["archives"]["month"]),
            "recent_posts": truth["recent_posts"],
        },
    }


def _table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(out)


def render_summary(result: dict[str, Any], examples: int = 3) -> str:
    """The human summary: one line per check, kind x page_type, then a few mismatches."""
    rows = []
    for c in result["checks"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in list(c["reasons"].items())[:4])
        rows.append(
            ["PASS" if c["ok"] else "FAIL", c["label"], f"{c['passed']}/{c['total']}", reasons[:90]]
        )
    parts = [_table(["", "check", "passed", "failures by reason"], rows)]
    types = sorted({t for v in result["kinds"].values() for t in v})
    kind_rows = [
        [kind, *[str(counts.get(t, "")) for t in types]] for kind, counts in result["kinds"].items()
    ]
    parts.append(
        "\nWordPress kind -> migrator page_type (rows in pages; 'not stored' = crawled only)"
    )
    parts.append(_table(["kind", *types], kind_rows))
    failing = [c for c in result["checks"] if not c["ok"]]
    if failing and examples:
        parts.append(f"\nExamples (up to {examples} per reason; all in the JSON):")
    for c in failing if examples else []:
        parts.append(f"- {c['name']}: {c['label']}  [look at: {c['hint']}]")
        shown: Counter[str] = Counter()
        for m in c["mismatches"]:
            reason = str(m.get("reason", "mismatch"))
            if shown[reason] >= examples:
                continue
            shown[reason] += 1
            expected = m.get("expected")
            if isinstance(expected, list):
                expected = f"{len(expected)} items, e.g. {expected[0]}"
            parts.append(
                f"    {reason}: {m.get('url')}\n"
                f"      expected {expected!s:.150}\n      got      {m.get('got')!s:.150}"
            )
    run = result.get("run")
    if run:
        parts.append(
            f"\nWordPress {run['wordpress']} ({run['theme']}) at {run['url']}, blog "
            f"{run['blog']}; migrator exit {run['migrator_exit_status']}; seconds "
            + ", ".join(f"{k} {v}" for k, v in run["seconds"].items())
        )
    parts.append(f"post published precision: {result.get('published_precision')}")
    if result["crawl"]["errors"]:
        parts.append(
            f"migrator errors: {len(result['crawl']['errors'])} "
            f"(first: {result['crawl']['errors'][0]})"
        )
    return "\n".join(parts)
