"""Streaming lookups: safe without ``async with``, and a duplicate filter that can be turned off."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from qvickly_async import AsyncQvickly

from ._fake import MERCHANT, SECRET, FakeQvickly
from ._support import signed_body

pytestmark = pytest.mark.anyio

EMPTY = signed_body([], secret=SECRET)


def client_over(transport: httpx.AsyncBaseTransport) -> AsyncQvickly:
    return AsyncQvickly(
        merchant_id=MERCHANT, secret=SECRET, base_url="http://127.0.0.1/", transport=transport
    )


def workers_alive() -> list[asyncio.Task[Any]]:
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("qvickly-batch-worker") and not task.done()
    ]


async def test_a_stream_dropped_without_async_with_cancels_its_lookups() -> None:
    loop = asyncio.get_running_loop()
    problems: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: problems.append(str(context.get("message"))))
    pulled = 0

    def numbers() -> Iterator[str]:
        nonlocal pulled
        for number in range(100_000):
            pulled += 1
            yield str(number)

    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.001)
        return httpx.Response(200, content=EMPTY)

    try:
        async with client_over(httpx.MockTransport(answer)) as client:
            async for result in client.iter_invoices_by_customers(numbers(), concurrency=4):
                assert result.ok
                break  # no `async with`: the stream is simply dropped here
            await asyncio.sleep(0.2)  # what was not cancelled fills the queue and blocks
            gc.collect()  # a pending worker collected here would be "destroyed but pending"
            await asyncio.sleep(0.05)
            taken = pulled
            await asyncio.sleep(0.05)
            assert pulled == taken  # nothing taken from the input any more
            assert workers_alive() == []
    finally:
        loop.set_exception_handler(previous)
    assert problems == []
    assert pulled <= 1 + 4 + 4  # the one consumed, the four in flight, a little slack


async def test_a_stream_never_iterated_starts_nothing() -> None:
    fake = FakeQvickly()
    async with client_over(fake.transport()) as client:
        stream = client.iter_invoices_by_customers(["1", "2", "3"])
        await asyncio.sleep(0.01)
        assert workers_alive() == []
        del stream
    assert fake.count == 0


@pytest.mark.parametrize(("deduplicate", "expected"), [(True, 3), (False, 5)])
async def test_the_duplicate_filter_can_be_turned_off(deduplicate: bool, expected: int) -> None:
    fake = FakeQvickly()
    async with client_over(fake.transport()) as client:
        stream = client.iter_invoices_by_customers(
            ["1", "2", "1", "3", "2"], deduplicate=deduplicate
        )
        async with stream:
            seen = [result.customer_number async for result in stream]
    assert fake.count == expected
    assert len(seen) == expected
    assert sorted(set(seen)) == ["1", "2", "3"]
