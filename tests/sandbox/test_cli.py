"""Running the sandbox as a process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from qvickly_async.sandbox import FaultPlan, Sandbox, serve_forever
from qvickly_async.sandbox._cli import _fault_plan, build_parser, main

from ._handmade import envelope, verified

ROOT = Path(__file__).resolve().parents[2]


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "qvickly_async.sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def stop(process: subprocess.Popen[str], signum: int = signal.SIGTERM) -> tuple[str, str]:
    process.send_signal(signum)
    try:
        out, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - only when stopping is broken
        process.kill()
        process.communicate()
        raise
    assert process.returncode == 0, err
    return out, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_python_m_serves_prints_its_url_and_stops_on_signals(signum: int) -> None:
    process = start("--port", "0", "--secret", "cli-secret", "--merchant-id", "4711")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        prefix = "Qvickly sandbox listening on http://127.0.0.1:"
        assert line.startswith(prefix), line
        assert line.endswith("/ (merchant id 4711)\n")
        url = line.split()[4]
        body = envelope(
            "getInvoicesByCustomer",
            {"customerno": "10001"},
            secret="cli-secret",
            merchant_id="4711",
        )
        response = requests.post(url, data=body, timeout=10)
        assert len(verified(response.content, secret="cli-secret")) == 3
    finally:
        out, err = stop(process, signum)
    assert "cli-secret" not in line + out + err


def test_serve_subcommand_with_options_and_logging(tmp_path: Path) -> None:
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"20001": [{"invoiceid_real": "1"}]}), encoding="utf-8")
    process = start(
        "serve", "--port", "0", "--strict", "--error-shape", "signed", "--invoice-shape", "nested",
        "--seed", "3", "--customers", "50", "--data", str(data), "--latency-ms", "1",
        "--fault", "http_503=0", "--log-level", "debug", "--secret", "s3cr3t-value",
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[4]
        answer = requests.post(
            url, data=envelope("getAccountinfo", [], secret="s3cr3t-value"), timeout=10
        )
        assert verified(answer.content, secret="s3cr3t-value")["code"] == "9004"
        body = envelope("getInvoicesByCustomer", {"customerno": "20001"}, secret="s3cr3t-value")
        rows = verified(requests.post(url, data=body, timeout=10).content, secret="s3cr3t-value")
        assert rows == [{"invoiceid_real": "1"}]
    finally:
        out, err = stop(process)
    assert "getInvoicesByCustomer" in err  # debug log of each request
    assert "s3cr3t-value" not in out + err


def test_bad_options_exit_with_usage() -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--fault", "meteor=1"])
    assert raised.value.code == 2
    with pytest.raises(SystemExit):
        main(["--fault", "reset=often"])
    with pytest.raises(SystemExit):
        main(["--port", "0", "--fault", "reset=0.7", "--fault", "http_502=0.7"])


def test_port_in_use_exits_with_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox().serve_in_thread() as server:
        assert main(["--port", str(server.port)]) == 1
    assert "cannot listen" in capsys.readouterr().err


def test_fault_options_build_a_plan() -> None:
    parser = build_parser()
    assert _fault_plan(parser.parse_args([])) is None
    options = parser.parse_args(
        ["--fault-rate", "0.4", "--latency-ms", "20", "--jitter-ms", "5", "--fault", "reset=0.1"]
    )
    plan = _fault_plan(options)
    assert plan is not None
    assert plan.latency == 0.02 and plan.jitter == 0.005
    assert plan.http_503 is not None and plan.http_503.probability == pytest.approx(0.1)
    assert plan.reset is not None and plan.reset.probability == 0.1
    assert FaultPlan.flaky(0.4, seed=1).rate_limit == plan.rate_limit


def test_serve_forever_in_a_thread_stops_when_told() -> None:
    lines: list[str] = []
    ready, stop_event = threading.Event(), threading.Event()

    def announce(line: str) -> None:
        lines.append(line)
        ready.set()

    options = {"port": 0, "announce": announce, "stop_event": stop_event}
    thread = threading.Thread(target=serve_forever, args=(Sandbox(),), kwargs=options)
    thread.start()
    try:
        assert ready.wait(10)
        url = lines[0].split()[4]
        body = envelope("getAccountinfo", {"a": "1"})
        assert verified(requests.post(url, data=body, timeout=10).content)["merchantid"] == "12345"
    finally:
        stop_event.set()
        thread.join(10)
    assert not thread.is_alive()
