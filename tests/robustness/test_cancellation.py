"""Random cancellations during batches leak nothing.

1,000 seeded cancellations (the seed is in the test id) at random moments: the task running
``get_invoices_by_customers`` is cancelled from outside, or ``iter_invoices_by_customers`` is
left early (``break`` out of ``async with``), or a single lookup is cancelled mid-request. Then
the same client runs a batch of many customers at full concurrency, which only completes
within its deadline if every connection slot came back.

Leaks show up three ways and each fails the test: the follow-up batch stalls (slots lost), the
pool's slot count is short (checked directly too), or asyncio reports an abandoned task or an
unclosed session (the ``loop_guard`` handler, with ``gc.collect()``; warnings are errors).
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from qvickly_async import AsyncQvickly
from qvickly_async.sandbox import FaultPlan, Sandbox

from .._support import assert_pool_is_whole, make_client
from ._hostile import report

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.socket,
    pytest.mark.usefixtures("loop_guard", "no_proxy_env"),
]

SEED = 1_000_003
POOL = 8


async def cancel_at_random(client: AsyncQvickly, rng: random.Random, numbers: list[str]) -> str:
    """One random cancellation; returns which kind it was."""
    kind = rng.choice(["outer", "outer", "early-exit", "single"])
    start = rng.randrange(len(numbers) - 40)
    chunk = numbers[start : start + rng.randrange(5, 40)]
    if kind == "outer":
        task = asyncio.create_task(client.get_invoices_by_customers(chunk))
        await asyncio.sleep(rng.uniform(0, 0.012))
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "outer-cancelled"
        return "outer-finished-first"
    if kind == "early-exit":
        stop_after = rng.randrange(0, 6)
        async with client.iter_invoices_by_customers(chunk) as results:
            seen = 0
            async for _ in results:
                seen += 1
                if seen > stop_after:
                    return "early-exit"
        return "early-exit-exhausted"
    single = asyncio.create_task(client.get_invoices_by_customer(chunk[0]))
    await asyncio.sleep(rng.uniform(0, 0.005))
    single.cancel()
    try:
        await single
    except asyncio.CancelledError:
        return "single-cancelled"
    return "single-finished-first"


async def run_cancellations(rounds: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    sandbox = Sandbox(customers=2000)
    # Latency with jitter keeps requests in flight at every moment a cancellation may land;
    # a few slow drips make some cancellations hit mid-body.
    sandbox.set_faults(
        FaultPlan(seed=seed, latency=0.001, jitter=0.004, slow_drip=0.05, drip_bytes=256)
    )
    numbers = [str(number) for number in sandbox.customer_numbers]
    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    kinds: Counter[str] = Counter()
    started = time.monotonic()
    async with (
        sandbox.serve() as server,
        make_client(sandbox, server.url, limits=limits, deadline=10) as client,
    ):
        for _ in range(rounds):
            async with asyncio.timeout(5):  # a stalled round (no free slot) fails fast
                kind = await cancel_at_random(client, rng, numbers)
            kinds[kind] += 1
        gc.collect()
        requests_during_cancellations = sandbox.counters.total()
        # Every slot is back once the cancelled work has been awaited (a leak would stay).
        await assert_pool_is_whole(client, sandbox, POOL)

        # The follow-up batch: every customer, full concurrency, on the same client.
        sandbox.set_faults(None)
        sandbox.reset()
        follow_up = time.monotonic()
        async with asyncio.timeout(20):  # the batch's deadline (a hang guard)
            results = await client.get_invoices_by_customers(numbers, concurrency=POOL)
        follow_up = time.monotonic() - follow_up
        assert all(result.ok for result in results)
        assert len(results) == len(numbers)
        assert sandbox.counters.calls(outcome="ok") == len(numbers)
        await assert_pool_is_whole(client, sandbox, POOL)
    stats = {
        "rounds": rounds,
        "kinds": dict(kinds),
        "requests_during_cancellations": requests_during_cancellations,
        "follow_up_lookups": len(numbers),
        "follow_up_seconds": round(follow_up, 2),
        "seconds": round(time.monotonic() - started, 2),
    }
    report(f"\ncancellations: {stats}")
    cancelled = sum(count for kind, count in kinds.items() if "finished" not in kind)
    assert cancelled > rounds // 2  # most cancellations really hit work in flight
    return stats


@pytest.mark.parametrize("seed", [SEED], ids=lambda seed: f"seed={seed}")
async def test_random_cancellations_leak_no_connection_slots(seed: int) -> None:
    await run_cancellations(1000, seed)


@pytest.mark.soak
@pytest.mark.parametrize("seed", [SEED + 1], ids=lambda seed: f"seed={seed}")
async def test_random_cancellations_leak_no_connection_slots_soak(seed: int) -> None:
    await run_cancellations(10_000, seed)


async def test_the_loop_guard_catches_unretrieved_task_exceptions(
    loop_guard: list[dict[str, Any]],
) -> None:
    """The guard this module relies on really sees an abandoned failed task."""

    async def fail() -> None:
        raise RuntimeError("nobody awaits me")

    task = asyncio.create_task(fail())
    await asyncio.sleep(0)
    del task
    gc.collect()
    await asyncio.sleep(0)
    assert any("never retrieved" in str(context.get("message")) for context in loop_guard)
    loop_guard.clear()


async def test_an_unclosed_client_is_reported(loop_guard: list[dict[str, Any]]) -> None:
    """A client dropped without ``aclose`` warns (ResourceWarning, an error in this suite)."""
    sandbox = Sandbox()
    async with sandbox.serve() as server:
        client = make_client(sandbox, server.url)
        await client.get_invoices_by_customer("10001")
        with pytest.warns(ResourceWarning, match="was not closed"):
            client.__del__()
        await client.aclose()
