"""Request decoding, the server-side hash check and response bytes. Pure functions, no I/O.

The Payment API server does not hash the request bytes: it decodes the body, turns every
character above U+00FF into ``?`` (its ISO-8859-1 conversion), re-encodes ``data`` the way
PHP's ``json_encode`` does and compares HMACs. Besides PHP's default flags it tolerates clients
that leave slashes and/or Latin-1 letters unescaped (Node, C# legacy); ``strict`` accepts the
default encoding only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final

from .._error_codes import ERROR_CODES
from .._signing import MAX_PHP_INT, MIN_PHP_INT, hashes_equal, php_json_encode, sign
from ..exceptions import QvicklyInputError

__all__ = [
    "BadRequestError",
    "decode_request",
    "error_data",
    "error_message",
    "fast_php_json",
    "hash_matches",
    "is_test_flag",
    "logid_json",
    "php_normalize",
    "signed_body",
]

_NON_LATIN1: Final = re.compile("[^\x00-\xff]")
# In PHP's default output every backslash starts an escape; scanning from the left tells an
# escaped Latin-1 letter (\u00e5) from an escaped backslash followed by the text "u00e5".
_LATIN1_ESCAPE: Final = re.compile(r"\\(\\|u00[89a-f][0-9a-f])")
_TRUE_WORDS: Final = frozenset({"true", "1"})


class BadRequestError(ValueError):
    """The body is not a JSON object naming a ``function`` (API code 9003)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_request(body: bytes) -> dict[str, Any]:
    """Decode a request body as PHP would: a JSON object, duplicate keys last-wins.

    Raises:
        BadRequestError: not UTF-8 JSON, not an object, or no string ``function``.
    """
    try:
        envelope = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequestError(f"body is not JSON: {error}") from None
    if not isinstance(envelope, dict):
        raise BadRequestError("body is not a JSON object")
    function = envelope.get("function")
    if not isinstance(function, str) or not function.strip():
        raise BadRequestError("no function name")
    return envelope


def _squash(text: str) -> str:
    if text.isascii():
        return text
    return _NON_LATIN1.sub("?", text)


def php_normalize(value: Any) -> Any:
    """Return ``value`` as the server sees it after its ISO-8859-1 conversion.

    Characters above U+00FF (in keys too) become ``?``; integers beyond PHP's 64-bit range
    become floats, as PHP's ``json_decode`` makes them.
    """
    if isinstance(value, str):
        return _squash(value)
    if isinstance(value, dict):
        return {_squash(key): php_normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [php_normalize(item) for item in value]
    if isinstance(value, int) and not MIN_PHP_INT <= value <= MAX_PHP_INT:
        return float(value)
    return value


def _unescape_latin1(match: re.Match[str]) -> str:
    text = match.group(1)
    return "\\\\" if text == "\\" else chr(int(text[1:], 16))


def _variants(data: Any, *, strict: bool) -> Iterator[bytes]:
    default = php_json_encode(php_normalize(data))
    yield default.encode("ascii")
    if strict:
        return
    slashes = default.replace("\\/", "/") if "\\/" in default else None
    unicode = _LATIN1_ESCAPE.sub(_unescape_latin1, default) if "\\u00" in default else None
    if unicode == default:
        unicode = None
    if slashes is not None:
        yield slashes.encode("ascii")
    if unicode is not None:
        yield unicode.encode("utf-8")
        if slashes is not None:
            yield unicode.replace("\\/", "/").encode("utf-8")


def hash_matches(secret: bytes, data: Any, received: object, *, strict: bool) -> bool:
    """Tell whether ``received`` is the HMAC of ``data`` in an accepted encoding."""
    if not isinstance(received, str):
        return False
    try:
        return any(
            hashes_equal(sign(secret, text), received) for text in _variants(data, strict=strict)
        )
    except QvicklyInputError:  # NaN, INF: PHP cannot encode it, so no hash can match
        return False


_compact = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


def fast_php_json(value: Any) -> str:
    """Encode like PHP's ``json_encode`` using the C JSON encoder, for the sandbox's own data.

    Only valid for values the sandbox builds itself: strings without DEL (U+007F), integers
    within 64 bits, floats whose ``repr`` has no exponent (1e-4 <= |x| < 1e15, or 0), lists and
    objects whose keys are not ``"0".."n-1"`` and that are never empty. Then Python's ASCII
    output with ``/`` escaped is byte-identical to PHP's (tested against ``php_json_encode``).
    """
    return _compact(value).replace("/", "\\/")


def is_test_flag(value: object) -> bool:
    """Truthiness of ``credentials.test`` as the server reads it (clients send all of these).

    ``True``, any case of ``"true"``, ``"1"`` and non-zero numbers are test mode; ``False``,
    ``"false"``, ``"0"``, ``""``, ``null``, absence and any other text are live mode.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_WORDS
    if isinstance(value, int | float):
        return value != 0
    return False


def error_message(code: int) -> str:
    """Return the documented message for ``code``."""
    entry = ERROR_CODES.get(code)
    return entry.message if entry is not None else "Unknown error"


def logid_json(logid: int, *, as_string: bool) -> bytes:
    """Return ``logid`` as JSON text: a number or a string."""
    return f'"{logid}"'.encode("ascii") if as_string else str(logid).encode("ascii")


def error_data(code: int, message: str, logid: int, *, logid_as_string: bool) -> bytes:
    """Encode ``{"code":"NNNN","message":...,"logid":...}`` as PHP would."""
    value: dict[str, Any] = {
        "code": str(code),
        "message": message,
        "logid": str(logid) if logid_as_string else logid,
    }
    return php_json_encode(value).encode("ascii")


def signed_body(digest: str, logid: int, data: bytes, *, logid_as_string: bool) -> bytes:
    """Build the compact envelope ``{"credentials":{"hash":..,"logid":..},"data":..}``."""
    return b"".join(
        (
            b'{"credentials":{"hash":"',
            digest.encode("ascii"),
            b'","logid":',
            logid_json(logid, as_string=logid_as_string),
            b'},"data":',
            data,
            b"}",
        )
    )
