"""getInvoicesByPno, getPaymentinfo, getAccountinfo and custom functions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qvickly_async._signing import php_json_encode
from qvickly_async.sandbox import DOCUMENTED_FUNCTIONS, FunctionCall, FunctionError, Sandbox

from .._support import post
from ._handmade import envelope, verified


def call(sandbox: Sandbox, function: str, data: Any) -> httpx.Response:
    return post(sandbox, envelope(function, data), status=None)


def test_invoices_by_pno_filters_by_status() -> None:
    sandbox = Sandbox()
    customer = 10007
    pno = sandbox.pno_of(customer)
    sent = verified(call(sandbox, "getInvoicesByPno", {"pno": pno, "status": "Sent"}).content)
    paid = verified(call(sandbox, "getInvoicesByPno", {"pno": pno, "status": "Sent,Paid"}).content)
    assert sent and paid
    assert {row["distributor_status"] for row in sent} <= {"Created", "Sent"}
    assert all(row["distributor_status"] == "Paid" or row["status"] == "Cancelled" for row in paid)
    expected = sandbox.expected_invoices(customer)
    for row in sent + paid:
        assert all(isinstance(value, str) for value in row.values())
        assert row["name"] == expected[0]["name"]
    every = {str(row["invoiceid_real"]) for row in expected}
    assert {row["invoiceid_real"] for row in sent + paid} <= every


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"pno": "400121-2648", "status": "Paid"}, "7022"),
        ({"pno": "400121-2648"}, "7022"),
        ({"pno": "400121-2648", "status": "sent"}, "7022"),
        ({"status": "Sent"}, "9014"),
        ({"pno": " ", "status": "Sent"}, "9014"),
    ],
)
def test_invoices_by_pno_errors(data: dict[str, str], code: str) -> None:
    assert call(Sandbox(), "getInvoicesByPno", data).json()["code"] == code


def test_invoices_by_pno_unknown_person_is_empty() -> None:
    answer = call(Sandbox(), "getInvoicesByPno", {"pno": "550101-1018", "status": "Sent"})
    assert verified(answer.content) == []


def test_paymentinfo_answers_from_the_same_data() -> None:
    sandbox = Sandbox()
    row = sandbox.expected_invoices(10001)[1]
    number = str(row["invoiceid_real"])
    info = verified(call(sandbox, "getPaymentinfo", {"number": number}).content)
    assert list(info) == [
        "PaymentData",
        "PaymentInfo",
        "Card",
        "Settlement",
        "Customer",
        "Articles",
        "Cart",
    ]
    assert info["PaymentData"]["status"] == row["status"]
    assert info["Customer"]["pno"] == sandbox.pno_of(10001)
    assert info == sandbox.expected_payment(number)
    assert verified(call(sandbox, "getPaymentinfo", {"number": int(number)}).content) == info


@pytest.mark.parametrize(
    ("number", "code"),
    [("10001003", "5201"), ("10000000", "5201"), ("abc", "5201"), ("", "5200"), (None, "5200")],
)
def test_paymentinfo_errors(number: str | None, code: str) -> None:
    data = {"number": number} if number is not None else {"dummy": "1"}
    assert call(Sandbox(), "getPaymentinfo", data).json()["code"] == code


def test_accountinfo_is_a_static_signed_object() -> None:
    sandbox = Sandbox()
    info = verified(call(sandbox, "getAccountinfo", {"dummyData": "1"}).content)
    assert info["merchantid"] == "12345"
    assert info["paymentoptions"][0]["method"] == "1"
    assert verified(call(sandbox, "getAccountInfo", {"dummyData": "2"}).content) == info


def test_custom_functions_can_be_registered() -> None:
    sandbox = Sandbox()
    seen: list[FunctionCall] = []

    def get_vatrate(request: FunctionCall) -> Any:
        seen.append(request)
        if request.data.get("country") not in ("SE", "SWE"):
            raise FunctionError(7031)
        return {"result": "25"}

    sandbox.register_function("getVatrate", get_vatrate)
    assert verified(call(sandbox, "getVatRate", {"country": "SE"}).content) == {"result": "25"}
    failed = call(sandbox, "getVatrate", {"country": "XX"}).json()
    assert failed["code"] == "7031"
    assert failed["message"] == "Country does not exist (ISO)"
    assert seen[0].function == "getVatrate"
    assert seen[0].merchant_id == "12345"
    assert seen[0].test is True
    assert "getVatrate" in repr(seen[0])


def test_custom_error_messages_and_broken_handlers() -> None:
    sandbox = Sandbox()

    def custom(_: FunctionCall) -> Any:
        raise FunctionError(5201, "Faktura med nummer 1 existerar inte.")

    def broken(_: FunctionCall) -> Any:
        raise RuntimeError("bug")

    def unencodable(_: FunctionCall) -> Any:
        return {"amount": float("nan")}

    sandbox.register_function("custom", custom)
    sandbox.register_function("broken", broken)
    sandbox.register_function("unencodable", unencodable)
    assert (
        call(sandbox, "custom", {"a": 1}).json()["message"]
        == "Faktura med nummer 1 existerar inte."
    )
    assert call(sandbox, "broken", {"a": 1}).json()["code"] == "9008"
    assert call(sandbox, "unencodable", {"a": 1}).json()["code"] == "9008"
    with pytest.raises(ValueError, match="name"):
        sandbox.register_function("", custom)


def test_documented_function_list() -> None:
    assert len(DOCUMENTED_FUNCTIONS) == len(set(DOCUMENTED_FUNCTIONS)) == 32
    assert "getInvoicesByCustomer" in DOCUMENTED_FUNCTIONS


def test_handlers_get_the_sandbox_through_a_public_context() -> None:
    sandbox = Sandbox(invoice_shape="nested")
    made: list[str] = []

    def invoices_again(request: FunctionCall) -> Any:
        number = request.field("customerno") or ""
        shape = request.settings.invoice_shape

        def make() -> Any:
            made.append(number)
            return request.sign_json(request.store.customer_json(number, shape, test=request.test))

        return request.cached((number, shape), make)

    sandbox.register_function("invoicesAgain", invoices_again)
    first = verified(call(sandbox, "invoicesAgain", {"customerno": "10001"}).content)
    second = verified(call(sandbox, "invoicesAgain", {"customerno": "10001"}).content)
    assert first == second == sandbox.expected_invoices(10001)
    assert "PaymentData" in first[0]  # the nested shape in force reached the handler
    assert made == ["10001"]  # the second answer came from the cache
    builtin = verified(call(sandbox, "getInvoicesByCustomer", {"customerno": "10001"}).content)
    assert builtin == first


def test_users_rows_are_encoded_as_php_does() -> None:
    # Rows a user adds may hold what only the general encoder gets right: an empty object
    # (PHP's [] for an empty array), DEL, and a list-like object with keys "0", "1".
    sandbox = Sandbox()
    row = {"invoiceid_real": "77", "status": "Sent", "extra": {}, "text": "a\x7fb/c"}
    row["keys"] = {"0": "x", "1": "y"}
    sandbox.add_customer("20001", [row])
    answer = call(sandbox, "getInvoicesByCustomer", {"customerno": "20001"}).content
    data = answer.partition(b',"data":')[2][:-1]
    assert data == php_json_encode([row]).encode("ascii")
    assert verified(answer) == [{**row, "extra": [], "keys": ["x", "y"]}]
    info = call(sandbox, "getPaymentinfo", {"number": "77"}).content
    assert verified(info) == sandbox.expected_payment("77")
