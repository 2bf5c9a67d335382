"""Concurrent lookups over many customers: bounded, deduplicated, cancellable, streaming.

A fixed number of worker tasks pull customer numbers from the (possibly huge, possibly lazy)
input and push one :class:`CustomerResult` each into a bounded queue, so memory stays flat
however many customers and invoices flow through, and concurrency never exceeds the pool.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Self

import attrs

from . import _defaults
from ._logging import mask_customer_number, scrub
from .exceptions import QvicklyError, QvicklyInputError

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

    from .models import Invoice

__all__ = [
    "BatchProgress",
    "CustomerResult",
    "InvoiceStream",
    "batch_concurrency",
    "make_limiter",
    "unexpected_error",
]


def make_limiter(rate_limit: object) -> AsyncLimiter | None:
    """Return an aiolimiter bucket for ``rate_limit`` requests/s (``None``: no limit)."""
    if rate_limit is None:
        return None
    if (
        isinstance(rate_limit, bool)
        or not isinstance(rate_limit, int | float)
        or not math.isfinite(rate_limit)  # inf was accepted, then hung the first acquire
        or not rate_limit > 0
    ):
        raise QvicklyInputError(
            f"rate_limit must be a positive number of requests/s, got {rate_limit!r}"
        )
    from aiolimiter import AsyncLimiter

    # A one-second bucket: bursts of at most rate_limit requests.
    return AsyncLimiter(max(rate_limit, 1.0), max(rate_limit, 1.0) / rate_limit)


def batch_concurrency(concurrency: object, pool: int) -> int:
    """Return the number of lookups a batch keeps in flight."""
    if concurrency is None:
        return min(pool, _defaults.BATCH_CONCURRENCY)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise QvicklyInputError(f"concurrency must be an int >= 1, got {concurrency!r}")
    # Never more lookups in flight than pooled connections: the rest would wait for the pool
    # and risk PoolTimeout; bounded here they wait in the queue instead.
    return min(concurrency, pool)


def _masked_number(value: object) -> str:
    # A stream's result for a non-str entry carries it as given; its repr must not raise.
    if isinstance(value, str):
        return mask_customer_number(value)
    return f"<{type(value).__name__}>"


@attrs.frozen
class CustomerResult:
    """The outcome of one customer's lookup: its invoices, or the typed error it got.

    Attributes:
        customer_number: The customer number as given.
        invoices: The customer's invoices (empty for a customer without any); empty too when
            the lookup failed, so check :attr:`ok` or :attr:`error`.
        error: The :class:`~qvickly_async.exceptions.QvicklyError` the lookup ended with.
    """

    customer_number: str = attrs.field(repr=_masked_number)
    invoices: tuple[Invoice, ...] = ()
    error: QvicklyError | None = None

    @property
    def ok(self) -> bool:
        """Whether the lookup succeeded."""
        return self.error is None

    def unwrap(self) -> tuple[Invoice, ...]:
        """Return the invoices, or raise the lookup's error."""
        if self.error is not None:
            raise self.error
        return self.invoices


@attrs.frozen
class BatchProgress:
    """Progress of a batch, passed to ``on_progress`` after every finished customer.

    ``total`` is ``None`` while the input is being consumed lazily (its size is unknown).
    """

    done: int
    failed: int
    total: int | None


Lookup = Callable[[str], Awaitable[CustomerResult]]


def unexpected_error(error: Exception, function: str) -> QvicklyError:
    """Wrap an exception that is not a :class:`QvicklyError` as one customer's result error.

    No exception of one lookup may end a batch; the original stays as ``__cause__``.
    """
    wrapped = QvicklyError(
        f"{function}: unexpected {type(error).__name__}: {scrub(str(error))}", function=function
    )
    wrapped.__cause__ = error
    return wrapped


_DONE = object()
_END = object()


class InvoiceStream:
    """Async iterator of :class:`CustomerResult` in completion order.

    Use it as ``async with`` (or call :meth:`aclose`) when you may stop early: leaving the
    block cancels the lookups still in flight. Cancelling the task that iterates does the
    same. Returned by :meth:`AsyncQvickly.iter_invoices_by_customers`.
    """

    def __init__(
        self,
        numbers: Iterable[str],
        lookup: Lookup,
        *,
        concurrency: int,
        fail_fast: bool,
        on_progress: Callable[[BatchProgress], None] | None,
        total: int | None,
    ) -> None:
        self._numbers: Iterator[object] = iter(numbers)
        self._seen: set[str] = set()
        self._lookup = lookup
        self._concurrency = concurrency
        self._fail_fast = fail_fast
        self._on_progress = on_progress
        self._total = total
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=concurrency * 2)
        self._workers: list[asyncio.Task[None]] = []
        self._running = 0
        self._done = 0
        self._failed = 0
        self._closed = False
        self._crash: BaseException | None = None

    def _next_number(self) -> object:
        for number in self._numbers:
            if not isinstance(number, str):
                # Not deduplicated (it may be unhashable): its lookup yields the input error.
                return number
            if number in self._seen:
                continue
            self._seen.add(number)
            return number
        return _END

    async def _work(self) -> None:
        try:
            while (number := self._next_number()) is not _END:
                result = await self._lookup(number)  # type: ignore[arg-type]  # checked there
                await self._queue.put(result)
        except Exception as error:  # not a QvicklyError (those are results): end the batch
            self._crash = error
            await self._queue.put(_DONE)
            return
        self._running -= 1
        if self._running == 0:
            await self._queue.put(_DONE)

    def _start(self) -> None:
        self._running = self._concurrency
        self._workers = [
            asyncio.create_task(self._work(), name=f"qvickly-batch-worker-{index}")
            for index in range(self._concurrency)
        ]

    def __aiter__(self) -> AsyncIterator[CustomerResult]:
        return self

    async def __anext__(self) -> CustomerResult:
        if self._closed:
            raise StopAsyncIteration
        if not self._workers:
            self._start()
        try:
            item = await self._queue.get()
        except BaseException:
            await self.aclose()
            raise
        if item is _DONE:
            crash = self._crash
            await self.aclose()
            if crash is not None:
                raise crash
            raise StopAsyncIteration
        assert isinstance(item, CustomerResult)
        self._done += 1
        if item.error is not None:
            self._failed += 1
        if self._on_progress is not None:
            self._on_progress(BatchProgress(self._done, self._failed, self._total))
        if self._fail_fast and item.error is not None:
            await self.aclose()
            item.error.add_note(
                f"customer {mask_customer_number(item.customer_number)!r} failed; "
                "batch stopped (fail_fast)"
            )
            raise item.error
        return item

    async def aclose(self) -> None:
        """Cancel lookups still in flight and wait until they have stopped."""
        self._closed = True
        for task in self._workers:
            task.cancel()
        if self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
