"""getPaymentinfo's answer for a user's own invoice row, whatever shape the row has. Pure.

A nested row (getInvoicesByCustomer's "Response from server" shape) already is
getPaymentinfo-shaped and is answered as given. A documented flat row carries only the summary,
so the payment object is rendered from it: the same values in the nested places, amounts turned
from currency units into öre strings, every scalar a string as the server sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["payment_from_row"]


def _text(value: object) -> str:
    if value is None or isinstance(value, Mapping | list):
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _ore(value: object) -> str:
    """Currency units (``"1000.00"``, ``1000``, ``1000.5``) as integer öre text."""
    text = _text(value).strip()
    if not text:
        return ""
    try:
        amount = Decimal(text).scaleb(2)
    except InvalidOperation:
        return ""
    return str(int(amount.to_integral_value()))


def payment_from_row(
    row: Mapping[str, Any], *, customer_number: str, pno: str | None
) -> dict[str, Any]:
    """Return getPaymentinfo's ``data`` for a user's invoice ``row`` of ``customer_number``."""
    if isinstance(row.get("PaymentData"), Mapping):
        return dict(row)
    name = _text(row.get("name"))
    first, _, last = name.partition(" ")
    total = _ore(row.get("topay"))
    related = _text(row.get("creditinvoiceid"))
    party = {
        "firstname": first,
        "lastname": last,
        "company": "",
        "street": "",
        "street2": "",
        "zip": "",
        "city": "",
        "country": "SE",
        "phone": "",
    }
    return {
        "PaymentData": {
            "method": "1",
            "paymentplanid": "",
            "currency": "SEK",
            "country": "SE",
            "language": "sv",
            "autoactivate": "0",
            "orderid": "",
            "status": _text(row.get("status")),
            "paymentid_related": "" if related == "0" else related,
            "url": _text(row.get("fileurl")),
        },
        "PaymentInfo": {
            "paymentdate": _text(row.get("invoicedate")),
            "paymentterms": "",
            "yourreference": "",
            "ourreference": "",
            "projectname": "",
            "deliverymethod": "",
            "deliveryterms": "",
            "balancedue": _ore(row.get("balancedue")),
        },
        "Card": {
            "promptname": "",
            "recurring": "",
            "recurringnr": "",
            "accepturl": "",
            "cancelurl": "",
            "callbackurl": "",
            "returnmethod": "",
        },
        "Settlement": {"number": "", "date": "0000-00-00"},
        "Customer": {
            "nr": customer_number,
            "pno": pno or "",
            "Billing": {**party, "email": ""},
            "Shipping": party,
        },
        "Articles": [],
        "Cart": {
            "Handling": {"withouttax": "0", "taxrate": "0"},
            "Shipping": {"withouttax": "0", "taxrate": "0"},
            "Total": {"rounding": "0", "withouttax": total, "tax": "0", "withtax": total},
        },
    }
