"""Old public names kept for one release: reading one warns and returns what replaced it."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from typing import Any

__all__ = ["DeprecatedName", "resolve_deprecated"]


class DeprecatedName:
    """An old name: where its replacement lives (``"module:attribute"``) and what to say."""

    __slots__ = ("advice", "target")

    def __init__(self, target: str, advice: str) -> None:
        self.target = target
        self.advice = advice


def resolve_deprecated(module: str, name: str, names: Mapping[str, DeprecatedName]) -> Any:
    """Return the replacement of ``module.name``, warning with :class:`DeprecationWarning`.

    For a module's ``__getattr__``; raises :class:`AttributeError` for any other name.
    """
    entry = names.get(name)
    if entry is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(
        f"{module}.{name} is deprecated and will be removed in the next release: {entry.advice}",
        DeprecationWarning,
        stacklevel=3,
    )
    target_module, _, attribute = entry.target.partition(":")
    return getattr(importlib.import_module(target_module), attribute)
