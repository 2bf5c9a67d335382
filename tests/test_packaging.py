from __future__ import annotations

import importlib
import inspect
from importlib import metadata

import pytest

import qvickly_async

PUBLIC_MODULES = [
    "qvickly_async",
    "qvickly_async.exceptions",
    "qvickly_async.models",
    "qvickly_async.testing",
    "qvickly_async.sandbox",
]


def test_version_comes_from_the_installed_metadata() -> None:
    assert qvickly_async.__version__ == metadata.version("qvickly-async")
    with pytest.raises(AttributeError):
        qvickly_async.does_not_exist  # noqa: B018


def _is_editable_install() -> bool:
    direct_url = metadata.distribution("qvickly-async").read_text("direct_url.json")
    return bool(direct_url) and '"editable": true' in (direct_url or "")


def test_distribution_ships_type_information_and_the_sandbox() -> None:
    if _is_editable_install():
        pytest.skip("editable install: nox -s tests checks the built wheel")
    files = {str(path) for path in metadata.files("qvickly-async") or []}
    assert "qvickly_async/py.typed" in files
    assert "qvickly_async/sandbox/__init__.py" in files


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_are_sorted_and_documented(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    # isort-style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    assert names == sorted(
        names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    assert module.__doc__
    for name in names:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{module_name}.{name} has no docstring"
