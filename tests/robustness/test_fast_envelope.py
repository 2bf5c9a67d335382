"""The verifier's fast path answers exactly as the careful path does, for any body.

``verified_data`` first tries a fast path (orjson on the head and on the signed ``data`` bytes
of a compact envelope) and hands everything it cannot prove to the careful path
(``parse_envelope`` and the re-encoding fallback), which is what every body went through
before. Here both run on the same bodies and must give the same outcome: the same value with
the same JSON types (``1``, ``1.0`` and ``True`` differ, so do ``0.0`` and ``-0.0``, and key
order counts), or the same exception class, message and attributes (``transient``, ``code``).

Bodies: generated envelopes (any JSON values in many spellings, duplicate and extra members,
``"data":`` inside strings and keys, whitespace, wrong, missing and re-encoded hashes, signed
texts spliced into other envelopes, byte damage), a list of hand-written hostile ones, and the
sandbox's real answers (which must take the fast path). A separate property checks orjson's
own contract that the fast path relies on: what it accepts the strict standard decoder
accepts too, with the same values.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qvickly_async import _response
from qvickly_async._reencoding import php_json_reencode
from qvickly_async._response import _careful_verified_data, _fast_verified, verified_data
from qvickly_async._signing import php_float, php_json_encode, sign
from qvickly_async.sandbox._config import DEFAULT_SEED
from qvickly_async.sandbox._dataset import DemoDataset
from qvickly_async.sandbox._shapes import customer_row

SECRET = b"fast-envelope-secret"
FUNCTION = "getInvoicesByCustomer"

_SETTINGS = settings(
    max_examples=600,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- comparing outcomes -----------------------------------------------------------------------


#: What the careful path makes of a body nested ~1,000 deep, on this Python.
_DEEP = "QvicklyDecodeError" if sys.version_info < (3, 12) else "list"


def typed(value: Any) -> tuple[Any, ...]:
    """``value`` as a flat token sequence that spells out every JSON type, float bits and key
    order. Iterative, so a body nested 1,000 deep compares on every Python version (3.12
    decodes it where 3.11 gives up; nested tuples would then exhaust the recursion limit).
    """
    tokens: list[Any] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            tokens.append(("object", len(item)))
            for key, member in reversed(item.items()):
                stack.append(member)
                stack.append(key)
        elif isinstance(item, list):
            tokens.append(("array", len(item)))
            stack.extend(reversed(item))
        elif isinstance(item, float):
            tokens.append(("float", item.hex()))  # 0.0 and -0.0 differ; no NaN comes out
        else:
            tokens.append((type(item).__name__, item))
    return tuple(tokens)


def outcome(verify: Callable[..., Any], body: bytes, function: str = FUNCTION) -> Any:
    """What ``verify`` gives for ``body``: the typed value, or the exception and its state."""
    try:
        value = verify(body, secret=SECRET, function=function)
    except Exception as error:  # the outcome under comparison
        return ("raised", type(error), str(error), typed(error.args), typed(vars(error)))
    return ("returned", typed(value))


def assert_same_outcome(body: bytes, function: str = FUNCTION) -> Any:
    """Assert both paths agree on ``body``; return the careful path's outcome."""
    expected = outcome(_careful_verified_data, body, function)
    assert outcome(verified_data, body, function) == expected, body[:300]
    return expected


def signed(data_text: str | bytes, **credentials: Any) -> bytes:
    """A compact envelope as Qvickly sends it: credentials first, then the signed data."""
    raw = data_text.encode("utf-8") if isinstance(data_text, str) else data_text
    fields = {"hash": sign(SECRET, raw), "logid": 1234567, **credentials}
    return b'{"credentials":' + json.dumps(fields).encode() + b',"data":' + raw + b"}"


# -- generated envelopes ----------------------------------------------------------------------

_SPACE = st.sampled_from(["", "", "", "", " ", "\n", "\t", "\r\n  "])
# Number texts where decoders disagree or refuse: overflow, underflow, beyond 64 bits,
# negative zero, spellings PHP does not write, invalid JSON numbers.
_NUMBER_TOKENS = st.sampled_from(
    [
        "0", "-0", "0.0", "-0.0", "0e0", "-0e0", "1E+2", "1e05", "2.5E-3", "100.0", "1.0e+25",
        "1e400", "-1e400", "1e-400", "1.7976931348623157e308", "1.7976931348623159e308",
        "4.9e-324", "2.4703282292062328e-324", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
        "18446744073709551616", "123456789012345678901234567890",
        "0.1000000000000000055511151231257827",
        "12345678901234567890.5", "NaN", "Infinity", "-Infinity", "01", "1.", ".5", "+1", "-",
    ]
)  # fmt: skip
_INTEGERS = st.one_of(
    st.integers(-1000, 1000),
    st.integers(-(2**63), 2**64 - 1),
    st.integers(-(2**70), 2**70),
)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
_FLOAT_SPELLINGS: tuple[Callable[[float], str], ...] = (
    repr,
    php_float,
    lambda value: f"{value:.17g}",
    lambda value: f"{value:E}",
    lambda value: repr(value).replace("e+", "e"),
)
_SPECIAL_STRINGS = st.sampled_from(
    ['"data":', '\\"data\\":', "\\", '"', "/", "\x7f", "\x00", "\x1f", "\u2028", "ä", "😀",
     "\ud800", "\udc00", "\ud83d", "x\\", "}", "]", "{", "["]
)  # fmt: skip
_STRINGS = st.one_of(
    st.text(max_size=8), _SPECIAL_STRINGS, st.lists(_SPECIAL_STRINGS, max_size=4).map("".join)
)
_KEYS = st.one_of(
    st.sampled_from(["data", "credentials", "hash", "code", "message", "logid", "a"]),
    _STRINGS,
)


@st.composite
def string_text(draw: st.DrawFn, strings: st.SearchStrategy[str] = _STRINGS) -> str:
    """A JSON string in one of several spellings (escaped or raw non-ASCII, raw controls)."""
    value = draw(strings)
    spelling = draw(st.sampled_from(["ascii", "raw", "raw", "controls"]))
    if spelling == "ascii":
        return json.dumps(value)
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("\\u001f", "\x1f") if spelling == "controls" else text


@st.composite
def scalar_text(draw: st.DrawFn) -> str:
    """A JSON scalar (or a number token that is not one)."""
    kind = draw(st.sampled_from(["int", "float", "token", "string", "literal"]))
    if kind == "int":
        return str(draw(_INTEGERS))
    if kind == "float":
        return draw(st.sampled_from(_FLOAT_SPELLINGS))(draw(_FLOATS))
    if kind == "token":
        return draw(_NUMBER_TOKENS)
    if kind == "string":
        return draw(string_text())
    return draw(st.sampled_from(["true", "false", "null"]))


def _container(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        space = draw(_SPACE)
        if draw(st.booleans()):
            items = draw(st.lists(children, max_size=4))
            return "[" + space + ("," + space).join(items) + "]"
        members = draw(st.lists(st.tuples(string_text(_KEYS), children), max_size=4))
        return "{" + ",".join(f"{space}{key}{space}:{value}" for key, value in members) + "}"

    return build()


JSON_TEXTS = st.recursive(scalar_text(), _container, max_leaves=20)


@st.composite
def envelopes(draw: st.DrawFn) -> bytes:
    """An envelope, mostly as Qvickly sends it, often with something hostile about it."""
    data_text = draw(JSON_TEXTS)
    raw = data_text.encode("utf-8", "surrogatepass")  # lone surrogates: invalid UTF-8 bytes
    how = draw(st.sampled_from(["raw", "raw", "raw", "reencoded", "other", "upper", "none"]))
    if how == "reencoded":
        try:
            canonical = php_json_reencode(json.loads(data_text))
        except (ValueError, RecursionError):
            canonical = None
        digest = sign(SECRET, (canonical or data_text).encode("utf-8", "surrogatepass"))
    elif how == "other":
        digest = sign(SECRET, draw(JSON_TEXTS).encode("utf-8", "surrogatepass"))
    else:
        digest = sign(SECRET, raw)
    credential_members = [] if how == "none" else [b'"hash":"' + digest.encode() + b'"']
    if how == "upper":
        credential_members = [b'"hash":"' + digest.upper().encode() + b'"']
    for key, value in draw(st.lists(st.tuples(string_text(_KEYS), JSON_TEXTS), max_size=2)):
        at = draw(st.integers(0, len(credential_members)))
        credential_members.insert(at, _bytes(f"{key}:{value}"))
    credentials = b"{" + b",".join(credential_members) + b"}"
    # The last spells the key 'x"data': its text ends in '"data":' after a backslash.
    data_key = draw(
        st.sampled_from(['"data":', '"data":', '"data" :', '"d\\u0061ta":', '"x\\"data":'])
    )
    members = [b'"credentials":' + credentials, _bytes(data_key) + raw]
    extra = draw(
        st.lists(
            st.one_of(
                st.tuples(string_text(_KEYS), JSON_TEXTS).map(lambda kv: f"{kv[0]}:{kv[1]}"),
                # a second data member, or the signed text spliced in with another after it
                JSON_TEXTS.map(lambda text: '"data":' + text),
                JSON_TEXTS.map(lambda text: f'"data":{data_text},"data":{text}'),
                st.just('"code":"7020","message":"Invalid customer number"'),
            ),
            max_size=2,
        )
    )
    for member in extra:
        members.insert(draw(st.integers(0, len(members))), _bytes(member))
    if draw(st.integers(0, 3)) == 0:
        members = draw(st.permutations(members))
    space = _bytes(draw(_SPACE))
    body = b"{" + space + (b"," + space).join(members) + space + b"}"
    return _damaged(draw, body + _bytes(draw(_SPACE)))


def _bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


def _damaged(draw: st.DrawFn, body: bytes) -> bytes:
    damage = draw(st.sampled_from(["none"] * 6 + ["bom", "cut", "junk", "byte", "spaces"]))
    if damage == "bom":
        return b"\xef\xbb\xbf" + body
    if damage == "cut":
        return body[: draw(st.integers(0, len(body)))]
    if damage == "junk":
        return body + draw(st.sampled_from([b"x", b"}", b",", b"\x00", b"\xff", b"{}"]))
    if damage == "byte" and body:
        index = draw(st.integers(0, len(body) - 1))
        return body[:index] + bytes([draw(st.integers(0, 255))]) + body[index + 1 :]
    if damage == "spaces":
        return body + b" " * draw(st.integers(1, 12))
    return body


@_SETTINGS
@given(envelopes())
@example(signed("[18446744073709551616]"))
@example(signed('["\\ud800"]'))
@example(signed("[1e400]"))
def test_fast_and_careful_paths_agree_on_any_envelope(body: bytes) -> None:
    assert_same_outcome(body)


@_SETTINGS
@given(JSON_TEXTS)
def test_fast_and_careful_paths_agree_on_signed_compact_envelopes(data_text: str) -> None:
    """The common case, each generated value signed in a well-formed compact envelope."""
    assert_same_outcome(signed(data_text.encode("utf-8", "surrogatepass")))


# -- hand-written hostile bodies --------------------------------------------------------------

SIGNATURE = "QvicklySignatureError"
_A = '[{"number":"1","total":"100"}]'
_B = '[{"number":"2","total":"999"}]'


def _escaped_key_body() -> bytes:
    # The first '"data":' closes the key 'x\"data' (a backslash before it): not the data member.
    head = signed(_B)
    return head.replace(b',"data":', b',"x\\"data":0,"data":', 1)


HOSTILE: dict[str, tuple[bytes, Any]] = {
    "duplicate data, signed one first": (
        signed(_A)[:-1] + b',"data":' + _B.encode() + b"}",
        SIGNATURE,
    ),
    "duplicate data, signed one last": (
        b'{"credentials":{"hash":"'
        + sign(SECRET, _A.encode()).encode()
        + b'"},"data":'
        + _B.encode()
        + b',"data":'
        + _A.encode()
        + b"}",
        json.loads(_A),
    ),
    "data not last": (
        b'{"data":'
        + _A.encode()
        + b',"credentials":{"hash":"'
        + sign(SECRET, _A.encode()).encode()
        + b'"}}',
        json.loads(_A),
    ),
    '"data": inside a credentials string': (signed(_A, note='say "data":1'), json.loads(_A)),
    '"data": closing an escaped key': (_escaped_key_body(), json.loads(_B)),
    "signed data under the key 'x\"data'": (
        signed(_A).replace(b',"data":', b',"x\\"data":'),
        "QvicklyDecodeError",  # no data member at all
    ),
    "nested data key inside credentials": (
        b'{"credentials":{"data":1,"hash":"'
        + sign(SECRET, _A.encode()).encode()
        + b'"},"data":'
        + _A.encode()
        + b"}",
        json.loads(_A),
    ),
    "pretty-printed": (
        b'{\n  "credentials" : {"hash": "'
        + sign(SECRET, _A.encode()).encode()
        + b'"} ,\n  "data" : '
        + _A.encode()
        + b"\n}\n",
        json.loads(_A),
    ),
    "trailing newline": (signed(_A) + b"\r\n", json.loads(_A)),
    "much trailing whitespace": (signed(_A) + b" " * 4096, json.loads(_A)),
    "whitespace before the closing brace": (signed(_A)[:-1] + b"  \n }", json.loads(_A)),
    "signed data spliced with a second member after it": (
        signed(_A)[:-1] + b',"data":' + _B.encode() + b"}",
        SIGNATURE,
    ),
    "signed text of two members": (
        b'{"credentials":{"hash":"'
        + sign(SECRET, (_A + ',"data":' + _B).encode()).encode()
        + b'"},"data":'
        + _A.encode()
        + b',"data":'
        + _B.encode()
        + b"}",
        SIGNATURE,
    ),
    "integer beyond 64 bits": (signed("[18446744073709551616]"), [18446744073709551616]),
    "integer at 64 bits": (signed("[18446744073709551615]"), [18446744073709551615]),
    "negative zero": (signed("[-0,-0.0,0.0]"), [0, -0.0, 0.0]),
    "overflowing float": (signed('{"total":1e400}'), "QvicklyDecodeError"),
    "lone surrogate": (signed('["\\ud800"]'), ["\ud800"]),
    "invalid UTF-8 in data": (signed(b'["\xed\xa0\x80"]'), "QvicklyDecodeError"),
    "NaN": (signed("[NaN]"), "QvicklyDecodeError"),
    "wrong hash": (signed(_A).replace(b'"100"', b'"101"'), SIGNATURE),
    "hash of the re-encoding": (
        b'{"credentials":{"hash":"'
        + sign(SECRET, b'{"url":"a\\/b"}').encode()
        + b'"},"data":{"url":"a/b"}}',
        {"url": "a/b"},
    ),
    "no hash": (b'{"credentials":{},"data":' + _A.encode() + b"}", SIGNATURE),
    "hash not a string": (b'{"credentials":{"hash":1},"data":' + _A.encode() + b"}", SIGNATURE),
    "signed error object": (
        signed('{"code":"7020","message":"Invalid customer number","logid":"9"}'),
        "QvicklyAPIError",
    ),
    "bare error": (b'{"code":"5101","message":"Invalid payment"}', "QvicklyAPIError"),
    "bare error with data": (
        b'{"code":"5101","message":"x","data":' + _A.encode() + b"}",
        SIGNATURE,
    ),
    "byte order mark": (b"\xef\xbb\xbf" + signed(_A), "QvicklyDecodeError"),
    "empty": (b"", "QvicklyDecodeError"),
    "array": (b"[" + signed(_A) + b"]", "QvicklyDecodeError"),
    "nested 300 deep": (signed("[" * 300 + "]" * 300), "list"),
    "nested 200 deep, 300 containers": (
        signed("[" + "[]," * 100 + "[" * 200 + "]" * 200 + "]"),
        "list",
    ),
    # The standard library's decoder gives up near the recursion limit on 3.11 and decodes
    # these on 3.12+ (its C recursion limit): either way both paths must agree.
    "nested 990 deep": (signed("[" * 990 + "]" * 990), _DEEP),
    "nested 1100 deep": (signed("[" * 1100 + "]" * 1100), _DEEP),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_bodies_get_the_careful_paths_answer(name: str) -> None:
    body, expected = HOSTILE[name]
    result = assert_same_outcome(body)
    if result[0] == "raised":
        assert isinstance(expected, str), result
        assert expected in [cls.__name__ for cls in result[1].__mro__], result
    elif isinstance(expected, str):
        assert result[1][0][0] == "array" and expected == "list", result
    else:
        assert result == ("returned", typed(expected))


def test_a_terms_page_is_text_as_before() -> None:
    page = b"<html><body>Villkor</body></html>"
    assert assert_same_outcome(page, "getTerms") == ("returned", (("str", page.decode()),))


# -- the fast path serves what Qvickly sends --------------------------------------------------


def _sandbox_bodies(shape: str) -> list[bytes]:
    dataset = DemoDataset(seed=DEFAULT_SEED, size=80)
    return [
        signed(php_json_encode([customer_row(record, shape) for record in dataset.records(nr)]))
        for nr in range(10000, 10060)
    ]


@pytest.mark.parametrize("shape", ["flat", "nested", "mixed"])
def test_realistic_answers_take_the_fast_path(shape: str) -> None:
    """Every sandbox answer (large ones too) is decoded by the fast path, to the same value."""
    bodies = _sandbox_bodies(shape)
    assert max(map(len, bodies)) > 100_000  # some are above the nesting shortcut
    for body in bodies:
        fast = _fast_verified(body, SECRET)
        assert fast is not _response._UNSURE
        assert typed(fast) == outcome(_careful_verified_data, body)[1]


def test_the_probe_found_orjsons_nesting_limit() -> None:
    """Large answers need the limit (else they take the careful path: correct, but slow)."""
    assert _response._ORJSON_DEPTH == 1024


# -- orjson's side of the contract ------------------------------------------------------------


@_SETTINGS
@given(JSON_TEXTS, st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=3))
def test_orjson_accepts_only_what_the_strict_decoder_accepts_alike(
    text: str, changes: list[tuple[int, int]]
) -> None:
    raw = bytearray(text.encode("utf-8", "surrogatepass"))
    for index, byte in changes:
        if raw:
            raw[index % len(raw)] = byte
    try:
        fast = orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:
        return
    if b"0" * 19 in bytes(raw).translate(bytes.maketrans(b"123456789", b"0" * 9)):
        return  # integers beyond 64 bits become floats: the fast path refuses such bodies
    # The careful path's decoder: it raises if it refuses what orjson took.
    careful = _response._DECODER.decode(bytes(raw).decode("utf-8"))
    assert typed(fast) == typed(careful)
