"""Fetching in a helper process, for syncs that are bound by the HTTP client's CPU.

A nightly sync of unchanged pages is mostly conditional GETs, and httpx spends ~0.85 ms
of CPU on each: one core's worth. ``RemoteFetcher`` runs a second :class:`Fetcher` in
a helper process and offers the same ``fetch()`` coroutine, so the pipeline's fetch
workers use either without knowing; the outcomes come back to the one writer of the
main process (a second SQLite writer would only queue on the write lock). Requests and
answers cross a pipe as pickled tuples; nothing else is shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

import structlog

from migrator.children import die_with_parent
from migrator.config import Config
from migrator.errors import FetchError
from migrator.fetch import Fetcher, SharedPace
from migrator.log import logging_settings, setup_child_logging
from migrator.models import RawPage
from migrator.scope import Scope

__all__ = ["RemoteFetcher"]

log = structlog.get_logger()

_Request = tuple[int, str, str | None, str | None]  # (id, url, etag, last_modified)
_Answer = tuple[int, RawPage | BaseException]


class RemoteFetcher:
    """A :class:`Fetcher` living in a helper process (``async with``, then ``fetch()``)."""

    def __init__(
        self, config: Config, starts: Sequence[str], *, pace: SharedPace | None = None
    ) -> None:
        self._config = config
        self._pace = pace
        self._starts = list(starts)
        self._ids = itertools.count()
        self._pending: dict[int, asyncio.Future[RawPage]] = {}
        self._urls: dict[int, str] = {}
        self._conn: Connection | None = None
        self._process: Any = None
        self._reader: threading.Thread | None = None
        self._send_lock = threading.Lock()

    async def __aenter__(self) -> RemoteFetcher:
        ctx = multiprocessing.get_context("forkserver")
        parent, child = ctx.Pipe(duplex=True)
        self._process = ctx.Process(
            target=_serve,
            args=(
                child,
                self._config,
                self._starts,
                self._pace,
                os.getpid(),
                logging_settings(),
            ),
            name="migrator-fetch",
        )
        self._process.start()
        child.close()
        self._conn = parent
        loop = asyncio.get_running_loop()
        self._reader = threading.Thread(
            target=self._read_answers, args=(loop,), name="remote-fetch-reader", daemon=True
        )
        self._reader.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, BrokenPipeError), self._send_lock:
                self._conn.send(None)
        if self._process is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._process.join, 10)
            if self._process.is_alive():
                self._process.kill()
        if self._conn is not None:
            self._conn.close()
        self._fail_all("helper_stopped")

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> RawPage:
        """Fetch ``url`` in the helper process; raises what the helper's Fetcher raised."""
        assert self._conn is not None, "use 'async with RemoteFetcher(...)'"
        request_id = next(self._ids)
        future: asyncio.Future[RawPage] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._urls[request_id] = url
        request: _Request = (request_id, url, etag, last_modified)
        with self._send_lock:
            self._conn.send(request)
        try:
            return await future
        finally:
            self._pending.pop(request_id, None)
            self._urls.pop(request_id, None)

    def _read_answers(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._conn is not None
        while True:
            try:
                answer: _Answer | None = self._conn.recv()
            except (EOFError, OSError):
                answer = None
            if answer is None:
                loop.call_soon_threadsafe(self._fail_all, "helper_stopped")
                return
            loop.call_soon_threadsafe(self._resolve, *answer)

    def _resolve(self, request_id: int, result: RawPage | BaseException) -> None:
        future = self._pending.get(request_id)
        if future is None or future.done():
            return
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)

    def _fail_all(self, reason: str) -> None:
        for request_id, future in list(self._pending.items()):
            if not future.done():
                future.set_exception(FetchError(self._urls.get(request_id, ""), reason))


def _serve(
    conn: Connection,
    config: Config,
    starts: list[str],
    pace: SharedPace | None,
    main_pid: int,
    log_settings: tuple[int, bool] | None,
) -> None:
    """The helper process: answer fetch requests until told to stop."""
    die_with_parent(main_pid)
    setup_child_logging(log_settings)
    asyncio.run(_serve_async(conn, config, starts, pace))
    conn.close()


async def _serve_async(
    conn: Connection, config: Config, starts: list[str], pace: SharedPace | None
) -> None:
    loop = asyncio.get_running_loop()
    requests: asyncio.Queue[_Request | None] = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                item = conn.recv()
            except (EOFError, OSError):
                item = None
            loop.call_soon_threadsafe(requests.put_nowait, item)
            if item is None:
                return

    threading.Thread(target=read, name="remote-fetch-requests", daemon=True).start()
    send_lock = asyncio.Lock()
    tasks: set[asyncio.Task[None]] = set()
    async with Fetcher(config, Scope.from_config(config, starts), pace=pace) as fetcher:

        async def answer(request: _Request) -> None:
            request_id, url, etag, last_modified = request
            result: RawPage | BaseException
            try:
                result = await fetcher.fetch(url, etag=etag, last_modified=last_modified)
            except FetchError as exc:
                result = exc
            except Exception as exc:  # noqa: BLE001 - sent back: the pipeline's boundary decides
                result = FetchError(url, f"internal: {exc!r}")
            async with send_lock:
                conn.send((request_id, result))

        while (request := await requests.get()) is not None:
            task = asyncio.create_task(answer(request))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
    with contextlib.suppress(OSError):
        conn.send(None)
