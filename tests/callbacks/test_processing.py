"""CallbackProcessor: each payment event handled once, one number at a time, right answers."""

from __future__ import annotations

import asyncio
import logging

import pytest

from qvickly_async import QvicklyInputError
from qvickly_async.callbacks import (
    Callback,
    CallbackProcessor,
    CallbackStore,
    InMemoryCallbackStore,
    PaymentLocks,
)
from qvickly_async.sandbox import callback_body, callback_data

pytestmark = pytest.mark.anyio

SECRET = "processor-secret"


def body(number: str | int, status: str = "paid", **extra: str) -> bytes:
    return callback_body(callback_data(number, status, **extra), secret=SECRET)


async def test_an_event_is_handled_once_and_repeats_answer_200() -> None:
    handled: list[Callback] = []

    async def handler(callback: Callback) -> None:
        handled.append(callback)

    processor = CallbackProcessor(handler, secret=SECRET)
    first = await processor.process(body(1))
    again = await processor.process(body(1))
    other_event = await processor.process(body(1, "cancelled"))
    assert (first.status_code, first.duplicate, first.ok) == (200, False, True)
    assert (again.status_code, again.duplicate) == (200, True)
    assert other_event.status_code == 200 and not other_event.duplicate
    assert [(c.number, str(c.status)) for c in handled] == [("1", "paid"), ("1", "cancelled")]


async def test_a_failing_handler_answers_503_until_it_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def handler(callback: Callback) -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RuntimeError("database down for ada@example.se")

    processor = CallbackProcessor(handler, secret=SECRET)
    with caplog.at_level(logging.ERROR, logger="qvickly_async.callbacks"):
        outcomes = [await processor.process(body(2)) for _ in range(4)]
    assert [outcome.status_code for outcome in outcomes] == [503, 503, 200, 200]
    assert isinstance(outcomes[0].error, RuntimeError)
    assert outcomes[3].duplicate and calls == 3
    assert "ada@example.se" not in caplog.text  # personal data scrubbed from the log
    assert "payment 2" in caplog.text


async def test_one_number_at_a_time_but_numbers_in_parallel() -> None:
    running: dict[str, int] = {}
    most: dict[str, int] = {}
    both_numbers_inside = asyncio.Event()
    handled: list[str] = []

    async def handler(callback: Callback) -> None:
        running[callback.number] = running.get(callback.number, 0) + 1
        most[callback.number] = max(most.get(callback.number, 0), running[callback.number])
        if len([n for n, count in running.items() if count]) == 2:
            both_numbers_inside.set()
        await asyncio.wait_for(both_numbers_inside.wait(), 5)
        handled.append(callback.number)
        running[callback.number] -= 1

    locks = PaymentLocks()
    processor = CallbackProcessor(handler, secret=SECRET, locks=locks)
    outcomes = await asyncio.gather(*(processor.process(body(n)) for n in (3, 3, 3, 4, 4)))
    assert [outcome.status_code for outcome in outcomes] == [200] * 5
    assert sorted(handled) == ["3", "4"]  # the copies waited, then found the event handled
    assert most == {"3": 1, "4": 1}
    assert sum(outcome.duplicate for outcome in outcomes) == 3
    assert len(locks) == 0  # no lock left behind


@pytest.mark.parametrize(
    ("payload", "status", "reason"),
    [
        (callback_body(callback_data(5, "paid"), secret="wrong"), 403, "signature"),
        (b'{"credentials":{},"data":{"number":"5","status":"paid"}}', 403, "signature"),
        (b"{nonsense", 400, "malformed"),
        (b"", 400, "malformed"),
        (b"x" * 2000, 413, "too large"),
    ],
)
async def test_refused_bodies_never_reach_the_handler(
    payload: bytes, status: int, reason: str
) -> None:
    async def handler(callback: Callback) -> None:
        raise AssertionError("must not run")

    processor = CallbackProcessor(handler, secret=SECRET, max_body_bytes=1000)
    outcome = await processor.process(payload)
    assert outcome.status_code == status
    assert reason in outcome.reason
    assert outcome.callback is None


class BrokenStore:
    async def is_handled(self, key: str) -> bool:
        raise ConnectionError("redis is down")

    async def mark_handled(self, key: str) -> None:
        raise AssertionError("unreachable")


async def test_a_failing_store_or_a_slow_handler_answers_503() -> None:
    async def handler(callback: Callback) -> None:
        await asyncio.sleep(10)

    assert isinstance(BrokenStore(), CallbackStore)
    broken = CallbackProcessor(handler, secret=SECRET, store=BrokenStore())
    outcome = await broken.process(body(6))
    assert outcome.status_code == 503 and isinstance(outcome.error, ConnectionError)
    slow = CallbackProcessor(handler, secret=SECRET, handler_timeout=0.05)
    outcome = await slow.process(body(6))
    assert (outcome.status_code, outcome.reason) == (503, "handler timed out")
    assert not await slow.store.is_handled("6:paid")


async def test_cancellation_propagates_and_leaves_the_event_unhandled() -> None:
    started = asyncio.Event()

    async def handler(callback: Callback) -> None:
        started.set()
        await asyncio.sleep(10)

    processor = CallbackProcessor(handler, secret=SECRET)
    task = asyncio.create_task(processor.process(body(7)))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await processor.store.is_handled("7:paid")


async def test_the_in_memory_store_forgets_the_oldest_keys() -> None:
    store = InMemoryCallbackStore(max_keys=2)
    for key in ("a", "b", "c"):
        await store.mark_handled(key)
    assert [await store.is_handled(key) for key in ("a", "b", "c")] == [False, True, True]
    assert len(store) == 2
    with pytest.raises(QvicklyInputError):
        InMemoryCallbackStore(max_keys=0)


def test_processor_arguments_are_checked_and_the_repr_has_no_secret() -> None:
    async def handler(callback: Callback) -> None:
        return None

    processor = CallbackProcessor(handler, secret=SECRET)
    assert SECRET not in repr(processor)
    with pytest.raises(QvicklyInputError):
        CallbackProcessor(handler, secret="")
    with pytest.raises(QvicklyInputError):
        CallbackProcessor(handler, secret=SECRET, max_body_bytes=0)
    with pytest.raises(QvicklyInputError):
        CallbackProcessor(handler, secret=SECRET, handler_timeout=0)
    with pytest.raises(QvicklyInputError):
        CallbackProcessor("nope", secret=SECRET)  # type: ignore[arg-type]
