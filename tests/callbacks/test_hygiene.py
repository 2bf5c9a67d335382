"""The secret stays out of every rendering of the callback path, tracebacks with locals too."""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable

import pytest

from qvickly_async import QvicklyError, QvicklyInputError
from qvickly_async.callbacks import Callback, CallbackProcessor, parse_callback, parse_redirect
from qvickly_async.sandbox import callback_body, callback_data, redirect_params

pytestmark = pytest.mark.anyio

SECRET = "hygiene-7f3a9c1e5b"
FORMS = (SECRET, SECRET.encode().hex())


def rendered_with_locals(error: BaseException) -> str:
    trace = traceback.TracebackException.from_exception(error, capture_locals=True)
    return "".join(trace.format())


def assert_clean(text: str) -> None:
    for form in FORMS:
        assert form not in text


def test_parse_errors_hold_no_secret_even_with_locals() -> None:
    forged = callback_body(callback_data(1, "paid"), secret="attacker")
    attempts: list[Callable[[], object]] = [
        lambda: parse_callback(forged, secret=SECRET),
        lambda: parse_callback(b"{bad", secret=SECRET, content_type="application/json"),
        lambda: parse_callback(b"x" * 10, secret=SECRET, max_bytes=5),
        lambda: parse_redirect(redirect_params({"number": "1"}, secret=SECRET), secret=SECRET),
        lambda: parse_redirect({"data": "{}", "credentials": '{"hash":"00"}'}, secret=SECRET),
    ]
    for attempt in attempts:
        with pytest.raises(QvicklyError) as caught:
            attempt()
        assert_clean(rendered_with_locals(caught.value))
        assert_clean(repr(pickle.loads(pickle.dumps(caught.value))))  # noqa: S301


async def test_processor_outcomes_and_failures_hold_no_secret() -> None:
    async def handler(callback: Callback) -> None:
        raise RuntimeError("the shop failed")

    processor = CallbackProcessor(handler, secret=SECRET)
    assert_clean(repr(processor) + repr(vars(processor)))
    forged = await processor.process(callback_body(callback_data(1, "paid"), secret="x"))
    failed = await processor.process(callback_body(callback_data(1, "paid"), secret=SECRET))
    assert (forged.status_code, failed.status_code) == (403, 503)
    for outcome in (forged, failed):
        assert outcome.error is not None
        assert_clean(repr(outcome) + rendered_with_locals(outcome.error))
    with pytest.raises(QvicklyInputError) as caught:
        CallbackProcessor(handler, secret=SECRET, max_body_bytes=-1)
    assert_clean(rendered_with_locals(caught.value))
