"""Every typed read against the sandbox returns what the sandbox sent (checked by hand)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx
import pytest

from qvickly_async import AsyncQvickly, QvicklyNotFoundError, QvicklyValidationError
from qvickly_async.sandbox import Sandbox

from ..sandbox._handmade import envelope, verified

pytestmark = pytest.mark.anyio


def thaw(value: object) -> object:
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(item) for item in value]
    return value


def by_hand(sandbox: Sandbox, function: str, data: Any) -> Any:
    with httpx.Client(transport=httpx.MockTransport(sandbox.handler)) as client:
        body = client.post("http://sandbox.invalid/", content=envelope(function, data)).content
    return verified(body)


@pytest.mark.parametrize("shape", ["flat", "nested", "mixed"])
async def test_invoices_by_pno_match_the_customers_invoices(shape: str) -> None:
    sandbox = Sandbox()
    sandbox.configure(invoice_shape=shape)
    pno = sandbox.pno_of(10007)
    async with AsyncQvickly.for_sandbox(sandbox, keep_raw=True) as client:
        sent = await client.get_invoices_by_pno(pno)
        both = await client.get_invoices_by_pno(pno, statuses="Sent,Paid")
        everything = {
            invoice.number: invoice for invoice in await client.get_invoices_by_customer("10007")
        }
    assert [thaw(invoice.raw) for invoice in sent] == by_hand(
        sandbox, "getInvoicesByPno", {"pno": pno, "status": "Sent"}
    )
    assert [thaw(invoice.raw) for invoice in both] == by_hand(
        sandbox, "getInvoicesByPno", {"pno": pno, "status": "Sent,Paid"}
    )
    for invoice in sent + both:
        same = everything[invoice.number]
        # (flat rows' topay is what is left to pay; a nested row's is the cart total)
        assert (invoice.status, invoice.due_date) == (same.status, same.due_date)


async def test_account_info_is_what_the_sandbox_sent() -> None:
    async with AsyncQvickly.for_sandbox(keep_raw=True) as client:
        account = await client.get_account_info()
        assert client.sandbox is not None
        wire = by_hand(client.sandbox, "getAccountinfo", {"dummy": "1"})
    assert thaw(account.raw) == wire
    assert account.company == wire["company"]
    assert [str(option.method) for option in account.payment_options] == [
        option["method"] for option in wire["paymentoptions"]
    ]


async def test_address_is_the_customers_address() -> None:
    sandbox = Sandbox()
    pno = sandbox.pno_of(10001)
    async with AsyncQvickly.for_sandbox(sandbox, keep_raw=True) as client:
        address = await client.get_address(pno)
        payment = await client.get_payment_info("10001000")
        with pytest.raises(QvicklyNotFoundError):
            await client.get_address("5501011019")
    wire = by_hand(sandbox, "getAddress", {"pno": pno})
    assert (address.first_name, address.last_name, address.street, address.zip_code) == (
        wire["firstname"],
        wire["lastname"],
        wire["street"],
        wire["zip"],
    )
    assert (address.city, address.phone, address.email) == (
        wire["city"],
        wire["phone"],
        wire["email"],
    )
    assert payment.customer is not None and payment.customer.billing is not None
    assert address.street == payment.customer.billing.street


async def test_payment_plans_are_what_the_sandbox_sent() -> None:
    sandbox = Sandbox()
    async with AsyncQvickly.for_sandbox(sandbox, keep_raw=True) as client:
        plans = await client.get_payment_plans(total_with_tax=Decimal("300"))
        with pytest.raises(QvicklyValidationError) as caught:
            await client.get_payment_plans(currency="EUR")
    assert caught.value.code == 6012
    wire = by_hand(
        sandbox,
        "getPaymentplans",
        {
            "PaymentData": {
                "currency": "SEK",
                "country": "SE",
                "language": "sv",
                "totalwithtax": "30000",
            }
        },
    )
    assert len(plans) == len(wire) == 2
    for plan, sent in zip(plans, wire, strict=True):
        assert plan.payment_plan_id == sent["paymentplanid"]
        assert plan.months == int(sent["nbrofmonths"])
        assert plan.monthly_cost == Decimal(sent["monthlycost"]) / 100
        assert plan.total_fee == Decimal(sent["totalfee"]) / 100
        assert plan.start_fee == Decimal(sent["startfee"]) / 100


async def test_an_invoices_checkout_by_url() -> None:
    sandbox = Sandbox()
    async with AsyncQvickly.for_sandbox(sandbox, keep_raw=True) as client:
        (invoice, *_) = await client.get_invoices_by_customer("10001")
        checkout = await client.get_checkout(sandbox.checkout_url(invoice.number))
    checkout_hash = sandbox.checkout_url(invoice.number).rsplit("/", 1)[1]
    assert checkout.checkout_hash == checkout_hash
    assert thaw(checkout.raw) == by_hand(
        sandbox, "getCheckout", {"PaymentData": {"hash": checkout_hash}}
    )
    assert checkout.payment_data is not None and checkout.payment_data.order is not None
    assert checkout.payment_data.order.number == invoice.number
    assert checkout.payment_data.order.status == invoice.status
    assert checkout.cart is not None and checkout.cart.total is not None
    assert checkout.cart.total.with_tax == invoice.to_pay


async def test_payment_infos_batch_matches_single_lookups() -> None:
    async with AsyncQvickly.for_sandbox(keep_raw=True) as client:
        numbers = [invoice.number for invoice in await client.get_invoices_by_customer("10007")]
        results = await client.get_payment_infos(numbers, concurrency=8)
        assert [result.key for result in results] == numbers
        single = await client.get_payment_info(numbers[17])
    assert all(result.ok for result in results)
    assert results[17].unwrap() == single
