"""Users' own invoices: attrs ``Invoice`` objects or wire-form dicts, and JSON files of them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .._signing import php_json_encode

__all__ = [
    "UserCustomer",
    "load_customers_file",
    "row_number",
    "row_pno",
    "row_statuses",
    "to_wire_rows",
]


@attrs.frozen
class UserCustomer:
    """A customer whose rows were given by the user; they are served exactly as given."""

    number: str
    rows: tuple[dict[str, Any], ...]
    pno: str | None


def _wire_row(invoice: object) -> dict[str, Any]:
    if isinstance(invoice, Mapping):
        value: Any = invoice
    else:
        # Imported on use: the models are optional for wire-form data. The sandbox writes
        # rows with its own encoder, never the SDK's codec (a wrong key there must show).
        from ..models import Invoice
        from ._invoice_wire import invoice_to_wire

        if not isinstance(invoice, Invoice):
            raise TypeError(
                f"an invoice must be a qvickly_async.Invoice or a wire-form dict, "
                f"not {type(invoice).__name__}"
            )
        value = invoice_to_wire(invoice)
    # Through PHP's encoder and back: exactly what a client decodes from the wire.
    row = json.loads(php_json_encode(value, path="invoice"))
    if not isinstance(row, dict):
        raise TypeError("an invoice must encode to a JSON object")
    return row


def to_wire_rows(invoices: Iterable[object]) -> tuple[dict[str, Any], ...]:
    """Convert attrs invoices and flat/nested dicts into decoded wire rows."""
    if isinstance(invoices, Mapping | str | bytes):
        raise TypeError("invoices must be a list of invoices, not a single value")
    return tuple(_wire_row(invoice) for invoice in invoices)


def _text(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def row_number(row: Mapping[str, Any]) -> str | None:
    """Return the number of a flat (``invoiceid_real``) or nested (``PaymentData``) row."""
    payment = row.get("PaymentData")
    if isinstance(payment, Mapping):
        return _text(payment.get("number"))
    return _text(row.get("invoiceid_real"))


def row_pno(row: Mapping[str, Any]) -> str | None:
    """Return ``Customer.pno`` of a nested row."""
    customer = row.get("Customer")
    return _text(customer.get("pno")) if isinstance(customer, Mapping) else None


def row_statuses(row: Mapping[str, Any]) -> tuple[str, str]:
    """Return ``(status, distributor_status)``; nested rows have only a status."""
    payment = row.get("PaymentData")
    if isinstance(payment, Mapping):
        status = str(payment.get("status", ""))
        return status, status
    return str(row.get("status", "")), str(row.get("distributor_status", ""))


def load_customers_file(path: str | os.PathLike[str]) -> list[UserCustomer]:
    """Read customers from a JSON file.

    Accepted layouts (customer numbers as keys)::

        {"20001": [row, ...], "20002": {"pno": "550101-1018", "invoices": [row, ...]}}
        {"customers": {...the same...}}

    Rows are flat or nested wire-form objects.
    """
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(document, dict) and isinstance(document.get("customers"), dict):
        document = document["customers"]
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected an object keyed by customer number")
    customers = []
    for number, entry in document.items():
        pno = None
        invoices = entry
        if isinstance(entry, dict):
            pno = entry.get("pno")
            invoices = entry.get("invoices", [])
        if not isinstance(invoices, list):
            raise ValueError(f"{path}: customer {number}: expected a list of invoices")
        customers.append(UserCustomer(str(number), to_wire_rows(invoices), pno))
    return customers
