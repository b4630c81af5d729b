"""Assets: the images the export downloaded, one row per original URL (``assets``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from migrator.store.connection import StoreBase

__all__ = ["AssetsRoom", "StoredAsset"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAsset:
    """An asset (image) the export downloaded.

    Attributes:
        url: the original URL on the legacy site.
        content_hash: SHA-256 of the bytes (assets with equal bytes share a file).
        file_name: the safe file name it was saved under.
        content_type: the media type the server sent.
        bytes: the size.
        fetched_at: when it was downloaded (ISO 8601, UTC).
    """

    url: str
    content_hash: str
    file_name: str
    content_type: str | None = None
    bytes: int = 0
    fetched_at: str


class AssetsRoom(StoreBase):
    """Recording and listing downloaded assets."""

    def save_asset(self, asset: StoredAsset) -> None:
        """Record one downloaded asset (insert, or update the row of its URL)."""
        with self._atomic():
            self.db.table("assets").upsert(dataclasses.asdict(asset), pk="url")

    def assets(self) -> dict[str, StoredAsset]:
        """Every downloaded asset, keyed by its original URL."""
        rows = self._conn.execute(
            "SELECT url, content_hash, file_name, content_type, bytes, fetched_at FROM assets"
        )
        return {
            str(r[0]): StoredAsset(
                url=r[0],
                content_hash=r[1],
                file_name=r[2],
                content_type=r[3],
                bytes=r[4],
                fetched_at=r[5],
            )
            for r in rows
        }
