"""``Model.to_dict()``: JSON-ready models that json.dumps, FastAPI and Starlette accept."""

from __future__ import annotations

import inspect
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from qvickly_async import AsyncQvickly, models
from qvickly_async._codec import structure_invoices
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
    Model,
    PaymentData,
    PaymentInfo,
    PaymentMethod,
)
from qvickly_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

MODEL_CLASSES = [
    value
    for name in models.__all__
    if inspect.isclass(value := getattr(models, name)) and attrs.has(value)
]


def nested_invoice() -> Invoice:
    return Invoice.from_blocks(
        payment_data=PaymentData(
            number="77",
            method=PaymentMethod.CARD,
            currency="SEK",
            status="BrandNewStatus",
            due_date=date(2024, 5, 31),
            paid_date=datetime(2024, 5, 4, 12, 30),
            extra={"newKey": {"deep": ["a", 1]}},
        ),
        cart=Cart(
            handling=CartCharge(without_tax=Decimal("49"), tax_rate=Decimal("25")),
            total=CartTotal(with_tax=Decimal("1249.5"), tax=Decimal("249.90"), rounding=None),
        ),
        customer=Customer(
            number="10002",
            pno="5501011234",
            billing=Address(first_name="Tess", last_name="T", email="t@example.com"),
            company_signer=CompanySigner(pno="5501011234"),
        ),
        articles=[
            Article(title="Kaffe", quantity=Decimal("2"), unit_price=Decimal("12.345")),
            Article(title="Retur", unit_price=Decimal("-300")),
        ],
        payment_info=PaymentInfo(payment_date=date(2024, 5, 1), balance_due=Decimal("0")),
        invoice_type=InvoiceType.INVOICE,
        extra={"mexcNew": ("x", {"y": None})},
        raw={"PaymentData": {"number": "77"}, "secret": "RAW-ONLY"},
    )


def test_every_public_model_is_a_model_with_a_documented_to_dict() -> None:
    assert len(MODEL_CLASSES) >= 10
    for cls in MODEL_CLASSES:
        assert issubclass(cls, Model), cls
        assert cls.to_dict.__doc__, cls
        assert json.loads(json.dumps(cls(**_required(cls)).to_dict())) is not None


def _required(cls: type) -> dict[str, Any]:
    return {field.name: "1" for field in attrs.fields(cls) if field.default is attrs.NOTHING}


def test_nested_invoice_to_dict_is_plain_json_data() -> None:
    data = nested_invoice().to_dict()
    assert json.loads(json.dumps(data)) == data  # only str, int, None, bool, list, dict
    # Attribute names as keys, in attribute order; raw left out.
    assert list(data) == [field.name for field in attrs.fields(Invoice) if field.name != "raw"]
    assert "RAW-ONLY" not in json.dumps(data)
    # Money: exact decimal text with two decimals or more, never a float, never rounded.
    assert data["to_pay"] == "1249.50"
    assert data["cart"]["total"]["with_tax"] == "1249.50"
    assert data["cart"]["total"]["tax"] == "249.90"
    assert data["cart"]["total"]["rounding"] is None
    assert data["cart"]["handling"] == {"without_tax": "49.00", "tax_rate": "25", "extra": {}}
    assert data["balance_due"] == "0.00"
    assert data["payment_info"]["balance_due"] == "0.00"
    assert [a["unit_price"] for a in data["articles"]] == ["12.345", "-300.00"]
    assert data["articles"][0]["quantity"] == "2"  # a quantity is no amount
    # Dates in ISO 8601, enums as their values, unknown values as sent.
    assert data["due_date"] == "2024-05-31"
    assert data["paid_date"] == "2024-05-04T12:30:00"
    assert data["payment_info"]["payment_date"] == "2024-05-01"
    assert data["invoice_type"] == "F"
    assert data["shape"] == "nested"
    assert data["status"] == "BrandNewStatus"
    assert data["payment_data"]["method"] == 8
    # extra kept, frozen containers thawed.
    assert data["extra"] == {"mexcNew": ["x", {"y": None}]}
    assert data["payment_data"]["extra"] == {"newKey": {"deep": ["a", 1]}}
    # The personal data is there (to_dict is data, not a log line): masking is for reprs.
    assert data["customer"]["billing"]["email"] == "t@example.com"


def test_to_dict_of_decoded_rows_matches_the_typed_values() -> None:
    [flat] = structure_invoices(
        [
            {
                "invoiceid_real": "1001",
                "status": "paid",
                "topay": "1752",
                "balancedue": "0",
                "invoicedate": "2024-05-01",
                "duedate": "0000-00-00",
                "mexcNew": "kept",
            }
        ]
    )
    data = flat.to_dict()
    assert data["status"] == InvoiceStatus.PAID.value == "Paid"
    assert (data["to_pay"], data["balance_due"]) == ("1752.00", "0.00")
    assert data["due_date"] is None
    assert data["extra"] == {"mexcNew": "kept"}
    assert Decimal(data["to_pay"]) == flat.to_pay


def test_a_new_model_gets_to_dict_for_free() -> None:
    @attrs.frozen(kw_only=True)
    class Refund(Model):
        amount: Decimal | None = attrs.field(default=None, metadata=models._AMOUNT)
        when: date | None = None
        status: InvoiceStatus | str | None = None
        lines: tuple[Article, ...] = ()

    refund = Refund(
        amount=Decimal("5"),
        when=date(2024, 1, 2),
        status=InvoiceStatus.CREDITED,
        lines=(Article(tax=Decimal("1")),),
    )
    assert refund.to_dict() == {
        "amount": "5.00",
        "when": "2024-01-02",
        "status": "Credited",
        "lines": [Article(tax=Decimal("1")).to_dict()],
    }
    assert refund.to_dict()["lines"][0]["tax"] == "1.00"


async def test_fastapi_route_returns_invoices_as_json() -> None:
    sandbox = Sandbox()
    async with AsyncQvickly.for_sandbox(sandbox) as client:
        app = FastAPI()

        @app.get("/customers/{customer}/invoices")
        async def invoices(customer: str) -> list[dict[str, Any]]:
            found = await client.get_invoices_by_customer(customer)
            return [invoice.to_dict() for invoice in found]

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as web:
            response = await web.get("/customers/10001/invoices")
        expected = await client.get_invoices_by_customer("10001")
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body) == len(expected) > 0
    assert body == [invoice.to_dict() for invoice in expected]
    for row, invoice in zip(body, expected, strict=True):
        assert Decimal(row["to_pay"]) == invoice.to_pay
        assert row["to_pay"].count(".") == 1
        assert row["to_pay"].split(".")[1].__len__() >= 2


async def test_starlette_json_response_accepts_to_dict() -> None:
    invoice = nested_invoice()

    async def one(request: Request) -> JSONResponse:
        return JSONResponse(invoice.to_dict())

    app = Starlette(routes=[Route("/invoice", one)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as web:
        response = await web.get("/invoice")
    assert response.status_code == 200
    assert response.json() == invoice.to_dict()
    assert response.json()["to_pay"] == "1249.50"
