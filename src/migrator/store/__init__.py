"""The load stage's store: ``Store``, the SQLite migration database, one room a concern.

``Store`` owns every read and write of the database and is assembled from rooms that
share one connection (``connection.StoreBase``): the crawl frontier (``frontier``), raw
answers (``raw``), records with their child rows and history (``records``,
``page_rows``), aliases (``aliases``), runs and errors (``runs``), assets (``assets``)
and site models (``site_models``). The schema is built on sqlite-utils (``schema``,
``search``, ``views``; applied by ``migrate``). It takes models in and gives models out;
no ``sqlite3`` row or cursor leaves this package. It must not fetch, parse HTML or decide
what to crawl.
"""

from __future__ import annotations

from migrator.store.aliases import AliasesRoom
from migrator.store.assets import AssetsRoom, StoredAsset
from migrator.store.frontier import CrawlItem, FrontierRoom
from migrator.store.raw import RawPagesRoom
from migrator.store.records import RecordsRoom, SaveResult
from migrator.store.runs import RunMode, RunsRoom, RunStatus
from migrator.store.site_models import SiteModelsRoom

__all__ = ["CrawlItem", "RunMode", "RunStatus", "SaveResult", "Store", "StoredAsset"]


class Store(
    FrontierRoom,
    RawPagesRoom,
    RecordsRoom,
    AliasesRoom,
    RunsRoom,
    AssetsRoom,
    SiteModelsRoom,
):
    """The migration database. Open it with :meth:`Store.open`; use it from one thread.

    Attributes:
        path: the database file.
        db: the same connection as a ``sqlite_utils.Database``.
    """
