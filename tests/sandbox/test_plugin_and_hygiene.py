"""The pytest fixtures, the public surface and secret hygiene."""

from __future__ import annotations

import inspect
import logging

import httpx
import pytest
import requests

import qvickly_async.sandbox as sandbox_module
from qvickly_async.sandbox import (
    DEFAULT_MERCHANT_ID,
    DEFAULT_SECRET,
    FunctionCall,
    Sandbox,
    ServerHandle,
)

from ._handmade import envelope, verified


def test_fixture_gives_a_fresh_default_sandbox(qvickly_sandbox: Sandbox) -> None:
    assert qvickly_sandbox.merchant_id == DEFAULT_MERCHANT_ID == "12345"
    assert qvickly_sandbox.secret == DEFAULT_SECRET == "sandbox-secret"
    assert qvickly_sandbox.secret_bytes == b"sandbox-secret"
    assert qvickly_sandbox.counters.total() == 0


@pytest.mark.anyio
async def test_fixture_transport(qvickly_sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(transport=qvickly_sandbox.transport()) as client:
        response = await client.post("http://x.invalid/", content=envelope("getAccountinfo", [1]))
        verified(response.content)
    with httpx.Client(transport=qvickly_sandbox.sync_transport()) as client:
        verified(client.post("http://x.invalid/", content=envelope("getAccountinfo", [1])).content)
    mock = httpx.MockTransport(qvickly_sandbox.async_handler)
    async with httpx.AsyncClient(transport=mock) as client:
        verified(
            (
                await client.post("http://x.invalid/", content=envelope("getAccountinfo", [1]))
            ).content
        )
    assert qvickly_sandbox.counters.calls("getAccountinfo") == 3


def test_server_fixture(qvickly_sandbox: Sandbox, qvickly_sandbox_server: ServerHandle) -> None:
    body = envelope("getInvoicesByCustomer", {"customerno": "10001"})
    response = requests.post(qvickly_sandbox_server.url, data=body, timeout=10)
    assert verified(response.content) == qvickly_sandbox.expected_invoices(10001)
    assert qvickly_sandbox.counters.calls(key="10001") == 1


def test_public_api_is_sorted_and_documented() -> None:
    names = sandbox_module.__all__

    def isort_style(name: str) -> tuple[int, str]:  # constants, classes, functions (RUF022)
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert names == sorted(names, key=isort_style)
    for name in names:
        value = getattr(sandbox_module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__doc__, name


def test_secret_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    secret = "very-secret-key-123"
    sandbox = Sandbox(secret=secret, error_shape="signed")
    assert secret not in repr(sandbox) and secret not in str(sandbox)
    assert "12345" in repr(sandbox)
    seen: list[FunctionCall] = []

    def echo(call: FunctionCall) -> dict[str, str]:
        seen.append(call)
        return {"ok": "1"}

    sandbox.register_function("echo", echo)
    transport = httpx.MockTransport(sandbox.handler)
    with (
        caplog.at_level(logging.DEBUG, logger="qvickly_async.sandbox"),
        httpx.Client(transport=transport) as client,
    ):
        for body in (
            envelope("getInvoicesByCustomer", {"customerno": "10001"}, secret=secret),
            envelope("echo", {"a": "1"}, secret=secret),
            envelope("getFees", {"a": "1"}, secret="wrong"),
            b"garbage",
        ):
            client.post("http://x.invalid/", content=body)
    assert caplog.records
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert secret not in repr(seen[0])
    assert "faults=off" in repr(sandbox)
    sandbox.set_faults(reset=0.1)
    assert "faults=on" in repr(sandbox)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"secret": ""}, ValueError),
        ({"secret": 5}, TypeError),
        ({"merchant_id": " "}, ValueError),
        ({"merchant_id": 1.5}, TypeError),
        ({"merchant_id": True}, TypeError),
        ({"invoice_shape": "round"}, ValueError),
    ],
)
def test_constructor_validation(options: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        Sandbox(**options)  # type: ignore[arg-type]
