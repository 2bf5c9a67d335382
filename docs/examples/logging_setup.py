"""How-to: see what the client does in your logs, with personal data masked."""

import asyncio
import logging
import sys
from typing import TextIO

from qvickly_async import AsyncQvickly


def enable_qvickly_logging(
    level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Send the ``qvickly_async`` logger's records to ``stream`` (default: stderr).

    WARNING: retries. DEBUG: every attempt with its request and response bodies, masked.
    """
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    qvickly_logger = logging.getLogger("qvickly_async")
    qvickly_logger.setLevel(level)
    qvickly_logger.addHandler(handler)
    return handler


async def main() -> None:
    enable_qvickly_logging(logging.DEBUG, sys.stdout)
    async with AsyncQvickly.for_sandbox() as client:
        await client.get_invoices_by_customer("10001")


if __name__ == "__main__":
    asyncio.run(main())
