"""Tutorial, step 2: the same lookup against Qvickly in test mode (also the README example).

Run it with your credentials in the environment::

    QVICKLY_MERCHANT_ID=... QVICKLY_SECRET=... python qvickly_test_mode.py
"""

import asyncio

from qvickly_async import AsyncQvickly


async def main() -> None:
    # Reads QVICKLY_MERCHANT_ID and QVICKLY_SECRET; test mode moves no real money.
    async with AsyncQvickly.from_env(test_mode=True) as client:
        await client.ping()  # fails fast, and clearly, on wrong credentials
        for invoice in await client.get_invoices_by_customer("12345"):
            print(invoice.number, invoice.status, invoice.to_pay, invoice.due_date)


if __name__ == "__main__":
    asyncio.run(main())
