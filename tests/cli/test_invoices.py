"""``qvickly invoices`` as a real process against the embedded sandbox."""

from __future__ import annotations

import csv
import json
import re
import signal
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from qvickly_async._cli._rows import CSV_COLUMNS, invoice_row
from qvickly_async.sandbox import Sandbox

from ._helpers import run_cli, sdk_invoices, start_cli, wire_numbers

FAILED_LINE = re.compile(r"^customer (\S+): (Qvickly\w+)(?: (\d+))?: .+$", re.MULTILINE)


def test_readme_first_command_prints_a_table_of_the_sandbox_invoices() -> None:
    sandbox = Sandbox()
    customers = ["10001", "10002", "10003"]
    expected = {
        customer: wire_numbers(sandbox.expected_invoices(customer)) for customer in customers
    }
    assert expected["10001"], "the README example needs a customer with invoices"

    started = time.monotonic()
    result = run_cli("invoices", "--sandbox", *customers)
    elapsed = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    assert elapsed < 10, f"the README's first command took {elapsed:.1f} s"
    table = result.stdout
    for customer, numbers in expected.items():
        assert f"Customer {customer}" in table
        for number in numbers:
            assert re.search(rf"^\s*{number}\s", table, re.MULTILINE), (number, table)
        if not numbers:
            assert f"Customer {customer} · no invoices" in table
    listed = set(re.findall(r"^\s*(\d{8})\s", table, re.MULTILINE))
    assert listed == set().union(*expected.values())
    assert "Total" in table
    assert "Traceback" not in result.stderr


def test_table_totals_are_exact_decimal_sums_and_long_lists_are_capped() -> None:
    invoices = sdk_invoices(["10007"], Sandbox())["10007"]
    assert len(invoices) == 250
    total = sum((invoice.to_pay or Decimal(0) for invoice in invoices), Decimal(0))

    result = run_cli("invoices", "--sandbox", "--limit", "5", "10007")

    assert result.returncode == 0, result.stderr
    footer = next(line for line in result.stdout.splitlines() if line.strip().startswith("Total"))
    assert f"{total:,.2f}" in footer
    assert "245 more invoices not shown" in result.stdout
    assert len(re.findall(r"^\s*10007\d{3}\s", result.stdout, re.MULTILINE)) == 5


def test_two_thousand_customers_from_a_file_to_csv(tmp_path: Path) -> None:
    customers = [str(10000 + offset) for offset in range(2000)]
    source = tmp_path / "customers.txt"
    lines = ["# customers to export", "", *customers[:1000], "   ", *customers[1000:], "10001"]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "f.csv"
    env = {"QVICKLY_SANDBOX_CUSTOMERS": "2000"}

    started = time.monotonic()
    result = run_cli(
        "invoices", "--sandbox", "--from-file", str(source), "--format", "csv",
        "--output", str(target), env=env,
    )  # fmt: skip
    elapsed = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    print(f"2000-customer CSV export: {elapsed:.2f} s")  # noqa: T201 - reported by -s
    assert elapsed < 30
    with target.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    assert header == list(CSV_COLUMNS)
    assert all(len(row) == len(header) for row in rows)
    found: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        found[row[0]].append(row[1])
    sandbox = Sandbox(customers=2000)
    expected = {
        customer: wire_numbers(sandbox.expected_invoices(customer)) for customer in customers
    }
    assert sum(len(numbers) for numbers in expected.values()) == len(rows)
    for customer, numbers in expected.items():
        assert sorted(found.get(customer, [])) == sorted(numbers), customer
    assert not expected["10000"] and "10000" not in found  # no invoices: no rows
    assert "2000 of 2000 customers looked up" in result.stderr


def test_failed_customers_are_listed_and_the_others_written(tmp_path: Path) -> None:
    customers = [str(10000 + offset) for offset in range(150)]
    source = tmp_path / "customers.txt"
    source.write_text("\n".join(customers), encoding="utf-8")
    target = tmp_path / "out.jsonl"

    result = run_cli(
        "invoices", "--sandbox", "--sandbox-faults", "0.6", "--from-file", str(source),
        "--output", str(target), "--concurrency", "32",
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    failed = {match[0] for match in FAILED_LINE.findall(result.stderr)}
    assert failed, result.stderr
    assert failed < set(customers)
    assert f"{len(failed)} of 150 customers failed" in result.stderr
    written: dict[str, set[str]] = defaultdict(set)
    for line in target.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        written[row["customer_number"]].add(row["number"])
    assert not failed & written.keys()
    sandbox = Sandbox()
    for customer in set(customers) - failed:
        assert written.get(customer, set()) == wire_numbers(sandbox.expected_invoices(customer))


def test_json_and_jsonl_parse_back_with_exact_decimal_strings(tmp_path: Path) -> None:
    customers = ["10001", "10000", "10007", "10012", "10013"]
    env = {"QVICKLY_SANDBOX_INVOICE_SHAPE": "mixed"}  # flat and nested rows
    expected = sdk_invoices(customers, Sandbox(invoice_shape="mixed"))
    assert any(invoice.shape == "nested" for found in expected.values() for invoice in found)

    as_json = run_cli("invoices", "--sandbox", "--format", "json", *customers, env=env)
    as_jsonl = run_cli("invoices", "--sandbox", "-f", "jsonl", "-q", *customers, env=env)

    assert as_json.returncode == 0, as_json.stderr
    assert as_jsonl.returncode == 0, as_jsonl.stderr
    assert as_jsonl.stderr == ""  # -q: no summary
    document = json.loads(as_json.stdout)
    assert sorted(item["customer_number"] for item in document) == sorted(customers)
    lines = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    assert len(lines) == sum(len(found) for found in expected.values())
    for item in document:
        customer = item["customer_number"]
        assert item["ok"] is True and item["error"] is None
        assert item["invoice_count"] == len(expected[customer])
        by_number = {invoice.number: invoice for invoice in expected[customer]}
        assert [row["number"] for row in item["invoices"]] == list(by_number)
        for row in item["invoices"]:
            invoice = by_number[row["number"]]
            assert next(iter(row)) == "customer_number"
            assert row == invoice_row(customer, invoice)
            assert isinstance(row["to_pay"], str)
            assert Decimal(row["to_pay"]) == invoice.to_pay
            assert Decimal(row["balance_due"]) == invoice.balance_due
    empty = next(item for item in document if item["customer_number"] == "10000")
    assert empty["invoices"] == []
    assert {row["customer_number"] for row in lines} == {
        customer for customer, found in expected.items() if found
    }

    def key(row: dict[str, str]) -> tuple[str, str]:
        return (row["customer_number"], row["number"])

    assert sorted(lines, key=key) == sorted(
        (row for item in document for row in item["invoices"]), key=key
    )


def test_from_stdin_with_comments_and_a_byte_order_mark() -> None:
    text = "\ufeff10001  # three invoices\n\n# a comment\n10002\n10001\n"
    result = run_cli("invoices", "--sandbox", "--from-file", "-", "-f", "jsonl", input=text)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {row["customer_number"] for row in rows} == {"10001"}
    assert len(rows) == 3  # the duplicate is looked up once
    assert "2 of 2 customers looked up" in result.stderr


def test_excel_csv_starts_with_a_byte_order_mark(tmp_path: Path) -> None:
    target = tmp_path / "excel.csv"
    result = run_cli("invoices", "--sandbox", "--excel", "-o", str(target), "10001")
    assert result.returncode == 0, result.stderr
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcustomer_number,number,")
    assert data.count(b"\r\n") == 4  # header and three invoices


def test_ctrl_c_exits_130() -> None:
    process = start_cli(
        "invoices", "--sandbox", "--sandbox-latency", "0.2", "--concurrency", "2",
        "-f", "jsonl", *(str(10001 + n) for n in range(200)),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline()  # results are flowing
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:  # pragma: no cover - only when interrupting is broken
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "interrupted:" in err
    assert "Traceback" not in err


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    process = start_cli("invoices", "--sandbox", "-f", "jsonl", "10007")
    assert process.stdout is not None and process.stderr is not None
    assert json.loads(process.stdout.readline())["customer_number"] == "10007"
    process.stdout.close()
    err = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=20) == 141, err
    assert "Traceback" not in err
    assert "Exception ignored" not in err
