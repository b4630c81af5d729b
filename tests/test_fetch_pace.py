"""Adaptive pacing: faster while the server answers fast, slower when it answers slowly
or with 429/5xx, never beyond the configured bounds or robots.txt Crawl-delay."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

import pytest

from migrator.cli.options import _config as cli_config
from migrator.config import Config, FetchConfig, load_config
from migrator.errors import ConfigError, FetchError
from migrator.fetch import Fetcher, SharedPace
from migrator.pace import Pacer
from migrator.scope import Scope
from servers import Reply, TestServer, page


def _config(**fetch: object) -> Config:
    values: dict[str, object] = {"backoff": 0.01, "max_attempts": 2, "concurrency": 1}
    values.update(fetch)
    return Config(fetch=dataclasses.replace(FetchConfig(), **values))  # type: ignore[arg-type]


def _delays(config: Config, server: TestServer, paths: list[str]) -> list[float]:
    """Fetch ``paths`` one after another; the host's gap after each answer."""

    async def go() -> list[float]:
        scope = Scope.from_config(config, [server.url("/")])
        seen = []
        async with Fetcher(config, scope) as fetcher:
            for path in paths:
                with contextlib.suppress(FetchError):  # the gap is what is tested
                    await fetcher.fetch(server.url(path))
                seen.append(fetcher.host_delay(server.url("/")))
        return seen

    return asyncio.run(go())


def test_fetch_pace_speeds_up_on_a_fast_server_down_to_min_delay():
    with TestServer() as server:
        server.set_robots("")
        paths = [f"/p{i}" for i in range(8)]
        for path in paths:
            server.script(path, Reply(body=page(path)))
        delays = _delays(_config(delay=0.2, min_delay=0.02), server, paths)
    # Real answers on a shared machine: one may come slowly and widen the gap for a
    # moment, so the order is checked on the pacer alone below, not here.
    assert delays[0] < 0.2  # a fast answer: closer already
    assert max(delays) < 0.2
    assert delays[-1] == 0.02  # the floor, never below

    pacer = Pacer(_config(delay=0.2, min_delay=0.02).fetch)
    host = pacer.host("http://blog.example/")
    gaps = []
    for _ in range(8):
        pacer.after_answer(host, 200, 0.002, ())
        gaps.append(host.delay)
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[0] < 0.2
    assert gaps[-1] == 0.02


def test_fetch_pace_slows_down_when_answers_get_slow():
    with TestServer() as server:
        server.set_robots("")
        for i in range(4):
            server.script(f"/slow{i}", Reply(body=page("slow"), delay=0.4))
        delays = _delays(_config(delay=0.0, min_delay=0.0), server, [f"/slow{i}" for i in range(4)])
    # Halfway towards the latency (>= 0.4 s) at each answer.
    assert delays[0] >= 0.2
    assert delays[-1] >= 0.35


def test_fetch_pace_backs_off_on_5xx_and_respects_max_delay():
    with TestServer() as server:
        server.set_robots("")
        server.script("/down", Reply(status=500, body=b"oops"))
        config = _config(delay=0.0, min_delay=0.0, max_delay=1.0, backoff=0.05, max_attempts=1)
        delays = _delays(config, server, ["/down"] * 3 + ["/ok"])
    assert delays[0] > 0
    assert delays[0] < delays[1] < delays[2]
    assert delays[-1] <= 1.0  # a fast 200 after the 500s: back under max_delay


def test_fetch_pace_never_faster_than_crawl_delay():
    with TestServer() as server:
        server.set_robots("User-agent: *\nCrawl-delay: 0.3\n")
        delays = _delays(_config(delay=0.0, min_delay=0.0), server, ["/a", "/b", "/c"])
    assert min(delays) == 0.3


def test_fetch_pace_fixed_when_not_adaptive():
    with TestServer() as server:
        server.set_robots("")
        server.script("/slow", Reply(body=page("slow"), delay=0.2))
        delays = _delays(_config(delay=0.05, adaptive=False), server, ["/slow", "/a", "/b"])
    assert delays == [0.05, 0.05, 0.05]


def test_fetch_pace_shared_waits_do_not_count_as_latency():
    """A wait for the shared gap is not the server's latency: two fetchers sharing one
    pace under Crawl-delay stay at it (counting the wait made the gap feed on itself)."""
    with TestServer() as server:
        server.set_robots("User-agent: *\nCrawl-delay: 0.2\n")
        config = _config(delay=0.0, min_delay=0.0, concurrency=2)
        pace = SharedPace()

        async def go() -> list[float]:
            scope = Scope.from_config(config, [server.url("/")])
            async with (
                Fetcher(config, scope, pace=pace) as one,
                Fetcher(config, scope, pace=pace) as two,
            ):
                for i in range(4):
                    with contextlib.suppress(FetchError):
                        await asyncio.gather(
                            one.fetch(server.url(f"/a{i}")), two.fetch(server.url(f"/b{i}"))
                        )
                return [one.host_delay(server.url("/")), two.host_delay(server.url("/"))]

        delays = asyncio.run(go())
    assert delays == [0.2, 0.2]


def test_cli_concurrency_is_the_adaptive_target():
    """``--concurrency N`` on the command line: N requests in flight while the server
    answers fast (gap = latency / N), not one request per answer time (the config's
    default target of 1 made a 16-way sync run at ~200 requests/s)."""
    config = cli_config(None, concurrency=16, delay=0.0)
    assert config.fetch.concurrency == 16
    assert config.fetch.target_concurrency == 16.0
    assert config.fetch.min_delay == 0.0
    assert cli_config(None).fetch.target_concurrency == FetchConfig().target_concurrency

    pacer = Pacer(config.fetch)
    host = pacer.host("http://blog.example/")
    pacer.after_answer(host, 200, 0.16, ())
    assert host.delay == 0.01  # 0.16 s / 16, not 0.16 s


def test_config_file_concurrency_is_the_adaptive_target_unless_set(tmp_path):
    """``concurrency = N`` in a config file means what ``--concurrency N`` means; an explicit
    ``target_concurrency`` in the same table wins."""
    alone = tmp_path / "alone.toml"
    alone.write_text("[fetch]\nconcurrency = 8\n", encoding="utf-8")
    assert load_config(alone).fetch.target_concurrency == 8.0
    both = tmp_path / "both.toml"
    both.write_text("[fetch]\nconcurrency = 8\ntarget_concurrency = 2.5\n", encoding="utf-8")
    assert load_config(both).fetch.target_concurrency == 2.5
    neither = tmp_path / "neither.toml"
    neither.write_text("[fetch]\ndelay = 1.0\n", encoding="utf-8")
    assert load_config(neither).fetch.target_concurrency == FetchConfig().target_concurrency
    bad = tmp_path / "bad.toml"
    bad.write_text('[fetch]\nconcurrency = "many"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"fetch\.concurrency"):
        load_config(bad)
