"""The sandbox's callbacks: signed like Qvickly's, retried on its schedule, all recorded."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from aiohttp import web

from qvickly_async import AsyncQvickly, QvicklyAPIError, QvicklyValidationError
from qvickly_async.callbacks import CallbackStatus, parse_callback
from qvickly_async.sandbox import (
    QVICKLY_RETRY_DELAYS,
    CallbackDeliveries,
    Sandbox,
    ServerHandle,
    callback_body,
    callback_data,
)

from ..callbacks._servers import aiohttp_server

pytestmark = [pytest.mark.anyio, pytest.mark.socket]


class Shop:
    """A loopback callback receiver answering scripted statuses (then 200)."""

    def __init__(self, secret: str, script: list[int] | None = None, delay: float = 0) -> None:
        self.secret = secret
        self.script = list(script or [])
        self.delay = delay
        self.received: list[tuple[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        callback = parse_callback(body, secret=self.secret, content_type=request.content_type)
        self.received.append((callback.number, str(callback.status)))
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.script.pop(0) if self.script else 200
        return web.Response(status=status, text=str(status))


@contextlib.asynccontextmanager
async def shop_server(shop: Shop) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/callback", shop.handle)
    async with aiohttp_server(app) as base:
        yield f"{base}/callback"


def test_the_schedule_is_qvicklys() -> None:
    minute, hour, day = 60.0, 3600.0, 86400.0
    assert QVICKLY_RETRY_DELAYS[:10] == (minute,) * 10
    assert QVICKLY_RETRY_DELAYS[10:20] == (hour,) * 10
    assert QVICKLY_RETRY_DELAYS[20:27] == (day,) * 7
    assert len(QVICKLY_RETRY_DELAYS) == 30
    assert QVICKLY_RETRY_DELAYS[27:] == (30 * day,) * 3  # monthly for 3 months


async def test_retries_until_the_first_success_and_then_stops() -> None:
    sandbox = Sandbox()
    shop = Shop(sandbox.secret, [500, 503, 412])
    deliveries = sandbox.configure_callbacks(speedup=6000)  # 1 min -> 10 ms
    async with shop_server(shop) as url:
        callback_id = sandbox.payment_event("10001000", "paid", url=url)
        assert await deliveries.wait_async(10)
        await asyncio.sleep(0.1)  # longer than the next delay: nothing more arrives
    record = deliveries.record(callback_id)
    assert record.state == "delivered" and record.delivered
    assert [a.status_code for a in record.attempts] == [500, 503, 412, 200]
    assert [a.attempt for a in record.attempts] == [1, 2, 3, 4]
    assert shop.received == [("10001000", "paid")] * 4
    gaps = [b.sent_at - a.sent_at for a, b in itertools.pairwise(record.attempts)]
    assert all(gap >= 0.009 for gap in gaps)  # a minute, divided by 6000
    assert deliveries.attempts()[-1] == record.attempts[-1]
    assert record.to_json()["attempts"][0]["status_code"] == 500


async def test_a_404_stops_the_retries_unless_told_otherwise() -> None:
    sandbox = Sandbox()
    shop = Shop(sandbox.secret, [404, 404])
    async with shop_server(shop) as url:
        deliveries = sandbox.configure_callbacks(speedup=60_000)
        stopped = sandbox.payment_event("10001000", "cancelled", url=url)
        assert await deliveries.wait_async(10)
        assert deliveries.record(stopped).state == "stopped"
        assert len(deliveries.record(stopped).attempts) == 1
        deliveries = sandbox.configure_callbacks(stop_on_404=False)
        retried = sandbox.payment_event("10001000", "cancelled", url=url)
        assert await deliveries.wait_async(10)
    assert [a.status_code for a in deliveries.record(retried).attempts] == [404, 200]


async def test_the_whole_schedule_runs_out_after_31_attempts() -> None:
    sandbox = Sandbox()
    shop = Shop(sandbox.secret, [503] * 100)
    deliveries = sandbox.configure_callbacks(speedup=2e9)  # three months in ~4 ms
    async with shop_server(shop) as url:
        callback_id = sandbox.payment_event("10001000", "paid", url=url)
        assert await deliveries.wait_async(20)
    record = deliveries.record(callback_id)
    assert record.state == "gave_up"
    assert len(record.attempts) == 31 == len(shop.received)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_no_answer_counts_as_a_failure_and_is_recorded() -> None:
    deliveries = CallbackDeliveries(delays=(0.0, 0.0), timeout=0.2)
    refused = deliveries.send(f"http://127.0.0.1:{free_port()}/cb", b"{}")
    shop = Shop("s", delay=0.5)
    async with shop_server(shop) as url:
        slow = deliveries.send(url, callback_body(callback_data(1, "paid"), secret="s"))
        assert await deliveries.wait_async(10)
    assert len(shop.received) == 3
    for callback_id in (refused, slow):
        record = deliveries.record(callback_id)
        assert record.state == "gave_up"
        assert [a.status_code for a in record.attempts] == [None, None, None]
        assert all(a.error for a in record.attempts)
    deliveries.close()


async def test_close_cancels_what_is_pending() -> None:
    deliveries = CallbackDeliveries(delays=(3600.0,))
    callback_id = deliveries.send(f"http://127.0.0.1:{free_port()}/cb", b"{}")
    await asyncio.sleep(0.2)
    deliveries.close()
    assert deliveries.record(callback_id).state == "cancelled"
    assert deliveries.pending == 0
    with pytest.raises(RuntimeError, match="closed"):
        deliveries.send("http://127.0.0.1:1/cb", b"{}")
    deliveries.close()  # idempotent


def test_bad_arguments_are_refused() -> None:
    sandbox = Sandbox()
    with pytest.raises(ValueError, match="no callback URL"):
        sandbox.payment_event("10001000", "paid")
    with pytest.raises(ValueError, match="http"):
        sandbox.configure_callbacks(url="ftp://example.com/")
    with pytest.raises(ValueError, match="status"):
        sandbox.payment_event("10001000", " ", url="http://127.0.0.1:1/")
    for bad in ({"speedup": 0}, {"timeout": -1}, {"max_concurrency": 0}, {"delays": (-1.0,)}):
        with pytest.raises(ValueError):
            CallbackDeliveries(**bad)
    with pytest.raises(ValueError):
        CallbackDeliveries().send("not a url", b"")


async def test_a_payment_event_changes_what_get_payment_info_reports() -> None:
    sandbox = Sandbox()
    shop = Shop(sandbox.secret)
    sandbox.configure_callbacks(speedup=60_000)
    async with AsyncQvickly.for_sandbox(sandbox) as client, shop_server(shop) as url:
        sandbox.configure_callbacks(url=url)
        before = await client.get_payment_info("10001001")
        sandbox.payment_event("10001001", "denied", data={"extra": "kept"})
        assert await sandbox.callbacks.wait_async(10)
        after = await client.get_payment_info("10001001")
    assert str(before.status) != "Rejected"
    assert str(after.status) == "Rejected"  # "denied" in getPaymentinfo's words
    assert shop.received == [("10001001", "denied")]
    record = sandbox.callbacks.records()[-1]
    callback = parse_callback(record.body, secret=sandbox.secret)
    assert callback.status is CallbackStatus.DENIED
    assert callback.data["extra"] == "kept"
    assert after.payment_data is not None
    assert callback.order_id == after.payment_data.order_id


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, ServerHandle]]:
    sandbox = Sandbox()
    with sandbox.serve_in_thread() as server:
        yield sandbox, server


async def test_admin_endpoint_sends_and_lists_callbacks(
    served: tuple[Sandbox, ServerHandle],
) -> None:
    sandbox, server = served
    shop = Shop(sandbox.secret, [503])
    admin = f"{server.url}__sandbox__/callbacks"
    async with shop_server(shop) as url, httpx.AsyncClient() as http:
        config = await http.post(f"{admin}/config", json={"url": url, "speedup": 60_000})
        assert config.json()["url"] == url and config.json()["qvickly_schedule"]
        sent = await http.post(admin, json={"number": "10002000", "status": "paid"})
        assert sent.status_code == 200
        assert await sandbox.callbacks.wait_async(10)
        listed = (await http.get(admin)).json()["callbacks"]
        missing = await http.post(admin, json={"status": "paid"})
        unknown = await http.post(admin, json={"number": "1", "status": "x", "oops": 1})
        not_object = await http.post(admin, content=b"[1]")
        wrong_method = await http.delete(admin)
        nowhere = await http.get(f"{admin}/nowhere")
        config = await http.get(f"{admin}/config")
    assert listed == [
        {
            "id": sent.json()["id"],
            "url": url,
            "number": "10002000",
            "status": "paid",
            "state": "delivered",
            "attempts": listed[0]["attempts"],
        }
    ]
    assert [a["status_code"] for a in listed[0]["attempts"]] == [503, 200]
    assert missing.status_code == unknown.status_code == not_object.status_code == 400
    assert "oops" in unknown.json()["error"]
    assert wrong_method.status_code == 405 and nowhere.status_code == 404
    assert config.json()["speedup"] == 60_000


def delivery_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "qvickly-sandbox-callbacks"]


def join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(5)


async def test_the_delivery_thread_ends_when_idle_and_comes_back() -> None:
    shop = Shop("s")
    deliveries = CallbackDeliveries(idle_timeout=0.05)
    before = set(delivery_threads())
    async with shop_server(shop) as url:
        body = callback_body(callback_data(1, "paid"), secret="s")
        for _ in range(2):
            deliveries.send(url, body)
            [started] = set(delivery_threads()) - before
            assert await deliveries.wait_async(10)
            await asyncio.to_thread(join_all, [started])  # it ends by itself when idle
            assert not started.is_alive()
    assert [record.state for record in deliveries.records()] == ["delivered"] * 2
    deliveries.close()


def payment_with_status(sandbox: Sandbox, status: str, skip: int = 0) -> str:
    found = [
        str(row["invoiceid_real"])
        for customer in list(sandbox.customer_numbers)[:200]
        for row in sandbox.expected_invoices(customer)
        if row["status"] == status
    ]
    return found[skip]


async def test_cancel_payment_is_an_emulated_event_with_its_callback() -> None:
    sandbox = Sandbox()
    created = payment_with_status(sandbox, "Created")
    paid = payment_with_status(sandbox, "Paid")
    shop = Shop(sandbox.secret)
    async with AsyncQvickly.for_sandbox(sandbox) as client, shop_server(shop) as url:
        sandbox.configure_callbacks(url=url, speedup=60_000)
        answer = await client.call("cancelPayment", {"number": created})
        assert await sandbox.callbacks.wait_async(10)
        after = await client.get_payment_info(created)
        errors = {}
        for data in ({"number": created}, {"PaymentData": {"number": paid}}, {"number": "1"}, {}):
            with pytest.raises(QvicklyAPIError) as caught:
                await client.call("cancelPayment", data)
            errors[str(data)] = caught.value.code
    assert answer["number"] == created and answer["status"] == "Cancelled"
    assert str(after.status) == "Cancelled"
    assert shop.received == [(created, "cancelled")]
    assert list(errors.values()) == [5220, 5209, 5201, 5200]
    assert isinstance(caught.value, QvicklyValidationError)


async def test_cancel_payment_uses_the_payments_own_loopback_callback_url() -> None:
    sandbox = Sandbox()
    shop = Shop(sandbox.secret)
    demo = payment_with_status(sandbox, "Created")
    async with AsyncQvickly.for_sandbox(sandbox) as client, shop_server(shop) as url:
        row = {
            "PaymentData": {
                "number": "555001",
                "status": "Created",
                "orderid": "O-555",
                "callbackurl": url,
            },
            "Customer": {"nr": "77001"},
        }
        sandbox.add_customer("77001", [row])
        await client.call("cancelPayment", {"number": "555001"})
        await client.call("cancelPayment", {"number": demo})  # the demo's shop is not loopback
        assert await sandbox.callbacks.wait_async(10)
    assert shop.received == [("555001", "cancelled")]
    assert [record.number for record in sandbox.callbacks.records()] == ["555001"]
