"""AsyncQvickly.confirm_callback: the payment as getPaymentinfo reports it decides."""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator
from typing import Any

import pytest

from qvickly_async import (
    AsyncQvickly,
    InvoiceStatus,
    Payment,
    QvicklyCallbackMismatchError,
    QvicklyInputError,
    QvicklyNotFoundError,
)
from qvickly_async.callbacks import (
    Callback,
    CallbackStatus,
    parse_callback,
    parse_redirect,
    statuses_agree,
)
from qvickly_async.sandbox import FunctionCall, Sandbox, callback_body, callback_data
from qvickly_async.sandbox import redirect_params as signed_redirect

pytestmark = pytest.mark.anyio

PAYMENT = "10001000"  # a demo payment whose status is Paid


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox()


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[AsyncQvickly]:
    async with AsyncQvickly.for_sandbox(sandbox) as client:
        yield client


def callback(sandbox: Sandbox, number: str, status: str) -> Callback:
    body = callback_body(callback_data(number, status), secret=sandbox.secret)
    return parse_callback(body, secret=sandbox.secret)


async def test_an_agreeing_callback_is_confirmed(sandbox: Sandbox, client: AsyncQvickly) -> None:
    assert (sandbox.expected_payment(PAYMENT) or {})["PaymentData"]["status"] == "Paid"
    confirmation = await client.confirm_callback(callback(sandbox, PAYMENT, "paid"))
    assert confirmation.agrees
    assert confirmation.payment_status is InvoiceStatus.PAID
    assert isinstance(confirmation.payment, Payment)
    assert confirmation.payment.number == PAYMENT
    assert sandbox.counters.calls("getPaymentinfo", key=PAYMENT) == 1


async def test_a_disagreeing_callback_raises_with_the_current_status(
    sandbox: Sandbox, client: AsyncQvickly
) -> None:
    stale = callback(sandbox, PAYMENT, "created")
    with pytest.raises(QvicklyCallbackMismatchError) as caught:
        await client.confirm_callback(stale)
    error = caught.value
    assert (error.number, error.callback_status, error.payment_status) == (
        PAYMENT,
        "created",
        "Paid",
    )
    assert "now 'Paid'" in str(error)
    restored = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (restored.number, restored.payment_status) == (PAYMENT, "Paid")
    confirmation = await client.confirm_callback(stale, raise_on_mismatch=False)
    assert not confirmation.agrees and confirmation.payment_status == "Paid"


async def test_a_redirect_is_confirmed_the_same_way(sandbox: Sandbox, client: AsyncQvickly) -> None:
    sandbox.set_payment_status(PAYMENT, "Rejected", test_mode=None)
    params = signed_redirect(callback_data(PAYMENT, "denied"), secret=sandbox.secret)
    redirect = parse_redirect(params, secret=sandbox.secret)
    confirmation = await client.confirm_callback(redirect)  # denied == Rejected
    assert redirect.status is CallbackStatus.DENIED
    assert confirmation.agrees and confirmation.payment_status is InvoiceStatus.REJECTED


async def test_an_answer_for_another_number_is_a_mismatch(
    sandbox: Sandbox, client: AsyncQvickly
) -> None:
    def other_payment(call: FunctionCall) -> Any:
        found = sandbox.expected_payment(PAYMENT)
        assert found is not None
        found["PaymentData"]["number"] = "99999"
        return found

    sandbox.register_function("getPaymentinfo", other_payment)
    with pytest.raises(QvicklyCallbackMismatchError, match="answered for payment 99999"):
        await client.confirm_callback(callback(sandbox, PAYMENT, "paid"))


async def test_bad_input_and_unknown_payments_raise_typed_errors(
    sandbox: Sandbox, client: AsyncQvickly
) -> None:
    with pytest.raises(QvicklyInputError):
        await client.confirm_callback({"number": PAYMENT})  # type: ignore[arg-type]
    with pytest.raises(QvicklyNotFoundError):
        await client.confirm_callback(callback(sandbox, "99999999", "paid"))


@pytest.mark.parametrize(
    ("callback_status", "payment_status", "agree"),
    [
        (CallbackStatus.PAID, "Paid", True),
        (CallbackStatus.PAID, "PAID", True),
        (CallbackStatus.PAID, "Created", False),
        (CallbackStatus.DENIED, "Rejected", True),
        (CallbackStatus.DENIED, "Denied", True),
        (CallbackStatus.CANCELLED, "Canceled", True),
        (CallbackStatus.CANCELLED, "Cancelled", True),
        (CallbackStatus.APPROVED, "Approved", True),
        (CallbackStatus.PENDING, "Paid", False),
        ("Step2Loaded", "step2loaded", True),
        ("Step2Loaded", "Paid", False),
    ],
)
def test_status_agreement(
    callback_status: CallbackStatus | str, payment_status: str, agree: bool
) -> None:
    assert statuses_agree(callback_status, payment_status) is agree
