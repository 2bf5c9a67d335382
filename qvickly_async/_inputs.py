"""Checks of what callers pass to the public coroutines, before anything is encoded. No I/O."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._logging import mask_customer_number
from .exceptions import QvicklyInputError

__all__ = [
    "check_batch_arguments",
    "check_customer_number",
    "check_customer_numbers",
    "check_function",
    "distinct",
    "iterable_of_numbers",
]

_MAX_TEXT_LENGTH = 255


def check_customer_number(customer_number: object) -> str:
    """Return ``customer_number`` if the API can match it exactly, else raise.

    Raises:
        QvicklyInputError: not a ``str``, blank, with surrounding whitespace, or too long.
    """
    if not isinstance(customer_number, str):
        raise QvicklyInputError(
            f"customer_number must be a str, not {type(customer_number).__name__} "
            "(customer numbers can have leading zeros; pass them as text)"
        )
    if not customer_number.strip():
        raise QvicklyInputError("customer_number must not be empty or blank")
    if customer_number != customer_number.strip():
        raise QvicklyInputError(
            "customer_number has leading or trailing whitespace; the API matches exactly"
        )
    if len(customer_number) > _MAX_TEXT_LENGTH:
        raise QvicklyInputError(
            f"customer_number is {len(customer_number)} characters; the API takes at most 255"
        )
    return customer_number


def check_customer_numbers(numbers: Iterable[object]) -> None:
    """Check every number, then raise one error naming (masked) up to five bad ones."""
    problems = []
    for number in numbers:
        try:
            check_customer_number(number)
        except QvicklyInputError as error:
            # Masked like in logs: a customer number may be a personal number.
            problems.append(f"{mask_customer_number(str(number))!r}: {error}")
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise QvicklyInputError(f"invalid customer numbers, nothing was sent: {shown}{more}")


def check_function(function: object) -> str:
    """Return ``function`` if it looks like a Payment API function name, else raise."""
    if not isinstance(function, str) or not function.isascii() or not function.isidentifier():
        raise QvicklyInputError(f"function must be a Payment API function name, got {function!r}")
    return function


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


def check_batch_arguments(
    *,
    fail_fast: object,
    on_progress: object,
    retry_budget: object,
    total: object,
    deduplicate: object = True,
) -> None:
    """Check a batch's keyword arguments before any lookup starts.

    Raises:
        QvicklyInputError: naming the argument (``fail_fast="false"`` is not a boolean).
    """
    from ._options import NOT_GIVEN
    from ._retry import RetryBudget

    for name, flag in (("fail_fast", fail_fast), ("deduplicate", deduplicate)):
        if not isinstance(flag, bool):
            raise QvicklyInputError(f"{name} must be True or False, not {flag!r}")
    if on_progress is not None and not callable(on_progress):
        raise QvicklyInputError(
            f"on_progress must be a callable or None, not {type(on_progress).__name__}"
        )
    if retry_budget not in (None, NOT_GIVEN) and not isinstance(retry_budget, RetryBudget):
        raise QvicklyInputError(
            f"retry_budget must be a RetryBudget or None, not {type(retry_budget).__name__}"
        )
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise QvicklyInputError(f"total must be an int >= 0 or None, got {total!r}")
