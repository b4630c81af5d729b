"""The crawl's database thread: every store call of a crawl runs on this one thread.

So a commit (or FTS indexing, zlib) never stalls the event loop, and the connection is
never used by two threads at once: sqlite3 and zlib release the GIL while they work.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


class DbThread:
    """The one thread a crawl's database calls run on (``run``); shut down at its end."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

    async def run(self, func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run one store call on the database thread."""
        loop = asyncio.get_running_loop()
        call = functools.partial(func, *args, **kwargs)
        # copy_context: log lines from the thread keep the run's bound run_id.
        return await loop.run_in_executor(self.executor, contextvars.copy_context().run, call)

    def shutdown(self) -> None:
        """Wait for the call under way, then end the thread."""
        self.executor.shutdown(wait=True)
