"""Checks of collection arguments, before anything is sent. No I/O."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._logging import mask_customer_number
from .exceptions import QvicklyInputError

__all__ = ["distinct", "iterable_of_numbers"]


def iterable_of_numbers(value: object, *, argument: str = "customer_numbers") -> Iterable[Any]:
    """Return ``value`` if it can be an iterable of customer numbers, else raise.

    A single ``str`` is iterable too, but ``"10001"`` would be looked up as "1", "0", "0",
    "0", "1": it is refused, as are ``bytes`` and anything that is not iterable.

    Raises:
        QvicklyInputError: naming the argument (a number in the message is masked).
    """
    if isinstance(value, str):
        raise QvicklyInputError(
            f"{argument} must be an iterable of customer numbers, not one str "
            f"({mask_customer_number(value)!r}); pass [number] for a single customer"
        )
    if isinstance(value, bytes | bytearray | memoryview) or not isinstance(value, Iterable):
        raise QvicklyInputError(
            f"{argument} must be an iterable of str customer numbers, not {type(value).__name__}"
        )
    return value


def distinct(items: Iterable[Any]) -> list[Any]:
    """Return the items in first-seen order without duplicates; unhashable ones all stay."""
    seen: dict[Any, None] = {}
    result: list[Any] = []
    for item in items:
        try:
            if item in seen:
                continue
            seen[item] = None
        except TypeError:  # unhashable (a list inside the list): the checks will name it
            pass
        result.append(item)
    return result
