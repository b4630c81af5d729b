"""Fetcher against a real misbehaving server on 127.0.0.1: retries, limits, redirects, robots."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from migrator.config import Config, FetchConfig
from migrator.errors import FetchError, RobotsDisallowed
from migrator.fetch import Fetcher, parse_retry_after, user_agent
from migrator.scope import Scope
from servers import Reply, TestServer, misbehaving_routes, page, redirect


@pytest.fixture(scope="module")
def server() -> Iterator[TestServer]:
    srv = TestServer()
    misbehaving_routes(srv)
    with srv:
        yield srv


def make_config(**fetch: object) -> Config:
    values: dict[str, object] = {
        "delay": 0.0,
        "backoff": 0.01,
        "timeout": 2.0,
        "deadline": 3.0,
        "max_attempts": 3,
        "retry_deadline": 20.0,
        "max_retry_after": 5.0,
        "max_body_bytes": 1_000_000,
    }
    values.update(fetch)
    return Config(fetch=dataclasses.replace(FetchConfig(), **values))  # type: ignore[arg-type]


def fetch(server: TestServer, path: str, config: Config | None = None, **kwargs):
    config = config or make_config()
    scope = Scope.from_config(config, [server.base_url + "/"])

    async def go():
        async with Fetcher(config, scope) as fetcher:
            return await fetcher.fetch(server.url(path), **kwargs), fetcher.stats

    return asyncio.run(go())


def fetch_error(server: TestServer, path: str, config: Config | None = None) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(server, path, config)
    return info.value


def test_fetch_ok_page_returns_bytes_and_lowercased_headers(server):
    raw, stats = fetch(server, "/ok/")
    assert raw.status == 200
    assert raw.url == server.url("/ok/")
    assert raw.requested_url == server.url("/ok/")
    assert b"<title>OK</title>" in raw.body
    assert raw.header("content-type") == "text/html; charset=utf-8"
    assert all(k == k.lower() for k, _ in raw.headers)
    assert raw.fetched_at.tzinfo is UTC
    assert raw.redirects == ()
    assert stats.requests == 2  # robots.txt + the page
    assert stats.retries == 0


def test_fetch_sends_user_agent_with_contact(server):
    server.script("/ua", Reply(body=page("UA")))
    fetch(server, "/ua")
    (request,) = server.requests_for("/ua")
    assert request.headers["user-agent"] == user_agent(make_config())
    assert request.headers["user-agent"].startswith("migrator/")
    assert "(+https://" in request.headers["user-agent"]


def test_fetch_404_returned_without_retry(server):
    before = server.count("/missing")
    raw, stats = fetch(server, "/missing")
    assert raw.status == 404
    assert b"Not found" in raw.body
    assert server.count("/missing") - before == 1
    assert stats.retries == 0


@pytest.mark.parametrize(("path", "status"), [("/gone", 410), ("/forbidden", 403)])
def test_fetch_permanent_errors_not_retried(server, path, status):
    before = server.count(path)
    raw, _ = fetch(server, path)
    assert raw.status == status
    assert server.count(path) - before == 1


def test_fetch_503_burst_retried_until_success(server):
    server.script("/flaky-2", Reply(status=503), Reply(status=503), Reply(body=page("Back")))
    raw, stats = fetch(server, "/flaky-2")
    assert raw.status == 200
    assert b"Back" in raw.body
    assert server.count("/flaky-2") == 3
    assert stats.retries == 2


def test_fetch_always_503_gives_up_after_max_attempts(server):
    before = server.count("/always-503")
    err = fetch_error(server, "/always-503", make_config(max_attempts=3))
    assert err.reason == "http_503"
    assert err.status == 503
    assert err.attempts == 3
    assert server.count("/always-503") - before == 3


def test_fetch_retry_after_seconds_honoured(server):
    server.script("/ra-seconds", Reply(status=429, headers={"Retry-After": "1"}), Reply())
    raw, _ = fetch(server, "/ra-seconds")
    assert raw.status == 200
    first, second = server.requests_for("/ra-seconds")
    assert second.time - first.time >= 0.9


def test_fetch_retry_after_http_date_honoured(server):
    when = datetime.now(UTC) + timedelta(seconds=2)
    date = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    server.script("/ra-date", Reply(status=429, headers={"Retry-After": date}), Reply())
    raw, _ = fetch(server, "/ra-date")
    assert raw.status == 200
    first, second = server.requests_for("/ra-date")
    assert second.time - first.time >= 0.9


def test_fetch_retry_after_capped_by_max_retry_after(server):
    server.script("/ra-huge", Reply(status=429, headers={"Retry-After": "3600"}), Reply())
    raw, _ = fetch(server, "/ra-huge", make_config(max_retry_after=0.2))
    assert raw.status == 200
    assert server.count("/ra-huge") == 2


def test_fetch_truncated_body_retried_then_fails(server):
    before = server.count("/truncated")
    err = fetch_error(server, "/truncated")
    assert err.reason == "protocol_error"
    assert err.attempts == 3
    assert server.count("/truncated") - before == 3


def test_fetch_connection_reset_retried_then_fails(server):
    before = server.count("/reset")
    err = fetch_error(server, "/reset")
    assert err.reason in {"network_error", "protocol_error"}
    assert server.count("/reset") - before == 3


def test_fetch_reset_once_then_success(server):
    body = page("Fine", body="y" * 5000)
    server.script("/reset-once", Reply(body=body, action="reset"), Reply(body=body))
    raw, stats = fetch(server, "/reset-once")
    assert raw.body == body
    assert stats.retries == 1


def test_fetch_gzip_bomb_cut_off(server):
    err = fetch_error(server, "/bomb", make_config(max_body_bytes=1_000_000))
    assert err.reason == "too_large"
    assert server.count("/bomb") == 1


def test_fetch_gzip_page_decompressed(server):
    raw, _ = fetch(server, "/gzipped")
    assert raw.body.startswith(b"<!doctype html>")
    assert b"word word" in raw.body
    assert raw.header("content-encoding") == "gzip"


def test_fetch_declared_oversize_refused(server):
    server.script("/big", Reply(body=b"z" * 5000))
    err = fetch_error(server, "/big", make_config(max_body_bytes=1000))
    assert err.reason == "too_large"


def test_fetch_drip_ended_by_deadline(server):
    err = fetch_error(server, "/drip", make_config(deadline=1.5, timeout=5.0))
    assert err.reason == "deadline"
    assert server.count("/drip") == 1  # a drip is not retried


def test_fetch_redirect_loop_refused(server):
    err = fetch_error(server, "/loop/a")
    assert err.reason == "redirect_loop"
    assert server.count("/loop/a") == 1
    assert server.count("/loop/b") == 1


def test_fetch_redirect_chain_recorded(server):
    raw, _ = fetch(server, "/chain/3")
    assert raw.status == 200
    assert raw.url == server.url("/chain/0")
    assert raw.redirects == (
        server.url("/chain/3"),
        server.url("/chain/2"),
        server.url("/chain/1"),
    )


def test_fetch_too_many_redirects(server):
    before = {n: server.count(f"/chain/{n}") for n in range(6)}
    err = fetch_error(server, "/chain/5", make_config(max_redirects=2))
    assert err.reason == "too_many_redirects"
    after = {n: server.count(f"/chain/{n}") - before[n] for n in range(6)}
    # two redirects followed: /chain/5 → 4 → 3; the third redirect (to 2) is refused
    assert after == {5: 1, 4: 1, 3: 1, 2: 0, 1: 0, 0: 0}


def test_fetch_redirect_to_other_host_refused_without_request(server):
    err = fetch_error(server, "/to-other-host")
    assert err.reason == "redirect_out_of_scope"
    assert server.requests_for("/secret") == []
    assert all(r.host.split(":")[0] != "localhost" for r in server.requests)


def test_fetch_redirect_to_allowed_host_followed(server):
    config = make_config()
    config = config.replace(scope=dataclasses.replace(config.scope, allowed_hosts=("localhost",)))
    raw, _ = fetch(server, "/to-other-host", config)
    assert raw.status == 200
    assert raw.url == f"http://localhost:{server.port}/secret"
    assert server.requests_for("/secret", host="localhost")


@pytest.mark.parametrize("path", ["/to-file", "/to-data"])
def test_fetch_redirect_to_non_http_scheme_refused(server, path):
    err = fetch_error(server, path)
    assert err.reason == "redirect_unsupported_scheme"


def test_fetch_robots_disallowed_never_requested(server):
    with pytest.raises(RobotsDisallowed):
        fetch(server, "/private/secret.html")
    assert server.requests_for("/private/secret.html") == []


def test_fetch_robots_ignored_when_obey_robots_false(server):
    raw, _ = fetch(server, "/private/open.html", make_config(obey_robots=False))
    assert raw.status == 200


def test_fetch_unwanted_content_type(server):
    err = fetch_error(server, "/image.png")
    assert err.reason == "unwanted_content_type"


def test_fetch_accept_overrides_content_types(server):
    raw, _ = fetch(server, "/billion-laughs.xml", accept=("application/xml",))
    assert raw.status == 200
    raw, _ = fetch(server, "/image.png", accept=())
    assert raw.body.startswith(b"\x89PNG")


def test_fetch_charset_never_decoded(server):
    raw, _ = fetch(server, "/charset/header-lies")
    assert "café ☕".encode() in raw.body


def test_fetch_url_too_long_refused_without_request(server):
    config = make_config()
    config = config.replace(scope=dataclasses.replace(config.scope, max_url_length=50))
    err = fetch_error(server, "/" + "a" * 100, config)
    assert err.reason == "url_too_long"
    assert server.requests_for("/" + "a" * 100) == []


def test_fetch_connect_error_after_retries():
    config = make_config(max_attempts=2)
    with TestServer() as srv:
        base = srv.base_url
    scope = Scope.from_config(config, [base + "/"])

    async def go():
        async with Fetcher(config, scope) as fetcher:
            await fetcher.fetch(base + "/x")

    with pytest.raises(RobotsDisallowed):  # robots unreachable → disallow all
        asyncio.run(go())


def test_fetch_connect_error_reason_without_robots():
    config = make_config(max_attempts=2, obey_robots=False)
    with TestServer() as srv:
        base = srv.base_url
    scope = Scope.from_config(config, [base + "/"])

    async def go():
        async with Fetcher(config, scope) as fetcher:
            await fetcher.fetch(base + "/x")

    with pytest.raises(FetchError) as info:
        asyncio.run(go())
    assert info.value.reason == "connect_error"
    assert info.value.attempts == 2


def test_fetch_parse_retry_after_forms():
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_fetch_redirect_301_to_slash_on_static_dir(tmp_path):
    (tmp_path / "post").mkdir()
    (tmp_path / "post" / "index.html").write_bytes(page("Post"))
    config = make_config()
    with TestServer(tmp_path) as srv:
        raw, _ = fetch(srv, "/post", config)
    assert raw.url == srv.url("/post/")
    assert raw.redirects == (srv.url("/post"),)
    assert b"<title>Post</title>" in raw.body


def test_fetch_redirect_same_host_absolute_and_relative(server):
    server.script("/moved-rel", redirect("ok/", 301))
    server.script("/moved-abs", redirect(server.url("/ok/"), 308))
    for path in ("/moved-rel", "/moved-abs"):
        raw, _ = fetch(server, path)
        assert raw.url == server.url("/ok/")
        assert raw.status == 200
