"""Credentials, ``qvickly ping`` and ``qvickly sandbox serve`` over real loopback sockets.

The secret used here is distinctive so that a leak anywhere in the output is caught.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from qvickly_async.sandbox import Sandbox, ServerHandle

from ._helpers import ROOT, run_cli, slow_to_connect, start_cli

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


def test_ping_reports_the_warm_latency_beside_the_first_call(
    server: ServerHandle, secret_file: Path
) -> None:
    with slow_to_connect(server, delay=1.0) as url:
        result = run_cli(
            "ping", "--base-url", url, "--merchant-id", MERCHANT, "--secret-file", str(secret_file)
        )
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(
        rf"OK: merchant {MERCHANT} reachable at {re.escape(url)} "
        r"\((\d+) ms; first call (\d+) ms with connection set-up\)\n",
        result.stdout,
    )
    assert match, result.stdout
    warm, cold = int(match[1]), int(match[2])
    assert cold >= 1000  # the first call paid for the new connection
    assert warm < cold - 500  # the reported one reused it


def test_sandbox_serve_help_describes_every_documented_option() -> None:
    shown = run_cli("sandbox", "serve", "--help")
    assert shown.returncode == 0, shown.stderr
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = page[page.index("### Sandbox server options") :]
    table = [line for line in section.splitlines() if line.startswith("| `--")]
    documented = {name for line in table for name in re.findall(r"`(--[a-z-]+)", line)}
    assert {"--secret-file", "--seed", "--customers", "--strict", "--fault"} <= documented
    lines = shown.stdout.splitlines()
    for name in sorted(documented):
        index = next(
            (i for i, line in enumerate(lines) if re.match(rf"  {name}(?:\s|$)", line)), None
        )
        assert index is not None, f"{name} is documented but not in --help"
        # Its help text follows on the same line (after two spaces) or on the next one.
        same_line = re.match(rf"  {name}(?: \S+)?\s{{2,}}\S", lines[index])
        next_line = lines[index + 1].startswith(" " * 20) and lines[index + 1].strip()
        assert same_line or next_line, f"{name} has no help text"


def test_every_sandbox_server_option_has_help_text() -> None:
    from qvickly_async.sandbox._cli import build_parser

    missing = [
        action.option_strings
        for action in build_parser()._actions  # argparse has no public list of its options
        if not action.help
    ]
    assert missing == []


def test_sandbox_serve_warns_when_binding_a_non_loopback_address(secret_file: Path) -> None:
    # 192.0.2.1 (TEST-NET-1) is not on this machine: the bind fails, after the warning.
    public = run_cli("sandbox", "serve", "--host", "192.0.2.1", "--port", "0", timeout=30)
    assert public.returncode == 1
    assert "warning: serving on '192.0.2.1', not a loopback address" in public.stderr
    assert "no authentication" in public.stderr
    process = start_cli("sandbox", "serve", "--host", "::1", "--port", "0",
                        "--secret-file", str(secret_file))  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:  # pragma: no cover - only when stopping is broken
            process.kill()
            process.communicate()
    assert line.startswith("Qvickly sandbox listening on http://[::1]:"), line
    assert "warning" not in err


def test_python_m_sandbox_takes_the_secret_from_a_file(secret_file: Path) -> None:
    from ._helpers import cli_env

    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "qvickly_async.sandbox", "--port", "0", "--merchant-id",
         MERCHANT, "--secret-file", str(secret_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(), cwd=ROOT,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[4]
        ping = run_cli(
            "ping", "--base-url", url, "--merchant-id", MERCHANT, "--secret-file", str(secret_file)
        )
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:  # pragma: no cover - only when stopping is broken
            process.kill()
            process.communicate()
    assert ping.returncode == 0, ping.stderr
    assert not _leaks(out, err, ping.stdout, ping.stderr)
