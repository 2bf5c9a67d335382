"""The error catalogue's rows, computed from the SDK itself (no Sphinx needed).

Used by the ``qvickly-error-codes`` / ``qvickly-error-classes`` directives of
``qvickly_docs`` and by ``tests/test_docs.py``.
"""

from __future__ import annotations

import inspect
from typing import Final

from qvickly_async import exceptions
from qvickly_async._error_codes import ERROR_CODES, ErrorCategory, ErrorCode, exception_class_for
from qvickly_async._retry import is_retryable

__all__ = ["catalogue_rows", "class_rows"]

_CLIENT_SIDE_NOTE: Final = "client-side code of Qvickly's own libraries; never sent by the API"


def _exception_path(cls: type[BaseException]) -> str:
    """The documented path of an exception class (``qvickly_async.exceptions.Name``)."""
    return f"{exceptions.__name__}.{cls.__name__}"


def _retried_for_reads(code: int) -> bool:
    """Whether the client retries a read-only call that got ``code`` (asks the SDK itself)."""
    cls = exception_class_for(code)
    return is_retryable(cls("catalogue", code=code, function="getPaymentinfo"), read_only=True)


def catalogue_rows() -> list[tuple[int, str, str, bool, str]]:
    """Rows of the code table: code, message, exception path, retried for reads, note."""
    rows = []
    for code, entry in sorted(ERROR_CODES.items()):
        note = _CLIENT_SIDE_NOTE if entry.category is ErrorCategory.CLIENT else ""
        rows.append(
            (
                code,
                entry.message,
                _exception_path(exception_class_for(code)),
                _retried_for_reads(code),
                note,
            )
        )
    return rows


def class_rows() -> list[tuple[str, str, int, str]]:
    """Rows of the class table: exception path, its summary, number of codes, examples."""
    by_class: dict[type[BaseException], list[ErrorCode]] = {}
    for entry in ERROR_CODES.values():
        by_class.setdefault(exception_class_for(entry.code), []).append(entry)
    rows = []
    for cls, entries in sorted(by_class.items(), key=lambda item: item[0].__name__):
        summary = (inspect.getdoc(cls) or "").split("\n\n")[0].replace("\n", " ")
        examples = ", ".join(str(entry.code) for entry in sorted(entries, key=_by_code)[:6])
        rows.append((_exception_path(cls), summary, len(entries), examples))
    return rows


def _by_code(entry: ErrorCode) -> int:
    return entry.code
