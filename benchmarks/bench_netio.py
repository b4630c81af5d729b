"""httpx's CPU per request on anyio's sockets (httpx's default) against ``migrator.netio``.

Serves a generated site with nginx (``serve.py``) and GETs up to ``--pages`` of its pages
(``index.html`` files) with 16 requests in flight, reading each body whole, once with
``httpx.AsyncHTTPTransport`` and once with ``netio.AsyncioTransport``, alternating for
``--rounds`` rounds. Prints CPU ms per request (``time.process_time``: the one process
does all the work) and requests per second, then the median ratio of the rounds.

    .venv/bin/python benchmarks/bench_netio.py benchmarks/out/site-real-2000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

import httpx

from migrator.netio import AsyncioTransport
from serve import serve

LIMITS = httpx.Limits(max_keepalive_connections=64)


async def _fetch_all(base: str, paths: list[str], transport: httpx.AsyncBaseTransport) -> int:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(base + path)
    size = 0

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal size
        while not queue.empty():
            url = queue.get_nowait()
            async with http.stream("GET", url) as response:
                async for chunk in response.aiter_raw():
                    size += len(chunk)

    headers = {"Accept-Encoding": "gzip, deflate"}
    async with httpx.AsyncClient(transport=transport, headers=headers) as http:
        await asyncio.gather(*(worker(http) for _ in range(16)))
    return size


def _measure(base: str, paths: list[str], name: str) -> tuple[float, float]:
    transport: httpx.AsyncBaseTransport = (
        AsyncioTransport(limits=LIMITS)
        if name == "netio"
        else httpx.AsyncHTTPTransport(limits=LIMITS, trust_env=False)
    )
    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(_fetch_all(base, paths, transport))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return 1000 * cpu / len(paths), len(paths) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8096)
    args = parser.parse_args()
    files = sorted(args.site.rglob("index.html"))[: args.pages]
    paths = ["/" + str(f.parent.relative_to(args.site)).removeprefix(".") for f in files]
    paths = [p if p.endswith("/") else p + "/" for p in paths]
    kb = sum(f.stat().st_size for f in files) / len(files) / 1024
    print(f"{len(paths)} pages, {kb:.1f} KB mean, 16 in flight")
    ratios = []
    with serve(args.site, args.port) as server:
        for round_ in range(args.rounds):
            anyio_ms, anyio_rate = _measure(server.base_url, paths, "anyio")
            netio_ms, netio_rate = _measure(server.base_url, paths, "netio")
            ratios.append(netio_ms / anyio_ms)
            print(
                f"round {round_}: anyio {anyio_ms:.3f} ms CPU/req ({anyio_rate:.0f} req/s), "
                f"netio {netio_ms:.3f} ms CPU/req ({netio_rate:.0f} req/s), "
                f"netio/anyio CPU {netio_ms / anyio_ms:.2f}"
            )
    print(f"median netio/anyio CPU per request: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
