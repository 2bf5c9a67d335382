"""Batch controls of ``qvickly invoices``: retries, the shared retry budget, stopping when the
endpoint is down, and ``--failed-file`` for re-running just the failures.

Real processes against loopback sandbox servers (faulty ones where it matters); the sandbox's
counters say how many requests really arrived.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from qvickly_async import RetryBudget
from qvickly_async._cli import cli
from qvickly_async._cli._batch_run import parse_retry_budget
from qvickly_async.sandbox import FaultPlan, Sandbox

from ._helpers import closed_port_url, run_cli, wire_numbers

SECRET = "batch-controls-secret"
MERCHANT = "4711"
FAILED_LINE = re.compile(r"^customer (\S+): (Qvickly\w+)", re.MULTILINE)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.fixture
def failing() -> Iterator[tuple[Sandbox, str]]:
    """A sandbox server that answers every request with HTTP 503 (retryable)."""
    box = Sandbox(merchant_id=MERCHANT, secret=SECRET, faults=FaultPlan(http_503=1.0))
    with box.serve_in_thread() as handle:
        yield box, handle.url


def _invoices(url: str, secret_file: Path, *args: str) -> list[str]:
    return [
        "invoices", "--base-url", url, "--merchant-id", MERCHANT,
        "--secret-file", str(secret_file), "-f", "jsonl", *args,
    ]  # fmt: skip


def test_a_dead_endpoint_stops_the_batch_after_a_run_of_connection_failures(
    secret_file: Path, tmp_path: Path
) -> None:
    customers = [str(10000 + n) for n in range(300)]
    failed_file = tmp_path / "failed.txt"

    result = run_cli(
        *_invoices(closed_port_url(), secret_file, "--max-retries", "0", "--concurrency", "4",
                   "--failed-file", str(failed_file), *customers),
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    lines = FAILED_LINE.findall(result.stderr)
    assert len(lines) == 10  # the default --max-connection-failures, not 300 lines
    assert {kind for _, kind in lines} == {"QvicklyConnectionError"}
    assert "stopped after 10 customers in a row could not reach the endpoint" in result.stderr
    assert "290 of 300 customers not looked up" in result.stderr
    # Nothing was looked up, so every customer is to be re-run, in input order.
    assert failed_file.read_text(encoding="utf-8").splitlines() == customers


def test_max_connection_failures_sets_the_run_length_and_0_never_stops(
    secret_file: Path,
) -> None:
    customers = [str(10000 + n) for n in range(12)]
    url = closed_port_url()
    three = run_cli(
        *_invoices(url, secret_file, "--max-retries", "0", "--concurrency", "1",
                   "--max-connection-failures", "3", *customers),
    )  # fmt: skip
    never = run_cli(
        *_invoices(url, secret_file, "--max-retries", "0", "--max-connection-failures", "0",
                   *customers),
    )  # fmt: skip
    assert three.returncode == 1 and never.returncode == 1
    assert len(FAILED_LINE.findall(three.stderr)) == 3
    assert len(FAILED_LINE.findall(never.stderr)) == 12
    assert "stopped after" not in never.stderr
    assert "12 of 12 customers failed" in never.stderr


def test_server_errors_do_not_count_as_connection_failures(
    failing: tuple[Sandbox, str], secret_file: Path
) -> None:
    _, url = failing
    customers = [str(10000 + n) for n in range(15)]
    result = run_cli(
        *_invoices(url, secret_file, "--max-retries", "0", "--max-connection-failures", "2",
                   *customers),
    )  # fmt: skip
    assert result.returncode == 1
    assert len(FAILED_LINE.findall(result.stderr)) == 15  # the server is there: no stop
    assert "stopped after" not in result.stderr


def test_max_retries_sets_the_attempts_per_customer(
    failing: tuple[Sandbox, str], secret_file: Path
) -> None:
    box, url = failing
    customers = ["10001", "10002", "10003"]

    none = run_cli(*_invoices(url, secret_file, "--max-retries", "0", *customers))
    sent_without_retries = box.counters.calls("getInvoicesByCustomer")
    box.reset()
    one = run_cli(
        *_invoices(url, secret_file, "--max-retries", "1", "--retry-budget", "none", *customers)
    )
    sent_with_one_retry = box.counters.calls("getInvoicesByCustomer")

    assert none.returncode == 1 and one.returncode == 1
    assert sent_without_retries == 3
    assert sent_with_one_retry == 6
    assert "gave up after 2 attempts" in one.stderr


def test_retry_budget_caps_the_retries_of_the_whole_batch(
    failing: tuple[Sandbox, str], secret_file: Path
) -> None:
    box, url = failing
    customers = [str(10000 + n) for n in range(6)]

    zero = run_cli(*_invoices(url, secret_file, "--retry-budget", "0", *customers))
    sent_with_no_budget = box.counters.calls("getInvoicesByCustomer")
    box.reset()
    three = run_cli(
        *_invoices(url, secret_file, "--retry-budget", "3", "--concurrency", "1", *customers)
    )
    sent_with_three = box.counters.calls("getInvoicesByCustomer")

    assert zero.returncode == 1 and three.returncode == 1
    assert sent_with_no_budget == 6  # max_retries 2 would have allowed 18
    assert sent_with_three == 6 + 3
    assert "retry budget is spent" in three.stderr


def test_the_budget_note_appears_only_when_the_budget_stopped_a_retry(
    failing: tuple[Sandbox, str], secret_file: Path
) -> None:
    box, url = failing
    # One retry allowed per customer and one in the budget: after the retry, --max-retries
    # ends the lookup, not the budget (before, the last failure consulted the budget too).
    out_of_attempts = run_cli(
        *_invoices(url, secret_file, "--max-retries", "1", "--retry-budget", "1", "10001")
    )
    box.reset()
    # Two customers one after the other: the first spends the one retry, the second gets
    # none because of the budget.
    out_of_budget = run_cli(
        *_invoices(url, secret_file, "--max-retries", "1", "--retry-budget", "1",
                   "--concurrency", "1", "10001", "10002"),
    )  # fmt: skip

    assert "gave up after 2 attempts" in out_of_attempts.stderr
    assert "retry budget" not in out_of_attempts.stderr
    lines = dict(re.findall(r"^customer (\d+): (.*)$", out_of_budget.stderr, re.MULTILINE))
    assert "gave up after 2 attempts" in lines["10001"]
    assert "retry budget" not in lines["10001"]
    assert "not retried after attempt 1: the batch's retry budget is spent" in lines["10002"]
    assert box.counters.calls("getInvoicesByCustomer") == 3


def test_failed_file_lists_the_failures_and_a_rerun_takes_just_those(tmp_path: Path) -> None:
    customers = [str(10000 + n) for n in range(80)]
    source = tmp_path / "customers.txt"
    source.write_text("\n".join(customers) + "\n", encoding="utf-8")
    failed_file, first_out, second_out = (
        tmp_path / name for name in ("f.txt", "1.jsonl", "2.jsonl")
    )

    first = run_cli(
        "invoices", "--sandbox", "--sandbox-faults", "0.7", "--max-retries", "0",
        "--from-file", str(source), "--failed-file", str(failed_file), "-o", str(first_out),
    )  # fmt: skip
    failed = failed_file.read_text(encoding="utf-8").splitlines()
    second = run_cli(
        "invoices", "--sandbox", "--from-file", str(failed_file), "--failed-file",
        str(failed_file), "-o", str(second_out),
    )  # fmt: skip

    assert first.returncode == 1, first.stderr
    reported = [number for number, _ in FAILED_LINE.findall(first.stderr)]
    assert failed and sorted(failed) == sorted(reported)
    assert failed == [c for c in customers if c in set(failed)]  # input order
    assert f"{len(failed)} customers to re-run written to {failed_file}" in first.stderr
    assert second.returncode == 0, second.stderr
    assert failed_file.read_text(encoding="utf-8") == ""  # nothing left to re-run
    box = Sandbox()
    looked_up = {
        json.loads(line)["customer_number"]
        for out in (first_out, second_out)
        for line in out.read_text(encoding="utf-8").splitlines()
    }
    assert looked_up == {c for c in customers if wire_numbers(box.expected_invoices(c))}
    assert f"{len(failed)} of {len(failed)} customers looked up" in second.stderr


def test_an_unwritable_failed_file_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["invoices", "--sandbox", "--failed-file", str(tmp_path / "no" / "f.txt"), "1"]
    )
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


@pytest.mark.parametrize(
    ("text", "ratio", "minimum"),
    [("10+20%", 0.2, 10), ("0", 0.0, 0), ("25", 0.0, 25), ("50%", 0.5, 0), ("3 + 2.5%", 0.025, 3)],
)
def test_retry_budget_specs(text: str, ratio: float, minimum: int) -> None:
    budget = parse_retry_budget(text)
    assert isinstance(budget, RetryBudget)
    assert budget.ratio == pytest.approx(ratio)
    assert budget.minimum == minimum


@pytest.mark.parametrize("text", ["none", "off", "NONE"])
def test_retry_budget_none_lifts_the_shared_cap(text: str) -> None:
    assert parse_retry_budget(text) is None


@pytest.mark.parametrize("text", ["-1", "ten", "20%+10", "%", ""])
def test_bad_retry_budgets_are_usage_errors(text: str) -> None:
    result = CliRunner().invoke(cli, ["invoices", "--sandbox", "--retry-budget", text, "10001"])
    assert result.exit_code == 2
    assert "--retry-budget" in result.stderr


def test_failed_file_on_standard_output_beside_an_output_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    result = run_cli(
        "invoices", "--sandbox", "--sandbox-faults", "1", "--max-retries", "0", "-q",
        "-o", str(target), "--failed-file", "-", "10001", "10002",
    )  # fmt: skip
    assert result.returncode == 1
    assert sorted(result.stdout.splitlines()) == ["10001", "10002"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--failed-file", "-"], "--failed-file - needs --output FILE"),
        (["-o", "same.txt", "--failed-file", "same.txt"], "name the same file"),
    ],
)
def test_failed_file_clashes_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["invoices", "--sandbox", *args, "10001"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_concurrency_above_the_default_pool_sizes_the_pool(secret_file: Path) -> None:
    customers = [str(10000 + n) for n in range(120)]
    with Sandbox(merchant_id=MERCHANT, secret=SECRET).serve_in_thread() as handle:
        result = run_cli(*_invoices(handle.url, secret_file, "--concurrency", "100", *customers))
    assert result.returncode == 0, result.stderr
    assert "120 of 120 customers looked up" in result.stderr
