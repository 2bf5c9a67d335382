"""Where answers come from: users' customers first, then the demo dataset.

Each lookup comes in two forms: the decoded value (``customer_rows``, ``pno_rows``,
``payment``) and the ``data`` bytes as the server encodes them (``customer_json``,
``pno_json``, ``payment_json``). The store knows where a value came from, so it encodes the
demo dataset's own values with the fast encoder and users' values with the general one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Final

from .._signing import php_json_encode
from ._dataset import DemoDataset, InvoiceRecord
from ._payment_shapes import payment_from_row
from ._shapes import customer_row, flat_row, payment_info
from ._userdata import UserCustomer, row_number, row_pno, row_statuses
from ._wire import fast_php_json

__all__ = ["PNO_STATUSES", "Store", "canonical_number"]

#: getInvoicesByPno's two accepted ``status`` filters, as its documentation lists them.
PNO_STATUSES: Final = ("Sent", "Sent,Paid")


def canonical_number(text: str) -> int | None:
    """``"10001"`` -> 10001; anything but plain digits without a leading zero -> ``None``."""
    if not text.isdigit() or not text.isascii() or (len(text) > 1 and text[0] == "0"):
        return None
    return int(text)


def _pno_key(pno: str) -> str:
    digits = "".join(char for char in pno if char.isdigit())
    return digits[2:] if len(digits) == 12 else digits


def _encode(value: Any, *, ours: bool) -> bytes:
    # The fast encoder is exact only for the values the demo dataset renders itself.
    return (fast_php_json(value) if ours else php_json_encode(value)).encode("ascii")


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
        return list(self._customer_rows(number, shape, test)[0])

    def customer_json(self, number: str, shape: str, *, test: bool) -> bytes:
        """GetInvoicesByCustomer's ``data`` bytes for ``number``, encoded as PHP would."""
        rows, ours = self._customer_rows(number, shape, test)
        return _encode(rows, ours=ours)

    def _customer_rows(
        self, number: str, shape: str, test: bool
    ) -> tuple[Sequence[dict[str, Any]], bool]:
        user = self._user(number, test)
        if user is not None:
            return list(user.rows), False
        demo = canonical_number(number)
        if demo is None:
            return [], True
        return [customer_row(record, shape) for record in self.dataset.records(demo)], True

    def pno_rows(self, pno: str, status_filter: str, *, test: bool) -> list[dict[str, Any]]:
        """GetInvoicesByPno's rows: the customer's invoices that pass ``status_filter``."""
        return list(self._pno_rows(pno, status_filter, test)[0])

    def pno_json(self, pno: str, status_filter: str, *, test: bool) -> bytes:
        """GetInvoicesByPno's ``data`` bytes, encoded as PHP would."""
        rows, ours = self._pno_rows(pno, status_filter, test)
        return _encode(rows, ours=ours)

    def _pno_rows(
        self, pno: str, status_filter: str, test: bool
    ) -> tuple[Sequence[dict[str, Any]], bool]:
        key = _pno_key(pno)
        owner = self._pnos.get((key, test)) or self._pnos.get((key, None))
        demo = self.dataset.customer_for_pno(pno) if owner is None else None
        user = self._user(owner if owner is not None else str(demo), test)
        if owner is not None or (demo is not None and user is not None):
            rows = user.rows if user is not None else ()
            return [row for row in rows if _matches(status_filter, *row_statuses(row))], False
        if demo is None:
            return [], True
        return [
            flat_row(record, numbers_as_strings=True)
            for record in self.dataset.records(demo)
            if _matches(status_filter, record.status, record.distributor_status)
        ], True

    def payment(self, number: str, *, test: bool) -> dict[str, Any] | None:
        """GetPaymentinfo's object for invoice ``number``, or ``None``."""
        found = self._payment(number, test)
        return None if found is None else dict(found[0])

    def payment_json(self, number: str, *, test: bool) -> bytes | None:
        """GetPaymentinfo's ``data`` bytes for invoice ``number``, or ``None``."""
        found = self._payment(number, test)
        return None if found is None else _encode(found[0], ours=found[1])

    def set_payment_status(self, number: str, status: str, *, test: bool | None) -> None:
        """Make getPaymentinfo report ``status`` for ``number`` (a payment event)."""
        with self._lock:
            self._statuses[number, test] = status

    def _payment(self, number: str, test: bool) -> tuple[dict[str, Any], bool] | None:
        found = self._stored_payment(number, test)
        status = self._statuses.get((number, test)) or self._statuses.get((number, None))
        if found is None or status is None:
            return found
        changed = dict(found[0])
        block = changed.get("PaymentData")
        changed["PaymentData"] = {**(block if isinstance(block, dict) else {}), "status": status}
        return changed, False  # the status came from outside the demo dataset

    def _stored_payment(self, number: str, test: bool) -> tuple[dict[str, Any], bool] | None:
        found = self._payments.get((number, test)) or self._payments.get((number, None))
        if found is not None:
            row, customer = found
            pno = customer.pno or row_pno(row)
            return payment_from_row(row, customer_number=customer.number, pno=pno), False
        demo = canonical_number(number)
        record: InvoiceRecord | None = None
        if demo is not None:
            record = self.dataset.record(demo)
        return (payment_info(record), True) if record is not None else None
