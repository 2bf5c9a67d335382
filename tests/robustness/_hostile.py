"""Hostile loopback servers and the other helpers of the robustness (and transport) tests.

The one place for test servers that misbehave on purpose: :class:`HostileServer` (raw
HTTP/1.1 over asyncio: close after answering, gzip bombs, padded envelopes, ...),
:func:`serve_engine_once`, :class:`Loopback` and the TLS terminator :func:`tls_front`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import ssl
import sys
import threading
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import trustme

from qvickly_async._signing import sign
from qvickly_async.sandbox import FunctionCall, Sandbox, ServerHandle

from .._support import read_request

#: A realistic addPayment ``data`` (personal data included).
PAYMENT: dict[str, Any] = {
    "PaymentData": {"method": "1", "currency": "SEK", "language": "sv", "country": "SE"},
    "PaymentInfo": {"paymentdate": "2024-06-01"},
    "Customer": {
        "nr": "10001",
        "pno": "195501011018",
        "Billing": {"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.se"},
    },
    "Articles": [{"artnr": "A1", "title": "Book", "quantity": "1", "aprice": "10000"}],
    "Cart": {"Total": {"withouttax": "10000", "tax": "2500", "withtax": "12500"}},
}


def register_add_payment(sandbox: Sandbox) -> list[str]:
    """Make the sandbox answer addPayment; returns the list of order ids it received."""
    received: list[str] = []

    def add_payment(call: FunctionCall) -> dict[str, str]:
        info = call.data.get("PaymentInfo") if isinstance(call.data, dict) else None
        orderid = str(info.get("orderid", "")) if isinstance(info, dict) else ""
        received.append(orderid)
        number = str(500000 + len(received))
        return {
            "number": number,
            "status": "Created",
            "orderid": orderid,
            "url": f"https://api.billmate.se/invoice/{number}",
        }

    sandbox.register_function("addPayment", add_payment)
    return received


def bound_unlistening_socket() -> socket.socket:
    """A loopback socket bound to a free port but not listening: connecting is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve_on_socket(sandbox: Sandbox, sock: socket.socket) -> asyncio.Server:
    """Serve ``sandbox`` on an already listening ``sock`` (one answer per connection)."""

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            _, body = await read_request(reader)
            reply = sandbox.handler(httpx.Request("POST", "http://sandbox/", content=body))
            headers = "".join(
                f"{name}: {value}\r\n"
                for name, value in reply.headers.items()
                if name not in ("content-length", "connection")
            )
            writer.write(
                f"HTTP/1.1 {reply.status_code} OK\r\n{headers}"
                f"Content-Length: {len(reply.content)}\r\nConnection: close\r\n\r\n".encode(
                    "latin-1"
                )
                + reply.content
            )
            await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(on_connection, sock=sock)


def report(text: str) -> None:
    """Print a figure of the run (visible with ``pytest -s`` or ``-rP``)."""
    sys.stdout.write(text + "\n")


@contextlib.asynccontextmanager
async def tls_front(target: ServerHandle, cert: trustme.LeafCert) -> AsyncIterator[str]:
    """Terminate TLS presenting ``cert`` and relay the bytes to ``target``; yield the URL."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    writers: list[asyncio.StreamWriter] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.transport.abort()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(target.host, target.port)
        writers.extend((writer, upstream_writer))
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=context)
    try:
        yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        await server.wait_closed()


# -- raw HTTP servers that misbehave on purpose ------------------------------------------------


class Loopback:
    """A loopback HTTP server answering every request with one fixed response, then closing."""

    def __init__(self, response: bytes) -> None:
        self.response = response
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    async def __aenter__(self) -> Loopback:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head, body = await read_request(reader)
            self.requests.append(head + body)
            writer.write(self.response)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


#: Given a request body, return the complete raw HTTP response to send.
Responder = Callable[[bytes], bytes | Awaitable[bytes]]


class HostileServer:
    """A loopback HTTP/1.1 server whose raw answers come from ``respond(request_body)``.

    ``keep_alive=True`` serves many requests per connection. ``close_after_answer=True``
    closes each connection right after its answer without saying so (no
    ``Connection: close``): the stale pooled connection case. ``requests`` counts the
    requests that fully arrived.
    """

    def __init__(
        self, respond: Responder, *, keep_alive: bool = False, close_after_answer: bool = False
    ) -> None:
        self.respond = respond
        self.keep_alive = keep_alive
        self.close_after_answer = close_after_answer
        self.requests = 0
        self.connections = 0
        self.ended = 0  # connections the client closed (EOF) or that this server closed
        self.server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    async def __aenter__(self) -> HostileServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                _, body = await read_request(reader)
                self.requests += 1
                answer = self.respond(body)
                if not isinstance(answer, bytes):
                    answer = await answer
                writer.write(answer)
                await writer.drain()
                if self.close_after_answer or not self.keep_alive:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # the server shuts down while a connection idles
            pass
        finally:
            self.ended += 1
            self._writers.discard(writer)
            writer.close()


@contextlib.contextmanager
def hostile_server_in_thread(respond: Responder, **options: bool) -> Iterator[HostileServer]:
    """Run a :class:`HostileServer` on its own event loop in a thread (for multi-loop tests)."""
    loop = asyncio.new_event_loop()
    server = HostileServer(respond, **options)
    started = threading.Event()
    stop = asyncio.Event()

    async def main() -> None:
        async with server:
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def http_response(
    body: bytes, *, status: str = "200 OK", headers: dict[str, str] | None = None
) -> bytes:
    """A raw HTTP/1.1 response with a Content-Length (and no Connection header)."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def signed_envelope(secret: str | bytes, data_text: bytes, *, pad: bytes = b"") -> bytes:
    """An answer signing ``data_text`` exactly, with ``pad`` between every envelope token."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = sign(key, data_text).encode()
    parts = [b"{", b'"credentials"', b":", b'{"hash":"' + digest + b'"}', b","]
    parts += [b'"data"', b":", data_text, b"}"]
    return pad.join(parts)


def sandbox_responder(sandbox: Sandbox) -> Callable[[bytes], bytes]:
    """Answer like the sandbox (a keep-alive-less faithful server)."""

    def respond(body: bytes) -> bytes:
        reply = sandbox.handler(httpx.Request("POST", "http://sandbox/", content=body))
        headers = {
            name: value
            for name, value in reply.headers.items()
            if name not in ("content-length", "connection")
        }
        return http_response(reply.content, status=f"{reply.status_code} OK", headers=headers)

    return respond


def gzip_layers(payload_size: int, layers: int, *, chunk: int = 1 << 20) -> bytes:
    """``payload_size`` zero bytes gzip-compressed ``layers`` times (a compression bomb)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * chunk
    parts = []
    for _ in range(payload_size // chunk):
        parts.append(compressor.compress(block))
    parts.append(compressor.compress(b"\0" * (payload_size % chunk)))
    parts.append(compressor.flush())
    data = b"".join(parts)
    for _ in range(layers - 1):
        data = gzip.compress(data, 9)
    return data
