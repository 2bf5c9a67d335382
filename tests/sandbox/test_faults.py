"""Every fault, in-process and (where it needs one) on a real socket."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import httpx
import pytest
import requests

from qvickly_async.sandbox import FAULT_KINDS, Fault, FaultPlan, Sandbox

from .._support import post
from ._handmade import envelope, hmac_hex, raw_data, verified

BODY = envelope("getInvoicesByCustomer", {"customerno": "10001"})
URL = "http://sandbox.invalid/"


def always(kind: str, **options: Any) -> Sandbox:
    return Sandbox(faults=FaultPlan.from_json({kind: 1.0, **options}))


# -- in-process ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "status"), [("http_502", 502), ("http_503", 503)])
def test_html_error_pages(kind: str, status: int) -> None:
    sandbox = always(kind)
    response = post(sandbox, BODY, status=None)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert f"<h1>{status}" in response.text
    assert sandbox.counters.calls(outcome=f"fault:{kind}") == 1
    assert sandbox.counters.calls("getInvoicesByCustomer", key="10001") == 1


def test_rate_limit_with_retry_after() -> None:
    response = post(always("rate_limit", retry_after=3), BODY, status=None)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"


@pytest.mark.parametrize("shape", ["bare", "signed"])
def test_api_9008(shape: Any) -> None:
    sandbox = Sandbox(error_shape=shape, faults=FaultPlan(api_9008=1))
    response = post(sandbox, BODY, status=None)
    assert response.status_code == 200
    answer = verified(response.content) if shape == "signed" else response.json()
    assert answer["code"] == "9008"
    assert answer["message"] == "Internal server error. Please try again!"
    assert sandbox.counters.calls(outcome="fault:api_9008") == 1


def test_bad_hash() -> None:
    sandbox = always("bad_hash")
    body = post(sandbox, BODY, status=None).content
    parsed = json.loads(body)
    assert len(parsed["data"]) == 3
    assert parsed["credentials"]["hash"] != hmac_hex("sandbox-secret", raw_data(body))
    assert len(parsed["credentials"]["hash"]) == 128
    with pytest.raises(AssertionError):
        verified(body)
    assert sandbox.counters.calls(outcome="fault:bad_hash") == 1


def test_bad_hash_leaves_bare_errors_alone() -> None:
    sandbox = always("bad_hash")
    response = post(sandbox, envelope("getInvoicesByCustomer", {"customerno": ""}), status=None)
    assert response.json()["code"] == "7020"
    assert sandbox.counters.calls(outcome="error:7020") == 1


def test_truncated_body_with_matching_length() -> None:
    full = post(Sandbox(), BODY, status=None).content
    response = post(always("truncated"), BODY, status=None)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content) == len(full) // 2
    assert full.startswith(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_truncated_body_announcing_full_length_in_process() -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        post(always("truncated", truncated_length="full"), BODY, status=None)


def test_reset_in_process() -> None:
    sandbox = always("reset")
    with pytest.raises(httpx.ReadError):
        post(sandbox, BODY, status=None)
    assert sandbox.counters.calls(outcome="fault:reset") == 1


@pytest.mark.anyio
async def test_reset_through_the_async_transport_and_asgi() -> None:
    sandbox = always("reset")
    async with httpx.AsyncClient(transport=sandbox.transport()) as client:
        with pytest.raises(httpx.ReadError):
            await client.post(URL, content=BODY)
    transport = httpx.ASGITransport(sandbox.asgi_app)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(ConnectionResetError):
            await client.post(URL, content=BODY)
    sandbox.set_faults(truncated=1, truncated_length="full")
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(ConnectionResetError):
            await client.post(URL, content=BODY)


@pytest.mark.anyio
async def test_slow_drip_in_process() -> None:
    sandbox = Sandbox(faults=FaultPlan(slow_drip=1, drip_bytes=400, drip_interval=0.03))
    expected_chunks = -(-len(post(Sandbox(), BODY, status=None).content) // 400)
    started = time.perf_counter()
    async with httpx.AsyncClient(transport=sandbox.transport()) as client:
        chunks = []
        async with client.stream("POST", URL, content=BODY) as response:
            async for chunk in response.aiter_raw():
                chunks.append(chunk)
    elapsed = time.perf_counter() - started
    assert len(chunks) == expected_chunks >= 3
    assert elapsed >= 0.03 * (expected_chunks - 1) * 0.9
    assert len(verified(b"".join(chunks))) == 3
    # The sync handler drips too (blocking), and so does the ASGI app.
    assert len(verified(post(sandbox, BODY, status=None).content)) == 3
    transport = httpx.ASGITransport(sandbox.asgi_app)
    async with httpx.AsyncClient(transport=transport) as client:
        assert len(verified((await client.post(URL, content=BODY)).content)) == 3


@pytest.mark.anyio
async def test_latency_and_jitter() -> None:
    sandbox = Sandbox(faults=FaultPlan(latency=0.05, jitter=0.03))
    async with httpx.AsyncClient(transport=sandbox.transport()) as client:
        for _ in range(3):
            started = time.perf_counter()
            response = await client.post(URL, content=BODY)
            assert 0.05 <= time.perf_counter() - started < 1.0
            verified(response.content)
    started = time.perf_counter()
    verified(post(sandbox, BODY, status=None).content)
    assert time.perf_counter() - started >= 0.05


def test_first_attempts_per_key_fail_then_succeed() -> None:
    sandbox = Sandbox()
    sandbox.set_faults(http_503=Fault(first_attempts=2))
    other = envelope("getInvoicesByCustomer", {"customerno": "10002"})
    assert [post(sandbox, BODY, status=None).status_code for _ in range(3)] == [503, 503, 200]
    assert [post(sandbox, other, status=None).status_code for _ in range(3)] == [503, 503, 200]
    counters = sandbox.counters
    assert counters.calls("getInvoicesByCustomer", key="10001", outcome="fault") == 2
    assert counters.calls("getInvoicesByCustomer", key="10001", outcome="ok") == 1
    sandbox.reset()
    assert counters.total() == 0
    assert post(sandbox, BODY, status=None).status_code == 503  # attempt counting restarted


def test_fault_filtered_by_function() -> None:
    sandbox = Sandbox(faults=FaultPlan(http_502=Fault(probability=1, functions=["GETPAYMENTINFO"])))
    assert post(sandbox, BODY, status=None).status_code == 200
    info = envelope("getPaymentinfo", {"number": "10001000"})
    assert post(sandbox, info, status=None).status_code == 502
    assert sandbox.counters.calls("getPaymentinfo", outcome="fault:http_502") == 1


def outcomes(sandbox: Sandbox, keys: list[str]) -> dict[tuple[str, int], int]:
    seen: dict[tuple[str, int], int] = {}
    for attempt in range(4):
        for key in keys:
            body = envelope("getInvoicesByCustomer", {"customerno": key})
            seen[key, attempt] = post(sandbox, body, status=None).status_code
    return seen


def test_random_faults_are_seeded_per_attempt_not_per_arrival_order() -> None:
    keys = [str(n) for n in range(10001, 10021)]
    plan = FaultPlan(seed=5, http_503=0.5)
    first = outcomes(Sandbox(faults=plan), keys)
    second = outcomes(Sandbox(faults=plan), list(reversed(keys)))
    assert first == second
    assert set(first.values()) == {200, 503}
    assert outcomes(Sandbox(faults=FaultPlan(seed=6, http_503=0.5)), keys) != first


def test_probabilities_are_exclusive_and_roughly_right() -> None:
    sandbox = Sandbox(faults=FaultPlan(http_502=0.2, http_503=0.3))
    statuses = [
        post(sandbox, envelope("getAccountinfo", {"n": str(n)}), status=None).status_code
        for n in range(600)
    ]
    assert 0.12 < statuses.count(502) / 600 < 0.28
    assert 0.22 < statuses.count(503) / 600 < 0.38


def test_flaky_plan_and_changing_faults_while_running() -> None:
    sandbox = Sandbox()
    with sandbox.faults_applied(FaultPlan.flaky(1.0, seed=3)) as plan:
        assert plan.http_502 is not None and plan.http_502.probability == 0.25
        statuses = {
            post(sandbox, envelope("getAccountinfo", {"n": n}), status=None).status_code
            for n in range(40)
        }
        assert statuses <= {200, 429, 502, 503}
        assert len(statuses) >= 3
    assert sandbox.faults == FaultPlan()
    assert post(sandbox, BODY, status=None).status_code == 200


def test_plan_validation_and_json_round_trip() -> None:
    with pytest.raises(ValueError, match="add up"):
        FaultPlan(http_502=0.6, http_503=0.6)
    with pytest.raises(ValueError, match="probability"):
        Fault(probability=1.5)
    with pytest.raises(ValueError, match="first_attempts"):
        Fault(first_attempts=-1)
    with pytest.raises(TypeError):
        FaultPlan(reset="often")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown"):
        FaultPlan.from_json({"explode": 1})
    with pytest.raises(ValueError, match="truncated_length"):
        FaultPlan(truncated_length="most")  # type: ignore[arg-type]
    plan = FaultPlan(
        seed=9,
        latency=0.1,
        reset=Fault(first_attempts=1, functions="getPaymentinfo"),
        rate_limit={"probability": 0.1},
        retry_after=7,
    )
    assert plan.reset is not None and plan.reset.functions == frozenset({"getpaymentinfo"})
    assert FaultPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan
    assert set(FAULT_KINDS) <= set(plan.to_json())
    with pytest.raises(TypeError, match="not both"):
        Sandbox().set_faults(plan, seed=1)


# -- real sockets ----------------------------------------------------------------------------


def raw_exchange(url: str, body: bytes) -> bytes:
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    head = (
        f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    received = b""
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head + body)
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_reset_on_a_real_socket_sends_rst_and_no_response() -> None:
    sandbox = always("reset")
    with sandbox.serve_in_thread() as server:
        with pytest.raises(ConnectionResetError):
            raw_exchange(server.url, BODY)
        with httpx.Client() as client, pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            client.post(server.url, content=BODY)
    assert sandbox.counters.calls(outcome="fault:reset") == 2


def test_truncated_on_a_real_socket_closes_mid_body() -> None:
    sandbox = always("truncated", truncated_length="full")
    with sandbox.serve_in_thread() as server:
        received = raw_exchange(server.url, BODY)
        head, _, body = received.partition(b"\r\n\r\n")
        declared = int(
            next(
                line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            ).split(b":")[1]
        )
        assert 0 < len(body) < declared
        with httpx.Client() as client, pytest.raises(httpx.RemoteProtocolError):
            client.post(server.url, content=BODY)


def test_truncated_with_matching_length_keeps_the_connection() -> None:
    sandbox = Sandbox()
    sandbox.set_faults(truncated=Fault(first_attempts=1))
    with sandbox.serve_in_thread() as server, requests.Session() as session:
        first = session.post(server.url, data=BODY, timeout=5)
        assert first.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(first.content)
        second = session.post(server.url, data=BODY, timeout=5)
        assert len(verified(second.content)) == 3


@pytest.mark.anyio
async def test_slow_drip_and_latency_on_a_real_socket() -> None:
    plan = FaultPlan(slow_drip=1, drip_bytes=300, drip_interval=0.03, latency=0.02)
    sandbox = Sandbox(faults=plan)
    async with sandbox.serve() as server, httpx.AsyncClient(base_url=server.url) as client:
        started = time.perf_counter()
        chunks = []
        async with client.stream("POST", "/", content=BODY) as response:
            async for chunk in response.aiter_raw():
                chunks.append(chunk)
        elapsed = time.perf_counter() - started
    body = b"".join(chunks)
    assert len(verified(body)) == 3
    pauses = -(-len(body) // 300) - 1
    assert elapsed >= 0.02 + 0.03 * pauses * 0.9
    assert len(chunks) >= 2


@pytest.mark.parametrize(
    ("kind", "status"), [("http_502", 502), ("http_503", 503), ("rate_limit", 429)]
)
def test_http_faults_on_a_real_socket(kind: str, status: int) -> None:
    sandbox = always(kind, retry_after=2)
    with sandbox.serve_in_thread() as server, requests.Session() as session:
        for _ in range(2):  # keep-alive survives these answers
            response = session.post(server.url, data=BODY, timeout=5)
            assert response.status_code == status
        if status == 429:
            assert response.headers["Retry-After"] == "2"
