"""Confirm a callback or redirect against getPaymentinfo: the server's word, not the sender's.

:meth:`qvickly_async.AsyncQvickly.confirm_callback` calls :func:`confirm`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from ..exceptions import QvicklyCallbackMismatchError, QvicklyDecodeError
from ._model import Callback, CallbackStatus

if TYPE_CHECKING:
    from .._client import AsyncQvickly

__all__ = ["CallbackConfirmation", "confirm", "statuses_agree"]

# Payment statuses (getPaymentinfo's PaymentData.status, case-folded) that a callback status
# stands for. Qvickly's plugins say "denied" where the credit check says "Rejected".
_SAME: Final[dict[str, frozenset[str]]] = {
    CallbackStatus.DENIED.value: frozenset({"denied", "rejected"}),
    CallbackStatus.CANCELLED.value: frozenset({"cancelled", "canceled"}),
}


def statuses_agree(callback_status: CallbackStatus | str, payment_status: str) -> bool:
    """Whether a callback's status and a payment's ``PaymentData.status`` say the same.

    Case-insensitive; ``denied`` matches ``Rejected``, ``cancelled`` matches ``Canceled``.
    """
    text = (
        callback_status.value
        if isinstance(callback_status, CallbackStatus)
        else callback_status.strip().casefold()
    )
    actual = payment_status.strip().casefold()
    return actual in _SAME.get(text, frozenset({text}))


@attrs.frozen
class CallbackConfirmation:
    """A callback checked against the payment as getPaymentinfo reports it now.

    Attributes:
        callback: The callback or redirect that was checked.
        payment: The payment as getPaymentinfo returned it (the verified ``data``).
        payment_status: The payment's current ``PaymentData.status``.
        agrees: Whether number and status agree. Always ``True`` unless
            ``raise_on_mismatch=False`` was passed.
    """

    callback: Callback
    payment: Mapping[str, Any] = attrs.field(hash=False, repr=False)
    payment_status: str
    agrees: bool


def _payment_facts(payment: Any) -> tuple[str | None, str | None]:
    """Return ``(number, status)`` of a getPaymentinfo answer (the number when it carries one)."""
    if not isinstance(payment, Mapping):
        raise QvicklyDecodeError(
            f"getPaymentinfo: data is a {type(payment).__name__}, not an object",
            function="getPaymentinfo",
            path="data",
        )
    block = payment.get("PaymentData")
    block = block if isinstance(block, Mapping) else {}
    number = block.get("number", payment.get("number"))
    status = block.get("status")
    return (
        None if number is None or number == "" else str(number),
        status if isinstance(status, str) and status.strip() else None,
    )


async def confirm(
    client: AsyncQvickly, callback: object, *, raise_on_mismatch: bool = True
) -> CallbackConfirmation:
    """Fetch ``callback.number`` with getPaymentinfo and check number and status agree."""
    if not isinstance(callback, Callback):
        from ..exceptions import QvicklyInputError

        raise QvicklyInputError(
            f"confirm_callback takes a Callback (from parse_callback or parse_redirect), "
            f"not {type(callback).__name__}"
        )
    payment = await client.call("getPaymentinfo", {"number": callback.number})
    number, status = _payment_facts(payment)
    if status is None:
        raise QvicklyDecodeError(
            "getPaymentinfo: the payment has no PaymentData.status",
            function="getPaymentinfo",
            path="PaymentData.status",
        )
    problems = []
    if number is not None and number != callback.number:
        problems.append(f"getPaymentinfo answered for payment {number}")
    if not statuses_agree(callback.status, status):
        problems.append(f"the payment's status is now {status!r}")
    if problems and raise_on_mismatch:
        raise QvicklyCallbackMismatchError(
            f"the {callback.source} for payment {callback.number} says {str(callback.status)!r} "
            f"but {' and '.join(problems)}",
            number=callback.number,
            callback_status=str(callback.status),
            payment_status=status,
        )
    return CallbackConfirmation(callback, payment, status, agrees=not problems)
