"""The retry engine: when to retry, how long to wait, and when to give up. No I/O besides sleeping.

:class:`RetryPolicy` is the only place that decides retries, backoff, the total deadline and
the shared :class:`RetryBudget`, writes the notes on the final error and calls ``on_retry``.
It runs any coroutine function ``attempt(number)``; it knows no client and no transport.

Retries run on a positive allow-list (``is_retryable``):

* any function, when the request provably never left (connect errors, pool timeouts);
* read-only functions (``get*``) also on read errors and timeouts, HTTP 408/429/5xx, bodies
  that are not JSON, response-hash mismatches and API code 9008.

State-changing functions are never retried once the request may have reached the server:
Qvickly has no idempotency key, so a repeated ``addPayment`` may create a second payment.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import functools
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

import attrs
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base

from . import _defaults
from ._logging import logger, scrub
from .exceptions import (
    QvicklyDeadlineExceededError,
    QvicklyError,
    QvicklyHTTPStatusError,
    QvicklyInputError,
    QvicklyRateLimitError,
    QvicklyResponseError,
    QvicklyTransientError,
    QvicklyTransportError,
)

__all__ = [
    "RETRY_AFTER_CAP",
    "RetryBudget",
    "RetryDetails",
    "RetryPolicy",
    "backoff_seconds",
    "is_read_only",
    "is_retryable",
    "parse_retry_after",
]

#: The longest ``Retry-After`` the client honours, in seconds.
RETRY_AFTER_CAP: Final = _defaults.RETRY_AFTER_CAP
INITIAL_BACKOFF: Final = _defaults.INITIAL_BACKOFF
MAX_BACKOFF: Final = _defaults.MAX_BACKOFF
# Besides these, every 5xx is retried.
_RETRYABLE_STATUS = frozenset({408, 429})
_RETRYABLE_API_CODES = frozenset({9008})

_testing = False


def set_testing(enabled: bool) -> None:
    """Remove (``True``) or restore (``False``) backoff sleeps, process-wide."""
    global _testing
    _testing = enabled


def is_testing() -> bool:
    """Whether backoff sleeps are currently removed by :func:`set_testing`."""
    return _testing


@attrs.frozen
class RetryDetails:
    """What an ``on_retry`` hook is told before the client sleeps and tries again.

    Attributes:
        function: The Payment API function being called.
        attempt: The number of the attempt that just failed (1 for the first).
        wait: Seconds the client will sleep before the next attempt.
        elapsed: Seconds since the call started.
        error: The exception the failed attempt raised.
    """

    function: str
    attempt: int
    wait: float
    elapsed: float
    error: QvicklyError


def is_read_only(function: str) -> bool:
    """Whether ``function`` only reads (``get*``), so repeating it cannot change state."""
    return function[:3].lower() == "get"


def is_retryable(error: BaseException, *, read_only: bool) -> bool:
    """Decide whether an attempt that raised ``error`` may be repeated."""
    if isinstance(error, QvicklyDeadlineExceededError):
        return False
    if isinstance(error, QvicklyTransportError):
        return not error.request_sent or read_only
    if not read_only:
        return False
    if isinstance(error, QvicklyHTTPStatusError):
        return error.status_code >= 500 or error.status_code in _RETRYABLE_STATUS
    if isinstance(error, QvicklyResponseError):
        return error.transient
    if isinstance(error, QvicklyTransientError):
        return error.code in _RETRYABLE_API_CODES
    return False


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Read a ``Retry-After`` header (seconds or an HTTP date) as seconds from now."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = moment.timestamp() - now()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def backoff_seconds(attempt: int, error: BaseException | None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    Exponential backoff with equal jitter (half fixed, half random), from 0.5 s doubling
    to a cap of 8 s; a server's
    ``Retry-After`` (up to 60 s) wins when it asks for longer.
    """
    if _testing:
        return 0.0
    ceiling = min(MAX_BACKOFF, INITIAL_BACKOFF * 2.0 ** (attempt - 1))
    wait = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto
    if isinstance(error, QvicklyRateLimitError) and error.retry_after is not None:
        wait = max(wait, min(error.retry_after, RETRY_AFTER_CAP))
    return wait


def wait_for(retry_state: RetryCallState) -> float:
    """Tenacity ``wait`` callable built on :func:`backoff_seconds`."""
    outcome: Any = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    return backoff_seconds(retry_state.attempt_number, error)


class RetryBudget:
    """A cap on retries shared by many calls, so an outage does not multiply traffic.

    At any moment at most ``minimum + ratio * calls`` retries may have been spent, where
    ``calls`` counts the calls started under this budget. With the defaults a batch of
    1,000 lookups during an outage sends at most 1,210 requests instead of 3,000.

    Give one to a batch (``retry_budget=`` of
    :meth:`~qvickly_async.AsyncQvickly.get_invoices_by_customers`) or to a whole client
    (``AsyncQvickly(..., retry_budget=...)``, shared by the copies that
    :meth:`~qvickly_async.AsyncQvickly.with_options` makes).
    """

    def __init__(
        self,
        *,
        ratio: float = _defaults.RETRY_BUDGET_RATIO,
        minimum: int = _defaults.RETRY_BUDGET_MINIMUM,
    ) -> None:
        self.ratio = ratio
        self.minimum = minimum
        self.calls = 0
        self.retries = 0
        if not (ratio >= 0 and minimum >= 0):
            # QvicklyInputError is a ValueError too: code catching ValueError still works.
            raise QvicklyInputError(
                f"ratio and minimum must be >= 0, got ratio={ratio!r}, minimum={minimum!r}"
            )

    def record_call(self) -> None:
        """Count one more call started under this budget."""
        self.calls += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget; ``False`` when it is exhausted."""
        if self.has_room():
            self.retries += 1
            return True
        return False

    def has_room(self) -> bool:
        """Whether a retry could be taken now (without taking it)."""
        return self.retries < self.minimum + self.ratio * self.calls

    def __repr__(self) -> str:
        return (
            f"RetryBudget(calls={self.calls}, retries={self.retries}, "
            f"ratio={self.ratio}, minimum={self.minimum})"
        )


T = TypeVar("T")


# The context timer callbacks that only cancel or fail something run in: passing one spares
# the copy of the caller's context asyncio makes for every timer (one object per request).
_TIMER_CONTEXT: Final = contextvars.Context()


class _Expiry:
    """The timer callback of :func:`run_within`: cancels the task when the time is up."""

    __slots__ = ("fired", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.fired = False

    def __call__(self) -> None:
        self.fired = True
        self.task.cancel()


async def run_within(delay: float, awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` for at most ``delay`` seconds, else raise :class:`TimeoutError`.

    ``async with asyncio.timeout(delay): return await awaitable``, with its exact semantics
    (the task is cancelled when the time is up; only that cancellation becomes
    ``TimeoutError``, a cancellation from outside stays one) at a third of its CPU cost:
    one timer handle, no state machine. It runs once per attempt.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("run_within must be awaited inside a task")
    cancelling = task.cancelling()
    expiry = _Expiry(task)
    handle = loop.call_at(loop.time() + delay, expiry, context=_TIMER_CONTEXT)
    try:
        result = await awaitable
    except BaseException as error:
        handle.cancel()
        if (
            expiry.fired
            and task.uncancel() <= cancelling
            and isinstance(error, asyncio.CancelledError)
        ):
            raise TimeoutError from error
        raise
    handle.cancel()
    if expiry.fired:  # the attempt finished although it was cancelled: the cancel is ours
        task.uncancel()
    return result


class _DeadlineStop(stop_base):
    """Stop when the next attempt could not start before the deadline."""

    def __init__(self, deadline_at: float) -> None:
        self.deadline_at = deadline_at

    def __call__(self, retry_state: RetryCallState) -> bool:
        upcoming = retry_state.upcoming_sleep or 0.0
        return time.monotonic() + upcoming >= self.deadline_at


class _BudgetStop(stop_base):
    """Stop when a shared budget has no retry left; spends one from each otherwise.

    ``budgets`` are ``(whose, budget)`` pairs: a batch's and the client's. Combined last
    with ``|``, so a retry is spent only when nothing else stops the call, and from every
    budget or none.
    """

    def __init__(self, budgets: list[tuple[str, RetryBudget]]) -> None:
        self.budgets = budgets
        self.refused: tuple[str, RetryBudget] | None = None

    def __call__(self, retry_state: RetryCallState) -> bool:
        for whose, budget in self.budgets:
            if not budget.has_room():
                self.refused = (whose, budget)
                return True
        for _, budget in self.budgets:
            budget.try_spend()
        return False


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Runs one call's attempts: retries, backoff, deadline, budget, notes and ``on_retry``.

    Attributes:
        max_retries: Retries after the first attempt.
        deadline: Seconds the whole call may take, every attempt and sleep included.
        on_retry: Called with a :class:`RetryDetails` before every retry.
        fast_first_attempt: Run the first attempt without tenacity's bookkeeping, which
            costs more CPU than signing and verifying together; tenacity takes over only
            after a failure that may be retried. Same decisions either way.
    """

    max_retries: int = _defaults.MAX_RETRIES
    deadline: float = _defaults.DEADLINE
    on_retry: Callable[[RetryDetails], None] | None = None
    fast_first_attempt: bool = True

    async def run(
        self,
        attempt: Callable[[int], Awaitable[T]],
        *,
        function: str,
        budget: RetryBudget | None = None,
        client_budget: RetryBudget | None = None,
        before_attempt: Callable[[], Awaitable[object]] | None = None,
    ) -> T:
        """Await ``attempt(number)`` (1-based) until it succeeds or may not be repeated.

        ``budget`` (a batch's) and ``client_budget`` (the client's ``retry_budget``) each
        count the call and must both have room for a retry.

        ``before_attempt`` (a rate limiter, for example) is awaited before every attempt:
        before the first, the deadline's clock has not started yet (admission is queueing);
        before a retry, within what is left of the deadline, and cut short it spends
        nothing. Each attempt runs under what is left of the deadline: an attempt cut short
        raises
        :class:`~qvickly_async.exceptions.QvicklyDeadlineExceededError`. The error that ends
        the call is the last attempt's own, with notes saying why it was not retried.
        """
        if before_attempt is not None:
            # Waiting for the first token is queueing, like waiting for a batch slot: the
            # call's deadline starts once it is admitted.
            await before_attempt()
        started = time.monotonic()
        deadline_at = started + self.deadline
        if budget is not None:
            budget.record_call()
        if client_budget is not None:
            client_budget.record_call()
        first_error: QvicklyError | None = None
        if self.fast_first_attempt:
            try:
                return await self._within_deadline(attempt, 1, deadline_at, function)
            except QvicklyError as error:
                if self.max_retries == 0 or not is_retryable(
                    error, read_only=is_read_only(function)
                ):
                    raise
                first_error = error
        budgets = [
            (whose, shared)
            for whose, shared in (("batch's", budget), ("client's", client_budget))
            if shared is not None
        ]
        once = functools.partial(
            self._once,
            attempt,
            deadline_at=deadline_at,
            function=function,
            before_attempt=before_attempt,
        )
        return await self._retry(
            once, first_error, function=function, started=started, budgets=budgets
        )

    async def _within_deadline(
        self, attempt: Callable[[int], Awaitable[T]], number: int, deadline_at: float, function: str
    ) -> T:
        """Run attempt ``number`` within what is left of the deadline (``time.monotonic``).

        The first attempt's path: one coroutine, no closure (it runs once per call).
        """
        remaining = deadline_at - time.monotonic()
        if remaining <= 0:
            raise self._deadline_before(function, number)
        try:
            return await run_within(remaining, attempt(number))
        except TimeoutError:
            raise self._deadline_during(function, number) from None

    async def _once(
        self,
        attempt: Callable[[int], Awaitable[T]],
        number: int,
        *,
        deadline_at: float,
        function: str,
        before_attempt: Callable[[], Awaitable[object]] | None,
    ) -> T:
        """Run attempt ``number`` within the deadline, after the limiter's token for a retry."""
        remaining = deadline_at - time.monotonic()
        if number > 1 and before_attempt is not None and remaining > 0:
            # A retry's token is awaited within the deadline; cut short, none is spent
            # (the limiter takes a token only when it hands it out).
            try:
                async with asyncio.timeout(remaining):
                    await before_attempt()
            except TimeoutError:
                raise self._deadline_before(function, number) from None
        return await self._within_deadline(attempt, number, deadline_at, function)

    def _deadline_before(self, function: str, number: int) -> QvicklyDeadlineExceededError:
        return QvicklyDeadlineExceededError(
            f"{function}: deadline exceeded before attempt {number}",
            function=function,
            request_sent=False,
        )

    def _deadline_during(self, function: str, number: int) -> QvicklyDeadlineExceededError:
        return QvicklyDeadlineExceededError(
            f"{function}: deadline of {self.deadline} s exceeded during attempt {number}",
            function=function,
            request_sent=True,
        )

    async def _retry(
        self,
        once: Callable[[int], Awaitable[T]],
        first_error: QvicklyError | None,
        *,
        function: str,
        started: float,
        budgets: list[tuple[str, RetryBudget]],
    ) -> T:
        read_only = is_read_only(function)
        failures: list[BaseException] = []  # what each attempt raised, in order

        def retryable(error: BaseException) -> bool:
            failures.append(error)
            return is_retryable(error, read_only=read_only)

        stop = stop_after_attempt(self.max_retries + 1) | _DeadlineStop(started + self.deadline)
        budget_stop = _BudgetStop(budgets) if budgets else None
        if budget_stop is not None:
            stop = stop | budget_stop
        retrying = AsyncRetrying(
            stop=stop,
            wait=wait_for,
            retry=retry_if_exception(retryable),
            before_sleep=lambda state: self._before_sleep(function, started, state),
            reraise=True,
            sleep=asyncio.sleep,
        )
        number = 1
        try:
            async for attempt in retrying:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    if number == 1 and first_error is not None:
                        raise first_error  # the fast first attempt's failure, handed over
                    return await once(number)
        except QvicklyError as error:
            self._add_notes(error, failures, number, started, budget_stop)
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _add_notes(
        self,
        error: QvicklyError,
        failures: list[BaseException],
        number: int,
        started: float,
        budget_stop: _BudgetStop | None,
    ) -> None:
        if budget_stop is not None and budget_stop.refused is not None:
            whose, budget = budget_stop.refused
            error.add_note(
                f"not retried after attempt {number}: the {whose} retry budget is "
                f"spent ({budget!r})"
            )
        elif number > 1:
            error.add_note(
                f"gave up after {number} attempts in {time.monotonic() - started:.2f} s "
                f"(max_retries={self.max_retries}, deadline={self.deadline} s)"
            )
            earlier = [failure for failure in failures if failure is not error]
            if isinstance(error, QvicklyDeadlineExceededError) and earlier:
                # The deadline cut the last retry short: say what the attempts before it got.
                error.add_note(
                    f"the attempt before failed with {type(earlier[-1]).__name__}: "
                    f"{scrub(str(earlier[-1]))}"
                )

    def _before_sleep(self, function: str, started: float, retry_state: RetryCallState) -> None:
        outcome: Any = retry_state.outcome
        error = outcome.exception()
        details = RetryDetails(
            function=function,
            attempt=retry_state.attempt_number,
            wait=retry_state.upcoming_sleep,
            elapsed=time.monotonic() - started,
            error=error,
        )
        logger.warning(
            "%s attempt %d failed (%s: %s); retrying in %.2f s",
            function,
            details.attempt,
            type(error).__name__,
            scrub(str(error)),
            details.wait,
        )
        if self.on_retry is not None:
            self.on_retry(details)
