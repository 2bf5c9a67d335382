"""Memory of a long stream: ``iter_invoices_by_customers`` over N numbers, in process.

Every lookup runs the SDK's whole pipeline (encode, sign, retry engine, send, verify,
decode) against a cheap in-process transport that answers every request with one pre-signed
empty invoice list, so the client's own memory is all that grows. Prints the resident set
size after every tenth of the stream, and its growth from the first tenth to the end::

    python bench/stream_memory.py --lookups 1000000 --deduplicate off
    python bench/stream_memory.py --lookups 1000000 --deduplicate on
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from collections.abc import Iterator

import httpx

from qvickly_async import AsyncQvickly
from qvickly_async._signing import php_json_encode, sign

SECRET = "stream-memory-secret"  # noqa: S105 - a throwaway key for a local transport


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def signed_empty_list() -> bytes:
    """Return a signed response body whose data is an empty invoice list."""
    raw = php_json_encode([])
    credentials = php_json_encode({"hash": sign(SECRET.encode(), raw.encode()), "logid": 1})
    return f'{{"credentials":{credentials},"data":{raw}}}'.encode()


class ConstantTransport(httpx.AsyncBaseTransport):
    """Answers every request with the same signed body, without reading the request."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Return the constant body."""
        return httpx.Response(200, content=self.body)


def rss_mib() -> float:
    """Return this process's resident set size in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def numbers(count: int) -> Iterator[str]:
    """Yield ``count`` distinct customer numbers, lazily."""
    for index in range(count):
        yield f"{index:010d}"


async def main(lookups: int, deduplicate: bool, concurrency: int) -> None:
    """Stream ``lookups`` lookups and report the resident set size as it goes."""
    checkpoints = {lookups * step // 10 for step in range(1, 11)}
    started = time.process_time()
    first: float | None = None
    async with AsyncQvickly(
        merchant_id="1",
        secret=SECRET,
        base_url="http://127.0.0.1/",
        transport=ConstantTransport(signed_empty_list()),
    ) as client:
        done = 0
        async with client.iter_invoices_by_customers(
            numbers(lookups), concurrency=concurrency, deduplicate=deduplicate
        ) as stream:
            async for result in stream:
                assert result.ok, result.error
                done += 1
                if done in checkpoints:
                    rss = rss_mib()
                    first = rss if first is None else first
                    _say(f"{done:>9,} lookups  RSS {rss:7.1f} MiB")
    cpu = time.process_time() - started
    assert first is not None
    _say(
        f"deduplicate={'on' if deduplicate else 'off'}: RSS growth from the first tenth to the "
        f"end {rss_mib() - first:+.1f} MiB; CPU {cpu / lookups * 1e6:.0f} us per lookup"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=1_000_000)
    parser.add_argument("--deduplicate", choices=["on", "off"], default="off")
    parser.add_argument("--concurrency", type=int, default=64)
    options = parser.parse_args()
    asyncio.run(main(options.lookups, options.deduplicate == "on", options.concurrency))
