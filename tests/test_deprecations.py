"""Old public names still work for one release, and warn with DeprecationWarning."""

from __future__ import annotations

import importlib
import warnings

import pytest

import qvickly_async
import qvickly_async.exceptions
import qvickly_async.sandbox
from qvickly_async import AsyncQvickly, QvicklyAccountFeatureError
from qvickly_async.sandbox import FunctionCall, FunctionError, RowShape, Sandbox


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("qvickly_async", "QvicklyConfigurationError", QvicklyAccountFeatureError),
        ("qvickly_async.exceptions", "QvicklyConfigurationError", QvicklyAccountFeatureError),
        ("qvickly_async.sandbox", "InvoiceShape", RowShape),
        ("qvickly_async.sandbox", "build_parser", qvickly_async.sandbox._cli.build_parser),
        ("qvickly_async.sandbox", "main", qvickly_async.sandbox._cli.main),
    ],
)
def test_an_old_name_is_its_replacement_and_warns(module: str, old: str, new: object) -> None:
    package = importlib.import_module(module)
    assert old not in package.__all__
    assert old not in vars(package)  # so every read goes through the warning
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{old} is deprecated") as record:
        found = getattr(package, old)
    assert found is new
    assert record[0].filename == __file__  # the warning points at the code that used the name


def test_from_import_of_an_old_name_warns() -> None:
    with pytest.warns(DeprecationWarning, match="QvicklyAccountFeatureError"):
        from qvickly_async import QvicklyConfigurationError
    assert QvicklyConfigurationError is QvicklyAccountFeatureError


@pytest.mark.parametrize(
    "module", ["qvickly_async", "qvickly_async.exceptions", "qvickly_async.sandbox"]
)
def test_unknown_names_are_still_attribute_errors(module: str) -> None:
    package = importlib.import_module(module)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="no_such_name"):
            getattr(package, "no_such_name")


@pytest.mark.anyio
async def test_the_old_exception_name_still_catches_an_account_feature_code() -> None:
    sandbox = Sandbox()

    def not_activated(_: FunctionCall) -> object:
        raise FunctionError(5001)

    sandbox.register_function("addPayment", not_activated)
    with pytest.warns(DeprecationWarning, match="QvicklyConfigurationError is deprecated"):
        old = qvickly_async.QvicklyConfigurationError
    async with AsyncQvickly.for_sandbox(sandbox) as client:
        with pytest.raises(old) as caught:
            await client.call("addPayment", {"PaymentData": {"method": "1"}})
    assert type(caught.value) is QvicklyAccountFeatureError
    assert caught.value.code == 5001


def test_the_engine_property_is_deprecated() -> None:
    sandbox = Sandbox()
    with pytest.warns(DeprecationWarning, match="Sandbox.engine is deprecated"):
        engine = sandbox.engine
    assert engine.settings == sandbox.settings
