"""The loopback HTTP/1.1 server (thread and asyncio), the ASGI app and uvicorn."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
import requests

from qvickly_async.sandbox import Sandbox, ServerHandle, app_factory, sandbox_from_env
from qvickly_async.sandbox._server import HTTPServer

from ._handmade import envelope, verified


def raw(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_thread_server_keeps_connections_alive() -> None:
    sandbox = Sandbox()
    with sandbox.serve_in_thread() as server, httpx.Client(base_url=server.url) as client:
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/")
        for customer in ("10001", "10007", "10000"):
            response = client.post(
                "/", content=envelope("getInvoicesByCustomer", {"customerno": customer})
            )
            assert response.http_version == "HTTP/1.1"
            verified(response.content)
        assert client.get("/").status_code == 405
        assert client.post("/elsewhere").status_code == 404
    assert sandbox.counters.calls("getInvoicesByCustomer") == 3


@pytest.mark.anyio
async def test_async_server_under_concurrency() -> None:
    sandbox = Sandbox()
    limits = httpx.Limits(max_connections=32)
    async with (
        sandbox.serve() as server,
        httpx.AsyncClient(base_url=server.url, limits=limits) as client,
    ):

        async def one(customer: int) -> int:
            body = envelope("getInvoicesByCustomer", {"customerno": str(customer)})
            response = await client.post("/", content=body)
            rows = verified(response.content)
            assert rows == sandbox.expected_invoices(customer)
            return len(rows)

        counts = await asyncio.gather(*(one(10000 + n % 150) for n in range(200)))
    assert sum(counts) > 0
    assert sandbox.counters.calls("getInvoicesByCustomer", outcome="ok") == 200


@pytest.mark.anyio
async def test_closing_with_idle_and_busy_connections_is_clean() -> None:
    sandbox = Sandbox()
    sandbox.set_faults(latency=5)
    async with sandbox.serve() as server:
        idle = socket.create_connection((server.host, server.port))
        reader, writer = await asyncio.open_connection(server.host, server.port)
        body = envelope("getAccountinfo", {"a": "1"})
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        await asyncio.sleep(0.05)  # the request is now waiting out its latency
    assert await reader.read() == b""  # dropped without an answer
    writer.close()
    await writer.wait_closed()
    idle.close()


def test_malformed_requests_get_400_and_expect_continue_works() -> None:
    with Sandbox().serve_in_thread() as server:
        assert raw(server.url, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        body = envelope("getAccountinfo", {"a": "1"})
        request = (
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        host, port = server.url.removeprefix("http://").rstrip("/").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(request)
            assert sock.recv(100).startswith(b"HTTP/1.1 100 ")
            sock.sendall(body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 ")
        verified(answer.partition(b"\r\n\r\n")[2])


@pytest.mark.anyio
async def test_oversized_bodies_are_refused() -> None:
    server = HTTPServer(Sandbox()._engine, max_body=100)
    handle = await server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=handle.url) as client:
            response = await client.post("/", content=b"x" * 1000)
            assert response.status_code == 413
    finally:
        await server.aclose()


def test_port_in_use_is_reported() -> None:
    with (
        Sandbox().serve_in_thread() as server,
        pytest.raises(OSError),
        Sandbox().serve_in_thread(port=server.port),
    ):
        pass  # pragma: no cover


def test_handle_urls() -> None:
    assert ServerHandle("::1", 8080).url == "http://[::1]:8080/"
    assert ServerHandle("127.0.0.1", 1).url == "http://127.0.0.1:1/"


@pytest.mark.anyio
async def test_asgi_app_in_process() -> None:
    sandbox = Sandbox()
    transport = httpx.ASGITransport(sandbox.asgi_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.invalid") as client:
        ok = await client.post(
            "/", content=envelope("getInvoicesByCustomer", {"customerno": "10001"})
        )
        assert len(verified(ok.content)) == 3
        assert (await client.get("/")).status_code == 405
    with pytest.raises(RuntimeError, match="HTTP only"):
        await sandbox.asgi_app({"type": "websocket"}, _never, _discard)


async def _never() -> dict[str, object]:
    raise AssertionError("not called")  # pragma: no cover


async def _discard(message: object) -> None:
    raise AssertionError("not called")  # pragma: no cover


def test_app_factory_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QVICKLY_SANDBOX_MERCHANT_ID", "999")
    monkeypatch.setenv("QVICKLY_SANDBOX_SECRET", "env-secret")
    monkeypatch.setenv("QVICKLY_SANDBOX_INVOICE_SHAPE", "nested")
    monkeypatch.setenv("QVICKLY_SANDBOX_STRICT", "true")
    sandbox = sandbox_from_env()
    assert sandbox.merchant_id == "999"
    assert sandbox.secret == "env-secret"
    assert sandbox.settings.invoice_shape == "nested" and sandbox.settings.strict
    assert callable(app_factory())


def test_runs_under_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    monkeypatch.setenv("QVICKLY_SANDBOX_SECRET", "uvicorn-secret")
    config = uvicorn.Config(
        "qvickly_async.sandbox:app_factory",
        factory=True,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        body = envelope("getAccountinfo", {"a": "1"}, secret="uvicorn-secret")
        response = requests.post(f"http://127.0.0.1:{port}/", data=body, timeout=5)
        assert verified(response.content, secret="uvicorn-secret")["merchantid"] == "12345"
    finally:
        server.should_exit = True
        thread.join(10)
