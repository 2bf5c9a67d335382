"""Output formats of ``qvickly invoices``: table, JSON, JSON Lines and CSV.

``jsonl``, ``csv`` and ``json`` are written as results arrive (completion order), so memory
stays flat however many customers are exported. ``table`` is for people: it keeps a short
summary per customer (at most ``limit`` rendered rows) and prints in input order at the end.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final, Protocol, TextIO

import attrs
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._batch import CustomerResult
from ..exceptions import QvicklyAPIError, QvicklyError
from ..models import Invoice
from ._messages import describe
from ._printable import json_safe, printable
from ._rows import CSV_COLUMNS, csv_record, invoice_row, json_value

__all__ = [
    "FORMATS",
    "CsvWriter",
    "JsonLinesWriter",
    "JsonWriter",
    "TableWriter",
    "Writer",
    "error_object",
]

#: Output format names, the default first.
FORMATS: Final = ("table", "json", "jsonl", "csv")
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def error_object(error: QvicklyError) -> dict[str, Any]:
    """Return the ``error`` member of a failed customer in JSON output."""
    return {
        "type": type(error).__name__,
        "code": error.code if isinstance(error, QvicklyAPIError) else None,
        "message": error.message,
        "logid": error.logid if isinstance(error, QvicklyAPIError) else None,
    }


class Writer(Protocol):
    """Receives every customer's result and writes it out."""

    #: Invoices written so far.
    invoices: int

    @property
    def written(self) -> int:
        """Invoices written so far (the batch runner's name for it)."""

    def start(self) -> None:
        """Write whatever precedes the first result (a header, an opening bracket)."""

    def add(self, result: CustomerResult) -> None:
        """Write (or remember) one customer's result."""

    def finish(self) -> None:
        """Write whatever follows the last result and flush."""


@attrs.define
class JsonLinesWriter:
    """One JSON object per invoice and line; customers without invoices write nothing."""

    stream: TextIO
    invoices: int = 0

    @property
    def written(self) -> int:
        """Invoices written so far."""
        return self.invoices

    def start(self) -> None:
        """Nothing precedes the first line."""

    def add(self, result: CustomerResult) -> None:
        """Write one line per invoice of a successful customer."""
        for invoice in result.invoices:
            self.stream.write(json_text(invoice_row(result.customer_number, invoice)) + "\n")
            self.invoices += 1
        self.stream.flush()

    def finish(self) -> None:
        """Flush the stream."""
        self.stream.flush()


@attrs.define
class JsonWriter:
    """A JSON array with one object per customer (failed and invoice-less ones included).

    Each object is ``{"customer_number", "ok", "error", "invoice_count", "invoices"}``;
    ``invoices`` holds the same objects as ``jsonl`` lines. Streamed: one customer a line.
    """

    stream: TextIO
    invoices: int = 0
    _first: bool = True
    _open: bool = False

    @property
    def written(self) -> int:
        """Invoices written so far."""
        return self.invoices

    def start(self) -> None:
        """Open the array."""
        self.stream.write("[")
        self._open = True

    def add(self, result: CustomerResult) -> None:
        """Write one customer object."""
        number = result.customer_number
        item = {
            "customer_number": number,
            "ok": result.ok,
            "error": error_object(result.error) if result.error is not None else None,
            "invoice_count": len(result.invoices),
            "invoices": [invoice_row(number, invoice) for invoice in result.invoices],
        }
        self.stream.write(("\n" if self._first else ",\n") + json_text(item))
        self._first = False
        self.invoices += len(result.invoices)
        self.stream.flush()

    def finish(self) -> None:
        """Close the array (also after an interrupted run: the document stays valid JSON)."""
        if self._open:
            self.stream.write("\n]\n")
            self._open = False
        self.stream.flush()


def neutralise_formula(cell: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (numbers stay as they are)."""
    if cell.startswith(_FORMULA_START):
        try:
            Decimal(cell)
        except ArithmeticError:
            return "'" + cell
    return cell


@attrs.define
class CsvWriter:
    """One CSV record per invoice under the fixed :data:`~._rows.CSV_COLUMNS` header.

    With ``excel`` text cells that a spreadsheet would run as a formula get a leading ``'``
    (the caller also writes a UTF-8 byte order mark). Written to a terminal, control
    characters in cells are shown as escapes (:func:`~._printable.printable`); a file gets
    the text as sent.
    """

    stream: TextIO
    excel: bool = False
    invoices: int = 0
    _writer: Any = None
    _terminal: bool = False

    @property
    def written(self) -> int:
        """Invoices written so far."""
        return self.invoices

    def start(self) -> None:
        """Write the header."""
        self._terminal = is_terminal(self.stream)
        self._writer = csv.writer(self.stream, lineterminator="\r\n")
        self._writer.writerow(CSV_COLUMNS)

    def add(self, result: CustomerResult) -> None:
        """Write one record per invoice of a successful customer."""
        for invoice in result.invoices:
            record = csv_record(result.customer_number, invoice)
            if self.excel:
                record = [neutralise_formula(cell) for cell in record]
            if self._terminal:
                record = [printable(cell) for cell in record]
            self._writer.writerow(record)
            self.invoices += 1
        self.stream.flush()

    def finish(self) -> None:
        """Flush the stream."""
        self.stream.flush()


# -- table --------------------------------------------------------------------------------------


_CENTS: Final = Decimal("0.01")


def money_text(value: Decimal | None, currency: str | None) -> str:
    """``1,752.00 SEK``: at least two decimals (only zeros are added, never rounded)."""
    if value is None:
        return ""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(_CENTS)
    text = f"{value:,}"
    return f"{text} {currency}" if currency else text


def plain_text(value: object) -> str:
    """Render a cell: enums as their values, dates ISO 8601, ``None`` empty."""
    plain = json_value(value)
    return "" if plain is None else str(plain)


def _totals(amounts: Mapping[str | None, Decimal]) -> str:
    return " + ".join(money_text(total, currency) for currency, total in amounts.items())


@attrs.define
class _Customer:
    """What the table keeps of one customer."""

    number: str
    name: str | None = None
    count: int = 0
    rows: list[tuple[str, ...]] = attrs.Factory(list)
    to_pay: dict[str | None, Decimal] = attrs.Factory(dict)
    balance_due: dict[str | None, Decimal] = attrs.Factory(dict)
    error: str | None = None


def _newest_first(invoice: Invoice) -> tuple[date, str]:
    return (invoice.invoice_date or date.min, invoice.number)


@attrs.define
class TableWriter:
    """Tables for people: one per customer, newest invoices first, with totals.

    Amounts are summed as :class:`~decimal.Decimal` per currency. At most ``limit`` invoices
    are listed per customer (0: all); totals always cover every invoice.
    """

    console: Console
    order: Iterable[str]
    limit: int = 20
    invoices: int = 0
    _customers: dict[str, _Customer] = attrs.Factory(dict)

    @property
    def written(self) -> int:
        """Invoices summarised so far."""
        return self.invoices

    def start(self) -> None:
        """Nothing is printed until every customer is done."""

    def add(self, result: CustomerResult) -> None:
        """Summarise one customer's result."""
        summary = _Customer(result.customer_number, count=len(result.invoices))
        if result.error is not None:
            summary.error = describe(result.error)
        invoices = sorted(result.invoices, key=_newest_first, reverse=True)
        for invoice in invoices:
            currency = invoice.currency
            if invoice.to_pay is not None:
                summary.to_pay[currency] = summary.to_pay.get(currency, Decimal(0)) + invoice.to_pay
            if invoice.balance_due is not None:
                summary.balance_due[currency] = (
                    summary.balance_due.get(currency, Decimal(0)) + invoice.balance_due
                )
            if summary.name is None and invoice.customer_name:
                summary.name = printable(invoice.customer_name)
        shown = invoices if self.limit == 0 else invoices[: self.limit]
        summary.rows = [
            tuple(
                printable(cell)
                for cell in (
                    invoice.number,
                    plain_text(invoice.invoice_type),
                    plain_text(invoice.status),
                    plain_text(invoice.invoice_date),
                    plain_text(invoice.due_date),
                    money_text(invoice.to_pay, invoice.currency),
                    money_text(invoice.balance_due, invoice.currency),
                )
            )
            for invoice in shown
        ]
        self.invoices += summary.count
        self._customers[result.customer_number] = summary

    def finish(self) -> None:
        """Print every customer in input order."""
        for number in self.order:
            summary = self._customers.get(number)
            if summary is not None:
                self._print(summary)

    def _print(self, summary: _Customer) -> None:
        title = f"Customer {printable(summary.number)}"
        if summary.name:
            title += f" · {summary.name}"
        if summary.error is not None:
            self.console.print(Text(f"{title} · lookup failed: {summary.error}"), soft_wrap=True)
            self.console.print()
            return
        if summary.count == 0:
            self.console.print(Text(f"{title} · no invoices"), soft_wrap=True)
            self.console.print()
            return
        noun = "invoice" if summary.count == 1 else "invoices"
        self.console.print(Text(f"{title} · {summary.count} {noun}", style="bold"), soft_wrap=True)
        table = Table(show_footer=True, box=box.SIMPLE_HEAD, show_edge=False)
        footer = "Total"
        table.add_column("Invoice", footer=footer, no_wrap=True)
        table.add_column("Type", no_wrap=True)
        table.add_column("Status", no_wrap=True)
        table.add_column("Invoice date", no_wrap=True)
        table.add_column("Due date", no_wrap=True)
        table.add_column("To pay", footer=_totals(summary.to_pay), justify="right", no_wrap=True)
        table.add_column(
            "Balance due", footer=_totals(summary.balance_due), justify="right", no_wrap=True
        )
        for row in summary.rows:
            table.add_row(*(Text(cell) for cell in row))
        self.console.print(table)
        hidden = summary.count - len(summary.rows)
        if hidden > 0:
            self.console.print(
                Text(f"  … {hidden} more invoices not shown (--limit 0 shows all)", style="dim")
            )
        self.console.print()


def json_text(value: Any) -> str:
    """Render compact JSON; C1 and bidi controls are written as escapes."""
    # json_safe: C1 and bidi controls as \u escapes (lossless), so the text is safe to cat.
    return json_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (a closed or odd stream is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
