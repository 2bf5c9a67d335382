"""Concurrent lookups over many customers: bounded, deduplicated, cancellable, streaming.

A fixed number of worker tasks pull customer numbers from the (possibly huge, possibly lazy)
input and push one :class:`CustomerResult` each into a bounded queue, so memory stays flat
however many customers and invoices flow through (the duplicate filter, unless turned off,
remembers each distinct number), and exactly ``concurrency`` lookups are in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

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
    "LookupResult",
    "ResultStream",
    "batch_concurrency",
    "make_limiter",
    "unexpected_error",
]

V = TypeVar("V")


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


def batch_concurrency(
    concurrency: object, pool: int | None, *, default: int = _defaults.BATCH_CONCURRENCY
) -> int:
    """Return the number of lookups a batch keeps in flight: exactly what was asked for.

    ``pool`` is the size of the connection pool when the client knows it (it created the
    pool), else ``None``. Without ``concurrency`` a batch runs ``default`` lookups
    (:data:`~qvickly_async._defaults.BATCH_CONCURRENCY`), or the pool size if smaller.

    Raises:
        QvicklyInputError: ``concurrency`` is not an int >= 1, or is larger than the pool
            (the lookups beyond it could only wait for a connection).
    """
    if concurrency is None:
        return min(pool or default, default)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise QvicklyInputError(f"concurrency must be an int >= 1, got {concurrency!r}")
    if pool is not None and concurrency > pool:
        raise QvicklyInputError(
            f"concurrency={concurrency} is more than the client's connection pool "
            f"({pool} connections), so only {pool} lookups could be in flight; create the "
            f"client with limits=httpx.Limits(max_connections={concurrency}, "
            f"max_keepalive_connections={concurrency}), or ask for at most {pool}"
        )
    return concurrency


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


def unexpected_error(error: Exception, function: str) -> QvicklyError:
    """Wrap an exception that is not a :class:`QvicklyError` as one customer's result error.

    No exception of one lookup may end a batch; the original stays as ``__cause__``.
    """
    wrapped = QvicklyError(
        f"{function}: unexpected {type(error).__name__}: {scrub(str(error))}", function=function
    )
    wrapped.__cause__ = error
    return wrapped


class _Result(Protocol):
    @property
    def error(self) -> QvicklyError | None: ...


R = TypeVar("R", bound=_Result)
Lookup = Callable[[str], Awaitable[Any]]
_DONE = object()
_END = object()


def _describe(result: Any) -> str:
    key = getattr(result, "customer_number", None)
    if key is not None:
        return f"customer {mask_customer_number(key)!r}"
    return f"lookup {mask_customer_number(str(getattr(result, 'key', '')))!r}"


# Strong references to running workers: the event loop keeps only weak ones, and a pending
# task that is garbage collected is "destroyed but pending". A worker leaves this set when it
# ends; an abandoned stream cancels its workers (see ResultStream.__del__).
_running_workers: set[asyncio.Task[None]] = set()


class _Feed:
    """What the workers share. It never refers to the stream, so dropping the stream frees it."""

    __slots__ = ("crash", "lookup", "numbers", "queue", "running", "seen")

    def __init__(
        self, numbers: Iterable[str], lookup: Lookup, *, queue_size: int, deduplicate: bool
    ) -> None:
        self.numbers: Iterator[object] = iter(numbers)
        self.seen: set[str] | None = set() if deduplicate else None
        self.lookup = lookup
        self.queue: asyncio.Queue[object] = asyncio.Queue(maxsize=queue_size)
        self.running = 0
        self.crash: BaseException | None = None

    def next_number(self) -> object:
        seen = self.seen
        for number in self.numbers:
            if seen is not None and isinstance(number, str):
                # (Anything else is not deduplicated, it may be unhashable: its lookup
                # yields the input error. None, too, is an entry, not the end.)
                if number in seen:
                    continue
                seen.add(number)
            return number
        return _END


async def _work(feed: _Feed) -> None:
    queue, lookup, next_number = feed.queue, feed.lookup, feed.next_number
    try:
        while (number := next_number()) is not _END:
            result = await lookup(number)  # type: ignore[arg-type]  # checked there
            if queue.full():
                await queue.put(result)
            else:
                queue.put_nowait(result)  # (the same, without a coroutine per result)
    except Exception as error:  # not a QvicklyError (those are results): end the batch
        feed.crash = error
        await feed.queue.put(_DONE)
        return
    feed.running -= 1
    if feed.running == 0:
        await feed.queue.put(_DONE)


def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()


class ResultStream(Generic[R]):
    """Async iterator of per-key results (``R``) in completion order.

    Use it as ``async with`` (or call :meth:`aclose`) when you may stop early: leaving the
    block cancels the lookups still in flight and waits for them. Cancelling the task that
    iterates does the same. A stream dropped without either (``break`` out of a bare
    ``async for``) cancels its lookups when it is garbage collected. Returned by the
    ``iter_*`` batch methods of :class:`AsyncQvickly`, e.g.
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
        deduplicate: bool = True,
    ) -> None:
        self._feed = _Feed(numbers, lookup, queue_size=concurrency * 2, deduplicate=deduplicate)
        self._concurrency = concurrency
        self._fail_fast = fail_fast
        self._on_progress = on_progress
        self._total = total
        self._workers: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done = 0
        self._failed = 0
        self._closed = False

    @staticmethod
    def _result(item: object) -> R:
        result: R = item  # type: ignore[assignment]  # workers put only lookup results
        return result

    def _start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        feed = self._feed
        feed.running = self._concurrency
        self._workers = [
            loop.create_task(_work(feed), name=f"qvickly-batch-worker-{index}")
            for index in range(self._concurrency)
        ]
        for task in self._workers:
            _running_workers.add(task)
            task.add_done_callback(_running_workers.discard)

    def __del__(self) -> None:
        # Never awaits (it may run anywhere): asks the loop to cancel what still runs.
        workers, loop = getattr(self, "_workers", None), getattr(self, "_loop", None)
        if not workers or loop is None or loop.is_closed():
            return
        pending = [task for task in workers if not task.done()]
        if pending:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(_cancel, pending)

    def __aiter__(self) -> AsyncIterator[R]:
        return self

    async def __anext__(self) -> R:
        if self._closed:
            raise StopAsyncIteration
        if not self._workers:
            self._start()
        queue = self._feed.queue
        try:
            # (get_nowait when there is one: the same, without a coroutine per result)
            item = queue.get_nowait() if not queue.empty() else await queue.get()
        except BaseException:
            await self.aclose()
            raise
        if item is _DONE:
            crash = self._feed.crash
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

    Use it as ``async with`` (or call :meth:`~ResultStream.aclose`) when you may stop early:
    leaving the block cancels the lookups still in flight and waits for them. Cancelling the
    task that iterates does the same. A stream dropped without either (``break`` out of a bare
    ``async for``) cancels its lookups when it is garbage collected. Returned by
    :meth:`AsyncQvickly.iter_invoices_by_customers`.
    """
