"""Exit statuses, usage errors and per-customer failure lines (in-process and as processes)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from qvickly_async import __version__
from qvickly_async._cli import _sandbox, cli
from qvickly_async._cli._rows import CSV_COLUMNS
from qvickly_async._cli._settings import SandboxOptions, parse_numbers
from qvickly_async.sandbox import FunctionCall, FunctionError, Sandbox

from ._helpers import ROOT, cli_env, run_cli


@pytest.fixture(autouse=True)
def _no_credentials_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("QVICKLY_MERCHANT_ID", "QVICKLY_SECRET", "QVICKLY_BASE_URL", "QVICKLY_TEST_MODE"):
        monkeypatch.delenv(name, raising=False)


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["invoices"], "no customers given"),
        (["invoices", "--sandbox", "--format", "xml", "10001"], "'xml' is not one of"),
        (["invoices", "--sandbox", "--concurrency", "0", "10001"], "--concurrency"),
        (["invoices", "--sandbox", "--rate-limit", "0", "10001"], "--rate-limit"),
        (["invoices", "--sandbox", "--sandbox-faults", "2", "10001"], "--sandbox-faults"),
        (["invoices", "--sandbox", "--secret", "x", "10001"], "--sandbox uses the emulator"),
        (["invoices", "--sandbox-faults", "0.1", "10001"], "need --sandbox"),
        (["invoices", "--sandbox", "-f", "json", "--excel", "10001"], "--excel"),
        (["invoices", "--from-file", "-", "--secret", "-"], "cannot both read standard input"),
        (["invoices", "--secret", "a", "--secret-file", "b", "1"], "not both"),
        (["invoices", "--sandbox", "--from-file", "/nonexistent/customers.txt"], "cannot read"),
        (["invoices", "10001"], "missing credentials"),
        (["invoices", "--merchant-id", "1", "10001"], "missing credentials: the secret"),
        (["invoices", "--secret-file", "/nonexistent/secret", "1"], "cannot read --secret-file"),
        (["ping"], "missing credentials"),
        (
            ["ping", "--merchant-id", "1", "--secret", "-", "--base-url", "http://example.com/"],
            "refusing plain http://",
        ),
        (["invoices", "--sandbox", "-o", "/nonexistent/dir/x.csv", "1"], "cannot write --output"),
        (
            ["invoices", "--merchant-id", "1", "--secret", "-", "-o", "/nonexistent/x.csv", "1"],
            "cannot write --output",
        ),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_and_configuration_errors_exit_2(args: list[str], message: str) -> None:
    result = invoke(*args, input="a-secret\n")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "a-secret" not in result.output


def test_usage_errors_exit_2_as_a_process(tmp_path: Path) -> None:
    missing = run_cli("invoices", "10001")
    usage = run_cli("invoices", "--sandbox", "--format", "xml", "10001")
    unreadable = run_cli("invoices", "--sandbox", "--from-file", str(tmp_path / "nope.txt"))
    output = tmp_path / "keep.csv"
    output.write_text("precious", encoding="utf-8")
    untouched = run_cli("invoices", "-o", str(output), "10001")  # no credentials
    for result in (missing, usage, unreadable, untouched):
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
    assert "missing credentials" in missing.stderr and "--sandbox" in missing.stderr
    assert output.read_text(encoding="utf-8") == "precious"


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output == f"qvickly, version {__version__}\n"


def test_each_failed_customer_gets_one_line_and_the_batch_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = Sandbox()
    broken = {"10003": 5201, "10005": 7020}

    def answer(call: FunctionCall) -> object:
        number = str(call.data["customerno"])
        if number in broken:
            raise FunctionError(broken[number])
        return box.expected_invoices(number)

    box.register_function("getInvoicesByCustomer", answer)
    monkeypatch.setattr(_sandbox, "make_sandbox", lambda options: box)
    customers = [str(10001 + n) for n in range(6)]

    result = invoke("invoices", "--sandbox", "-f", "jsonl", *customers)

    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert re.fullmatch(
        r"customer 10003: QvicklyNotFoundError 5201: Invoice does not exist \(logid \d+\)",
        next(line for line in lines if line.startswith("customer 10003")),
    )
    assert any(line.startswith("customer 10005: QvicklyValidationError 7020: ") for line in lines)
    assert "2 of 6 customers failed: " in result.stderr
    written = {json.loads(line)["customer_number"] for line in result.stdout.splitlines()}
    expected = {c for c in customers if c not in broken and box.invoice_count(c)}
    assert written == expected


def test_failed_and_empty_customers_in_the_table_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    box = Sandbox()

    def answer(call: FunctionCall) -> object:
        if call.data["customerno"] == "10003":
            raise FunctionError(5201)
        return box.expected_invoices(str(call.data["customerno"]))

    box.register_function("getInvoicesByCustomer", answer)
    monkeypatch.setattr(_sandbox, "make_sandbox", lambda options: box)

    table = invoke("invoices", "--sandbox", "10000", "10003", "10001")
    as_json = invoke("invoices", "--sandbox", "-f", "json", "10000", "10003")

    assert table.exit_code == 1
    assert "Customer 10000 · no invoices" in table.stdout
    assert "Customer 10003 · lookup failed: QvicklyNotFoundError 5201" in table.stdout
    assert table.stdout.index("Customer 10000") < table.stdout.index("Customer 10003")
    assert table.stdout.index("Customer 10003") < table.stdout.index("Customer 10001")
    assert as_json.exit_code == 1
    document = {item["customer_number"]: item for item in json.loads(as_json.stdout)}
    assert document["10000"]["invoices"] == [] and document["10000"]["ok"] is True
    assert document["10003"]["ok"] is False
    assert document["10003"]["error"]["code"] == 5201
    assert document["10003"]["error"]["type"] == "QvicklyNotFoundError"


def test_sandbox_options_configure_faults_and_latency() -> None:
    box = _sandbox.make_sandbox(SandboxOptions(fault_rate=0.4, latency=0.01))
    plan = box.faults
    assert plan.latency == 0.01
    assert plan.http_503 is not None and plan.http_503.probability == pytest.approx(0.1)
    assert _sandbox.make_sandbox(SandboxOptions()).faults.quiet


def test_parse_numbers() -> None:
    lines = ["  10001 \n", "\n", "# all of these\n", "10002# trailing\n", "\t\n", "0042\n"]
    assert list(parse_numbers(lines)) == ["10001", "10002", "0042"]


def test_reference_page_documents_every_column_and_exit_status() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert ",".join(CSV_COLUMNS) in page.splitlines()
    for column in CSV_COLUMNS:
        assert f"`{column}`" in page or column.startswith("customer.")
    for status in ("| 0 |", "| 1 |", "| 2 |", "| 130 |"):
        assert status in page


def test_the_format_follows_the_output_suffix(tmp_path: Path) -> None:
    as_json, as_table = tmp_path / "out.json", tmp_path / "out.txt"
    assert invoke("invoices", "--sandbox", "-q", "-o", str(as_json), "10001").exit_code == 0
    assert invoke("invoices", "--sandbox", "-q", "-o", str(as_table), "10001").exit_code == 0
    document = json.loads(as_json.read_text(encoding="utf-8"))
    assert document[0]["invoice_count"] == 3
    assert "Customer 10001 · " in as_table.read_text(encoding="utf-8")


def test_only_the_cli_modules_import_click_or_rich() -> None:
    # (httpx imports both for its own command line when they are installed, so this looks
    # at our sources rather than at sys.modules.)
    package = ROOT / "qvickly_async"
    offenders = []
    for path in package.rglob("*.py"):
        if path.parent.name == "_cli":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            if any(name.split(".")[0] in ("click", "rich") for name in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_without_the_cli_extra_the_command_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['rich'] = None  # as if rich were not installed\n"
        "from qvickly_async.cli import main\n"
        "main(['--version'])\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), check=False
    )
    assert result.returncode == 2
    assert 'pip install "qvickly-async[cli]"' in result.stderr
    assert "Traceback" not in result.stderr
