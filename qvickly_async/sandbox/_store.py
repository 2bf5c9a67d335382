"""Where answers come from: users' customers first, then the demo dataset."""

from __future__ import annotations

import threading
from typing import Any, Final

from ._dataset import DemoDataset, InvoiceRecord
from ._payment_shapes import payment_from_row
from ._shapes import DemoObject, DemoRows, customer_row, flat_row, payment_info
from ._userdata import UserCustomer, row_number, row_pno, row_statuses

__all__ = ["PNO_STATUSES", "Store", "canonical_number"]

#: getInvoicesByPno's two accepted ``status`` filters (protocol.md §7.2).
PNO_STATUSES: Final = ("Sent", "Sent,Paid")


def canonical_number(text: str) -> int | None:
    """``"10001"`` -> 10001; anything but plain digits without a leading zero -> ``None``."""
    if not text.isdigit() or not text.isascii() or (len(text) > 1 and text[0] == "0"):
        return None
    return int(text)


def _pno_key(pno: str) -> str:
    digits = "".join(char for char in pno if char.isdigit())
    return digits[2:] if len(digits) == 12 else digits


def _matches(status_filter: str, status: str, distributor_status: str) -> bool:
    if status_filter == "Sent":
        return distributor_status in ("Created", "Sent")
    return distributor_status == "Paid" or status == "Cancelled"


class Store:
    """Customers the user added (optionally only for test or live mode) over the demo data."""

    def __init__(self, dataset: DemoDataset) -> None:
        self.dataset = dataset
        self._lock = threading.Lock()
        self._customers: dict[tuple[str, bool | None], UserCustomer] = {}
        self._pnos: dict[tuple[str, bool | None], str] = {}
        self._payments: dict[tuple[str, bool | None], tuple[dict[str, Any], UserCustomer]] = {}
        self._statuses: dict[tuple[str, bool | None], str] = {}  # set by payment events

    def add(self, customer: UserCustomer, *, test_mode: bool | None) -> None:
        """Add or replace a user customer; ``test_mode=None`` serves it in both modes."""
        with self._lock:
            self._customers[customer.number, test_mode] = customer
            pno = customer.pno or next(filter(None, map(row_pno, customer.rows)), None)
            if pno:
                self._pnos[_pno_key(pno), test_mode] = customer.number
            for row in customer.rows:
                number = row_number(row)
                if number is not None:
                    self._payments[number, test_mode] = (row, customer)

    def _user(self, number: str, test: bool) -> UserCustomer | None:
        return self._customers.get((number, test)) or self._customers.get((number, None))

    def user_for_number(self, number: str, *, test: bool) -> UserCustomer | None:
        """Return the user customer ``number`` served in this mode, if any."""
        return self._user(number, test)

    def user_for_pno(self, pno: str, *, test: bool) -> UserCustomer | None:
        """Return the user customer whose personal number is ``pno``, if any."""
        key = _pno_key(pno)
        owner = self._pnos.get((key, test)) or self._pnos.get((key, None))
        return self._user(owner, test) if owner is not None else None

    def customer_rows(self, number: str, shape: str, *, test: bool) -> list[dict[str, Any]]:
        """GetInvoicesByCustomer's rows for ``number`` (``[]`` for an unknown customer)."""
        user = self._user(number, test)
        if user is not None:
            return list(user.rows)
        demo = canonical_number(number)
        if demo is None:
            return []
        return DemoRows(customer_row(record, shape) for record in self.dataset.records(demo))

    def pno_rows(self, pno: str, status_filter: str, *, test: bool) -> list[dict[str, Any]]:
        """GetInvoicesByPno's rows: the customer's invoices that pass ``status_filter``."""
        key = _pno_key(pno)
        owner = self._pnos.get((key, test)) or self._pnos.get((key, None))
        demo = self.dataset.customer_for_pno(pno) if owner is None else None
        user = self._user(owner if owner is not None else str(demo), test)
        if owner is not None or (demo is not None and user is not None):
            rows = user.rows if user is not None else ()
            return [row for row in rows if _matches(status_filter, *row_statuses(row))]
        if demo is None:
            return []
        return DemoRows(
            flat_row(record, numbers_as_strings=True)
            for record in self.dataset.records(demo)
            if _matches(status_filter, record.status, record.distributor_status)
        )

    def payment(self, number: str, *, test: bool) -> dict[str, Any] | None:
        """GetPaymentinfo's object for invoice ``number``, or ``None``."""
        found = self._payment(number, test=test)
        status = self._statuses.get((number, test)) or self._statuses.get((number, None))
        if found is None or status is None:
            return found
        changed = dict(found)
        block = changed.get("PaymentData")
        changed["PaymentData"] = {**(block if isinstance(block, dict) else {}), "status": status}
        return changed

    def set_payment_status(self, number: str, status: str, *, test: bool | None) -> None:
        """Make getPaymentinfo report ``status`` for ``number`` (a payment event)."""
        with self._lock:
            self._statuses[number, test] = status

    def _payment(self, number: str, *, test: bool) -> dict[str, Any] | None:
        found = self._payments.get((number, test)) or self._payments.get((number, None))
        if found is not None:
            row, customer = found
            pno = customer.pno or row_pno(row)
            return payment_from_row(row, customer_number=customer.number, pno=pno)
        demo = canonical_number(number)
        record: InvoiceRecord | None = None
        if demo is not None:
            record = self.dataset.record(demo)
        return DemoObject(payment_info(record)) if record is not None else None
