"""Old public names kept for one release: reading one warns and returns what replaced it.

Every deprecated module attribute is listed here, so the next release removes them in one place.
A module serves its old names with ``__getattr__ = deprecated_names(__name__)``.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = ["DEPRECATED", "DeprecatedName", "deprecated_names", "resolve_deprecated"]


@attrs.frozen
class DeprecatedName:
    """An old name: where its replacement lives (``"module:attribute"``) and what to say."""

    target: str
    advice: str


_ACCOUNT_FEATURE = DeprecatedName(
    "qvickly_async.exceptions:QvicklyAccountFeatureError",
    "use QvicklyAccountFeatureError (the merchant account lacks a feature); a wrongly "
    "configured client raises QvicklyInputError",
)

#: module -> old attribute name -> its replacement.
DEPRECATED: Mapping[str, Mapping[str, DeprecatedName]] = {
    "qvickly_async": {"QvicklyConfigurationError": _ACCOUNT_FEATURE},
    "qvickly_async.exceptions": {"QvicklyConfigurationError": _ACCOUNT_FEATURE},
    "qvickly_async.sandbox": {
        "InvoiceShape": DeprecatedName(
            "qvickly_async.sandbox._config:RowShape",
            "use qvickly_async.sandbox.RowShape (the invoice_shape switch: flat, nested or "
            "mixed); qvickly_async.InvoiceShape is the shape one decoded Invoice came in",
        ),
        "build_parser": DeprecatedName(
            "qvickly_async.sandbox._cli:build_parser",
            "run `python -m qvickly_async.sandbox --help` or `qvickly sandbox serve --help`",
        ),
        "main": DeprecatedName(
            "qvickly_async.sandbox._cli:main",
            "run `python -m qvickly_async.sandbox` or `qvickly sandbox serve`, "
            "or call serve_forever(sandbox) from Python",
        ),
    },
}


def resolve_deprecated(module: str, name: str) -> Any:
    """Return the replacement of ``module.name``, warning with :class:`DeprecationWarning`.

    Raises :class:`AttributeError` for a name that is not a deprecated one.
    """
    entry = DEPRECATED.get(module, {}).get(name)
    if entry is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(
        f"{module}.{name} is deprecated and will be removed in the next release: {entry.advice}",
        DeprecationWarning,
        stacklevel=3,
    )
    target_module, _, attribute = entry.target.partition(":")
    return getattr(importlib.import_module(target_module), attribute)


def deprecated_names(module: str) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` that serves ``module``'s deprecated names."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - it becomes the module's __getattr__
        return resolve_deprecated(module, name)

    return __getattr__
