"""Rendering the report: the sections of ``index.html`` laid out from a ``ReportData``.

Coverage tables, the oddest pages, runs and the site model, put together with the
primitives of ``report.html`` (which escapes every value). Pure: strings in, strings
out; no database, no files.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from migrator.report.collect import (
    COVERAGE_FIELDS,
    LIST_LIMIT,
    Post,
    ReportData,
    most_sections,
    shortest,
    site_named,
    undated,
)
from migrator.report.html import columns, document, esc, hbars, link, share_pct, table

__all__ = ["render_report"]


def _coverage_table(key: str, groups: dict[str, list[Post]]) -> str:
    rows = []
    for name, posts in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
        cells = [esc(name), str(len(posts))]
        for fld in COVERAGE_FIELDS:
            pct = share_pct(sum(p.has[fld] for p in posts), len(posts))
            cells.append(f'<span class="c{min(pct // 20, 4)}" data-v="{pct}">{pct}%</span>')
        rows.append(cells)
    return table([key, "posts", *COVERAGE_FIELDS], rows, numeric=range(1, 2 + len(COVERAGE_FIELDS)))


def _post_rows(posts: Iterable[Post], extra: str | None = None) -> list[list[str]]:
    rows = []
    for p in posts:
        row = [
            link(p.url),
            esc(p.title) if p.title else '<span class="muted">(none)</span>',
            esc(p.published or "—"),
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
        table(["old URL", "title", "date", "body chars", ""], _post_rows(shortest(data), "body"))
    )
    dateless = undated(data)
    parts.append(f"<h3>Posts with no date ({len(dateless)})</h3>")
    parts.append(table(["old URL", "title", "date", ""], _post_rows(dateless[:LIST_LIMIT])))
    named = site_named(data)
    parts.append(f"<h3>Title equal to a site name ({len(named)})</h3>")
    parts.append(table(["old URL", "title", "date", ""], _post_rows(named)))
    parts.append("<h3>Most sections</h3>")
    parts.append(
        table(
            ["old URL", "title", "date", "sections", ""],
            _post_rows(most_sections(data), "sections"),
        )
    )
    parts.append("<h3>Largest changes in the last sync that changed pages</h3>")
    parts.append(
        table(
            ["old URL", "lines changed", ""],
            (
                [link(url), str(n), f'<a href="records/{pid}.json">record</a>']
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
        table(keys, ([esc(r[k]) for k in keys] for r in data.runs), numeric=[0, *range(5, 13)])
    ]
    for run in data.runs:
        items = data.run_changes.get(int(run["id"]), [])
        if items:
            parts.append(
                f"<details><summary>run {esc(run['id'])} ({esc(run['mode'])}): "
                f"{len(items)} pages changed or removed</summary>"
                + table(["", "URL"], ([esc(kind), link(url)] for kind, url in items))
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
        ["fingerprint", f"<code>{esc(model['fingerprint'])}</code>"],
        ["learned", esc(model["learned_at"])],
        ["pages sampled", esc(model["pages_sampled"])],
        ["CMS", esc(model["cms"] or "—")],
        [
            "title element",
            f"<code>{esc(model['title_selector'] or '—')}</code> ({t_agree}/{t_pages} pages agree)",
        ],
        [
            "date element",
            f"<code>{esc(model['date_selector'] or '—')}</code> ({d_agree}/{d_pages} pages agree)",
        ],
        ["date order", esc(model["date_order"] or "—")],
        ["site names", ", ".join(esc(n) for n in model["site_names"]) or "—"],
    ]
    parts = [table(["", ""], rows)]
    if model["evidence"]:
        parts.append("<h3>Evidence</h3><ul>")
        parts.extend(f"<li>{esc(line)}</li>" for line in model["evidence"])
        parts.append("</ul>")
    if data.templates:
        counts = Counter(p.template for p in data.posts)
        parts.append("<h3>Templates</h3>")
        parts.append(
            table(
                ["template", "signature", "sampled pages", "posts"],
                (
                    [esc(label), f"<code>{esc(sig)}</code>", str(n), str(counts.get(label, 0))]
                    for label, sig, n in data.templates
                ),
                numeric=[2, 3],
            )
        )
    if data.sources:
        layers = sorted({layer for c in data.sources.values() for layer in c})
        parts.append("<h3>Where each field of the posts comes from</h3>")
        parts.append(
            table(
                ["field", *layers],
                (
                    [esc(name), *(str(c.get(layer, 0)) for layer in layers)]
                    for name, c in data.sources.items()
                ),
                numeric=range(1, 1 + len(layers)),
            )
        )
    return "".join(parts)


def _coverage_html(data: ReportData, chart: str) -> str:
    """The coverage section: the chart, then a table by section and one by template."""
    by_section: dict[str, list[Post]] = defaultdict(list)
    by_template: dict[str, list[Post]] = defaultdict(list)
    for post in data.posts:
        by_section[post.section].append(post)
        if post.template is not None:
            by_template[post.template].append(post)
    body = [
        f'<section id="coverage"><h2>Field coverage of the {len(data.posts)} posts</h2>',
        chart,
        "<h3>By section of the site</h3>",
        _coverage_table("section", by_section) if by_section else "",
    ]
    if by_template:
        body += ["<h3>By template</h3>", _coverage_table("template", by_template)]
    return "".join([*body, "</section>"])


def render_report(data: ReportData) -> tuple[str, int]:
    """The report as one HTML document, and how many charts it draws."""
    total = len(data.posts)
    coverage = [(f, share_pct(sum(p.has[f] for p in data.posts), total)) for f in COVERAGE_FIELDS]
    charts = [
        hbars("pages-by-type", "Pages by type", data.pages_by_type),
        hbars("crawl-states", "URLs by crawl state and HTTP status", data.crawl_states),
        hbars("failures-by-reason", "Failures by reason", data.failures_by_reason),
        hbars("coverage", "Posts with each field (%)", coverage if total else [], percent=True),
        columns("posts-per-month", "Posts per month", data.posts_per_month),
    ]
    drawn = sum(c.startswith("<svg") for c in charts)
    dated = sum(n for _, n in data.posts_per_month)
    body = [
        '<section id="found"><h2>What was found and what became of it</h2><div class="grid">',
        f"<figure><figcaption>Pages by type</figcaption>{charts[0]}</figure>",
        f"<figure><figcaption>URLs by crawl state and HTTP status</figcaption>{charts[1]}</figure>",
        "</div><h3>Failures by reason</h3>",
        charts[2],
        '<p class="muted">List them: <code>migrator failures --db …</code></p></section>',
        _coverage_html(data, charts[3]),
        f'<section id="months"><h2>Posts per month ({dated} dated posts)</h2>',
        '<p class="muted">Gaps and spikes point at missing archives or wrong dates.</p>',
        charts[4],
        "</section>",
        f'<section id="dangling"><h2>Dangling sidebar links ({data.dangling_total})</h2>',
        table(
            ["from page", "group", "label", "points to"],
            ([link(a), esc(b), esc(c), link(d)] for a, b, c, d in data.dangling),
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
    return document(
        db_name=data.db_name,
        start_url=data.start_url,
        generated_at=data.generated_at,
        main="".join(body),
    ), drawn
