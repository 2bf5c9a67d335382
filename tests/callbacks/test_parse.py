"""parse_callback and parse_redirect: what real PHP signs verifies, anything else is refused."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

import pytest

from qvickly_async import QvicklyDecodeError, QvicklyError, QvicklyInputError
from qvickly_async.callbacks import (
    Callback,
    CallbackStatus,
    dedupe_key_for,
    parse_callback,
    parse_redirect,
)
from qvickly_async.exceptions import QvicklySignatureError
from qvickly_async.sandbox import (
    callback_body,
    callback_data,
    redirect_form,
    redirect_params,
    redirect_query,
)

SECRET = "php-sëcret-123"

# A callback as Qvickly's PHP builds it: json_encode + hash_hmac, data with slashes, non-ASCII,
# DEL, a float and a key this SDK does not know.
PHP_SCRIPT = r"""
$secret = $argv[1];
$data = [
    "number" => "1000235",
    "status" => "Paid",
    "orderid" => "P123456789",
    "url" => "https://api.qvickly.io/invoice/1000235/abc",
    "note" => "Tack för köpet\x7f/é",
    "amount" => 100.5,
    "newKey" => ["nested" => [1, 2, "x"]],
];
$json = json_encode($data);
$hash = hash_hmac('sha512', $json, $secret);
$credentials = json_encode(["hash" => $hash]);
echo json_encode(["credentials" => ["hash" => $hash], "data" => $data]), "\n";
echo http_build_query(["credentials" => $credentials, "data" => $json]), "\n";
echo $json, "\n";
"""


@pytest.fixture(scope="module")
def php_signed(php: str) -> tuple[bytes, bytes, str]:
    """(JSON callback body, form-encoded redirect body, data text) made by real PHP."""
    command = [php, "-r", PHP_SCRIPT, SECRET]
    done = subprocess.run(command, capture_output=True, check=True, timeout=30)  # noqa: S603
    body, form, data = done.stdout.splitlines()
    return body, form, data.decode("ascii")


@pytest.mark.php
def test_a_php_callback_verifies_with_every_field(php_signed: tuple[bytes, bytes, str]) -> None:
    body, _, data = php_signed
    callback = parse_callback(body, secret=SECRET, content_type="application/json")
    assert callback.number == "1000235"
    assert callback.status is CallbackStatus.PAID
    assert callback.order_id == "P123456789"
    assert callback.url == "https://api.qvickly.io/invoice/1000235/abc"
    assert callback.source == "callback"
    assert callback.data == json.loads(data)
    assert callback.data["newKey"] == {"nested": [1, 2, "x"]}  # unknown keys kept
    assert callback.dedupe_key == "1000235:paid"
    # Without a content type the body is recognised as JSON.
    assert parse_callback(body, secret=SECRET) == callback


@pytest.mark.php
def test_a_php_redirect_verifies_as_form_post_and_as_get(
    php_signed: tuple[bytes, bytes, str],
) -> None:
    body, form, data = php_signed
    posted = parse_callback(form, secret=SECRET, content_type="application/x-www-form-urlencoded")
    sniffed = parse_callback(form, secret=SECRET)
    query = parse_redirect(dict(parse_qsl(form.decode("ascii"))), secret=SECRET)
    assert posted == sniffed == query
    assert posted.source == "redirect"
    assert posted.data == json.loads(data)
    # The same event as the callback: one dedupe key for both.
    assert posted.dedupe_key == parse_callback(body, secret=SECRET).dedupe_key


@pytest.mark.php
def test_any_one_byte_change_of_php_data_is_refused(php_signed: tuple[bytes, bytes, str]) -> None:
    body, form, data = php_signed
    credentials = dict(parse_qsl(form.decode("ascii")))["credentials"]
    refused = 0
    for index in range(len(data)):
        for replacement in {"0", "a", " "} - {data[index]}:
            changed = data[:index] + replacement + data[index + 1 :]
            with pytest.raises(QvicklyError) as redirect_error:
                parse_redirect({"credentials": credentials, "data": changed}, secret=SECRET)
            envelope = body.replace(data.encode(), changed.encode())
            assert envelope != body
            with pytest.raises(QvicklyError) as callback_error:
                parse_callback(envelope, secret=SECRET)
            # A change that keeps the JSON valid is a signature error; one that breaks the
            # JSON is a decode error; neither passes.
            for error in (redirect_error.value, callback_error.value):
                assert isinstance(error, QvicklySignatureError | QvicklyDecodeError)
            if _is_json(changed):
                assert isinstance(redirect_error.value, QvicklySignatureError)
                assert isinstance(callback_error.value, QvicklySignatureError)
                refused += 1
    assert refused > len(data)  # most changes keep valid JSON and hit the signature check


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.mark.php
def test_a_wrong_secret_or_a_missing_hash_is_a_signature_error(
    php_signed: tuple[bytes, bytes, str],
) -> None:
    body, form, data = php_signed
    fields = dict(parse_qsl(form.decode("ascii")))
    with pytest.raises(QvicklySignatureError):
        parse_callback(body, secret=SECRET + "x")
    with pytest.raises(QvicklySignatureError):
        parse_callback(form, secret="another-secret")
    with pytest.raises(QvicklySignatureError):
        parse_redirect(fields, secret=SECRET.upper())
    unsigned = body.replace(
        json.dumps(json.loads(body)["credentials"]).replace(" ", "").encode(), b"{}"
    )
    assert unsigned.startswith(b'{"credentials":{},"data"')
    with pytest.raises(QvicklySignatureError):
        parse_callback(unsigned, secret=SECRET)
    with pytest.raises(QvicklySignatureError):
        parse_callback(b'{"data":' + data.encode() + b"}", secret=SECRET)
    with pytest.raises(QvicklySignatureError):
        parse_redirect({"data": data}, secret=SECRET)
    with pytest.raises(QvicklySignatureError):
        parse_redirect({"credentials": '{"hash":""}', "data": data}, secret=SECRET)
    with pytest.raises(QvicklySignatureError):
        parse_redirect({"credentials": '{"hash":12}', "data": data}, secret=SECRET)


def test_the_hash_is_compared_case_insensitively_and_reencoding_is_the_fallback() -> None:
    data = {"number": "7", "status": "paid"}
    body = callback_body(data, secret=SECRET)
    digest = json.loads(body)["credentials"]["hash"]
    upper = body.replace(digest.encode(), digest.upper().encode())
    assert upper != body
    assert parse_callback(upper, secret=SECRET).number == "7"
    # A pretty-printed envelope (other bytes, same data) verifies through PHP re-encoding.
    pretty = json.dumps(json.loads(body), indent=2).encode()
    assert parse_callback(pretty, secret=SECRET).number == "7"


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        (b"", None, "empty"),
        (b"", "application/json", "empty"),
        (b"not json at all", "application/json", "not a signed JSON envelope"),
        (b"{", None, "not a signed JSON envelope"),
        (b'{"credentials":{"hash":"ab"}}', None, "not a signed JSON envelope"),
        (b"[1, 2]", "application/json", "not a signed JSON envelope"),
        (b"\xff\xfe", "application/x-www-form-urlencoded", "cannot be decoded"),
        (b"a=1&b=2", None, "no 'data' field"),
        (b"data=%7B", "application/x-www-form-urlencoded", "no 'credentials'"),
        (b'{"code":"5201","message":"x"}', None, "API error object"),
        (b"<xml/>", "application/xml", "unsupported content type"),
        (b"[" * 100_000, "application/json", "not a signed JSON envelope"),
    ],
)
def test_malformed_bodies_raise_typed_errors(
    body: bytes, content_type: str | None, fragment: str
) -> None:
    with pytest.raises(QvicklyError) as caught:
        parse_callback(body, secret=SECRET, content_type=content_type)
    assert fragment in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_signed_body_without_a_payment_number_or_status_is_a_decode_error() -> None:
    for data, path in (
        ({"status": "paid"}, "data.number"),
        ({"number": "1"}, "data.status"),
        ({"number": "", "status": "paid"}, "data.number"),
    ):
        with pytest.raises(QvicklyDecodeError) as caught:
            parse_callback(callback_body(data, secret=SECRET), secret=SECRET)
        assert caught.value.path == path
    with pytest.raises(QvicklyDecodeError, match="not an object"):
        parse_callback(callback_body({"0": "a"}, secret=SECRET), secret=SECRET)  # a PHP list
    with pytest.raises(QvicklyDecodeError, match="API error object"):
        parse_callback(callback_body({"code": "1", "message": "x"}, secret=SECRET), secret=SECRET)


def test_an_oversized_body_is_refused_before_it_is_parsed() -> None:
    body = callback_body({"number": "1", "status": "paid", "pad": "x" * 5000}, secret=SECRET)
    assert parse_callback(body, secret=SECRET, max_bytes=len(body)).number == "1"
    with pytest.raises(QvicklyDecodeError, match="more than the 100 accepted"):
        parse_callback(body, secret=SECRET, max_bytes=100)
    with pytest.raises(QvicklyDecodeError, match="more than"):
        parse_redirect({"data": "x" * 300_000, "credentials": "{}"}, secret=SECRET)


def test_the_secret_never_appears_in_errors() -> None:
    body = callback_body({"number": "1", "status": "paid"}, secret="other")
    attempts: list[Callable[[], object]] = [
        lambda: parse_callback(body, secret=SECRET),
        lambda: parse_callback(b"{broken " + SECRET.encode(), secret=SECRET),
        lambda: parse_redirect({"data": "{}", "credentials": "{"}, secret=SECRET),
    ]
    for attempt in attempts:
        with pytest.raises(QvicklyError) as caught:
            attempt()
        assert SECRET not in str(caught.value)
        assert SECRET not in repr(caught.value.args)


def test_bad_arguments_are_input_errors() -> None:
    body = callback_body({"number": "1", "status": "paid"}, secret=SECRET)
    with pytest.raises(QvicklyInputError):
        parse_callback(body, secret="")
    with pytest.raises(QvicklyInputError):
        parse_callback("text", secret=SECRET)  # type: ignore[arg-type]
    with pytest.raises(QvicklyInputError):
        parse_redirect([("data", "x")], secret=SECRET)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("paid", CallbackStatus.PAID),
        ("Paid", CallbackStatus.PAID),
        ("PENDING", CallbackStatus.PENDING),
        ("Created", CallbackStatus.CREATED),
        ("approved", CallbackStatus.APPROVED),
        ("Denied", CallbackStatus.DENIED),
        ("Cancelled", CallbackStatus.CANCELLED),
        ("canceled", CallbackStatus.CANCELLED),
        ("failed", CallbackStatus.FAILED),
        ("Step2Loaded", "Step2Loaded"),  # unknown values survive as sent
    ],
)
def test_status_is_a_tolerant_enum(sent: str, expected: CallbackStatus | str) -> None:
    callback = parse_callback(callback_body(callback_data("5", sent), secret=SECRET), secret=SECRET)
    assert callback.status == expected
    assert type(callback.status) is type(expected)
    assert callback.dedupe_key == dedupe_key_for("5", expected)


def test_builders_round_trip_through_every_transport() -> None:
    data = callback_data(42, "cancelled", order_id="O-1", extra_field="kept")
    assert data == {
        "number": "42",
        "status": "cancelled",
        "orderid": "O-1",
        "url": "https://api.qvickly.io/invoice/42",
        "extra_field": "kept",
    }
    via_json = parse_callback(callback_body(data, secret=SECRET), secret=SECRET)
    via_form = parse_callback(redirect_form(data, secret=SECRET), secret=SECRET)
    via_get = parse_redirect(dict(parse_qsl(redirect_query(data, secret=SECRET))), secret=SECRET)
    via_params = parse_redirect(redirect_params(data, secret=SECRET), secret=SECRET)
    assert via_json.data == via_form.data == via_get.data == via_params.data == data
    assert via_form == via_get == via_params
    assert redirect_form(data, secret=SECRET).decode() == urlencode(
        redirect_params(data, secret=SECRET)
    )


def test_checkout_callbacks_with_payment_data_are_understood() -> None:
    data = {"PaymentData": {"number": "9", "status": "Paid", "orderid": "O9", "url": "u"}}
    callback = parse_callback(callback_body(data, secret=SECRET), secret=SECRET)
    assert (callback.number, callback.status, callback.order_id, callback.url) == (
        "9",
        CallbackStatus.PAID,
        "O9",
        "u",
    )


def test_repr_masks_personal_data_and_the_callback_is_frozen() -> None:
    data = callback_data(
        "77",
        "paid",
        Customer={
            "pno": "198501011234",
            "Billing": {"email": "ada@example.se", "firstname": "Ada"},
        },
    )
    callback = parse_callback(callback_body(data, secret=SECRET), secret=SECRET)
    text = repr(callback)
    for personal in ("198501011234", "ada@example.se", "Ada"):
        assert personal not in text
    assert "77" in text and "paid" in text
    assert callback.data["Customer"]["pno"] == "198501011234"  # the data itself is whole
    with pytest.raises(AttributeError):
        callback.number = "78"  # type: ignore[misc]
    assert isinstance(hash(callback), int)
    assert isinstance(callback, Callback)
