"""How-to: export many customers' invoices to CSV or JSON Lines, with progress.

Usage: ``python batch_export.py invoices.csv [customers.txt]`` (one customer number a line;
without a file, the sandbox's demo customers). Use ``.jsonl`` for JSON Lines.
"""

import asyncio
import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from qvickly_async import AsyncQvickly, BatchProgress, Invoice

FIELDS = (
    "customer_number",
    "number",
    "invoice_type",
    "status",
    "invoice_date",
    "due_date",
    "to_pay",
    "balance_due",
)


@dataclass
class ExportSummary:
    """What an export did."""

    customers: int = 0
    invoices: int = 0
    #: Customer number -> why its lookup failed (after the client's own retries).
    failed: dict[str, str] = field(default_factory=dict)


def invoice_row(customer_number: str, invoice: Invoice) -> dict[str, str]:
    """One row from ``invoice.to_dict()``: money as ``"1752.00"``, ISO dates, ``""`` for none."""
    values = {"customer_number": customer_number, **invoice.to_dict()}
    return {key: "" if values[key] is None else str(values[key]) for key in FIELDS}


def print_progress(progress: BatchProgress) -> None:
    """Show ``done/total`` on one terminal line (``?`` while the input is still streaming)."""
    total = "?" if progress.total is None else progress.total
    line = f"\r{progress.done}/{total} customers, {progress.failed} failed"
    print(line, end="", file=sys.stderr, flush=True)


async def export(
    client: AsyncQvickly,
    customer_numbers: Iterable[str],
    out: TextIO,
    *,
    fmt: Literal["csv", "jsonl"] = "csv",
    concurrency: int = 32,
    on_progress: Callable[[BatchProgress], None] | None = print_progress,
) -> ExportSummary:
    """Write every invoice of every customer to ``out``, as lookups complete."""
    summary = ExportSummary()
    writer = csv.DictWriter(out, fieldnames=FIELDS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    stream = client.iter_invoices_by_customers(
        customer_numbers, concurrency=concurrency, on_progress=on_progress
    )
    async with stream as results:  # leaving early cancels the lookups in flight
        async for result in results:
            summary.customers += 1
            if result.error is not None:
                summary.failed[result.customer_number] = repr(result.error)
                continue
            for invoice in result.invoices:
                row = invoice_row(result.customer_number, invoice)
                if writer is not None:
                    writer.writerow(row)
                else:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                summary.invoices += 1
    return summary


def read_numbers(lines: Iterable[str]) -> Iterator[str]:
    """Customer numbers from text lines, lazily (blank lines skipped)."""
    return (line.strip() for line in lines if line.strip())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else "invoices.csv")
    fmt: Literal["csv", "jsonl"] = "jsonl" if target.suffix == ".jsonl" else "csv"

    async def run(numbers: Iterable[str], out: TextIO) -> ExportSummary:
        # For real data: AsyncQvickly.from_env() instead of the sandbox.
        async with AsyncQvickly.for_sandbox() as client:
            return await export(client, numbers, out, fmt=fmt)

    with target.open("w", newline="", encoding="utf-8") as out:
        if len(args) > 1:
            with Path(args[1]).open(encoding="utf-8") as source:
                summary = asyncio.run(run(read_numbers(source), out))
        else:
            summary = asyncio.run(run([str(number) for number in range(10000, 11000)], out))
    print(
        f"\n{summary.invoices} invoices of {summary.customers} customers written to {target};"
        f" {len(summary.failed)} failed",
        file=sys.stderr,
    )
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
