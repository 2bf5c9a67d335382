"""The SDK over its default transport, against the sandbox's real loopback server.

These are behaviour tests only (no timing assertions; speed is ``nox -s bench``'s job): the
error mapping as the retry logic sees it, TLS verification, redirects, batch correctness and
connection-slot accounting after cancellations.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import trustme

from qvickly_async import (
    CustomerResult,
    QvicklyConnectionError,
    QvicklyHTTPStatusError,
    QvicklyPerformanceWarning,
    QvicklyResponseError,
    QvicklyTimeoutError,
    RetryDetails,
)
from qvickly_async._http11 import Http11Transport
from qvickly_async._transport import DEFAULT_LIMITS, _default_transport
from qvickly_async.sandbox import Fault, Sandbox, ServerHandle

from ._support import (
    assert_pool_is_whole,
    make_client,
    refused_url,
    trust_through_ssl_cert_file,
)
from .robustness._hostile import tls_front
from .test_http11_transport import ScriptedServer, response_bytes

pytestmark = [pytest.mark.anyio, pytest.mark.socket]

PAYMENT: dict[str, Any] = {
    "PaymentData": {"method": "1", "currency": "SEK", "language": "sv", "country": "SE"},
    "Customer": {"nr": "10001", "Billing": {"firstname": "Ada", "lastname": "Lovelace"}},
    "Articles": [{"artnr": "A1", "title": "Book", "quantity": "1", "aprice": "10000"}],
}


@pytest.fixture
async def server(sandbox: Sandbox) -> AsyncIterator[ServerHandle]:
    async with sandbox.serve() as handle:
        yield handle


# -- the seam ------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_proxy_env")
def test_default_transport_is_the_sdk_own_http11_one() -> None:
    transport = _default_transport(DEFAULT_LIMITS, "https://api.qvickly.io/")
    assert type(transport) is Http11Transport


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"])
@pytest.mark.usefixtures("no_proxy_env")
def test_a_configured_proxy_keeps_httpx_own_transport(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "http://proxy.invalid:3128")
    with pytest.warns(QvicklyPerformanceWarning, match="httpx's own connection pool"):
        assert _default_transport(DEFAULT_LIMITS) is None


@pytest.mark.usefixtures("no_proxy_env")
async def test_client_uses_the_default_transport(sandbox: Sandbox, server: ServerHandle) -> None:
    # The client's limits bound the default transport's own pool ("max_connections reached"
    # is that pool's timeout; httpx's pool words it differently).
    limits = httpx.Limits(max_connections=3, max_keepalive_connections=3)
    async with make_client(sandbox, server.url, limits=limits) as client:
        await client.get_invoices_by_customer("10001")
        await assert_pool_is_whole(client, sandbox, 3)


# -- error mapping as the retry logic sees it ----------------------------------------------


async def test_refused_connection_was_never_sent(sandbox: Sandbox) -> None:
    async with make_client(sandbox, refused_url(), max_retries=0) as client:
        with pytest.raises(QvicklyConnectionError) as caught:
            await client.get_invoices_by_customer("10001")
    assert caught.value.request_sent is False
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_state_changing_call_is_retried_when_it_never_left(sandbox: Sandbox) -> None:
    # Nothing listens: every attempt fails before sending, so retrying is safe and happens.
    attempts: list[RetryDetails] = []
    async with make_client(
        sandbox, refused_url(), max_retries=2, on_retry=attempts.append
    ) as client:
        with pytest.raises(QvicklyConnectionError) as caught:
            await client.call("addPayment", PAYMENT)
    assert caught.value.request_sent is False
    assert len(attempts) == 2


async def test_reset_after_the_request_was_received_may_have_been_sent(
    sandbox: Sandbox, server: ServerHandle
) -> None:
    sandbox.set_faults(reset=1.0)
    async with make_client(sandbox, server.url, max_retries=0) as client:
        with pytest.raises(QvicklyConnectionError) as caught:
            await client.get_invoices_by_customer("10001")
    assert caught.value.request_sent is True
    assert sandbox.counters.calls("getInvoicesByCustomer", outcome="fault:reset") == 1


async def test_read_is_retried_after_a_reset(sandbox: Sandbox, server: ServerHandle) -> None:
    sandbox.set_faults(reset=Fault(first_attempts=1))
    async with make_client(sandbox, server.url, max_retries=2) as client:
        invoices = await client.get_invoices_by_customer("10001")
    assert len(invoices) == sandbox.invoice_count("10001")
    assert sandbox.counters.calls("getInvoicesByCustomer") == 2


@pytest.mark.parametrize("warm", [False, True], ids=["fresh-connection", "kept-alive"])
async def test_add_payment_is_sent_at_most_once_when_the_server_resets(
    sandbox: Sandbox, server: ServerHandle, warm: bool
) -> None:
    async with make_client(sandbox, server.url, max_retries=2) as client:
        if warm:  # the payment then goes over a pooled connection
            await client.get_invoices_by_customer("10001")
        sandbox.set_faults(reset=Fault(probability=1.0, functions="addPayment"))
        with pytest.raises(QvicklyConnectionError) as caught:
            await client.call("addPayment", PAYMENT)
    assert caught.value.request_sent is True
    assert sandbox.counters.calls("addPayment") == 1


async def test_add_payment_is_sent_once_when_the_server_closes_without_answer(
    sandbox: Sandbox,
) -> None:
    async def reply(_: bytes) -> bytes:
        return b""  # a clean close (FIN) after reading the request (httpx-aiohttp 0.2
        # would call it ConnectTimeout: "never sent")

    async with (
        ScriptedServer(reply) as scripted,
        make_client(sandbox, scripted.url, max_retries=2) as client,
    ):
        with pytest.raises(QvicklyConnectionError) as caught:
            await client.call("addPayment", PAYMENT)
    assert caught.value.request_sent is True
    assert len(scripted.requests) == 1


async def test_read_timeout_may_have_been_sent(sandbox: Sandbox, server: ServerHandle) -> None:
    sandbox.set_faults(latency=2.0)
    timeout = httpx.Timeout(10.0, read=0.1)
    async with make_client(sandbox, server.url, max_retries=2, timeout=timeout) as client:
        with pytest.raises(QvicklyTimeoutError) as caught:
            await client.call("addPayment", PAYMENT)
        assert caught.value.request_sent is True
        assert sandbox.counters.calls("addPayment") == 1
        # A read-only call is retried after a read timeout.
        with pytest.raises(QvicklyTimeoutError):
            await client.get_invoices_by_customer("10001")
    assert sandbox.counters.calls("getInvoicesByCustomer") == 3


async def test_redirects_are_not_followed(sandbox: Sandbox) -> None:
    async def reply(_: bytes) -> bytes:
        return response_bytes(302, b"", reason="Found", headers=[("Location", "/moved")])

    async with (
        ScriptedServer(reply) as scripted,
        make_client(sandbox, scripted.url, max_retries=2) as client,
    ):
        with pytest.raises(QvicklyHTTPStatusError) as caught:
            await client.call("addPayment", PAYMENT)
    assert caught.value.status_code == 302
    assert len(scripted.requests) == 1


@pytest.mark.usefixtures("no_proxy_env")
async def test_size_limit_applies_while_streaming(sandbox: Sandbox, server: ServerHandle) -> None:
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    async with make_client(
        sandbox, server.url, max_response_bytes=64, max_retries=0, limits=limits
    ) as client:
        for _ in range(3):  # the abandoned connections are not reused and do not leak
            with pytest.raises(QvicklyResponseError, match="limit"):
                await client.get_invoices_by_customer("10001")
        await assert_pool_is_whole(client, sandbox, 2)


# -- TLS -----------------------------------------------------------------------------------


async def test_tls_is_verified_by_default(
    sandbox: Sandbox, server: ServerHandle, ca: trustme.CA
) -> None:
    async with (
        tls_front(server, ca.issue_cert("127.0.0.1")) as url,
        make_client(sandbox, url) as client,
    ):
        with pytest.raises(QvicklyConnectionError, match=r"(?i)certificate") as caught:
            await client.get_invoices_by_customer("10001")
    assert caught.value.request_sent is False
    assert sandbox.counters.total() == 0


async def test_tls_with_the_ca_through_http_client(
    sandbox: Sandbox, server: ServerHandle, ca: trustme.CA
) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with (
        tls_front(server, ca.issue_cert("127.0.0.1")) as url,
        httpx.AsyncClient(verify=context) as http_client,
        make_client(sandbox, url, http_client=http_client) as client,
    ):
        invoices = await client.get_invoices_by_customer("10001")
    assert len(invoices) == sandbox.invoice_count("10001")


@pytest.mark.usefixtures("no_proxy_env")
async def test_tls_with_the_ca_through_ssl_cert_file(
    sandbox: Sandbox,
    server: ServerHandle,
    ca: trustme.CA,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trust_through_ssl_cert_file(ca, tmp_path, monkeypatch)
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    async with (
        tls_front(server, ca.issue_cert("127.0.0.1")) as url,
        make_client(sandbox, url, limits=limits) as client,
    ):
        invoices = await client.get_invoices_by_customer("10001")
        await assert_pool_is_whole(client, sandbox, 2)  # still the default transport
    assert len(invoices) == sandbox.invoice_count("10001")


# -- batches -------------------------------------------------------------------------------


async def test_batch_returns_each_customers_own_invoices(
    sandbox: Sandbox, server: ServerHandle
) -> None:
    sandbox.set_faults(latency=0.005)
    numbers = [str(number) for number in range(10000, 10300)] + ["99999990", "99999991"]
    async with make_client(sandbox, server.url) as client:
        results = await client.get_invoices_by_customers(numbers, concurrency=64)
    assert [result.customer_number for result in results] == numbers
    for result in results:
        assert result.ok, result.error
        expected = sandbox.expected_invoices(result.customer_number)
        assert [invoice.number for invoice in result.invoices] == [
            str(row["invoiceid_real"]) for row in expected
        ]
        assert [invoice.customer_name for invoice in result.invoices] == [
            row["name"] for row in expected
        ]
    assert sum(len(result.invoices) for result in results) > 300
    assert sandbox.counters.calls("getInvoicesByCustomer", outcome="ok") == len(numbers)


@pytest.mark.usefixtures("no_proxy_env")
async def test_no_connection_slots_leak_after_cancelled_batches(
    sandbox: Sandbox, server: ServerHandle
) -> None:
    sandbox.set_faults(latency=0.02)
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    numbers = [str(number) for number in range(10000, 10040)]
    async with make_client(sandbox, server.url, limits=limits) as client:
        for round_ in range(12):
            if round_ % 2:
                # Stop early: leaving the block cancels the lookups in flight.
                async with client.iter_invoices_by_customers(numbers) as stream:
                    async for _ in stream:
                        break
            else:
                # Cancel from outside while every slot is busy.
                with anyio.move_on_after(0.03):
                    await client.get_invoices_by_customers(numbers)
        await assert_pool_is_whole(client, sandbox, 4)
        with anyio.fail_after(60):  # a hang guard, not a speed check
            results: list[CustomerResult] = await client.get_invoices_by_customers(numbers)
    assert all(result.ok for result in results)
    assert len(results) == len(numbers)
