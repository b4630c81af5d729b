"""Site models: what the crawl learned about the site's templates (``site_models``,
``site_templates``), stored as JSON with the main rules in columns.
"""

from __future__ import annotations

import json

from migrator.models import SiteModel
from migrator.store.connection import StoreBase, last_id
from migrator.store.values import now

__all__ = ["SiteModelsRoom"]


class SiteModelsRoom(StoreBase):
    """Storing and reading learned site models."""

    def save_site_model(self, model: SiteModel) -> int:
        """Store a learned site model (and its templates); returns its id."""
        title_agree, title_pages = model.title_agreement
        date_agree, date_pages = model.date_agreement
        models = self.db.table("site_models")
        with self._atomic():
            models.insert(
                {
                    "learned_at": now(),
                    "fingerprint": model.model_fingerprint,
                    "pages_sampled": model.pages_sampled,
                    "cms": model.cms,
                    "title_selector": model.title_selector,
                    "title_agree": title_agree,
                    "title_pages": title_pages,
                    "date_selector": model.date_selector,
                    "date_agree": date_agree,
                    "date_pages": date_pages,
                    "date_order": model.date_order,
                    "site_names": json.dumps(sorted(model.site_names), ensure_ascii=False),
                    "evidence": "\n".join(model.evidence),
                    "model_json": model.to_json(),
                }
            )
            model_id = last_id(models)
            self.db.table("site_templates").insert_all(
                {"model_id": model_id, "signature": signature, "pages": pages}
                for signature, pages in model.templates
            )
        return model_id

    def latest_site_model(self) -> SiteModel | None:
        """The most recently learned site model, or ``None``."""
        row = self._conn.execute(
            "SELECT model_json FROM site_models ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return SiteModel.from_json(row[0]) if row is not None else None

    def site_models(self) -> list[SiteModel]:
        """Every stored site model, oldest first."""
        rows = self._conn.execute("SELECT model_json FROM site_models ORDER BY id").fetchall()
        return [m for (text,) in rows if (m := SiteModel.from_json(text)) is not None]
