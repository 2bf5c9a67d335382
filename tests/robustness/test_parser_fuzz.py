"""Hostile response bodies raise only ``QvicklyError`` subclasses, quickly.

Bodies (see ``_fuzz_inputs``): random bytes, byte-mutated valid envelopes, deep nesting, huge
and non-finite numbers, and wrong types in every field of both invoice shapes, signed with the
test secret so they pass verification and reach the codec. They go through

* ``_response.verified_data`` + ``_codec.structure_invoices`` (the pure pipeline), and
* ``client.get_invoices_by_customer`` over ``httpx.MockTransport`` with the ``qvickly_async``
  logger at DEBUG (so the body-redacting debug log runs too).

No input may take more than 50 ms (``time.perf_counter`` per example; the first example of
each test is a warm-up with a generous bound). Oversized bodies are refused while reading,
before any parsing; deep nesting is refused at the interpreter's recursion limit, long
before the end of the body. Hypothesis runs with ``derandomize=True``.

The long-running coverage-guided fuzzer is ``fuzz/fuzz_response.py`` (``nox -s fuzz``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from qvickly_async import (
    AsyncQvickly,
    QvicklyDecodeError,
    QvicklyError,
    QvicklyResponseError,
)
from qvickly_async import _client as client_module
from qvickly_async._codec import structure_invoices
from qvickly_async._response import verified_data

from ._fuzz_inputs import SECRET, bodies, envelope
from ._hostile import report

pytestmark = pytest.mark.usefixtures("debug_logging")

FUNCTION = "getInvoicesByCustomer"
LIMIT = 0.050
WARM_UP_LIMIT = 2.0
EXAMPLES = 1500

_FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def debug_logging() -> Iterator[None]:
    """Every logger at DEBUG, records rendered (and dropped) by a handler on the root."""
    root = logging.getLogger()
    sink = _RenderingHandler()
    previous = root.level
    root.addHandler(sink)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(sink)
        root.setLevel(previous)


class _RenderingHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        record.getMessage()  # renders args: a failing %-format would raise here


class Timer:
    """Per-example time bound with one warm-up.

    An example over a fifth of the bound is timed twice more (after a ``gc.collect()``) and
    judged by its fastest run, so a garbage collection or a scheduler hiccup on a shared CI
    machine does not count as the input's cost.
    """

    def __init__(self) -> None:
        self.times: list[float] = []

    def run(self, action: Callable[[], object], body: bytes) -> None:
        limit = WARM_UP_LIMIT if not self.times else LIMIT
        seconds = _timed(action)
        if seconds >= LIMIT / 5:  # re-measure outliers (see above); cheap, they are few
            gc.collect()
            seconds = min(seconds, _timed(action), _timed(action))
        self.times.append(seconds)
        assert seconds < limit, f"{seconds * 1000:.1f} ms for a {len(body)}-byte body"

    def report(self, name: str) -> None:
        rate = len(self.times) / sum(self.times)
        report(
            f"\n{name}: {len(self.times)} bodies, max {max(self.times[1:]) * 1000:.1f} ms, "
            f"{rate:,.0f} bodies/s of pipeline time"
        )


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    with contextlib.suppress(QvicklyError):
        action()
    return time.perf_counter() - started


def pipeline(body: bytes) -> Any:
    """The pure pipeline: verify, then structure (only ``QvicklyError`` may escape)."""
    data = verified_data(body, secret=SECRET, function=FUNCTION)
    return structure_invoices(data, function=FUNCTION)


def test_pipeline_raises_only_qvickly_errors() -> None:
    timer = Timer()
    outcomes: dict[str, int] = {}

    @_FUZZ_SETTINGS
    @given(body=bodies())
    def fuzz(body: bytes) -> None:
        try:
            pipeline(body)
            outcome = "ok"
        except QvicklyError as error:
            outcome = type(error).__name__
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        timer.run(lambda: pipeline(body), body)

    fuzz()
    timer.report("verified_data + structure_invoices")
    report(f"outcomes: {dict(sorted(outcomes.items()))}")
    assert outcomes.get("ok", 0) > 0 and outcomes.get("QvicklySignatureError", 0) > 0
    assert outcomes.get("QvicklyDecodeError", 0) > 0


def _client(transport: httpx.AsyncBaseTransport, **kwargs: Any) -> AsyncQvickly:
    return AsyncQvickly(
        merchant_id="12345",
        secret=SECRET,
        base_url="http://api.invalid/",
        allow_insecure_http=True,
        transport=transport,
        **kwargs,
    )


def test_client_raises_only_qvickly_errors() -> None:
    timer = Timer()
    current: list[bytes] = [b""]

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=current[0])

    client = _client(httpx.MockTransport(handler), max_retries=1)
    loop = asyncio.new_event_loop()

    @_FUZZ_SETTINGS
    @given(body=bodies())
    def fuzz(body: bytes) -> None:
        current[0] = body
        timer.run(lambda: loop.run_until_complete(client.get_invoices_by_customer("1")), body)

    try:
        fuzz()
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()
    timer.report("client.get_invoices_by_customer at DEBUG")


# -- limits ----------------------------------------------------------------------------------


@pytest.fixture
def parse_spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record every body that reaches the parser (``verified_data``) from the client."""
    seen: list[int] = []

    def spy(body: bytes, **kwargs: Any) -> Any:
        seen.append(len(body))
        return verified_data(body, **kwargs)

    monkeypatch.setattr(client_module, "verified_data", spy)
    return seen


@pytest.mark.anyio
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_oversized_bodies_are_refused_before_parsing(
    parse_spy: list[int], declared: bool
) -> None:
    limit = 64 * 1024
    body = envelope(json.dumps([{"x": "y" * 100}] * 1000).encode())
    assert len(body) > limit
    chunks_sent: list[int] = []

    async def stream() -> Any:
        for start in range(0, len(body), 4096):
            chunks_sent.append(start)
            yield body[start : start + 4096]

    def handler(_: httpx.Request) -> httpx.Response:
        if declared:
            return httpx.Response(200, content=body)
        return httpx.Response(200, content=stream())

    async with _client(
        httpx.MockTransport(handler), max_response_bytes=limit, max_retries=0
    ) as client:
        started = time.perf_counter()
        with pytest.raises(QvicklyResponseError, match="max_response_bytes"):
            await client.get_invoices_by_customer("10001")
        assert time.perf_counter() - started < LIMIT
        # And just under the limit it is parsed (the spy sees it).
        small = envelope(b"[]")
        client_small = client.with_options()
        assert parse_spy == []
    if not declared:
        assert len(chunks_sent) <= limit // 4096 + 2  # stopped reading at the limit
    async with _client(
        httpx.MockTransport(lambda _: httpx.Response(200, content=small)),
        max_response_bytes=len(small),
    ) as client_small:
        assert await client_small.get_invoices_by_customer("10001") == []
    assert parse_spy == [len(small)]


@pytest.mark.parametrize("size_mb", [1, 16])
def test_deep_nesting_is_refused_without_reading_the_whole_body(size_mb: int) -> None:
    """Refusal time does not grow with what follows the too-deep part."""
    depth = 100_000
    tail = b" " * (size_mb * 1024 * 1024)
    raw = b"[" * depth + b"]" * depth
    body = envelope(raw)[:-1] + tail + b"}"
    pipeline_time = []
    for _ in range(3):
        started = time.perf_counter()
        with pytest.raises(QvicklyDecodeError, match="too deeply nested"):
            verified_data(body, secret=SECRET, function=FUNCTION)
        pipeline_time.append(time.perf_counter() - started)
    assert min(pipeline_time) < LIMIT


def test_nesting_just_under_the_recursion_limit_is_a_decode_error() -> None:
    """Nesting the parser accepts but no PHP server sends (PHP stops at 512) never crashes."""
    for depth in (400, 513, 600, 800, 900, 950, 990):
        raw = ("[" * depth + "]" * depth).join(['[{"x":', "}]"]).encode()
        with pytest.raises(QvicklyError):
            pipeline(envelope(raw))


@pytest.mark.soak
def test_pipeline_raises_only_qvickly_errors_soak() -> None:
    @settings(_FUZZ_SETTINGS, max_examples=50_000)
    @given(body=bodies())
    def fuzz(body: bytes) -> None:
        with contextlib.suppress(QvicklyError):
            pipeline(body)

    fuzz()
