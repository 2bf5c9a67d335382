"""Build what Qvickly sends to a shop, signed like the real thing, for your own tests.

* :func:`callback_body`: the raw JSON envelope of a ``callbackurl`` POST;
* :func:`redirect_params`: the ``credentials`` and ``data`` fields of an
  ``accepturl``/``cancelurl`` redirect (each a JSON string), for a GET query or a form;
* :func:`redirect_form`: the same fields as an ``application/x-www-form-urlencoded`` body;
* :func:`redirect_query`: the same fields as a query string.

``data`` is encoded exactly as PHP's ``json_encode`` does and signed with HMAC-SHA512, so
:func:`qvickly_async.callbacks.parse_callback` and
:func:`~qvickly_async.callbacks.parse_redirect` accept the result with the same secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from .._signing import php_json_encode, sign

__all__ = [
    "callback_body",
    "callback_data",
    "redirect_form",
    "redirect_params",
    "redirect_query",
]


def _key(secret: object) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes) or not secret:
        raise ValueError("secret must be a non-empty str or bytes")
    return secret


def callback_data(
    number: str | int,
    status: str,
    *,
    order_id: str | None = None,
    url: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a callback's ``data``: ``{"number", "status", "orderid", "url", **extra}``.

    Every value is text, as Qvickly sends them; ``extra`` keys are added as given.
    """
    data: dict[str, Any] = {"number": str(number), "status": status}
    data["orderid"] = order_id if order_id is not None else f"P{number}"
    data["url"] = url if url is not None else f"https://api.qvickly.io/invoice/{number}"
    data.update(extra)
    return data


def _signed(data: Mapping[str, Any], secret: str | bytes) -> tuple[str, str]:
    text = php_json_encode(data)
    return text, sign(_key(secret), text.encode("ascii"))


def callback_body(data: Mapping[str, Any], *, secret: str | bytes) -> bytes:
    """Return the signed JSON envelope Qvickly POSTs to ``callbackurl``."""
    text, digest = _signed(data, secret)
    credentials = php_json_encode({"hash": digest})
    return f'{{"credentials":{credentials},"data":{text}}}'.encode("ascii")


def redirect_params(data: Mapping[str, Any], *, secret: str | bytes) -> dict[str, str]:
    """Return the redirect's fields ``{"credentials": <JSON>, "data": <JSON>}``."""
    text, digest = _signed(data, secret)
    return {"credentials": php_json_encode({"hash": digest}), "data": text}


def redirect_form(data: Mapping[str, Any], *, secret: str | bytes) -> bytes:
    """Return the redirect as an ``application/x-www-form-urlencoded`` POST body."""
    return urlencode(redirect_params(data, secret=secret)).encode("ascii")


def redirect_query(data: Mapping[str, Any], *, secret: str | bytes) -> str:
    """Return the redirect's query string (without ``?``), for a GET to ``accepturl``."""
    return urlencode(redirect_params(data, secret=secret))
