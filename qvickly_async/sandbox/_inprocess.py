"""In-process delivery of engine replies: httpx ``MockTransport`` handlers and an ASGI app.

Socket-level faults have in-process stand-ins: a reset raises ``httpx.ReadError`` from the
handlers and ``ConnectionResetError`` from the ASGI app; a body cut short of its announced
length raises ``httpx.RemoteProtocolError`` (handlers) or ``ConnectionResetError`` after the
partial body (ASGI). A slow drip streams the body in chunks.
"""

from __future__ import annotations

import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    MutableMapping,
)
from typing import Any, Final

import anyio
import httpx

from ._engine import Engine
from ._reply import Reply

__all__ = ["ASGIApp", "AsgiApp", "async_handler", "sync_handler"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: The ASGI 3 application signature.
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_RESET_TEXT: Final = "sandbox fault: connection reset by peer"
_CUT_TEXT: Final = "sandbox fault: peer closed connection without sending complete message body"


class _DripStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that arrives ``size`` bytes at a time, ``interval`` seconds apart."""

    def __init__(self, body: bytes, size: int, interval: float) -> None:
        self._chunks = [body[start : start + size] for start in range(0, len(body), size)]
        self._interval = interval

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self._chunks):
            if index:
                time.sleep(self._interval)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for index, chunk in enumerate(self._chunks):
            if index:
                await anyio.sleep(self._interval)
            yield chunk


def _headers(reply: Reply) -> list[tuple[str, str]]:
    return [*reply.headers, ("Content-Length", str(reply.content_length))]


def _response(reply: Reply, request: httpx.Request) -> httpx.Response:
    if reply.reset:
        raise httpx.ReadError(_RESET_TEXT, request=request)
    if reply.closes_mid_body:
        raise httpx.RemoteProtocolError(_CUT_TEXT, request=request)
    if reply.drip is not None:
        stream = _DripStream(reply.body, *reply.drip)
        return httpx.Response(reply.status, headers=_headers(reply), stream=stream)
    return httpx.Response(reply.status, headers=_headers(reply), content=reply.body)


def _handle(engine: Engine, request: httpx.Request) -> Reply:
    url = request.url
    return engine.handle(request.method, url.path, url.query.decode("ascii"), request.content)


def sync_handler(engine: Engine) -> Callable[[httpx.Request], httpx.Response]:
    """Make a ``MockTransport`` handler; latency blocks the calling thread (``time.sleep``)."""

    def handler(request: httpx.Request) -> httpx.Response:
        reply = _handle(engine, request)
        if reply.delay:
            time.sleep(reply.delay)
        return _response(reply, request)

    return handler


def async_handler(
    engine: Engine,
) -> Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]:
    """Make an async ``MockTransport`` handler; latency and drips sleep without blocking."""

    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        reply = _handle(engine, request)
        if reply.delay:
            await anyio.sleep(reply.delay)
        return _response(reply, request)

    return handler


class AsgiApp:
    """The sandbox as an ASGI 3 app (``httpx.ASGITransport``, uvicorn, ...).

    Under a real server an app cannot drop a connection without answering: uvicorn turns the
    reset fault into a 500 answer. Use :meth:`Sandbox.serve` for socket-level faults.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"the sandbox serves HTTP only, not {scope['type']!r}")
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        query = scope.get("query_string", b"").decode("latin-1")
        reply = self._engine.handle(scope["method"], scope["path"], query, bytes(body))
        if reply.delay:
            await anyio.sleep(reply.delay)
        if reply.reset:
            raise ConnectionResetError(_RESET_TEXT)
        headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in _headers(reply)
        ]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        if reply.drip is not None:
            size, interval = reply.drip
            for start in range(0, len(reply.body), size):
                if start:
                    await anyio.sleep(interval)
                chunk = reply.body[start : start + size]
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if reply.closes_mid_body:
            await send({"type": "http.response.body", "body": reply.body, "more_body": True})
            raise ConnectionResetError(_CUT_TEXT)
        await send({"type": "http.response.body", "body": reply.body, "more_body": False})

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
