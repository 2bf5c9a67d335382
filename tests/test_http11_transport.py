"""The SDK's own HTTP/1.1 transport (qvickly_async._http11) against real loopback servers.

The error mapping is what matters most: only failures that provably happen before the request
is written may look like "never sent" (``ConnectError``/``ConnectTimeout``/``PoolTimeout``);
everything after must not, or a payment could be sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import trustme

from qvickly_async._http11 import Http11Transport
from qvickly_async.sandbox import Fault, FaultPlan, Sandbox

from ._support import read_request, refused_url, trust_through_ssl_cert_file

pytestmark = [pytest.mark.anyio, pytest.mark.socket]

Reply = Callable[[bytes], Awaitable[bytes | None]]


def response_bytes(
    status: int = 200,
    body: bytes = b"{}",
    *,
    reason: str = "OK",
    headers: list[tuple[str, str]] | None = None,
) -> bytes:
    """A complete HTTP/1.1 response with a Content-Length."""
    lines = [f"HTTP/1.1 {status} {reason}".encode()]
    for name, value in [*(headers or []), ("Content-Length", str(len(body)))]:
        lines.append(f"{name}: {value}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def ok_reply(_: bytes) -> bytes:
    """Answer every request with ``200 {}``."""
    return response_bytes()


class ScriptedServer:
    """A raw HTTP/1.1 keep-alive loopback server whose answers a test scripts.

    ``reply(request_bytes)`` returns the response bytes, ``None`` to reset the connection
    (TCP RST) after the request was received, or ``b""`` to close it cleanly without an
    answer. Every request (head and body) is recorded, and so are the number of connections
    accepted and the most that were open at once.
    """

    def __init__(self, reply: Reply = ok_reply, *, tls: ssl.SSLContext | None = None) -> None:
        self.reply = reply
        self.tls = tls
        self.requests: list[bytes] = []
        self.accepted = 0
        self.open = 0
        self.peak = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._arrived = asyncio.Event()
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL, ``http(s)://127.0.0.1:PORT/``."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/"

    async def wait_for_requests(self, count: int) -> None:
        """Return once ``count`` requests have arrived in all."""
        while len(self.requests) < count:
            self._arrived.clear()
            await self._arrived.wait()

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()
        await asyncio.sleep(0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open += 1
        self.peak = max(self.peak, self.open)
        self._writers.add(writer)
        try:
            while True:
                try:
                    head, body = await read_request(reader)
                except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                    return
                self.requests.append(head + body)
                self._arrived.set()
                answer = await self.reply(head + body)
                if answer is None:
                    _reset(writer)
                    return
                if not answer:
                    writer.close()
                    return
                writer.write(answer)
                await writer.drain()
                if b"\r\nconnection: close\r\n" in answer.split(b"\r\n\r\n")[0].lower() + b"\r\n":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self.open -= 1
            self._writers.discard(writer)
            writer.transport.abort()


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@pytest.fixture
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@contextlib.asynccontextmanager
async def client_for(**kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An ``httpx.AsyncClient`` over a fresh :class:`Http11Transport`."""
    timeout = kwargs.pop("timeout", 5.0)
    async with httpx.AsyncClient(transport=Http11Transport(**kwargs), timeout=timeout) as client:
        yield client


# -- requests and responses ---------------------------------------------------------------


async def test_round_trip_sends_httpx_headers_and_body_once() -> None:
    async def reply(_: bytes) -> bytes:
        return response_bytes(
            201,
            b'{"ok":true}',
            reason="Created",
            headers=[
                ("Content-Type", "application/json"),
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
            ],
        )

    async with ScriptedServer(reply) as server, client_for() as client:
        response = await client.post(
            server.url + "path?q=1",
            content=b'{"x":"\\/"}',
            headers={"Content-Type": "application/json", "X-Test": "yes"},
        )
    assert response.status_code == 201
    assert response.reason_phrase == "Created"
    assert response.http_version == "HTTP/1.1"
    assert response.content == b'{"ok":true}'
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    [raw] = server.requests
    head, _, body = raw.partition(b"\r\n\r\n")
    assert body == b'{"x":"\\/"}'
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /path?q=1 HTTP/1.1"
    names = [line.split(b":")[0].lower() for line in lines[1:]]
    # Every header exactly once: none added twice on top of httpx's.
    assert sorted(names) == sorted(set(names))
    fields = {line.split(b":")[0].lower(): line.split(b":", 1)[1].strip() for line in lines[1:]}
    assert fields[b"content-type"] == b"application/json"
    assert fields[b"content-length"] == b"10"
    assert fields[b"x-test"] == b"yes"
    assert fields[b"user-agent"].startswith(b"python-httpx/")
    assert fields[b"host"] == f"127.0.0.1:{server.port}".encode()


async def test_no_content_type_is_invented_for_bytes() -> None:
    async with ScriptedServer() as server, client_for() as client:
        await client.post(server.url, content=b"abc")
    assert b"content-type" not in server.requests[0].lower()


async def test_streamed_request_body_is_sent() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"hello "
        yield b"world"

    async with ScriptedServer() as server, client_for() as client:
        response = await client.post(server.url, content=chunks())
    assert response.status_code == 200
    assert server.requests[0].endswith(b"hello world")


async def test_content_encoding_is_left_to_httpx() -> None:
    payload = b'{"data":"' + b"x" * 5000 + b'"}'

    async def reply(_: bytes) -> bytes:
        return response_bytes(200, gzip.compress(payload), headers=[("Content-Encoding", "gzip")])

    async with ScriptedServer(reply) as server, client_for() as client:
        response = await client.post(server.url, content=b"{}")
    assert response.content == payload


async def test_redirects_are_never_followed() -> None:
    async def reply(request: bytes) -> bytes:
        if b" /elsewhere " in request.split(b"\r\n")[0]:
            return response_bytes(200, b"followed")
        return response_bytes(302, b"", reason="Found", headers=[("Location", "/elsewhere")])

    transport = Http11Transport()
    async with ScriptedServer(reply) as server:
        response = await transport.handle_async_request(
            httpx.Request("POST", server.url, content=b"{}")
        )
        await response.aread()
        await response.aclose()
        await transport.aclose()
    assert response.status_code == 302
    assert response.headers["location"] == "/elsewhere"
    assert len(server.requests) == 1


async def test_body_is_streamed_and_an_abandoned_body_closes_the_connection() -> None:
    big = b"x" * 1_000_000

    async def reply(_: bytes) -> bytes:
        return response_bytes(200, big)

    async with ScriptedServer(reply) as server, client_for() as client:
        async with client.stream("POST", server.url, content=b"{}") as response:
            first = b""
            async for chunk in response.aiter_raw():
                first = chunk
                break
        assert 0 < len(first) < len(big)
        # The half-read connection is not reused: the next request gets a fresh one.
        response = await client.post(server.url, content=b"{}")
        assert response.content == big
        assert server.accepted == 2
        # A fully read connection is reused.
        await client.post(server.url, content=b"{}")
        assert server.accepted == 2


async def test_connection_limit_is_respected() -> None:
    async def reply(_: bytes) -> bytes:
        await asyncio.sleep(0.02)
        return response_bytes()

    limits = httpx.Limits(max_connections=3, max_keepalive_connections=3)
    async with ScriptedServer(reply) as server, client_for(limits=limits) as client:
        await asyncio.gather(*(client.post(server.url, content=b"{}") for _ in range(20)))
    assert server.peak <= 3
    assert server.accepted <= 3


async def test_no_keepalive_when_max_keepalive_is_zero() -> None:
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=0)
    async with ScriptedServer() as server, client_for(limits=limits) as client:
        for _ in range(3):
            await client.post(server.url, content=b"{}")
    assert server.accepted == 3


# -- the error mapping ---------------------------------------------------------------------


async def test_refused_connection_is_a_connect_error() -> None:
    async with client_for() as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(refused_url(), content=b"{}")


async def test_reset_after_the_request_was_received_is_not_a_connect_error() -> None:
    async def reply(_: bytes) -> None:
        return None

    async with ScriptedServer(reply) as server, client_for() as client:
        with pytest.raises(httpx.TransportError) as caught:
            await client.post(server.url, content=b"{}")
    assert len(server.requests) == 1
    assert isinstance(caught.value, httpx.ReadError | httpx.RemoteProtocolError)
    assert not isinstance(caught.value, httpx.ConnectError | httpx.TimeoutException)


async def test_sandbox_reset_fault_maps_to_a_read_side_error() -> None:
    sandbox = Sandbox(faults=FaultPlan(reset=Fault(probability=1.0)))
    async with sandbox.serve() as server, client_for() as client:
        with pytest.raises(httpx.TransportError) as caught:
            await client.post(server.url, content=b"{}")
    assert isinstance(caught.value, httpx.ReadError | httpx.RemoteProtocolError)


@pytest.mark.parametrize(
    ("ending", "expected"),
    [(None, httpx.ReadError), (b"", httpx.RemoteProtocolError)],
    ids=["reset", "clean-close"],
)
async def test_no_answer_on_a_kept_alive_connection_is_not_a_connect_error(
    ending: bytes | None, expected: type[Exception]
) -> None:
    # A reset and a clean close of a reused connection after the request was written: the
    # request may have arrived (httpx-aiohttp 0.2 maps both to ConnectTimeout, which would
    # make a payment look safe to resend).
    answers = 0

    async def reply(_: bytes) -> bytes | None:
        nonlocal answers
        answers += 1
        return response_bytes() if answers == 1 else ending

    async with ScriptedServer(reply) as server, client_for() as client:
        await client.post(server.url, content=b"{}")
        with pytest.raises(httpx.TransportError) as caught:
            await client.post(server.url, content=b"{}")
    assert len(server.requests) == 2
    assert type(caught.value) is expected


async def test_body_cut_short_is_a_protocol_error() -> None:
    sandbox = Sandbox(faults=FaultPlan(truncated=1.0, truncated_length="full"))
    async with sandbox.serve() as server, client_for() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(server.url, content=b"{}")


async def test_garbage_instead_of_http_is_a_protocol_error() -> None:
    async def reply(_: bytes) -> bytes:
        return b"SSH-2.0-OpenSSH\r\n\r\n"

    async with ScriptedServer(reply) as server, client_for() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(server.url, content=b"{}")


async def test_read_timeout_from_the_request_extensions() -> None:
    sandbox = Sandbox(faults=FaultPlan(latency=2.0))
    async with sandbox.serve() as server, client_for(timeout=30.0) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(server.url, content=b"{}", timeout=httpx.Timeout(30.0, read=0.1))


async def test_slow_drip_within_the_read_timeout_succeeds() -> None:
    sandbox = Sandbox(faults=FaultPlan(slow_drip=1.0, drip_bytes=200, drip_interval=0.01))
    async with sandbox.serve() as server, client_for(timeout=httpx.Timeout(5.0, read=1.0)) as c:
        response = await c.post(server.url, content=b"{}")
    assert response.status_code == 200
    assert response.content.startswith(b"{")


async def test_waiting_for_a_pool_slot_times_out_as_never_sent() -> None:
    release = asyncio.Event()

    async def reply(_: bytes) -> bytes:
        await release.wait()
        return response_bytes()

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with ScriptedServer(reply) as server, client_for(limits=limits) as client:
        busy = asyncio.create_task(client.post(server.url, content=b"{}"))
        await server.wait_for_requests(1)
        with pytest.raises(httpx.PoolTimeout):
            await client.post(server.url, content=b"{}", timeout=httpx.Timeout(5.0, pool=0.05))
        assert len(server.requests) == 1
        release.set()
        assert (await busy).status_code == 200


async def test_cancelled_request_frees_its_connection_slot() -> None:
    release = asyncio.Event()

    async def reply(request: bytes) -> bytes:
        if b"slow" in request:
            await release.wait()
        return response_bytes()

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with ScriptedServer(reply) as server, client_for(limits=limits) as client:
        for sent in range(1, 6):
            task = asyncio.create_task(client.post(server.url, content=b"slow"))
            await server.wait_for_requests(sent)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        response = await client.post(server.url, content=b"fast")
        release.set()
    assert response.status_code == 200


async def test_unsupported_scheme_is_refused_before_sending() -> None:
    transport = Http11Transport()
    try:
        with pytest.raises(httpx.UnsupportedProtocol):
            await transport.handle_async_request(httpx.Request("GET", "ftp://127.0.0.1/"))
    finally:
        await transport.aclose()


# -- TLS -----------------------------------------------------------------------------------


async def test_tls_is_verified_by_default(server_tls: ssl.SSLContext) -> None:
    async with ScriptedServer(tls=server_tls) as server, client_for() as client:
        with pytest.raises(httpx.ConnectError, match=r"(?i)certificate"):
            await client.post(server.url, content=b"{}")
    assert server.requests == []


async def test_tls_with_a_trusted_ca(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    async with ScriptedServer(tls=server_tls) as server, client_for(verify=client_tls) as client:
        response = await client.post(server.url, content=b"{}")
    assert response.status_code == 200


async def test_tls_trusts_ssl_cert_file_like_httpx(
    ca: trustme.CA,
    server_tls: ssl.SSLContext,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trust_through_ssl_cert_file(ca, tmp_path, monkeypatch)
    async with ScriptedServer(tls=server_tls) as server, client_for() as client:
        response = await client.post(server.url, content=b"{}")
    assert response.status_code == 200


async def test_verify_false_skips_verification(server_tls: ssl.SSLContext) -> None:
    async with ScriptedServer(tls=server_tls) as server, client_for(verify=False) as client:
        response = await client.post(server.url, content=b"{}")
    assert response.status_code == 200


# -- lifecycle -----------------------------------------------------------------------------


async def test_aclose_is_idempotent_and_final() -> None:
    transport = Http11Transport()
    async with ScriptedServer() as server:
        async with httpx.AsyncClient(transport=transport) as client:
            await client.post(server.url, content=b"{}")
        await transport.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await transport.handle_async_request(httpx.Request("POST", server.url))


async def test_closing_an_unused_transport_is_fine() -> None:
    await Http11Transport().aclose()


async def test_one_transport_per_event_loop() -> None:
    transport = Http11Transport()
    async with ScriptedServer() as server:
        response = await transport.handle_async_request(
            httpx.Request("POST", server.url, content=b"{}")
        )
        await response.aread()
        await response.aclose()

        def from_another_loop() -> None:
            async def use() -> None:
                await transport.handle_async_request(
                    httpx.Request("POST", server.url, content=b"{}")
                )

            asyncio.run(use())

        with pytest.raises(RuntimeError, match="another event loop"):
            await asyncio.to_thread(from_another_loop)
        await transport.aclose()
