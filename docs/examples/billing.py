"""The application code tested in the testing how-to (see ``test_billing.py``)."""

import asyncio
from decimal import Decimal
from typing import Any

from qvickly_async import AsyncQvickly, InvoiceStatus


async def open_balance(client: AsyncQvickly, customer_number: str) -> Decimal:
    """What a customer still owes: the balance due of every invoice not cancelled."""
    invoices = await client.get_invoices_by_customer(customer_number)
    return sum(
        (
            invoice.balance_due or Decimal(0)
            for invoice in invoices
            if invoice.status != InvoiceStatus.CANCELLED
        ),
        Decimal(0),
    )


async def create_invoice(client: AsyncQvickly, order_id: str, pno: str, price_ore: int) -> str:
    """Invoice one article (price without VAT in öre, 25 % VAT); return the payment number.

    Never retried once sent: Qvickly has no idempotency keys (see the retries how-to).
    """
    tax = price_ore * 25 // 100
    payment: dict[str, Any] = {
        "PaymentData": {
            "method": "1",
            "currency": "SEK",
            "country": "SE",
            "language": "sv",
            "orderid": order_id,
        },
        "Customer": {"pno": pno, "Billing": {"firstname": "Tess", "lastname": "Testperson"}},
        "Articles": [
            {
                "artnr": "A1",
                "title": f"Order {order_id}",
                "quantity": "1",
                "aprice": price_ore,
                "taxrate": "25",
                "discount": "0",
                "withouttax": price_ore,
            }
        ],
        "Cart": {
            "Total": {
                "withouttax": price_ore,
                "tax": tax,
                "rounding": 0,
                "withtax": price_ore + tax,
            }
        },
    }
    result = await client.call("addPayment", payment)
    return str(result["number"])


async def main() -> None:
    async with AsyncQvickly.for_sandbox() as client:
        print(await open_balance(client, "10001"))


if __name__ == "__main__":
    asyncio.run(main())
