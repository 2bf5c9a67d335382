"""The httpx ecosystem with the default client: respx mocks, instrumentation, proxies, errors."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from qvickly_async import (
    QvicklyConnectionError,
    QvicklyPerformanceWarning,
    QvicklyServerError,
    QvicklySignatureError,
)
from qvickly_async.sandbox import Sandbox, ServerHandle
from qvickly_async.testing import no_backoff

from ._support import make_client, refused_url

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_proxy_env")]


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[ServerHandle]:
    with sandbox.serve_in_thread() as handle:
        yield handle


# -- respx ------------------------------------------------------------------------------------


async def test_respx_mocks_the_default_client(sandbox: Sandbox) -> None:
    url = refused_url()  # were the mock bypassed, the call would fail to connect
    async with make_client(sandbox, url) as client:
        with respx.mock(assert_all_called=True) as router:
            route = router.post(url).mock(side_effect=sandbox.handler)
            invoices = await client.get_invoices_by_customer("10001")
    assert [invoice.number for invoice in invoices] == [
        str(row["invoiceid_real"]) for row in sandbox.expected_invoices("10001")
    ]
    assert route.call_count == 1
    assert route.calls.last.request.headers["Content-Type"] == "application/json"


async def test_respx_with_the_httpx_mocker_too(sandbox: Sandbox) -> None:
    url = refused_url()
    with respx.mock(using="httpx") as router:
        route = router.post(url).mock(side_effect=sandbox.handler)
        async with make_client(sandbox, url) as client:
            await client.ping()
    assert route.call_count == 1


async def test_respx_started_after_the_first_request_is_refused_loudly(
    sandbox: Sandbox, server: ServerHandle
) -> None:
    async with make_client(sandbox, server.url) as client:
        await client.ping()  # over the default transport
        with respx.mock(assert_all_called=False) as router:
            router.post(server.url).mock(return_value=httpx.Response(500))
            with pytest.raises(RuntimeError, match=r"(?s)respx mock would be bypassed.*http_cl"):
                await client.ping()
        before = sandbox.counters.total()
        await client.ping()  # respx stopped: the default transport is fine again
        assert sandbox.counters.total() == before + 1


# -- instrumentation --------------------------------------------------------------------------


async def test_instrumentation_of_async_client_send_sees_every_request(
    sandbox: Sandbox, server: ServerHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    original = httpx.AsyncClient.send

    @functools.wraps(original)  # how Sentry's httpx integration wraps it
    async def send(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> Any:
        seen.append(str(request.url))
        return await original(self, request, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", send)
    async with make_client(sandbox, server.url) as client:
        await client.ping()
        await client.get_invoices_by_customers(["10001", "10002", "10003"])
    assert seen == [server.url] * 4
    assert sandbox.counters.total() == 4


async def test_instrumentation_of_the_httpx_transport_sees_every_request(
    sandbox: Sandbox, server: ServerHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    original = httpx.AsyncHTTPTransport.handle_async_request

    class Wrapper:  # how OpenTelemetry (wrapt) wraps it: an object, not a function
        def __get__(self, instance: Any, owner: Any) -> Any:
            async def handle(request: httpx.Request) -> httpx.Response:
                seen.append(request.method)
                return await original(instance, request)

            return handle

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", Wrapper())
    async with make_client(sandbox, server.url) as client:
        await client.get_invoices_by_customer("10001")
    assert seen == ["POST"]


async def test_the_fallback_is_logged_and_batches_default_to_16_in_flight(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    url = refused_url()
    in_flight = peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return sandbox.handler(request)

    caplog.set_level(logging.INFO, logger="qvickly_async")
    with respx.mock() as router:
        router.post(url).mock(side_effect=slow)
        async with make_client(sandbox, url) as client:
            numbers = [str(number) for number in range(10000, 10100)]
            results = await client.get_invoices_by_customers(numbers)
    assert all(result.ok for result in results)
    assert peak == 16
    [record] = [r for r in caplog.records if "httpx's own connection pool" in r.getMessage()]
    assert "httpcore.AsyncConnectionPool.handle_async_request" in record.getMessage()


# -- proxies ----------------------------------------------------------------------------------


async def test_a_proxy_in_the_environment_warns_and_lowers_the_default_concurrency(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", refused_url())  # a proxy nobody listens on
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with make_client(
        sandbox, "http://qvickly.example/", allow_insecure_http=True, max_retries=0
    ) as client:
        with (
            pytest.warns(QvicklyPerformanceWarning, match=r"proxy.*16 lookups in flight"),
            pytest.raises(QvicklyConnectionError),  # it went to the proxy
        ):
            await client.ping()
        assert client._transport.default_concurrency == 16


async def test_without_proxy_or_hooks_the_default_transport_keeps_64(sandbox: Sandbox) -> None:
    async with make_client(sandbox, refused_url()) as client:
        assert client._transport.default_concurrency == 64


# -- the SDK's words --------------------------------------------------------------------------


async def test_a_refused_connection_is_said_in_the_sdks_words(sandbox: Sandbox) -> None:
    url = refused_url()
    port = httpx.URL(url).port
    async with make_client(sandbox, url, allow_insecure_http=True, max_retries=0) as client:
        with pytest.raises(QvicklyConnectionError) as caught:
            await client.ping()
    message = str(caught.value)
    assert f"cannot connect to 127.0.0.1:{port}: Connection refused" in message
    assert "ssl:default" not in message  # aiohttp's words, wrong for plain http
    assert caught.value.request_sent is False


async def test_respx_failures_and_unsigned_answers_are_typed(sandbox: Sandbox) -> None:
    url = refused_url()
    with no_backoff(), respx.mock() as router:
        route = router.post(url)
        async with make_client(sandbox, url, allow_insecure_http=True, max_retries=1) as client:
            route.mock(return_value=httpx.Response(503))
            with pytest.raises(QvicklyServerError):
                await client.ping()
            route.mock(return_value=httpx.Response(200, json={"data": {"ok": 1}}))
            with pytest.raises(QvicklySignatureError):
                await client.call("getAccountinfo", {})
            route.mock(side_effect=httpx.ConnectError("refused"))
            with pytest.raises(QvicklyConnectionError) as caught:
                await client.get_invoices_by_customer("10001")
    assert caught.value.request_sent is False
    assert route.call_count == 1 + 2 + 2  # ping never retries; the others retried once


async def test_a_dropped_connection_is_said_in_the_sdks_words(
    sandbox: Sandbox, server: ServerHandle
) -> None:
    sandbox.set_faults(reset=1.0)
    async with make_client(sandbox, server.url, allow_insecure_http=True, max_retries=0) as client:
        with pytest.raises(QvicklyConnectionError) as caught:
            await client.get_invoices_by_customer("10001")
    message = str(caught.value)
    assert (
        "the connection failed after it was opened: Connection reset by peer" in message
        or "the server closed the connection without a complete response" in message
    ), message
    assert "[Errno" not in message
    assert caught.value.request_sent is True
