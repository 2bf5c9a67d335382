"""getAddress, getPaymentplans and getCheckout in the sandbox, spoken to by the handmade client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from qvickly_async.sandbox import Sandbox

from ._handmade import envelope, verified


def call(sandbox: Sandbox, function: str, data: Any) -> Any:
    with httpx.Client(transport=httpx.MockTransport(sandbox.handler)) as client:
        body = client.post("http://sandbox.invalid/", content=envelope(function, data)).content
    parsed = json.loads(body)
    if "code" in parsed:
        return parsed["code"]
    return verified(body)


def test_get_address_answers_the_demo_customers_address() -> None:
    sandbox = Sandbox()
    pno = sandbox.pno_of(10001)
    payment = sandbox.expected_payment(10001000)
    assert payment is not None
    billing = payment["Customer"]["Billing"]
    for variant in (pno, pno.replace("-", ""), "19" + pno):
        address = call(sandbox, "GetAddress", {"pno": variant, "country": "SE"})
        assert list(address) == [
            "firstname", "lastname", "street", "zip", "city", "country", "phone", "email",
        ]  # fmt: skip
        assert all(isinstance(value, str) for value in address.values())
        assert address["street"] == billing["street"] and address["email"] == billing["email"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"dummy": "1"}, "9014"),
        ({"pno": ""}, "9014"),
        ({"pno": "55010"}, "9015"),
        ({"pno": "5501-01-1018"}, "9016"),
        ({"pno": "5501011018", "country": "Sverige"}, "7031"),
        ({"pno": "5501011019"}, "8010"),
    ],
)
def test_get_address_errors(data: dict[str, Any], code: str) -> None:
    assert call(Sandbox(), "getAddress", data) == code


def test_get_address_of_a_users_customer_comes_from_their_rows() -> None:
    sandbox = Sandbox()
    billing = {"firstname": "Tess", "lastname": "T", "street": "Testgatan 1", "zip": "12345"}
    row = {"PaymentData": {"number": "900001"}, "Customer": {"nr": "20001", "Billing": billing}}
    sandbox.add_customer("20001", [row], pno="550101-1018")
    assert call(sandbox, "getAddress", {"pno": "5501011018"}) == billing


def test_get_paymentplans_answers_the_documented_plans() -> None:
    sandbox = Sandbox()
    request = {"PaymentData": {"currency": "SEK", "country": "SE", "language": "sv"}}
    plans = call(sandbox, "getPaymentPlans", request)
    assert [plan["nbrofmonths"] for plan in plans] == ["3", "6", "12"]
    for plan in plans:
        assert all(isinstance(value, str) for value in plan.values())
        months = int(plan["nbrofmonths"])
        assert int(plan["totalfee"]) == int(plan["monthlycost"]) * months
    big = {"PaymentData": {**request["PaymentData"], "totalwithtax": "30000"}}
    assert [plan["paymentplanid"] for plan in call(sandbox, "getPaymentplans", big)] == ["1", "2"]
    from_cart = {**request, "Cart": {"Total": {"withtax": 15000}}}
    assert len(call(sandbox, "getPaymentplans", from_cart)) == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"dummy": "1"}, "5302"),
        ({"PaymentData": {"currency": "SEK", "country": "SE"}}, "5302"),
        ({"PaymentData": {"currency": "EUR", "country": "SE", "language": "sv"}}, "6012"),
        ({"PaymentData": {"currency": "SEK", "country": "NO", "language": "sv"}}, "5301"),
        (
            {
                "PaymentData": {
                    "currency": "SEK",
                    "country": "SE",
                    "language": "sv",
                    "totalwithtax": "5",
                }
            },
            "5301",
        ),
        (
            {
                "PaymentData": {
                    "currency": "SEK",
                    "country": "SE",
                    "language": "sv",
                    "totalwithtax": "1.5",
                }
            },
            "9111",
        ),
    ],
)
def test_get_paymentplans_errors(data: dict[str, Any], code: str) -> None:
    assert call(Sandbox(), "getPaymentplans", data) == code


def test_an_invoices_checkout_shows_its_payment() -> None:
    sandbox = Sandbox()
    url = sandbox.checkout_url(10001001)
    checkout_hash = url.rsplit("/", 1)[1]
    checkout = call(sandbox, "getCheckout", {"PaymentData": {"hash": checkout_hash}})
    payment = sandbox.expected_payment(10001001)
    assert payment is not None
    order = checkout["PaymentData"]["order"]
    assert order["number"] == "10001001" == checkout["invoiceid_real"]
    assert order["status"] == payment["PaymentData"]["status"]
    assert order["orderid"] == payment["PaymentData"]["orderid"] == checkout["orderid_real"]
    assert checkout["Cart"] == payment["Cart"] == checkout["CheckoutData"]["Cart"]
    assert checkout["Customer"]["Billing"] == payment["Customer"]["Billing"]
    assert checkout["PaymentInfo"] == ""
    assert [line["artnr"] for line in checkout["Articles"]] == [
        line["artnr"] for line in payment["Articles"]
    ]
    assert checkout["PaymentData"]["method_name"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"dummy": "1"}, "50015"),
        ({"PaymentData": {"hash": ""}}, "50015"),
        ({"PaymentData": {"hash": "123456abc123456abc123456abc12345"}}, "50012"),
        ({"PaymentData": {"hash": "x" * 32}}, "50012"),
    ],
)
def test_get_checkout_errors(data: dict[str, Any], code: str) -> None:
    assert call(Sandbox(), "getCheckout", data) == code


def test_a_checkout_of_an_unknown_invoice_is_not_found() -> None:
    sandbox = Sandbox()
    checkout_hash = sandbox.checkout_url(10000999).rsplit("/", 1)[1]  # customer 10000: none
    assert call(sandbox, "getCheckout", {"PaymentData": {"hash": checkout_hash}}) == "50012"


def test_get_paymentinfo_of_a_users_flat_row_is_that_customers_nested_payment(
    tmp_path: Path,
) -> None:
    row = {
        "status": "Sent",
        "name": "Åsa Öberg",
        "invoicedate": "2024-01-02",
        "topay": "1000.50",
        "invoiceid_real": 900001,
        "balancedue": 250,
        "fileurl": "https://example.com/a.pdf",
    }
    path = tmp_path / "customers.json"
    path.write_text(json.dumps({"20001": {"pno": "550101-1018", "invoices": [row]}}))
    sandbox = Sandbox()
    sandbox.load_json(path)
    payment = call(sandbox, "getPaymentinfo", {"number": "900001"})
    assert "invoiceid_real" not in payment
    assert list(payment)[:2] == ["PaymentData", "PaymentInfo"]
    assert payment["PaymentData"]["status"] == "Sent"
    assert payment["PaymentData"]["url"] == "https://example.com/a.pdf"
    assert payment["Cart"]["Total"]["withtax"] == "100050"
    assert payment["PaymentInfo"]["balancedue"] == "25000"
    assert payment["Customer"]["nr"] == "20001"
    assert payment["Customer"]["pno"] == "550101-1018"
    assert payment["Customer"]["Billing"]["firstname"] == "Åsa"
