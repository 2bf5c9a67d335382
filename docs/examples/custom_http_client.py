"""How-to: bring your own ``httpx.AsyncClient``: proxy, CA bundle, event hooks, tracing."""

import asyncio
import logging
import os
import ssl
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from qvickly_async import AsyncQvickly

logger = logging.getLogger("shop.http")

#: Your proxy, if any, for example ``http://proxy.internal:3128``.
PROXY = os.environ.get("SHOP_PROXY")
#: A CA bundle to trust instead of the default one (a TLS-inspecting proxy's CA).
CA_BUNDLE = os.environ.get("SHOP_CA_BUNDLE")

#: httpx's trace extension: called with an event name ("connection.connect_tcp.started", ...).
Trace = Callable[[str, dict[str, Any]], Awaitable[None]]


def build_http_client(
    *, proxy: str | None = None, ca_bundle: str | None = None, trace: Trace | None = None
) -> httpx.AsyncClient:
    """An HTTP client for your network: the SDK uses it as is and never closes it."""
    verify: ssl.SSLContext | bool = True
    if ca_bundle is not None:  # for a TLS-inspecting proxy with a private CA
        verify = ssl.create_default_context(cafile=ca_bundle)

    async def on_request(request: httpx.Request) -> None:
        request.headers["X-Request-ID"] = uuid.uuid4().hex  # correlate with your proxy logs
        if trace is not None:
            request.extensions["trace"] = trace

    async def on_response(response: httpx.Response) -> None:
        request = response.request
        logger.info(
            "%s %s -> %d (request id %s)",
            request.method,
            request.url,
            response.status_code,
            request.headers["X-Request-ID"],
        )

    return httpx.AsyncClient(
        proxy=proxy,
        verify=verify,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
        event_hooks={"request": [on_request], "response": [on_response]},
    )


async def print_trace(event: str, info: dict[str, Any]) -> None:
    """A trace callback that prints what the connection does."""
    print(event)


async def main() -> None:
    http = build_http_client(proxy=PROXY, ca_bundle=CA_BUNDLE, trace=print_trace)
    # Close the SDK client first, then yours: `async with` exits in reverse order.
    async with http, AsyncQvickly.from_env(http_client=http) as client:
        await client.ping()


if __name__ == "__main__":
    asyncio.run(main())
