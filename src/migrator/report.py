"""The migration report: one static HTML page that shows what a migration got.

``write_report(store, out)`` reads the migration database (never the network) and
writes ``out/index.html`` plus ``out/records/<id>.json`` for the pages it names: what
was found and what became of it, per-field coverage of the posts (overall, by section
of the site and by template), posts per month, dangling sidebar links, the oddest
pages, each run's changes and the site model. The page opens from disk: its CSS and
script are inline (allowed by hash in its Content-Security-Policy, which forbids every
other source) and its charts are SVG drawn here. Every value from the database is
untrusted legacy content and is escaped; only http(s) URLs become links.

Collecting (SQL over the store) and rendering (strings) are separate steps; this
module never changes the database.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from migrator.version import __version__
from migrator.decode import decode_body
from migrator.errors import ConfigError
from migrator.extract.site import html_template_signature
from migrator.load import Store

__all__ = [
    "COVERAGE_FIELDS",
    "FAILURE_COLUMNS",
    "ReportResult",
    "collect_report",
    "failures",
    "render_report",
    "write_report",
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
_ODD_LIMIT = 10  # rows per "oddest pages" list
_LIST_LIMIT = 200  # rows of a long list (dangling links, undated posts)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportResult:
    """What ``write_report`` wrote."""

    path: Path
    posts: int
    charts: int
    records: int


@dataclass(slots=True, kw_only=True)
class _Post:
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
    posts: list[_Post] = field(default_factory=list)
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


def write_report(store: Store, out: str | Path) -> ReportResult:
    """Write the HTML report of the migration in ``store`` into the folder ``out``.

    Args:
        store: an open migration database (read only).
        out: the output folder (created; ``index.html`` and ``records/`` are replaced).

    Returns:
        Where the report is and how much it holds.

    Raises:
        ConfigError: the folder cannot be written.
    """
    data = collect_report(store)
    html_text, charts = render_report(data)
    folder = Path(out)
    named = sorted(_named_pages(data))
    try:
        (folder / "records").mkdir(parents=True, exist_ok=True)
        for old in (folder / "records").glob("*.json"):
            old.unlink()
        for page_id in named:
            rows = store.query("SELECT url FROM pages WHERE id = ?", (page_id,))
            record = store.page_record(str(rows[0][0])) if rows else None
            if record is not None:
                (folder / "records" / f"{page_id}.json").write_text(
                    json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8"
                )
        path = folder / "index.html"
        path.write_text(html_text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the report into {folder}: {exc.strerror or exc}") from exc
    return ReportResult(path=path, posts=len(data.posts), charts=charts, records=len(named))


# ---------------------------------------------------------------------- collecting


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
    data.posts = _posts(store, signatures)
    data.posts_per_month = _months(p.published for p in data.posts)
    data.dangling_total = int(
        store.query("SELECT count(*) FROM sidebar_graph WHERE dangling")[0][0]
    )
    data.dangling = [
        (str(a), str(b), str(c), str(d))
        for a, b, c, d in store.query(
            "SELECT source_url, group_name, label, target_url FROM sidebar_graph WHERE dangling"
            " ORDER BY target_url, source_url LIMIT ?",
            (_LIST_LIMIT,),
        )
    ]
    data.changes = _largest_changes(store)
    data.runs, data.run_changes = _runs(store)
    data.sources = _sources(store)
    return data


# Still-failing URLs: the latest errors row of each URL and stage whose URL is failed in
# the crawl state and has no live page (an extract failure fixed by a later re-extract is
# not a failure any more). Shared with ``failures``.
FAILURES_SQL = """
    SELECT e.url, e.stage, e.status, e.reason,
        (SELECT sum(x.attempts) FROM errors AS x WHERE x.url = e.url AND x.stage = e.stage)
            AS attempts,
        (SELECT min(x.first_failed_at) FROM errors AS x WHERE x.url = e.url
            AND x.stage = e.stage) AS first_failed_at,
        e.last_tried_at, e.run_id
    FROM errors AS e
    WHERE e.id = (SELECT x.id FROM errors AS x WHERE x.url = e.url AND x.stage = e.stage
                  ORDER BY x.last_tried_at DESC, x.id DESC LIMIT 1)
      AND NOT EXISTS (SELECT 1 FROM crawl_state AS c WHERE c.url = e.url
                      AND c.state <> 'failed')
      AND NOT EXISTS (SELECT 1 FROM pages AS p WHERE p.url = e.url AND p.removed_at IS NULL)
"""


FAILURE_COLUMNS = (
    "url",
    "stage",
    "status",
    "reason",
    "attempts",
    "first_failed_at",
    "last_tried_at",
    "run_id",
)


def failures(store: Store) -> list[dict[str, Any]]:
    """The URLs that still fail: one row per URL and stage, latest reason first seen.

    Attempts are summed over every run that tried; ``last_tried_at`` is the latest try.
    Ordered by stage, then reason, then URL.
    """
    rows = store.query(f"SELECT * FROM ({FAILURES_SQL}) ORDER BY stage, reason, url")
    return [dict(zip(FAILURE_COLUMNS, row, strict=True)) for row in rows]


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


def _posts(store: Store, signatures: dict[str, str]) -> list[_Post]:
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
            _Post(
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
    return changes[:_ODD_LIMIT]


def _runs(store: Store) -> tuple[list[dict[str, Any]], dict[int, list[tuple[str, str]]]]:
    columns = (
        "id",
        "mode",
        "status",
        "started_at",
        "finished_at",
        "discovered",
        "fetched",
        "not_modified",
        "new",
        "changed",
        "unchanged",
        "removed",
        "failed",
    )
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
        if len(changed[int(run_id)]) < _LIST_LIMIT:
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


def _named_pages(data: ReportData) -> set[int]:
    ids = {p.id for p in _shortest(data)} | {p.id for p in _most_sections(data)}
    ids |= {p.id for p in _undated(data)[:_LIST_LIMIT]} | {p.id for p in _site_named(data)}
    return ids | {c[0] for c in data.changes}


def _shortest(data: ReportData) -> list[_Post]:
    return sorted(data.posts, key=lambda p: (p.body_chars, p.url))[:_ODD_LIMIT]


def _most_sections(data: ReportData) -> list[_Post]:
    ranked = sorted(data.posts, key=lambda p: (-p.sections, p.url))
    return [p for p in ranked if p.sections > 0][:_ODD_LIMIT]


def _undated(data: ReportData) -> list[_Post]:
    return [p for p in data.posts if not p.has["date"]]


def _site_named(data: ReportData) -> list[_Post]:
    names = {n.casefold().strip() for n in data.site_names}
    return [p for p in data.posts if p.title and p.title.casefold().strip() in names]


# ---------------------------------------------------------------------- rendering


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c8cfdb}main{padding:8px 24px 48px;max-width:1200px}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;margin:16px 0;padding:8px 16px}
h2{font-size:17px;margin:8px 0}h3{font-size:14px;margin:12px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border-bottom:1px solid #e6e9ee;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5;cursor:pointer;user-select:none}td.n{text-align:right}
td.url{max-width:520px;overflow-wrap:anywhere}.muted{color:#6b7383}
.grid{display:flex;flex-wrap:wrap;gap:24px}svg.chart{max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#333}rect.bar{fill:#3b6fd4}rect.bar:hover{fill:#f08c00}
.c0{background:#f8d7d3}.c1{background:#fbe3c8}.c2{background:#fdf1c4}.c3{background:#e4f2cf}
.c4{background:#cdebc4}code{background:#f0f2f5;padding:0 3px;border-radius:3px}
figure{margin:0}figcaption{font-weight:600;margin:8px 0 4px}
nav a{margin-right:12px;color:#c8cfdb}header h1 a{color:#fff}
"""

# Sort a table by a click on its header; then mark the page as drawn (a browser test
# reads data-charts: a script error before this line leaves it unset).
_JS = """
(function () {
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.querySelectorAll("thead th");
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var desc = th.getAttribute("data-sort") === "asc";
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute("data-v") || a.cells[col].textContent;
          var y = b.cells[col].getAttribute("data-v") || b.cells[col].textContent;
          var nx = parseFloat(x), ny = parseFloat(y);
          var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return desc ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        th.setAttribute("data-sort", desc ? "desc" : "asc");
      });
    });
  });
  var drawn = 0;
  Array.prototype.forEach.call(document.querySelectorAll("svg.chart"), function (svg) {
    if (svg.querySelectorAll("rect.bar").length > 0) { drawn += 1; }
  });
  document.body.setAttribute("data-charts", String(drawn));
})();
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _is_http(url: str | None) -> bool:
    return bool(url) and urlsplit(str(url)).scheme in ("http", "https")


def _link(url: str | None, text: str | None = None) -> str:
    label = _e(text if text is not None else url)
    if not _is_http(url):
        return label
    return f'<a href="{_e(url)}" rel="noopener noreferrer">{label}</a>'


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = ()
) -> str:
    """A sortable table; cells are already-escaped HTML."""
    rows = list(rows)
    if not rows:
        return '<p class="muted">None.</p>'
    nums = set(numeric)
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{c}</td>' if i in nums else f"<td>{c}</td>" for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _hbars(
    name: str, title: str, items: Sequence[tuple[str, int]], *, percent: bool = False
) -> str:
    """A horizontal bar chart (one ``rect.bar`` per item with a value)."""
    if not items:
        return f'<p class="muted" data-chart-empty="{_e(name)}">{_e(title)}: nothing to show.</p>'
    row, label_w, bar_w = 22, 260, 380
    top = max((v for _, v in items), default=0)
    scale = 100 if percent else max(top, 1)
    height = row * len(items) + 8
    parts = [
        f'<svg class="chart" id="chart-{_e(name)}" data-chart="{_e(name)}"'
        f' data-points="{len(items)}" role="img" aria-label="{_e(title)}"'
        f' viewBox="0 0 {label_w + bar_w + 70} {height}" width="{label_w + bar_w + 70}"'
        f' height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        shown = f"{value}%" if percent else str(value)
        short = label if len(label) <= 40 else label[:39] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_e(short)}</text>')
        width = round(bar_w * value / scale, 1)
        if value > 0:
            parts.append(
                f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{max(width, 1)}"'
                f' height="{row - 6}" data-label="{_e(label)}" data-value="{value}">'
                f"<title>{_e(label)}: {_e(shown)}</title></rect>"
            )
        parts.append(f'<text x="{label_w + width + 4}" y="{y + 14}">{_e(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _columns(name: str, title: str, items: Sequence[tuple[str, int]]) -> str:
    """A column chart over time (``YYYY-MM`` labels; January gets a year tick)."""
    if not items:
        return f'<p class="muted" data-chart-empty="{_e(name)}">{_e(title)}: nothing to show.</p>'
    step = max(3.0, min(24.0, 900 / len(items)))
    left, plot_h, bottom = 36, 180, 24
    width = left + step * len(items) + 10
    top = max(v for _, v in items) or 1
    parts = [
        f'<svg class="chart" id="chart-{_e(name)}" data-chart="{_e(name)}"'
        f' data-points="{len(items)}" role="img" aria-label="{_e(title)}"'
        f' viewBox="0 0 {width:.0f} {plot_h + bottom + 8}" width="{width:.0f}"'
        f' height="{plot_h + bottom + 8}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{plot_h + 4}" x2="{width - 6:.0f}" y2="{plot_h + 4}"'
        ' stroke="#999"/>',
        f'<text x="{left - 4}" y="12" text-anchor="end">{top}</text>',
        f'<text x="{left - 4}" y="{plot_h + 4}" text-anchor="end">0</text>',
    ]
    for i, (label, value) in enumerate(items):
        x = left + i * step
        if value > 0:
            h = round(plot_h * value / top, 1)
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{plot_h + 4 - h}" width="{max(step - 1, 1):.1f}"'
                f' height="{h}" data-label="{_e(label)}" data-value="{value}">'
                f"<title>{_e(label)}: {value}</title></rect>"
            )
        if label.endswith("-01") or i == 0:
            parts.append(f'<text x="{x:.1f}" y="{plot_h + bottom}">{_e(label[:4])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _pct(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _coverage_table(key: str, groups: dict[str, list[_Post]]) -> str:
    rows = []
    for name, posts in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
        cells = [_e(name), str(len(posts))]
        for fld in COVERAGE_FIELDS:
            pct = _pct(sum(p.has[fld] for p in posts), len(posts))
            cells.append(f'<span class="c{min(pct // 20, 4)}" data-v="{pct}">{pct}%</span>')
        rows.append(cells)
    return _table(
        [key, "posts", *COVERAGE_FIELDS], rows, numeric=range(1, 2 + len(COVERAGE_FIELDS))
    )


def _post_rows(posts: Iterable[_Post], extra: str | None = None) -> list[list[str]]:
    rows = []
    for p in posts:
        row = [
            _link(p.url),
            _e(p.title) if p.title else '<span class="muted">(none)</span>',
            _e(p.published or "—"),
            f'<a href="records/{p.id}.json">record</a>',
        ]
        if extra == "body":
            row.insert(3, str(p.body_chars))
        elif extra == "sections":
            row.insert(3, str(p.sections))
        rows.append(row)
    return rows


def _odd_pages(data: ReportData) -> str:
    parts = ["<h3>Shortest bodies</h3>"]
    parts.append(
        _table(["old URL", "title", "date", "body chars", ""], _post_rows(_shortest(data), "body"))
    )
    undated = _undated(data)
    parts.append(f"<h3>Posts with no date ({len(undated)})</h3>")
    parts.append(_table(["old URL", "title", "date", ""], _post_rows(undated[:_LIST_LIMIT])))
    named = _site_named(data)
    parts.append(f"<h3>Title equal to a site name ({len(named)})</h3>")
    parts.append(_table(["old URL", "title", "date", ""], _post_rows(named)))
    parts.append("<h3>Most sections</h3>")
    parts.append(
        _table(
            ["old URL", "title", "date", "sections", ""],
            _post_rows(_most_sections(data), "sections"),
        )
    )
    parts.append("<h3>Largest changes in the last sync that changed pages</h3>")
    parts.append(
        _table(
            ["old URL", "lines changed", ""],
            (
                [_link(url), str(n), f'<a href="records/{pid}.json">record</a>']
                for pid, url, n in data.changes
            ),
            numeric=[1],
        )
    )
    return "".join(parts)


def _runs_html(data: ReportData) -> str:
    keys = ["id", "mode", "status", "started_at", "finished_at", "discovered", "fetched",
            "not_modified", "new", "changed", "unchanged", "removed", "failed"]  # fmt: skip
    parts = [
        _table(keys, ([_e(r[k]) for k in keys] for r in data.runs), numeric=[0, *range(5, 13)])
    ]
    for run in data.runs:
        items = data.run_changes.get(int(run["id"]), [])
        if items:
            parts.append(
                f"<details><summary>run {_e(run['id'])} ({_e(run['mode'])}): "
                f"{len(items)} pages changed or removed</summary>"
                + _table(["", "URL"], ([_e(kind), _link(url)] for kind, url in items))
                + "</details>"
            )
    return "".join(parts)


def _model_html(data: ReportData) -> str:
    model = data.model
    if model is None:
        return '<p class="muted">No site model was learned (too few pages).</p>'
    t_agree, t_pages = model["title_agreement"]
    d_agree, d_pages = model["date_agreement"]
    rows = [
        ["fingerprint", f"<code>{_e(model['fingerprint'])}</code>"],
        ["learned", _e(model["learned_at"])],
        ["pages sampled", _e(model["pages_sampled"])],
        ["CMS", _e(model["cms"] or "—")],
        [
            "title element",
            f"<code>{_e(model['title_selector'] or '—')}</code> ({t_agree}/{t_pages} pages agree)",
        ],
        [
            "date element",
            f"<code>{_e(model['date_selector'] or '—')}</code> ({d_agree}/{d_pages} pages agree)",
        ],
        ["date order", _e(model["date_order"] or "—")],
        ["site names", ", ".join(_e(n) for n in model["site_names"]) or "—"],
    ]
    parts = [_table(["", ""], rows)]
    if model["evidence"]:
        parts.append("<h3>Evidence</h3><ul>")
        parts.extend(f"<li>{_e(line)}</li>" for line in model["evidence"])
        parts.append("</ul>")
    if data.templates:
        counts = Counter(p.template for p in data.posts)
        parts.append("<h3>Templates</h3>")
        parts.append(
            _table(
                ["template", "signature", "sampled pages", "posts"],
                (
                    [_e(label), f"<code>{_e(sig)}</code>", str(n), str(counts.get(label, 0))]
                    for label, sig, n in data.templates
                ),
                numeric=[2, 3],
            )
        )
    if data.sources:
        layers = sorted({layer for c in data.sources.values() for layer in c})
        parts.append("<h3>Where each field of the posts comes from</h3>")
        parts.append(
            _table(
                ["field", *layers],
                (
                    [_e(name), *(str(c.get(layer, 0)) for layer in layers)]
                    for name, c in data.sources.items()
                ),
                numeric=range(1, 1 + len(layers)),
            )
        )
    return "".join(parts)


def render_report(data: ReportData) -> tuple[str, int]:
    """The report as one HTML document, and how many charts it draws."""
    total = len(data.posts)
    coverage = [(f, _pct(sum(p.has[f] for p in data.posts), total)) for f in COVERAGE_FIELDS]
    charts = [
        _hbars("pages-by-type", "Pages by type", data.pages_by_type),
        _hbars("crawl-states", "URLs by crawl state and HTTP status", data.crawl_states),
        _hbars("failures-by-reason", "Failures by reason", data.failures_by_reason),
        _hbars("coverage", "Posts with each field (%)", coverage if total else [], percent=True),
        _columns("posts-per-month", "Posts per month", data.posts_per_month),
    ]
    drawn = sum(c.startswith("<svg") for c in charts)
    by_section: dict[str, list[_Post]] = defaultdict(list)
    by_template: dict[str, list[_Post]] = defaultdict(list)
    for post in data.posts:
        by_section[post.section].append(post)
        if post.template is not None:
            by_template[post.template].append(post)
    dated = sum(n for _, n in data.posts_per_month)
    body = [
        '<section id="found"><h2>What was found and what became of it</h2><div class="grid">',
        f"<figure><figcaption>Pages by type</figcaption>{charts[0]}</figure>",
        f"<figure><figcaption>URLs by crawl state and HTTP status</figcaption>{charts[1]}</figure>",
        "</div><h3>Failures by reason</h3>",
        charts[2],
        '<p class="muted">List them: <code>migrator failures --db …</code></p></section>',
        f'<section id="coverage"><h2>Field coverage of the {total} posts</h2>',
        charts[3],
        "<h3>By section of the site</h3>",
        _coverage_table("section", by_section) if by_section else "",
    ]
    if by_template:
        body += ["<h3>By template</h3>", _coverage_table("template", by_template)]
    body += [
        "</section>",
        f'<section id="months"><h2>Posts per month ({dated} dated posts)</h2>',
        '<p class="muted">Gaps and spikes point at missing archives or wrong dates.</p>',
        charts[4],
        "</section>",
        f'<section id="dangling"><h2>Dangling sidebar links ({data.dangling_total})</h2>',
        _table(
            ["from page", "group", "label", "points to"],
            ([_link(a), _e(b), _e(c), _link(d)] for a, b, c, d in data.dangling),
        ),
        "</section>",
        '<section id="odd"><h2>The oddest pages</h2>',
        _odd_pages(data),
        "</section>",
        '<section id="runs"><h2>Runs and what each changed</h2>',
        _runs_html(data),
        "</section>",
        '<section id="model"><h2>The site model</h2>',
        _model_html(data),
        "</section>",
    ]
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src {_csp_hash(_CSS)}; script-src {_csp_hash(_JS)}"
    )
    start = f" of {_link(data.start_url)}" if data.start_url else ""
    doc = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>migrator report: {_e(data.db_name)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>Migration report{start}</h1>"
        f"<p>{_e(data.db_name)} · generated {_e(data.generated_at)}"
        f" by migrator {_e(__version__)}</p>"
        '<nav><a href="#found">found</a><a href="#coverage">coverage</a>'
        '<a href="#months">months</a><a href="#dangling">dangling links</a>'
        '<a href="#odd">oddest pages</a><a href="#runs">runs</a><a href="#model">site model</a>'
        "</nav></header><main>" + "".join(body) + f"</main><script>{_JS}</script></body></html>\n"
    )
    return doc, drawn
