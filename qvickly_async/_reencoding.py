r"""PHP's ``json_encode`` of a decoded response, linear and without a Python call per value.

Verification falls back to hashing PHP's re-encoding of the decoded ``data`` when the raw bytes
do not match (protocol.md §4.3). A forged answer takes that path too, so it must stay cheap for
any body. The C ``json`` encoder writes the text; PHP spells only two things differently, both
fixed by C-level passes over that text:

* strings: PHP escapes ``/`` and leaves DEL raw (plain ``str.replace`` passes);
* floats in exponent form: Python writes ``1e-07``, ``1.5e+25``, PHP ``1.0e-7``, ``1.5e+25``
  (a point-less mantissa gains ``.0``, the exponent loses leading zeros). One regular
  expression that steps over whole strings and numbers splits the text around such tokens
  only; the pieces are mapped and joined in C.

Fixed-notation floats are spelled alike (both write the shortest round-trip digits, fixed for
decimal exponents -4..15). Where PHP would write something that does not decode back to the
very same value and JSON types (an integral float such as ``100.0``, which PHP writes as
``100``; an exponent of 16; an integer beyond 64 bits; non-empty containers nested deeper than
512) there is no faithful PHP text: :func:`within_php_limits` says so, and the verifier asks
it only once a hash matched, so a forged body never pays for it.
"""

from __future__ import annotations

import itertools
import json.encoder
import operator
import re
from collections.abc import Callable
from typing import Any

from ._signing import MAX_PHP_INT, MIN_PHP_INT, php_string_fixes

__all__ = ["php_json_reencode", "reencode_unchecked", "within_php_limits"]

_json_dumps_ascii: Callable[[Any], str] = json.JSONEncoder(
    ensure_ascii=True, separators=(",", ":"), allow_nan=False, check_circular=False
).encode

# A float in exponent form: a digit right before "e" (outside strings only "true"/"false"
# hold an "e", never after a digit). Searching for the literal "e" first is a fast C scan.
_MAYBE_EXPONENT = re.compile(r"e(?<=\de)")
# The C encoder's ASCII output: every string is closed, ``"`` inside one is escaped. The gap
# steps possessively over strings, other characters and numbers without an exponent, so it
# stops only at a float in exponent form (or the end); that token is split into mantissa,
# ``e`` with its sign, and the exponent without one leading zero (Python writes two digits).
_EXPONENT_TOKENS = re.compile(
    r"""((?:"(?:[^"\\]++|\\.)*+"|[^"\d]++|\d++(?:\.\d++)?+(?!e))*+)"""
    r"(?:(\d++(?:\.\d++)?+)(e[-+])0?(\d++)|\Z)"
)
_GROUPS = 4  # gap, mantissa, "e" and sign, exponent
#: A point-less mantissa (always one digit in Python's repr) gains ".0" as in PHP.
_PHP_MANTISSA = {digit: f"{digit}.0" for digit in "0123456789"}


def reencode_unchecked(value: Any) -> str | None:
    """PHP's ``json_encode`` text of the decoded JSON ``value``, mappings kept as objects.

    ``None`` when the C encoder refuses the value (NaN, too deep for the stack). The text is
    exact whenever :func:`within_php_limits` accepts it.
    """
    try:
        text = _json_dumps_ascii(value)
    except (TypeError, ValueError, RecursionError):
        return None
    if _MAYBE_EXPONENT.search(text) is not None:
        pieces: list[Any] = _EXPONENT_TOKENS.split(text)  # str, or None for an unused group
        step = _GROUPS + 1
        mantissas = pieces[2::step]
        pieces[2::step] = map(_PHP_MANTISSA.get, mantissas, mantissas)
        text = "".join(filter(None, pieces))
    return php_string_fixes(text)


_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')
_LONG_INTEGER = re.compile(r"(?<![\d.])-?\d{19,}")
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_NINETEEN_DIGITS = b"0" * 19  # any shorter run of digits is an int within 64 bits
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[{]}")))
_MAX_DEPTH = 512


def within_php_limits(text: str) -> bool:
    """Whether ``text`` (from :func:`reencode_unchecked`) is a faithful PHP re-encoding.

    False for an integral float (PHP writes ``100.0`` and ``1.0e+16`` like integers), an
    integer beyond PHP's 64 bits, or non-empty arrays and objects nested deeper than 512 (PHP's
    encoder counts those only): PHP never writes such text, or it decodes to other types.
    """
    skeleton = _STRING.sub('""', text)  # numbers, brackets and literals only
    for ending in (",", "]", "}"):
        if f".0{ending}" in skeleton or f"e+16{ending}" in skeleton:
            return False
    if skeleton.endswith((".0", "e+16")):
        return False
    if _NINETEEN_DIGITS in skeleton.encode("ascii").translate(_DIGITS_AS_ZERO):
        for match in _LONG_INTEGER.finditer(skeleton):
            if not MIN_PHP_INT <= int(match.group()) <= MAX_PHP_INT:
                return False
    nesting = skeleton.replace("[]", "0").replace("{}", "0")
    if nesting.count("[") + nesting.count("{") <= _MAX_DEPTH:
        return True
    steps = nesting.encode("ascii").translate(_BRACKET_STEPS, _NOT_BRACKETS)
    # Open brackets after k steps: 2 * openers - k (each step is 2 for "[{" and 0 for "]}").
    depths = map(operator.sub, itertools.accumulate(steps), itertools.count(1))
    return max(depths, default=0) <= _MAX_DEPTH


def php_json_reencode(value: Any) -> str | None:
    """Return PHP's ``json_encode`` text that decodes to exactly ``value``, types included.

    ``value`` is a decoded JSON value (``dict``/``list``/``str``/``int``/``float``/``bool``/
    ``None``). A mapping always stays an object (``{}`` and ``{"0": ...}`` are not turned into
    arrays), and where PHP's text would decode to something else (``0.0`` written as ``0``) or
    PHP cannot encode the value at all, ``None`` is returned.
    """
    text = reencode_unchecked(value)
    return text if text is not None and within_php_limits(text) else None
