"""The migration database opens in Datasette, with full-text search on pages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from datasette.app import Datasette

from migrator.load import Store
from migrator.models import Crumb, Page, Section


def _page(n: int, title: str, body: str) -> Page:
    url = f"https://blog.example.com/post-{n}/"
    return Page(
        url=url,
        source_url=url,
        canonical_url=url,
        title=title,
        published=datetime(2023, 12, n, tzinfo=UTC).date(),
        page_type="post",
        breadcrumbs=(Crumb(label="Home", url="https://blog.example.com/"), Crumb(label=title)),
        sections=(Section(level=2, heading="Why", text=body),),
        body_text=body,
        body_markdown=body,
    )


def test_datasette_searches_pages(tmp_path):
    db = tmp_path / "migration.db"
    with Store.open(db) as store, store.transaction():
        store.save_page(_page(1, "Sleep and anxiety", "Insomnia often follows worry."))
        store.save_page(_page(2, "Gardening", "Tomatoes need sun."))

    async def search() -> tuple[list[dict[str, object]], list[str]]:
        ds = Datasette([str(db)])
        response = await ds.client.get("/migration/pages.json?_search=insomnia&_shape=array")
        assert response.status_code == 200, response.text
        tables = await ds.client.get("/migration.json")
        names = [t["name"] for t in tables.json()["tables"]]
        return response.json(), names

    rows, names = asyncio.run(search())
    assert [r["title"] for r in rows] == ["Sleep and anxiety"]
    assert {"pages", "breadcrumbs", "sections", "sidebar_links", "pages_fts"} <= set(names)
