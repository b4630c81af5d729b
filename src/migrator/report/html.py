"""The report's HTML primitives: escaping, links, sortable tables, SVG charts, the page.

Every value is escaped here (:func:`esc`) and only http(s) URLs become links
(:func:`link`). The page's CSS and script are inline and allowed by their hashes in
its Content-Security-Policy (:func:`document`), which forbids every other source, so
the report opens from disk with no network. Nothing here knows the database.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import urlsplit

from migrator.version import __version__

__all__ = [
    "CSS",
    "JS",
    "columns",
    "csp_hash",
    "document",
    "esc",
    "hbars",
    "is_http",
    "link",
    "share_pct",
    "table",
]


CSS = """
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
JS = """
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


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def is_http(url: str | None) -> bool:
    return bool(url) and urlsplit(str(url)).scheme in ("http", "https")


def link(url: str | None, text: str | None = None) -> str:
    label = esc(text if text is not None else url)
    if not is_http(url):
        return label
    return f'<a href="{esc(url)}" rel="noopener noreferrer">{label}</a>'


def csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = ()
) -> str:
    """A sortable table; cells are already-escaped HTML."""
    rows = list(rows)
    if not rows:
        return '<p class="muted">None.</p>'
    nums = set(numeric)
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{c}</td>' if i in nums else f"<td>{c}</td>" for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def hbars(name: str, title: str, items: Sequence[tuple[str, int]], *, percent: bool = False) -> str:
    """A horizontal bar chart (one ``rect.bar`` per item with a value)."""
    if not items:
        return f'<p class="muted" data-chart-empty="{esc(name)}">{esc(title)}: nothing to show.</p>'
    row, label_w, bar_w = 22, 260, 380
    top = max((v for _, v in items), default=0)
    scale = 100 if percent else max(top, 1)
    height = row * len(items) + 8
    parts = [
        f'<svg class="chart" id="chart-{esc(name)}" data-chart="{esc(name)}"'
        f' data-points="{len(items)}" role="img" aria-label="{esc(title)}"'
        f' viewBox="0 0 {label_w + bar_w + 70} {height}" width="{label_w + bar_w + 70}"'
        f' height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        shown = f"{value}%" if percent else str(value)
        short = label if len(label) <= 40 else label[:39] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{esc(short)}</text>')
        width = round(bar_w * value / scale, 1)
        if value > 0:
            parts.append(
                f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{max(width, 1)}"'
                f' height="{row - 6}" data-label="{esc(label)}" data-value="{value}">'
                f"<title>{esc(label)}: {esc(shown)}</title></rect>"
            )
        parts.append(f'<text x="{label_w + width + 4}" y="{y + 14}">{esc(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def columns(name: str, title: str, items: Sequence[tuple[str, int]]) -> str:
    """A column chart over time (``YYYY-MM`` labels; January gets a year tick)."""
    if not items:
        return f'<p class="muted" data-chart-empty="{esc(name)}">{esc(title)}: nothing to show.</p>'
    step = max(3.0, min(24.0, 900 / len(items)))
    left, plot_h, bottom = 36, 180, 24
    width = left + step * len(items) + 10
    top = max(v for _, v in items) or 1
    parts = [
        f'<svg class="chart" id="chart-{esc(name)}" data-chart="{esc(name)}"'
        f' data-points="{len(items)}" role="img" aria-label="{esc(title)}"'
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
                f' height="{h}" data-label="{esc(label)}" data-value="{value}">'
                f"<title>{esc(label)}: {value}</title></rect>"
            )
        if label.endswith("-01") or i == 0:
            parts.append(f'<text x="{x:.1f}" y="{plot_h + bottom}">{esc(label[:4])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def share_pct(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def document(*, db_name: str, start_url: str | None, generated_at: str, main: str) -> str:
    """The whole page around ``main`` (already-escaped HTML): head, CSP, header, script."""
    csp = f"default-src 'none'; img-src data:; style-src {csp_hash(CSS)}; script-src {csp_hash(JS)}"
    start = f" of {link(start_url)}" if start_url else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>migrator report: {esc(db_name)}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>Migration report{start}</h1>"
        f"<p>{esc(db_name)} · generated {esc(generated_at)}"
        f" by migrator {esc(__version__)}</p>"
        '<nav><a href="#found">found</a><a href="#coverage">coverage</a>'
        '<a href="#months">months</a><a href="#dangling">dangling links</a>'
        '<a href="#odd">oddest pages</a><a href="#runs">runs</a><a href="#model">site model</a>'
        "</nav></header><main>" + main + f"</main><script>{JS}</script></body></html>\n"
    )
