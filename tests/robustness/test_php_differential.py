"""The SDK's canonical bytes are PHP's ``json_encode`` bytes, checked against real PHP.

One ``php`` process per test answers line by line (a coprocess), so thousands of hypothesis
payloads cost a few seconds. For every generated value ``v`` two JSON texts go to PHP:

* ``ours = php_json_encode(v)``: what the SDK hashes and sends. PHP's
  ``json_encode(json_decode(ours, true))`` must give back exactly ``ours`` (a fixed point: the
  server's re-encoding is the identity, so the hashes agree) and ``hash_hmac('sha512', ...)``
  of it must equal :func:`sign`.
* ``alt = json.dumps(v, ...)`` in a random non-canonical layout (spaces, raw UTF-8 or
  ``\\uXXXX``, unescaped ``/``, ``{}`` kept as an object): what a server that re-formats would
  send. PHP's assoc re-encoding of it must equal ``ours``; this is the fallback the response
  verifier relies on (``_response._reencoded_matches``).

Both texts are also decoded in PHP's object mode (``json_decode($x)``), whose re-encoding follows
a slightly different model, checked explicitly rather than skipped:

* object mode keeps every JSON object an object (``stdClass``): ``{}`` stays ``{}`` and
  ``{"0":..,"1":..}`` stays an object, where assoc mode makes PHP arrays (and lists) of them;
* a PHP object cannot hold a property whose name starts with NUL: ``json_decode`` fails and
  returns ``null`` (``JSON_ERROR_INVALID_PROPERTY_NAME``), so the re-encoding is ``null``.

One more documented difference: PHP keeps the sign of a decoded ``-0.0`` float (``-0``), while
the SDK deliberately sends ``-0.0`` as ``0`` (PHP reads that as the int 0, a fixed point).

Seeds: hypothesis runs with ``derandomize=True`` (the seed is derived from the test's name).
"""

from __future__ import annotations

import base64
import json
import math
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvickly_async._signing import MAX_PHP_INT, MIN_PHP_INT, php_json_encode, sign

from ._hostile import report

pytestmark = pytest.mark.php

#: Default-suite floor of payloads compared with PHP (each in two layouts, two decode modes).
MIN_PAYLOADS = 3000

# A line-oriented coprocess: one request per line, one answer per line, flushed each time.
# Input: "<base64 secret> <base64 wire>"; output: "<b64 assoc> <b64 object> <hmac of assoc>".
_PHP_WORKER = r"""
while (($line = fgets(STDIN)) !== false) {
    [$secret, $wire] = explode(" ", trim($line));
    $secret = base64_decode($secret);
    $wire = base64_decode($wire);
    $assoc = json_encode(json_decode($wire, true));
    $object = json_encode(json_decode($wire));
    echo base64_encode((string) $assoc), " ", base64_encode((string) $object), " ",
        hash_hmac('sha512', (string) $assoc, $secret), "\n";
    fflush(STDOUT);
}
"""


class PhpWorker:
    """A running ``php`` that re-encodes JSON texts as the server does."""

    def __init__(self, php: str) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed script, our own input
            [php, "-d", "serialize_precision=-1", "-d", "memory_limit=512M", "-r", _PHP_WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.sent = 0

    def reencode(self, secret: bytes, wire: str) -> tuple[str, str, str]:
        """Return PHP's ``(assoc re-encoding, object re-encoding, hmac of assoc)``."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        line = base64.b64encode(secret) + b" " + base64.b64encode(wire.encode("utf-8")) + b"\n"
        stdin.write(line)
        stdin.flush()
        answer = stdout.readline().decode("ascii")
        assert answer, "php stopped answering"
        assoc, obj, digest = answer.rstrip("\n").split(" ")
        self.sent += 1
        return (
            base64.b64decode(assoc).decode("utf-8"),
            base64.b64decode(obj).decode("utf-8"),
            digest,
        )

    def close(self) -> None:
        """End the process (closing stdin ends its loop)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def php_worker(php: str) -> Iterator[PhpWorker]:
    worker = PhpWorker(php)
    try:
        yield worker
    finally:
        worker.close()


# -- the reference model of PHP's re-encoding ----------------------------------------------


def _is_php_list(mapping: dict[str, Any]) -> bool:
    # PHP turns the keys "0", "1", ... into integers; an array whose keys are exactly
    # 0..n-1 in order (the empty one included) is a list and encodes as [...].
    return all(key == str(index) for index, key in enumerate(mapping))


def _has_nul_prefixed_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            key.startswith("\x00") or _has_nul_prefixed_key(item) for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_has_nul_prefixed_key(item) for item in value)
    return False


def _has_negative_zero(value: Any) -> bool:
    if isinstance(value, float):
        return value == 0.0 and math.copysign(1.0, value) < 0
    if isinstance(value, dict):
        return any(_has_negative_zero(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_negative_zero(item) for item in value)
    return False


def php_model(decoded: Any, *, object_mode: bool) -> str:
    """What PHP's ``json_encode(json_decode($text[, true]))`` gives for ``decoded = loads(text)``.

    Scalars and strings use the SDK's encoder (the assoc-mode fixed point check pins it to
    PHP independently); containers follow PHP's two decode modes.
    """
    if object_mode and _has_nul_prefixed_key(decoded):
        return "null"  # json_decode() fails: invalid property name
    return _model(decoded, object_mode)


def _model(value: Any, object_mode: bool) -> str:
    if isinstance(value, dict):
        if not object_mode and _is_php_list(value):
            return "[" + ",".join(_model(item, object_mode) for item in value.values()) + "]"
        members = (
            php_json_encode(key) + ":" + _model(item, object_mode) for key, item in value.items()
        )
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_model(item, object_mode) for item in value) + "]"
    if isinstance(value, float) and _has_negative_zero(value):
        return "-0"  # PHP keeps the sign of a decoded -0.0 float
    return php_json_encode(value)


# -- strategies ----------------------------------------------------------------------------

_latin1 = st.characters(min_codepoint=0, max_codepoint=0xFF)
_special = st.sampled_from(
    ["/", "\\/", '"', "\\", "\x7f", "\\u007f", "\x00", "\x1f", "\u2028", "é", "ÿ", "\xa0", "</"]
)
_latin1_text = st.lists(st.one_of(_latin1, _special), max_size=12).map("".join)
_unicode_text = st.text(max_size=6)  # BMP and astral (surrogate pairs on the wire)
_text = st.one_of(_latin1_text, _latin1_text, _unicode_text)
_keys = st.one_of(
    _text,
    st.sampled_from(["", "0", "1", "01", "-1", "-0", " 1", "1.0", "9223372036854775808"]),
    _latin1_text.map(lambda text: "\x00" + text),  # cannot be a PHP object property
)
_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True, width=32),
    st.builds(
        lambda mantissa, exponent: mantissa * 10.0**exponent,
        st.floats(min_value=-10, max_value=10, allow_nan=False),
        st.integers(min_value=-30, max_value=30),
    ),
    st.sampled_from([0.1, 1e15, 1e16, 1e17, 1e-4, 1e-5, 5e-324, 1.7976931348623157e308, -0.0]),
    st.integers(min_value=-(10**6), max_value=10**6).map(lambda cents: cents / 100),
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=MIN_PHP_INT, max_value=MAX_PHP_INT),
    st.sampled_from([MIN_PHP_INT, MAX_PHP_INT, 0, -1, 2**53 + 1]),
    _floats,
    _text,
)


def _list_like(values: list[Any]) -> dict[str, Any]:
    return {str(index): value for index, value in enumerate(values)}


_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(_keys, children, max_size=5),
        st.lists(children, max_size=4).map(_list_like),  # a PHP list in disguise
        st.just({}),
        st.just([]),
    ),
    max_leaves=25,
)
_layouts = st.fixed_dictionaries(
    {
        "ensure_ascii": st.booleans(),
        "indent": st.sampled_from([None, None, 0, 2]),
        "separators": st.sampled_from([None, (",", ":"), (" , ", " : ")]),
    }
)


def check_against_php(worker: PhpWorker, secret: bytes, value: Any, layout: dict[str, Any]) -> None:
    """Every assertion of this module for one value."""
    ours = php_json_encode(value)
    assoc, obj, digest = worker.reencode(secret, ours)
    assert assoc == ours, f"PHP re-encodes our bytes differently: {ours!r} -> {assoc!r}"
    assert digest == sign(secret, ours.encode("ascii")), ours
    # Object mode: our wire has no {} and no list-like objects left (they became [...]),
    # so only the NUL-prefixed property names differ (the decode fails -> null).
    expected_obj = "null" if _has_nul_prefixed_key(json.loads(ours)) else ours
    assert obj == expected_obj, (ours, obj)
    assert php_model(json.loads(ours), object_mode=True) == obj

    alt = json.dumps(value, **layout)
    alt_assoc, alt_obj, alt_digest = worker.reencode(secret, alt)
    assert alt_assoc == php_model(json.loads(alt), object_mode=False), (alt, alt_assoc)
    if not _has_negative_zero(value):
        # The property the response verifier's fallback relies on: PHP's canonical form of
        # any layout of a value is the SDK's encoding of that value.
        assert alt_assoc == ours, (alt, alt_assoc, ours)
        assert alt_digest == sign(secret, ours.encode("ascii"))
    assert alt_obj == php_model(json.loads(alt), object_mode=True), (alt, alt_obj)


def _run_differential(worker: PhpWorker, examples: int) -> int:
    checked: list[int] = []

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        secret=st.binary(min_size=1, max_size=80),
        batch=st.lists(st.tuples(_values, _layouts), min_size=1, max_size=8),
    )
    def differential(secret: bytes, batch: list[tuple[Any, dict[str, Any]]]) -> None:
        for value, layout in batch:
            check_against_php(worker, secret, value, layout)
        checked.append(len(batch))

    differential()
    return sum(checked)


def test_canonical_bytes_equal_php_json_encode(php_worker: PhpWorker) -> None:
    payloads = _run_differential(php_worker, examples=900)
    report(f"\nPHP differential: {payloads} payloads, {php_worker.sent} PHP round trips")
    assert payloads >= MIN_PAYLOADS


@pytest.mark.soak
def test_canonical_bytes_equal_php_json_encode_soak(php_worker: PhpWorker) -> None:
    payloads = _run_differential(php_worker, examples=15_000)
    report(f"\nPHP differential (soak): {payloads} payloads, {php_worker.sent} PHP round trips")
    assert payloads >= 20 * MIN_PAYLOADS


@pytest.mark.parametrize(
    ("value", "ours", "php_assoc_of_alt", "php_object_of_alt"),
    [
        # PHP keeps -0.0's sign; the SDK sends 0 (read back by PHP as the int 0).
        (-0.0, "0", "-0", "-0"),
        ({"a": -0.0}, '{"a":0}', '{"a":-0}', '{"a":-0}'),
        # {} is [] in assoc mode (our encoding) and stays {} in object mode.
        ({}, "[]", "[]", "{}"),
        ({"a": {}}, '{"a":[]}', '{"a":[]}', '{"a":{}}'),
        # A list-like object is a PHP list in assoc mode, an object in object mode.
        ({"0": "x", "1": "y"}, '["x","y"]', '["x","y"]', '{"0":"x","1":"y"}'),
        # A NUL-prefixed name decodes in assoc mode only.
        ({"\x00k": 1}, '{"\\u0000k":1}', '{"\\u0000k":1}', "null"),
    ],
)
def test_documented_differences_are_real(
    php_worker: PhpWorker, value: Any, ours: str, php_assoc_of_alt: str, php_object_of_alt: str
) -> None:
    secret = b"k3y"
    assert php_json_encode(value) == ours
    assoc, _, _ = php_worker.reencode(secret, ours)
    assert assoc == ours
    alt_assoc, alt_obj, _ = php_worker.reencode(secret, json.dumps(value))
    assert (alt_assoc, alt_obj) == (php_assoc_of_alt, php_object_of_alt)
    decoded = json.loads(json.dumps(value))
    assert php_model(decoded, object_mode=False) == php_assoc_of_alt
    assert php_model(decoded, object_mode=True) == php_object_of_alt
