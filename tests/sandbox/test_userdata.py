"""Users' own data: wire dicts, attrs invoices and JSON files."""

from __future__ import annotations

import importlib.util
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from qvickly_async.sandbox import Sandbox

from ._handmade import envelope, verified

FLAT = {
    "status": "Sent",
    "name": "Åsa Öberg",
    "invoicedate": "2024-01-02",
    "duedate": "2024-02-01",
    "topay": "1000.00",
    "invoiceid_real": 900001,
    "fileurl": "https://example.com/a/b.pdf",
    "balancedue": 1000,
    "invoicetype": "F",
    "distributor_status": "Sent",
}
NESTED = {
    "PaymentData": {"number": "900002", "status": "Paid", "paiddate": "0000-00-00 00:00:00"},
    "Customer": {"nr": "20001", "pno": "550101-1018"},
    "Cart": {"Total": {"withtax": "12500"}},
}


def call(sandbox: Sandbox, function: str, data: Any) -> Any:
    with httpx.Client(transport=httpx.MockTransport(sandbox.handler)) as client:
        response = client.post("http://sandbox.invalid/", content=envelope(function, data))
    return verified(response.content)


def test_wire_dicts_are_served_as_given() -> None:
    sandbox = Sandbox()
    sandbox.add_customer("20001", [FLAT, NESTED])
    assert call(sandbox, "getInvoicesByCustomer", {"customerno": "20001"}) == [FLAT, NESTED]
    assert sandbox.expected_invoices("20001") == [FLAT, NESTED]
    assert call(sandbox, "getPaymentinfo", {"number": "900002"}) == NESTED
    flat_payment = call(sandbox, "getPaymentinfo", {"number": "900001"})
    assert flat_payment["PaymentData"]["status"] == FLAT["status"]
    assert flat_payment["Customer"]["nr"] == "20001"
    paid = call(sandbox, "getInvoicesByPno", {"pno": "19550101-1018", "status": "Sent,Paid"})
    assert paid == [NESTED]
    assert call(sandbox, "getInvoicesByPno", {"pno": "5501011018", "status": "Sent"}) == [FLAT]


def test_user_data_replaces_demo_customers_and_empty_lists_work() -> None:
    sandbox = Sandbox()
    sandbox.add_customer(10001, [])
    assert call(sandbox, "getInvoicesByCustomer", {"customerno": "10001"}) == []
    demo_pno = sandbox.pno_of(10001)
    assert call(sandbox, "getInvoicesByPno", {"pno": demo_pno, "status": "Sent"}) == []
    sandbox.add_customer(10001, [FLAT])
    assert call(sandbox, "getInvoicesByPno", {"pno": demo_pno, "status": "Sent"}) == [FLAT]
    sandbox.add_customer(10001, [FLAT], pno="640823-3234")
    assert call(sandbox, "getInvoicesByCustomer", {"customerno": "10001"}) == [FLAT]
    assert call(sandbox, "getInvoicesByPno", {"pno": "640823-3234", "status": "Sent"}) == [FLAT]


def test_user_rows_are_normalised_like_php_would_send_them() -> None:
    sandbox = Sandbox()
    sandbox.add_customer("3", [{"invoiceid_real": "1", "extra": {}, "list": {"0": "a"}}])
    assert sandbox.expected_invoices("3") == [{"invoiceid_real": "1", "extra": [], "list": ["a"]}]


def test_bad_invoices_are_refused() -> None:
    sandbox = Sandbox()
    with pytest.raises(TypeError, match="Invoice"):
        sandbox.add_customer("1", [42])
    with pytest.raises(TypeError, match="list"):
        sandbox.add_customer("1", FLAT)


def test_json_file(tmp_path: Path) -> None:
    path = tmp_path / "customers.json"
    document = {
        "customers": {
            "30001": [FLAT],
            "30002": {"pno": "121212-1212", "invoices": [FLAT, NESTED]},
        }
    }
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    sandbox = Sandbox(data_file=path)
    assert call(sandbox, "getInvoicesByCustomer", {"customerno": "30001"}) == [FLAT]
    assert call(sandbox, "getInvoicesByPno", {"pno": "121212-1212", "status": "Sent"}) == [FLAT]
    other = Sandbox()
    path.write_text(json.dumps({"40001": [NESTED]}), encoding="utf-8")
    assert other.load_json(path, test_mode=True) == 1
    assert other.expected_invoices("40001", test_mode=True) == [NESTED]
    assert other.expected_invoices("40001") == []


@pytest.mark.parametrize(
    "document",
    [[1, 2], {"1": "not a list"}, {"1": {"invoices": "nope"}}],
)
def test_json_file_errors(tmp_path: Path, document: Any) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises((ValueError, TypeError)):
        Sandbox().load_json(path)


@pytest.mark.skipif(
    importlib.util.find_spec("qvickly_async._codec") is None, reason="codec not available"
)
def test_attrs_invoices_round_trip_through_the_codec() -> None:
    from qvickly_async._codec import structure_invoices
    from qvickly_async.models import Invoice

    invoices = [
        Invoice(
            number="5001",
            status="Sent",
            to_pay=Decimal("250.00"),
            due_date=date(2024, 5, 1),
            customer_name="Märta Åberg",
            file_url="https://example.com/x/y.pdf",
        ),
        Invoice(number="5002", status="Paid", to_pay=Decimal("-10.50"), invoice_type="K"),
    ]
    sandbox = Sandbox()
    sandbox.add_customer("60001", invoices)
    data = call(sandbox, "getInvoicesByCustomer", {"customerno": "60001"})
    assert data == sandbox.expected_invoices("60001")
    assert structure_invoices(data) == invoices
