"""What the command says about an error, and the exit status it leads to: one mapping.

:func:`explain` is the only place that turns a :class:`~qvickly_async.exceptions.QvicklyError`
into words. ``qvickly ping`` prints its :attr:`~Explanation.text`, a batch prints one
:attr:`~Explanation.detail` line per failed customer and stops at once on an error that
concerns every call (:attr:`~Explanation.every_call`) or on a run of connection failures
(:attr:`~Explanation.unreachable`). Every text is :func:`~._printable.printable`: the server's
words cannot drive the terminal.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import attrs

from ..exceptions import (
    QvicklyAccountFeatureError,
    QvicklyAPIError,
    QvicklyAuthenticationError,
    QvicklyConnectionError,
    QvicklyError,
    QvicklyHTTPStatusError,
    QvicklyResponseError,
    QvicklySignatureError,
    QvicklyTimeoutError,
    QvicklyTransportError,
)
from ._printable import printable
from ._settings import EXIT_FAILED, EXIT_USAGE

__all__ = ["Explanation", "describe", "explain"]


@attrs.frozen
class Explanation:
    """What the command tells the user about one error.

    Attributes:
        text: A sentence in words that names the endpoint, for example ``authentication
            refused by https://api.qvickly.io/: Qvickly error 9013: ...``.
        detail: The error class, API code, message, logid and notes on one line, for a
            per-customer failure line: ``QvicklyNotFoundError 5201: ... (logid 17)``.
        exit_status: :data:`EXIT_USAGE` for errors of the settings (credentials refused,
            an account without the function), else :data:`EXIT_FAILED`.
        every_call: Every other call with these settings would fail the same way: a batch
            stops at the first one instead of reporting it for every customer.
        unreachable: The exchange with the endpoint did not complete (refused, reset, timed
            out): a batch counts these in a row to notice that the endpoint is down.
    """

    text: str
    detail: str
    exit_status: int
    every_call: bool = False
    unreachable: bool = False


def _one_line(text: str) -> str:
    return printable(" ".join(text.split()))


def describe(error: QvicklyError) -> str:
    """One line naming the error class, the API code if any, the message and notes.

    For example ``QvicklyNotFoundError 5201: Customer not found (logid 17)``.
    """
    if isinstance(error, QvicklyAPIError):
        text = f"{type(error).__name__} {error.code}: {error.api_message}"
        if error.logid:
            text += f" (logid {error.logid})"
    else:
        text = f"{type(error).__name__}: {error}"
    notes = getattr(error, "__notes__", None) or []
    if notes:
        text += " [" + "; ".join(str(note) for note in notes) + "]"
    return _one_line(text)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _words(error: QvicklyError, where: str) -> tuple[str, int, bool]:
    """Return the sentence, the exit status and whether every call would fail alike."""
    if isinstance(error, QvicklyAuthenticationError):
        return (
            f"authentication refused by {where}: Qvickly error {error.code}: "
            f"{error.api_message}. Check the merchant id and secret (and --test-mode).",
            EXIT_USAGE,
            True,
        )
    if isinstance(error, QvicklyAccountFeatureError):
        return (
            f"the account cannot use this function: Qvickly error {error.code}: "
            f"{error.api_message}",
            EXIT_USAGE,
            True,
        )
    if isinstance(error, QvicklyAPIError):
        return (
            f"{where} answered with Qvickly error {error.code}: {error.api_message}",
            EXIT_FAILED,
            False,
        )
    if isinstance(error, QvicklyTimeoutError):
        return (f"timed out waiting for {where}: {error}", EXIT_FAILED, False)
    if isinstance(error, QvicklyConnectionError):
        if any(isinstance(item, ssl.SSLError) for item in _chain(error)) or "SSL" in str(error):
            return (
                f"TLS failed with {where} (certificate or protocol problem): {error}",
                EXIT_FAILED,
                False,
            )
        return (f"network: cannot reach {where}: {error}", EXIT_FAILED, False)
    if isinstance(error, QvicklyHTTPStatusError):
        return (
            f"{where} answered HTTP {error.status_code}: not the Payment API? {error}",
            EXIT_FAILED,
            False,
        )
    if isinstance(error, QvicklySignatureError):
        return (
            f"the answer from {where} is not signed with this secret (wrong secret or "
            f"endpoint?): {error}",
            EXIT_FAILED,
            False,
        )
    if isinstance(error, QvicklyResponseError):
        return (f"unexpected answer from {where}: {error}", EXIT_FAILED, False)
    return (f"{type(error).__name__}: {error}", EXIT_FAILED, False)


def explain(error: QvicklyError, where: str) -> Explanation:
    """Map ``error`` (met talking to ``where``, a URL or "the in-process sandbox") to words.

    The one renderer of errors in the command: ``ping``'s ``FAILED:`` line, a batch's
    per-customer lines and its stop message all come from here.
    """
    text, status, every_call = _words(error, where)
    return Explanation(
        text=_one_line(text),
        detail=describe(error),
        exit_status=status,
        every_call=every_call,
        unreachable=isinstance(error, QvicklyTransportError),
    )
