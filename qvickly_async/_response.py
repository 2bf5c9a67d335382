"""Turn a response body into verified ``data``, or the right exception. No I/O.

Verification, as Qvickly's own clients do it: find the raw text of the top-level ``data`` value
in the body and HMAC exactly those bytes; if that does not match, HMAC PHP's re-encoding of the
decoded value (a server that pretty-prints or reorders would still verify); compare in constant
time.
Unverified data is never returned. Errors come in two shapes: bare at the top level (unsigned)
and signed inside ``data``; both become :class:`~qvickly_async.exceptions.QvicklyAPIError`.

Two paths give the same outcome for every body. The fast one serves what Qvickly sends
(compact, ``credentials`` first, ``data`` last): it finds the first ``"data":``, proves with
:mod:`orjson` that it is the key of the top-level object's last member, HMACs the value's bytes
and decodes exactly those bytes. Whatever it cannot prove to decode as the careful path would
(other layouts, a hash that does not match, integers beyond 64 bits, deep nesting, anything
:mod:`orjson` refuses) goes to the careful path: :func:`parse_envelope` (the standard library's
strict decoder, last duplicate wins) and the re-encoding fallback.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any, Final

import orjson

from ._error_codes import exception_class_for
from ._reencoding import reencode_unchecked, within_php_limits
from ._signing import Secret, hashes_equal, sign
from .exceptions import (
    QvicklyAPIError,
    QvicklyDecodeError,
    QvicklySignatureError,
)

__all__ = ["TEXT_FUNCTIONS", "api_error_from", "parse_envelope", "verified_data"]

#: Functions documented to answer with a non-JSON body (an HTML page).
TEXT_FUNCTIONS = frozenset({"getterms"})


def _refuse_constant(name: str) -> Any:
    # PHP's json_encode never writes NaN or Infinity; an amount must never become one.
    raise ValueError(f"non-standard JSON constant {name}")


_INFINITIES = (math.inf, -math.inf)
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]
# JSON whitespace, skipped by one C-level regex match however long the run is (a Python loop
# over 31 MB of padding took seconds of event-loop CPU).
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class _Envelope:
    """The top-level object of a response and where its ``data`` value sits in the text."""

    __slots__ = ("data_span", "fields")

    def __init__(self, fields: dict[str, Any], data_span: tuple[int, int] | None) -> None:
        self.fields = fields
        self.data_span = data_span


def _finite_float(text: str) -> float:
    # "1e400" overflows to inf: PHP never writes that, and an amount must never become it.
    value = float(text)
    if value in _INFINITIES:
        raise ValueError(f"number {text[:40]!r} overflows a float")
    return value


# Stateless, so one decoder serves every body (and every thread).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


_DATA_MEMBER: Final = b'"data":'
_JSON_WHITESPACE: Final = b" \t\n\r"
_LEADING_WHITESPACE = re.compile(rb"[ \t\n\r]*")
_CLOSING_BRACE: Final = ord("}")
_BACKSLASH: Final = ord("\\")
# One C pass marks both things orjson decodes differently from the careful path: digits become
# "0" (a run of 19 may be an integer beyond 64 bits, which orjson makes a float) and "{"
# becomes "[" (every container opens with one, so their count bounds the nesting).
_DIGITS_AND_OPENERS: Final = bytes.maketrans(b"0123456789{", b"0000000000[")
_LONG_DIGIT_RUN: Final = b"0" * 19
_DIGITS = re.compile(b"0+")
_BEFORE_A_NUMBER: Final = b"-:,[ \t\n\r"
_AFTER_AN_INT: Final = b",]} \t\n\r"
_LONG_RUNS_LOOKED_AT: Final = 16
#: Nesting the fast path takes (and at most a quarter of the recursion limit), so the careful
#: path's recursive decoder would not run out of stack on it either: deeper goes there.
_FAST_NESTING: Final = 256
#: Whitespace the fast path steps over at the end (a server's newline); more goes the careful way.
_SOME_WHITESPACE: Final = 4


def _orjson_depth_limit() -> int | None:
    """Return orjson's nesting limit, 1024 (it refuses 1025), or ``None`` if it is not that."""
    try:
        orjson.loads(b"[" * 1024 + b"]" * 1024)
    except orjson.JSONDecodeError:
        return None
    try:
        orjson.loads(b"[" * 1025 + b"]" * 1025)
    except orjson.JSONDecodeError:
        return 1024
    return None


_ORJSON_DEPTH: Final = _orjson_depth_limit()


class _Unsure:
    """What the fast path returns when only the careful path can answer."""


_UNSURE: Final = _Unsure()


def _before_whitespace(body: bytes, end: int) -> int:
    """Return where the whitespace right before ``end`` starts; -1 if there is too much."""
    index = end
    while index > 0 and body[index - 1] in _JSON_WHITESPACE:
        index -= 1
        if end - index > _SOME_WHITESPACE:
            return -1
    return index


def _may_hold_a_long_integer(body: bytes, marks: bytes, start: int, stop: int) -> bool:
    """Whether ``body[start:stop]`` may hold an integer of 19 digits or more.

    ``marks`` has every digit of ``body`` as ``"0"``. A run of digits is an integer token
    only between what may precede a number and what may follow an integer; a few runs that
    are not (in a hex string, a float's fraction) are looked at, more are taken as a maybe.
    """
    index = marks.find(_LONG_DIGIT_RUN, start, stop)
    for _ in range(_LONG_RUNS_LOOKED_AT):
        if index < 0:
            return False
        end = _DIGITS.match(marks, index).end()  # type: ignore[union-attr]  # index is a digit
        if body[index - 1] in _BEFORE_A_NUMBER and (end == stop or body[end] in _AFTER_AN_INT):
            return True
        index = marks.find(_LONG_DIGIT_RUN, end, stop)
    return index >= 0


def _fast_verified(body: bytes, secret: bytes | Secret) -> Any:
    """Return the verified ``data`` of a compact envelope whose ``data`` is its last member.

    That is what the careful path would return; ``_UNSURE`` where this cannot be sure.

    The first ``"data":`` is the top-level key when ``body[:at] + '"data":0}'`` is a JSON
    object and the byte before it is no backslash: its ``"`` then opens a string (a ``"``
    closing one cannot be followed by ``d``), a key (a string followed by ``:``) of the object
    that ``}`` closes at the very end, the top-level one; the careful parser reads those bytes
    alike, as UTF-8 too. When the value's bytes are one JSON value followed only by ``}`` and
    whitespace, that member is the body's last (so its last ``data``) and the body is that
    object. orjson decodes the same values as the standard library's strict decoder (floats
    correctly rounded, a duplicate key's last value in its first place), except integers beyond
    64 bits (floats: refused by the digit-run check) and nesting (orjson's limit is 1024, the
    careful path's the stack: refused beyond ``_FAST_NESTING``).
    """
    at = body.find(_DATA_MEMBER)
    if at <= 0 or body[at - 1] == _BACKSLASH:
        return _UNSURE
    stop = _before_whitespace(body, len(body))
    if stop <= 0 or body[stop - 1] != _CLOSING_BRACE:
        return _UNSURE
    stop = _before_whitespace(body, stop - 1)
    start = _LEADING_WHITESPACE.match(body, at + len(_DATA_MEMBER)).end()  # type: ignore[union-attr]
    if stop <= start:
        return _UNSURE
    try:
        head = orjson.loads(body[:at] + b'"data":0}')
    except orjson.JSONDecodeError:
        return _UNSURE
    credentials = head.get("credentials") if isinstance(head, dict) else None
    received = credentials.get("hash") if isinstance(credentials, dict) else None
    raw = body[start:stop]
    if not isinstance(received, str) or not hashes_equal(_signature(secret, raw), received):
        return _UNSURE
    marks = body.translate(_DIGITS_AND_OPENERS)
    if _may_hold_a_long_integer(body, marks, start, stop):
        return _UNSURE
    nesting = min(_FAST_NESTING, sys.getrecursionlimit() // 4)
    wrap = 0
    if marks.count(b"[") > nesting:
        if _ORJSON_DEPTH is None or marks.count(b"[", 0, at) > nesting:
            return _UNSURE
        wrap = _ORJSON_DEPTH - nesting  # the value inside ``wrap`` arrays fits orjson's limit
    try:
        if not wrap:
            return orjson.loads(raw)
        data = orjson.loads(b"[" * wrap + raw + b"]" * wrap)
    except orjson.JSONDecodeError:
        return _UNSURE
    for _ in range(wrap):
        data = data[0]
    return data


def _skip_ws(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]  # "*" always matches


def _expect(text: str, index: int, char: str) -> int:
    index = _skip_ws(text, index)
    if index >= len(text) or text[index] != char:
        raise ValueError(f"expected {char!r} at offset {index}")
    return index + 1


def parse_envelope(text: str) -> _Envelope:
    """Decode a top-level JSON object, remembering the span of its (last) ``data`` value.

    Raises ``ValueError`` for text that is not one JSON object.
    """
    fields: dict[str, Any] = {}
    data_span: tuple[int, int] | None = None
    decoder = _DECODER
    index = _expect(text, 0, "{")
    index = _skip_ws(text, index)
    if index < len(text) and text[index] == "}":
        index += 1
    else:
        while True:
            index = _expect(text, index, '"')
            key, index = _scanstring(text, index, True)
            index = _expect(text, index, ":")
            index = _skip_ws(text, index)
            value, end = decoder.raw_decode(text, index)
            fields[key] = value
            if key == "data":
                data_span = (index, end)
            index = _skip_ws(text, end)
            if index < len(text) and text[index] == ",":
                index += 1
                continue
            index = _expect(text, index, "}")
            break
    if _skip_ws(text, index) != len(text):
        raise ValueError("extra text after the JSON object")
    return _Envelope(fields, data_span)


def _as_int_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text.startswith("-") else text
        # ASCII digits only: str.isdigit() also accepts "²" and other scripts' digits,
        # which int() refuses; and no absurd lengths (int() refuses > 4300 digits).
        if digits.isascii() and digits.isdigit() and len(digits) <= 18:
            return int(text)
    return None


def _as_text(value: Any) -> str:
    """Render a non-string JSON value for an exception message; never raises."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__} nested too deeply to show>"


def _is_error_object(value: Any) -> bool:
    return isinstance(value, dict) and "code" in value and "message" in value


def api_error_from(error: dict[str, Any], *, function: str) -> QvicklyAPIError:
    """Build the typed exception for an error object ``{"code", "message", "logid"}``."""
    raw_code = error.get("code")
    code = _as_int_code(raw_code)
    message = error.get("message")
    text = _as_text(message)
    logid = error.get("logid")
    logid_text = None if logid is None or logid == "" else _as_text(logid)
    if code is None:
        return QvicklyAPIError(
            f"{text} (unparsable error code {_as_text(raw_code)[:40]!r})",
            code=0,
            logid=logid_text,
            function=function,
        )
    return exception_class_for(code)(text, code=code, logid=logid_text, function=function)


def verified_data(body: bytes, *, secret: bytes | Secret, function: str) -> Any:
    """Return the verified ``data`` of a ``200 OK`` body or raise the matching error.

    The client passes ``secret`` as a :class:`Secret`: its bytes are revealed only inside
    the signing expressions, so no frame of a traceback holds them in a local.

    Functions documented to answer with a page (``getTerms``) get a non-JSON body back as
    text.

    Raises:
        QvicklyAPIError: (a subclass per code) for either error shape.
        QvicklySignatureError: the hash is missing or matches neither the raw ``data`` bytes
            nor PHP's re-encoding of them.
        QvicklyDecodeError: the body is not a JSON envelope (``transient`` is set when it
            looks damaged in transit, which makes reads retryable).
    """
    data = _fast_verified(body, secret)
    if data is _UNSURE:
        return _careful_verified_data(body, secret=secret, function=function)
    if _is_error_object(data):
        raise api_error_from(data, function=function)
    return data


def _careful_verified_data(body: bytes, *, secret: bytes | Secret, function: str) -> Any:
    """:func:`verified_data` for any body, parsed by :func:`parse_envelope`."""
    try:
        text = body.decode("utf-8")
        envelope = parse_envelope(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        if function.lower() in TEXT_FUNCTIONS:
            return body.decode("utf-8", "replace")  # documented HTML answer, not signed
        reason = "is too deeply nested" if isinstance(error, RecursionError) else "is not JSON"
        raise QvicklyDecodeError(
            f"{function}: response body {reason} ({len(body)} bytes)",
            function=function,
            transient=True,
        ) from None
    fields = envelope.fields
    if "code" in fields and "data" not in fields:
        raise api_error_from(fields, function=function)
    credentials = fields.get("credentials")
    if envelope.data_span is None:
        raise QvicklyDecodeError(
            f"{function}: response has no 'data' member", function=function, transient=True
        )
    received = credentials.get("hash") if isinstance(credentials, dict) else None
    if not isinstance(received, str) or not received:
        raise QvicklySignatureError(
            f"{function}: response is not signed (no credentials.hash); its data was discarded",
            function=function,
            transient=True,
        )
    start, end = envelope.data_span
    raw = body[start:end] if body.isascii() else text[start:end].encode("utf-8")
    data = fields["data"]
    if not hashes_equal(_signature(secret, raw), received) and not _reencoded_matches(
        data, secret, received
    ):
        raise QvicklySignatureError(
            f"{function}: response hash does not match its data (Qvickly code 9511); "
            "the data was discarded",
            function=function,
            transient=True,
        )
    if _is_error_object(data):
        raise api_error_from(data, function=function)
    return data


def _signature(secret: bytes | Secret, payload: bytes) -> str:
    """HMAC ``payload``; a :class:`Secret` signs with its keyed HMAC and reveals nothing."""
    return secret.sign(payload) if isinstance(secret, Secret) else sign(secret, payload)


def _reencoded_matches(data: Any, secret: bytes | Secret, received: str) -> bool:
    # Only a text that decodes to ``data`` with the very same JSON types may vouch for it:
    # a signed array must not verify a body whose data is an object, nor 0 a 0.0. That check
    # runs once the hash matched, so a forged body costs one C encoding and one HMAC.
    canonical = reencode_unchecked(data)
    if canonical is None:
        return False
    if not hashes_equal(_signature(secret, canonical.encode("ascii")), received):
        return False
    return within_php_limits(canonical)
