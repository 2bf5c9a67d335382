"""``concurrency=N`` puts N lookups in flight, or is refused before anything is sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from qvickly_async import AsyncQvickly
from qvickly_async.exceptions import QvicklyInputError
from qvickly_async.sandbox import Sandbox

from ._fake import MERCHANT, SECRET
from ._support import make_client, signed_body

pytestmark = pytest.mark.anyio

EMPTY = signed_body([], secret=SECRET)


class InFlightCounter:
    """Holds every request until ``target`` are in flight at once (or a timeout passes)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.in_flight = 0
        self.peak = 0
        self.served = 0
        self._full = asyncio.Event()

    async def hold(self) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        if self.in_flight >= self.target:
            self._full.set()
        try:
            await asyncio.wait_for(self._full.wait(), timeout=3.0)
        except TimeoutError:
            self._full.set()  # fewer than target ever arrived: let everything through
        finally:
            self.in_flight -= 1
            self.served += 1

    async def aiohttp_handler(self, request: web.Request) -> web.Response:
        await request.read()
        await self.hold()
        return web.Response(body=EMPTY, content_type="application/json")

    async def mock_handler(self, request: httpx.Request) -> httpx.Response:
        await self.hold()
        return httpx.Response(200, content=EMPTY)


@pytest.fixture
async def loopback() -> AsyncIterator[tuple[str, InFlightCounter]]:
    counter = InFlightCounter(target=256)
    app = web.Application()
    app.router.add_post("/", counter.aiohttp_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/", counter
    finally:
        await runner.cleanup()


def numbers(count: int) -> list[str]:
    return [f"{10_000 + index}" for index in range(count)]


async def test_256_in_flight_over_real_sockets(loopback: tuple[str, InFlightCounter]) -> None:
    url, counter = loopback
    pool = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with AsyncQvickly(
        merchant_id=MERCHANT, secret=SECRET, base_url=url, limits=pool
    ) as client:
        results = await client.get_invoices_by_customers(numbers(300), concurrency=256)
    assert all(result.ok for result in results)
    assert counter.peak == 256
    assert counter.served == 300


async def test_concurrency_is_honoured_over_a_given_transport() -> None:
    """A transport of the caller's (here in-process) has no pool the SDK knows: N is N."""
    counter = InFlightCounter(target=100)
    async with AsyncQvickly(
        merchant_id=MERCHANT,
        secret=SECRET,
        base_url="http://127.0.0.1/",
        transport=httpx.MockTransport(counter.mock_handler),
    ) as client:
        results = await client.get_invoices_by_customers(numbers(150), concurrency=100)
    assert len(results) == 150
    assert counter.peak == 100


async def test_the_default_is_64_in_flight() -> None:
    counter = InFlightCounter(target=64)
    async with AsyncQvickly(
        merchant_id=MERCHANT,
        secret=SECRET,
        base_url="http://127.0.0.1/",
        transport=httpx.MockTransport(counter.mock_handler),
    ) as client:
        await client.get_invoices_by_customers(numbers(100))
    assert counter.peak == 64


# Sends (if any) would go to a closed loopback port and come back as failed results.
REFUSED = "http://127.0.0.1:9/"


@pytest.mark.socket
async def test_more_than_the_pool_is_refused_before_anything_is_sent(sandbox: Sandbox) -> None:
    async with sandbox.serve() as server, make_client(sandbox, server.url) as client:
        with pytest.raises(QvicklyInputError, match=r"concurrency=256 .* pool \(64 conn"):
            await client.get_invoices_by_customers(numbers(3), concurrency=256)
        with pytest.raises(QvicklyInputError, match=r"max_connections=256"):
            client.iter_invoices_by_customers(numbers(3), concurrency=256)
    assert sandbox.counters.total() == 0  # nothing was ever sent


async def test_a_smaller_pool_is_the_limit() -> None:
    pool = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    async with AsyncQvickly(
        merchant_id=MERCHANT, secret=SECRET, base_url=REFUSED, limits=pool
    ) as client:
        with pytest.raises(QvicklyInputError, match=r"at most 8"):
            await client.get_invoices_by_customers(numbers(3), concurrency=9)
