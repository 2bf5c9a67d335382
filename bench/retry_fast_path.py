"""CPU cost of the retry engine's fast first attempt, with and without it, in one process.

Two measurements, each interleaved over ``--rounds`` rounds and reported as the median:

* ``engine``: :meth:`RetryPolicy.run` around a coroutine that returns at once (the engine's
  own overhead per call);
* ``lookup``: a whole ``get_invoices_by_customer`` (encode, sign, engine, send, verify,
  decode) against an in-process transport that answers with a pre-signed empty list.

::

    python bench/retry_fast_path.py --lookups 20000 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import attrs
from stream_memory import SECRET, ConstantTransport, signed_empty_list

from qvickly_async import AsyncQvickly
from qvickly_async._retry import RetryPolicy


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def _nothing(number: int) -> int:
    return number


async def engine_us(policy: RetryPolicy, calls: int) -> float:
    """Return CPU microseconds per :meth:`RetryPolicy.run` of a coroutine that returns."""
    started = time.process_time()
    for _ in range(calls):
        await policy.run(_nothing, function="getInvoicesByCustomer")
    return (time.process_time() - started) / calls * 1e6


async def lookup_us(client: AsyncQvickly, calls: int) -> float:
    """Return CPU microseconds per ``get_invoices_by_customer``."""
    started = time.process_time()
    for index in range(calls):
        await client.get_invoices_by_customer(f"{index:08d}")
    return (time.process_time() - started) / calls * 1e6


async def main(lookups: int, rounds: int) -> None:
    """Measure both ways, interleaved, and print the medians."""
    results: dict[tuple[str, bool], list[float]] = {}
    async with AsyncQvickly(
        merchant_id="1",
        secret=SECRET,
        base_url="http://127.0.0.1/",
        transport=ConstantTransport(signed_empty_list()),
    ) as client:
        fast_retry = client._retry
        await lookup_us(client, 500)  # warm-up
        for _ in range(rounds):
            for fast in (True, False):
                policy = attrs.evolve(fast_retry, fast_first_attempt=fast)
                client._retry = policy
                results.setdefault(("engine", fast), []).append(await engine_us(policy, lookups))
                results.setdefault(("lookup", fast), []).append(await lookup_us(client, lookups))
    for kind in ("engine", "lookup"):
        with_fast = statistics.median(results[(kind, True)])
        without = statistics.median(results[(kind, False)])
        _say(
            f"{kind:>6}: {with_fast:6.1f} us with the fast first attempt, {without:6.1f} us "
            f"without (+{without - with_fast:.1f} us, {without / with_fast:.2f}x)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(main(options.lookups, options.rounds))
