"""``qvickly payment``: payments by number, in the formats of ``qvickly invoices``."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

from qvickly_async._cli._payments import PAYMENT_CSV_COLUMNS
from qvickly_async.sandbox import Sandbox

from ._helpers import run_cli


def _numbers(count: int) -> list[str]:
    sandbox = Sandbox()
    numbers: list[str] = []
    for customer in range(10001, 10100):
        numbers.extend(
            str(row.get("invoiceid_real") or row["PaymentData"]["number"])
            for row in sandbox.expected_invoices(customer)
        )
        if len(numbers) >= count:
            return numbers[:count]
    return numbers


def test_table_lists_payments_in_input_order_and_failures_apart() -> None:
    first, second = _numbers(2)
    result = run_cli("payment", "--sandbox", second, "404", first)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    rows = [line.split()[0] for line in lines[2:] if line.strip() and line.split()[0].isdigit()]
    assert rows == [second, first]
    assert "Payment 404 · lookup failed" in result.stdout
    assert "5201" in result.stderr


def test_from_file_to_every_format_agrees_with_the_sandbox(tmp_path: Path) -> None:
    numbers = _numbers(12)
    source = tmp_path / "numbers.txt"
    source.write_text("# payments\n" + "\n".join(numbers) + "\n\n", encoding="utf-8")
    sandbox = Sandbox()
    for output_format in ("jsonl", "json", "csv"):
        target = tmp_path / f"out.{output_format}"
        result = run_cli(
            "payment", "--sandbox", "-q", "--from-file", str(source), "-o", str(target),
            "-f", output_format,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        text = target.read_text(encoding="utf-8")
        if output_format == "jsonl":
            rows = [json.loads(line) for line in text.splitlines()]
        elif output_format == "json":
            items = json.loads(text)
            assert all(item["ok"] and item["error"] is None for item in items)
            rows = [item["payment"] for item in items]
        else:
            reader = csv.DictReader(io.StringIO(text))
            assert tuple(reader.fieldnames or ()) == PAYMENT_CSV_COLUMNS
            rows = list(reader)
        assert sorted(row["number"] for row in rows) == sorted(numbers)
        for row in rows:
            wire = sandbox.expected_payment(row["number"])
            assert wire is not None
            total = Decimal(wire["Cart"]["Total"]["withtax"]) / 100
            if output_format == "csv":
                assert Decimal(row["cart.total.with_tax"]) == total
                assert row["payment_data.order_id"] == wire["PaymentData"]["orderid"]
            else:
                assert row["cart"]["total"]["with_tax"] == f"{total:.2f}"
                assert row["payment_data"]["order_id"] == wire["PaymentData"]["orderid"]
                assert len(row["articles"]) == len(wire["Articles"])


def test_malformed_numbers_are_a_usage_error_and_nothing_is_written(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    result = run_cli("payment", "--sandbox", "10001000", "12ab", "-o", str(target))
    assert result.returncode == 2
    assert "invalid payment numbers" in result.stderr and "12ab" in result.stderr
    assert not target.exists()
    assert run_cli("payment", "--sandbox").returncode == 2
