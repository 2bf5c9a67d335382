"""Faults on a real loopback socket (the sandbox's own HTTP server).

* Thousands of lookups through ``get_invoices_by_customers`` with 10 % of attempts faulted
  (TCP resets, 502/503 pages, truncated bodies, wrong hashes, API 9008, 429 with Retry-After)
  and ``max_retries=5`` all come back correct, with at most 6 attempts per customer as the
  sandbox's counters see it.
* A state-changing ``addPayment`` is sent at most once under the same faults; it is retried
  only where the connection provably never opened.

The sandbox decides each attempt's fate with ``random.Random((seed, function, key, n))``, so
a run is reproducible from the plan's seed (in the test id). Backoff is off (the suite's
``no_backoff``), so the 429's Retry-After does not slow the run; ``test_deadlines.py`` checks
that it is honoured.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from typing import Any, Literal

import pytest

from qvickly_async import (
    QvicklyConnectionError,
    QvicklyError,
    QvicklyRateLimitError,
    QvicklyResponseError,
    QvicklyServerError,
    QvicklySignatureError,
    QvicklyTransientError,
    RetryDetails,
)
from qvickly_async._codec import structure_invoices
from qvickly_async.sandbox import FAULT_KINDS, Fault, FaultPlan, Sandbox

from .._support import make_client
from ._hostile import (
    PAYMENT,
    bound_unlistening_socket,
    register_add_payment,
    report,
    serve_on_socket,
)

pytestmark = [pytest.mark.anyio, pytest.mark.socket, pytest.mark.usefixtures("loop_guard")]

SEED = 20240607
FUNCTION = "getInvoicesByCustomer"
MAX_RETRIES = 5
Truncation = Literal["partial", "full"]


def ten_percent_plan(seed: int, truncated_length: Truncation) -> FaultPlan:
    """10 % of attempts faulted, spread over every kind that can hit a read."""
    return FaultPlan(
        seed=seed,
        reset=0.02,
        http_502=0.015,
        http_503=0.015,
        rate_limit=0.01,
        retry_after=1,
        api_9008=0.01,
        truncated=0.015,
        truncated_length=truncated_length,
        bad_hash=0.015,
    )


async def run_faulted_batch(
    lookups: int, seed: int, truncated_length: Truncation
) -> dict[str, Any]:
    sandbox = Sandbox(customers=lookups)
    numbers = [str(number) for number in sandbox.customer_numbers]
    expected = {
        number: tuple(structure_invoices(sandbox.expected_invoices(number))) for number in numbers
    }
    sandbox.set_faults(ten_percent_plan(seed, truncated_length))
    started = time.monotonic()
    async with (
        sandbox.serve() as server,
        make_client(sandbox, server.url, max_retries=MAX_RETRIES, deadline=60) as client,
    ):
        # retry_budget=None: the batch's default budget (10 + 20 % of the lookups) caps
        # retries across the batch so an outage does not multiply traffic; with 10 %
        # faults a seeded burst could drain it and turn a retryable failure into a failed
        # result. This test is about the per-call guarantee (max_retries), so no cap.
        results = await client.get_invoices_by_customers(numbers, retry_budget=None)
    elapsed = time.monotonic() - started

    assert [result.customer_number for result in results] == numbers
    wrong = [result.customer_number for result in results if not result.ok]
    assert not wrong, f"{len(wrong)} failed, e.g. {wrong[0]}: {results[int(wrong[0]) - 10000]}"
    for result in results:
        assert result.invoices == expected[result.customer_number], result.customer_number

    snapshot = sandbox.counters.snapshot()
    attempts: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for row in snapshot["calls"]:
        assert row["function"] == FUNCTION
        attempts[row["key"]] += row["count"]
        outcomes[row["outcome"]] += row["count"]
    assert set(attempts) == set(numbers)
    assert max(attempts.values()) <= MAX_RETRIES + 1
    assert outcomes["ok"] == lookups  # exactly one good answer per customer, none wasted
    faulted = snapshot["total"] - lookups
    for kind in ("reset", "http_502", "http_503", "rate_limit", "api_9008", "truncated"):
        assert outcomes[f"fault:{kind}"] > 0, kind
    assert outcomes["fault:bad_hash"] > 0
    stats = {
        "lookups": lookups,
        "requests": snapshot["total"],
        "faulted": faulted,
        "fault_rate": faulted / snapshot["total"],
        "attempts_max": max(attempts.values()),
        "attempts_mean": statistics.fmean(attempts.values()),
        "seconds": elapsed,
        "by_outcome": dict(outcomes),
    }
    report(f"\nfaulted batch: {stats}")
    assert 0.07 < stats["fault_rate"] < 0.13
    return stats


@pytest.mark.parametrize("truncated_length", ["full", "partial"])
@pytest.mark.parametrize("seed", [SEED], ids=lambda seed: f"seed={seed}")
async def test_faulted_batch_is_fully_correct(seed: int, truncated_length: Truncation) -> None:
    await run_faulted_batch(2000, seed, truncated_length)


@pytest.mark.soak
@pytest.mark.parametrize("seed", [SEED + 1, SEED + 2], ids=lambda seed: f"seed={seed}")
async def test_faulted_batch_is_fully_correct_soak(seed: int) -> None:
    await run_faulted_batch(20_000, seed, "full")


# -- state-changing calls --------------------------------------------------------------------

_EXPECTED_ERROR: dict[str, type[QvicklyError]] = {
    "reset": QvicklyConnectionError,
    "http_502": QvicklyServerError,
    "http_503": QvicklyServerError,
    "rate_limit": QvicklyRateLimitError,
    "api_9008": QvicklyTransientError,
    "truncated": QvicklyResponseError,  # partial: not JSON; full: see below
    "bad_hash": QvicklySignatureError,
}


@pytest.mark.parametrize("truncated_length", ["partial", "full"])
async def test_add_payment_is_sent_at_most_once_under_every_fault(
    truncated_length: Truncation,
) -> None:
    sandbox = Sandbox()
    received = register_add_payment(sandbox)
    async with (
        sandbox.serve() as server,
        make_client(sandbox, server.url, max_retries=MAX_RETRIES) as client,
    ):
        for kind in FAULT_KINDS:
            if kind == "slow_drip":
                continue  # a slow answer is still one answer (test_deadlines.py checks its time)
            fault = Fault(probability=1.0, functions="addPayment")
            plan = FaultPlan.from_json({kind: fault, "truncated_length": truncated_length})
            sandbox.set_faults(plan)
            sandbox.reset()
            expected: tuple[type[QvicklyError], ...] = (_EXPECTED_ERROR[kind],)
            if kind == "truncated" and truncated_length == "full":
                expected = (QvicklyConnectionError,)  # closed mid-body
            with pytest.raises(expected) as caught:
                await client.call("addPayment", PAYMENT)
            assert sandbox.counters.calls("addPayment") == 1, kind
            if isinstance(caught.value, QvicklyConnectionError):
                assert caught.value.request_sent is True
    # The sandbox ran the handler for the faults decided after it (9008 answers early).
    assert len(received) == 2


async def test_add_payment_at_most_once_at_ten_percent_faults() -> None:
    sandbox = Sandbox()
    received = register_add_payment(sandbox)
    sandbox.set_faults(ten_percent_plan(SEED, "full"))
    calls = 300
    failures: Counter[str] = Counter()
    retries: list[RetryDetails] = []
    async with (
        sandbox.serve() as server,
        make_client(
            sandbox, server.url, max_retries=MAX_RETRIES, on_retry=retries.append
        ) as client,
    ):
        for index in range(calls):
            before = sandbox.counters.calls("addPayment")
            data = {**PAYMENT, "PaymentInfo": {"orderid": f"order-{index}"}}
            try:
                answer = await client.call("addPayment", data)
                assert answer["orderid"] == f"order-{index}"
            except QvicklyError as error:
                failures[type(error).__name__] += 1
            assert sandbox.counters.calls("addPayment") - before == 1, index
    assert not retries
    assert sum(failures.values()) > 10  # the faults did strike
    assert len(received) == len(set(received))  # no order reached the handler twice
    report(f"\naddPayment x{calls} at 10 % faults: failures {dict(failures)}")


async def test_add_payment_is_retried_only_while_the_connection_never_opened() -> None:
    """Refused connections are retried; once the port listens the payment arrives once."""
    sandbox = Sandbox()
    received = register_add_payment(sandbox)
    placeholder = bound_unlistening_socket()
    port = placeholder.getsockname()[1]
    retries: list[RetryDetails] = []
    servers: list[asyncio.Server] = []
    opened = asyncio.Event()

    def on_retry(details: RetryDetails) -> None:
        retries.append(details)
        assert isinstance(details.error, QvicklyConnectionError)
        assert details.error.request_sent is False
        if len(retries) == 2:
            placeholder.listen()  # from now on the kernel accepts; the server starts below
            opened.set()

    async def start_server() -> None:
        await opened.wait()
        servers.append(await serve_on_socket(sandbox, placeholder))

    starter = asyncio.create_task(start_server())
    try:
        async with make_client(
            sandbox, f"http://127.0.0.1:{port}/", max_retries=MAX_RETRIES, on_retry=on_retry
        ) as client:
            answer = await client.call("addPayment", PAYMENT)
    finally:
        await starter
        for server in servers:
            server.close()
            await server.wait_closed()
        placeholder.close()
    assert answer["status"] == "Created"
    assert len(retries) == 2  # two refused attempts, retried; the third was sent
    assert sandbox.counters.calls("addPayment") == 1
    assert len(received) == 1


async def test_add_payment_to_a_closed_port_uses_every_retry() -> None:
    sandbox = Sandbox()
    placeholder = bound_unlistening_socket()
    port = placeholder.getsockname()[1]
    retries: list[RetryDetails] = []
    try:
        async with make_client(
            sandbox, f"http://127.0.0.1:{port}/", max_retries=3, on_retry=retries.append
        ) as client:
            with pytest.raises(QvicklyConnectionError) as caught:
                await client.call("addPayment", PAYMENT)
    finally:
        placeholder.close()
    assert caught.value.request_sent is False
    assert [details.attempt for details in retries] == [1, 2, 3]
    assert "gave up after 4 attempts" in "".join(caught.value.__notes__)
