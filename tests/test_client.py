from __future__ import annotations

import asyncio
import gc
import hmac
import json
import logging
from typing import Any

import httpx
import pytest

from qvickly_async import (
    AsyncQvickly,
    QvicklyAuthenticationError,
    QvicklyConnectionError,
    QvicklyDeadlineExceededError,
    QvicklyDecodeError,
    QvicklyInputError,
    QvicklyNotFoundError,
    QvicklyRateLimitError,
    QvicklyServerError,
    QvicklySignatureError,
    QvicklyTransientError,
    RetryDetails,
)
from qvickly_async._retry import RETRY_AFTER_CAP, backoff_seconds, set_testing
from qvickly_async._signing import php_json_encode, sign

from ._fake import MERCHANT, SECRET, FakeQvickly, bare_error, fake_client, ok, respond

pytestmark = pytest.mark.anyio


async def test_request_is_signed_over_the_exact_bytes_sent() -> None:
    fake = FakeQvickly(ok([]))
    async with fake_client(fake, test_mode=True, language="en") as client:
        assert await client.get_invoices_by_customer("10001/å") == []
    request = fake.raw_requests[0]
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert int(request.headers["content-length"]) == len(request.content)
    body = request.content
    start = body.index(b',"data":') + len(b',"data":')
    end = body.index(b',"function":')
    raw = body[start:end]
    assert raw == b'{"customerno":"10001\\/\\u00e5"}'
    envelope = fake.requests[0]
    credentials = envelope["credentials"]
    assert hmac.compare_digest(credentials["hash"], sign(SECRET.encode(), raw))
    # What a PHP server recomputes from the decoded body is the same text.
    assert php_json_encode(envelope["data"]).encode() == raw
    assert envelope["function"] == "getInvoicesByCustomer"
    assert credentials["id"] == MERCHANT
    assert credentials["test"] == "true"
    assert credentials["language"] == "en"
    assert credentials["version"] == "2.5.0"
    assert isinstance(credentials["time"], float)
    assert SECRET not in body.decode()


@pytest.mark.parametrize(
    "bad", [10001, None, "", "   ", " 10001", "10001\n", "x" * 256, "10001€", b"10001"]
)
async def test_bad_customer_numbers_are_refused_before_sending(bad: Any) -> None:
    fake = FakeQvickly(ok([]))
    async with fake_client(fake) as client:
        with pytest.raises(QvicklyInputError):
            await client.get_invoices_by_customer(bad)
    assert fake.count == 0


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"merchant_id": "1", "secret": ""}, "secret"),
        ({"merchant_id": " ", "secret": "x"}, "merchant_id"),
        ({"merchant_id": "1", "secret": "x", "base_url": "http://api.qvickly.io/"}, "plain http"),
        ({"merchant_id": "1", "secret": "x", "deadline": 0}, "deadline"),
        ({"merchant_id": "1", "secret": "x", "max_retries": -1}, "max_retries"),
        ({"merchant_id": "1", "secret": "x", "language": "svenska"}, "language"),
    ],
    ids=["blank-secret", "blank-merchant", "plain-http", "deadline", "max-retries", "language"],
)
def test_bad_configuration_is_refused(settings: dict[str, Any], match: str) -> None:
    with pytest.raises(QvicklyInputError, match=match):
        AsyncQvickly(**settings)


@pytest.mark.parametrize(
    ("base_url", "opt_in"),
    [
        ("http://127.0.0.1:8080/", False),
        ("http://[::1]:8080/", False),
        ("http://q.example/", True),
    ],
    ids=["ipv4-loopback", "ipv6-loopback", "explicit-opt-in"],
)
def test_plain_http_to_loopback_or_with_opt_in_is_accepted(base_url: str, opt_in: bool) -> None:
    client = AsyncQvickly(
        merchant_id="1", secret="x", base_url=base_url, allow_insecure_http=opt_in
    )
    assert client.options.base_url == base_url


def test_secret_never_in_repr() -> None:
    client = AsyncQvickly(merchant_id=12345, secret="hunter2-very-secret")
    for text in (repr(client), str(client), repr(client.options), repr(client.options.secret)):
        assert "hunter2" not in text
    assert client.options.merchant_id == "12345"


@pytest.mark.parametrize(
    ("reply", "error", "attempts"),
    [
        (bare_error(9013, "Authentication failed"), QvicklyAuthenticationError, 1),
        (bare_error(5201, "Invoice does not exist"), QvicklyNotFoundError, 1),
        (bare_error(9008, "Internal server error. Please try again!"), QvicklyTransientError, 3),
        (respond(502, b"<html>Bad Gateway</html>"), QvicklyServerError, 3),
        (respond(429, b"slow down", **{"retry-after": "1"}), QvicklyRateLimitError, 3),
        (respond(200, b"<html>oops</html>"), QvicklyDecodeError, 3),
        (ok([], secret="wrong"), QvicklySignatureError, 3),
        (httpx.ReadError("reset"), QvicklyConnectionError, 3),
        (httpx.ConnectError("refused"), QvicklyConnectionError, 3),
    ],
)
async def test_reads_retry_only_what_is_safe(
    reply: Any, error: type[Exception], attempts: int
) -> None:
    fake = FakeQvickly(reply)
    async with fake_client(fake) as client:
        with pytest.raises(error) as info:
            await client.get_invoices_by_customer("10001")
    assert fake.count == attempts
    if attempts > 1:
        assert any(f"after {attempts} attempts" in note for note in info.value.__notes__)


@pytest.mark.parametrize(
    ("reply", "attempts", "sent"),
    [
        (bare_error(9008), 1, None),
        (respond(503, b"down"), 1, None),
        (ok({}, secret="wrong"), 1, None),
        (httpx.ReadError("reset"), 1, True),
        (httpx.ReadTimeout("slow"), 1, True),
        (httpx.RemoteProtocolError("closed"), 1, True),
        (httpx.ConnectError("refused"), 3, False),
        (httpx.ConnectTimeout("no route"), 3, False),
        (httpx.PoolTimeout("pool"), 3, False),
    ],
)
async def test_writes_are_sent_at_most_once_unless_never_sent(
    reply: Any, attempts: int, sent: bool | None
) -> None:
    fake = FakeQvickly(reply)
    async with fake_client(fake) as client:
        with pytest.raises(Exception) as info:
            await client.call("addPayment", {"PaymentData": {"method": "1"}})
    assert fake.count == attempts
    if sent is not None:
        assert getattr(info.value, "request_sent") is sent


async def test_retry_then_success_and_on_retry_hook() -> None:
    seen: list[RetryDetails] = []
    fake = FakeQvickly(respond(503, b"busy"), bare_error(9008), ok([]))
    async with fake_client(fake, on_retry=seen.append) as client:
        assert await client.get_invoices_by_customer("10001") == []
    assert fake.count == 3
    assert [d.attempt for d in seen] == [1, 2]
    assert isinstance(seen[0].error, QvicklyServerError)
    assert isinstance(seen[1].error, QvicklyTransientError)
    assert all(d.function == "getInvoicesByCustomer" for d in seen)


async def test_max_retries_zero() -> None:
    fake = FakeQvickly(respond(503, b"busy"))
    async with fake_client(fake, max_retries=0) as client:
        with pytest.raises(QvicklyServerError):
            await client.get_invoices_by_customer("10001")
    assert fake.count == 1


def test_backoff_honours_retry_after_up_to_a_cap() -> None:
    set_testing(False)
    try:
        for attempt in range(1, 8):
            wait = backoff_seconds(attempt, None)
            assert 0 < wait <= 8.0
        assert backoff_seconds(1, QvicklyRateLimitError("x", retry_after=30)) >= 30
        assert backoff_seconds(1, QvicklyRateLimitError("x", retry_after=600)) == RETRY_AFTER_CAP
    finally:
        set_testing(True)


async def test_retry_after_longer_than_the_deadline_gives_up_at_once() -> None:
    set_testing(False)
    try:
        fake = FakeQvickly(respond(429, b"", **{"retry-after": "30"}))
        async with fake_client(fake, deadline=2.0) as client:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(QvicklyRateLimitError) as info:
                await client.get_invoices_by_customer("10001")
            assert loop.time() - started < 1.0
        assert fake.count == 1
        assert info.value.retry_after == 30
    finally:
        set_testing(True)


async def test_deadline_bounds_a_hanging_server() -> None:
    calls = 0

    async def hang(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    async with AsyncQvickly(
        merchant_id=MERCHANT, secret=SECRET, transport=httpx.MockTransport(hang), deadline=0.2
    ) as client:
        with pytest.raises(QvicklyDeadlineExceededError) as info:
            await client.get_invoices_by_customer("10001")
    assert calls == 1
    assert info.value.request_sent is True


async def test_cancellation_propagates_and_is_not_retried() -> None:
    calls = 0
    started = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        started.set()
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    async with AsyncQvickly(
        merchant_id=MERCHANT, secret=SECRET, transport=httpx.MockTransport(hang)
    ) as client:
        task = asyncio.create_task(client.get_invoices_by_customer("10001"))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert calls == 1


async def test_borrowed_http_client_is_left_open() -> None:
    fake = FakeQvickly(ok([]))
    async with httpx.AsyncClient(transport=fake.transport()) as http:
        async with AsyncQvickly(merchant_id=MERCHANT, secret=SECRET, http_client=http) as client:
            await client.get_invoices_by_customer("10001")
        assert not http.is_closed
        async with AsyncQvickly(merchant_id=MERCHANT, secret=SECRET, http_client=http) as client:
            await client.get_invoices_by_customer("10002")
    assert fake.count == 2


async def test_with_options_shares_the_pool_and_keeps_the_original_usable() -> None:
    fake = FakeQvickly(respond(503, b"busy"))
    async with fake_client(fake) as client:
        quick = client.with_options(max_retries=0)
        assert quick.options.max_retries == 0 and client.options.max_retries == 2
        with pytest.raises(QvicklyServerError):
            await quick.get_invoices_by_customer("1")
        await quick.aclose()  # does not close the shared pool
        with pytest.raises(QvicklyServerError):
            await client.get_invoices_by_customer("1")
        with pytest.raises(QvicklyInputError):
            client.with_options(base_url="https://other/")  # type: ignore[call-arg]
    assert fake.count == 1 + 3


async def test_unclosed_client_warns_without_io() -> None:
    fake = FakeQvickly(ok([]))
    client = fake_client(fake)
    await client.get_invoices_by_customer("1")
    with pytest.warns(ResourceWarning, match="not closed"):
        del client
        gc.collect()


async def test_closed_client_refuses_calls() -> None:
    client = fake_client(FakeQvickly(ok([])))
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.get_invoices_by_customer("1")


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QVICKLY_MERCHANT_ID", raising=False)
    monkeypatch.delenv("QVICKLY_SECRET", raising=False)
    with pytest.raises(QvicklyInputError, match="QVICKLY_MERCHANT_ID"):
        AsyncQvickly.from_env()
    monkeypatch.setenv("QVICKLY_MERCHANT_ID", "777")
    monkeypatch.setenv("QVICKLY_SECRET", "env-secret")
    monkeypatch.setenv("QVICKLY_TEST_MODE", "yes")
    monkeypatch.setenv("QVICKLY_BASE_URL", "http://127.0.0.1:9/")
    client = AsyncQvickly.from_env(max_retries=5)
    assert client.options.merchant_id == "777"
    assert client.options.test_mode is True
    assert client.options.base_url == "http://127.0.0.1:9/"
    assert client.options.max_retries == 5
    assert client.options.secret.reveal() == b"env-secret"


async def test_call_returns_verified_data_and_text_for_get_terms() -> None:
    fake = FakeQvickly(ok({"result": "25"}), respond(200, "<html>Villkor för köp</html>".encode()))
    async with fake_client(fake) as client:
        assert await client.call("getVatrate", {"country": "SE"}) == {"result": "25"}
        assert await client.call("getTerms", {"PaymentData": {"method": "1"}}) == (
            "<html>Villkor för köp</html>"
        )
        with pytest.raises(QvicklyInputError):
            await client.call("get terms; drop", {})


async def test_empty_data_gets_a_dummy_and_ping_uses_get_accountinfo() -> None:
    fake = FakeQvickly(ok({"name": "Shop"}), bare_error(9011, "Invalid credentials"))
    async with fake_client(fake) as client:
        await client.ping()
        with pytest.raises(QvicklyAuthenticationError):
            await client.ping()
    assert fake.requests[0]["function"] == "getAccountinfo"
    assert list(fake.requests[0]["data"]) == ["dummyData"]
    assert fake.count == 2


async def test_logs_mask_personal_data_and_never_show_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows = [{"name": "Åsa Öberg", "pno": "195501011018", "email": "asa@example.com"}]
    fake = FakeQvickly(respond(503, b"busy"), ok(rows))
    caplog.set_level(logging.DEBUG, logger="qvickly_async")
    async with fake_client(fake) as client:
        await client.call("getInvoicesByPno", {"pno": "195501011018", "status": "Sent"})
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "getInvoicesByPno" in text
    assert "retrying" in text
    for secret_or_personal in (SECRET, "195501011018", "asa@example.com", "Åsa", "Öberg"):
        assert secret_or_personal not in text
    assert all(record.name.startswith("qvickly_async") for record in caplog.records)


# --- batch ---------------------------------------------------------------------------------


def by_customer(envelope: dict[str, Any]) -> httpx.Response:
    number = envelope["data"]["customerno"]
    if number.startswith("bad"):
        return httpx.Response(200, content=json.dumps({"code": "9013", "message": "x"}).encode())
    return ok([])(envelope)


async def test_batch_one_result_per_distinct_customer_in_order() -> None:
    fake = FakeQvickly(by_customer)
    numbers = ["3", "1", "bad-2", "3", "1", "4"]
    progress: list[Any] = []
    async with fake_client(fake) as client:
        results = await client.get_invoices_by_customers(
            numbers, concurrency=2, on_progress=progress.append
        )
    assert [r.customer_number for r in results] == ["3", "1", "bad-2", "4"]
    assert [r.ok for r in results] == [True, True, False, True]
    assert isinstance(results[2].error, QvicklyAuthenticationError)
    with pytest.raises(QvicklyAuthenticationError):
        results[2].unwrap()
    assert results[0].unwrap() == ()
    assert fake.count == 4
    assert progress[-1].done == 4 and progress[-1].failed == 1 and progress[-1].total == 4


async def test_batch_refuses_bad_input_before_sending() -> None:
    fake = FakeQvickly(by_customer)
    async with fake_client(fake) as client:
        with pytest.raises(QvicklyInputError, match="nothing was sent"):
            await client.get_invoices_by_customers(["1", "", "2"])
        with pytest.raises(QvicklyInputError):
            await client.get_invoices_by_customers(["1"], concurrency=0)
    assert fake.count == 0


async def test_batch_fail_fast_raises_first_error() -> None:
    fake = FakeQvickly(by_customer)
    async with fake_client(fake) as client:
        with pytest.raises(QvicklyAuthenticationError):
            await client.get_invoices_by_customers(
                ["bad"] + [str(n) for n in range(50)], concurrency=1, fail_fast=True
            )
    assert fake.count < 51


async def test_batch_concurrency_is_bounded() -> None:
    in_flight = 0
    peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return ok([])(json.loads(request.content))

    async with AsyncQvickly(
        merchant_id=MERCHANT, secret=SECRET, transport=httpx.MockTransport(slow)
    ) as client:
        results = await client.get_invoices_by_customers(
            [str(n) for n in range(100)], concurrency=7
        )
    assert len(results) == 100
    assert peak == 7


async def test_batch_retry_budget_caps_traffic_in_an_outage() -> None:
    fake = FakeQvickly(respond(503, b"down"))
    async with fake_client(fake) as client:
        results = await client.get_invoices_by_customers([str(n) for n in range(100)])
    assert not any(r.ok for r in results)
    # 100 first attempts plus at most 10 + 20 % retries, instead of 300 requests
    assert 100 < fake.count <= 100 + 10 + 20 + 1
    notes = [note for r in results if r.error is not None for note in r.error.__notes__]
    assert any("retry budget is spent" in note for note in notes)


async def test_stream_cancellation_stops_new_sends() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)
        return ok([])(json.loads(request.content))

    sent = 0

    def numbers() -> Any:
        nonlocal sent
        for n in range(10_000):
            sent += 1
            yield str(n)

    async with AsyncQvickly(
        merchant_id=MERCHANT, secret=SECRET, transport=httpx.MockTransport(slow)
    ) as client:
        async with client.iter_invoices_by_customers(numbers(), concurrency=4) as stream:
            received = 0
            async for _ in stream:
                received += 1
                if received == 10:
                    break
        pulled = sent
        await asyncio.sleep(0.05)
        assert sent == pulled  # nothing more taken after the block ended
        assert sent <= 10 + 4 + 8 + 4


async def test_deadline_during_a_retry_says_what_the_attempts_before_got() -> None:
    calls = 0

    async def busy_then_hang(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(503, content=b"busy")
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    async with AsyncQvickly(
        merchant_id=MERCHANT,
        secret=SECRET,
        transport=httpx.MockTransport(busy_then_hang),
        deadline=0.3,
    ) as client:
        with pytest.raises(QvicklyDeadlineExceededError) as info:
            await client.get_invoices_by_customer("10001")
    assert calls == 2
    assert any("gave up after 2 attempts" in note for note in info.value.__notes__)
    assert any("failed with QvicklyServerError" in note for note in info.value.__notes__)
