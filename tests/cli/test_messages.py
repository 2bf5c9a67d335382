"""One mapping from an error to what the command says and the exit status it leads to."""

from __future__ import annotations

import ssl

import pytest
from click.testing import CliRunner

from qvickly_async._cli import _sandbox, cli
from qvickly_async._cli._messages import explain
from qvickly_async.exceptions import (
    QvicklyAccountFeatureError,
    QvicklyAuthenticationError,
    QvicklyConnectionError,
    QvicklyDeadlineExceededError,
    QvicklyDecodeError,
    QvicklyError,
    QvicklyNotFoundError,
    QvicklyServerError,
    QvicklySignatureError,
    QvicklyTimeoutError,
)
from qvickly_async.sandbox import FunctionCall, FunctionError, Sandbox

WHERE = "https://api.example/"


def _tls_error() -> QvicklyConnectionError:
    error = QvicklyConnectionError("handshake failed", request_sent=False)
    error.__cause__ = ssl.SSLError("CERTIFICATE_VERIFY_FAILED")
    return error


@pytest.mark.parametrize(
    ("error", "start", "status", "every_call", "unreachable"),
    [
        (
            QvicklyAuthenticationError("Invalid credentials", code=9013),
            f"authentication refused by {WHERE}: Qvickly error 9013: Invalid credentials. Check",
            2, True, False,
        ),
        (
            QvicklyAccountFeatureError("No invoice service", code=5001),
            "the account cannot use this function: Qvickly error 5001: No invoice service",
            2, True, False,
        ),
        (
            QvicklyNotFoundError("Not found", code=5201, logid="17"),
            f"{WHERE} answered with Qvickly error 5201: Not found",
            1, False, False,
        ),
        (
            QvicklyTimeoutError("read timed out", request_sent=True),
            f"timed out waiting for {WHERE}: read timed out", 1, False, True,
        ),
        (
            QvicklyDeadlineExceededError("deadline", request_sent=True),
            f"timed out waiting for {WHERE}", 1, False, True,
        ),
        (
            QvicklyConnectionError("refused", request_sent=False),
            f"network: cannot reach {WHERE}: refused", 1, False, True,
        ),
        (_tls_error(), f"TLS failed with {WHERE}", 1, False, True),
        (
            QvicklyServerError("HTTP 503", status_code=503),
            f"{WHERE} answered HTTP 503: not the Payment API?", 1, False, False,
        ),
        (
            QvicklySignatureError("hash mismatch"),
            f"the answer from {WHERE} is not signed with this secret", 1, False, False,
        ),
        (QvicklyDecodeError("not JSON"), f"unexpected answer from {WHERE}", 1, False, False),
    ],
)  # fmt: skip
def test_every_error_kind_maps_to_one_text_and_status(
    error: QvicklyError, start: str, status: int, every_call: bool, unreachable: bool
) -> None:
    explanation = explain(error, WHERE)
    assert explanation.text.startswith(start), explanation.text
    assert explanation.exit_status == status
    assert explanation.every_call is every_call
    assert explanation.unreachable is unreachable
    assert explanation.detail.startswith(type(error).__name__)


def test_detail_names_the_class_code_logid_and_notes_on_one_line() -> None:
    error = QvicklyNotFoundError("Invoice\ndoes   not exist", code=5201, logid="17")
    error.add_note("gave up after 3 attempts")
    detail = explain(error, WHERE).detail
    assert detail == (
        "QvicklyNotFoundError 5201: Invoice does not exist (logid 17) [gave up after 3 attempts]"
    )


def test_ping_and_a_batch_say_the_same_about_an_account_without_the_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = Sandbox()

    def refuse(call: FunctionCall) -> object:
        raise FunctionError(5001)

    box.register_function("getAccountinfo", refuse)
    box.register_function("getInvoicesByCustomer", refuse)
    monkeypatch.setattr(_sandbox, "make_sandbox", lambda options: box)
    runner = CliRunner()

    ping = runner.invoke(cli, ["ping", "--sandbox"])
    batch = runner.invoke(cli, ["invoices", "--sandbox", "-f", "jsonl", "10001", "10002"])

    # A configuration error of the account: exit 2 for both (ping said 1 before).
    assert ping.exit_code == 2, ping.output
    assert batch.exit_code == 2, batch.output
    sentence = "the account cannot use this function: Qvickly error 5001: "
    assert ping.stderr.startswith("FAILED: " + sentence)
    assert batch.stderr.startswith("Error: " + sentence)
    assert ping.stderr.removeprefix("FAILED: ") == batch.stderr.removeprefix("Error: ")
    assert "customer 1000" not in batch.stderr
