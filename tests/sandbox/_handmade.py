"""A Payment API client written by hand from the API documentation: json + hmac, no SDK code.

Requests follow the official Python sample: the hash is taken over compact JSON with escaped
slashes, the wire body is ``json.dumps`` with default separators (so the server must decode and
re-encode to verify). Responses are verified the Node way, over the raw ``data`` substring.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

MERCHANT_ID = "12345"
SECRET = "sandbox-secret"


def php_json(value: Any) -> str:
    """The official Python recipe for PHP's json_encode (good for strings, ints, lists, dicts)."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/")


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha512).hexdigest()


def envelope(
    function: str,
    data: Any,
    *,
    secret: str = SECRET,
    merchant_id: str = MERCHANT_ID,
    digest: str | None = None,
    **credentials: Any,
) -> bytes:
    """A request body as the Python sample sends it (spaced JSON, data hashed compactly)."""
    creds: dict[str, Any] = {
        "id": merchant_id,
        "hash": digest if digest is not None else hmac_hex(secret, php_json(data).encode()),
        "version": "2.5.0",
        "client": "handmade:1.0",
        "language": "sv",
        "time": time.time(),
        "test": "true",
    }
    creds.update(credentials)
    return json.dumps({"credentials": creds, "data": data, "function": function}).encode()


def raw_data(body: bytes) -> bytes:
    """The text after the first ``"data":`` up to the final ``}`` (the Node/C# recipe)."""
    start = body.index(b'"data":') + len(b'"data":')
    assert body.endswith(b"}")
    return body[start:-1]


def verified(body: bytes, secret: str = SECRET) -> Any:
    """Decode a signed answer after checking its hash over the raw data bytes."""
    parsed = json.loads(body)
    assert list(parsed) == ["credentials", "data"], "data must be the last key"
    assert hmac.compare_digest(parsed["credentials"]["hash"], hmac_hex(secret, raw_data(body)))
    return parsed["data"]
