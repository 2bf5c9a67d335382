"""The retry engine on its own: plain coroutines, no client, no transport."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from qvickly_async import AsyncQvickly, RetryBudget, RetryDetails
from qvickly_async._retry import RetryPolicy
from qvickly_async.exceptions import (
    QvicklyConnectionError,
    QvicklyDeadlineExceededError,
    QvicklyError,
    QvicklyInputError,
    QvicklyNotFoundError,
    QvicklyServerError,
)

from ._fake import MERCHANT, SECRET, FakeQvickly, ok, respond

pytestmark = pytest.mark.anyio

Attempt = Callable[[int], Awaitable[str]]


def scripted(*outcomes: BaseException | str) -> tuple[Attempt, list[int]]:
    """An attempt function returning or raising ``outcomes`` in order; records the numbers."""
    calls: list[int] = []
    script = list(outcomes)

    async def attempt(number: int) -> str:
        calls.append(number)
        await asyncio.sleep(0)
        outcome = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return attempt, calls


def server_error() -> QvicklyServerError:
    return QvicklyServerError("HTTP 503", function="getInvoicesByCustomer", status_code=503)


@pytest.fixture(params=[True, False], ids=["fast-first", "tenacity-only"])
def fast(request: pytest.FixtureRequest) -> bool:
    """Every decision must be the same with and without the fast first attempt."""
    return bool(request.param)


async def test_success_runs_one_attempt(fast: bool) -> None:
    attempt, calls = scripted("ok")
    result = await RetryPolicy(fast_first_attempt=fast).run(attempt, function="getX")
    assert (result, calls) == ("ok", [1])


async def test_a_retryable_failure_is_retried_and_reported(fast: bool) -> None:
    seen: list[RetryDetails] = []
    attempt, calls = scripted(server_error(), server_error(), "ok")
    policy = RetryPolicy(max_retries=2, on_retry=seen.append, fast_first_attempt=fast)
    assert await policy.run(attempt, function="getInvoicesByCustomer") == "ok"
    assert calls == [1, 2, 3]
    assert [(d.function, d.attempt) for d in seen] == [
        ("getInvoicesByCustomer", 1),
        ("getInvoicesByCustomer", 2),
    ]
    assert all(isinstance(d.error, QvicklyServerError) and d.wait == 0 for d in seen)


async def test_giving_up_raises_the_last_error_with_a_note(fast: bool) -> None:
    attempt, calls = scripted(server_error())
    with pytest.raises(QvicklyServerError) as caught:
        await RetryPolicy(max_retries=2, fast_first_attempt=fast).run(attempt, function="getX")
    assert calls == [1, 2, 3]
    assert any("gave up after 3 attempts" in note for note in caught.value.__notes__)


async def test_a_non_retryable_error_is_raised_at_once_without_notes(fast: bool) -> None:
    error = QvicklyNotFoundError("no such invoice", code=5003, function="getX")
    attempt, calls = scripted(error)
    with pytest.raises(QvicklyNotFoundError) as caught:
        await RetryPolicy(fast_first_attempt=fast).run(attempt, function="getX")
    assert calls == [1]
    assert caught.value is error
    assert not getattr(caught.value, "__notes__", [])


@pytest.mark.parametrize(("sent", "expected_calls"), [(True, [1]), (False, [1, 2, 3])])
async def test_state_changing_calls_retry_only_what_never_left(
    fast: bool, sent: bool, expected_calls: list[int]
) -> None:
    attempt, calls = scripted(QvicklyConnectionError("reset", request_sent=sent))
    with pytest.raises(QvicklyConnectionError):
        await RetryPolicy(fast_first_attempt=fast).run(attempt, function="addPayment")
    assert calls == expected_calls


async def test_max_retries_zero_is_one_attempt_and_spends_no_budget(fast: bool) -> None:
    budget = RetryBudget()
    attempt, calls = scripted(server_error())
    with pytest.raises(QvicklyServerError):
        await RetryPolicy(max_retries=0, fast_first_attempt=fast).run(
            attempt, function="getX", budget=budget
        )
    assert calls == [1]
    assert (budget.calls, budget.retries) == (1, 0)


async def test_an_exhausted_budget_stops_retries_and_says_so(fast: bool) -> None:
    budget = RetryBudget(ratio=0, minimum=1)
    policy = RetryPolicy(max_retries=5, fast_first_attempt=fast)
    attempt, calls = scripted(server_error())
    with pytest.raises(QvicklyServerError) as caught:
        await policy.run(attempt, function="getX", budget=budget)
    assert calls == [1, 2]  # one retry from the budget, then refused
    assert budget.retries == 1
    assert any("retry budget is spent" in note for note in caught.value.__notes__)


async def test_the_budget_counts_only_retries_that_happen(fast: bool) -> None:
    budget = RetryBudget()
    attempt, calls = scripted(server_error())
    with pytest.raises(QvicklyServerError):
        await RetryPolicy(max_retries=2, fast_first_attempt=fast).run(
            attempt, function="getX", budget=budget
        )
    assert calls == [1, 2, 3]
    assert budget.retries == 2


async def test_before_attempt_runs_before_every_attempt(fast: bool) -> None:
    order: list[str] = []

    async def before() -> None:
        order.append("before")

    async def attempt(number: int) -> str:
        order.append(f"attempt {number}")
        if number == 1:
            raise server_error()
        return "ok"

    policy = RetryPolicy(fast_first_attempt=fast)
    assert await policy.run(attempt, function="getX", before_attempt=before) == "ok"
    assert order == ["before", "attempt 1", "before", "attempt 2"]


async def test_an_attempt_cut_short_by_the_deadline_may_have_been_sent(fast: bool) -> None:
    async def slow(number: int) -> str:
        await asyncio.sleep(5)
        return "late"

    with pytest.raises(QvicklyDeadlineExceededError) as caught:
        await RetryPolicy(deadline=0.05, fast_first_attempt=fast).run(slow, function="getX")
    assert caught.value.request_sent is True


async def test_no_retry_starts_after_the_deadline(fast: bool) -> None:
    calls: list[int] = []

    async def before() -> None:
        if calls:
            await asyncio.sleep(0.1)  # e.g. a rate limiter that makes a retry wait too long

    async def attempt(number: int) -> str:
        calls.append(number)
        raise server_error()

    with pytest.raises(QvicklyDeadlineExceededError) as caught:
        await RetryPolicy(deadline=0.05, fast_first_attempt=fast).run(
            attempt, function="getX", before_attempt=before
        )
    assert caught.value.request_sent is False
    assert calls == [1]


async def test_waiting_before_the_first_attempt_is_admission_not_deadline(fast: bool) -> None:
    """Issue 11, item 3: a call's deadline starts when it is admitted (token in hand)."""

    async def before() -> None:
        await asyncio.sleep(0.1)  # a rate limiter's queue, longer than the deadline

    async def attempt(number: int) -> str:
        return "ok"

    policy = RetryPolicy(deadline=0.05, fast_first_attempt=fast)
    assert await policy.run(attempt, function="getX", before_attempt=before) == "ok"


async def test_a_deadline_cut_retry_notes_what_the_attempt_before_got(fast: bool) -> None:
    async def attempt(number: int) -> str:
        if number == 1:
            raise server_error()
        await asyncio.sleep(5)
        return "late"

    with pytest.raises(QvicklyDeadlineExceededError) as caught:
        await RetryPolicy(deadline=0.2, fast_first_attempt=fast).run(attempt, function="getX")
    notes = caught.value.__notes__
    assert any("gave up after 2 attempts" in note for note in notes)
    assert any("the attempt before failed with QvicklyServerError" in note for note in notes)


async def test_cancellation_is_never_retried(fast: bool) -> None:
    attempt, calls = scripted(asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        await RetryPolicy(fast_first_attempt=fast).run(attempt, function="getX")
    assert calls == [1]


async def test_other_exceptions_pass_through_unretried(fast: bool) -> None:
    attempt, calls = scripted(KeyError("bug"))
    with pytest.raises(KeyError):
        await RetryPolicy(fast_first_attempt=fast).run(attempt, function="getX")
    assert calls == [1]


def test_a_negative_budget_is_a_typed_input_error() -> None:
    with pytest.raises(QvicklyInputError, match="ratio and minimum must be >= 0"):
        RetryBudget(ratio=-1)
    with pytest.raises(ValueError, match="ratio and minimum"):  # still a ValueError
        RetryBudget(minimum=-1)
    assert issubclass(QvicklyInputError, QvicklyError)


async def test_a_batch_budget_is_not_charged_for_the_retry_after_the_last_attempt() -> None:
    """Through the client: three 503s with max_retries=2 are two retries, not three."""
    fake = FakeQvickly(respond(503), respond(503), respond(503), ok([]))
    budget = RetryBudget()
    async with AsyncQvickly(
        merchant_id=MERCHANT,
        secret=SECRET,
        base_url="http://127.0.0.1/",
        transport=fake.transport(),
        max_retries=2,
    ) as client:
        [result] = await client.get_invoices_by_customers(["10001"], retry_budget=budget)
    assert isinstance(result.error, QvicklyServerError)
    assert fake.count == 3
    assert (budget.calls, budget.retries) == (1, 2)
