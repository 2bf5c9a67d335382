"""The request stage on its own: template, encoding and signing, no client, no I/O."""

from __future__ import annotations

import json

import pytest

from qvickly_async import Secret
from qvickly_async._request import RequestTemplate
from qvickly_async._signing import php_json_encode, sign
from qvickly_async.exceptions import QvicklyInputError

KEY = b"k3y"


def template(**overrides: object) -> RequestTemplate:
    settings: dict[str, object] = {
        "merchant_id": "12345",
        "language": "sv",
        "test_mode": True,
        "client": "qvickly-async:1.0",
        "clock": lambda: 1_700_000_000.9,
    }
    settings.update(overrides)
    return RequestTemplate(**settings)  # type: ignore[arg-type]


def test_a_body_is_the_documented_envelope_signed_over_the_data_bytes() -> None:
    request = template().sign("getInvoicesByCustomer", {"customerno": "10001"}, Secret(KEY))
    body = request.body(1_700_000_000.25)
    envelope = json.loads(body)
    assert list(envelope) == ["credentials", "data", "function"]
    assert list(envelope["credentials"]) == [
        "id", "version", "client", "language", "test", "hash", "time",
    ]  # fmt: skip
    assert envelope["credentials"]["test"] == "true"
    assert envelope["credentials"]["time"] == 1_700_000_000.25
    assert envelope["function"] == "getInvoicesByCustomer"
    data = php_json_encode({"customerno": "10001"}).encode()
    assert b'"data":' + data + b"," in body
    assert envelope["credentials"]["hash"] == sign(KEY, data)


def test_each_attempt_gets_its_own_time_and_the_same_signature() -> None:
    request = template(test_mode=False).sign("getAccountinfo", {"x": 1}, Secret(KEY))
    first, second = json.loads(request.body(1.5)), json.loads(request.body(2.5))
    assert (first["credentials"]["time"], second["credentials"]["time"]) == (1.5, 2.5)
    assert first["credentials"]["hash"] == second["credentials"]["hash"]
    assert first["credentials"]["test"] == "false"


def test_empty_data_is_replaced_by_dummy_data_from_the_clock() -> None:
    request = template().sign("getAccountinfo", {}, Secret(KEY))
    assert json.loads(request.body(1.0))["data"] == {"dummyData": "1700000000"}


def test_text_the_server_cannot_sign_is_refused() -> None:
    with pytest.raises(QvicklyInputError, match="ISO-8859-1"):
        template().sign("getInvoicesByCustomer", {"customerno": "\u20ac"}, Secret(KEY))
