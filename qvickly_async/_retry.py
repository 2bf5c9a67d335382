"""When to retry, how long to wait, and when to give up. No I/O besides sleeping.

Retries run on a positive allow-list (``is_retryable``):

* any function, when the request provably never left (connect errors, pool timeouts);
* read-only functions (``get*``) also on read errors and timeouts, HTTP 408/429/5xx, bodies
  that are not JSON, response-hash mismatches and API code 9008.

State-changing functions are never retried once the request may have reached the server:
Qvickly has no idempotency key, so a repeated ``addPayment`` may create a second payment.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable
from typing import Any, Final

import attrs
from tenacity import RetryCallState

from .exceptions import (
    QvicklyDeadlineExceededError,
    QvicklyError,
    QvicklyHTTPStatusError,
    QvicklyRateLimitError,
    QvicklyResponseError,
    QvicklyTransientError,
    QvicklyTransportError,
)

__all__ = [
    "RETRY_AFTER_CAP",
    "RetryBudget",
    "RetryDetails",
    "backoff_seconds",
    "is_read_only",
    "is_retryable",
    "parse_retry_after",
]

#: The longest ``Retry-After`` the client honours, in seconds.
RETRY_AFTER_CAP: Final = 60.0
INITIAL_BACKOFF: Final = 0.5
MAX_BACKOFF: Final = 8.0
_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
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
        return error.status_code in _RETRYABLE_STATUS or error.status_code >= 500
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
    """

    def __init__(self, *, ratio: float = 0.2, minimum: int = 10) -> None:
        if not (ratio >= 0 and minimum >= 0):
            raise ValueError("ratio and minimum must be >= 0")
        self.ratio = ratio
        self.minimum = minimum
        self.calls = 0
        self.retries = 0

    def record_call(self) -> None:
        """Count one more call started under this budget."""
        self.calls += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget; ``False`` when it is exhausted."""
        if self.retries < self.minimum + self.ratio * self.calls:
            self.retries += 1
            return True
        return False

    def __repr__(self) -> str:
        return (
            f"RetryBudget(calls={self.calls}, retries={self.retries}, "
            f"ratio={self.ratio}, minimum={self.minimum})"
        )
