"""How-to: handle errors by class, by Qvickly error code, and keep the ``logid``."""

import asyncio
import sys
from typing import Any

from qvickly_async import (
    AsyncQvickly,
    QvicklyAPIError,
    QvicklyAuthenticationError,
    QvicklyError,
    QvicklyHTTPStatusError,
    QvicklyInputError,
    QvicklyResponseError,
    QvicklyTransportError,
)

#: getInvoicesByPno: "Status not correct" (only "Sent" and "Sent,Paid" are accepted).
STATUS_NOT_CORRECT = 7022


async def describe_lookup(client: AsyncQvickly, customer_number: str) -> str:
    """Look a customer up and say, in one line, what happened."""
    try:
        invoices = await client.get_invoices_by_customer(customer_number)
    except QvicklyInputError as error:  # refused before anything was sent
        return f"bad input: {error}"
    except QvicklyAuthenticationError as error:  # check merchant id and secret
        return f"credentials refused: code {error.code}, logid {error.logid}"
    except QvicklyAPIError as error:  # any other answer with an error code
        return f"Qvickly error {error.code}: {error.message} (logid {error.logid})"
    except (QvicklyTransportError, QvicklyHTTPStatusError, QvicklyResponseError) as error:
        return f"Qvickly unreachable or garbled ({type(error).__name__}), retries exhausted"
    return f"{len(invoices)} invoices"


async def invoices_by_pno(client: AsyncQvickly, pno: str, status: str) -> Any:
    """Raw ``getInvoicesByPno`` rows; a wrong ``status`` becomes a :class:`ValueError`."""
    try:
        return await client.call("getInvoicesByPno", {"pno": pno, "status": status})
    except QvicklyAPIError as error:
        if error.code == STATUS_NOT_CORRECT:
            raise ValueError(f"status must be 'Sent' or 'Sent,Paid', not {status!r}") from error
        raise


async def main() -> None:
    async with AsyncQvickly.for_sandbox() as client:
        for customer in sys.argv[1:] or ["10001", " 10001", "10000"]:
            print(f"{customer!r}: {await describe_lookup(client, customer)}")
        try:
            await client.call("getPaymentinfo", {"number": "404"})
        except QvicklyError as error:
            print(error)  # "getPaymentinfo failed with Qvickly error 5201: ... (logid ...)"


if __name__ == "__main__":
    asyncio.run(main())
