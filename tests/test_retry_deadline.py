"""The per-attempt deadline primitive (``run_within``): ``asyncio.timeout``'s semantics exactly."""

from __future__ import annotations

import asyncio

import pytest

from qvickly_async._retry import RetryPolicy, run_within
from qvickly_async.exceptions import QvicklyDeadlineExceededError

pytestmark = pytest.mark.anyio


async def _value_after(seconds: float, value: str = "done") -> str:
    await asyncio.sleep(seconds)
    return value


async def test_a_result_in_time_is_returned_and_leaves_no_timer_behind() -> None:
    loop = asyncio.get_running_loop()
    before = len(getattr(loop, "_scheduled", []))
    assert await run_within(5.0, _value_after(0)) == "done"
    scheduled = getattr(loop, "_scheduled", [])
    assert all(handle.cancelled() for handle in scheduled[before:])
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_time_up_raises_timeout_error_and_uncancels_the_task() -> None:
    with pytest.raises(TimeoutError):
        await run_within(0.01, _value_after(5))
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0)  # the task is not left cancelled: this would raise


async def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    async def waiter() -> str:
        return await run_within(5.0, _value_after(5))

    task = asyncio.ensure_future(waiter())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_outer_timeout_that_fires_first_is_the_outer_ones() -> None:
    # The outer asyncio.timeout must see its own cancellation, not a TimeoutError of ours.
    outer = asyncio.timeout(0.01)
    with pytest.raises(TimeoutError):
        async with outer:
            await run_within(5.0, _value_after(5))
    assert outer.expired()


async def test_an_attempt_that_swallows_the_cancel_returns_and_the_task_is_clean() -> None:
    async def stubborn() -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return "kept going"
        return "slept"

    assert await run_within(0.01, stubborn()) == "kept going"
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0)


async def test_the_policy_reports_a_cut_attempt_as_maybe_sent() -> None:
    async def slow(number: int) -> str:
        return await _value_after(5)

    with pytest.raises(QvicklyDeadlineExceededError) as caught:
        await RetryPolicy(deadline=0.02).run(slow, function="getX")
    assert caught.value.request_sent is True
