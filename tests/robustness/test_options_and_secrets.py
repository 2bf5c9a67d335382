"""Issue 11, items 5 and 8: options validated at construction; the secret in failures.

Every bad option is a :class:`QvicklyInputError` naming it, raised before anything is sent;
flags are real booleans. When construction fails, no frame of the traceback holds the raw key
and rendering the traceback with its locals neither raises nor shows the key; the options
cannot be pickled with the key inside.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from qvickly_async import AsyncQvickly, QvicklyInputError, RetryBudget
from qvickly_async.sandbox import Sandbox

RAW_SECRET = "raw-secret-0123456789"
pytestmark = pytest.mark.anyio


def counting_transport() -> tuple[httpx.MockTransport, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    return httpx.MockTransport(handler), sent


BAD_OPTIONS: list[tuple[str, Any]] = [
    ("timeout", -1),
    ("timeout", "5"),
    ("timeout", float("nan")),
    ("timeout", httpx.Timeout(5.0, connect=-1)),
    ("max_response_bytes", float("nan")),
    ("max_response_bytes", "x"),
    ("max_response_bytes", 0),
    ("max_response_bytes", True),
    ("base_url", 123),
    ("limits", "many"),
    ("limits", httpx.Limits(max_connections=0)),
    ("on_retry", "print"),
    ("allow_insecure_http", "false"),
    ("test_mode", "false"),
    ("test_mode", 1),
    ("deadline", True),
    ("language", 12),
]


@pytest.mark.parametrize(("name", "value"), BAD_OPTIONS, ids=lambda v: repr(v)[:30])
async def test_a_bad_option_is_an_input_error_naming_it_before_anything_is_sent(
    name: str, value: Any
) -> None:
    transport, sent = counting_transport()
    with pytest.raises(QvicklyInputError, match=name):
        AsyncQvickly(merchant_id="1", secret="k", transport=transport, **{name: value})
    assert sent == []


@pytest.mark.parametrize(
    ("name", "value"), [("http_client", "client"), ("transport", object())], ids=repr
)
def test_a_bad_connection_object_is_an_input_error_naming_it(name: str, value: Any) -> None:
    with pytest.raises(QvicklyInputError, match=name):
        AsyncQvickly(merchant_id="1", secret="k", **{name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("test_mode", "false"),
        ("timeout", -1),
        ("on_retry", 5),
        ("max_retries", "2"),
    ],
    ids=repr,
)
def test_with_options_validates_like_the_constructor(name: str, value: Any) -> None:
    client = AsyncQvickly.for_sandbox()
    with pytest.raises(QvicklyInputError, match=name):
        client.with_options(**{name: value})


@pytest.mark.parametrize(
    "make",
    [
        lambda: AsyncQvickly.for_sandbox().with_options(max_retrys=1),  # type: ignore[call-arg]
        lambda: AsyncQvickly.for_sandbox(deadlien=5),  # type: ignore[call-arg]
        lambda: AsyncQvickly.from_env(merchant_id="1", secret="k", tset_mode=True),  # type: ignore[call-arg]
    ],
    ids=["with_options", "for_sandbox", "from_env"],
)
def test_a_misspelt_option_is_a_clear_input_error(make: Callable[[], object]) -> None:
    with pytest.raises(QvicklyInputError, match="unknown option"):
        make()


@pytest.mark.parametrize(
    "method", [AsyncQvickly.with_options, AsyncQvickly.from_env, AsyncQvickly.for_sandbox]
)
def test_option_keywords_are_typed_so_a_typo_is_a_type_error(method: Callable[..., Any]) -> None:
    """``**kwargs: Any`` accepted any name; ``Unpack[TypedDict]`` lets mypy name the typo."""
    (variadic,) = [
        parameter
        for parameter in inspect.signature(method).parameters.values()
        if parameter.kind is inspect.Parameter.VAR_KEYWORD
    ]
    assert "Unpack[" in str(variadic.annotation)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("fail_fast", "false"),
        ("on_progress", "print"),
        ("retry_budget", 10),
        ("rate_limit", float("inf")),
        ("concurrency", 0),
    ],
    ids=repr,
)
async def test_batch_arguments_are_checked_before_anything_is_sent(name: str, value: Any) -> None:
    transport, sent = counting_transport()
    async with AsyncQvickly(merchant_id="1", secret="k", transport=transport) as client:
        with pytest.raises(QvicklyInputError, match=name):
            # Bounded: an infinite rate limit used to be accepted and then hang.
            await asyncio.wait_for(client.get_invoices_by_customers(["10001"], **{name: value}), 10)
    assert sent == []


async def test_a_real_retry_budget_is_still_accepted() -> None:
    async with AsyncQvickly.for_sandbox() as client:
        results = await client.get_invoices_by_customers(
            ["10001"], retry_budget=RetryBudget(), fail_fast=False
        )
    assert results[0].ok


# -- item 8: secrets --------------------------------------------------------------------------


def holds_secret(value: object, depth: int = 0) -> bool:
    """Whether ``value`` is, or shallowly contains, the raw secret (as text or bytes)."""
    if isinstance(value, str | bytes):
        needle: str | bytes = RAW_SECRET if isinstance(value, str) else RAW_SECRET.encode()
        return needle in value  # type: ignore[operator]
    if depth >= 3:
        return False
    if isinstance(value, dict):
        return any(holds_secret(item, depth + 1) for item in (*value.keys(), *value.values()))
    if isinstance(value, list | tuple | set):
        return any(holds_secret(item, depth + 1) for item in value)
    return False


FAILING_CONSTRUCTIONS: list[tuple[str, Callable[[], object]]] = [
    (
        "constructor",
        lambda: AsyncQvickly(merchant_id="1", secret=RAW_SECRET, base_url="http://example.com/"),
    ),
    ("constructor-timeout", lambda: AsyncQvickly(merchant_id="1", secret=RAW_SECRET, timeout=-1)),
    ("from_env", lambda: AsyncQvickly.from_env(merchant_id="1", base_url="ftp://x/")),
    (
        "with_options",
        lambda: AsyncQvickly.for_sandbox().with_options(secret=RAW_SECRET, language="swedish"),
    ),
]


@pytest.mark.parametrize(
    "construct",
    [make for _, make in FAILING_CONSTRUCTIONS],
    ids=[n for n, _ in FAILING_CONSTRUCTIONS],
)
def test_no_frame_holds_the_raw_key_when_construction_fails(
    monkeypatch: pytest.MonkeyPatch, construct: Callable[[], object]
) -> None:
    monkeypatch.setenv("QVICKLY_SECRET", RAW_SECRET)
    with pytest.raises(QvicklyInputError) as caught:
        construct()
    tb = caught.value.__traceback__
    frames = 0
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename != __file__:  # the test's own lambda holds it, of course
            frames += 1
            leaking = [name for name, value in frame.f_locals.items() if holds_secret(value)]
            assert leaking == [], f"{frame.f_code.co_name} holds the key in {leaking}"
        tb = tb.tb_next
    assert frames >= 1
    rendered = "".join(
        traceback.TracebackException.from_exception(caught.value, capture_locals=True).format()
    )
    assert RAW_SECRET not in rendered
    assert "QvicklyInputError" in rendered


def test_repr_of_a_half_built_client_never_raises() -> None:
    half_built = object.__new__(AsyncQvickly)
    assert "AsyncQvickly" in repr(half_built)


@pytest.mark.parametrize("where", ["argument", "environment"])
def test_an_unencodable_secret_is_a_typed_error_without_the_secret(
    monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    secret = "caf\udce9-" + RAW_SECRET  # what os.environ holds for invalid UTF-8 bytes
    monkeypatch.setenv("QVICKLY_MERCHANT_ID", "1")
    monkeypatch.setenv("QVICKLY_SECRET", secret)
    construct: Callable[[], object] = (
        (lambda: AsyncQvickly(merchant_id="1", secret=secret))
        if where == "argument"
        else AsyncQvickly.from_env
    )
    with pytest.raises(QvicklyInputError) as caught:
        construct()
    error: BaseException | None = caught.value
    while error is not None:  # neither the error nor anything it chains to holds the key
        assert RAW_SECRET not in str(error)
        assert not any(holds_secret(arg) for arg in error.args)
        error = error.__cause__ or error.__context__


def test_options_refuse_pickling_with_a_clear_error() -> None:
    client = AsyncQvickly(merchant_id="1", secret=RAW_SECRET)
    with pytest.raises(TypeError, match="cannot be pickled") as caught:
        pickle.dumps(client.options)
    assert RAW_SECRET not in str(caught.value)
    # Copying in memory stays possible (nothing is written anywhere).
    assert copy.deepcopy(client.options) == client.options


def test_the_sandbox_secret_of_a_for_sandbox_client_is_wrapped_too() -> None:
    sandbox = Sandbox()
    client = AsyncQvickly.for_sandbox(sandbox)
    assert sandbox.secret not in repr(client.options)
