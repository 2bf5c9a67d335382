"""Hostile answers and arguments: envelope parsing cost, numbers and JSON types, bad input.

Issue 11, items 4 (whitespace-padded envelopes are parsed in time independent of the
padding, forged ones are refused), 6 (self-containing or absurdly deep data, a string or
junk where a list of customer numbers belongs: typed errors, nothing sent), 8 (DEBUG body
logs mask personal numbers inside free text) and 9 (``1e400`` is a decode error; the
re-encoding fallback of verification never changes JSON types).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import httpx
import pytest

from qvickly_async import (
    AsyncQvickly,
    QvicklyDecodeError,
    QvicklyInputError,
    QvicklySignatureError,
)
from qvickly_async._response import verified_data
from qvickly_async.sandbox import Sandbox

from ._hostile import PAYMENT, signed_envelope

SECRET = "hostile-secret"
pytestmark = pytest.mark.anyio


def answering(body: bytes) -> tuple[AsyncQvickly, list[httpx.Request]]:
    """A client whose every request gets ``body``; and the list of requests sent."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=body)

    client = AsyncQvickly(
        merchant_id="1",
        secret=SECRET,
        base_url="http://127.0.0.1:9/",
        transport=httpx.MockTransport(handler),
        max_retries=0,
    )
    return client, sent


# -- item 4: envelope parsing cost ------------------------------------------------------------


def lines_executed(action: Callable[[], object], *module_files: str) -> int:
    """How many Python lines of the ``module_files`` ``action`` executes (deterministic cost)."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def global_trace(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename in module_files else None

    # Put back whatever traced before (coverage's tracer): None would end coverage for every
    # test after this one.
    previous = sys.gettrace()
    sys.settrace(global_trace)
    try:
        action()
    except QvicklySignatureError:
        pass
    finally:
        sys.settrace(previous)
    return count


@pytest.mark.parametrize("forged", [False, True], ids=["signed", "forged"])
@pytest.mark.parametrize("pad_char", [" ", "\n", "\t", "\r\n"], ids=repr)
def test_envelope_parsing_cost_does_not_grow_with_whitespace(forged: bool, pad_char: str) -> None:
    """Locating ``data`` runs the same Python lines for 10 bytes of padding as for 200 KB."""
    import qvickly_async._response as response_module

    def body(pad: bytes) -> bytes:
        text = signed_envelope(SECRET, b'{"a":"b"}', pad=pad)
        if forged:
            at = text.index(b'"hash":"') + len(b'"hash":"')
            text = text[:at] + b"0" * 128 + text[at + 128 :]
        return text

    def check(pad: bytes) -> int:
        payload = body(pad)

        def run() -> object:
            return verified_data(payload, secret=SECRET.encode(), function="getX")

        if forged:
            with pytest.raises(QvicklySignatureError):
                run()
        else:
            assert run() == {"a": "b"}
        return lines_executed(run, response_module.__file__)

    small = check(pad_char.encode() * 10)
    large = check(pad_char.encode() * (200_000 // len(pad_char)))
    assert large == small, f"{small} lines for 10 bytes of padding, {large} for 200 KB"


def float_rows(count: int) -> bytes:
    """``count`` rows of floats in every spelling, strings holding number-like text."""
    rows = [
        {
            "n": index,
            "price": index + 0.5,
            "tiny": (index % 97 + 1) * 1e-7,
            "huge": (index + 1) * 1.5e25,
            "note": f'row {index}: 1e-07, "2.0" \\ 5e-324/',
            "list": [0.25, 3e-9, {"deep": -1.25e-300}],
        }
        for index in range(count)
    ]
    return json.dumps({"rows": rows}, indent=1).encode()


@pytest.mark.parametrize("forged", [False, True], ids=["reformatted", "forged"])
def test_reencoding_fallback_cost_does_not_grow_with_float_rows(forged: bool) -> None:
    """The fallback re-encodes floats without a Python step per value: the encoding modules run
    as many Python lines for 200 float rows as for 2,000, forged body or reformatted signed one.

    (Decoding, shared with the raw-bytes path, checks each float for overflow in Python.)
    """
    import qvickly_async._reencoding as reencoding_module
    import qvickly_async._signing as signing_module
    from qvickly_async._reencoding import php_json_reencode

    modules = (reencoding_module.__file__, signing_module.__file__)

    def check(count: int) -> int:
        pretty = float_rows(count)
        canonical = php_json_reencode(json.loads(pretty))
        assert canonical is not None
        body = signed_envelope(SECRET, canonical.encode()).replace(canonical.encode(), pretty)
        if forged:
            at = body.index(b'"hash":"') + len(b'"hash":"')
            body = body[:at] + b"0" * 128 + body[at + 128 :]

        def run() -> object:
            return verified_data(body, secret=SECRET.encode(), function="getX")

        if forged:
            with pytest.raises(QvicklySignatureError):
                run()
        else:
            assert run() == json.loads(pretty)
        return lines_executed(run, *modules)

    small, large = check(200), check(2_000)
    assert large == small, f"{small} lines for 200 float rows, {large} for 2,000"


# -- item 9: numbers and JSON types -----------------------------------------------------------


@pytest.mark.parametrize("number", [b"1e400", b"-1e400", b"1" + b"0" * 400 + b".0"])
async def test_a_signed_float_overflow_is_a_decode_error_not_infinity(number: bytes) -> None:
    client, _ = answering(signed_envelope(SECRET, b'{"amount":' + number + b"}"))
    async with client:
        with pytest.raises(QvicklyDecodeError):
            await client.call("getX", {"a": "b"})


@pytest.mark.parametrize(
    ("body_data", "signed_text"),
    [
        (b'{"0": "a", "1": "b"}', b'["a","b"]'),  # a signed array must not verify an object
        (b'{ "n": 0.0 }', b'{"n":0}'),  # a signed 0 must not verify 0.0
        (b'{ "n": 3.0 }', b'{"n":3}'),
        (b'{ "e": {} }', b'{"e":[]}'),  # a signed empty array must not verify {}
    ],
    ids=["object-vs-array", "0.0-vs-0", "3.0-vs-3", "empty-object-vs-array"],
)
async def test_the_reencoding_fallback_never_changes_json_types(
    body_data: bytes, signed_text: bytes
) -> None:
    envelope = signed_envelope(SECRET, signed_text).replace(signed_text, body_data)
    client, _ = answering(envelope)
    async with client:
        with pytest.raises(QvicklySignatureError):
            await client.call("getX", {"a": "b"})


@pytest.mark.parametrize(
    ("body_data", "expected"),
    [
        (
            b'{ "n" : 0 , "l" : [ 1 , 2 ] , "e" : { } , "s" : "a/b" }',
            {"n": 0, "l": [1, 2], "e": {}, "s": "a/b"},
        ),
        (
            b'{ "f" : 1.5 , "g" : [ 2.5e-7 ] , "z" : "\\u00e9" }',
            {"f": 1.5, "g": [2.5e-7], "z": "\u00e9"},
        ),
    ],
    ids=["no-floats", "floats"],
)
async def test_a_reformatted_but_faithful_body_still_verifies_with_its_types(
    body_data: bytes, expected: dict[str, Any]
) -> None:
    """Control: the fallback still accepts a pretty-printed body of exactly the signed values."""
    from qvickly_async._reencoding import php_json_reencode

    canonical = php_json_reencode(json.loads(body_data))
    assert canonical is not None
    envelope = signed_envelope(SECRET, canonical.encode()).replace(canonical.encode(), body_data)
    client, _ = answering(envelope)
    async with client:
        data = await client.call("getX", {"a": "b"})
    assert data == expected
    assert [type(value) for value in data.values()] == [type(value) for value in expected.values()]


# -- item 6: data and arguments ---------------------------------------------------------------


def self_containing() -> dict[str, Any]:
    data: dict[str, Any] = {"PaymentData": {}}
    data["PaymentData"]["again"] = data
    return data


def nested_lists(depth: int) -> dict[str, Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return {"Articles": value}


@pytest.mark.parametrize(
    "make", [self_containing, lambda: nested_lists(5_000)], ids=["contains-itself", "5000-deep"]
)
async def test_unencodable_data_is_an_input_error_and_nothing_is_sent(
    make: Callable[[], dict[str, Any]],
) -> None:
    client, sent = answering(b"{}")
    async with client:
        with pytest.raises(QvicklyInputError):
            await client.call("addPayment", make())
    assert sent == []


@pytest.mark.parametrize(
    "numbers",
    ["10001", b"10001", ["10001", None], ["10001", ["10002"]], ["10001", 10002], None, 5],
    ids=["str", "bytes", "None-inside", "list-inside", "int-inside", "None", "int"],
)
async def test_a_bad_customer_number_list_is_an_input_error_and_nothing_is_sent(
    numbers: Any,
) -> None:
    client, sent = answering(b"{}")
    async with client:
        with pytest.raises(QvicklyInputError):
            await client.get_invoices_by_customers(numbers)
    assert sent == []


@pytest.mark.parametrize("numbers", ["10001", b"10001", None], ids=["str", "bytes", "None"])
async def test_streaming_refuses_a_string_in_place_of_an_iterable_of_numbers(numbers: Any) -> None:
    client, sent = answering(b"{}")
    async with client:
        with pytest.raises(QvicklyInputError):
            client.iter_invoices_by_customers(numbers)
    assert sent == []


# -- item 8 (logging): personal numbers inside free text --------------------------------------


async def test_debug_body_logs_mask_personal_data_inside_free_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = Sandbox()
    sandbox.register_function(
        "addPayment",
        lambda call: {"number": "1", "status": "Created", "message": "pno 19550101-1018 ok"},
    )
    payment = json.loads(json.dumps(PAYMENT))
    payment["PaymentInfo"]["yourreference"] = "Ada, pno 195501011018, ada@example.se"
    payment["Articles"][0]["title"] = "Gift for 19550101-1018, call +46 70 123 45 67"
    caplog.set_level(logging.DEBUG, logger="qvickly_async")
    async with AsyncQvickly.for_sandbox(sandbox) as client:
        await client.call("addPayment", payment)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "sending" in logged  # the bodies were logged
    for personal in ("195501011018", "19550101-1018", "ada@example.se", "70 123 45 67"):
        assert personal not in logged, personal
