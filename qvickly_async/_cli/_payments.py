"""``qvickly payment NUMBER...``: look up payments (getPaymentinfo), in the invoices' formats.

The same formats, batch controls, outputs and exit statuses as ``qvickly invoices``:

* ``jsonl``: one object per payment, ``number`` (as looked up) first, then
  :meth:`Payment.to_dict() <qvickly_async.Payment.to_dict>` (``raw`` left out);
* ``json``: an array with one object per number, ``{"number", "ok", "error", "payment"}``;
* ``csv``: one record per payment, nested blocks flattened with dotted names
  (``cart.total.with_tax``), ``articles`` and ``extra`` mappings as JSON text;
* ``table``: one line per payment, in input order.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Iterable
from typing import Any, Final, TextIO

import attrs
import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._batch import LookupResult
from .._read_inputs import check_payment_number
from .._read_models import Payment
from ..exceptions import QvicklyInputError
from ._batch_run import BatchControls, batch_keys, batch_options, run_batch
from ._console import stderr_console
from ._messages import describe
from ._output import OutputFile
from ._printable import printable
from ._rows import _columns, csv_text
from ._settings import Connection
from ._writers import (
    FORMATS,
    error_object,
    is_terminal,
    json_text,
    money_text,
    neutralise_formula,
    plain_text,
)

__all__ = ["PAYMENT_CSV_COLUMNS", "payment_command"]

_NO_NUMBERS: Final = "no payments given: pass payment NUMBERs or --from-file FILE"


@functools.cache
def _payment_columns() -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(_columns(Payment, ""))


#: The CSV header of ``qvickly payment``: ``number``, then every leaf field of a payment.
PAYMENT_CSV_COLUMNS: Final[tuple[str, ...]] = tuple(name for name, _ in _payment_columns())


def _payment_row(payment: Payment) -> dict[str, Any]:
    return payment.to_dict()


_Result = LookupResult[Payment]


@attrs.define
class _JsonLines:
    stream: TextIO
    written: int = 0

    def start(self) -> None:
        """Nothing precedes the first line."""

    def add(self, result: _Result) -> None:
        if result.value is not None:
            self.stream.write(json_text(_payment_row(result.value)) + "\n")
            self.written += 1
        self.stream.flush()

    def finish(self) -> None:
        self.stream.flush()


@attrs.define
class _Json:
    stream: TextIO
    written: int = 0
    _first: bool = True
    _open: bool = False

    def start(self) -> None:
        self.stream.write("[")
        self._open = True

    def add(self, result: _Result) -> None:
        item = {
            "number": result.key,
            "ok": result.ok,
            "error": error_object(result.error) if result.error is not None else None,
            "payment": _payment_row(result.value) if result.value is not None else None,
        }
        self.stream.write(("\n" if self._first else ",\n") + json_text(item))
        self._first = False
        self.written += result.value is not None
        self.stream.flush()

    def finish(self) -> None:
        if self._open:
            self.stream.write("\n]\n")
            self._open = False
        self.stream.flush()


@attrs.define
class _Csv:
    stream: TextIO
    excel: bool = False
    written: int = 0
    _writer: Any = None
    _terminal: bool = False

    def start(self) -> None:
        self._terminal = is_terminal(self.stream)
        self._writer = csv.writer(self.stream, lineterminator="\r\n")
        self._writer.writerow(PAYMENT_CSV_COLUMNS)

    def add(self, result: _Result) -> None:
        if result.value is not None:
            data = _payment_row(result.value)
            record = []
            for _, path in _payment_columns():
                value: Any = data
                for name in path:
                    value = value[name]
                    if value is None:
                        break
                record.append(csv_text(value))
            if self.excel:
                record = [neutralise_formula(cell) for cell in record]
            if self._terminal:
                record = [printable(cell) for cell in record]
            self._writer.writerow(record)
            self.written += 1
        self.stream.flush()

    def finish(self) -> None:
        self.stream.flush()


@attrs.define
class _Table:
    console: Console
    order: Iterable[str]
    written: int = 0
    _rows: dict[str, tuple[str, ...]] = attrs.Factory(dict)
    _failed: dict[str, str] = attrs.Factory(dict)

    def start(self) -> None:
        """Nothing is printed until every payment is done."""

    def add(self, result: _Result) -> None:
        payment = result.value
        if payment is None:
            error = describe(result.error) if result.error is not None else "no answer"
            self._failed[result.key] = printable(error)
            return
        data = payment.payment_data
        currency = data.currency if data is not None else None
        billing = payment.customer.billing if payment.customer is not None else None
        info = payment.payment_info
        self._rows[result.key] = tuple(
            printable(cell)
            for cell in (
                result.key,
                plain_text(payment.status),
                plain_text(data.method) if data is not None else "",
                (billing.display_name or "") if billing is not None else "",
                (data.order_id or "") if data is not None else "",
                plain_text(info.payment_date) if info is not None else "",
                money_text(payment.total, currency),
            )
        )
        self.written += 1

    def finish(self) -> None:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False)
        for title in ("Payment", "Status", "Method", "Customer", "Order id", "Date"):
            table.add_column(title, no_wrap=True)
        table.add_column("Total", justify="right", no_wrap=True)
        for number in self.order:
            row = self._rows.get(number)
            if row is not None:
                table.add_row(*(Text(cell) for cell in row))
        if self._rows:
            self.console.print(table)
        for number in self.order:
            if number in self._failed:
                line = f"Payment {printable(number)} · lookup failed: {self._failed[number]}"
                self.console.print(Text(line), soft_wrap=True)


def _make_writer(
    output_format: str, stream: TextIO, *, excel: bool, order: list[str]
) -> _JsonLines | _Json | _Csv | _Table:
    if output_format == "csv":
        return _Csv(stream, excel=excel)
    if output_format == "jsonl":
        return _JsonLines(stream)
    if output_format == "json":
        return _Json(stream)
    terminal = stream.isatty()
    console = Console(
        file=stream,
        highlight=False,
        width=None if terminal else 200,
        force_terminal=None if terminal else False,
    )
    return _Table(console, order)


def _key_of(result: _Result) -> str:
    return result.key


def _checked(numbers: list[str]) -> list[str]:
    problems = []
    for number in numbers:
        try:
            check_payment_number(number)
        except QvicklyInputError as error:
            problems.append(f"{printable(number)!r}: {error}")
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise click.UsageError(f"invalid payment numbers: {shown}{more}")
    return list(dict.fromkeys(numbers))


def payment_command(
    connection_options: Callable[[Callable[..., None]], Callable[..., None]],
    connection: Callable[[dict[str, Any]], Connection],
    epilog: str,
) -> click.Command:
    """Build the ``payment`` command with the group's connection options."""

    @click.command(name="payment", epilog=epilog)
    @click.argument("numbers", nargs=-1, metavar="[NUMBER]...")
    @click.option(
        "--from-file",
        metavar="FILE",
        help="Read payment numbers from FILE, one a line; blank lines and # comments are "
        "skipped; - reads standard input.",
    )
    @click.option(
        "-f",
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        help="Output format [default: from the --output suffix (.csv, .json, .jsonl, "
        ".ndjson; .txt or none: table), else table].",
    )
    @click.option(
        "-o",
        "--output",
        metavar="FILE",
        help="Write to FILE [default: standard output]. Replaced only when the run "
        "completes and looks up at least one payment; otherwise left as it was.",
    )
    @click.option(
        "--excel",
        is_flag=True,
        help="CSV for spreadsheets: UTF-8 byte order mark, and text that would run as a "
        "formula gets a leading '.",
    )
    @batch_options
    @connection_options
    def payment(
        numbers: tuple[str, ...],
        from_file: str | None,
        output_format: str | None,
        output: str | None,
        excel: bool,
        **options: Any,
    ) -> None:
        """Look up payments by number (getPaymentinfo): an invoice's number gives its payment.

        Give payment numbers as arguments and/or with --from-file. Each number's failure is
        reported on standard error without stopping the others. json, jsonl and csv are
        written as results arrive (completion order); the table lists input order.
        """
        controls = BatchControls.from_options(options)
        output_format, keys, resolved = batch_keys(
            numbers,
            options,
            from_file=from_file,
            excel=excel,
            output_format=output_format,
            output=output,
            nothing_given=_NO_NUMBERS,
            connect=lambda: connection(options),
        )
        order = _checked(keys)
        run_batch(
            connection=resolved,
            keys=order,
            start=lambda client, **batch: client.iter_payment_infos(order, **batch),
            key_of=_key_of,
            make_writer=lambda stream: _make_writer(
                output_format, stream, excel=excel, order=order
            ),
            output=OutputFile(output, output_format=output_format, excel=excel),
            controls=controls,
            console=stderr_console(),
            quiet=options["quiet"],
            verbose=options["verbose"],
            noun="payment",
            record="payment",
        )

    return payment
