"""Issue 11, items 1-3: compression bombs and corrupt encodings, stale pooled connections,
and rate-limit waits that must not eat the deadline.

Everything runs against :class:`HostileServer` (raw HTTP/1.1 on loopback) through the default
aiohttp-backed transport, except where a test says otherwise.
"""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from typing import Any

import httpx
import pytest

from qvickly_async import (
    AsyncQvickly,
    QvicklyConnectionError,
    QvicklyError,
    QvicklyInputError,
    QvicklyResponseError,
)
from qvickly_async.sandbox import Sandbox

from .._support import make_client
from ._hostile import (
    PAYMENT,
    HostileServer,
    gzip_layers,
    http_response,
    register_add_payment,
    report,
    sandbox_responder,
)

pytestmark = [pytest.mark.anyio, pytest.mark.socket]

LIMIT = 1 << 20  # max_response_bytes of these tests: 1 MiB
BOMB_SIZE = 96 << 20  # what the bombs inflate to: 96 MiB


# -- item 1: compression ----------------------------------------------------------------------


def _deflate(payload_size: int) -> bytes:
    compressor = zlib.compressobj(9)
    block = b"\0" * (1 << 20)
    parts = [compressor.compress(block) for _ in range(payload_size >> 20)]
    return b"".join([*parts, compressor.flush()])


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {
        "gzip": gzip_layers(BOMB_SIZE, 1),
        "gzip, gzip": gzip_layers(BOMB_SIZE, 2),
        "deflate": _deflate(BOMB_SIZE),
        # Content-Encoding lists the codings in the order they were applied.
        "gzip, deflate": zlib.compress(gzip_layers(BOMB_SIZE, 1), 9),
        "deflate, gzip": gzip.compress(_deflate(BOMB_SIZE), 9),
    }


@pytest.mark.parametrize(
    "encoding", ["gzip", "gzip, gzip", "deflate", "gzip, deflate", "deflate, gzip"]
)
async def test_a_compression_bomb_is_bounded_while_it_inflates(
    bombs: dict[str, bytes], encoding: str
) -> None:
    raw = bombs[encoding]
    answer = http_response(raw, headers={"Content-Encoding": encoding})
    sandbox = Sandbox()
    async with (
        HostileServer(lambda body: answer) as server,
        make_client(sandbox, server.url, max_response_bytes=LIMIT, max_retries=0) as client,
    ):
        tracemalloc.start()
        try:
            with pytest.raises(QvicklyResponseError, match="max_response_bytes"):
                await client.call("getX", {"a": "b"})
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    report(f"\n{encoding} bomb of {len(raw):,} bytes: peak {peak / 2**20:.1f} MiB traced")
    assert peak < 8 * LIMIT, f"peak {peak / 2**20:.1f} MiB while inflating"


@pytest.mark.parametrize("function", ["getInvoicesByCustomer", "addPayment"])
async def test_a_corrupt_content_encoding_is_a_typed_error(function: str) -> None:
    answer = http_response(
        b"\x1f\x8b\x08\x00garbage-not-gzip", headers={"Content-Encoding": "gzip"}
    )
    sandbox = Sandbox()
    data = PAYMENT if function == "addPayment" else {"customerno": "10001"}
    async with (
        HostileServer(lambda body: answer) as server,
        make_client(sandbox, server.url, max_retries=2) as client,
    ):
        with pytest.raises(QvicklyConnectionError) as caught:
            await client.call(function, data)
    assert caught.value.request_sent is True
    # A read is retried; a write never is (it may have been processed).
    assert server.requests == (3 if function.startswith("get") else 1)


async def test_one_corrupt_answer_does_not_take_down_a_batch() -> None:
    sandbox = Sandbox()
    numbers = [f"{10001 + index}" for index in range(300)]
    respond = sandbox_responder(sandbox)
    corrupt = http_response(b"\x1f\x8b\x08\x00not-gzip", headers={"Content-Encoding": "gzip"})

    def answer(body: bytes) -> bytes:
        return corrupt if b'"customerno":"10150"' in body else respond(body)

    async with (
        HostileServer(answer, keep_alive=True) as server,
        make_client(sandbox, server.url, max_retries=1) as client,
    ):
        results = await client.get_invoices_by_customers(numbers, concurrency=16)
    failed = {result.customer_number: result.error for result in results if not result.ok}
    assert list(failed) == ["10150"]
    assert isinstance(failed["10150"], QvicklyConnectionError)
    assert len(results) == 300


async def test_no_exception_of_any_kind_from_one_lookup_takes_down_a_batch_or_a_stream() -> None:
    sandbox = Sandbox()
    handler = sandbox.handler

    def transport_handler(request: httpx.Request) -> httpx.Response:
        if b'"customerno":"10003"' in request.content:
            raise RuntimeError("a bug somewhere below the SDK")
        return handler(request)

    numbers = ["10001", "10002", "10003", "10004"]
    transport = httpx.MockTransport(transport_handler)
    async with make_client(
        sandbox, "http://sandbox.invalid/", allow_insecure_http=True, transport=transport
    ) as client:
        results = await client.get_invoices_by_customers(numbers)
        async with client.iter_invoices_by_customers(numbers) as stream:
            streamed = [result async for result in stream]
    for batch in (results, streamed):
        failed = [result for result in batch if not result.ok]
        assert [result.customer_number for result in failed] == ["10003"]
        assert isinstance(failed[0].error, QvicklyError)
        assert isinstance(failed[0].error.__cause__, RuntimeError)
        assert len(batch) == 4


@pytest.mark.parametrize("read", ["payment_infos", "invoices_by_pnos"])
async def test_no_exception_of_any_kind_from_one_keyed_lookup_takes_down_its_batch(
    read: str,
) -> None:
    """The keyed reads (issue 12) keep every key's result when one lookup raises a bug."""
    sandbox = Sandbox()
    handler = sandbox.handler
    if read == "payment_infos":
        async with AsyncQvickly.for_sandbox(sandbox) as client:
            invoices = await client.get_invoices_by_customer("10001")
        keys = [invoice.number for invoice in invoices[:4]]
        field = "number"
    else:
        keys = [sandbox.pno_of(customer) for customer in (10001, 10002, 10003, 10004)]
        field = "pno"
    bad = keys[2]

    def transport_handler(request: httpx.Request) -> httpx.Response:
        if f'"{field}":"{bad}"'.encode() in request.content:
            raise ZeroDivisionError("a bug somewhere below the SDK")
        return handler(request)

    async with AsyncQvickly(
        merchant_id=sandbox.merchant_id,
        secret=sandbox.secret,
        base_url="http://sandbox.invalid/",
        allow_insecure_http=True,
        transport=httpx.MockTransport(transport_handler),
    ) as client:
        batches: list[list[Any]]
        if read == "payment_infos":
            results = await client.get_payment_infos(keys)
            async with client.iter_payment_infos(keys) as stream:
                streamed = [result async for result in stream]
            batches = [results, streamed]
        else:
            batches = [await client.get_invoices_by_pnos(keys)]
    for batch in batches:
        assert sorted(result.key for result in batch) == sorted(keys)
        failed = [result for result in batch if not result.ok]
        assert [result.key for result in failed] == [bad]
        assert isinstance(failed[0].error, QvicklyError)
        assert isinstance(failed[0].error.__cause__, ZeroDivisionError)
        assert all(result.value is not None for result in batch if result.key != bad)


async def test_an_unhashable_number_in_a_stream_is_that_entrys_result() -> None:
    numbers: list[Any] = ["10001", ["10002"], None]
    async with (
        AsyncQvickly.for_sandbox() as client,
        client.iter_invoices_by_customers(numbers) as stream,
    ):
        streamed = [result async for result in stream]
    assert len(streamed) == 3
    assert sum(result.ok for result in streamed) == 1
    assert all(isinstance(result.error, QvicklyInputError) for result in streamed if not result.ok)


# -- item 2: stale pooled connections ---------------------------------------------------------


async def test_a_server_that_closes_after_answering_never_causes_a_false_maybe_sent() -> None:
    sandbox = Sandbox()
    received = register_add_payment(sandbox)
    respond = sandbox_responder(sandbox)
    calls = 200
    failures: list[QvicklyError] = []
    async with (
        HostileServer(respond, keep_alive=True, close_after_answer=True) as server,
        make_client(sandbox, server.url, max_retries=2) as client,
    ):
        for index in range(calls):
            payment: dict[str, Any] = {**PAYMENT, "PaymentInfo": {"orderid": f"o{index}"}}
            try:
                await client.call("addPayment", payment)
            except QvicklyError as error:
                failures.append(error)
    report(f"\n{calls} addPayment over connections closed after each answer: {failures[:3]}")
    assert failures == []
    assert len(received) == calls == len(set(received))
    assert server.connections == calls


# -- item 3: rate limit and deadline ----------------------------------------------------------


async def test_waiting_for_a_rate_limit_token_does_not_eat_the_deadline() -> None:
    """40 customers at 10 requests/s take about 3 s; each call has a 1 s deadline."""
    sandbox = Sandbox()
    numbers = [f"{10001 + index}" for index in range(40)]
    async with sandbox.serve() as server, make_client(sandbox, server.url, deadline=1) as client:
        results = await client.get_invoices_by_customers(numbers, rate_limit=10, concurrency=16)
    failed = [type(result.error).__name__ for result in results if not result.ok]
    assert failed == []
    # Every customer was sent exactly once: no token went to a call that was then dropped.
    assert sandbox.counters.calls("getInvoicesByCustomer") == len(numbers)


@pytest.mark.parametrize(
    "rate_limit", [float("inf"), float("nan"), -1, 0, float("-inf"), True, "5"], ids=repr
)
async def test_a_rate_limit_that_cannot_work_is_refused(rate_limit: Any) -> None:
    async with AsyncQvickly.for_sandbox() as client:
        with pytest.raises(QvicklyInputError, match="rate_limit"):
            await asyncio.wait_for(
                client.get_invoices_by_customers(["10001"], rate_limit=rate_limit), 5
            )
