"""Hypothesis strategies for hostile response bodies, shared by the fuzz tests and harness.

Bodies are built from raw ``data`` text and signed over exactly that text with the test
secret, so they pass verification and reach the codec (unless the point is to fail it).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from hypothesis import strategies as st

from qvickly_async._signing import sign
from qvickly_async.sandbox import Sandbox

SECRET = b"robustness-secret"


def envelope(raw_data: bytes, *, secret: bytes = SECRET, digest: str | None = None) -> bytes:
    """A response body whose ``credentials.hash`` signs ``raw_data`` (or is ``digest``)."""
    digest = sign(secret, raw_data) if digest is None else digest
    return b'{"credentials":{"hash":"' + digest.encode() + b'","logid":1},"data":' + raw_data + b"}"


def _rows(shape: Literal["flat", "nested"]) -> list[dict[str, Any]]:
    sandbox = Sandbox(invoice_shape=shape)
    rows: list[dict[str, Any]] = []
    for number in ("10001", "10003", "10005"):
        rows.extend(sandbox.expected_invoices(number))
    return rows


FLAT_ROWS = _rows("flat")
NESTED_ROWS = _rows("nested")
REALISTIC_BODIES = [
    envelope(json.dumps(FLAT_ROWS[:3], separators=(",", ":")).encode()),
    envelope(json.dumps(NESTED_ROWS[:2], separators=(",", ":")).encode()),
]

# -- JSON values of every type, including ones PHP would never send ---------------------------

_huge_numbers = st.sampled_from(
    [
        "1e400",
        "-1e400",
        "1e-400",
        "123456789012345678901234567890",
        "9" * 5000,  # beyond Python's int-from-text limit (4300 digits)
        "-" + "9" * 4400,
        "1" + "0" * 400 + ".5",
        "0." + "0" * 500 + "1",
        "NaN",
        "Infinity",
        "-Infinity",
        "1E+999999999",
    ]
)
_weird_text = st.sampled_from(
    [
        "",
        " ",
        "0000-00-00",
        "0000-00-00 00:00:00",
        "2024-02-30",
        "9999-99-99",
        "²",  # a Unicode digit: str.isdigit() is true, int() refuses it
        "١٢٣",  # Arabic-Indic digits
        "1_000",
        "0x10",
        "1e5",
        "-0",
        "+5",
        "12,50",
        "\x00",
        "\ud800",  # a lone surrogate (from "\\ud800" on the wire)
        "x" * 10_000,
    ]
)
_keys = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        [
            "PaymentData",
            "Cart",
            "Customer",
            "Articles",
            "PaymentInfo",
            "\x00qvickly:extra",  # the codec's private keys
            "\x00qvickly:raw",
            "code",
            "message",
            "logid",
            "0",
            "1",
        ]
    ),
)


def _raw_number(text: str) -> Any:
    return RawJSON(text)


class RawJSON:
    """A JSON fragment inserted verbatim by :func:`dump` (numbers Python cannot hold)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawJSON({self.text[:40]!r})"


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(),
        st.text(max_size=20),
        _weird_text,
        _huge_numbers.map(_raw_number),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4)
    ),
    max_leaves=10,
)


def dump(value: Any) -> str:
    """JSON text of ``value``; :class:`RawJSON` fragments verbatim; lone surrogates escaped."""
    if isinstance(value, RawJSON):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{dump(str(k))}:{dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(item) for item in value) + "]"
    return json.dumps(value)  # ensure_ascii: lone surrogates become \udXXX escapes


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replace(value[head], rest, new, delete)
        return copy
    copy_list = list(value)
    if delete and not rest:
        del copy_list[head]
    else:
        copy_list[head] = _replace(value[head], rest, new, delete)
    return copy_list


@st.composite
def wrong_typed_rows(draw: st.DrawFn) -> bytes:
    """Realistic invoice rows (both shapes) with one or more fields replaced or removed."""
    rows: list[Any] = [
        draw(st.sampled_from(FLAT_ROWS + NESTED_ROWS))
        for _ in range(draw(st.integers(min_value=1, max_value=3)))
    ]
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(rows)[1:]
        path = draw(st.sampled_from(paths))
        delete = draw(st.booleans()) and len(path) > 1
        rows = _replace(rows, path, draw(json_values), delete)
    return dump(rows).encode("utf-8")


@st.composite
def deep_nesting(draw: st.DrawFn) -> bytes:
    """Data nested from a few to many thousand levels, where a row or the whole data sits."""
    depth = draw(st.one_of(st.integers(1, 1200), st.integers(1, 200_000)))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"x":', "}]")]))
    inner = opener * depth + "1" + closer * depth
    where = draw(st.sampled_from(["data", "row", "field", "message"]))
    if where == "data":
        return inner.encode()
    if where == "row":
        return f"[{inner}]".encode()
    if where == "message":
        return f'{{"code":"9999","message":{inner},"logid":{inner}}}'.encode()
    row = json.dumps(draw(st.sampled_from(FLAT_ROWS + NESTED_ROWS)))
    return (row[:-1] + f',"deep":{inner}}}').join("[]").encode()


@st.composite
def mutated_envelope(draw: st.DrawFn) -> bytes:
    """A valid body with random byte edits (not re-signed)."""
    body = bytearray(draw(st.sampled_from(REALISTIC_BODIES)))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        offset = draw(st.integers(min_value=0, max_value=len(body) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "splice"]))
        if action == "flip":
            body[offset] = draw(st.integers(0, 255))
        elif action == "insert":
            body[offset:offset] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del body[offset : offset + draw(st.integers(1, 16))]
        else:
            size = draw(st.integers(1, 64))
            source = draw(st.integers(0, len(body) - 1))
            body[offset:offset] = body[source : source + size]
        if not body:
            body = bytearray(b"{")
    return bytes(body)


@st.composite
def error_objects(draw: st.DrawFn) -> bytes:
    """The error shape with every field of every type (signed inside data, or bare)."""
    fields = {
        "code": draw(st.one_of(json_values, _weird_text, st.sampled_from(["9008", "9013", "1"]))),
        "message": draw(json_values),
        "logid": draw(json_values),
    }
    return dump(fields).encode("utf-8")


signed_data = st.one_of(
    wrong_typed_rows(),
    deep_nesting(),
    error_objects(),
    json_values.map(lambda value: dump(value).encode("utf-8")),
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Any hostile body: random bytes, mutated envelopes, or signed hostile data."""
    kind = draw(st.sampled_from(["random", "mutated", "signed", "signed", "signed", "bare"]))
    if kind == "random":
        return draw(st.binary(max_size=400))
    if kind == "mutated":
        return draw(mutated_envelope())
    if kind == "bare":  # the unsigned top-level error shape
        return draw(error_objects())
    return envelope(draw(signed_data))
