"""Collecting the report: everything it shows, read from the store as plain values.

:func:`collect_report` runs the SQL (pages by type, crawl states, failures, the posts
and their field coverage, the site model and its templates, runs and their changes)
and returns a :class:`ReportData` of plain values; the selections of the oddest pages
(:func:`shortest`, :func:`undated` …) work on that data. No HTML here, and no write.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from migrator.decode import decode_body
from migrator.extract.template import html_template_signature
from migrator.load import Store
from migrator.report.failures import FAILURES_SQL
from migrator.store.schema import RUN_COUNTS

__all__ = [
    "COVERAGE_FIELDS",
    "LIST_LIMIT",
    "ODD_LIMIT",
    "Post",
    "ReportData",
    "collect_report",
    "most_sections",
    "named_pages",
    "shortest",
    "site_named",
    "undated",
]

# The fields a reader expects of a post, in the report's column order.
COVERAGE_FIELDS = (
    "title",
    "date",
    "breadcrumbs",
    "sections",
    "sidebar links",
    "body",
    "author",
    "images",
)
ODD_LIMIT = 10  # rows per "oddest pages" list
LIST_LIMIT = 200  # rows of a long list (dangling links, undated posts)


@dataclass(slots=True, kw_only=True)
class Post:
    id: int
    url: str
    title: str | None
    published: str | None
    section: str
    template: str | None
    has: dict[str, bool]
    body_chars: int
    sections: int


@dataclass(slots=True, kw_only=True)
class ReportData:
    """Everything the report shows, as plain values (no database rows)."""

    generated_at: str
    db_name: str
    start_url: str | None
    pages_by_type: list[tuple[str, int]] = field(default_factory=list)
    crawl_states: list[tuple[str, int]] = field(default_factory=list)
    failures_by_reason: list[tuple[str, int]] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    templates: list[tuple[str, str, int]] = field(default_factory=list)  # label, sig, pages
    posts_per_month: list[tuple[str, int]] = field(default_factory=list)
    dangling: list[tuple[str, str, str, str]] = field(default_factory=list)
    dangling_total: int = 0
    site_names: list[str] = field(default_factory=list)
    changes: list[tuple[int, str, int]] = field(default_factory=list)  # id, url, lines
    runs: list[dict[str, Any]] = field(default_factory=list)
    run_changes: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    model: dict[str, Any] | None = None
    sources: dict[str, Counter[str]] = field(default_factory=dict)


def collect_report(store: Store) -> ReportData:
    """Read everything the report shows from the database."""
    starts = store.query("SELECT start_url FROM runs WHERE start_url IS NOT NULL ORDER BY id")
    data = ReportData(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        db_name=store.path.name,
        start_url=str(starts[-1][0]) if starts else None,
    )
    data.pages_by_type = _pairs(
        store.query(
            "SELECT iif(removed_at IS NULL, page_type, 'removed ' || page_type), count(*)"
            " FROM pages GROUP BY 1 ORDER BY 2 DESC"
        )
        + store.query(
            "SELECT c.page_type, count(*) FROM crawl_state AS c WHERE c.page_type IN"
            " ('listing', 'feed') AND NOT EXISTS (SELECT 1 FROM pages AS p WHERE p.url = c.url)"
            " GROUP BY 1"
        )
    )
    data.crawl_states = _pairs(
        store.query(
            "SELECT state || ifnull(' ' || last_status, ''), count(*) FROM crawl_state"
            " GROUP BY 1 ORDER BY 2 DESC"
        )
    )
    data.failures_by_reason = _pairs(
        store.query(
            f"SELECT stage || ': ' || substr(reason, 1, 80), count(*) FROM ({FAILURES_SQL})"
            " GROUP BY 1 ORDER BY 2 DESC"
        )
    )
    data.posts = _posts(store, _model(store, data))
    data.posts_per_month = _months(p.published for p in data.posts)
    data.dangling_total = int(
        store.query("SELECT count(*) FROM sidebar_graph WHERE dangling")[0][0]
    )
    data.dangling = [
        (str(a), str(b), str(c), str(d))
        for a, b, c, d in store.query(
            "SELECT source_url, group_name, label, target_url FROM sidebar_graph WHERE dangling"
            " ORDER BY target_url, source_url LIMIT ?",
            (LIST_LIMIT,),
        )
    ]
    data.changes = _largest_changes(store)
    data.runs, data.run_changes = _runs(store)
    data.sources = _sources(store)
    return data


def _model(store: Store, data: ReportData) -> dict[str, str]:
    """Read the latest site model and its templates into ``data``; return the template
    label of each signature (empty without a model)."""
    model_row = store.query(
        "SELECT id, fingerprint, learned_at, pages_sampled, cms, title_selector, title_agree,"
        " title_pages, date_selector, date_agree, date_pages, date_order, site_names, evidence"
        " FROM site_models ORDER BY id DESC LIMIT 1"
    )
    signatures: dict[str, str] = {}
    if model_row:
        data.model = _model_dict(model_row[0])
        data.site_names = list(data.model["site_names"])
        templates = store.query(
            "SELECT signature, pages FROM site_templates WHERE model_id = ? ORDER BY pages DESC,"
            " signature",
            (model_row[0][0],),
        )
        for number, (signature, pages) in enumerate(templates, start=1):
            label = f"template {number}"
            signatures[str(signature)] = label
            data.templates.append((label, str(signature), int(pages)))
    return signatures


def _pairs(rows: Iterable[tuple[Any, ...]]) -> list[tuple[str, int]]:
    return [(str(label if label is not None else "unknown"), int(n)) for label, n in rows]


def _model_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    (_, fingerprint, learned_at, sampled, cms, t_sel, t_agree, t_pages) = row[:8]
    (d_sel, d_agree, d_pages, order, names, evidence) = row[8:]
    try:
        site_names = [str(n) for n in json.loads(names or "[]")]
    except ValueError:
        site_names = []
    return {
        "fingerprint": fingerprint,
        "learned_at": learned_at,
        "pages_sampled": sampled,
        "cms": cms,
        "title_selector": t_sel,
        "title_agreement": (t_agree or 0, t_pages or 0),
        "date_selector": d_sel,
        "date_agreement": (d_agree or 0, d_pages or 0),
        "date_order": order,
        "site_names": site_names,
        "evidence": [line for line in str(evidence or "").splitlines() if line.strip()],
    }


def _section(url: str, category: str | None) -> str:
    if category:
        return str(category)
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return f"/{segments[0]}/" if len(segments) > 1 else "/"


def _posts(store: Store, signatures: dict[str, str]) -> list[Post]:
    rows = store.query(
        """
        SELECT po.id, po.url, po.title, po.published_at, po.author, po.category,
            p.images, length(trim(p.body_text)), p.raw_url,
            EXISTS (SELECT 1 FROM breadcrumbs AS b WHERE b.page_id = po.id),
            (SELECT count(*) FROM sections AS s WHERE s.page_id = po.id),
            EXISTS (SELECT 1 FROM sidebar_links AS s WHERE s.page_id = po.id)
        FROM posts AS po JOIN pages AS p ON p.id = po.id
        ORDER BY po.id
        """
    )
    posts = []
    for row in rows:
        (pid, url, title, published, author, category, images, body, raw_url) = row[:9]
        crumbs, sections, sidebar = row[9:]
        template = None
        if signatures:
            template = signatures.get(_signature(store, str(raw_url or url)) or "", "other")
        posts.append(
            Post(
                id=int(pid),
                url=str(url),
                title=title,
                published=published,
                section=_section(str(url), category),
                template=template,
                body_chars=int(body or 0),
                sections=int(sections),
                has={
                    "title": bool(title and str(title).strip()),
                    "date": published is not None,
                    "breadcrumbs": bool(crumbs),
                    "sections": int(sections) > 0,
                    "sidebar links": bool(sidebar),
                    "body": int(body or 0) > 0,
                    "author": bool(author and str(author).strip()),
                    "images": str(images or "[]").strip() not in ("", "[]"),
                },
            )
        )
    return posts


def _signature(store: Store, url: str) -> str | None:
    raw = store.raw_page(url)
    if raw is None:
        return None
    return html_template_signature(decode_body(raw.body, raw.header("content-type")).text)


def _months(dates: Iterable[str | None]) -> list[tuple[str, int]]:
    """Posts per month, every month from the first to the last (gaps show as zeros)."""
    counts = Counter(d[:7] for d in dates if d and len(d) >= 7 and d[4] == "-")
    if not counts:
        return []
    first, last = min(counts), max(counts)
    year, month = int(first[:4]), int(first[5:7])
    months: list[tuple[str, int]] = []
    while (key := f"{year:04d}-{month:02d}") <= last and len(months) < 1200:
        months.append((key, counts.get(key, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _largest_changes(store: Store) -> list[tuple[int, str, int]]:
    """Pages changed by the latest run that changed any: lines differing from before."""
    latest = store.query("SELECT max(run_id) FROM page_versions")
    if not latest or latest[0][0] is None:
        return []
    rows = store.query(
        "SELECT p.id, p.url, p.body_markdown, p.title, v.record FROM page_versions AS v"
        " JOIN pages AS p ON p.id = v.page_id WHERE v.run_id = ? AND v.version ="
        " (SELECT max(x.version) FROM page_versions AS x WHERE x.page_id = v.page_id)",
        (latest[0][0],),
    )
    changes = []
    for page_id, url, body, title, record in rows:
        try:
            before = json.loads(record)
        except ValueError:
            before = {}
        old = [str(before.get("title") or ""), *str(before.get("body_markdown") or "").splitlines()]
        new = [str(title or ""), *str(body or "").splitlines()]
        diff = sum(
            1
            for line in difflib.unified_diff(old, new, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        )
        changes.append((int(page_id), str(url), diff))
    changes.sort(key=lambda c: (-c[2], c[1]))
    return changes[:ODD_LIMIT]


def _runs(store: Store) -> tuple[list[dict[str, Any]], dict[int, list[tuple[str, str]]]]:
    columns = ("id", "mode", "status", "started_at", "finished_at", *RUN_COUNTS)
    runs = [
        dict(zip(columns, row, strict=True))
        for row in store.query(f"SELECT {', '.join(columns)} FROM runs ORDER BY id DESC")
    ]
    changed: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for run_id, url, kind in store.query(
        "SELECT v.run_id, p.url, 'changed' FROM page_versions AS v JOIN pages AS p"
        " ON p.id = v.page_id WHERE v.run_id IS NOT NULL"
        " UNION ALL SELECT r.id, p.url, 'removed' FROM pages AS p JOIN runs AS r"
        " ON p.removed_at >= r.started_at AND p.removed_at <= ifnull(r.finished_at, p.removed_at)"
        " ORDER BY 1 DESC, 3, 2"
    ):
        if len(changed[int(run_id)]) < LIST_LIMIT:
            changed[int(run_id)].append((str(kind), str(url)))
    return runs, dict(changed)


def _sources(store: Store) -> dict[str, Counter[str]]:
    """Per field, how many live posts got it from each layer (``pages.sources``)."""
    layers: dict[str, Counter[str]] = defaultdict(Counter)
    for (text,) in store.query(
        "SELECT sources FROM pages WHERE page_type = 'post' AND removed_at IS NULL"
    ):
        try:
            sources = json.loads(text or "{}")
        except ValueError:
            continue
        if isinstance(sources, dict):
            for name, layer in sources.items():
                layers[str(name)][str(layer)] += 1
    return dict(sorted(layers.items()))


def named_pages(data: ReportData) -> set[int]:
    ids = {p.id for p in shortest(data)} | {p.id for p in most_sections(data)}
    ids |= {p.id for p in undated(data)[:LIST_LIMIT]} | {p.id for p in site_named(data)}
    return ids | {c[0] for c in data.changes}


def shortest(data: ReportData) -> list[Post]:
    return sorted(data.posts, key=lambda p: (p.body_chars, p.url))[:ODD_LIMIT]


def most_sections(data: ReportData) -> list[Post]:
    ranked = sorted(data.posts, key=lambda p: (-p.sections, p.url))
    return [p for p in ranked if p.sections > 0][:ODD_LIMIT]


def undated(data: ReportData) -> list[Post]:
    return [p for p in data.posts if not p.has["date"]]


def site_named(data: ReportData) -> list[Post]:
    names = {n.casefold().strip() for n in data.site_names}
    return [p for p in data.posts if p.title and p.title.casefold().strip() in names]
