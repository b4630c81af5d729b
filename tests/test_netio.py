"""httpcore's sockets on asyncio (``migrator.netio``), against real servers on 127.0.0.1.

The backend replaces anyio's under every fetch, so what it must keep is httpcore's
contract: keep-alive reuse, an idle connection the server closed is not reused, bodies
larger than the read-ahead arrive whole, large requests wait for the socket, TLS with
SNI, and failures raised as the httpx errors the fetcher retries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import trustme

from migrator.config import FetchConfig
from migrator.exchange import open_client
from migrator.netio import AsyncioTransport
from migrator.resolve import ResolvingTransport
from servers import Reply, TestServer

Handler = Callable[[socket.socket], None]


class RawServer:
    """A TCP server on 127.0.0.1: each connection is handled by ``handler`` in a thread."""

    def __init__(self, handler: Handler, wrap: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.wrap = wrap
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def __enter__(self) -> RawServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        self._listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            if self.wrap is not None:
                conn = self.wrap.wrap_socket(conn, server_side=True)
            self.handler(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def read_request(conn: socket.socket) -> tuple[bytes, int] | None:
    """One request's head and the length of its body, read and dropped (``None`` when
    the client closed)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    received = len(rest)
    while received < length:
        chunk = conn.recv(min(65536, length - received))
        if not chunk:
            return None
        received += len(chunk)
    return head, received


def answer(conn: socket.socket, body: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def keep_alive(body: Callable[[bytes], bytes]) -> Handler:
    """Answer every request on the connection: ``body(request head)``, or for a request
    with a body, the number of its bytes received."""

    def handle(conn: socket.socket) -> None:
        while (request := read_request(conn)) is not None:
            head, received = request
            answer(conn, b"%d" % received if received else body(head))

    return handle


def client(**kwargs: object) -> httpx.AsyncClient:
    transport = kwargs.pop("transport", None) or AsyncioTransport()
    return httpx.AsyncClient(transport=transport, **kwargs)  # type: ignore[arg-type]


def test_open_client_reads_through_asyncio_sockets() -> None:
    """The fetcher's client runs on this backend (not anyio's): the speed-up is in use."""

    async def main(url: str) -> tuple[int, object]:
        async with open_client(FetchConfig(), "migrator-test", None) as http:
            response = await http.get(url)
            stream = response.extensions["network_stream"]
            return response.status_code, stream.get_extra_info("socket")

    with TestServer() as server:
        server.script("/", Reply())
        status, sock = asyncio.run(main(server.url("/")))
    assert status == 200
    assert isinstance(sock, asyncio.trsock.TransportSocket)  # anyio hands a socket.socket


def test_keep_alive_reuses_one_connection() -> None:
    async def main(base: str) -> list[bytes]:
        async with client() as http:
            return [(await http.get(f"{base}/{n}")).content for n in range(5)]

    with RawServer(keep_alive(lambda head: head.split(b" ")[1])) as server:
        bodies = asyncio.run(main(f"http://127.0.0.1:{server.port}"))
    assert bodies == [b"/0", b"/1", b"/2", b"/3", b"/4"]
    assert server.connections == 1


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    """The server answers with keep-alive, then closes the idle connection: the next
    request must go out on a new one instead of failing on the dead one."""

    def handle(conn: socket.socket) -> None:
        if read_request(conn) is not None:
            answer(conn, b"once")
            time.sleep(0.05)

    async def main(base: str) -> list[bytes]:
        async with client() as http:
            first = (await http.get(base + "/a")).content
            await asyncio.sleep(0.3)  # the server closes the connection meanwhile
            return [first, (await http.get(base + "/b")).content]

    with RawServer(handle) as server:
        bodies = asyncio.run(main(f"http://127.0.0.1:{server.port}"))
    assert bodies == [b"once", b"once"]
    assert server.connections == 2


def test_a_body_larger_than_the_read_ahead_arrives_whole() -> None:
    big = hashlib.sha256(b"seed").digest() * (300 * 1024)  # 9.4 MB: reading pauses and resumes

    async def main(base: str) -> bytes:
        async with client() as http, http.stream("GET", base + "/big") as response:
            return b"".join([chunk async for chunk in response.aiter_raw()])

    with RawServer(keep_alive(lambda head: big)) as server:
        got = asyncio.run(main(f"http://127.0.0.1:{server.port}"))
    assert len(got) == len(big)
    assert got == big


def test_a_large_request_waits_for_the_socket() -> None:
    """16 MB to a server that starts reading late: the send buffer fills, writing pauses
    until the loop says it drained, and every byte arrives."""
    upload = b"x" * (16 * 1024 * 1024)

    def handle(conn: socket.socket) -> None:
        time.sleep(0.3)
        keep_alive(lambda head: b"")(conn)

    async def main(base: str) -> bytes:
        async with client() as http:
            return (await http.post(base + "/up", content=upload)).content

    with RawServer(handle) as server:
        got = asyncio.run(main(f"http://127.0.0.1:{server.port}"))
    assert got == b"%d" % len(upload)


def test_failures_are_the_httpx_errors_the_fetcher_retries() -> None:
    def silent(conn: socket.socket) -> None:
        read_request(conn)
        time.sleep(1)

    def reset_mid_body(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"y" * 1000)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    async def get(url: str, timeout: float = 5) -> None:
        async with client(timeout=timeout) as http:
            await http.get(url)

    with RawServer(silent) as server, pytest.raises(httpx.ReadTimeout):
        asyncio.run(get(f"http://127.0.0.1:{server.port}/", timeout=0.2))
    with RawServer(reset_mid_body) as server, pytest.raises(httpx.ReadError):
        asyncio.run(get(f"http://127.0.0.1:{server.port}/"))
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(httpx.ConnectError):
        asyncio.run(get(f"http://127.0.0.1:{port}/"))


@contextlib.contextmanager
def tls_server(names: list[str]) -> Iterator[tuple[RawServer, ssl.SSLContext, list[str]]]:
    """An HTTPS server whose certificate names ``names``; yields it, a client context
    trusting its CA, and the SNI names it was asked for."""
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*names).configure_cert(server_context)
    asked: list[str] = []
    server_context.sni_callback = lambda sock, name, ctx: asked.append(name or "")  # type: ignore[assignment,func-returns-value]
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    with RawServer(keep_alive(lambda head: b"secret"), wrap=server_context) as server:
        yield server, client_context, asked


def test_tls_with_the_sites_name_and_a_refused_certificate() -> None:
    async def get(url: str, port: int, context: ssl.SSLContext) -> bytes:
        inner = AsyncioTransport(verify=context)
        transport = ResolvingTransport({"blog.example": ("127.0.0.1", port)}, inner)
        async with client(transport=transport) as http:
            return (await http.get(url)).content

    with tls_server(["blog.example"]) as (server, context, asked):
        assert asyncio.run(get("https://blog.example/", server.port, context)) == b"secret"
        assert asked == ["blog.example"]
    refused = pytest.raises(httpx.ConnectError, match=r"(?i)certificate")
    with tls_server(["other.example"]) as (server, context, _), refused:
        asyncio.run(get("https://blog.example/", server.port, context))
