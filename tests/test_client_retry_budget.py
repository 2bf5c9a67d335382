"""A retry budget for the whole client: an outage cannot multiply the requests it sends."""

from __future__ import annotations

import asyncio

import pytest

from qvickly_async import AsyncQvickly, QvicklyServerError, RetryBudget
from qvickly_async.sandbox import Fault, FaultPlan, Sandbox
from qvickly_async.testing import no_backoff

pytestmark = pytest.mark.anyio


async def _lookups(client: AsyncQvickly, count: int) -> list[BaseException | object]:
    numbers = [str(10001 + index % 20) for index in range(count)]
    return await asyncio.gather(
        *(client.get_invoices_by_customer(number) for number in numbers), return_exceptions=True
    )


async def test_a_client_budget_bounds_upstream_calls_during_an_outage() -> None:
    sandbox = Sandbox(faults=FaultPlan(http_503=1.0))
    budget = RetryBudget(ratio=0.1, minimum=5)
    with no_backoff():
        async with AsyncQvickly.for_sandbox(sandbox, retry_budget=budget) as client:
            outcomes = await _lookups(client, 300)
    assert all(isinstance(outcome, QvicklyServerError) for outcome in outcomes)
    assert sandbox.counters.total() <= 300 + 0.1 * 300 + 5
    assert (budget.calls, budget.retries) == (300, 35)
    refused = [o for o in outcomes if "client's retry budget is spent" in str(o.__notes__)]  # type: ignore[union-attr]
    assert len(refused) >= 300 - 35


async def test_without_a_client_budget_every_call_retries() -> None:
    sandbox = Sandbox(faults=FaultPlan(http_503=1.0))
    with no_backoff():
        async with AsyncQvickly.for_sandbox(sandbox) as client:
            assert client.options.retry_budget is None
            await _lookups(client, 100)
    assert sandbox.counters.total() == 100 * 3  # max_retries=2


async def test_the_budget_refills_with_calls_and_recovers_after_the_outage() -> None:
    sandbox = Sandbox(faults=FaultPlan(http_503=Fault(first_attempts=1)))
    budget = RetryBudget(ratio=0.5, minimum=0)
    with no_backoff():
        async with AsyncQvickly.for_sandbox(sandbox, retry_budget=budget) as client:
            # Each customer fails once, then succeeds: half of them may be retried.
            outcomes = await _lookups(client, 20)
            failed = [o for o in outcomes if isinstance(o, BaseException)]
            assert 0 < len(failed) <= 20
            assert budget.retries <= 0.5 * budget.calls
            sandbox.set_faults(None)
            assert not any(isinstance(o, BaseException) for o in await _lookups(client, 20))


async def test_with_options_copies_share_the_budget_and_batches_need_room_in_both() -> None:
    sandbox = Sandbox(faults=FaultPlan(http_503=1.0))
    budget = RetryBudget(ratio=0.0, minimum=3)
    with no_backoff():
        async with AsyncQvickly.for_sandbox(sandbox, retry_budget=budget) as client:
            quick = client.with_options(deadline=5.0)
            assert quick.options.retry_budget is budget
            await _lookups(quick, 10)
            assert budget.retries == 3
            sandbox.counters.reset()
            # The batch's own budget has room, the client's has none: nothing is retried.
            results = await client.get_invoices_by_customers([str(n) for n in range(10001, 10011)])
    assert sandbox.counters.total() == 10
    assert all(not result.ok for result in results)
    notes = results[0].error.__notes__  # type: ignore[union-attr]
    assert any("client's retry budget is spent" in note for note in notes)


async def test_a_batch_budget_alone_still_says_it_is_the_batch() -> None:
    sandbox = Sandbox(faults=FaultPlan(http_503=1.0))
    with no_backoff():
        async with AsyncQvickly.for_sandbox(sandbox) as client:
            results = await client.get_invoices_by_customers(
                [str(n) for n in range(10001, 10011)], retry_budget=RetryBudget(minimum=0, ratio=0)
            )
    notes = results[0].error.__notes__  # type: ignore[union-attr]
    assert any("the batch's retry budget is spent" in note for note in notes)
    assert sandbox.counters.total() == 10
