"""Credentials, ``qvickly ping`` and ``qvickly sandbox serve`` over real loopback sockets.

The secret used here is distinctive so that a leak anywhere in the output is caught.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from qvickly_async.sandbox import Sandbox, ServerHandle

from ._helpers import run_cli, start_cli

SECRET = "s3cr3t-Kq7Zp-do-not-print"
MERCHANT = "4711"


@pytest.fixture
def server() -> Iterator[ServerHandle]:
    with Sandbox(merchant_id=MERCHANT, secret=SECRET).serve_in_thread() as handle:
        yield handle


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET + "\n", encoding="utf-8")
    return path


def _leaks(*texts: str) -> bool:
    return any(SECRET in text or SECRET[:12] in text for text in texts)


def test_secret_never_appears_at_debug_verbosity(server: ServerHandle, secret_file: Path) -> None:
    result = run_cli(
        "invoices", "-vv", "--format", "json", "--base-url", server.url,
        "--merchant-id", MERCHANT, "--secret-file", str(secret_file), "10001", "10002", "10007",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "DEBUG" in result.stderr  # -vv really logged requests and answers
    assert "getInvoicesByCustomer" in result.stderr
    assert not _leaks(result.stdout, result.stderr)
    document = json.loads(result.stdout)
    assert {item["customer_number"] for item in document} == {"10001", "10002", "10007"}


def test_secret_from_the_environment_and_from_stdin(server: ServerHandle) -> None:
    from_env = run_cli(
        "ping", "-vv", "--base-url", server.url,
        env={"QVICKLY_MERCHANT_ID": MERCHANT, "QVICKLY_SECRET": SECRET},
    )  # fmt: skip
    from_stdin = run_cli(
        "ping", "--base-url", server.url, "--merchant-id", MERCHANT, "--secret", "-",
        input=SECRET + "\n",
    )  # fmt: skip

    for result in (from_env, from_stdin):
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"OK: merchant {MERCHANT} reachable at {server.url} (")
        assert not _leaks(result.stdout, result.stderr)
    assert "shell history" not in from_stdin.stderr


def test_secret_on_the_command_line_works_with_a_warning(server: ServerHandle) -> None:
    result = run_cli(
        "ping", "--base-url", server.url, "--merchant-id", MERCHANT, "--secret", SECRET
    )
    assert result.returncode == 0, result.stderr
    assert "shell history" in result.stderr
    assert not _leaks(result.stdout, result.stderr)


def test_ping_the_sandbox() -> None:
    result = run_cli("ping", "--sandbox")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        r"OK: merchant 12345 reachable at the in-process sandbox "
        r"\(\d+ ms; first call \d+ ms with connection set-up\)\n",
        result.stdout,
    )


def test_ping_with_a_wrong_secret_names_the_code_and_exits_2(
    server: ServerHandle, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not-the-secret", encoding="utf-8")

    result = run_cli(
        "ping", "-vv", "--base-url", server.url, "--merchant-id", MERCHANT,
        "--secret-file", str(wrong),
    )  # fmt: skip

    assert result.returncode == 2, result.stderr
    assert "FAILED: authentication refused" in result.stderr
    assert "Qvickly error 9013" in result.stderr
    assert "not-the-secret" not in result.stdout + result.stderr
    assert not _leaks(result.stdout, result.stderr)


def test_ping_an_unknown_merchant_and_an_unreachable_endpoint(
    server: ServerHandle, secret_file: Path
) -> None:
    unknown = run_cli(
        "ping", "--base-url", server.url, "--merchant-id", "999", "--secret-file", str(secret_file)
    )
    host, port = server.host, server.port
    with Sandbox().serve_in_thread() as other:
        closed_port = other.port  # free again once this block ends
    unreachable = run_cli(
        "ping", "--timeout", "5", "--base-url", f"http://{host}:{closed_port}/",
        "--merchant-id", MERCHANT, "--secret-file", str(secret_file),
    )  # fmt: skip

    assert unknown.returncode == 2, unknown.stderr
    assert "Qvickly error 9011" in unknown.stderr
    assert unreachable.returncode == 1, unreachable.stderr
    assert "FAILED: network: cannot reach" in unreachable.stderr
    assert port != closed_port
    assert not _leaks(unknown.stderr, unreachable.stderr)


def test_refused_credentials_stop_a_batch_with_status_2(
    server: ServerHandle, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not-the-secret", encoding="utf-8")
    customers = [str(10000 + n) for n in range(300)]

    result = run_cli(
        "invoices", "--base-url", server.url, "--merchant-id", MERCHANT,
        "--secret-file", str(wrong), "-f", "jsonl", *customers,
    )  # fmt: skip

    assert result.returncode == 2, result.stderr
    assert "authentication refused" in result.stderr
    assert "9013" in result.stderr
    assert result.stdout == ""
    assert result.stderr.count("customer 1") == 0  # not 300 identical failure lines


def test_sandbox_serve_delegates_to_the_sandbox_server(secret_file: Path) -> None:
    process = start_cli(
        "sandbox", "serve", "--port", "0", "--merchant-id", MERCHANT,
        "--secret-file", str(secret_file), "--customers", "50",
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Qvickly sandbox listening on http://127.0.0.1:"), line
        url = line.split()[4]
        ping = run_cli(
            "ping", "--base-url", url, "--merchant-id", MERCHANT, "--secret-file", str(secret_file)
        )
        invoices = run_cli(
            "invoices", "--base-url", url, "--merchant-id", MERCHANT,
            "--secret-file", str(secret_file), "-f", "jsonl", "10001",
        )  # fmt: skip
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:  # pragma: no cover - only when stopping is broken
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert ping.returncode == 0, ping.stderr
    assert invoices.returncode == 0, invoices.stderr
    assert len(invoices.stdout.splitlines()) == 3
    assert not _leaks(line, out, err, ping.stdout, ping.stderr, invoices.stderr)


def test_sandbox_serve_help_and_bad_options() -> None:
    shown = run_cli("sandbox", "serve", "--help")
    bad = run_cli("sandbox", "serve", "--fault", "meteor=1")
    both = run_cli("sandbox", "serve", "--secret", "x", "--secret-file", "y")
    assert shown.returncode == 0 and "--fault-rate" in shown.stdout
    assert bad.returncode == 2
    assert both.returncode == 2 and "not both" in both.stderr
