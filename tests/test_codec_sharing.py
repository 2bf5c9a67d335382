"""Blocks that repeat are decoded once: exact reuse, never across answers (issue 10)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qvickly_async._codec import structure_invoices
from qvickly_async.exceptions import QvicklyDecodeError


def _row(number: str, customer: dict[str, Any], with_tax: str = "125000") -> dict[str, Any]:
    return {
        "PaymentData": {"number": number, "currency": "SEK", "status": "Paid"},
        "Cart": {
            "Handling": {"withouttax": "2900", "taxrate": "25"},
            "Shipping": {"withouttax": "4900", "taxrate": "25"},
            "Total": {"withtax": with_tax},
        },
        "Customer": customer,
    }


CUSTOMER: dict[str, Any] = {
    "nr": "10001",
    "pno": "400121-2648",
    "Billing": {"firstname": "Ingrid", "lastname": "Hägg", "email": "ingrid@example.se"},
}


def test_invoices_of_one_answer_share_their_equal_customer() -> None:
    answer = [_row("1", copy.deepcopy(CUSTOMER)), _row("2", copy.deepcopy(CUSTOMER))]
    first, second = structure_invoices(answer)
    assert first.customer == second.customer
    assert first.customer is second.customer
    assert first.customer_name == second.customer_name == "Ingrid Hägg"


def test_a_customer_is_not_kept_beyond_its_answer() -> None:
    [first] = structure_invoices([_row("1", copy.deepcopy(CUSTOMER))])
    [second] = structure_invoices([_row("2", copy.deepcopy(CUSTOMER))])
    assert first.customer == second.customer
    assert first.customer is not second.customer


def test_customers_that_differ_in_any_value_are_not_shared() -> None:
    other = copy.deepcopy(CUSTOMER)
    other["Billing"]["email"] = "other@example.se"
    first, second = structure_invoices([_row("1", CUSTOMER), _row("2", other)])
    assert first.customer is not None and second.customer is not None
    assert first.customer.billing is not None and second.customer.billing is not None
    assert first.customer.billing.email == "ingrid@example.se"
    assert second.customer.billing.email == "other@example.se"


@pytest.mark.parametrize("bad", [True, [1], {"x": 1}])
def test_a_block_equal_under_python_eq_but_of_another_json_type_is_decoded_anew(
    bad: object,
) -> None:
    # {"nr": 1} == {"nr": True} in Python: reuse keyed on == would hand the
    # second row the first row's customer instead of reporting its bad number.
    good = {**CUSTOMER, "nr": 1}
    wrong = {**CUSTOMER, "nr": bad}
    assert good == wrong or bad in ([1], {"x": 1})
    with pytest.raises(QvicklyDecodeError) as caught:
        structure_invoices([_row("1", good), _row("2", wrong)])
    assert caught.value.path == "invoices[1].Customer.nr"


def test_charges_with_another_json_type_are_not_taken_from_the_memo() -> None:
    [invoice] = structure_invoices([_row("1", CUSTOMER)])
    assert invoice.cart is not None and invoice.cart.handling is not None
    assert invoice.cart.handling.without_tax == Decimal("29.00")
    row = _row("2", CUSTOMER)
    row["Cart"]["Handling"] = {"withouttax": 2900.0, "taxrate": "25"}
    [again] = structure_invoices([row])
    assert again.cart is not None and again.cart.handling is not None
    # A JSON float is taken through its repr: 2900.0 öre -> 29.000, not the memoised 29.00.
    assert str(again.cart.handling.without_tax) == "29.000"


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    st.text(alphabet="0123456789", min_size=1, max_size=40)
    | st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,6})?", fullmatch=True)
)
def test_ore_amounts_are_scaled_exactly(text: str) -> None:
    [invoice] = structure_invoices([_row("1", CUSTOMER, with_tax=text)])
    sign, digits, exponent = Decimal(text).as_tuple()
    assert isinstance(exponent, int)
    expected = Decimal((sign, digits, exponent - 2))  # the same digits, two places down
    assert invoice.to_pay is not None
    assert invoice.to_pay.as_tuple() == expected.as_tuple()
