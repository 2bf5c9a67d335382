"""Helpers the test packages share: sandbox clients, signed answers, posts, pool probes.

Everything here goes through public seams: the client's constructor and options, the
sandbox's handler and server, and what a call raises.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from qvickly_async import AsyncQvickly, QvicklyTimeoutError
from qvickly_async._signing import php_json_encode, sign
from qvickly_async.sandbox import FaultPlan, Sandbox, ServerHandle

__all__ = [
    "assert_pool_is_whole",
    "make_client",
    "post",
    "read_request",
    "refused_url",
    "signed_body",
    "trust_through_ssl_cert_file",
]

#: Where in-process posts go (the sandbox's handler answers any URL).
IN_PROCESS_URL = "http://sandbox.invalid/"


def make_client(sandbox: Sandbox, base_url: str, **kwargs: Any) -> AsyncQvickly:
    """A client of ``sandbox`` at ``base_url`` (a loopback server or TLS front)."""
    return AsyncQvickly(
        merchant_id=sandbox.merchant_id, secret=sandbox.secret, base_url=base_url, **kwargs
    )


def refused_url() -> str:
    """A loopback URL nobody listens on: a request that really leaves fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def signed_body(data: Any, *, secret: str | bytes, logid: Any = 1) -> bytes:
    """A signed Payment API answer ``{"credentials":{"hash","logid"},"data":...}``."""
    key = secret.encode() if isinstance(secret, str) else secret
    raw = php_json_encode(data)
    credentials = php_json_encode({"hash": sign(key, raw.encode()), "logid": logid})
    return f'{{"credentials":{credentials},"data":{raw}}}'.encode()


def post(
    target: Sandbox | ServerHandle, body: bytes, *, status: int | None = 200
) -> httpx.Response:
    """POST ``body`` to a sandbox: in-process through its handler, or to a served one.

    With ``status`` (the default 200) the answer must have that status, and a 200 answer
    must be the API's JSON; ``status=None`` takes any answer (for faults).
    """
    if isinstance(target, Sandbox):
        transport: httpx.BaseTransport | None = httpx.MockTransport(target.handler)
        url = IN_PROCESS_URL
    else:
        transport, url = None, target.url
    with httpx.Client(transport=transport, timeout=10) as client:
        response = client.post(url, content=body, headers={"Content-Type": "application/json"})
    if status is not None:
        assert response.status_code == status, response.content[:200]
        if status == 200:
            assert response.headers["Content-Type"] == "application/json"
    return response


def _is_pool_timeout(outcome: object) -> bool:
    return (
        isinstance(outcome, QvicklyTimeoutError)
        and not outcome.request_sent
        and "max_connections reached" in str(outcome.__cause__)
    )


async def assert_pool_is_whole(client: AsyncQvickly, sandbox: Sandbox, size: int) -> None:
    """Assert that all ``size`` connection slots of ``client``'s default pool are free.

    ``size + 1`` calls are held open at once (the sandbox answers after a long latency):
    ``size`` of them get a slot, and exactly one finds none and fails with the pool's
    "max_connections reached" timeout. A slot that leaked earlier makes two of them fail so.
    ``client`` must be served by ``sandbox`` on a socket, with ``limits.max_connections``
    equal to ``size``; what the calls that got a slot return does not matter.
    """
    probe = client.with_options(max_retries=0, timeout=httpx.Timeout(60, pool=0.2), deadline=60)
    with sandbox.faults_applied(FaultPlan(latency=2.0)):
        outcomes = await asyncio.gather(
            *(probe.get_invoices_by_customer("10001") for _ in range(size + 1)),
            return_exceptions=True,
        )
    pool_timeouts = [outcome for outcome in outcomes if _is_pool_timeout(outcome)]
    assert len(pool_timeouts) == 1, outcomes


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """Read one HTTP/1.1 request: its head (through the blank line) and its body.

    The body is read by ``Content-Length`` or chunked transfer encoding. Raises
    :class:`asyncio.IncompleteReadError` when the peer closes first.
    """
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        if name.strip().lower() == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    body = await (_read_chunked(reader) if chunked else reader.readexactly(length))
    return head, body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return body
        body += chunk[:-2]


def trust_through_ssl_cert_file(
    ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Make ``ca`` the only trusted authority of new default SSL contexts (``SSL_CERT_FILE``)."""
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
