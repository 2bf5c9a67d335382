"""Deliver signed callbacks to a URL the way Qvickly does: retry until a success.

Qvickly POSTs the signed envelope to ``callbackurl`` and repeats it on any answer but a success:
every minute for 10 minutes, hourly for 10 hours, daily for 7 days, monthly for 3 months, as
Qvickly documents it. Public integrations suggest a 404 stops the retries; so it does here,
unless ``stop_on_404=False``. ``speedup`` divides every delay, so a test can run the whole
schedule in milliseconds.

Deliveries run on a background thread with its own event loop, so they work the same from
synchronous code, from any event loop and from the admin endpoint. Every attempt is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any, Final, Literal

import aiohttp
import attrs

__all__ = [
    "QVICKLY_RETRY_DELAYS",
    "CallbackAttempt",
    "CallbackDeliveries",
    "CallbackRecord",
    "DeliveryState",
    "check_url",
]

_MINUTE: Final = 60.0
_HOUR: Final = 3600.0
_DAY: Final = 86400.0
_MONTH: Final = 30 * _DAY

#: Seconds between attempts after the first: 10 x 1 min, 10 x 1 h, 7 x 1 day, 3 x 1 month.
QVICKLY_RETRY_DELAYS: Final[tuple[float, ...]] = (
    (_MINUTE,) * 10 + (_HOUR,) * 10 + (_DAY,) * 7 + (_MONTH,) * 3
)

#: ``pending`` (attempts left), ``delivered`` (got a 2xx), ``stopped`` (404 ends it),
#: ``gave_up`` (the schedule ran out) or ``cancelled`` (the sender was closed).
DeliveryState = Literal["pending", "delivered", "stopped", "gave_up", "cancelled"]


def check_url(url: object) -> str:
    """Return ``url`` if it is an http(s) URL, else raise ``ValueError``."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"a callback URL is an http(s) URL, not {url!r}")
    return url


@attrs.frozen
class CallbackAttempt:
    """One POST of one callback.

    Attributes:
        callback_id: Which callback (see :meth:`CallbackDeliveries.send`).
        attempt: 1 for the first POST, then counting up.
        status_code: The answer's HTTP status, ``None`` when no answer came.
        error: What went wrong without an answer (connection refused, timeout), else ``None``.
        sent_at: Wall-clock time (``time.time()``) the POST started.
        elapsed: Seconds until the answer or the failure.
    """

    callback_id: int
    attempt: int
    status_code: int | None
    error: str | None
    sent_at: float
    elapsed: float

    @property
    def ok(self) -> bool:
        """Whether the answer was a success (2xx), which ends the retries."""
        return self.status_code is not None and 200 <= self.status_code < 300

    def to_json(self) -> dict[str, Any]:
        """Return this attempt as a JSON-ready dict."""
        return attrs.asdict(self)


@attrs.frozen
class CallbackRecord:
    """One callback and every attempt to deliver it so far."""

    id: int
    url: str
    number: str
    status: str
    state: DeliveryState
    attempts: tuple[CallbackAttempt, ...]
    body: bytes = attrs.field(repr=False)

    @property
    def delivered(self) -> bool:
        """Whether an attempt got a success."""
        return self.state == "delivered"

    def to_json(self) -> dict[str, Any]:
        """Return this record as a JSON-ready dict (the body as text)."""
        return {
            "id": self.id,
            "url": self.url,
            "number": self.number,
            "status": self.status,
            "state": self.state,
            "attempts": [attempt.to_json() for attempt in self.attempts],
        }


@attrs.define
class _Entry:
    url: str
    number: str
    status: str
    body: bytes
    state: DeliveryState = "pending"
    attempts: list[CallbackAttempt] = attrs.Factory(list)


class CallbackDeliveries:
    """Sends callbacks with Qvickly's retry schedule and records every attempt. Thread-safe.

    Args:
        speedup: Every delay of ``delays`` is divided by this (``60_000`` turns a minute
            into a millisecond).
        delays: Seconds before each retry; default :data:`QVICKLY_RETRY_DELAYS`.
        timeout: Seconds one POST may take before it counts as failed.
        stop_on_404: A 404 ends the retries, as Qvickly appears to do.
        max_concurrency: POSTs in flight at once, over all callbacks.
        on_attempt: Called (on the delivery thread) with each :class:`CallbackAttempt`.
        idle_timeout: Seconds without pending callbacks after which the delivery thread
            ends (the next :meth:`send` starts another).
    """

    def __init__(
        self,
        *,
        speedup: float = 1.0,
        delays: tuple[float, ...] = QVICKLY_RETRY_DELAYS,
        timeout: float = 10.0,
        stop_on_404: bool = True,
        max_concurrency: int = 32,
        on_attempt: Callable[[CallbackAttempt], None] | None = None,
        idle_timeout: float = 2.0,
    ) -> None:
        if not speedup > 0:
            raise ValueError("speedup must be a positive number")
        if not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        if any(not delay >= 0 for delay in delays):
            raise ValueError("delays must be non-negative seconds")
        self.speedup = float(speedup)
        self.delays = tuple(float(delay) for delay in delays)
        self.timeout = float(timeout)
        self.stop_on_404 = stop_on_404
        self._max_concurrency = max_concurrency
        self._on_attempt = on_attempt
        self.idle_timeout = float(idle_timeout)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._entries: dict[int, _Entry] = {}
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def __repr__(self) -> str:
        with self._lock:
            total, pending = len(self._entries), self._pending
        return f"<CallbackDeliveries callbacks={total} pending={pending} speedup={self.speedup}>"

    # -- sending ----------------------------------------------------------------------------

    def send(self, url: str, body: bytes, *, number: str = "", status: str = "") -> int:
        """Start delivering ``body`` to ``url``; return the callback's id at once.

        ``number`` and ``status`` only label the record.
        """
        check_url(url)
        with self._lock:
            if self._closed:
                raise RuntimeError("these callback deliveries were closed")
            if self._loop is None:
                self._loop = self._start_thread()
            loop = self._loop
            callback_id = next(self._ids)
            self._entries[callback_id] = _Entry(url, number, status, body)
            self._pending += 1
        asyncio.run_coroutine_threadsafe(self._deliver(callback_id), loop)
        return callback_id

    def _start_thread(self) -> asyncio.AbstractEventLoop:
        # Called with the lock held; the new thread does not take it before it is ready.
        ready = threading.Event()
        made: list[asyncio.AbstractEventLoop] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, made), name="qvickly-sandbox-callbacks", daemon=True
        )
        self._thread.start()
        ready.wait()
        return made[0]

    def _run(self, ready: threading.Event, made: list[asyncio.AbstractEventLoop]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._semaphore = asyncio.Semaphore(self._max_concurrency)

        async def open_session() -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(limit=self._max_concurrency)
            return aiohttp.ClientSession(connector=connector, trust_env=False)

        session = self._session = loop.run_until_complete(open_session())
        made.append(loop)
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(session.close())
            loop.close()

    def _stop_if_idle(self, loop: asyncio.AbstractEventLoop) -> None:
        # The delivery thread ends when nothing was pending for idle_timeout seconds; the
        # next send() starts a new one. Decided under the lock send() takes, so no race.
        with self._lock:
            if self._pending or self._loop is not loop:
                return
            self._loop = None
        loop.stop()

    async def _deliver(self, callback_id: int) -> None:
        entry = self._entries[callback_id]
        state: DeliveryState = "gave_up"
        try:
            for attempt in itertools.count(1):
                result = await self._post(callback_id, attempt, entry)
                with self._lock:
                    entry.attempts.append(result)
                if self._on_attempt is not None:
                    self._on_attempt(result)
                if result.ok:
                    state = "delivered"
                    break
                if result.status_code == 404 and self.stop_on_404:
                    state = "stopped"
                    break
                if attempt > len(self.delays):
                    break
                await asyncio.sleep(self.delays[attempt - 1] / self.speedup)
        except asyncio.CancelledError:
            state = "cancelled"
            raise
        finally:
            with self._idle:
                entry.state = state
                self._pending -= 1
                idle = self._pending == 0
                self._idle.notify_all()
            if idle and state != "cancelled":
                loop = asyncio.get_running_loop()
                loop.call_later(self.idle_timeout, self._stop_if_idle, loop)

    async def _post(self, callback_id: int, attempt: int, entry: _Entry) -> CallbackAttempt:
        assert self._session is not None
        assert self._semaphore is not None
        async with self._semaphore:
            sent_at = time.time()
            started = time.monotonic()
            try:
                async with self._session.post(
                    entry.url,
                    data=entry.body,
                    headers={"Content-Type": "application/json"},
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                    allow_redirects=False,
                ) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as error:
                reason = f"{type(error).__name__}: {error}"[:200]
                return CallbackAttempt(
                    callback_id, attempt, None, reason, sent_at, time.monotonic() - started
                )
            return CallbackAttempt(
                callback_id, attempt, status, None, sent_at, time.monotonic() - started
            )

    # -- looking ----------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """How many callbacks still have attempts ahead of them."""
        with self._lock:
            return self._pending

    def records(self) -> list[CallbackRecord]:
        """Every callback sent so far, oldest first, with its attempts."""
        with self._lock:
            return [
                CallbackRecord(
                    callback_id,
                    entry.url,
                    entry.number,
                    entry.status,
                    entry.state,
                    tuple(entry.attempts),
                    entry.body,
                )
                for callback_id, entry in self._entries.items()
            ]

    def record(self, callback_id: int) -> CallbackRecord:
        """Return the record of one callback (``KeyError`` for an unknown id)."""
        return next(record for record in self.records() if record.id == callback_id)

    def attempts(self) -> list[CallbackAttempt]:
        """Every attempt of every callback, in the order they finished."""
        found = [attempt for record in self.records() for attempt in record.attempts]
        return sorted(found, key=lambda attempt: attempt.sent_at + attempt.elapsed)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no callback is pending; ``False`` if ``timeout`` seconds ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    async def wait_async(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Like :meth:`wait`, without blocking the running event loop."""
        return await asyncio.to_thread(self.wait, timeout)

    def close(self) -> None:
        """Cancel what is pending and stop the delivery thread. Idempotent."""
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
            self._loop = None
        if loop is None or thread is None:
            return

        def cancel_all() -> None:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.call_soon(loop.stop)

        with contextlib.suppress(RuntimeError):  # the loop already ended
            loop.call_soon_threadsafe(cancel_all)
        thread.join(10)
