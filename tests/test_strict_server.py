"""The SDK's requests verify on a server that re-hashes them the PHP way, strictly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvickly_async import AsyncQvickly, QvicklyInputError
from qvickly_async._signing import php_json_encode
from qvickly_async.sandbox import FunctionCall, Sandbox

pytestmark = pytest.mark.anyio

_latin1 = st.text(
    alphabet=st.characters(
        min_codepoint=1, max_codepoint=0xFF, categories=("L", "N", "P", "S", "Z", "Cc")
    ),
    max_size=10,
)
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    _latin1,
    st.sampled_from(["https://x.se/a/b", "åäö ÅÄÖ é", "\x7f", "\x00\x1f\n\t", '"\\/', "-0"]),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(_latin1, inner, max_size=3),
        st.lists(inner, max_size=3).map(lambda items: {str(i): v for i, v in enumerate(items)}),
        st.just({}),
    ),
    max_leaves=10,
)


def _echo(call: FunctionCall) -> Any:
    return {"seen": call.data}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(_latin1.filter(bool), _values, min_size=1, max_size=4))
async def test_a_strict_php_style_server_accepts_every_signed_request(data: dict[str, Any]) -> None:
    sandbox = Sandbox(strict=True)
    sandbox.register_function("getEcho", _echo)
    async with AsyncQvickly.for_sandbox(sandbox, max_retries=0) as client:
        answer = await client.call("getEcho", data)
    # The server saw exactly what PHP decodes from the bytes the SDK hashed and sent.
    assert answer == {"seen": json.loads(php_json_encode(data))}
    assert sandbox.counters.calls("getEcho", outcome="ok") == 1


async def test_text_outside_latin1_never_reaches_the_server() -> None:
    sandbox = Sandbox(strict=True)
    sandbox.register_function("getEcho", _echo)
    async with AsyncQvickly.for_sandbox(sandbox) as client:
        with pytest.raises(QvicklyInputError, match="U\\+20AC"):
            await client.call("getEcho", {"title": "10 €"})
    assert sandbox.counters.total() == 0
