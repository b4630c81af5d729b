"""Extraction is pure: hostile bodies never make it open a connection.

htmldate downloads a string input that looks like a URL. The bodies below point at a
local trap route, so a download shows up in the test server's log, even from an
extraction worker process where pytest-socket does not reach; connections anywhere else
are recorded by a spy on ``socket.connect`` (in this process) and blocked.
"""

from __future__ import annotations

import contextlib
import socket
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from migrator.cli import cli
from migrator.config import ExtractConfig
from migrator.errors import ExtractError
from migrator.extract import extract_page
from migrator.models import RawPage
from servers import Reply, TestServer, page

HOSTILE = [
    "{trap}",
    "{trap}\n",
    "https://10.0.0.1/x",
    "http://10.0.0.1/x",
    "http://example.invalid/post/",
]


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every address this process tries to connect to (then refused as pytest-socket does)."""
    seen: list[object] = []
    original = socket.socket.connect

    def connect(self: socket.socket, address: object) -> None:
        seen.append(address)
        original(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def _bodies(server: TestServer) -> list[bytes]:
    return [b.format(trap=server.url("/trap")).encode() for b in HOSTILE]


def _raw(url: str, body: bytes) -> RawPage:
    return RawPage(
        url=url,
        requested_url=url,
        status=200,
        headers=(("content-type", "text/html; charset=utf-8"),),
        body=body,
        fetched_at=datetime.now(UTC),
    )


def test_extract_page_hostile_bodies_open_no_connection(connects):
    with TestServer() as server:
        for body in _bodies(server):
            with contextlib.suppress(ExtractError):
                extract_page(_raw("https://blog.example/post/", body), ExtractConfig())
        assert server.count("/trap") == 0
    assert connects == []


def test_cli_parse_hostile_body_opens_no_connection(tmp_path, connects):
    runner = CliRunner()
    with TestServer() as server:
        for n, body in enumerate(_bodies(server)):
            file = tmp_path / f"page{n}.html"
            file.write_bytes(body)
            result = runner.invoke(cli, ["parse", str(file), "--url", "https://blog.example/p/"])
            assert result.exit_code in {0, 1}, result.output
        assert server.count("/trap") == 0
    assert connects == []


@pytest.mark.slow
def test_cli_extract_offline_hostile_bodies_open_no_connection(tmp_path):
    """The crawl's and the offline extract's workers parse the bodies: no download."""
    db = tmp_path / "m.db"
    with TestServer() as server:
        bodies = _bodies(server)
        paths = [f"/h{n}/" for n in range(len(bodies))]
        server.script("/", Reply(body=page("Home", *paths)))
        for path, body in zip(paths, bodies, strict=True):
            server.script(path, Reply(body=body))
        config = tmp_path / "site.toml"
        config.write_text("[fetch]\ndelay = 0.0\n[extract]\nworkers = 1\n")
        runner = CliRunner()
        crawled = runner.invoke(
            cli, ["run", server.url("/"), "--db", str(db), "--config", str(config), "-q"]
        )
        assert crawled.exit_code in {0, 3}, crawled.output
        assert all(server.count(path) == 1 for path in paths)
        extracted = runner.invoke(
            cli, ["extract", "--db", str(db), "--config", str(config), "--json"]
        )
        assert extracted.exit_code == 0, extracted.output
        assert server.count("/trap") == 0
