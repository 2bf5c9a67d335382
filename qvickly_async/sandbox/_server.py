"""A small HTTP/1.1 keep-alive server on asyncio streams and ``h11`` that serves the engine.

It exists because socket-level faults need full control of the connection, which ASGI cannot
express: a TCP reset without any answer (``SO_LINGER`` 0 then close), a slow drip of the body,
a ``Content-Length`` larger than the body followed by a close.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Final

import attrs
import h11

from ._engine import Engine
from ._reply import Reply

__all__ = ["HTTPServer", "ServerHandle", "serve", "serve_in_thread"]

_READ_SIZE: Final = 65536
_MAX_BODY: Final = 16 * 1024 * 1024
_LINGER_RESET: Final = struct.pack("ii", 1, 0)


@attrs.frozen
class ServerHandle:
    """Where a running sandbox server listens."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """Base URL with a trailing slash, e.g. ``http://127.0.0.1:54321/``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


def _plain(status: int, text: str) -> tuple[h11.Response, bytes]:
    body = text.encode("ascii")
    headers = [
        ("Content-Type", "text/plain"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]
    return h11.Response(status_code=status, headers=headers), body


class HTTPServer:
    """Serves one engine on a listening socket until :meth:`aclose`."""

    def __init__(self, engine: Engine, *, max_body: int = _MAX_BODY) -> None:
        self._engine = engine
        self._max_body = max_body
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    async def start(self, host: str, port: int) -> ServerHandle:
        """Listen on ``host:port`` (``port=0`` picks a free one)."""
        self._server = await asyncio.start_server(
            self._on_connection, host, port, backlog=2048, reuse_address=True
        )
        bound = self._server.sockets[0].getsockname()
        return ServerHandle(host=host, port=bound[1])

    async def aclose(self) -> None:
        """Stop listening and drop every open connection."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if not self._closing:  # asyncio sets TCP_NODELAY on its own
                await self._serve(reader, writer)
        except asyncio.CancelledError:
            # Ended by aclose(): finish normally, because asyncio (3.11) logs an error for a
            # cancelled connection callback task.
            if not self._closing:
                raise
        except (OSError, h11.LocalProtocolError):
            pass  # the peer went away or we ended the exchange on purpose
        finally:
            self._tasks.discard(task)
            if self._closing:
                writer.transport.abort()  # never wait for a peer that stopped reading
            else:
                writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            try:
                request = await self._read_request(conn, reader, writer)
            except h11.RemoteProtocolError as error:
                if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    head, body = _plain(error.error_status_hint, "Bad Request\n")
                    writer.write(conn.send(head) + conn.send(h11.Data(data=body)))
                    await writer.drain()
                return
            if request is None:
                return
            event, body = request
            target = event.target.decode("latin-1")
            path, _, query = target.partition("?")
            reply = self._engine.handle(event.method.decode("ascii"), path, query, body)
            if not await self._send(conn, writer, reply):
                return
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[h11.Request, bytes] | None:
        request: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                if conn.they_are_waiting_for_100_continue:
                    writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
                conn.receive_data(await reader.read(_READ_SIZE))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self._max_body:
                    head, text = _plain(413, "Payload Too Large\n")
                    writer.write(conn.send(head) + conn.send(h11.Data(data=text)))
                    await writer.drain()
                    return None
            elif isinstance(event, h11.EndOfMessage):
                assert request is not None
                return request, bytes(body)
            else:  # ConnectionClosed or PAUSED: nothing more to serve
                return None

    @staticmethod
    async def _send(conn: h11.Connection, writer: asyncio.StreamWriter, reply: Reply) -> bool:
        """Deliver ``reply``; ``False`` when the connection must end."""
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.reset:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            writer.transport.abort()
            return False
        headers = [*reply.headers, ("Content-Length", str(reply.content_length))]
        if reply.closes_mid_body:
            headers.append(("Connection", "close"))
        head = conn.send(h11.Response(status_code=reply.status, headers=headers))
        if reply.closes_mid_body:
            writer.write(head + conn.send(h11.Data(data=reply.body)))
            await writer.drain()
            return False
        if reply.drip is not None:
            size, interval = reply.drip
            writer.write(head)
            for start in range(0, len(reply.body), size):
                if start:
                    await asyncio.sleep(interval)
                writer.write(conn.send(h11.Data(data=reply.body[start : start + size])))
                await writer.drain()
            writer.write(conn.send(h11.EndOfMessage()))
        else:
            data = conn.send(h11.Data(data=reply.body)) if reply.body else b""
            writer.write(head + data + conn.send(h11.EndOfMessage()))
        await writer.drain()
        return True


@contextlib.asynccontextmanager
async def serve(engine: Engine, host: str, port: int) -> AsyncIterator[ServerHandle]:
    """Serve ``engine`` in the running event loop for the duration of the block."""
    server = HTTPServer(engine)
    handle = await server.start(host, port)
    try:
        yield handle
    finally:
        await server.aclose()


@contextlib.contextmanager
def serve_in_thread(engine: Engine, host: str, port: int) -> Iterator[ServerHandle]:
    """Serve ``engine`` from a background thread with its own event loop."""
    ready = threading.Event()
    handles: list[ServerHandle] = []
    errors: list[BaseException] = []
    controls: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def main() -> None:
        stop = asyncio.Event()
        server = HTTPServer(engine)
        try:
            handles.append(await server.start(host, port))
        except BaseException as error:
            errors.append(error)
            ready.set()
            return
        controls.append((asyncio.get_running_loop(), stop))
        ready.set()
        try:
            await stop.wait()
        finally:
            await server.aclose()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="qvickly-sandbox")
    thread.daemon = True
    thread.start()
    ready.wait()
    if errors:
        thread.join()
        raise errors[0]
    loop, stop = controls[0]
    try:
        yield handles[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join()
