"""Checks of what callers pass to the public coroutines, before anything is encoded. No I/O."""

from __future__ import annotations

from collections.abc import Iterable

from ._logging import mask_customer_number
from .exceptions import QvicklyInputError

__all__ = ["check_customer_number", "check_customer_numbers", "check_function"]

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
