"""One benchmark measurement, run in a process of its own (so its CPU time is its own).

``python bench/workers.py '<json spec>'`` prints one JSON line: lookups done, wall and
process CPU time of the measured phase, latency percentiles and errors. ``run.py`` starts one
such process per (client, concurrency, repeat).

Every reference client does what the SDK does for a lookup, by hand and with the SDK's own
primitives (:mod:`qvickly_async._signing`): PHP-exact encoding of ``data``, HMAC-SHA512
signing, the envelope, and on the way back JSON decoding plus verification of the response
hash over the raw ``data`` bytes. Only the SDK also builds typed models.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import pstats
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from qvickly_async._signing import hashes_equal, php_json_encode, sign

Lookup = Callable[[str], Awaitable[int]]
API_VERSION = "2.5.0"
FUNCTION = "getInvoicesByCustomer"


class LookupFailedError(Exception):
    """A reference client got an answer it could not verify."""


class Signer:
    """Builds signed request bodies and verifies responses, as every client must."""

    def __init__(self, merchant_id: str, secret: str) -> None:
        self.secret = secret.encode()
        fixed = php_json_encode(
            {
                "id": merchant_id,
                "version": API_VERSION,
                "client": "qvickly-bench:1",
                "language": "sv",
                "test": "false",
            }
        )
        self.prefix = b'{"credentials":' + fixed[:-1].encode("ascii")
        self.tail = b',"function":' + php_json_encode(FUNCTION).encode("ascii") + b"}"

    def body(self, customer_number: str) -> bytes:
        """Return the signed request body of one lookup."""
        payload = php_json_encode({"customerno": customer_number}).encode("ascii")
        return b"".join(
            (
                self.prefix,
                b',"hash":"',
                sign(self.secret, payload).encode("ascii"),
                b'","time":',
                repr(time.time()).encode("ascii"),
                b'},"data":',
                payload,
                self.tail,
            )
        )

    def verify(self, body: bytes, loads: Callable[[bytes], Any] = json.loads) -> int:
        """Verify a response and return how many invoices it holds (``loads`` parses JSON)."""
        envelope = loads(body)
        data = envelope.get("data")
        credentials = envelope.get("credentials")
        if not isinstance(credentials, dict) or not isinstance(data, list):
            raise LookupFailedError(f"unexpected answer: {body[:200]!r}")
        # The API writes ``data`` as the envelope's last member: hash its raw bytes.
        start = body.index(b'"data":') + len(b'"data":')
        raw = body[start : body.rindex(b"}")]
        if not hashes_equal(sign(self.secret, raw), credentials.get("hash")):
            raise LookupFailedError("response hash does not match")
        return len(data)


# -- measurement ---------------------------------------------------------------------------


class Recorder:
    """Per-lookup latencies and failures of the measured phase."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.invoices = 0
        self.first_error: str | None = None

    def failed(self, error: BaseException) -> None:
        """Count a failed lookup (keep the first message)."""
        self.errors += 1
        if self.first_error is None:
            self.first_error = f"{type(error).__name__}: {error}"


def _numbers(start: int, count: int) -> list[str]:
    return [str(start + index) for index in range(count)]


async def _drive(
    lookup: Lookup, numbers: list[str], concurrency: int, deadline: float, record: Recorder
) -> None:
    """``concurrency`` workers share one iterator of customer numbers."""
    source = iter(numbers)

    async def worker() -> None:
        for number in source:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            try:
                found = await lookup(number)
                record.invoices += found
            except Exception as error:
                record.failed(error)
            record.latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class Phase:
    """Wall and process CPU time of the measured phase (optionally profiled)."""

    def __init__(self, profile: str | None) -> None:
        self.profile = cProfile.Profile() if profile else None
        self.profile_path = profile
        self.wall = 0.0
        self.cpu = 0.0

    def __enter__(self) -> Phase:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        if self.profile is not None:
            self.profile.enable()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.profile is not None:
            self.profile.disable()
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu
        if self.profile is not None and self.profile_path:
            self.profile.dump_stats(self.profile_path)
            out = io.StringIO()
            stats = pstats.Stats(self.profile, stream=out)
            stats.sort_stats("tottime").print_stats(35)
            Path(self.profile_path).with_suffix(".txt").write_text(out.getvalue())


# -- clients -------------------------------------------------------------------------------


async def _sdk(spec: dict[str, Any], numbers: list[str], warmup: list[str]) -> dict[str, Any]:
    import httpx

    from qvickly_async import AsyncQvickly

    concurrency = spec["concurrency"]
    pool = max(concurrency, 64)
    # As a new user would call it: default transport and options, only ``concurrency=``
    # (and, beyond the default pool of 64, the ``limits`` the SDK's refusal asks for).
    kwargs: dict[str, Any] = {}
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    if spec["client"] == "sdk-httpx":
        kwargs["http_client"] = httpx.AsyncClient(limits=limits)
    elif concurrency > 64 and spec["client"] != "sdk-base":
        # (The code before issue 10 took concurrency=256 without them and ran 64.)
        kwargs["limits"] = limits
    record = Recorder()
    async with AsyncQvickly(
        merchant_id=spec["merchant_id"],
        secret=spec["secret"],
        base_url=spec["url"],
        **kwargs,
    ) as client:
        await client.get_invoices_by_customers(warmup, concurrency=concurrency)
        if spec["client"] == "sdk-payment":
            numbers = await _invoice_numbers(client, numbers, len(numbers), concurrency)
            return await _sdk_payments(client, spec, numbers, record)
        deadline = time.monotonic() + spec["max_seconds"]
        started: dict[str, float] = {}

        def source() -> Iterator[str]:
            for number in numbers:
                if time.monotonic() > deadline:
                    return
                started[number] = time.perf_counter()
                yield number

        with Phase(spec.get("profile")) as phase:
            async with client.iter_invoices_by_customers(
                source(), concurrency=concurrency
            ) as results:
                async for result in results:
                    record.latencies.append(
                        time.perf_counter() - started.pop(result.customer_number)
                    )
                    if result.error is not None:
                        record.failed(result.error)
                    record.invoices += len(result.invoices)
        if "http_client" in kwargs:
            await kwargs["http_client"].aclose()
    return _result(record, phase)


async def _invoice_numbers(
    client: Any, customers: list[str], count: int, concurrency: int
) -> list[str]:
    """``count`` invoice numbers of ``customers`` (and the ones after them), found unmeasured."""
    found: list[str] = []
    base = int(customers[0])
    while len(found) < count:
        batch = [str(base + index) for index in range(count)]
        for result in await client.get_invoices_by_customers(batch, concurrency=concurrency):
            found.extend(invoice.number for invoice in result.invoices)
        base += count
    return found[:count]


async def _sdk_payments(
    client: Any, spec: dict[str, Any], numbers: list[str], record: Recorder
) -> dict[str, Any]:
    """``get_payment_info`` lookups through the same batch engine (``iter_payment_infos``)."""
    concurrency = spec["concurrency"]
    # Unmeasured: the server's answers get cached, as the invoice rows are by the priming.
    await client.get_payment_infos(numbers, concurrency=concurrency)
    deadline = time.monotonic() + spec["max_seconds"]
    started: dict[str, float] = {}

    def source() -> Iterator[str]:
        for number in numbers:
            if time.monotonic() > deadline:
                return
            started[number] = time.perf_counter()
            yield number

    with Phase(spec.get("profile")) as phase:
        async with client.iter_payment_infos(source(), concurrency=concurrency) as results:
            async for result in results:
                record.latencies.append(time.perf_counter() - started.pop(result.key))
                if result.error is not None:
                    record.failed(result.error)
                record.invoices += result.value is not None
    return _result(record, phase)


async def _aiohttp(spec: dict[str, Any], numbers: list[str], warmup: list[str]) -> dict[str, Any]:
    import aiohttp

    signer = Signer(spec["merchant_id"], spec["secret"])
    # ``aiohttp-orjson``: the same client parsing JSON with orjson (as the SDK's verifier does).
    loads: Callable[[bytes], Any] = json.loads
    if spec["client"] == "aiohttp-orjson":
        import orjson

        loads = orjson.loads
    concurrency = spec["concurrency"]
    url = spec["url"]
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    connector = aiohttp.TCPConnector(limit=max(concurrency, 64))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def lookup(number: str) -> int:
            async with session.post(url, data=signer.body(number), headers=headers) as response:
                content = await response.read()
                if response.status != 200:
                    raise LookupFailedError(f"HTTP {response.status}")
            return signer.verify(content, loads)

        return await _measure(spec, lookup, numbers, warmup)


async def _httpx(spec: dict[str, Any], numbers: list[str], warmup: list[str]) -> dict[str, Any]:
    import httpx

    signer = Signer(spec["merchant_id"], spec["secret"])
    concurrency = spec["concurrency"]
    pool = max(concurrency, 64)
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    client_name = spec["client"]
    transport: httpx.AsyncBaseTransport | None = None
    if client_name == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport as ThirdPartyTransport

        transport = ThirdPartyTransport(limits=limits)
    elif client_name == "httpx-ours":
        from qvickly_async._http11 import Http11Transport

        transport = Http11Transport(limits=limits)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    shards = 1
    if client_name == "httpx-sharded":
        shards = max(1, pool // 8)
        limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    clients = [
        httpx.AsyncClient(limits=limits, transport=transport, timeout=30.0) for _ in range(shards)
    ]
    url = spec["url"]
    turn = 0

    async def lookup(number: str) -> int:
        nonlocal turn
        client = clients[turn]
        turn = (turn + 1) % shards
        response = await client.post(url, content=signer.body(number), headers=headers)
        if response.status_code != 200:
            raise LookupFailedError(f"HTTP {response.status_code}")
        return signer.verify(response.content)

    try:
        return await _measure(spec, lookup, numbers, warmup)
    finally:
        for client in clients:
            await client.aclose()


async def _httpx2(spec: dict[str, Any], numbers: list[str], warmup: list[str]) -> dict[str, Any]:
    import httpx2  # type: ignore[import-not-found]

    signer = Signer(spec["merchant_id"], spec["secret"])
    pool = max(spec["concurrency"], 64)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    url = spec["url"]
    async with httpx2.AsyncClient(
        limits=httpx2.Limits(max_connections=pool, max_keepalive_connections=pool), timeout=30.0
    ) as client:

        async def lookup(number: str) -> int:
            response = await client.post(url, content=signer.body(number), headers=headers)
            if response.status_code != 200:
                raise LookupFailedError(f"HTTP {response.status_code}")
            return signer.verify(response.content)

        return await _measure(spec, lookup, numbers, warmup)


async def _measure(
    spec: dict[str, Any], lookup: Lookup, numbers: list[str], warmup: list[str]
) -> dict[str, Any]:
    concurrency = spec["concurrency"]
    await _drive(lookup, warmup, concurrency, time.monotonic() + 60, Recorder())
    record = Recorder()
    deadline = time.monotonic() + spec["max_seconds"]
    with Phase(spec.get("profile")) as phase:
        await _drive(lookup, numbers, concurrency, deadline, record)
    return _result(record, phase)


def _requests(spec: dict[str, Any], numbers: list[str], warmup: list[str]) -> dict[str, Any]:
    import requests

    signer = Signer(spec["merchant_id"], spec["secret"])
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    url = spec["url"]
    with requests.Session() as session:

        def lookup(number: str) -> int:
            response = session.post(url, data=signer.body(number), headers=headers, timeout=30)
            if response.status_code != 200:
                raise LookupFailedError(f"HTTP {response.status_code}")
            return signer.verify(response.content)

        for number in warmup:
            lookup(number)
        record = Recorder()
        deadline = time.monotonic() + spec["max_seconds"]
        with Phase(spec.get("profile")) as phase:
            for number in numbers:
                if time.monotonic() > deadline:
                    break
                started = time.perf_counter()
                try:
                    record.invoices += lookup(number)
                except Exception as error:
                    record.failed(error)
                record.latencies.append(time.perf_counter() - started)
    return _result(record, phase)


def _result(record: Recorder, phase: Phase) -> dict[str, Any]:
    done = len(record.latencies)
    return {
        "lookups": done,
        "errors": record.errors,
        "first_error": record.first_error,
        "invoices": record.invoices,
        "wall": phase.wall,
        "cpu": phase.cpu,
        "rate": done / phase.wall if phase.wall else 0.0,
        "cpu_ms": 1000 * phase.cpu / done if done else float("nan"),
        "p50_ms": 1000 * _percentile(record.latencies, 0.50),
        "p99_ms": 1000 * _percentile(record.latencies, 0.99),
    }


# -- memory --------------------------------------------------------------------------------


def _vm_hwm_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


async def _memory(spec: dict[str, Any]) -> dict[str, Any]:
    import httpx

    from qvickly_async import AsyncQvickly

    concurrency = spec["concurrency"]
    total = spec["lookups"]
    base = spec["first_customer"]
    span = spec["customers"]
    kwargs: dict[str, Any] = {}
    if concurrency > 64:
        kwargs["limits"] = httpx.Limits(
            max_connections=concurrency, max_keepalive_connections=concurrency
        )
    async with AsyncQvickly(
        merchant_id=spec["merchant_id"], secret=spec["secret"], base_url=spec["url"], **kwargs
    ) as client:
        # Warm up: pool, caches, allocator arenas.
        warm = _numbers(base, min(span, 2 * concurrency))
        await client.get_invoices_by_customers(warm, concurrency=concurrency)
        before = _vm_hwm_kib()

        def source() -> Iterator[str]:
            # Distinct customer numbers; those past the dataset are unknown customers
            # (an empty list), the rest carry invoices. ``total`` lookups in one stream.
            for index in range(total):
                yield str(base + index)

        done = errors = invoices = 0
        started = time.perf_counter()
        async with client.iter_invoices_by_customers(source(), concurrency=concurrency) as results:
            async for result in results:
                done += 1
                errors += result.error is not None
                invoices += len(result.invoices)
        wall = time.perf_counter() - started
        after = _vm_hwm_kib()
    return {
        "lookups": done,
        "errors": errors,
        "invoices": invoices,
        "wall": wall,
        "hwm_before_kib": before,
        "hwm_after_kib": after,
        "growth_mib": (after - before) / 1024,
    }


def _invoice_size(spec: dict[str, Any]) -> dict[str, Any]:
    """Tracemalloc size of one kept nested ``Invoice``, averaged over ``spec["rows"]`` rows.

    The rows are the sandbox's nested rendering of its demo dataset (the same seed the
    server uses), as JSON text. Each row is parsed and decoded inside the traced window and
    the parsed row is dropped, so what remains is what a kept ``Invoice`` holds (its strings
    included).
    """
    import gc
    import tracemalloc

    from qvickly_async._codec import structure_invoices
    from qvickly_async.sandbox._config import DEFAULT_SEED
    from qvickly_async.sandbox._dataset import DemoDataset
    from qvickly_async.sandbox._shapes import nested_row

    dataset = DemoDataset(seed=DEFAULT_SEED, size=spec["rows"] + 16)
    texts: list[bytes] = []
    number = spec["first_customer"]
    while len(texts) < spec["rows"]:
        for record in dataset.records(number):
            texts.append(json.dumps([nested_row(record)]).encode())
        number += 1
    texts = texts[: spec["rows"]]
    structure_invoices(json.loads(texts[0]))  # warm caches and lazily built hooks
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [structure_invoices(json.loads(text))[0] for text in texts]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {
        "invoices": len(kept),
        "json_bytes": sum(map(len, texts)),
        "bytes_per_invoice": (after - before) / len(kept),
    }


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the measurement ``spec`` describes and return its figures."""
    client = spec["client"]
    if client == "memory":
        return asyncio.run(_memory(spec))
    if client in ("invoice-size", "invoice-size-base"):
        return _invoice_size(spec)
    base = spec["first_customer"]
    count = spec["lookups"]
    concurrency = spec["concurrency"]
    numbers = _numbers(base, count)
    # Warm-up lookups use other customers than the measured ones (no server-side reuse).
    warmup = _numbers(base + count, min(spec["customers"] - count, max(concurrency, 1) * 2))
    if client == "requests":
        return _requests(spec, numbers, warmup[: max(1, min(len(warmup), 10))])
    runner = {
        "sdk": _sdk,
        "sdk-base": _sdk,
        "sdk-httpx": _sdk,
        "sdk-payment": _sdk,
        "aiohttp": _aiohttp,
        "aiohttp-orjson": _aiohttp,
        "httpx": _httpx,
        "httpx-aiohttp": _httpx,
        "httpx-ours": _httpx,
        "httpx-sharded": _httpx,
        "httpx2": _httpx2,
    }[client]
    return asyncio.run(runner(spec, numbers, warmup))


def main() -> None:
    """Entry point: one JSON spec in ``argv[1]``, one JSON line out."""
    spec = json.loads(sys.argv[1])
    result = run(spec)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
