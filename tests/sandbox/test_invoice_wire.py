"""The sandbox's own Invoice encoder: spelled from the protocol, independent of the SDK's codec.

The sandbox used to serve users' ``Invoice`` objects through the SDK's own codec, so a wrong
wire key in the codec round-tripped perfectly and a user's sandbox test passed where
production would fail. These tests put a deliberately wrong key into a copy of the codec and
check that a sandbox round trip through the client notices.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import qvickly_async
from qvickly_async import AsyncQvickly
from qvickly_async.models import (
    Address,
    Article,
    Cart,
    CartCharge,
    CartTotal,
    CompanySigner,
    Customer,
    Invoice,
    InvoiceStatus,
    InvoiceType,
    PaymentData,
    PaymentInfo,
    PaymentMethod,
)
from qvickly_async.sandbox import Sandbox

CUSTOMER = "60001"

# getInvoicesByCustomer's documented flat row keys, in the documented order.
FLAT_KEYS = [
    "status", "name", "invoicedate", "duedate", "topay", "invoiceid_real", "fileurl",
    "balancedue", "invoicetype", "distributor_status", "creditinvoiceid", "hash",
    "mm3servicesid", "mexcModulesid", "mexcCustomerinvoicesid",
]  # fmt: skip
# getInvoicesByCustomer's "Response from server" keys (plus the getPaymentinfo keys the models
# carry: paymentplanid, company, tax).
PAYMENT_DATA_KEYS = {
    "method", "paymentplanid", "currency", "country", "language", "autoactivate", "orderid",
    "status", "paymentid_related", "accepturl", "cancelurl", "returnmethod", "callbackurl",
    "alladdresses", "url", "mexcCustomerinvoicesid", "number", "duedate", "paiddate",
}  # fmt: skip
ADDRESS_KEYS = {
    "firstname", "lastname", "company", "type", "street", "street2", "zip", "city", "country",
    "phone", "email",
}  # fmt: skip
ARTICLE_KEYS = {"artnr", "title", "quantity", "aprice", "tax", "discount", "withouttax", "taxrate"}
PAYMENT_INFO_KEYS = {
    "paymentdate", "paymentterms", "yourreference", "ourreference", "projectname",
    "deliverymethod", "deliveryterms", "invoiceStatus", "balancedue",
}  # fmt: skip


def _full_nested() -> Invoice:
    """A nested invoice with a distinct value in every field."""
    address = Address(
        first_name="Tess",
        last_name="T",
        company="Acme",
        customer_type="company",
        street="Testgatan 1",
        street2="c/o",
        zip_code="12345",
        city="Testinge",
        country="SE",
        phone="0700000000",
        email="t@example.com",
    )
    return Invoice.from_blocks(
        payment_data=PaymentData(
            method=PaymentMethod.CARD,
            payment_plan_id="77",
            currency="SEK",
            country="SE",
            language="sv",
            auto_activate="0",
            order_id="P-1",
            status=InvoiceStatus.SENT,
            related_payment_id="4",
            accept_url="https://shop.example/a",
            cancel_url="https://shop.example/c",
            return_method="GET",
            callback_url="https://shop.example/cb",
            all_addresses="1",
            url="https://api.example/i/1",
            mexc_customer_invoices_id="555",
            number="9001",
            due_date=date(2024, 5, 9),
        ),
        cart=Cart(
            handling=CartCharge(without_tax=Decimal("29.00"), tax_rate=Decimal("25")),
            shipping=CartCharge(without_tax=Decimal("49.00"), tax_rate=Decimal("12")),
            total=CartTotal(
                rounding=Decimal("-0.03"),
                without_tax=Decimal("100.00"),
                tax=Decimal("25.00"),
                with_tax=Decimal("124.97"),
            ),
        ),
        customer=Customer(
            number="20001",
            pno="550101-1018",
            billing=address,
            shipping=address,
            company_signer=CompanySigner(pno="19700101-1234"),
        ),
        articles=[
            Article(
                article_number="A1",
                title="Thing",
                quantity=Decimal("1.5"),
                unit_price=Decimal("19.99"),
                discount=Decimal("10"),
                without_tax=Decimal("26.99"),
                tax_rate=Decimal("25"),
                tax=Decimal("6.75"),
            )
        ],
        payment_info=PaymentInfo(
            payment_date=date(2024, 5, 4),
            payment_terms=5,
            your_reference="Ref",
            our_reference="Our",
            project_name="Proj",
            delivery_method="Post",
            delivery_terms="FOB",
            invoice_status=InvoiceStatus.PAID,
            balance_due=Decimal("124.97"),
        ),
        invoice_type=InvoiceType.INVOICE,
        invoice_hash="abc",
    )


def _full_flat() -> Invoice:
    return Invoice(
        number="9002",
        invoice_type=InvoiceType.CREDIT,
        status=InvoiceStatus.SENT,
        distributor_status="Sent",
        customer_name="Åsa Öberg",
        invoice_date=date(2024, 1, 2),
        due_date=date(2024, 2, 1),
        to_pay=Decimal("-1000.00"),
        balance_due=Decimal("-10.50"),
        file_url="https://example.com/a.pdf",
        invoice_hash="h",
        credit_invoice_id="9000",
        mm3_services_id="1",
        mexc_modules_id="2",
        mexc_customer_invoices_id="3",
    )


async def _round_trip(invoices: list[Invoice]) -> tuple[list[Invoice], list[dict[str, Any]]]:
    """Serve ``invoices`` from a sandbox and read them back as a user would."""
    sandbox = Sandbox()
    sandbox.add_customer(CUSTOMER, invoices)
    async with AsyncQvickly.for_sandbox(sandbox) as client:
        decoded = await client.get_invoices_by_customer(CUSTOMER)
        rows = await client.call("getInvoicesByCustomer", {"customerno": CUSTOMER})
    return decoded, rows


def test_rows_use_the_protocol_spelling() -> None:
    _, rows = asyncio.run(_round_trip([_full_flat(), _full_nested()]))
    flat, nested = rows
    assert list(flat) == FLAT_KEYS
    assert list(nested)[:5] == ["Cart", "PaymentData", "Customer", "Articles", "PaymentInfo"]
    assert set(nested["Cart"]) == {"Handling", "Shipping", "Total"}
    assert set(nested["PaymentData"]) == PAYMENT_DATA_KEYS
    customer = nested["Customer"]
    assert isinstance(customer, dict)
    assert set(customer) == {"nr", "pno", "Billing", "Shipping", "companySigner"}
    assert set(customer["Billing"]) == ADDRESS_KEYS
    assert set(nested["Articles"][0]) == ARTICLE_KEYS
    assert set(nested["PaymentInfo"]) == PAYMENT_INFO_KEYS
    # Nested amounts in öre, flat ones in currency units with two decimals.
    assert nested["Cart"]["Total"]["withtax"] == "12497"
    assert flat["balancedue"] == "-10.50"


def test_every_field_round_trips_through_the_sandbox() -> None:
    invoices = [_full_flat(), _full_nested()]
    decoded, _ = asyncio.run(_round_trip(invoices))
    assert decoded == invoices
    nested = decoded[1]
    assert nested.payment_data is not None and nested.payment_data.extra == {}
    assert nested.extra == {} and decoded[0].extra == {}


def _load_mutant(old: str, new: str) -> ModuleType:
    """A copy of the SDK's codec with one line changed (a wrong wire key, say)."""
    import qvickly_async._codec as real

    source = Path(real.__file__).read_text(encoding="utf-8")
    assert source.count(old) == 1, old
    spec = importlib.util.spec_from_loader("qvickly_async._codec", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__file__ = real.__file__
    exec(compile(source.replace(old, new), real.__file__, "exec"), module.__dict__)  # noqa: S102
    return module


def _install(monkeypatch: pytest.MonkeyPatch, mutant: ModuleType) -> None:
    """Make every part of the SDK (and of the sandbox, if it asks) use ``mutant``."""
    import qvickly_async._codec as real

    monkeypatch.setitem(sys.modules, "qvickly_async._codec", mutant)
    monkeypatch.setattr(qvickly_async, "_codec", mutant, raising=False)
    for name, module in list(sys.modules.items()):
        if name.startswith("qvickly_async.") and module is not mutant:
            for attribute, value in list(vars(module).items()):
                if (
                    callable(value)
                    and value is getattr(real, attribute, None)
                    and getattr(value, "__module__", "") == real.__name__
                ):
                    monkeypatch.setattr(module, attribute, getattr(mutant, attribute))


def test_a_wrong_wire_key_in_the_codec_shows_in_a_sandbox_round_trip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoice = _full_nested()
    _install(monkeypatch, _load_mutant('"order_id": "orderid",', '"order_id": "orderId",'))
    decoded, _ = asyncio.run(_round_trip([invoice]))
    # The sandbox wrote "orderid" (the protocol's spelling); the broken codec looked for
    # "orderId", so the value is missing from the model and lands in ``extra``.
    assert decoded != [invoice]
    payment_data = decoded[0].payment_data
    assert payment_data is not None
    assert payment_data.order_id is None
    assert payment_data.extra == {"orderid": "P-1"}


def test_a_wrong_flat_key_in_the_codec_shows_too(monkeypatch: pytest.MonkeyPatch) -> None:
    invoice = _full_flat()
    _install(monkeypatch, _load_mutant('"to_pay": "topay",', '"to_pay": "to_pay",'))
    decoded, _ = asyncio.run(_round_trip([invoice]))
    assert decoded != [invoice]
    assert decoded[0].to_pay is None
    assert decoded[0].extra == {"topay": "-1000.00"}


def test_raw_rows_are_kept_only_when_asked() -> None:
    async def fetch(**options: Any) -> tuple[list[Invoice], list[Invoice]]:
        sandbox = Sandbox()
        sandbox.add_customer(CUSTOMER, [_full_flat(), _full_nested()])
        async with AsyncQvickly.for_sandbox(sandbox, **options) as client:
            plain = await client.get_invoices_by_customer(CUSTOMER)
            kept = await client.with_options(keep_raw=True).get_invoices_by_customer(CUSTOMER)
        return plain, kept

    plain, kept = asyncio.run(fetch())
    assert plain == kept  # raw takes no part in ==
    assert [invoice.raw for invoice in plain] == [{}, {}]
    assert kept[0].raw["topay"] == "-1000.00"
    assert kept[1].raw["PaymentData"]["orderid"] == "P-1"
    chosen, _ = asyncio.run(fetch(keep_raw=True))
    assert chosen[0].raw["invoiceid_real"] == "9002"
