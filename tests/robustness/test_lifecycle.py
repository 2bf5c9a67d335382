"""Issue 11, item 10: pools are closed by whoever is last, from any loop, with one warning.

``async with client.with_options(...)`` closes nothing it does not own but never leaks a pool
whose owner is gone; ``aclose()`` from another event loop closes the sockets; an unclosed
client gives the SDK's ``ResourceWarning`` (not aiohttp's "Unclosed client session"); the first
call imports nothing and loads no CA bundle (a plain-http client never loads one at all).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from qvickly_async import AsyncQvickly, QvicklyConnectionError
from qvickly_async.sandbox import Sandbox

from .._support import make_client
from ._hostile import hostile_server_in_thread, sandbox_responder

pytestmark = pytest.mark.socket


@pytest.fixture
def asyncio_errors() -> Iterator[list[logging.LogRecord]]:
    """What asyncio's exception handler logs ("Unclosed client session", ...)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign,assignment]
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def wait_until(condition: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_derived_client_of_a_dropped_owner_closes_the_pool_it_opened(
    asyncio_errors: list[logging.LogRecord],
) -> None:
    sandbox = Sandbox()
    with hostile_server_in_thread(sandbox_responder(sandbox), keep_alive=True) as server:

        async def main() -> None:
            async with make_client(sandbox, server.url).with_options(max_retries=0) as client:
                await client.get_invoices_by_customer("10001")

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            asyncio.run(main())
            gc.collect()
        assert wait_until(lambda: server.ended == server.connections == 1)
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
    assert [record.getMessage() for record in asyncio_errors] == []


@pytest.mark.anyio
async def test_a_derived_client_closes_nothing_its_open_owner_still_uses() -> None:
    """Control: the documented sharing still holds."""
    sandbox = Sandbox()
    async with sandbox.serve() as server, make_client(sandbox, server.url) as owner:
        async with owner.with_options(deadline=5) as derived:
            await derived.get_invoices_by_customer("10001")
        assert len(await owner.get_invoices_by_customer("10001")) > 0


def test_aclose_from_another_event_loop_closes_the_sockets(
    asyncio_errors: list[logging.LogRecord],
) -> None:
    sandbox = Sandbox()
    with hostile_server_in_thread(sandbox_responder(sandbox), keep_alive=True) as server:
        client = make_client(sandbox, server.url)

        async def use(client: AsyncQvickly) -> None:
            await asyncio.gather(*(client.get_invoices_by_customer("10001") for _ in range(3)))

        asyncio.run(use(client))  # loop A is closed afterwards, its connections still pooled
        assert server.connections >= 1
        asyncio.run(client.aclose())  # loop B
        assert wait_until(lambda: server.ended == server.connections), (
            f"{server.connections - server.ended} of {server.connections} sockets left open"
        )
        del client
        gc.collect()
    assert [record.getMessage() for record in asyncio_errors] == []


def test_an_unclosed_client_gives_the_sdks_warning_only(
    asyncio_errors: list[logging.LogRecord],
) -> None:
    sandbox = Sandbox()
    with hostile_server_in_thread(sandbox_responder(sandbox), keep_alive=True) as server:

        async def main() -> None:
            client = make_client(sandbox, server.url)
            await client.get_invoices_by_customer("10001")
            del client  # never closed
            gc.collect()
            await asyncio.sleep(0.05)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            asyncio.run(main())
            gc.collect()
        assert wait_until(lambda: server.ended == server.connections)
    messages = [str(w.message) for w in caught if w.category is ResourceWarning]
    assert any("was not closed" in message for message in messages), messages
    assert not any("Unclosed" in message for message in messages), messages
    assert [record.getMessage() for record in asyncio_errors] == []


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_first_call_imports_nothing_and_loads_no_ca_bundle(
    monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    """What stalled the loop ~200 ms on the first call happens at construction, or never."""
    loads: list[str] = []
    original = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(scheme)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    sandbox = Sandbox()
    with hostile_server_in_thread(sandbox_responder(sandbox), keep_alive=True) as server:
        url = server.url if scheme == "http" else "https://127.0.0.1:9/"  # https: refused
        client = make_client(sandbox, url, max_retries=0)
        loaded_at_construction = len(loads)
        modules = set(sys.modules)

        async def first_call() -> None:
            if scheme == "http":
                await client.get_invoices_by_customer("10001")
            else:
                with pytest.raises(QvicklyConnectionError):
                    await client.get_invoices_by_customer("10001")
            await client.aclose()

        asyncio.run(first_call())
    new_modules = sorted(name for name in set(sys.modules) - modules if "aiohttp" in name)
    assert new_modules == []
    assert len(loads) == loaded_at_construction  # nothing loaded during the call
    if scheme == "http":
        assert loads == []  # plain http never loads a CA bundle
