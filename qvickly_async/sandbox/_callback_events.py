"""Payment events of the sandbox: change a payment's status and tell the shop by callback.

An event sets the payment's ``PaymentData.status`` (getPaymentinfo answers it from then on)
and sends the signed callback ``{"number", "status", "orderid", "url"}`` to the callback URL
with Qvickly's retry schedule. Reached from Python (:meth:`Sandbox.payment_event`,
:attr:`Sandbox.callbacks`) and from the admin endpoint ``/__sandbox__/callbacks``:

=======  ==================================  =================================================
GET      ``/__sandbox__/callbacks``          every callback with its attempts
POST     ``/__sandbox__/callbacks``          a payment event: ``{"number", "status", "url"?,
                                             "test"?, "data"?}`` -> ``{"id"}``
GET      ``/__sandbox__/callbacks/config``   URL and schedule in force
POST     ``/__sandbox__/callbacks/config``   change them: ``{"url"?, "speedup"?, "timeout"?,
                                             "stop_on_404"?}``
=======  ==================================  =================================================
"""

from __future__ import annotations

import json
import threading
import weakref
from typing import TYPE_CHECKING, Any, Final

from ._callback_bodies import callback_body, callback_data
from ._callback_delivery import QVICKLY_RETRY_DELAYS, CallbackDeliveries, check_url
from ._reply import Reply, html_reply, json_reply

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["PaymentEvents", "events_for", "handle_callback_admin"]

_EVENTS: Final[weakref.WeakKeyDictionary[Engine, PaymentEvents]] = weakref.WeakKeyDictionary()
_EVENTS_LOCK: Final = threading.Lock()

# getPaymentinfo spells statuses capitalised; callbacks spell them in lower case.
_PAYMENT_STATUS: Final = {
    "pending": "Pending",
    "created": "Created",
    "paid": "Paid",
    "approved": "Approved",
    "denied": "Rejected",
    "cancelled": "Cancelled",
    "failed": "Failed",
}


def payment_status_for(callback_status: str) -> str:
    """Return the ``PaymentData.status`` a callback status stands for (``paid`` -> ``Paid``)."""
    folded = callback_status.strip().lower()
    return _PAYMENT_STATUS.get(folded, callback_status)


class PaymentEvents:
    """The callback side of one sandbox: where callbacks go, and how they are delivered.

    Attributes:
        url: Where callbacks go when an event names no URL (``None``: an event must name one).
        deliveries: The :class:`CallbackDeliveries` that sends them and records every attempt.
    """

    def __init__(self, engine: Engine, merchant_id: str | None = None) -> None:
        self._engine = engine
        self._merchant_id = merchant_id
        self.url: str | None = None
        self.deliveries = CallbackDeliveries()

    def __repr__(self) -> str:
        return f"<PaymentEvents url={self.url!r} {self.deliveries!r}>"

    def configure(
        self,
        *,
        url: str | None = None,
        speedup: float | None = None,
        timeout: float | None = None,
        stop_on_404: bool | None = None,
        delays: tuple[float, ...] | None = None,
    ) -> None:
        """Change the default URL and, for callbacks sent from now on, the schedule.

        Changing the schedule replaces :attr:`deliveries` (the old records stay readable
        there; its pending callbacks keep going).
        """
        if url is not None:
            self.url = check_url(url)
        if any(value is not None for value in (speedup, timeout, stop_on_404, delays)):
            old = self.deliveries
            self.deliveries = CallbackDeliveries(
                speedup=old.speedup if speedup is None else speedup,
                timeout=old.timeout if timeout is None else timeout,
                stop_on_404=old.stop_on_404 if stop_on_404 is None else stop_on_404,
                delays=old.delays if delays is None else delays,
            )

    def _secret(self) -> bytes:
        merchants = self._engine.merchants
        if self._merchant_id is not None and self._merchant_id in merchants:
            return merchants[self._merchant_id]
        return next(iter(merchants.values()))

    def payment_event(
        self,
        number: str | int,
        status: str,
        *,
        url: str | None = None,
        test_mode: bool | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        """Set payment ``number``'s status and send the signed callback; return its id.

        ``status`` is a callback status (``paid``, ``cancelled``, ...); getPaymentinfo then
        reports it capitalised (``Paid``; ``denied`` as ``Rejected``). ``data`` adds or
        replaces fields of the callback's data. ``test_mode=None`` changes the payment for
        test and live requests alike.
        """
        text = str(number)
        if not text.strip() or not str(status).strip():
            raise ValueError("a payment event needs a payment number and a status")
        target = url if url is not None else self.url
        if target is None:
            raise ValueError(
                "no callback URL: pass url= or set one with sandbox.configure_callbacks(url=...)"
            )
        self._engine.store.set_payment_status(text, payment_status_for(status), test=test_mode)
        payment = self._engine.store.payment(text, test=bool(test_mode))
        block = payment.get("PaymentData") if payment is not None else None
        block = block if isinstance(block, dict) else {}
        fields = callback_data(text, status, order_id=block.get("orderid"), url=block.get("url"))
        if data:
            fields.update(data)
        body = callback_body(fields, secret=self._secret())
        self._engine.cache.clear()
        return self.deliveries.send(target, body, number=text, status=status)

    def send_body(self, url: str, body: bytes, *, number: str = "", status: str = "") -> int:
        """Deliver a ready ``body`` (signed or deliberately not) with the retry schedule."""
        return self.deliveries.send(url, body, number=number, status=status)

    def config_json(self) -> dict[str, Any]:
        """Return the URL and schedule in force, JSON-ready."""
        deliveries = self.deliveries
        return {
            "url": self.url,
            "speedup": deliveries.speedup,
            "timeout": deliveries.timeout,
            "stop_on_404": deliveries.stop_on_404,
            "qvickly_schedule": deliveries.delays == QVICKLY_RETRY_DELAYS,
            "delays": list(deliveries.delays),
        }


def events_for(engine: Engine) -> PaymentEvents:
    """Return the :class:`PaymentEvents` of ``engine`` (made on first use)."""
    with _EVENTS_LOCK:
        found = _EVENTS.get(engine)
        if found is None:
            found = _EVENTS[engine] = PaymentEvents(engine)
        return found


def _json_object(body: bytes) -> dict[str, Any]:
    value = json.loads(body) if body.strip() else {}
    if not isinstance(value, dict):
        raise ValueError("a JSON object is expected")
    return value


def handle_callback_admin(engine: Engine, method: str, route: str, body: bytes) -> Reply:
    """Answer ``/__sandbox__/callbacks`` and ``/__sandbox__/callbacks/config``."""
    events = events_for(engine)
    allowed = {"callbacks": ("GET", "POST"), "callbacks/config": ("GET", "POST")}
    methods = allowed.get(route)
    if methods is None:
        return html_reply(404, "404 Not Found")
    if method not in methods:
        return html_reply(405, "405 Not Allowed", (("Allow", ", ".join(methods)),))
    try:
        options = _json_object(body) if method == "POST" else {}
        if route == "callbacks/config":
            if options:
                events.configure(**options)
            return json_reply(events.config_json())
        if method == "GET":
            records = events.deliveries.records()
            return json_reply({"callbacks": [record.to_json() for record in records]})
        unknown = set(options) - {"number", "status", "url", "test", "data"}
        if unknown:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        callback_id = events.payment_event(
            options.get("number", ""),
            options.get("status", ""),
            url=options.get("url"),
            test_mode=options.get("test"),
            data=options.get("data"),
        )
        return json_reply({"id": callback_id})
    except (ValueError, TypeError) as error:
        return json_reply({"error": str(error)}, status=400)
