"""Verify, deduplicate and confirm what Qvickly sends to your web service.

Qvickly tells a shop about a payment two ways:

* a **callback**: a signed POST to ``callbackurl`` whenever the payment changes, repeated
  until the shop answers with a success (every minute for 10 minutes, hourly for 10 hours,
  daily for 7 days, monthly for 3 months);
* a **redirect** of the customer's browser to ``accepturl`` or ``cancelurl``, as a GET or a
  form POST, carrying the same signed data.

:func:`parse_callback` and :func:`parse_redirect` verify the signature exactly as the client
verifies answers and return a :class:`Callback`. A callback is a notification and a redirect
passes through the customer's hands: confirm either with
:meth:`qvickly_async.AsyncQvickly.confirm_callback` before shipping goods.

:class:`CallbackProcessor` adds the at-least-once bookkeeping (a per-number lock, a store of
handled events, the right status code for Qvickly); :mod:`qvickly_async.callbacks.starlette`
(Starlette, FastAPI) and :mod:`qvickly_async.callbacks.aiohttp` (``aiohttp.web``) make it an
endpoint.
"""

from __future__ import annotations

from ._confirm import CallbackConfirmation, statuses_agree
from ._model import Callback, CallbackSource, CallbackStatus, dedupe_key_for
from ._parse import DEFAULT_MAX_CALLBACK_BYTES, parse_callback, parse_redirect
from ._processing import (
    CallbackHandler,
    CallbackOutcome,
    CallbackProcessor,
    CallbackStore,
    InMemoryCallbackStore,
    LockFactory,
    PaymentLocks,
)

__all__ = [
    "DEFAULT_MAX_CALLBACK_BYTES",
    "Callback",
    "CallbackConfirmation",
    "CallbackHandler",
    "CallbackOutcome",
    "CallbackProcessor",
    "CallbackSource",
    "CallbackStatus",
    "CallbackStore",
    "InMemoryCallbackStore",
    "LockFactory",
    "PaymentLocks",
    "dedupe_key_for",
    "parse_callback",
    "parse_redirect",
    "statuses_agree",
]
