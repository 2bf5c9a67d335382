"""GC-tracked objects each lookup in flight keeps alive, by type.

``python bench/inflight_objects.py [--in-flight N] [--latency-ms MS]`` starts a loopback
sandbox process with added latency (nested rows), puts ``N`` lookups in flight through
``get_invoices_by_customers`` and, while they all wait for the server, counts the objects
the garbage collector tracks against a count taken before (after a full collection). Every
such object is scanned by each collection of its generation while the lookup is in flight,
so fewer of them means less GC work per lookup at high concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import sys

import httpx
from run import MERCHANT_ID, SECRET, sandbox_server

from qvickly_async import AsyncQvickly


def _counts() -> collections.Counter[str]:
    return collections.Counter(type(found).__name__ for found in gc.get_objects())


async def measure(in_flight: int, latency: float) -> tuple[float, list[tuple[str, float]]]:
    """Return the tracked objects per in-flight lookup and the commonest types' shares."""
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    with sandbox_server("nested", latency * 1000, in_flight * 3) as server:
        async with AsyncQvickly(
            merchant_id=MERCHANT_ID, secret=SECRET, base_url=server.url, limits=limits
        ) as client:
            return await _grown(client, in_flight, latency)


async def _grown(
    client: AsyncQvickly, in_flight: int, latency: float
) -> tuple[float, list[tuple[str, float]]]:
    first = 10000
    warm = [str(first + in_flight + index) for index in range(in_flight)]
    await client.get_invoices_by_customers(warm, concurrency=in_flight)
    gc.collect()
    before = _counts()
    numbers = [str(first + index) for index in range(in_flight)]
    batch = asyncio.ensure_future(client.get_invoices_by_customers(numbers, concurrency=in_flight))
    await asyncio.sleep(latency / 2)  # every lookup sent, none answered yet
    grown = _counts() - before
    await batch
    per_lookup = sum(grown.values()) / in_flight
    return per_lookup, [(name, count / in_flight) for name, count in grown.most_common(12)]


def main() -> None:
    """Entry point; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--latency-ms", type=float, default=400.0)
    options = parser.parse_args()
    per_lookup, shares = asyncio.run(measure(options.in_flight, options.latency_ms / 1000))
    sys.stdout.write(f"{per_lookup:.1f} GC-tracked objects per lookup in flight\n")
    for name, share in shares:
        sys.stdout.write(f"  {name}: {share:.2f}\n")


if __name__ == "__main__":
    main()
