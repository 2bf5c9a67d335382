"""Handle each callback once: verify, lock the payment, skip what was handled, run, answer.

Framework-neutral; :mod:`qvickly_async.callbacks.starlette` and
:mod:`qvickly_async.callbacks.aiohttp` turn a :class:`CallbackProcessor` into an endpoint.

Qvickly delivers at least once and retries every answer but a success (its documented schedule),
so the status code is the whole contract with it:

=====  ==============================================================================
200    the handler returned (or this event was handled before): stop sending it
400    the body is malformed (not JSON, no payment number, ...)
403    the signature is missing or wrong (a wrong secret, a forged or altered body)
413    the body is larger than ``max_body_bytes``
503    the handler raised, timed out, or the store failed: Qvickly sends it again later
=====  ==============================================================================

Never 404 (it makes Qvickly stop retrying) and never a 500 with a traceback.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Final, Protocol, runtime_checkable

import attrs

from .._logging import scrub
from .._options import Secret
from ..exceptions import QvicklyError, QvicklyInputError, QvicklySignatureError
from ._model import Callback
from ._parse import DEFAULT_MAX_CALLBACK_BYTES, _secret, parse_callback

__all__ = [
    "CallbackHandler",
    "CallbackOutcome",
    "CallbackProcessor",
    "CallbackStore",
    "InMemoryCallbackStore",
    "LockFactory",
    "PaymentLocks",
]

logger: Final = logging.getLogger("qvickly_async.callbacks")

#: The user's coroutine function that acts on one verified callback.
CallbackHandler = Callable[[Callback], Awaitable[object]]
#: Returns the lock that serialises the callbacks of one payment number.
LockFactory = Callable[[str], AbstractAsyncContextManager[Any]]


@runtime_checkable
class CallbackStore(Protocol):
    """Remembers which payment events were handled (by :attr:`Callback.dedupe_key`).

    :class:`InMemoryCallbackStore` is the default; the docs have a Redis recipe. Both
    methods may raise: the processor then answers 503 and Qvickly retries.
    """

    async def is_handled(self, key: str) -> bool:
        """Whether the event ``key`` was handled before."""
        ...

    async def mark_handled(self, key: str) -> None:
        """Record that the event ``key`` was handled."""
        ...


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


class InMemoryCallbackStore:
    """A :class:`CallbackStore` in this process's memory, holding the newest ``max_keys``.

    Fine for one process; several workers or restarts need a shared store (Redis, a
    database table with a unique key).
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        if not _is_positive_int(max_keys):
            raise QvicklyInputError(f"max_keys must be an int >= 1, got {max_keys!r}")
        self._keys: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._max = max_keys

    def __len__(self) -> int:
        return len(self._keys)

    async def is_handled(self, key: str) -> bool:
        """Whether ``key`` is remembered."""
        return key in self._keys

    async def mark_handled(self, key: str) -> None:
        """Remember ``key``, forgetting the oldest key when full."""
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self._max:
            self._keys.popitem(last=False)


class PaymentLocks:
    """One :class:`asyncio.Lock` per payment number, dropped when nobody holds or waits.

    Call it with a number to get the lock's context manager: ``async with locks("1001"):``.
    Serialises within one process and event loop; give the processor a shared lock (for
    example Redis's) for several workers.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def __call__(self, number: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(number) or (asyncio.Lock(), 0)
        self._locks[number] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[number]
            if users == 1:
                del self._locks[number]
            else:
                self._locks[number] = (lock, users - 1)


@attrs.frozen
class CallbackOutcome:
    """What the processor decided for one request.

    Attributes:
        status_code: The HTTP status to answer (see the module documentation).
        reason: A short text for the answer's body; never personal data or the secret.
        callback: The verified callback, if the body verified.
        duplicate: ``True`` when the event was handled before and the handler did not run.
        error: The exception that made the answer a failure, if any.
    """

    status_code: int
    reason: str
    callback: Callback | None = None
    duplicate: bool = False
    error: BaseException | None = attrs.field(default=None, eq=False)

    @property
    def ok(self) -> bool:
        """Whether the answer tells Qvickly to stop sending this callback."""
        return self.status_code == 200


class CallbackProcessor:
    """Verify callbacks, handle each payment event once, and pick the answer for Qvickly.

    Args:
        handler: ``async def handler(callback: Callback) -> None``; it runs at most once at
            a time per payment number, and only for events not handled before. Raise to
            have Qvickly send the callback again later.
        secret: Your Qvickly secret key (the one callbacks are signed with).
        store: Remembers handled events; default :class:`InMemoryCallbackStore`.
        locks: Per-number locks; default :class:`PaymentLocks` (one process).
        max_body_bytes: Larger bodies are refused with 413.
        handler_timeout: Seconds the handler may take before the answer is 503 (``None``:
            no limit of our own). Qvickly's own patience is not documented: keep handlers
            short and move long work to a queue.

    The handler may still run twice for one event when the process dies between its return
    and the store's ``mark_handled`` (or the store is not shared): make it idempotent.
    """

    def __init__(
        self,
        handler: CallbackHandler,
        *,
        secret: str | bytes | Secret,
        store: CallbackStore | None = None,
        locks: LockFactory | None = None,
        max_body_bytes: int = DEFAULT_MAX_CALLBACK_BYTES,
        handler_timeout: float | None = None,
    ) -> None:
        if not callable(handler):
            raise QvicklyInputError("handler must be an async function taking a Callback")
        self._handler = handler
        secret = self._secret = _secret(secret)  # rebound: no raw secret in this frame
        self.store: CallbackStore = store if store is not None else InMemoryCallbackStore()
        self._locks: LockFactory = locks if locks is not None else PaymentLocks()
        if not _is_positive_int(max_body_bytes):
            raise QvicklyInputError(f"max_body_bytes must be an int >= 1, got {max_body_bytes!r}")
        self.max_body_bytes = max_body_bytes
        if handler_timeout is not None and not handler_timeout > 0:
            raise QvicklyInputError("handler_timeout must be a positive number of seconds")
        self._timeout = handler_timeout

    def __repr__(self) -> str:
        return (
            f"<CallbackProcessor handler={getattr(self._handler, '__qualname__', '?')} "
            f"store={type(self.store).__name__}>"
        )

    async def process(self, body: bytes, content_type: str | None = None) -> CallbackOutcome:
        """Verify ``body``, run the handler unless the event was handled, return the answer.

        Never raises for a bad body or a failing handler (only ``CancelledError``
        propagates): the outcome's status code says what happened.
        """
        if len(body) > self.max_body_bytes:
            return CallbackOutcome(413, "callback body too large")
        try:
            callback = parse_callback(
                body,
                secret=self._secret,
                content_type=content_type,
                max_bytes=self.max_body_bytes,
            )
        except QvicklySignatureError as error:
            logger.warning("refused a callback: %s", error)
            return CallbackOutcome(403, "signature missing or wrong", error=error)
        except QvicklyError as error:
            logger.warning("refused a callback: %s", scrub(str(error)))
            return CallbackOutcome(400, "malformed callback", error=error)
        return await self.handle(callback)

    async def handle(self, callback: Callback) -> CallbackOutcome:
        """Run the handler for an already verified ``callback`` unless it was handled."""
        number = callback.number
        key = callback.dedupe_key
        try:
            async with self._locks(number):
                if await self.store.is_handled(key):
                    return CallbackOutcome(200, "already handled", callback, duplicate=True)
                try:
                    async with asyncio.timeout(self._timeout):
                        await self._handler(callback)
                except TimeoutError as error:
                    logger.error(
                        "callback handler for payment %s timed out after %s s",
                        number,
                        self._timeout,
                    )
                    return CallbackOutcome(503, "handler timed out", callback, error=error)
                except Exception as error:
                    # Scrubbed: a handler's message may quote the customer.
                    logger.error(
                        "callback handler for payment %s (%s) failed; Qvickly will retry: %s: %s",
                        number,
                        callback.status,
                        type(error).__name__,
                        scrub(str(error)),
                        exc_info=logger.isEnabledFor(logging.DEBUG),
                    )
                    return CallbackOutcome(503, "handler failed", callback, error=error)
                await self.store.mark_handled(key)
        except Exception as error:  # the store or a lock failed
            logger.error(
                "callback store or lock failed for payment %s: %s: %s",
                number,
                type(error).__name__,
                scrub(str(error)),
                exc_info=logger.isEnabledFor(logging.DEBUG),
            )
            return CallbackOutcome(503, "callback store unavailable", callback, error=error)
        return CallbackOutcome(200, "ok", callback)
