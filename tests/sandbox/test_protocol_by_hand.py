"""A client written from the Payment API documentation alone (httpx, json, hmac) talks to the
sandbox."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from qvickly_async._signing import php_json_encode
from qvickly_async.sandbox import Sandbox, ServerHandle

from .._support import post
from ._handmade import SECRET, envelope, hmac_hex, raw_data, verified


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    with Sandbox().serve_in_thread() as handle:
        yield handle


@pytest.mark.parametrize("customer", ["10001", "10007", "10000", "99999999"])
def test_signed_answer_verifies_over_raw_bytes_and_php_re_encoding(
    server: ServerHandle, customer: str
) -> None:
    body = post(server, envelope("getInvoicesByCustomer", {"customerno": customer})).content
    data = verified(body)
    parsed = json.loads(body)
    digest = parsed["credentials"]["hash"]
    assert digest == hmac_hex(SECRET, php_json_encode(parsed["data"]).encode())
    assert isinstance(parsed["credentials"]["logid"], int)
    assert body.isascii()
    assert isinstance(data, list)
    if customer in ("10000", "99999999"):
        assert data == []
        assert raw_data(body) == b"[]"


def test_answer_is_compact_with_data_last(server: ServerHandle) -> None:
    body = post(server, envelope("getInvoicesByCustomer", {"customerno": "10001"})).content
    assert body.startswith(b'{"credentials":{"hash":"')
    assert b'"logid":' in body and b'},"data":[' in body
    assert json.dumps(json.loads(body), separators=(",", ":")).encode() != body  # PHP escapes
    assert php_json_encode(json.loads(body)).encode() == body


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (envelope("getInvoicesByCustomer", {"customerno": "10001"}, secret="wrong"), "9013"),
        (envelope("getInvoicesByCustomerz", {"customerno": "10001"}), "9001"),
        (envelope("getInvoicesByCustomer", {"customerno": ""}), "7020"),
        (envelope("getInvoicesByCustomer", {"customerno": "   "}), "7020"),
        (envelope("getInvoicesByCustomer", {"dummy": "x"}), "7020"),
        (b"this is not json", "9003"),
        (b'{"credentials":{},"data":{}}', "9003"),
        (b"", "9003"),
    ],
)
def test_documented_error_codes(server: ServerHandle, body: bytes, code: str) -> None:
    answer = post(server, body).json()
    assert set(answer) == {"code", "message", "logid"}
    assert answer["code"] == code
    assert isinstance(answer["logid"], str)
    assert answer["message"]


def test_sample_python_client_wire_format_with_slashes_and_latin1(server: ServerHandle) -> None:
    # The data is hashed compactly with \/ and \u00e5 but sent with spaces and raw slashes.
    data = {"customerno": "10001", "note": "https://example.com/a/b åäö"}
    body = post(server, envelope("getInvoicesByCustomer", data)).content
    assert len(verified(body)) == 3


@pytest.mark.anyio
async def test_httpx_by_hand_against_the_async_server() -> None:
    sandbox = Sandbox()
    async with sandbox.serve() as server, httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/", content=envelope("getAccountinfo", {"dummy": "dummy"}))
        assert response.status_code == 200
        info = verified(response.content)
        assert info["company"]
        bad = await client.post("/", content=envelope("getAccountinfo", {"x": 1}, secret="nope"))
        assert bad.json()["code"] == "9013"
    assert sandbox.counters.calls("getAccountinfo") == 2


@pytest.mark.php
def test_real_php_verifies_a_response(php: str, server: ServerHandle) -> None:
    body = post(server, envelope("getInvoicesByCustomer", {"customerno": "10007"})).content
    script = (
        "$b = stream_get_contents(STDIN); $r = json_decode($b, true);"
        '$h = hash_hmac("sha512", json_encode($r["data"]), $argv[1]);'
        'echo hash_equals($h, $r["credentials"]["hash"]) ? "ok" : "mismatch";'
    )
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [php, "-r", script, SECRET], input=body, capture_output=True, check=True, timeout=30
    )
    assert result.stdout == b"ok"
