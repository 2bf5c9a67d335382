"""Tutorial, step 1: look up a customer's invoices in the sandbox built into the package."""

import asyncio

from qvickly_async import AsyncQvickly, Invoice


async def show_invoices(client: AsyncQvickly, customer_number: str) -> list[Invoice]:
    """Print one line per invoice of ``customer_number`` and return the invoices."""
    invoices = await client.get_invoices_by_customer(customer_number)
    for invoice in invoices:
        print(invoice.number, invoice.status, invoice.to_pay, invoice.due_date)
    return invoices


async def main() -> None:
    # An in-process emulator of the Payment API: no credentials, no network.
    async with AsyncQvickly.for_sandbox() as client:
        await show_invoices(client, "10001")


if __name__ == "__main__":
    asyncio.run(main())
