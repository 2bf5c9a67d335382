"""State-changing functions the sandbox emulates, each a payment event with its callback.

``cancelPayment``, as the API documents it: ``{"number"}`` (or ``{"PaymentData": {"number"}}``)
cancels a payment that is still ``Created``; getPaymentinfo reports ``Cancelled`` from then
on, and the signed ``cancelled`` callback goes to the sandbox's callback URL
(:meth:`Sandbox.configure_callbacks`) or, without one, to the payment's own ``callbackurl``
when that is a loopback address (the demo data's shop URL is not, so it gets none).
Errors: 5200 without a number, 5201 for an unknown payment, 5220 when it is already
cancelled, 5209 when it was sent (activated) already.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from ._functions import FunctionCall, FunctionError, Registry

if TYPE_CHECKING:
    from ._callback_events import PaymentEvents

__all__ = ["register_payment_functions"]

_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})


def _number(call: FunctionCall) -> str | None:
    number = call.field("number")
    if number is None and isinstance(call.data, dict):
        block = call.data.get("PaymentData")
        if isinstance(block, dict):
            value = block.get("number")
            if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
                number = str(value)
    return number


def _callback_url(events: PaymentEvents, payment: dict[str, Any]) -> str | None:
    if events.url is not None:
        return events.url
    block = payment.get("PaymentData")
    own = block.get("callbackurl") if isinstance(block, dict) else None
    if not isinstance(own, str) or not own.startswith(("http://", "https://")):
        return None
    return own if urlsplit(own).hostname in _LOOPBACK else None


def _cancel_payment(events: Callable[[], PaymentEvents]) -> Callable[[FunctionCall], Any]:
    def cancel_payment(call: FunctionCall) -> dict[str, Any]:
        """Cancel a ``Created`` payment and send its ``cancelled`` callback."""
        number = _number(call)
        if number is None:
            raise FunctionError(5200)
        store = call.store
        payment = store.payment(number, test=call.test)
        if payment is None:
            raise FunctionError(5201)
        block = payment.get("PaymentData")
        block = block if isinstance(block, dict) else {}
        status = str(block.get("status", ""))
        if status.casefold() in ("cancelled", "canceled"):
            raise FunctionError(5220)
        if status.casefold() not in ("created", "pending", "waitingforpurchase", ""):
            raise FunctionError(5209)
        target = _callback_url(events(), payment)
        if target is not None:
            events().payment_event(number, "cancelled", url=target, test_mode=call.test)
        else:
            store.set_payment_status(number, "Cancelled", test=call.test)
        return {
            "number": number,
            "status": "Cancelled",
            "orderid": str(block.get("orderid", "")),
            "url": str(block.get("url", "")),
        }

    return cancel_payment


def register_payment_functions(registry: Registry, events: Callable[[], PaymentEvents]) -> None:
    """Answer the emulated state-changing functions (``cancelPayment``) in ``registry``."""
    registry.register("cancelPayment", _cancel_payment(events))
