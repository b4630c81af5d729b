"""``migrator parse``: try the extractor on a few pages, outside any migration.

A source is a saved HTML file, ``-`` for standard input, or an http(s) URL, which is
fetched once with the real fetcher (robots.txt, the User-Agent, redirects within the
page's own site, the configured limits) and then extracted. Each source becomes its
``Page`` record; nothing is written to a database. The site model of a migration can
be applied (``--db``). This module never prints.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from migrator.config import Config
from migrator.errors import ConfigError, FetchError
from migrator.extract import extract_page
from migrator.extract.explain import explain_fields
from migrator.extract.site import model_summary
from migrator.models import RawPage, SiteModel
from migrator.urls import canonical_url, is_http_url

__all__ = ["fetch_page", "load_site_model", "parse_sources", "stored_page"]

# Trying one page should fail in seconds when the site is down, not after the
# crawl's full retry budget.
_TRY_ATTEMPTS = 2
_TRY_DEADLINE_S = 30.0


def load_site_model(db: str) -> SiteModel:
    """The latest site model stored in the migration database ``db``.

    Raises:
        ConfigError: no such database, or it holds no model.
    """
    from migrator.load import Store

    if not Path(db).exists():
        raise ConfigError(f"no migration database at {db}")
    with Store.open(db, lock=False) as store:
        model = store.latest_site_model()
    if model is None:
        raise ConfigError(f"{db} holds no site model: run 'migrator run' first")
    return model


def stored_page(db: str, url: str) -> RawPage:
    """The answer stored in the migration database ``db`` for ``url``: the page fetched
    at that address, or the page it redirected to. The body comes back decompressed.

    Raises:
        ConfigError: no such database, or no stored answer for ``url``.
    """
    from migrator.load import Store

    if not Path(db).exists():
        raise ConfigError(f"no migration database at {db}")
    with Store.open(db, lock=False) as store:
        for candidate in dict.fromkeys((url, canonical_url(url) if is_http_url(url) else url)):
            raw = store.raw_page(candidate) or store.stored_answer(candidate)
            if raw is not None:
                return raw
    raise ConfigError(f"no stored page for {url} in {db}")


def fetch_page(config: Config, url: str) -> RawPage:
    """Fetch one page with the real fetcher (its scope is the page's own site).

    Raises:
        FetchError: the page cannot be fetched, or answers with a status >= 300.
    """
    from migrator.fetch import Fetcher
    from migrator.scope import Scope

    manners = config.fetch
    config = config.replace(
        fetch=dataclasses.replace(
            manners,
            max_attempts=min(manners.max_attempts, _TRY_ATTEMPTS),
            retry_deadline=min(manners.retry_deadline, _TRY_DEADLINE_S),
        )
    )
    target = canonical_url(url)

    async def fetch() -> RawPage:
        async with Fetcher(config, Scope.from_config(config, [target])) as fetcher:
            return await fetcher.fetch(target)

    raw = asyncio.run(fetch())
    if raw.status >= 300:
        raise FetchError(target, f"http_{raw.status}", status=raw.status)
    return raw


def _read(source: str, stdin: BinaryIO | None) -> bytes:
    if source == "-":
        if stdin is None:
            raise ConfigError("no standard input to read")
        return stdin.read()
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {source}: {exc.strerror or exc}") from exc


def parse_sources(
    sources: Sequence[str],
    config: Config,
    *,
    url: str | None = None,
    model: SiteModel | None = None,
    explain: bool = False,
    stdin: BinaryIO | None = None,
    stored_db: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Extract each source and yield its record, in order, one at a time.

    Args:
        sources: file paths, ``-`` (standard input) or http(s) URLs.
        config: the site config (selectors, date order, fetch manners).
        url: the original address of a single file or of standard input.
        model: a learned site model to apply.
        explain: add each field's layer, rule and element (a CSS path), and the model
            when one is given.
        stdin: where ``-`` reads from.
        stored_db: read http(s) URL sources from this migration database's stored
            answers instead of fetching them.

    Raises:
        ConfigError: a file cannot be read, ``--url`` is not an absolute http(s) URL or
            is given with several sources, or ``-`` appears twice.
        FetchError: a URL source cannot be fetched.
        ConfigError: with ``stored_db``, a URL has no stored answer.
    """
    if url is not None and not is_http_url(url):
        raise ConfigError(f"--url must be an absolute http(s) URL: {url}")
    if url is not None and len(sources) > 1:
        raise ConfigError("--url names the address of one page: give one FILE with it")
    if list(sources).count("-") > 1:
        raise ConfigError("standard input ('-') can be read once")
    for source in sources:
        if is_http_url(source) and stored_db is not None:
            raw = stored_page(stored_db, source)
        elif is_http_url(source):
            raw = fetch_page(config, source)
        else:
            address = canonical_url(url) if url else _local_address(source)
            raw = RawPage(
                url=address,
                requested_url=address,
                status=200,
                headers=(("content-type", "text/html"),),
                body=_read(source, stdin),
                fetched_at=datetime.now(UTC),
            )
        page = extract_page(raw, config.extract, model)
        record = page.to_record(explain=explain)
        if explain:
            record["explain"] = explain_fields(raw, record, config.extract, model)
        if explain and model is not None:
            record["site_model"] = model_summary(model)
        yield record


def _local_address(source: str) -> str:
    name = "stdin.html" if source == "-" else Path(source).name
    return f"http://localhost/{name}"
