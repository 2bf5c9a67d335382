"""get_payment_info against the sandbox: typed, complete, consistent with the invoices."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

import attrs
import httpx
import pytest

from qvickly_async import (
    AsyncQvickly,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    QvicklyInputError,
    QvicklyNotFoundError,
)
from qvickly_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio


def thaw(value: object) -> object:
    """Read-only mappings and tuples back to the dicts and lists JSON decodes to."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(item) for item in value]
    return value


async def test_an_invoice_number_gives_its_payment_with_every_block() -> None:
    async with AsyncQvickly.for_sandbox(keep_raw=True) as client:
        invoices = await client.get_invoices_by_customer("10001")
        assert client.sandbox is not None
        for invoice in invoices:
            payment = await client.get_payment_info(invoice.number)
            assert isinstance(payment, Payment)
            assert payment.number == invoice.number
            wire = client.sandbox.expected_payment(invoice.number)
            assert wire is not None
            assert thaw(payment.raw) == wire
            data = wire["PaymentData"]
            assert payment.payment_data is not None
            assert payment.payment_data.method == PaymentMethod(int(data["method"]))
            assert payment.status == InvoiceStatus(data["status"]) == invoice.status
            assert payment.payment_data.order_id == data["orderid"]
            total = wire["Cart"]["Total"]["withtax"]
            assert payment.total == Decimal(total) / 100 == invoice.to_pay
            assert payment.card is not None and payment.settlement is not None
            assert payment.settlement.date is None  # "0000-00-00"
            assert payment.customer is not None
            assert payment.customer.pno == wire["Customer"]["pno"]
            assert payment.payment_info is not None
            assert payment.payment_info.payment_date == date.fromisoformat(
                wire["PaymentInfo"]["paymentdate"]
            )
            assert len(payment.articles) == len(wire["Articles"])
            for article, line in zip(payment.articles, wire["Articles"], strict=True):
                assert article.unit_price == Decimal(line["aprice"]) / 100
                assert article.tax == Decimal(line["tax"]) / 100
                assert article.quantity == Decimal(line["quantity"])


async def test_an_int_number_is_sent_as_text_and_unknown_numbers_are_not_found() -> None:
    async with AsyncQvickly.for_sandbox(keep_raw=True) as client:
        payment = await client.get_payment_info(10001000)
        assert payment.number == "10001000"
        with pytest.raises(QvicklyNotFoundError) as caught:
            await client.get_payment_info("999")
        assert caught.value.code == 5201


@pytest.mark.parametrize(
    "number",
    ["", " 1001", "10-01", "abc", "1" * 21, "\uff11\uff12\uff13", -5, 0, True, 1.5, None, b"1001"],
)
async def test_malformed_numbers_are_refused_before_sending(number: object) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    async with AsyncQvickly(
        merchant_id="1", secret="s", transport=httpx.MockTransport(handler)
    ) as client:
        with pytest.raises(QvicklyInputError):
            await client.get_payment_info(number)  # type: ignore[arg-type]
    assert sent == []


def _flat_row(number: int) -> dict[str, object]:
    return {
        "status": "Sent",
        "name": "Åsa Öberg",
        "invoicedate": "2024-01-02",
        "duedate": "2024-02-01",
        "topay": "1000.50",
        "invoiceid_real": number,
        "fileurl": "https://example.com/a/b.pdf",
        "balancedue": "250.00",
        "invoicetype": "F",
        "distributor_status": "Sent",
    }


async def test_a_users_flat_row_gives_a_nested_payment_of_that_customer(tmp_path: object) -> None:
    import json
    from pathlib import Path

    path = Path(str(tmp_path)) / "customers.json"
    path.write_text(
        json.dumps({"20001": {"pno": "550101-1018", "invoices": [_flat_row(900001)]}}),
        encoding="utf-8",
    )
    sandbox = Sandbox()
    sandbox.load_json(path)
    async with AsyncQvickly.for_sandbox(sandbox, keep_raw=True) as client:
        (invoice,) = await client.get_invoices_by_customer("20001")
        payment = await client.get_payment_info(invoice.number)
    wire = sandbox.expected_payment(900001)
    assert wire is not None and "PaymentData" in wire and "invoiceid_real" not in wire
    assert payment.status == InvoiceStatus.SENT == invoice.status
    assert payment.total == Decimal("1000.50") == invoice.to_pay
    assert payment.payment_info is not None
    assert payment.payment_info.balance_due == Decimal("250.00") == invoice.balance_due
    assert payment.payment_info.payment_date == invoice.invoice_date
    assert payment.payment_data is not None
    assert payment.payment_data.url == invoice.file_url
    assert payment.customer is not None
    assert payment.customer.number == "20001"
    assert payment.customer.pno == "550101-1018"
    assert payment.customer.billing is not None
    assert payment.customer.billing.display_name == "Åsa Öberg"


async def test_a_users_nested_invoice_is_its_payment() -> None:
    from qvickly_async.models import Cart, CartTotal, PaymentData

    sandbox = Sandbox()
    nested = Invoice.from_blocks(
        payment_data=PaymentData(number="900002", status=InvoiceStatus.PAID, currency="EUR"),
        cart=Cart(total=CartTotal(with_tax=Decimal("99.90"))),
    )
    sandbox.add_customer("20002", [nested])
    async with AsyncQvickly.for_sandbox(sandbox, keep_raw=True) as client:
        payment = await client.get_payment_info("900002")
    assert payment.payment_data is not None and nested.payment_data is not None
    shared = [field.name for field in attrs.fields(PaymentData)]
    assert [getattr(payment.payment_data, name) for name in shared] == [
        getattr(nested.payment_data, name) for name in shared
    ]
    assert isinstance(payment.payment_data, PaymentData)
    assert payment.cart == nested.cart


def test_payment_repr_masks_personal_data() -> None:
    from qvickly_async import Address, Customer

    payment = Payment(
        number="1",
        customer=Customer(
            number="550101-1018",
            pno="550101-1018",
            billing=Address(first_name="Tess", email="tess@example.com", phone="0701234567"),
        ),
    )
    text = repr(payment)
    for secret in ("Tess", "tess@example.com", "0701234567", "0101-1018"):
        assert secret not in text
