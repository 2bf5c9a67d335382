"""Concurrent lookups over many customers: bounded, deduplicated, cancellable, streaming.

A fixed number of worker tasks pull customer numbers from the (possibly huge, possibly lazy)
input and push one :class:`CustomerResult` each into a bounded queue, so memory stays flat
however many customers and invoices flow through, and concurrency never exceeds the pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

import attrs

from . import _defaults
from ._logging import mask_customer_number
from .exceptions import QvicklyError, QvicklyInputError

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

    from .models import Invoice

__all__ = [
    "BatchProgress",
    "CustomerResult",
    "InvoiceStream",
    "LookupResult",
    "ResultStream",
    "batch_concurrency",
    "make_limiter",
]

V = TypeVar("V")


def make_limiter(rate_limit: object) -> AsyncLimiter | None:
    """Return an aiolimiter bucket for ``rate_limit`` requests/s (``None``: no limit)."""
    if rate_limit is None:
        return None
    if (
        isinstance(rate_limit, bool)
        or not isinstance(rate_limit, int | float)
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


@attrs.frozen
class CustomerResult:
    """The outcome of one customer's lookup: its invoices, or the typed error it got.

    Attributes:
        customer_number: The customer number as given.
        invoices: The customer's invoices (empty for a customer without any); empty too when
            the lookup failed, so check :attr:`ok` or :attr:`error`.
        error: The :class:`~qvickly_async.exceptions.QvicklyError` the lookup ended with.
    """

    customer_number: str = attrs.field(repr=mask_customer_number)
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
class LookupResult(Generic[V]):
    """The outcome of one keyed lookup of a batch: its value, or the typed error it got.

    Used by every batch read but invoices by customer (which keeps :class:`CustomerResult`),
    for example :meth:`AsyncQvickly.get_payment_infos`.

    Attributes:
        key: The key as given (payment number, personal number, checkout hash); masked in
            ``repr()`` as it may be personal.
        value: The decoded answer; ``None`` when the lookup failed.
        error: The :class:`~qvickly_async.exceptions.QvicklyError` the lookup ended with.
    """

    key: str = attrs.field(repr=mask_customer_number)
    value: V | None = None
    error: QvicklyError | None = None

    @property
    def ok(self) -> bool:
        """Whether the lookup succeeded."""
        return self.error is None

    def unwrap(self) -> V:
        """Return the value, or raise the lookup's error."""
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


@attrs.frozen
class BatchProgress:
    """Progress of a batch, passed to ``on_progress`` after every finished customer.

    ``total`` is ``None`` while the input is being consumed lazily (its size is unknown).
    """

    done: int
    failed: int
    total: int | None


class _Result(Protocol):
    @property
    def error(self) -> QvicklyError | None: ...


R = TypeVar("R", bound=_Result)
_DONE = object()


def _describe(result: Any) -> str:
    key = getattr(result, "customer_number", None)
    if key is not None:
        return f"customer {mask_customer_number(key)!r}"
    return f"lookup {mask_customer_number(str(getattr(result, 'key', '')))!r}"


class ResultStream(Generic[R]):
    """Async iterator of per-key results (``R``) in completion order.

    Use it as ``async with`` (or call :meth:`aclose`) when you may stop early: leaving the
    block cancels the lookups still in flight. Cancelling the task that iterates does the
    same. Returned by the ``iter_*`` batch methods of :class:`AsyncQvickly`, e.g.
    :meth:`AsyncQvickly.iter_payment_infos` (results are :class:`LookupResult`).
    """

    def __init__(
        self,
        numbers: Iterable[str],
        lookup: Callable[[str], Awaitable[R]],
        *,
        concurrency: int,
        fail_fast: bool,
        on_progress: Callable[[BatchProgress], None] | None,
        total: int | None,
    ) -> None:
        self._numbers: Iterator[str] = iter(numbers)
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

    @staticmethod
    def _result(item: object) -> R:
        result: R = item  # type: ignore[assignment]  # workers put only lookup results
        return result

    def _next_number(self) -> str | None:
        for number in self._numbers:
            if number in self._seen:
                continue
            self._seen.add(number)
            return number
        return None

    async def _work(self) -> None:
        try:
            while (number := self._next_number()) is not None:
                result = await self._lookup(number)
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

    def __aiter__(self) -> AsyncIterator[R]:
        return self

    async def __anext__(self) -> R:
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
        item = self._result(item)
        self._done += 1
        if item.error is not None:
            self._failed += 1
        if self._on_progress is not None:
            self._on_progress(BatchProgress(self._done, self._failed, self._total))
        if self._fail_fast and item.error is not None:
            await self.aclose()
            item.error.add_note(f"{_describe(item)} failed; batch stopped (fail_fast)")
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


class InvoiceStream(ResultStream[CustomerResult]):
    """Async iterator of :class:`CustomerResult` in completion order.

    Use it as ``async with`` (or call :meth:`aclose`) when you may stop early: leaving the
    block cancels the lookups still in flight. Cancelling the task that iterates does the
    same. Returned by :meth:`AsyncQvickly.iter_invoices_by_customers`.
    """
