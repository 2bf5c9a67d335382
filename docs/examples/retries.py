"""How-to: timeouts, a deadline and retries; and why a payment is never sent twice."""

import asyncio
import logging
import sys
from collections.abc import Mapping
from typing import Any

import httpx

from qvickly_async import (
    AsyncQvickly,
    Invoice,
    QvicklyHTTPStatusError,
    QvicklyResponseError,
    QvicklyTransportError,
    RetryDetails,
)

logger = logging.getLogger("shop.billing")


def log_retry(details: RetryDetails) -> None:
    """``on_retry`` hook: called before every retry sleep, with what failed."""
    logger.info(
        "retrying %s after attempt %d failed with %s; next try in %.2f s",
        details.function,
        details.attempt,
        type(details.error).__name__,
        details.wait,
    )


def make_client(**overrides: Any) -> AsyncQvickly:
    """A client with explicit time limits (credentials from the environment)."""
    return AsyncQvickly.from_env(
        timeout=httpx.Timeout(20.0, connect=5.0),  # per phase of each attempt
        max_retries=3,  # retries after the first attempt, where safe
        deadline=30.0,  # the whole call: every attempt and every sleep
        on_retry=log_retry,
        **overrides,
    )


async def invoices_within(client: AsyncQvickly, customer: str, seconds: float) -> list[Invoice]:
    """Look a customer up within ``seconds``, whatever happens (for example in a web request)."""
    quick = client.with_options(deadline=seconds, max_retries=1)  # shares the connections
    return await quick.get_invoices_by_customer(customer)


class PaymentOutcomeUnknownError(Exception):
    """The request may have reached Qvickly: reconcile before sending it again."""


async def add_payment(client: AsyncQvickly, payment: Mapping[str, Any]) -> dict[str, str]:
    """Create a payment; tell "not created" apart from "maybe created"."""
    try:
        result: dict[str, str] = await client.call("addPayment", payment)
    except QvicklyTransportError as error:
        if error.request_sent:  # it may have arrived: a blind retry could charge twice
            raise PaymentOutcomeUnknownError(str(error)) from error
        raise  # provably never sent (the client already retried that for you)
    except (QvicklyHTTPStatusError, QvicklyResponseError) as error:
        raise PaymentOutcomeUnknownError(str(error)) from error  # a proxy or a damaged answer
    return result  # QvicklyAPIError (a definite "no") propagates unchanged


async def main() -> None:
    logging.basicConfig(level=logging.INFO)
    async with make_client() as client:
        invoices = await invoices_within(client, sys.argv[1] if len(sys.argv) > 1 else "12345", 5)
        print(f"{len(invoices)} invoices")


if __name__ == "__main__":
    asyncio.run(main())
