r"""Byte-exact PHP ``json_encode`` and the HMAC-SHA512 signatures built on it. No I/O.

The Payment API signs JSON text: ``hash_hmac('sha512', json_encode($data), $secret)``. The
server decodes the request body and re-encodes ``data`` with PHP's default flags before it
compares hashes, so the SDK must produce exactly PHP's bytes and send the very bytes it hashed
(then every canonicalisation on the server is a fixed point).

PHP ``json_encode`` with default flags (PHP >= 7.1, ``serialize_precision = -1``):

* no whitespace, keys in insertion order;
* strings escape ``"`` ``\`` ``/``, ``\b \f \n \r \t``, other C0 controls as ``\u00XX``,
  every code point >= U+0080 as lowercase ``\uXXXX`` (astral as a surrogate pair); DEL (0x7F)
  and the rest of ASCII stay raw;
* integers in decimal; PHP integers are 64-bit, so larger ones are refused;
* floats with the shortest round-trip digits, fixed notation for decimal exponents -4..16
  without a ``.0`` for integral values, otherwise ``d.ddde+X``; ``-0.0`` is sent as ``0``;
  NaN and infinities are refused;
* a mapping whose keys are exactly ``"0" .. "n-1"`` in order (the empty mapping included)
  is a PHP list and becomes a JSON array.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json.encoder
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from .exceptions import QvicklyInputError

__all__ = [
    "MAX_PHP_INT",
    "MIN_PHP_INT",
    "Secret",
    "encode_request_data",
    "find_non_latin1",
    "hashes_equal",
    "php_float",
    "php_json_encode",
    "php_string_fixes",
    "sign",
]

MAX_PHP_INT = 2**63 - 1
MIN_PHP_INT = -(2**63)

_encode_ascii: Callable[[str], str] = (
    getattr(json.encoder, "c_encode_basestring_ascii", None)
    or json.encoder.py_encode_basestring_ascii
)
_ESCAPED_DEL = "\\u007f"
# Inside Python's ASCII JSON output every backslash starts an escape, and no raw control
# character occurs: escaped backslashes are parked on NUL while escaped DELs become raw DEL,
# so an escaped backslash followed by the text "u007f" is left alone (three C-level passes,
# no Python call per escape however many a forged body holds).
_PARKED_BACKSLASH = "\x00"


_ABOVE_LATIN1_ESCAPE = re.compile(r"\\u(?!00)")


def php_string_fixes(text: str) -> str:
    """Turn the C ``json`` encoder's ASCII output into PHP's: ``/`` escaped, DEL left raw."""
    if "/" in text:
        text = text.replace("/", "\\/")  # "/" occurs only inside strings
    if _ESCAPED_DEL in text:
        text = (
            text.replace("\\\\", _PARKED_BACKSLASH)
            .replace(_ESCAPED_DEL, "\x7f")
            .replace(_PARKED_BACKSLASH, "\\\\")
        )
    return text


def _php_string(value: str) -> str:
    return php_string_fixes(_encode_ascii(value))


def php_float(value: float) -> str:
    """Format ``value`` exactly as PHP's ``json_encode`` does (``serialize_precision=-1``)."""
    if not math.isfinite(value):
        raise QvicklyInputError(f"{value!r} cannot be sent: PHP json_encode refuses NaN and INF")
    if value == 0.0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    exponent = int(exp_text) if exp_text else 0
    digits_all = int_part + frac_part
    # Decimal exponent of the first significant digit.
    leading_zeros = len(digits_all) - len(digits_all.lstrip("0"))
    point_exponent = len(int_part) - 1 + exponent - leading_zeros
    digits = digits_all.strip("0")
    if -4 <= point_exponent < 17:
        if point_exponent >= 0:
            whole = point_exponent + 1
            if len(digits) <= whole:
                text = digits + "0" * (whole - len(digits))
            else:
                text = f"{digits[:whole]}.{digits[whole:]}"
        else:
            text = "0." + "0" * (-point_exponent - 1) + digits
    else:
        exp_sign = "+" if point_exponent >= 0 else "-"
        text = f"{digits[0]}.{digits[1:] or '0'}e{exp_sign}{abs(point_exponent)}"
    return sign + text


def _is_php_list(mapping: Mapping[Any, Any]) -> bool:
    for index, key in enumerate(mapping):
        if key != str(index) and key != index:
            return False
        if isinstance(key, bool):
            return False
    return True


def _encode(value: Any, parts: list[str], path: str, depth: int) -> None:
    if depth > 512:
        shown = path if len(path) <= 120 else f"{path[:60]}...{path[-40:]}"
        raise QvicklyInputError(
            f"value nested deeper than 512 levels (or containing itself) at {shown}"
        )
    if isinstance(value, str):
        parts.append(_php_string(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        if not MIN_PHP_INT <= value <= MAX_PHP_INT:
            raise QvicklyInputError(
                f"integer at {path} does not fit PHP's 64-bit int; send it as a string"
            )
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        try:
            text = php_float(value)
        except QvicklyInputError as error:
            raise QvicklyInputError(f"{error} (at {path})") from None
        parts.append(text)
    elif isinstance(value, Mapping):
        if _is_php_list(value):
            _encode_array(list(value.values()), parts, path, depth)
            return
        parts.append("{")
        first = True
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise QvicklyInputError(
                    f"mapping key {key!r} at {path} is not a string; JSON keys are strings"
                )
            if not first:
                parts.append(",")
            first = False
            name = str(key)
            parts.append(_php_string(name))
            parts.append(":")
            _encode(item, parts, f"{path}[{name!r}]", depth + 1)
        parts.append("}")
    elif isinstance(value, list | tuple):
        _encode_array(value, parts, path, depth)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise QvicklyInputError(f"{value!r} at {path} is not a finite amount")
        # Amounts travel as strings (Qvickly's own advice) so no float ever reaches the hash.
        parts.append(_php_string(format(value, "f")))
    elif isinstance(value, enum.Enum):
        _encode(value.value, parts, path, depth)
    else:
        raise QvicklyInputError(
            f"value of type {type(value).__name__} at {path} cannot be encoded as JSON"
        )


def _encode_array(items: Sequence[Any], parts: list[str], path: str, depth: int) -> None:
    parts.append("[")
    for index, item in enumerate(items):
        if index:
            parts.append(",")
        _encode(item, parts, f"{path}[{index}]", depth + 1)
    parts.append("]")


def php_json_encode(value: Any, *, path: str = "data") -> str:
    """Return the text PHP's ``json_encode($value)`` produces with default flags.

    Accepts ``str``, ``int``, ``float``, ``bool``, ``None``, mappings with string keys,
    lists and tuples, ``Decimal`` (sent as a plain decimal string, never in exponent form)
    and enum members (sent as their value). The result is pure ASCII.

    Raises:
        QvicklyInputError: for values PHP cannot represent; the message names the place.
    """
    parts: list[str] = []
    try:
        _encode(value, parts, path, 0)
    except RecursionError:
        raise QvicklyInputError(
            f"{path} is nested too deeply (or contains itself) to be encoded as JSON"
        ) from None
    return "".join(parts)


def find_non_latin1(value: Any, path: str = "data") -> list[tuple[str, str]]:
    """List ``(place, character)`` for every character above U+00FF in keys and strings.

    The server converts requests to ISO-8859-1 and turns such characters into ``?``, after
    which its hash can never match the one the client computed.
    """
    found: list[tuple[str, str]] = []
    _collect_non_latin1(value, path, found)
    return found


def _collect_non_latin1(value: Any, path: str, found: list[tuple[str, str]]) -> None:
    if isinstance(value, str):
        if not value.isascii():
            found.extend(
                (f"{path} position {index}", char)
                for index, char in enumerate(value)
                if ord(char) > 0xFF
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                _collect_non_latin1(key, f"key of {path}[{key!r}]", found)
            _collect_non_latin1(item, f"{path}[{key!r}]", found)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _collect_non_latin1(item, f"{path}[{index}]", found)


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {char!r}"


def encode_request_data(data: Mapping[str, Any], *, dummy: Callable[[], str]) -> bytes:
    """Check and encode a request's ``data`` into the exact bytes that are hashed and sent.

    Empty data is replaced by ``{"dummyData": dummy()}`` (the API wants non-empty data and
    PHP would encode ``{}`` as ``[]``).

    Raises:
        QvicklyInputError: text outside ISO-8859-1 (listing each character and its place),
            or a value PHP cannot represent.
    """
    if not isinstance(data, Mapping):
        raise QvicklyInputError(f"data must be a mapping, not {type(data).__name__}")
    if not data:
        data = {"dummyData": dummy()}
    # Encoding first bounds the depth (and refuses a mapping that contains itself), so the
    # character scan below walks a finite, shallow value.
    encoded = php_json_encode(data)
    # Every character above U+00FF shows as an escape \uXXXX not starting with 00: without
    # one the (exact, slower) scan has nothing to find.
    offending = find_non_latin1(data) if _ABOVE_LATIN1_ESCAPE.search(encoded) else []
    if offending:
        listed = ", ".join(f"{_describe(char)} at {place}" for place, char in offending[:10])
        more = f" and {len(offending) - 10} more" if len(offending) > 10 else ""
        raise QvicklyInputError(
            "request text outside ISO-8859-1 cannot be signed (the server turns it into '?' "
            f"and rejects the hash): {listed}{more}"
        )
    return encoded.encode("ascii")


def sign(secret: bytes, payload: bytes) -> str:
    """Return the lowercase hex HMAC-SHA512 of ``payload`` keyed with ``secret``."""
    return hmac.new(secret, payload, hashlib.sha512).hexdigest()


def hashes_equal(expected: str, received: object) -> bool:
    """Compare a computed hash with a received one in constant time (case-insensitively)."""
    if not isinstance(received, str) or not received.isascii():
        return False
    return hmac.compare_digest(expected.encode("ascii"), received.lower().encode("ascii"))


class Secret:
    """The merchant secret key. Never shown by ``repr``/``str``; compare with care.

    Deliberately not an attrs class: ``attrs.asdict(client.options)`` (a common way to log a
    configuration) would otherwise recurse into it and copy the raw key out.
    """

    __slots__ = ("_keyed", "_value")
    _value: bytes
    _keyed: hmac.HMAC | None

    def __init__(self, value: bytes) -> None:
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "_keyed", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> tuple[type[Secret], tuple[bytes]]:
        # A pickle of the options would carry the raw key to wherever it is written.
        raise TypeError(
            "Secret cannot be pickled: the pickle would contain the raw API key; give the "
            "other process the key through its environment (QVICKLY_SECRET) or a secret store"
        )

    def __copy__(self) -> Secret:
        return self  # immutable

    def __deepcopy__(self, memo: object) -> Secret:
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def reveal(self) -> bytes:
        """Return the key bytes (for signing)."""
        return self._value

    def sign(self, payload: bytes) -> str:
        """Return :func:`sign` of ``payload`` with this key, without revealing it.

        The keyed HMAC state is built once and copied per message (cheaper than keying
        anew); it holds the hashed key pads, never the key bytes.
        """
        keyed = self._keyed
        if keyed is None:
            keyed = hmac.new(self._value, None, hashlib.sha512)
            object.__setattr__(self, "_keyed", keyed)
        mac = keyed.copy()
        mac.update(payload)
        return mac.hexdigest()

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__
