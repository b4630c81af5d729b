"""Connecting to another address for some hosts, like ``curl --resolve``.

``fetch.resolve`` (``--resolve HOST=ADDRESS[:PORT]``) maps host names to addresses;
:class:`ResolvingTransport` sends those hosts' requests there while keeping the URL, the
``Host`` header and TLS SNI. This module routes connections only: no pacing, no retries.
:func:`transport_for` builds the run's transport (``netio``'s asyncio sockets).
"""

from __future__ import annotations

import httpx

from migrator.netio import AsyncioTransport

__all__ = ["ResolvingTransport", "resolve_map", "transport_for"]


def resolve_map(entries: tuple[str, ...]) -> dict[str, tuple[str, int | None]]:
    """``fetch.resolve`` entries (``HOST=ADDRESS[:PORT]``) as ``{host: (address, port)}``."""
    mapping: dict[str, tuple[str, int | None]] = {}
    for entry in entries:
        host, _, target = entry.partition("=")
        address, port = target, None
        if target.rpartition(":")[2].isdigit() and not target.endswith("]"):
            address, _, digits = target.rpartition(":")
            port = int(digits)
        mapping[host.strip().lower().rstrip(".")] = (address.strip("[]"), port)
    return mapping


class ResolvingTransport(httpx.AsyncBaseTransport):
    """Connect to another address for some hosts, like ``curl --resolve``.

    The request keeps its URL and ``Host`` header (and TLS SNI), so the server sees the
    site's own name while the connection goes to the mapped address: a site already
    moved off its DNS name, a staging copy, or a local mirror of a site whose pages
    link to its public host.
    """

    def __init__(
        self, mapping: dict[str, tuple[str, int | None]], inner: httpx.AsyncBaseTransport
    ) -> None:
        self._mapping = mapping
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = self._mapping.get(request.url.host.lower())
        if target is None:
            return await self._inner.handle_async_request(request)
        address, port = target
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions.setdefault("sni_hostname", request.url.host)
        routed = httpx.Request(
            request.method,
            request.url.copy_with(host=address, port=port or request.url.port),
            headers=request.headers,  # Host: the original name, set when it was built
            stream=request.stream,
            extensions=extensions,
        )
        return await self._inner.handle_async_request(routed)

    async def aclose(self) -> None:
        await self._inner.aclose()


def transport_for(resolve: tuple[str, ...], limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """The run's transport: httpx's HTTP/1.1 on asyncio sockets (``netio``), routed by
    ``fetch.resolve`` entries when there are any."""
    inner = AsyncioTransport(limits=limits)
    if not resolve:
        return inner
    return ResolvingTransport(resolve_map(resolve), inner)
