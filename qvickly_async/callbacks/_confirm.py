"""Confirm a callback or redirect against getPaymentinfo: the server's word, not the sender's.

:meth:`qvickly_async.AsyncQvickly.confirm_callback` calls :func:`confirm`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import attrs

from ..exceptions import QvicklyCallbackMismatchError, QvicklyDecodeError, QvicklyInputError
from ..models import InvoiceStatus
from ._model import Callback, CallbackStatus

if TYPE_CHECKING:
    from .._client import AsyncQvickly
    from .._read_models import Payment

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
        payment: The payment as ``AsyncQvickly.get_payment_info`` returned it.
        payment_status: The payment's current status (``PaymentData.status``).
        agrees: Whether number and status agree. Always ``True`` unless
            ``raise_on_mismatch=False`` was passed.
    """

    callback: Callback
    payment: Payment = attrs.field(repr=False)
    payment_status: InvoiceStatus | str
    agrees: bool


def _reported_number(payment: Payment) -> str:
    """Return the number the answer itself names (``PaymentData.number``), else the asked one."""
    block = payment.payment_data
    named = block.number if block is not None else None
    return named if named is not None and named.strip() else payment.number


async def confirm(
    client: AsyncQvickly, callback: object, *, raise_on_mismatch: bool = True
) -> CallbackConfirmation:
    """Fetch ``callback.number`` with getPaymentinfo and check number and status agree."""
    if not isinstance(callback, Callback):
        raise QvicklyInputError(
            f"confirm_callback takes a Callback (from parse_callback or parse_redirect), "
            f"not {type(callback).__name__}"
        )
    payment = await client.get_payment_info(callback.number)
    status = payment.status
    if status is None or not str(status).strip():
        raise QvicklyDecodeError(
            "getPaymentinfo: the payment has no PaymentData.status",
            function="getPaymentinfo",
            path="payment.PaymentData.status",
        )
    problems = []
    number = _reported_number(payment)
    if number != callback.number:
        problems.append(f"getPaymentinfo answered for payment {number}")
    if not statuses_agree(callback.status, str(status)):
        problems.append(f"the payment's status is now {str(status)!r}")
    if problems and raise_on_mismatch:
        raise QvicklyCallbackMismatchError(
            f"the {callback.source} for payment {callback.number} says {str(callback.status)!r} "
            f"but {' and '.join(problems)}",
            number=callback.number,
            callback_status=str(callback.status),
            payment_status=str(status),
        )
    return CallbackConfirmation(callback, payment, status, agrees=not problems)
