"""Issue 11 item 4: the verifier's re-encoding fallback is exact and cheap with floats too.

:func:`php_json_reencode` (C encoder plus C-level rewrites) must give, byte for byte, what a
model built on :func:`php_json_encode` (the PHP-exact encoder, checked against real PHP in
``test_php_differential``) gives for a decoded value: objects stay objects, and ``None`` where
PHP's text would not decode back to the same value and types.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvickly_async._reencoding import php_json_reencode
from qvickly_async._signing import MAX_PHP_INT, MIN_PHP_INT, php_float, php_json_encode


class _NoFaithfulTextError(Exception):
    pass


def model(value: Any, depth: int = 0) -> str:
    """PHP's text for a decoded value with every mapping kept an object (or raise)."""
    if isinstance(value, dict):
        if value and depth >= 512:
            raise _NoFaithfulTextError("nested deeper than PHP encodes")
        members = (
            php_json_encode(key) + ":" + model(item, depth + 1) for key, item in value.items()
        )
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        if value and depth >= 512:
            raise _NoFaithfulTextError("nested deeper than PHP encodes")
        return "[" + ",".join(model(item, depth + 1) for item in value) + "]"
    if isinstance(value, float):
        text = php_float(value)
        if "." not in text and "e" not in text:
            raise _NoFaithfulTextError("PHP writes this float like an integer")
        return text
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not MIN_PHP_INT <= value <= MAX_PHP_INT
    ):
        raise _NoFaithfulTextError("beyond PHP's 64-bit integers")
    return php_json_encode(value)


def expected(value: Any) -> str | None:
    try:
        return model(value)
    except _NoFaithfulTextError:
        return None


_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True, width=32),
    st.floats(min_value=-1e-300, max_value=1e-300, allow_nan=False),
    st.builds(
        lambda mantissa, exponent: mantissa * 10.0**exponent,
        st.floats(min_value=-10, max_value=10, allow_nan=False),
        st.integers(min_value=-320, max_value=300),
    ).filter(lambda value: abs(value) < 1e308),
    st.sampled_from(
        [0.1, 1e-4, 1e-5, 1e-7, 1.5e-7, 1e15, 1e16, 1.5e16, 1e17, 1e25, 5e-324, -0.0, 0.0, 100.0]
    ),
    st.sampled_from([2.2250738585072014e-308, 1.7976931348623157e308, 1e-310, -1e-320]),
)
_number_like = st.sampled_from(
    [
        "1e-07",
        "1.0",
        ":1e+16,",
        '\\"',
        '"',
        "\\",
        "\\\\u007f",
        "\x7f",
        "/",
        "5e-324]",
        "1.5e-07}",
        "é",
    ]
)
_text = st.lists(st.one_of(st.characters(max_codepoint=0x2FF), _number_like), max_size=8).map(
    "".join
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=MIN_PHP_INT, max_value=MAX_PHP_INT),
    st.sampled_from([MAX_PHP_INT + 1, MIN_PHP_INT - 1, 10**25, -(10**19)]),
    _floats,
    _floats,
    _text,
)
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(_text, children, max_size=5),
    ),
    max_leaves=30,
)


@settings(
    max_examples=1500,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_values)
def test_reencoding_equals_the_php_exact_model(value: Any) -> None:
    decoded = json.loads(json.dumps(value))  # exactly what the envelope parser hands over
    assert php_json_reencode(decoded) == expected(decoded)


@pytest.mark.parametrize("depth", [510, 511, 512, 513])
@pytest.mark.parametrize("leaf", [[], {}, [1.5e-7], {"k": 0.5}], ids=repr)
@pytest.mark.parametrize("container", ["list", "dict"])
def test_nesting_limit_matches_php(depth: int, leaf: Any, container: str) -> None:
    """PHP's json_encode refuses non-empty arrays/objects nested deeper than 512 (empty ones
    are written without counting)."""
    value: Any = leaf
    for _ in range(depth):
        value = [value] if container == "list" else {"a": value}
    opening, closing = ("[", "]") if container == "list" else ('{"a":', "}")
    text = opening * depth + model(leaf) + closing * depth
    non_empty_levels = depth + (1 if leaf else 0)
    assert php_json_reencode(value) == (text if non_empty_levels <= 512 else None)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (
            {"f": 1e-7, "g": [1.5e25, 5e-324], "s": "1e-07"},
            '{"f":1.0e-7,"g":[1.5e+25,5.0e-324],"s":"1e-07"}',
        ),
        ({"s": 'a\\"1e-07"', "n": -2.5e-10}, '{"s":"a\\\\\\"1e-07\\"","n":-2.5e-10}'),
        ({"s": "\\u007f\x7f/"}, '{"s":"\\\\u007f\x7f\\/"}'),
        ({"n": 1e16}, None),
        ({"n": 100.0}, None),
        ({"n": [-0.0]}, None),
        ({"n": 2**63}, None),
        ({"n": -(2**63), "m": 0.0001}, '{"n":-9223372036854775808,"m":0.0001}'),
    ],
)
def test_known_spellings(value: Any, text: str | None) -> None:
    assert php_json_reencode(value) == text
