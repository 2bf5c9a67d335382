"""How-to: amounts are exact ``Decimal`` currency units; dates are dates or ``None``."""

import asyncio
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from qvickly_async import AsyncQvickly, Invoice, InvoiceStatus


def totals_by_status(invoices: Iterable[Invoice]) -> dict[str, Decimal]:
    """Sum ``to_pay`` per status. A status this SDK does not know yet keeps its own text."""
    totals: dict[str, Decimal] = {}
    for invoice in invoices:
        if isinstance(invoice.status, InvoiceStatus):
            key = invoice.status.name  # a known value, e.g. "SENT"
        else:
            key = f"other: {invoice.status}"  # e.g. "other: Disputed", or "other: None"
        totals[key] = totals.get(key, Decimal(0)) + (invoice.to_pay or Decimal(0))
    return totals


def overdue(invoices: Iterable[Invoice], today: date) -> list[str]:
    """Numbers of invoices with money due before ``today``.

    An invoice without a due date (the API's ``0000-00-00`` becomes ``None``) is never overdue.
    """
    return [
        invoice.number
        for invoice in invoices
        if invoice.due_date is not None
        and invoice.due_date < today
        and (invoice.balance_due or Decimal(0)) > 0
    ]


def to_ore(amount: Decimal) -> int:
    """Currency units to the integer öre/cent that request amounts use on the wire."""
    ore = amount * 100
    if ore != ore.to_integral_value():
        raise ValueError(f"{amount} has a fraction of an öre")
    return int(ore)


async def main() -> None:
    async with AsyncQvickly.for_sandbox() as client:
        invoices = await client.get_invoices_by_customer("10001")
    print(totals_by_status(invoices))
    print(overdue(invoices, date.today()))
    print(to_ore(Decimal("1752.50")))  # 175250


if __name__ == "__main__":
    asyncio.run(main())
