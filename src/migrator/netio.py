"""The sockets under httpx: httpcore's network backend on plain asyncio protocols.

httpx talks to the network through httpcore, whose default backend under asyncio is
anyio's. On a crawl of real-sized pages that layer cost a third of each request's CPU in
the process that also feeds the workers and writes the database: anyio's typed-attribute
lookups (httpcore asks every pooled connection whether it is readable before each
request), its cancel scopes around every read, its stream wrappers. :class:`AsyncioBackend`
implements the same httpcore interface on an ``asyncio.Protocol`` and the loop's own
transports (TCP, Unix sockets, TLS by ``loop.start_tls``), with the same exception
contract (``ConnectError``/``ConnectTimeout``, ``ReadError``/``ReadTimeout``,
``WriteError``/``WriteTimeout``), so httpx maps failures exactly as before.
:class:`AsyncioTransport` is ``httpx.AsyncHTTPTransport`` over it.

``benchmarks/bench_netio.py`` measures both backends side by side.
"""

from __future__ import annotations

import asyncio
import select
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["AsyncioBackend", "AsyncioTransport"]

# Bytes read ahead from the socket before the loop stops reading until httpcore takes
# some: a page streams through in 64 KB reads, this bounds one connection's buffer.
_READ_AHEAD = 1024 * 1024

_SocketOption = tuple[Any, ...]  # the arguments of one socket.setsockopt call


class _Signal:
    """A wake-up one waiter at a time can wait for (a reader for data, a writer for room)."""

    __slots__ = ("_future", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._future: asyncio.Future[None] | None = None

    def set(self) -> None:
        future = self._future
        if future is not None and not future.done():
            future.set_result(None)

    async def wait(self) -> None:
        future = self._future = self._loop.create_future()
        try:
            await future
        finally:
            self._future = None


class _Protocol(asyncio.Protocol):
    """One connection's receive buffer and flow control (the loop calls the callbacks)."""

    __slots__ = ("buffer", "drained", "eof", "lost", "paused", "readable", "transport")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False  # the peer closed its side, or the connection is gone
        self.lost: Exception | None = None  # why the connection ended, if not cleanly
        self.paused = False  # the send buffer is full: writers wait for resume_writing
        self.readable = _Signal(loop)  # data or the end of the stream arrived
        self.drained = _Signal(loop)  # the send buffer accepts more, or the connection is gone

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _READ_AHEAD and self.transport is not None:
            self.transport.pause_reading()
        self.readable.set()

    def eof_received(self) -> bool:
        self.eof = True
        self.readable.set()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.lost = exc
        self.readable.set()
        self.drained.set()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.drained.set()

    def take(self, max_bytes: int) -> bytes:
        buffer = self.buffer
        if len(buffer) <= max_bytes:
            data = bytes(buffer)
            buffer.clear()
        else:
            data = bytes(memoryview(buffer)[:max_bytes])
            del buffer[:max_bytes]
        if self.transport is not None and len(buffer) <= _READ_AHEAD // 2:
            self.transport.resume_reading()  # a no-op unless reading was paused
        return data


def _socket_readable(sock: Any) -> bool:
    """Whether the kernel holds data (or an EOF) the loop has not read yet."""
    fileno = -1 if sock is None else sock.fileno()
    if fileno < 0:
        return True  # no socket any more: the next read returns the end of the stream
    poll = select.poll()
    poll.register(fileno, select.POLLIN)
    return bool(poll.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    """httpcore's view of one connection."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.buffer and not protocol.eof:
            try:
                async with asyncio.timeout(timeout):
                    while not protocol.buffer and not protocol.eof:
                        await protocol.readable.wait()
            except TimeoutError as exc:
                raise httpcore.ReadTimeout("timed out reading the response") from exc
        if protocol.buffer:
            return protocol.take(max_bytes)
        if protocol.lost is not None:
            raise httpcore.ReadError(str(protocol.lost) or type(protocol.lost).__name__)
        return b""  # the peer closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        transport = self._transport
        protocol = self._protocol
        if transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        transport.write(buffer)
        if protocol.paused:
            try:
                async with asyncio.timeout(timeout):
                    while protocol.paused and not transport.is_closing():
                        await protocol.drained.wait()
            except TimeoutError as exc:
                raise httpcore.WriteTimeout("timed out sending the request") from exc
            if protocol.lost is not None:
                raise httpcore.WriteError(str(protocol.lost) or type(protocol.lost).__name__)

    async def aclose(self) -> None:
        transport = self._transport
        if not transport.is_closing():
            transport.close()
            await asyncio.sleep(0)  # the loop closes the socket on its next turn
            transport.abort()  # unless unsent bytes kept it open: drop them

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from exc
        except (ssl.SSLError, OSError, ConnectionError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if transport is None:  # the connection closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(transport, asyncio.Transport)
        return _Stream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        transport = self._transport
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        if info == "is_readable":
            # httpcore asks this of an idle pooled connection: readable means the server
            # closed it (or sent what it should not), so the connection is not reused.
            protocol = self._protocol
            return (
                protocol.eof
                or bool(protocol.buffer)
                or transport.is_closing()
                or _socket_readable(transport.get_extra_info("socket"))
            )
        return None


def _apply(transport: asyncio.BaseTransport, options: Iterable[_SocketOption] | None) -> None:
    sock = transport.get_extra_info("socket")
    for option in options or ():
        sock.setsockopt(*option)


_Opener = Callable[
    [asyncio.AbstractEventLoop, Callable[[], _Protocol]],
    Awaitable[tuple[asyncio.BaseTransport, _Protocol]],
]


async def _connect(
    open_connection: _Opener,
    timeout: float | None,
    socket_options: Iterable[_SocketOption] | None,
) -> _Stream:
    """Open a connection with httpcore's timeout and error contract."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            transport, protocol = await open_connection(loop, lambda: _Protocol(loop))
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout("timed out connecting") from exc
    except OSError as exc:
        raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
    assert isinstance(transport, asyncio.Transport)
    _apply(transport, socket_options)
    return _Stream(transport, protocol)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on the running asyncio loop (TCP has TCP_NODELAY on,
    as asyncio sets it)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local_addr = (local_address, 0) if local_address else None
        return await _connect(
            lambda loop, factory: loop.create_connection(
                factory, host, port, local_addr=local_addr
            ),
            timeout,
            socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await _connect(
            lambda loop, factory: loop.create_unix_connection(factory, path),
            timeout,
            socket_options,
        )

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class AsyncioTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` (HTTP/1.1, no proxy) over :class:`AsyncioBackend`."""

    def __init__(
        self, *, limits: httpx.Limits | None = None, verify: ssl.SSLContext | bool = True
    ) -> None:
        context = (
            verify
            if isinstance(verify, ssl.SSLContext)
            else httpx.create_ssl_context(verify=verify, trust_env=False)
        )
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=context, limits=limits, trust_env=False)
        # httpx builds its pool without a way to name the backend: the same pool again,
        # with it (nothing is connected yet).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )
