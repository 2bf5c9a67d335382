"""Whatever arrives, parsing raises a typed QvicklyError or returns a verified Callback."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvickly_async import QvicklyError
from qvickly_async.callbacks import parse_callback, parse_redirect
from qvickly_async.sandbox import callback_body, callback_data, redirect_form, redirect_params

SECRET = "fuzz-secret"
VALID = callback_body(callback_data("1", "paid", note="å/\x7f"), secret=SECRET)
FORM = redirect_form(callback_data("1", "paid"), secret=SECRET)
CONTENT_TYPES = st.sampled_from(
    [None, "application/json", "application/x-www-form-urlencoded", "text/plain", "x/y"]
)


def mutated(base: bytes) -> st.SearchStrategy[bytes]:
    def apply(edits: list[tuple[int, int]]) -> bytes:
        data = bytearray(base)
        for position, value in edits:
            data[position % len(data)] = value
        return bytes(data)

    edit = st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255))
    return st.lists(edit, min_size=1, max_size=4).map(apply)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    body=st.one_of(st.binary(max_size=300), mutated(VALID), mutated(FORM)),
    content_type=CONTENT_TYPES,
)
def test_any_body_gives_a_callback_or_a_typed_error(body: bytes, content_type: str | None) -> None:
    message = ""
    try:
        callback = parse_callback(body, secret=SECRET, content_type=content_type)
    except QvicklyError as error:
        message = str(error)
    else:  # it verified: a byte change that keeps the meaning (a hash digit's case)
        assert callback.number and callback.status
    assert SECRET not in message


@settings(max_examples=200, deadline=None)
@given(
    params=st.one_of(
        st.dictionaries(st.sampled_from(["data", "credentials", "x"]), st.text(max_size=80)),
        st.builds(
            lambda field, text: {
                **redirect_params({"number": "1", "status": "x"}, secret=SECRET),
                field: text,
            },
            st.sampled_from(["data", "credentials"]),
            st.text(max_size=200),
        ),
    )
)
def test_any_redirect_gives_a_callback_or_a_typed_error(params: dict[str, str]) -> None:
    message = ""
    try:
        parse_redirect(params, secret=SECRET)
    except QvicklyError as error:
        message = str(error)
    assert SECRET not in message
