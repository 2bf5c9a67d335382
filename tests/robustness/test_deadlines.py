"""Every call ends within its deadline plus 50 ms, whatever the server does.

Measured with ``time.monotonic()`` around each call. This is a correctness guarantee (a
bound), not a speed target: the deadlines are short (0.5-1 s) so the suite stays fast, and the
allowed overshoot (50 ms) covers the cancellation of an attempt and the event loop's
scheduling. Backoff is real here (``set_testing(False)``) wherever sleeping is the point.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from qvickly_async import (
    AsyncQvickly,
    QvicklyDeadlineExceededError,
    QvicklyError,
    QvicklyRateLimitError,
    QvicklyServerError,
)
from qvickly_async.sandbox import Fault, FaultPlan, Sandbox
from qvickly_async.testing import set_testing

from .._support import make_client
from ._hostile import PAYMENT, register_add_payment, report

pytestmark = [pytest.mark.anyio, pytest.mark.socket, pytest.mark.usefixtures("loop_guard")]

SLACK = 0.050
OVERSHOOTS: list[float] = []


@pytest.fixture
def real_backoff() -> Iterator[None]:
    set_testing(False)
    try:
        yield
    finally:
        set_testing(True)


async def timed(
    call: Callable[[], Awaitable[Any]], deadline: float
) -> tuple[float, BaseException | None]:
    """Run ``call``; assert it ended within ``deadline + SLACK``; return (seconds, error)."""
    started = time.monotonic()
    error: BaseException | None = None
    try:
        await call()
    except QvicklyError as caught:
        error = caught
    elapsed = time.monotonic() - started
    OVERSHOOTS.append(elapsed - deadline)
    assert elapsed <= deadline + SLACK, f"took {elapsed:.3f} s for a {deadline} s deadline"
    return elapsed, error


def lookup(client: AsyncQvickly, number: str) -> Callable[[], Awaitable[Any]]:
    """A call of ``get_invoices_by_customer(number)`` for :func:`timed`."""
    return lambda: client.get_invoices_by_customer(number)


@pytest.fixture(scope="module", autouse=True)
def _report_overshoot() -> Iterator[None]:
    yield
    if OVERSHOOTS:
        report(f"\ndeadline overshoot: max {max(OVERSHOOTS) * 1000:+.1f} ms over {len(OVERSHOOTS)}")


@pytest.mark.parametrize("deadline", [0.5, 1.0])
async def test_slow_drip_one_byte_per_second(deadline: float) -> None:
    sandbox = Sandbox()
    sandbox.set_faults(slow_drip=1.0, drip_bytes=1, drip_interval=1.0)
    async with (
        sandbox.serve() as server,
        make_client(sandbox, server.url, deadline=deadline, max_retries=5) as client,
    ):
        elapsed, error = await timed(lambda: client.get_invoices_by_customer("10001"), deadline)
        # The same on a state-changing call (never retried; the bound is the same).
        register_add_payment(sandbox)
        await timed(lambda: client.call("addPayment", PAYMENT), deadline)
    assert isinstance(error, QvicklyDeadlineExceededError)
    assert elapsed >= deadline - SLACK  # it really waited for the drip, up to the deadline


async def test_many_concurrent_calls_against_a_drip() -> None:
    sandbox = Sandbox()
    sandbox.set_faults(slow_drip=1.0, drip_bytes=1, drip_interval=1.0)
    deadline = 0.5
    async with (
        sandbox.serve() as server,
        make_client(sandbox, server.url, deadline=deadline, max_retries=3) as client,
    ):
        outcomes = await asyncio.gather(
            *(timed(lookup(client, number), deadline) for number in map(str, range(10000, 10040)))
        )
    assert all(isinstance(error, QvicklyDeadlineExceededError) for _, error in outcomes)


@pytest.mark.usefixtures("real_backoff")
async def test_retry_after_longer_than_the_time_left() -> None:
    sandbox = Sandbox()
    sandbox.set_faults(rate_limit=1.0, retry_after=30)
    deadline = 1.0
    async with (
        sandbox.serve() as server,
        make_client(sandbox, server.url, deadline=deadline, max_retries=5) as client,
    ):
        elapsed, error = await timed(lambda: client.get_invoices_by_customer("10001"), deadline)
    # The server's 429 is what the caller gets (not a sleep past the deadline).
    assert isinstance(error, QvicklyRateLimitError)
    assert error.retry_after == 30
    assert sandbox.counters.calls() == 1
    assert elapsed < deadline


@pytest.mark.usefixtures("real_backoff")
async def test_backoff_sleeps_stop_at_the_deadline() -> None:
    sandbox = Sandbox()
    sandbox.set_faults(http_503=1.0, latency=0.05)
    deadline = 1.0
    async with (
        sandbox.serve() as server,
        make_client(sandbox, server.url, deadline=deadline, max_retries=10) as client,
    ):
        _, error = await timed(lambda: client.get_invoices_by_customer("10001"), deadline)
    # Either no further attempt fitted (the last 503 is raised), or the deadline cut the last
    # attempt short; then the note says what the attempts before it got.
    if isinstance(error, QvicklyDeadlineExceededError):
        assert any("QvicklyServerError" in note for note in error.__notes__), error.__notes__
    else:
        assert isinstance(error, QvicklyServerError)
    assert 2 <= sandbox.counters.calls() <= 4  # 0.5 s jittered backoff, doubling


async def test_latency_beyond_the_deadline_on_every_attempt() -> None:
    sandbox = Sandbox()
    sandbox.set_faults(latency=5.0)
    deadline = 0.5
    async with (
        sandbox.serve() as server,
        make_client(sandbox, server.url, deadline=deadline, max_retries=5) as client,
    ):
        _, error = await timed(lambda: client.get_invoices_by_customer("10001"), deadline)
    assert isinstance(error, QvicklyDeadlineExceededError)


async def test_waiting_for_a_pooled_connection_counts() -> None:
    """One connection, held by a dripping answer: the second call's pool wait is bounded."""
    sandbox = Sandbox()
    sandbox.set_faults(slow_drip=1.0, drip_bytes=1, drip_interval=1.0)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    deadline = 0.6
    async with (
        sandbox.serve() as server,
        make_client(sandbox, server.url, deadline=deadline, max_retries=2, limits=limits) as client,
    ):
        outcomes = await asyncio.gather(
            timed(lambda: client.get_invoices_by_customer("10001"), deadline),
            timed(lambda: client.get_invoices_by_customer("10002"), deadline),
        )
    assert all(isinstance(error, QvicklyDeadlineExceededError) for _, error in outcomes)


@pytest.mark.usefixtures("real_backoff")
async def test_mixed_faults_every_call_within_its_deadline() -> None:
    """A seeded mix of slow and failing answers: the bound holds call by call."""
    sandbox = Sandbox()
    sandbox.set_faults(
        FaultPlan(
            seed=4,
            slow_drip=Fault(probability=0.3),
            drip_bytes=16,
            drip_interval=0.2,
            http_503=0.2,
            rate_limit=0.2,
            retry_after=2,
            reset=0.1,
            latency=0.01,
            jitter=0.3,
        )
    )
    deadline = 0.8
    async with (
        sandbox.serve() as server,
        make_client(sandbox, server.url, deadline=deadline, max_retries=5) as client,
    ):
        outcomes = await asyncio.gather(
            *(timed(lookup(client, number), deadline) for number in map(str, range(10000, 10060)))
        )
    assert any(error is None for _, error in outcomes)
    assert any(isinstance(error, QvicklyDeadlineExceededError) for _, error in outcomes)


async def test_deadline_with_an_injected_http_client() -> None:
    """The deadline does not rely on the SDK's own transport: a borrowed client obeys it."""
    sandbox = Sandbox()
    sandbox.set_faults(slow_drip=1.0, drip_bytes=1, drip_interval=1.0)
    deadline = 0.5
    async with sandbox.serve() as server, httpx.AsyncClient() as http_client:
        client = make_client(sandbox, server.url, http_client=http_client, deadline=deadline)
        async with client:
            _, error = await timed(lambda: client.get_invoices_by_customer("10001"), deadline)
    assert isinstance(error, QvicklyDeadlineExceededError)
