"""Text from the server reaches a terminal inert: control characters are shown, not obeyed.

Data files keep the text exactly as sent (JSON escapes what a terminal would obey).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from qvickly_async._cli import _sandbox, cli
from qvickly_async._cli._printable import json_safe, printable
from qvickly_async.sandbox import FunctionCall, FunctionError, Sandbox

# Set the window title, clear the screen, an 8-bit CSI, a bidi override and a carriage
# return that would let the rest of the line overwrite the start.
HOSTILE = "Eve\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil\rAnna"
UNSAFE = ("\x1b", "\x07", "\x9b", "\u202e", "\r")


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The in-process sandbox behind --sandbox, with a customer whose name is hostile."""
    box = Sandbox()
    rows = [dict(row) for row in box.expected_invoices("10001")]
    for row in rows:
        row["name"] = HOSTILE

    def answer(call: FunctionCall) -> object:
        if call.data["customerno"] == "10666":
            raise FunctionError(5201, f"no such customer {HOSTILE}")
        if call.data["customerno"] == "10999":
            raise FunctionError(9008, f"try again {HOSTILE}")  # retried: logged at -v
        if call.data["customerno"] == "10001":
            return rows
        return box.expected_invoices(str(call.data["customerno"]))

    box.register_function("getInvoicesByCustomer", answer)
    monkeypatch.setattr(_sandbox, "make_sandbox", lambda options: box)
    return box


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, prog_name="qvickly")


def _clean(text: str) -> bool:
    return not any(character in text for character in UNSAFE)


def test_a_hostile_customer_name_is_shown_escaped_in_the_table(hostile: Sandbox) -> None:
    result = invoke("invoices", "--sandbox", "10001", "10666")
    assert result.exit_code == 1
    assert _clean(result.stdout), repr(result.stdout)
    assert _clean(result.stderr), repr(result.stderr)
    assert (
        "Customer 10001 · Eve\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eevil\\x0dAnna"
        in result.stdout
    )


def test_a_hostile_server_message_is_shown_escaped_in_errors(hostile: Sandbox) -> None:
    result = invoke("invoices", "--sandbox", "-f", "jsonl", "10666")
    assert result.exit_code == 1
    line = next(line for line in result.stderr.splitlines() if line.startswith("customer 10666"))
    assert _clean(line)
    assert "no such customer Eve\\x1b]0;pwned" in line  # (the \r is blank space here)


def test_a_hostile_server_message_is_shown_escaped_in_log_records(hostile: Sandbox) -> None:
    result = invoke("invoices", "--sandbox", "-v", "-f", "jsonl", "10999")
    assert result.exit_code == 1
    logged = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert logged and "try again Eve\\x1b]0;pwned" in logged[0]
    assert _clean(result.stderr), repr(result.stderr)


def test_json_escapes_what_a_terminal_would_obey_and_keeps_the_text(hostile: Sandbox) -> None:
    as_json = invoke("invoices", "--sandbox", "-f", "json", "10001")
    as_jsonl = invoke("invoices", "--sandbox", "-f", "jsonl", "10001")
    for result in (as_json, as_jsonl):
        assert result.exit_code == 0
        assert _clean(result.stdout), repr(result.stdout)
    document = json.loads(as_json.stdout)
    assert {row["customer_name"] for row in document[0]["invoices"]} == {HOSTILE}
    rows = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    assert {row["customer_name"] for row in rows} == {HOSTILE}


def test_a_csv_file_keeps_the_name_exactly_as_sent(hostile: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    assert invoke("invoices", "--sandbox", "-q", "-o", str(target), "10001").exit_code == 0
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["customer_name"] for row in rows} == {HOSTILE}


def test_csv_to_a_terminal_is_shown_escaped() -> None:
    from qvickly_async._batch import CustomerResult
    from qvickly_async._cli._writers import CsvWriter
    from qvickly_async.models import Invoice

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    writer = CsvWriter(stream)
    writer.start()
    writer.add(CustomerResult("1", (Invoice(number="7", customer_name=HOSTILE),)))
    assert _clean(stream.getvalue().replace("\r\n", "\n"))  # (CSV's own record ends)
    assert "Eve\\x1b]0;pwned" in stream.getvalue()


def test_printable_keeps_every_script_and_emoji() -> None:
    text = "Åsa Öberg · Zoë · Ελένη · محمد · 山田 · 👩‍💻"
    assert printable(text) == text
    assert printable("a\tb\nc\x00\x7f") == "a\\x09b\\x0ac\\x00\\x7f"
    assert json.loads(json_safe(json.dumps(HOSTILE, ensure_ascii=False))) == HOSTILE


def test_usage_shows_customers_as_optional_and_repeatable() -> None:
    result = invoke("invoices", "--help")
    assert result.exit_code == 0
    assert "Usage: qvickly invoices [OPTIONS] [CUSTOMER]...\n" in result.output
