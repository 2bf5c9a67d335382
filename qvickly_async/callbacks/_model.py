"""The verified :class:`Callback` and its tolerant :class:`CallbackStatus`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from .._logging import redact

__all__ = ["Callback", "CallbackSource", "CallbackStatus", "dedupe_key_for", "status_from"]

#: Where a callback came from: the server's ``callbackurl`` POST or a browser redirect.
CallbackSource = Literal["callback", "redirect"]


class CallbackStatus(enum.StrEnum):
    """A callback's ``status``, matched case-insensitively (``canceled`` is ``cancelled``).

    These are the values Qvickly's own plugins handle. A value not listed here is kept as
    the plain string it arrived as (see :attr:`Callback.status`).
    """

    PENDING = "pending"
    CREATED = "created"
    PAID = "paid"
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @classmethod
    def _missing_(cls, value: object) -> CallbackStatus | None:
        if isinstance(value, str):
            folded = value.strip().casefold()
            if folded == "canceled":
                folded = "cancelled"
            for member in cls:
                if member.value == folded:
                    return member
        return None


def status_from(value: str) -> CallbackStatus | str:
    """Return the :class:`CallbackStatus` for ``value``, or ``value`` itself if unknown."""
    try:
        return CallbackStatus(value)
    except ValueError:
        return value


def dedupe_key_for(number: str, status: CallbackStatus | str) -> str:
    """Return the key that identifies one payment event: ``"<number>:<status in lower case>"``.

    Qvickly repeats the same event until it gets a success, and a redirect reports the same
    event as the callback, so every copy of an event gets the same key.
    """
    text = status.value if isinstance(status, CallbackStatus) else status.strip().casefold()
    return f"{number}:{text}"


@attrs.frozen(repr=False)
class Callback:
    """A verified callback or redirect from Qvickly.

    Only :func:`~qvickly_async.callbacks.parse_callback` and
    :func:`~qvickly_async.callbacks.parse_redirect` build these, after the signature checked
    out. ``repr`` masks personal data found in :attr:`data`.

    Attributes:
        number: The payment (invoice) number.
        status: A :class:`CallbackStatus`, or the string as sent when Qvickly used a value
            this version does not know.
        order_id: The shop's order id (``orderid``), if the callback carries one.
        url: The payment's ``url`` (invoice PDF or payment window), if present.
        data: The whole verified ``data`` object, unknown keys included.
        dedupe_key: Equal for every copy of the same payment event (see
            :func:`dedupe_key_for`); use it to handle each event once.
        source: ``"callback"`` (the ``callbackurl`` POST) or ``"redirect"``
            (``accepturl``/``cancelurl``).
    """

    number: str
    status: CallbackStatus | str
    order_id: str | None
    url: str | None
    data: Mapping[str, Any] = attrs.field(hash=False)
    dedupe_key: str
    source: CallbackSource = "callback"

    def __repr__(self) -> str:
        return (
            f"Callback(number={self.number!r}, status={self.status!r}, "
            f"order_id={self.order_id!r}, "
            f"source={self.source!r}, data={redact(dict(self.data))!r})"
        )
