"""``--output`` is replaced only by a good run: atomically, and never by a failed one.

Real processes against loopback servers: the behaviour is about files and signals.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from qvickly_async._cli import cli
from qvickly_async.sandbox import FaultPlan, Sandbox, ServerHandle

from ._helpers import closed_port_url, run_cli, start_cli, temporary_files, wait_until

SECRET = "output-files-secret"
MERCHANT = "4711"
# What a previous good export looked like; a failed run must leave it byte for byte.
PREVIOUS = b"customer_number,number\r\n10001,10001001\r\n" * 500


@pytest.fixture
def server() -> Iterator[ServerHandle]:
    with Sandbox(merchant_id=MERCHANT, secret=SECRET).serve_in_thread() as handle:
        yield handle


def _credentials(tmp_path: Path, secret: str = SECRET) -> list[str]:
    path = tmp_path / "secret.txt"
    path.write_text(secret, encoding="utf-8")
    return ["--merchant-id", MERCHANT, "--secret-file", str(path)]


def test_a_wrong_secret_leaves_an_existing_export_untouched(
    server: ServerHandle, tmp_path: Path
) -> None:
    target = tmp_path / "prev.csv"
    target.write_bytes(PREVIOUS)
    customers = [str(10000 + n) for n in range(50)]

    result = run_cli(
        "invoices", "--base-url", server.url, *_credentials(tmp_path, "not-the-secret"),
        "-o", str(target), *customers,
    )  # fmt: skip

    assert result.returncode == 2, result.stderr
    assert "authentication refused" in result.stderr
    assert target.read_bytes() == PREVIOUS
    assert f"{target} left unchanged" in result.stderr
    assert temporary_files(tmp_path) == []
    assert not (tmp_path / "prev.csv.partial").exists()  # nothing was looked up


def test_an_unreachable_endpoint_leaves_an_existing_export_untouched(tmp_path: Path) -> None:
    target = tmp_path / "prev.json"
    target.write_text('[{"kept": true}]\n', encoding="utf-8")

    result = run_cli(
        "invoices", "--base-url", closed_port_url(), *_credentials(tmp_path), "--max-retries",
        "0", "-o", str(target), "10001", "10002", "10003",
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    assert "cannot reach" in result.stderr or "QvicklyConnectionError" in result.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == [{"kept": True}]
    assert "left unchanged" in result.stderr
    assert temporary_files(tmp_path) == []


def test_a_run_where_every_customer_fails_keeps_the_old_file(tmp_path: Path) -> None:
    box = Sandbox(merchant_id=MERCHANT, secret=SECRET, faults=FaultPlan(http_503=1.0))
    target = tmp_path / "prev.csv"
    target.write_bytes(PREVIOUS)
    with box.serve_in_thread() as handle:
        result = run_cli(
            "invoices", "--base-url", handle.url, *_credentials(tmp_path), "--max-retries", "0",
            "-o", str(target), "10001", "10002",
        )  # fmt: skip

    assert result.returncode == 1, result.stderr
    assert "2 of 2 customers failed" in result.stderr
    assert target.read_bytes() == PREVIOUS
    assert "left unchanged: no customer was looked up" in result.stderr


def test_a_good_run_replaces_the_file_keeping_its_permissions(
    server: ServerHandle, tmp_path: Path
) -> None:
    target = tmp_path / "prev.csv"
    target.write_bytes(PREVIOUS)
    target.chmod(0o640)

    result = run_cli(
        "invoices", "--base-url", server.url, *_credentials(tmp_path), "-o", str(target),
        "10001", "10002",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:2] == ["customer_number", "number"]
    assert [row[0] for row in rows[1:]] == ["10001"] * 3  # 10002 has no invoices
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert temporary_files(tmp_path) == []


def test_a_new_file_gets_the_usual_permissions(server: ServerHandle, tmp_path: Path) -> None:
    target = tmp_path / "new.jsonl"
    result = run_cli(
        "invoices", "--base-url", server.url, *_credentials(tmp_path), "-o", str(target), "10001"
    )
    assert result.returncode == 0, result.stderr
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert len(target.read_text(encoding="utf-8").splitlines()) == 3


def test_the_old_file_stays_readable_while_a_run_is_writing(tmp_path: Path) -> None:
    target = tmp_path / "prev.jsonl"
    target.write_text('{"old": 1}\n', encoding="utf-8")
    process = start_cli(
        "invoices", "--sandbox", "--sandbox-latency", "0.05", "--concurrency", "2",
        "-o", str(target), *(str(10001 + n) for n in range(40)),
    )  # fmt: skip
    try:
        # The run writes to a temporary file beside the target; the target is the old one.
        wait_until(lambda: any(path.stat().st_size for path in tmp_path.glob(".prev.jsonl.*")))
        assert target.read_text(encoding="utf-8") == '{"old": 1}\n'
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # pragma: no cover - only when the run hangs
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert rows and all("customer_number" in row for row in rows)
    assert temporary_files(tmp_path) == []


def test_ctrl_c_keeps_the_old_file_and_the_finished_customers_as_partial_json(
    tmp_path: Path,
) -> None:
    target = tmp_path / "prev.json"
    target.write_text('[{"kept": true}]\n', encoding="utf-8")
    customers = [str(10001 + n) for n in range(200)]
    process = start_cli(
        "invoices", "--sandbox", "--sandbox-latency", "0.2", "--concurrency", "2",
        "-o", str(target), *customers,
    )  # fmt: skip
    try:
        wait_until(lambda: any(path.stat().st_size > 1 for path in tmp_path.glob(".prev.json.*")))
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:  # pragma: no cover - only when interrupting is broken
            process.kill()
            process.communicate()

    assert process.returncode == 130, err
    assert json.loads(target.read_text(encoding="utf-8")) == [{"kept": True}]
    partial = tmp_path / "prev.json.partial"
    document = json.loads(partial.read_text(encoding="utf-8"))  # a closed, valid array
    done = [item["customer_number"] for item in document]
    assert done and set(done) < set(customers)
    assert f"{target} left unchanged" in err
    assert f"are in {partial}" in err
    assert "Traceback" not in err
    assert temporary_files(tmp_path) == []


def test_sigterm_ends_a_run_like_ctrl_c(tmp_path: Path) -> None:
    target = tmp_path / "prev.csv"
    target.write_bytes(PREVIOUS)
    process = start_cli(
        "invoices", "--sandbox", "--sandbox-latency", "0.2", "--concurrency", "2",
        "-o", str(target), *(str(10001 + n) for n in range(200)),
    )  # fmt: skip
    try:
        wait_until(lambda: any(p.stat().st_size > 1000 for p in tmp_path.glob(".prev.csv.*")))
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:  # pragma: no cover - only when terminating is broken
            process.kill()
            process.communicate()
    assert process.returncode == 143, err
    assert "terminated: " in err
    assert target.read_bytes() == PREVIOUS
    with (tmp_path / "prev.csv.partial").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "customer_number" and len(rows) > 1
    assert temporary_files(tmp_path) == []


def test_ctrl_c_with_json_on_standard_output_closes_the_array() -> None:
    process = start_cli(
        "invoices", "--sandbox", "--sandbox-latency", "0.2", "--concurrency", "2",
        "-f", "json", *(str(10001 + n) for n in range(200)),
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline() + process.stdout.readline()  # "[" and one customer
        process.send_signal(signal.SIGINT)
        rest = process.stdout.read()  # (communicate would skip what readline buffered)
        err = process.stderr.read()
        process.wait(timeout=20)
    finally:
        if process.poll() is None:  # pragma: no cover - only when interrupting is broken
            process.kill()
        process.communicate()  # closes the pipes
    assert process.returncode == 130, err
    document = json.loads(first + rest)
    assert 1 <= len(document) < 200


def test_output_to_a_device_is_written_in_place() -> None:
    result = CliRunner().invoke(cli, ["invoices", "--sandbox", "-f", "csv", "-o", os.devnull, "1"])
    assert result.exit_code == 0, result.output
    assert Path(os.devnull).exists() and not Path(os.devnull).is_file()


@pytest.mark.parametrize("name", ["invoices.xlsx", "report.pdf", "out.tsv"])
def test_an_unknown_output_suffix_is_refused(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    refused = CliRunner().invoke(cli, ["invoices", "--sandbox", "-o", str(target), "10001"])
    assert refused.exit_code == 2
    assert "is not a format this command writes" in refused.stderr
    assert "--format" in refused.stderr
    assert not target.exists()
    chosen = CliRunner().invoke(
        cli, ["invoices", "--sandbox", "-q", "-f", "csv", "-o", str(target), "10001"]
    )
    assert chosen.exit_code == 0, chosen.output
    assert target.read_text(encoding="utf-8").startswith("customer_number,")


def test_a_directory_as_output_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["invoices", "--sandbox", "-o", str(tmp_path), "10001"])
    assert result.exit_code == 2
    assert "cannot write --output" in result.stderr
