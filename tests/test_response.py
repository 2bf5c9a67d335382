from __future__ import annotations

import json

import pytest

from qvickly_async._response import parse_envelope, verified_data
from qvickly_async._signing import php_json_encode, sign
from qvickly_async.exceptions import (
    QvicklyAPIError,
    QvicklyAuthenticationError,
    QvicklyDecodeError,
    QvicklyNotFoundError,
    QvicklySignatureError,
    QvicklyTransientError,
    QvicklyValidationError,
)

from ._support import signed_body

SECRET = b"s3cret"


def test_signed_object_and_array_verify() -> None:
    rows = [{"number": "1", "url": "https://x.se/a"}]
    assert verified_data(signed_body(rows, secret=SECRET), secret=SECRET, function="getX") == rows
    assert verified_data(
        signed_body({"a": "b"}, logid="12", secret=SECRET), secret=SECRET, function="getX"
    ) == {"a": "b"}


def test_raw_bytes_are_verified_first() -> None:
    # PHP objects encode {} and {"0":..} differently from what re-encoding gives: only the raw
    # substring can verify these.
    raw = '{"empty":{},"listlike":{"0":"a"},"neg":-0}'
    body = f'{{"credentials":{{"hash":"{sign(SECRET, raw.encode())}"}},"data":{raw}}}'.encode()
    assert verified_data(body, secret=SECRET, function="getX") == {
        "empty": {},
        "listlike": {"0": "a"},
        "neg": 0,
    }


def test_reencoding_fallback_for_pretty_or_unescaped_bodies() -> None:
    data = {"url": "https://x.se/å", "n": 1}
    digest = sign(SECRET, php_json_encode(data).encode())
    body = json.dumps(
        {"credentials": {"hash": digest}, "data": data}, indent=2, ensure_ascii=False
    ).encode()
    assert verified_data(body, secret=SECRET, function="getX") == data


def test_data_need_not_be_last_and_hash_case_is_ignored() -> None:
    raw = php_json_encode([1, 2])
    body = f'{{"data":{raw},"credentials":{{"hash":"{sign(SECRET, raw.encode()).upper()}"}}}}'
    assert verified_data(body.encode(), secret=SECRET, function="getX") == [1, 2]


@pytest.mark.parametrize("index", range(0, 40, 3))
def test_any_changed_byte_of_data_is_rejected(index: int) -> None:
    body = signed_body({"number": "12345", "status": "Paid", "topay": "100.00"}, secret=SECRET)
    start = body.index(b'"data":') + 7
    position = start + index
    if position >= len(body) - 1:
        pytest.skip("beyond data")
    original = body[position]
    for replacement in (original ^ 0x01, original ^ 0x20):
        tampered = body[:position] + bytes([replacement]) + body[position + 1 :]
        with pytest.raises((QvicklySignatureError, QvicklyDecodeError)):
            verified_data(tampered, secret=SECRET, function="getX")


def test_missing_or_wrong_hash_is_rejected() -> None:
    with pytest.raises(QvicklySignatureError, match="not signed"):
        verified_data(b'{"credentials":{},"data":{"a":1}}', secret=SECRET, function="getX")
    with pytest.raises(QvicklySignatureError, match="not signed"):
        verified_data(b'{"data":{"a":1}}', secret=SECRET, function="getX")
    with pytest.raises(QvicklySignatureError, match="9511") as info:
        verified_data(signed_body({"a": 1}, secret=b"other"), secret=SECRET, function="getX")
    assert info.value.transient
    assert "s3cret" not in str(info.value)


def test_bare_top_level_error_shape() -> None:
    body = b'{"code":"5201","message":"Invoice number 12345 does not exist.","logid":"1234567"}'
    with pytest.raises(QvicklyNotFoundError) as info:
        verified_data(body, secret=SECRET, function="getPaymentinfo")
    error = info.value
    assert (error.code, error.message, error.logid, error.function) == (
        5201,
        "Invoice number 12345 does not exist.",
        "1234567",
        "getPaymentinfo",
    )
    assert "5201" in str(error) and "1234567" in str(error)


def test_signed_error_inside_data() -> None:
    body = signed_body(
        {"code": "2401", "message": "Firstname does not match", "logid": "123456789"}, secret=SECRET
    )
    with pytest.raises(QvicklyValidationError) as info:
        verified_data(body, secret=SECRET, function="addPayment")
    assert info.value.code == 2401


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (9013, QvicklyAuthenticationError),
        (9008, QvicklyTransientError),
        (123456789, QvicklyAPIError),
    ],
)
def test_error_classes(code: int, cls: type[QvicklyAPIError]) -> None:
    body = json.dumps({"code": code, "message": "m", "logid": 5}).encode()
    with pytest.raises(cls) as info:
        verified_data(body, secret=SECRET, function="getX")
    assert type(info.value) is cls
    assert info.value.code == code
    assert info.value.logid == "5"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b'{"credentials":{"hash":"x"},"data":[1,2',
        b"",
        b"\xff\xfe",
        b"[1]",
    ],
)
def test_non_json_bodies(body: bytes) -> None:
    with pytest.raises(QvicklyDecodeError) as info:
        verified_data(body, secret=SECRET, function="getX")
    assert info.value.transient


def test_deep_nesting_is_refused_cleanly() -> None:
    body = b'{"credentials":{"hash":"x"},"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(QvicklyDecodeError):
        verified_data(body, secret=SECRET, function="getX")


def test_envelope_parser_tracks_the_last_data_member() -> None:
    text = '{ "data" : [1] , "x":{"data":2}, "data":{"k":"v"} }'
    envelope = parse_envelope(text)
    assert envelope.fields["data"] == {"k": "v"}
    assert envelope.data_span is not None
    start, end = envelope.data_span
    assert text[start:end] == '{"k":"v"}'
    for bad in ["", "{", '{"a":1', '{"a" 1}', '{"a":1}x', "[]", '{"a":1,}']:
        with pytest.raises(ValueError):
            parse_envelope(bad)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_constants_are_refused(constant: str) -> None:
    raw = f'[{{"topay":{constant}}}]'
    body = f'{{"credentials":{{"hash":"{sign(SECRET, raw.encode())}"}},"data":{raw}}}'
    with pytest.raises(QvicklyDecodeError):
        verified_data(body.encode(), secret=SECRET, function="getX")
