"""Envelope, hash check and answer shapes (in-process through the sync handler)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from qvickly_async._signing import php_json_encode
from qvickly_async.sandbox import Sandbox

from .._support import post
from ._handmade import MERCHANT_ID, SECRET, envelope, hmac_hex, php_json, verified


def signed_over(function: str, data: Any, text: str | bytes, **credentials: Any) -> bytes:
    """A request whose hash is taken over ``text`` (the client's own idea of the JSON)."""
    raw = text.encode() if isinstance(text, str) else text
    return envelope(function, data, digest=hmac_hex(SECRET, raw), **credentials)


def code_of(response: httpx.Response) -> str:
    return str(response.json()["code"])


def test_euro_sign_signed_as_u20ac_is_rejected_because_the_server_hashes_a_question_mark() -> None:
    sandbox = Sandbox()
    data = {"customerno": "10001", "reference": "5 €"}
    assert php_json(data).endswith('"5 \\u20ac"}')
    assert code_of(post(sandbox, envelope("getInvoicesByCustomer", data))) == "9013"
    squashed = {"customerno": "10001", "reference": "5 ?"}
    body = signed_over("getInvoicesByCustomer", data, php_json(squashed))
    assert len(verified(post(sandbox, body).content)) == 3


def test_characters_above_latin1_in_keys_are_squashed_too() -> None:
    sandbox = Sandbox()
    data = {"customerno": "10001", "😀": "ok"}
    assert code_of(post(sandbox, envelope("getInvoicesByCustomer", data))) == "9013"
    body = signed_over("getInvoicesByCustomer", data, '{"customerno":"10001","?":"ok"}')
    verified(post(sandbox, body).content)


NODE_STYLE = {"customerno": "10001", "url": "https://shop.example/a/b", "city": "Göteborg"}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(php_json(NODE_STYLE), id="php-default"),
        pytest.param(json.dumps(NODE_STYLE, separators=(",", ":")), id="unescaped-slashes"),
        pytest.param(
            json.dumps(NODE_STYLE, separators=(",", ":"), ensure_ascii=False)
            .replace("/", "\\/")
            .encode(),
            id="unescaped-unicode",
        ),
        pytest.param(
            json.dumps(NODE_STYLE, separators=(",", ":"), ensure_ascii=False).encode(),
            id="both-node-style",
        ),
    ],
)
def test_lenient_mode_accepts_four_encodings_strict_only_php_default(text: str | bytes) -> None:
    lenient, strict = Sandbox(), Sandbox(strict=True)
    body = signed_over("getInvoicesByCustomer", NODE_STYLE, text)
    verified(post(lenient, body).content)
    answer = post(strict, body)
    if text == php_json(NODE_STYLE):
        verified(answer.content)
    else:
        assert code_of(answer) == "9013"


def test_hash_compare_is_case_insensitive() -> None:
    data = {"customerno": "10001"}
    digest = hmac_hex(SECRET, php_json(data).encode()).upper()
    verified(post(Sandbox(), envelope("getInvoicesByCustomer", data, digest=digest)).content)


def test_php_assoc_decoding_rules_apply_to_the_hash() -> None:
    sandbox = Sandbox()
    data = {"customerno": "10001", "list": {"0": "a", "1": "b"}, "empty": {}, "zero": -0}
    php_text = '{"customerno":"10001","list":["a","b"],"empty":[],"zero":0}'
    assert php_json_encode(data) == php_text
    verified(post(sandbox, signed_over("getInvoicesByCustomer", data, php_text)).content)
    python_text = php_json(data)  # keeps {} and the numeric-keyed object
    assert code_of(post(sandbox, signed_over("getInvoicesByCustomer", data, python_text))) == "9013"


def test_integers_beyond_64_bits_are_floats_for_php() -> None:
    data = {"customerno": "10001", "big": 2**63}
    text = '{"customerno":"10001","big":9.223372036854776e+18}'
    body = signed_over("getInvoicesByCustomer", data, text)
    verified(post(Sandbox(), body).content)


@pytest.mark.parametrize(
    "name", ["getInvoicesByCustomer", "GETINVOICESBYCUSTOMER", "getinvoicesbycustomer"]
)
def test_function_names_are_case_insensitive(name: str) -> None:
    sandbox = Sandbox()
    verified(post(sandbox, envelope(name, {"customerno": "10001"})).content)
    assert sandbox.counters.calls("getInvoicesByCustomer", key="10001") == 1
    assert sandbox.counters.snapshot()["by_function"] == {"getInvoicesByCustomer": 1}


def test_duplicate_keys_last_one_wins() -> None:
    sandbox = Sandbox()
    data = {"customerno": "10001"}
    digest = hmac_hex(SECRET, php_json(data).encode())
    body = (
        '{"data":{"dummy":"dummy"},"credentials":{"id":"12345","hash":"' + digest + '"},'
        '"data":{"customerno":"10007","customerno":"10001"},"function":"getInvoicesByCustomer"}'
    )
    assert len(verified(post(sandbox, body.encode()).content)) == 3


@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        ({"id": "", "hash": "x"}, "9010"),
        ({"hash": "x"}, "9010"),
        ({"id": MERCHANT_ID}, "9010"),
        ({"id": MERCHANT_ID, "hash": ""}, "9010"),
        ("not an object", "9010"),
        ({"id": "99999", "hash": "x"}, "9011"),
        ({"id": True, "hash": "x"}, "9011"),
        ({"id": MERCHANT_ID, "hash": "0" * 128}, "9013"),
        ({"id": MERCHANT_ID, "hash": 12}, "9013"),
    ],
)
def test_credential_errors(credentials: Any, code: str) -> None:
    body = {"credentials": credentials, "data": {"customerno": "1"}, "function": "getFees"}
    assert code_of(post(Sandbox(), json.dumps(body).encode())) == code


def test_numeric_merchant_id_is_accepted() -> None:
    verified(post(Sandbox(), envelope("getAccountinfo", {"d": 1}, merchant_id=12345)).content)  # type: ignore[arg-type]


def test_other_merchants_have_their_own_keys() -> None:
    sandbox = Sandbox()
    sandbox.add_merchant("777", "other-key")
    body = envelope("getAccountinfo", {"d": 1}, merchant_id="777", secret="other-key")
    assert verified(post(sandbox, body).content, secret="other-key")["merchantid"] == "777"
    assert code_of(post(sandbox, envelope("getAccountinfo", {"d": 1}, merchant_id="777"))) == "9013"


@pytest.mark.parametrize(
    "body",
    [b"NaN", b'{"function":"getFees","data":NaN}', b"[1,2]", b'{"function":""}', b"\xff\xfe{"],
)
def test_not_a_request_is_9003(body: bytes) -> None:
    assert code_of(post(Sandbox(), body)) == "9003"


@pytest.mark.parametrize("empty", [{}, [], None, ""])
def test_empty_data_is_lenient_by_default_and_9004_when_strict(empty: Any) -> None:
    text = "null" if empty is None else ('""' if empty == "" else "[]")
    body = signed_over("getAccountinfo", empty, text)
    verified(post(Sandbox(), body).content)
    assert code_of(post(Sandbox(strict=True), body)) == "9004"


def test_empty_object_hashed_as_braces_fails_like_against_php() -> None:
    body = signed_over("getAccountinfo", {}, "{}")
    assert code_of(post(Sandbox(), body)) == "9013"


@pytest.mark.parametrize("flag", [True, "true", "TRUE", " True ", "1", 1])
def test_truthy_test_flags_see_test_data(flag: Any) -> None:
    sandbox = Sandbox()
    sandbox.add_customer("55555", [{"status": "Sent", "invoiceid_real": "1"}], test_mode=True)
    rows = verified(
        post(sandbox, envelope("getInvoicesByCustomer", {"customerno": "55555"}, test=flag)).content
    )
    assert rows == [{"status": "Sent", "invoiceid_real": "1"}]


@pytest.mark.parametrize("flag", [False, "false", "0", "", None, 0, "yes", "absent"])
def test_falsy_test_flags_see_live_data(flag: Any) -> None:
    sandbox = Sandbox()
    sandbox.add_customer("55555", [{"status": "Sent", "invoiceid_real": "1"}], test_mode=True)
    sandbox.add_customer("55555", [{"status": "Paid", "invoiceid_real": "2"}], test_mode=False)
    data = {"customerno": "55555"}
    if flag == "absent":
        body = json.loads(envelope("getInvoicesByCustomer", data))
        del body["credentials"]["test"]
        raw = json.dumps(body).encode()
    else:
        raw = envelope("getInvoicesByCustomer", data, test=flag)
    assert verified(post(sandbox, raw).content) == [{"status": "Paid", "invoiceid_real": "2"}]


def test_signed_error_shape() -> None:
    sandbox = Sandbox(error_shape="signed")
    answer = post(sandbox, envelope("getInvoicesByCustomer", {"customerno": ""})).content
    data = verified(answer)
    assert data["code"] == "7020"
    assert data["message"] == "Customer No/Number can not be empty"
    assert isinstance(data["logid"], str)
    assert json.loads(answer)["credentials"]["logid"] == int(data["logid"])
    # A wrong hash is signed with the (known) merchant's key as well.
    assert (
        verified(post(sandbox, envelope("getFees", {"a": 1}, secret="x")).content)["code"] == "9013"
    )
    # Without a known merchant there is no key to sign with: bare.
    bare = post(sandbox, envelope("getFees", {"a": 1}, merchant_id="1")).json()
    assert bare["code"] == "9011" and "credentials" not in bare


def test_bare_error_shape_is_the_default() -> None:
    answer = post(Sandbox(), envelope("getInvoicesByCustomer", {"customerno": ""}))
    assert answer.content.startswith(b'{"code":"7020","message":"Customer No\\/Number')


@pytest.mark.parametrize(
    ("style", "success_type", "error_type"),
    [("auto", int, str), ("int", int, int), ("str", str, str)],
)
def test_logid_styles(style: Any, success_type: type, error_type: type) -> None:
    sandbox = Sandbox(logid=style, first_logid=500)
    ok = json.loads(post(sandbox, envelope("getAccountinfo", {"d": 1})).content)
    assert type(ok["credentials"]["logid"]) is success_type
    assert str(ok["credentials"]["logid"]) == "500"
    error = post(sandbox, b"{}").json()
    assert type(error["logid"]) is error_type
    assert str(error["logid"]) == "501"


def test_configure_while_running() -> None:
    sandbox = Sandbox()
    sandbox.configure(error_shape="signed", strict=True)
    assert sandbox.settings.strict
    assert (
        verified(post(sandbox, envelope("getInvoicesByCustomer", {"customerno": ""})).content)[
            "code"
        ]
        == "7020"
    )
    with pytest.raises(ValueError, match="error_shape"):
        sandbox.configure(error_shape="pretty")


def test_unknown_and_unemulated_functions() -> None:
    sandbox = Sandbox()
    unknown = post(sandbox, envelope("getEverything", {"a": 1})).json()
    assert unknown["code"] == "9001"
    assert unknown["message"] == "The method that you are calling does not exist"
    documented = post(sandbox, envelope("addpayment", {"a": 1})).json()
    assert documented == {
        **documented,
        "code": "9001",
        "message": "not emulated by the sandbox: addPayment",
    }
    assert sandbox.counters.calls("addPayment", outcome="error:9001") == 1


def test_http_routing_like_a_web_server() -> None:
    sandbox = Sandbox()
    with httpx.Client(
        transport=httpx.MockTransport(sandbox.handler), base_url="http://s.invalid"
    ) as client:
        got = client.get("/")
        assert got.status_code == 405
        assert got.headers["Allow"] == "POST"
        assert "text/html" in got.headers["Content-Type"]
        assert client.post("/api/v2").status_code == 404
        assert client.post("/__sandbox__/nothing").status_code == 404
        assert client.get("/__sandbox__/reset").status_code == 405
        assert client.post("", content=envelope("getAccountinfo", {"a": 1})).status_code == 200
    assert sandbox.counters.total() == 1
