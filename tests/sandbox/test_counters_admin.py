"""Counters from Python and the admin endpoints a test in another process would use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

from qvickly_async.sandbox import Counters, Sandbox, ServerHandle

from ._handmade import envelope, verified


def test_counters_by_function_key_and_outcome() -> None:
    counters = Counters()
    counters.record("getInvoicesByCustomer", "10001", "ok")
    counters.record("getInvoicesByCustomer", "10001", "ok")
    counters.record("getInvoicesByCustomer", "10002", "error:7020")
    counters.record("getPaymentinfo", "1", "fault:reset")
    counters.record("", None, "error:9003")
    assert counters.total() == 5
    assert counters.calls("getinvoicesbycustomer") == 3
    assert counters.calls("getInvoicesByCustomer", key="10001") == 2
    assert counters.calls(key="10002", outcome="error") == 1
    assert counters.calls(outcome="error:9003") == 1
    assert counters.calls(outcome="fault") == 1
    assert counters.calls(outcome="faul") == 0
    snapshot = counters.snapshot()
    assert snapshot["by_function"] == {"": 1, "getInvoicesByCustomer": 3, "getPaymentinfo": 1}
    assert snapshot["by_outcome"]["ok"] == 2
    assert {
        "function": "getPaymentinfo",
        "key": "1",
        "outcome": "fault:reset",
        "count": 1,
    } in snapshot["calls"]
    assert repr(counters) == "<Counters total=5>"
    counters.reset()
    assert counters.total() == 0


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, ServerHandle, requests.Session]]:
    sandbox = Sandbox()
    with sandbox.serve_in_thread() as server, requests.Session() as session:
        yield sandbox, server, session


def test_admin_counters(served: tuple[Sandbox, ServerHandle, requests.Session]) -> None:
    sandbox, server, session = served
    for customer in ("10001", "10001", "10002"):
        body = envelope("getInvoicesByCustomer", {"customerno": customer})
        verified(session.post(server.url, data=body, timeout=5).content)
    admin = server.url + "__sandbox__/"
    snapshot = session.get(admin + "counters", timeout=5).json()
    assert snapshot["total"] == 3
    filtered = session.get(
        admin + "counters",
        params={"function": "getInvoicesByCustomer", "key": "10001", "outcome": "ok"},
        timeout=5,
    ).json()
    assert filtered["count"] == 2
    assert session.get(admin + "counters?colour=red", timeout=5).status_code == 400
    assert session.post(admin + "reset", timeout=5).json() == {"ok": True}
    assert session.get(admin + "counters", timeout=5).json()["total"] == 0
    assert sandbox.counters.total() == 0  # admin requests are not counted


def test_admin_faults(served: tuple[Sandbox, ServerHandle, requests.Session]) -> None:
    sandbox, server, session = served
    admin = server.url + "__sandbox__/"
    plan: dict[str, Any] = {"http_503": {"first_attempts": 1}, "retry_after": 4}
    shown = session.post(admin + "faults", json=plan, timeout=5).json()
    assert shown["http_503"]["first_attempts"] == 1
    assert sandbox.faults.http_503 is not None
    body = envelope("getAccountinfo", {"x": "1"})
    assert session.post(server.url, data=body, timeout=5).status_code == 503
    assert session.post(server.url, data=body, timeout=5).status_code == 200
    assert session.get(admin + "faults", timeout=5).json()["retry_after"] == 4
    bad = session.post(admin + "faults", json={"http_503": 2}, timeout=5)
    assert bad.status_code == 400 and "between 0 and 1" in bad.json()["error"]
    assert session.post(admin + "faults", data="[1]", timeout=5).status_code == 400
    assert session.post(admin + "faults", data=b"{", timeout=5).status_code == 400
    session.post(admin + "reset", json={"faults": True}, timeout=5)
    assert sandbox.faults.quiet
    session.post(admin + "faults", json={"reset": 1}, timeout=5)
    assert sandbox.faults.reset is not None
    assert session.post(admin + "faults", data=b"", timeout=5).json()["reset"] is None
    assert session.post(admin + "reset", data="[]", timeout=5).status_code == 400


def test_admin_settings(served: tuple[Sandbox, ServerHandle, requests.Session]) -> None:
    sandbox, server, session = served
    admin = server.url + "__sandbox__/settings"
    assert session.get(admin, timeout=5).json() == {
        "strict": False,
        "error_shape": "bare",
        "invoice_shape": "flat",
        "logid": "auto",
    }
    changed = session.post(admin, json={"invoice_shape": "nested"}, timeout=5).json()
    assert changed["invoice_shape"] == "nested" == sandbox.settings.invoice_shape
    assert session.post(admin, json={"invoice_shape": "round"}, timeout=5).status_code == 400
    assert session.post(admin, json={"colour": "red"}, timeout=5).status_code == 400
    assert session.post(admin, data="3", timeout=5).status_code == 400


@pytest.mark.anyio
async def test_admin_over_asgi() -> None:
    sandbox = Sandbox()
    transport = httpx.ASGITransport(sandbox.asgi_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.invalid") as client:
        verified((await client.post("/", content=envelope("getAccountinfo", {"a": "1"}))).content)
        snapshot = (await client.get("/__sandbox__/counters")).json()
        assert snapshot["by_function"] == {"getAccountinfo": 1}
