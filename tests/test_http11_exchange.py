"""The SDK's hot path through its HTTP/1.1 transport: ``Http11Transport.post``, on loopback.

What the general httpx tests (tests/test_http11_transport.py) do not reach: the request head
the client builds once, answers framed every way HTTP/1.1 allows, and when a connection may be
reused (never after anything unasked, a close-delimited body, or past its expiry).
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import httpx
import pytest

from qvickly_async._decompress import ResponseTooLargeError
from qvickly_async._http11 import Http11Transport, Origin
from qvickly_async.sandbox import FaultPlan, Sandbox

from .test_http11_transport import ScriptedServer, response_bytes

pytestmark = [pytest.mark.anyio, pytest.mark.socket]

TIMEOUTS = httpx.Timeout(5.0)
LIMIT = 1_000_000


def origin_of(server: ScriptedServer) -> Origin:
    return ("http", "127.0.0.1", server.port)


def head_for(server: ScriptedServer) -> bytes:
    return (
        b"POST /v1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
        b"Content-Length: " % server.port
    )


async def post(
    transport: Http11Transport, server: ScriptedServer, body: bytes = b"{}", limit: int = LIMIT
) -> tuple[int, bytes]:
    reply = await transport.post(origin_of(server), head_for(server), limit, body, TIMEOUTS)
    return reply.status, reply.content


@pytest.fixture
async def transport() -> AsyncIterator[Http11Transport]:
    transport = Http11Transport()
    yield transport
    await transport.aclose()


async def test_the_request_is_written_with_its_length_and_connections_are_reused(
    transport: Http11Transport,
) -> None:
    async with ScriptedServer() as server:
        for body in (b'{"a":1}', b'{"bb":22}', b""):
            assert await post(transport, server, body) == (200, b"{}")
    heads = [request.split(b"\r\n\r\n")[0] for request in server.requests]
    assert [head.split(b"\r\n")[0] for head in heads] == [b"POST /v1 HTTP/1.1"] * 3
    assert [request.split(b"\r\n\r\n", 1)[1] for request in server.requests] == [
        b'{"a":1}',
        b'{"bb":22}',
        b"",
    ]
    assert b"Content-Length: 9" in heads[1]
    assert b"Content-Length: 0" in heads[2]
    assert server.accepted == 1


async def test_a_chunked_answer_is_joined() -> None:
    async def reply(_: bytes) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'3\r\n{"a\r\n5;ext=1\r\n":12}\r\n0\r\n\r\n'
        )

    transport = Http11Transport()
    async with ScriptedServer(reply) as server:
        assert await post(transport, server) == (200, b'{"a":12}')
        assert await post(transport, server) == (200, b'{"a":12}')
        await transport.aclose()
    assert server.accepted == 1


async def test_a_gzip_answer_is_decoded_within_the_limit(transport: Http11Transport) -> None:
    packed = gzip.compress(b'{"data":"' + b"x" * 5000 + b'"}')

    async def reply(_: bytes) -> bytes:
        return response_bytes(200, packed, headers=[("Content-Encoding", "gzip")])

    async with ScriptedServer(reply) as server:
        status, content = await post(transport, server)
        assert (status, len(content)) == (200, 5011)
        # Small on the wire, too large once decoded: refused while decoding.
        with pytest.raises(ResponseTooLargeError):
            await post(transport, server, limit=len(packed) + 100)


async def test_an_answer_over_the_limit_is_refused_and_its_connection_dropped(
    transport: Http11Transport,
) -> None:
    big = b"{" + b" " * 4000 + b"}"

    async def reply(request: bytes) -> bytes:
        if b"chunked" in request:
            return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%b\r\n0\r\n\r\n" % (
                len(big),
                big,
            )
        return response_bytes(200, big)

    async with ScriptedServer(reply) as server:
        with pytest.raises(ResponseTooLargeError):  # declared too large
            await post(transport, server, limit=1000)
        with pytest.raises(ResponseTooLargeError):  # found too large while reading
            await post(transport, server, b"chunked", limit=1000)
        assert await post(transport, server) == (200, big)
    assert server.accepted == 3


async def test_an_informational_answer_is_skipped(transport: Http11Transport) -> None:
    async def reply(_: bytes) -> bytes:
        return b"HTTP/1.1 100 Continue\r\n\r\n" + response_bytes(200, b'{"x":1}')

    async with ScriptedServer(reply) as server:
        assert await post(transport, server) == (200, b'{"x":1}')


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        # A body delimited by the close of the connection (no length, no chunks).
        (b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"closed":true}', b'{"closed":true}'),
        # HTTP/1.0 without keep-alive.
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", b"{}"),
    ],
    ids=["close-delimited", "http-1.0"],
)
async def test_an_answer_without_keep_alive_is_read_and_its_connection_not_reused(
    transport: Http11Transport, answer: bytes, body: bytes
) -> None:
    async def reply(_: bytes) -> bytes:
        return answer

    async with ScriptedServer(reply) as server:
        assert await post(transport, server) == (200, body)
        assert await post(transport, server) == (200, body)
    assert server.accepted == 2


async def test_bytes_after_the_answer_make_the_connection_unusable(
    transport: Http11Transport,
) -> None:
    async def reply(_: bytes) -> bytes:
        # The answer, then another whole one and the start of a third, nobody asked for.
        return (
            response_bytes(200, b'{"n":1}')
            + response_bytes(201, b'{"n":2}')
            + b"HTTP/1.1 200 OK\r\nContent-Le"
        )

    async with ScriptedServer(reply) as server:
        assert await post(transport, server) == (200, b'{"n":1}')
        assert await post(transport, server) == (200, b'{"n":1}')
    assert server.accepted == 2


async def test_bytes_on_an_idle_connection_make_it_unusable(transport: Http11Transport) -> None:
    writers: list[asyncio.StreamWriter] = []

    async def reply(_: bytes) -> bytes:
        return response_bytes()

    async with ScriptedServer(reply) as server:
        assert await post(transport, server) == (200, b"{}")
        writers.extend(server._writers)
        for writer in writers:
            writer.write(b"junk")
        await asyncio.sleep(0.05)
        assert await post(transport, server) == (200, b"{}")
    assert server.accepted == 2


async def test_an_idle_connection_past_its_expiry_is_not_reused() -> None:
    transport = Http11Transport(limits=httpx.Limits(max_connections=4, keepalive_expiry=0.05))
    async with ScriptedServer() as server:
        assert await post(transport, server) == (200, b"{}")
        assert await post(transport, server) == (200, b"{}")  # within the expiry: reused
        await asyncio.sleep(0.1)
        assert await post(transport, server) == (200, b"{}")
        await transport.aclose()
    assert server.accepted == 2


async def test_an_upgrade_is_a_protocol_error(transport: Http11Transport) -> None:
    async def reply(_: bytes) -> bytes:
        return (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        )

    async with ScriptedServer(reply) as server:
        with pytest.raises(httpx.RemoteProtocolError):
            await post(transport, server)


async def test_the_read_timeout_counts_from_the_last_bytes_received(
    transport: Http11Transport,
) -> None:
    async def late(_: bytes) -> bytes:
        await asyncio.sleep(0.5)  # silent for longer than the read timeout
        return response_bytes()

    timeouts = httpx.Timeout(5.0, read=0.2)
    async with ScriptedServer(late) as server:
        with pytest.raises(httpx.ReadTimeout):
            await transport.post(origin_of(server), head_for(server), LIMIT, b"{}", timeouts)
    # 20 bytes every 50 ms: longer than the read timeout in all, never silent that long.
    sandbox = Sandbox(faults=FaultPlan(slow_drip=1.0, drip_bytes=20, drip_interval=0.05))
    async with sandbox.serve() as served:
        url = httpx.URL(served.url)
        started = asyncio.get_running_loop().time()
        status, content, _, _ = await transport.post(
            ("http", url.host, url.port or 80),
            b"POST %b HTTP/1.1\r\nHost: %b\r\nContent-Length: " % (url.raw_path, url.netloc),
            LIMIT,
            b"{}",
            timeouts,
        )
        assert asyncio.get_running_loop().time() - started > 0.2
    assert status == 200
    assert content.startswith(b"{")


async def test_a_closed_transport_refuses_to_send() -> None:
    transport = Http11Transport()
    async with ScriptedServer() as server:
        assert await post(transport, server) == (200, b"{}")
        await transport.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await post(transport, server)


async def test_an_error_answer_keeps_its_reason_and_headers(transport: Http11Transport) -> None:
    async def reply(_: bytes) -> bytes:
        return response_bytes(
            429, b"slow down", reason="Too Many", headers=[("Retry-After", "7")]
        ) + response_bytes(503, b"", reason="")

    async with ScriptedServer(reply) as server:
        answer = await transport.post(origin_of(server), head_for(server), LIMIT, b"{}", TIMEOUTS)
        assert (answer.status, answer.reason, answer.content) == (429, "Too Many", b"slow down")
        assert answer.headers["retry-after"] == "7"
