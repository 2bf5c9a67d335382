"""Verify and decode what Qvickly sends to a web service: callbacks and redirects. No I/O.

Three transports carry the same signed envelope (as Qvickly's callback documentation shows):

* the ``callbackurl`` POST: the raw JSON envelope ``{"credentials": {"hash": ...},
  "data": {...}}``;
* the ``accepturl``/``cancelurl`` redirect as a form POST: fields ``credentials`` and
  ``data``, each holding a JSON *string*;
* the same redirect as a GET query.

Verification is the SDK's response verifier (:func:`qvickly_async._response.verified_data`):
HMAC-SHA512 over the raw ``data`` bytes first, PHP's re-encoding as fallback, compared in
constant time. A redirect's two form fields are put back into one envelope whose ``data``
bytes are exactly the field's text, so the raw bytes are what gets hashed there too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl

from .._options import Secret
from .._response import verified_data
from ..exceptions import (
    QvicklyAPIError,
    QvicklyDecodeError,
    QvicklyInputError,
    QvicklySignatureError,
)
from ._model import Callback, CallbackSource, dedupe_key_for, status_from

__all__ = ["DEFAULT_MAX_CALLBACK_BYTES", "parse_callback", "parse_redirect"]

#: Largest callback body accepted (a callback carries a few hundred bytes).
DEFAULT_MAX_CALLBACK_BYTES: Final = 256 * 1024
_FUNCTION: Final = "callback"
_FORM_TYPES: Final = ("application/x-www-form-urlencoded",)
_JSON_TYPES: Final = ("application/json", "text/json", "text/plain")


def _secret(secret: object) -> Secret:
    if isinstance(secret, Secret):
        return secret
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes) or not secret:
        raise QvicklyInputError("secret must be a non-empty str (your Qvickly secret key)")
    return Secret(secret)


def _decode_error(message: str, *, path: str | None = None) -> QvicklyDecodeError:
    return QvicklyDecodeError(f"{_FUNCTION}: {message}", function=_FUNCTION, path=path)


def _verify(envelope: bytes, secret: Secret, what: str) -> Any:
    """Run the SDK's verifier over a JSON envelope; rephrase its errors for callbacks."""
    try:
        return verified_data(envelope, secret=secret, function=_FUNCTION)
    except QvicklySignatureError:
        raise QvicklySignatureError(
            f"{_FUNCTION}: the {what}'s hash is missing or does not match its data; "
            "it was rejected",
            function=_FUNCTION,
        ) from None
    except QvicklyAPIError as error:
        raise _decode_error(
            f"the {what} holds an API error object (code {error.code}), not a payment"
        ) from None
    except QvicklyDecodeError as error:
        raise _decode_error(
            f"the {what} is not a signed JSON envelope ({error.message.partition(': ')[2]})"
        ) from None


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def _build(data: Any, source: CallbackSource) -> Callback:
    if not isinstance(data, dict):
        raise _decode_error(f"data is a {type(data).__name__}, not an object", path="data")
    # Checkout callbacks may nest the payment in PaymentData; plain ones carry it at the top.
    nested = data.get("PaymentData")
    fallback: dict[str, Any] = nested if isinstance(nested, dict) else {}
    number = _text(data.get("number")) or _text(fallback.get("number"))
    if number is None:
        raise _decode_error("data has no payment number", path="data.number")
    status_text = _text(data.get("status")) or _text(fallback.get("status"))
    if status_text is None:
        raise _decode_error("data has no status", path="data.status")
    status = status_from(status_text)
    return Callback(
        number=number,
        status=status,
        order_id=_text(data.get("orderid")) or _text(fallback.get("orderid")),
        url=_text(data.get("url")) or _text(fallback.get("url")),
        data=data,
        dedupe_key=dedupe_key_for(number, status),
        source=source,
    )


def _check_size(size: int, max_bytes: int) -> None:
    if size == 0:
        raise _decode_error("the body is empty")
    if size > max_bytes:
        raise _decode_error(f"the body is {size} bytes, more than the {max_bytes} accepted")


def _media_type(content_type: str | None) -> str | None:
    if content_type is None:
        return None
    return content_type.partition(";")[0].strip().lower() or None


def parse_callback(
    body: bytes,
    *,
    secret: str | bytes | Secret,
    content_type: str | None = None,
    max_bytes: int = DEFAULT_MAX_CALLBACK_BYTES,
) -> Callback:
    """Verify and decode the body of a POST from Qvickly.

    Accepts the ``callbackurl`` POST (the raw JSON envelope) and a redirect sent as a form
    POST (``application/x-www-form-urlencoded`` fields ``credentials`` and ``data``, each a
    JSON string). ``content_type`` is the request's ``Content-Type`` header; without it the
    body's first character decides (``{`` means JSON).

    Raises:
        QvicklySignatureError: the hash is missing, or matches neither the raw ``data``
            bytes nor PHP's re-encoding of them (a wrong secret, a forged or altered body).
        QvicklyDecodeError: an empty, oversized or malformed body, or ``data`` without a
            payment number or status.
        QvicklyInputError: an empty ``secret``.
    """
    # Rebound, not copied: a traceback rendered with locals then shows only the masked
    # Secret in this frame (forged callbacks make signature errors common).
    secret = key = _secret(secret)
    if not isinstance(body, bytes | bytearray | memoryview):
        raise QvicklyInputError(f"body must be bytes, not {type(body).__name__}")
    body = bytes(body)
    _check_size(len(body), max_bytes)
    media = _media_type(content_type)
    if media in _FORM_TYPES or (media is None and not body.lstrip().startswith(b"{")):
        return _parse_form(body, key, media)
    if media is not None and media not in _JSON_TYPES and not media.endswith("+json"):
        raise _decode_error(f"unsupported content type {media[:60]!r}")
    return _build(_verify(body, key, "callback"), "callback")


def _parse_form(body: bytes, secret: Secret, media: str | None) -> Callback:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        what = "form body" if media else "body (neither JSON nor a form)"
        raise _decode_error(f"the {what} cannot be decoded") from None
    return _redirect(dict(pairs), secret)


def parse_redirect(
    params: Mapping[str, str],
    *,
    secret: str | bytes | Secret,
    max_bytes: int = DEFAULT_MAX_CALLBACK_BYTES,
) -> Callback:
    """Verify and decode the redirect to ``accepturl``/``cancelurl``.

    ``params`` are the query parameters of the GET (``request.query_params`` in Starlette,
    ``request.query`` in aiohttp) or an already parsed form: ``credentials`` and ``data``,
    each a JSON string. A redirect comes through the customer's browser: confirm the payment
    with :meth:`~qvickly_async.AsyncQvickly.confirm_callback` before trusting it.

    Raises:
        QvicklySignatureError: the hash is missing or wrong.
        QvicklyDecodeError: a field is missing, oversized or not JSON.
        QvicklyInputError: an empty ``secret``.
    """
    secret = key = _secret(secret)  # rebound: see parse_callback
    if not isinstance(params, Mapping):
        raise QvicklyInputError(f"params must be a mapping, not {type(params).__name__}")
    size = sum(len(str(name)) + len(str(value)) for name, value in params.items())
    _check_size(size, max_bytes)
    return _redirect(params, key)


def _redirect(fields: Mapping[str, Any], secret: Secret) -> Callback:
    data_text = fields.get("data")
    credentials_text = fields.get("credentials")
    if not isinstance(data_text, str) or not data_text.strip():
        raise _decode_error("the redirect has no 'data' field", path="data")
    if not isinstance(credentials_text, str) or not credentials_text.strip():
        raise QvicklySignatureError(
            f"{_FUNCTION}: the redirect has no 'credentials' field, so it is not signed; "
            "it was rejected",
            function=_FUNCTION,
        )
    try:
        credentials = json.loads(credentials_text)
        json.loads(data_text)
    except (ValueError, RecursionError):
        raise _decode_error("a redirect field is not JSON") from None
    received = credentials.get("hash") if isinstance(credentials, dict) else None
    # The envelope holds the data field's own text, so its raw bytes are what gets hashed.
    envelope = (
        '{"credentials":{"hash":' + json.dumps(received) + '},"data":' + data_text.strip() + "}"
    )
    try:
        encoded = envelope.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a percent-decoded field
        raise _decode_error("a redirect field is not valid text") from None
    return _build(_verify(encoded, secret, "redirect"), "redirect")
