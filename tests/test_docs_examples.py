"""Run every example of the documentation (``docs/examples/*.py``) against the sandbox.

Each test loads an example file as a module and checks what it returns or prints, so the code
shown in the docs is code that works. ``tests/test_docs.py`` checks that every example file
is shown somewhere and tested here.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import importlib.util
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

import qvickly_async
from qvickly_async import (
    AsyncQvickly,
    Invoice,
    InvoiceStatus,
    QvicklyAuthenticationError,
    QvicklyConnectionError,
    QvicklyDeadlineExceededError,
    QvicklyNotFoundError,
    QvicklyStateError,
)
from qvickly_async.sandbox import (
    Fault,
    FaultPlan,
    FunctionCall,
    FunctionError,
    Sandbox,
    ServerHandle,
    callback_body,
    callback_data,
    redirect_params,
)
from qvickly_async.testing import no_backoff

from ._support import make_client

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"

pytestmark = pytest.mark.anyio


def load_example(name: str) -> ModuleType:
    """Import ``docs/examples/<name>.py`` as a fresh module."""
    path = EXAMPLES / f"{name}.py"
    module_name = f"docs_example_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def flat_rows(sandbox: Sandbox, customer: str) -> list[dict[str, Any]]:
    return sandbox.expected_invoices(customer)


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[AsyncQvickly]:
    async with AsyncQvickly.for_sandbox(sandbox) as client:
        yield client


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[ServerHandle]:
    with sandbox.serve_in_thread() as handle:
        yield handle


@pytest.fixture
def sandbox_env(
    sandbox: Sandbox, server: ServerHandle, monkeypatch: pytest.MonkeyPatch
) -> ServerHandle:
    """Point ``AsyncQvickly.from_env()`` at the sandbox on a loopback socket."""
    monkeypatch.setenv("QVICKLY_MERCHANT_ID", sandbox.merchant_id)
    monkeypatch.setenv("QVICKLY_SECRET", sandbox.secret)
    monkeypatch.setenv("QVICKLY_BASE_URL", server.url)
    monkeypatch.delenv("QVICKLY_TEST_MODE", raising=False)
    return server


def sandbox_overrides(sandbox: Sandbox) -> dict[str, Any]:
    """``from_env`` overrides that wire a client to ``sandbox`` in-process."""
    return {
        "merchant_id": sandbox.merchant_id,
        "secret": sandbox.secret,
        "base_url": "http://sandbox.invalid/",
        "allow_insecure_http": True,
        "transport": sandbox.transport(),
    }


# -- tutorial ---------------------------------------------------------------------------------


def tutorial_output() -> str:
    """The first ``text`` block of the tutorial: the output it promises."""
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    match = re.search(r"```text\n(.*?)```", text, re.DOTALL)
    assert match is not None
    return match.group(1)


async def test_first_lookup_prints_what_the_tutorial_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = load_example("first_lookup")
    await example.main()
    printed = capsys.readouterr().out
    assert printed == tutorial_output()
    expected = flat_rows(Sandbox(), "10001")
    assert [line.split()[0] for line in printed.splitlines()] == [
        str(row["invoiceid_real"]) for row in expected
    ]


async def test_show_invoices_returns_typed_invoices(
    client: AsyncQvickly, capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example("first_lookup")
    invoices = await example.show_invoices(client, "10001")
    assert [invoice.to_pay for invoice in invoices] == [
        Decimal("13144.00"),
        Decimal("5194.00"),
        Decimal("1752.00"),
    ]
    assert await example.show_invoices(client, "10000") == []
    assert len(capsys.readouterr().out.splitlines()) == 3


@pytest.mark.socket
async def test_test_mode_example_sends_test_mode(
    sandbox: Sandbox, sandbox_env: ServerHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    test_invoice = Invoice(number="T-1", status=InvoiceStatus.SENT, to_pay=Decimal("10.00"))
    live_invoice = Invoice(number="LIVE-1", status=InvoiceStatus.SENT, to_pay=Decimal("99.00"))
    sandbox.add_customer("12345", [test_invoice], test_mode=True)
    sandbox.add_customer("12345", [live_invoice], test_mode=False)
    example = load_example("qvickly_test_mode")
    await example.main()
    assert capsys.readouterr().out == "T-1 Sent 10.00 None\n"
    assert sandbox.counters.calls("getAccountinfo", outcome="ok") == 1


# -- web apps ---------------------------------------------------------------------------------


async def check_web_app(app: Any, sandbox: Sandbox) -> None:
    """The behaviour both web examples promise, through ``httpx.ASGITransport``."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            health = await http.get("/health")
            assert (health.status_code, health.json()) == (200, {"status": "ok"})
            assert sandbox.counters.calls("getAccountinfo") == 1

            found = await http.get("/customers/10001/invoices")
            assert found.status_code == 200
            expected = _typed(sandbox, "10001")
            assert found.json() == [invoice.to_dict() for invoice in expected]
            first = found.json()[0]
            assert first["number"] == str(flat_rows(sandbox, "10001")[0]["invoiceid_real"])
            assert Decimal(first["to_pay"]) == expected[0].to_pay
            assert first["to_pay"].split(".")[1].__len__() == 2  # "1752.00", never a float

            before = sandbox.counters.total()
            blank = await http.get("/customers/%20/invoices")
            assert blank.status_code == 400
            assert sandbox.counters.total() == before  # refused before sending

            with sandbox.faults_applied(http_503=Fault(first_attempts=1)):
                down = await http.get("/health")
            assert down.status_code == 503
            assert down.json() == {"status": "unavailable", "error": "QvicklyServerError"}
            client = app.state.qvickly
    with pytest.raises(RuntimeError, match="closed"):  # the lifespan closed the client
        await client.ping()


async def test_starlette_example(sandbox: Sandbox) -> None:
    pytest.importorskip("starlette", reason="the Starlette example needs starlette")
    example = load_example("starlette_app")
    await check_web_app(example.create_app(lambda: AsyncQvickly.for_sandbox(sandbox)), sandbox)


async def test_fastapi_example(sandbox: Sandbox) -> None:
    pytest.importorskip("fastapi", reason="the FastAPI example needs fastapi")
    example = load_example("fastapi_app")
    await check_web_app(example.create_app(lambda: AsyncQvickly.for_sandbox(sandbox)), sandbox)


async def _get(app: Any, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # raise_app_exceptions: a 500 would raise here
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        return await http.get(path, **kwargs)


async def test_fastapi_recipe_maps_sdk_errors_to_502_503_504(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_example("fastapi_app")
    monkeypatch.setattr(example, "LOOKUP_DEADLINE", 0.3)
    app = example.create_app(lambda: AsyncQvickly.for_sandbox(sandbox))
    path = "/customers/10001/invoices"
    caplog.set_level(logging.INFO)
    with no_backoff():
        async with app.router.lifespan_context(app):
            with sandbox.faults_applied(http_503=1.0):
                down = await _get(app, path, headers={"X-Request-ID": "req-42"})
            assert down.status_code == 503
            assert down.headers["Retry-After"] == "5"
            assert down.headers["X-Request-ID"] == "req-42"
            assert down.json() == {
                "error": "upstream_unavailable",
                "detail": "QvicklyServerError",
                "logid": None,
                "request_id": "req-42",
            }
            assert sandbox.counters.calls(outcome="fault:http_503") == 3  # max_retries=2

            with sandbox.faults_applied(rate_limit=1.0, retry_after=7):
                limited = await _get(app, path)
            assert (limited.status_code, limited.headers["Retry-After"]) == (503, "7")

            with sandbox.faults_applied(bad_hash=1.0):
                forged = await _get(app, path)
            assert (forged.status_code, forged.json()["detail"]) == (502, "QvicklySignatureError")
            assert "Retry-After" not in forged.headers

            with sandbox.faults_applied(latency=2.0):
                slow = await _get(app, path)
            assert (slow.status_code, slow.json()["detail"]) == (
                504,
                "QvicklyDeadlineExceededError",
            )

            blank = await _get(app, "/customers/%20/invoices")
            assert blank.status_code == 400
            assert blank.json()["error"] == "bad_request"

    # The SDK's own retry warnings carry the id of the request they slowed down.
    retries = [r for r in caplog.records if r.name == "qvickly_async" and "retrying" in r.message]
    assert retries
    assert {getattr(record, "request_id", None) for record in retries[:2]} == {"req-42"}
    web = [r for r in caplog.records if r.name == "shop.web"]
    assert all(record.levelno == logging.WARNING for record in web)
    assert all(record.exc_info is None for record in web)  # one line each, no traceback


async def test_fastapi_recipe_answers_refused_credentials_with_503_and_an_error_log(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    example = load_example("fastapi_app")
    app = example.create_app(lambda: AsyncQvickly.for_sandbox(sandbox, secret="rotated"))
    async with app.router.lifespan_context(app):
        response = await _get(app, "/customers/10001/invoices")
    assert response.status_code == 503
    assert response.json()["detail"] == "QvicklyAuthenticationError"
    assert response.json()["logid"]  # the server's log id, for a support request
    [record] = [r for r in caplog.records if r.name == "shop.web"]
    assert record.levelno == logging.ERROR
    assert "check the credentials" in record.getMessage()
    assert "rotated" not in caplog.text


@pytest.mark.socket
async def test_fastapi_recipe_against_the_faulty_sandbox_server(
    sandbox: Sandbox, sandbox_env: ServerHandle
) -> None:
    """As deployed: ``from_env()``, the default transport, a real socket, half the calls failing."""
    example = load_example("fastapi_app")
    app = example.create_app()  # AsyncQvickly.from_env(): QVICKLY_BASE_URL is the sandbox
    incoming = 200
    sandbox.set_faults(FaultPlan(seed=5, http_503=0.35, reset=0.15))
    statuses: list[int] = []
    with no_backoff():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)  # an unhandled error (a 500) raises here
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
                gate = asyncio.Semaphore(32)

                async def one(index: int) -> None:
                    async with gate:
                        response = await http.get(f"/customers/{10001 + index % 30}/invoices")
                    statuses.append(response.status_code)
                    if response.status_code == 503:
                        assert response.headers["Retry-After"] == "5"
                        assert response.json()["error"] == "upstream_unavailable"

                await asyncio.gather(*(one(index) for index in range(incoming)))
    assert set(statuses) == {200, 503}  # never a 500
    # One budget for all requests: at most 10 retries plus 10 % of the calls, instead of
    # up to three attempts per request.
    upstream = sandbox.counters.calls("getInvoicesByCustomer")
    assert incoming <= upstream <= incoming + example.RETRY_MINIMUM + example.RETRY_RATIO * incoming


# -- batch export -----------------------------------------------------------------------------


async def test_batch_export_csv_survives_faults_and_reports_bad_input() -> None:
    sandbox = Sandbox(customers=40, faults=FaultPlan(seed=7, http_503=0.1, api_9008=0.05))
    example = load_example("batch_export")
    numbers = [str(number) for number in sandbox.customer_numbers]
    progress: list[Any] = []
    out = io.StringIO()
    async with AsyncQvickly.for_sandbox(sandbox) as client:
        summary = await example.export(
            client, [*numbers, " 10001"], out, fmt="csv", on_progress=progress.append
        )
    expected = sum(sandbox.invoice_count(number) for number in numbers)
    assert summary.customers == 41
    assert summary.invoices == expected
    assert list(summary.failed) == [" 10001"]
    assert "QvicklyInputError" in summary.failed[" 10001"]
    assert sandbox.counters.calls(outcome="fault") > 0  # faults happened and were retried
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == expected
    first = next(row for row in rows if row["number"] == "10001002")
    assert first == {
        "customer_number": "10001",
        "number": "10001002",
        "invoice_type": "F",
        "status": "Sent",
        "invoice_date": "2023-10-12",
        "due_date": "2023-11-01",
        "to_pay": "1752.00",
        "balance_due": "1752.00",  # the sandbox sends "1752": to_dict() writes two decimals
    }
    assert (progress[-1].done, progress[-1].failed, progress[-1].total) == (41, 1, 41)


async def test_batch_export_jsonl_streams_a_lazy_input(client: AsyncQvickly) -> None:
    example = load_example("batch_export")
    out = io.StringIO()
    numbers = example.read_numbers(["10001\n", "\n", "10000\n", "10007\n", "10001\n"])
    summary = await example.export(client, numbers, out, fmt="jsonl", on_progress=None)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert summary.customers == 3  # the duplicate is looked up once
    assert summary.invoices == len(lines) == 3 + 250
    assert {line["customer_number"] for line in lines} == {"10001", "10007"}


def test_batch_export_main_writes_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example("batch_export")
    customers = tmp_path / "customers.txt"
    customers.write_text("10001\n10007\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    assert example.main([str(target), str(customers)]) == 0
    assert len(target.read_text(encoding="utf-8").splitlines()) == 3 + 250
    assert "253 invoices of 2 customers" in capsys.readouterr().err


# -- timeouts, deadlines, retries -------------------------------------------------------------


async def test_retries_example_logs_each_retry(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    example = load_example("retries")
    sandbox.set_faults(http_503=Fault(first_attempts=2))
    caplog.set_level(logging.INFO, logger="shop.billing")
    async with example.make_client(**sandbox_overrides(sandbox)) as client:
        assert client.options.max_retries == 3
        assert client.options.deadline == 30.0
        invoices = await client.get_invoices_by_customer("10001")
    assert len(invoices) == 3
    messages = [r.getMessage() for r in caplog.records if r.name == "shop.billing"]
    assert len(messages) == 2
    assert messages[0].startswith(
        "retrying getInvoicesByCustomer after attempt 1 failed with QvicklyServerError"
    )
    assert sandbox.counters.calls("getInvoicesByCustomer", key="10001") == 3


async def test_invoices_within_keeps_its_deadline(sandbox: Sandbox, client: AsyncQvickly) -> None:
    example = load_example("retries")
    sandbox.set_faults(latency=1.0)
    started = time.monotonic()
    with pytest.raises(QvicklyDeadlineExceededError):
        await example.invoices_within(client, "10001", 0.2)
    assert time.monotonic() - started < 0.9
    sandbox.set_faults(None)
    assert len(await example.invoices_within(client, "10001", 2.0)) == 3


def payment() -> dict[str, Any]:
    return {"PaymentData": {"method": "1", "orderid": "order-1"}, "Cart": {}}


def created(call: FunctionCall) -> dict[str, str]:
    order_id = call.data["PaymentData"]["orderid"]
    return {"number": "900001", "status": "Created", "orderid": order_id, "url": ""}


async def test_add_payment_is_sent_once_and_ambiguity_is_reported(
    sandbox: Sandbox, client: AsyncQvickly
) -> None:
    example = load_example("retries")
    sandbox.register_function("addPayment", created)
    result = await example.add_payment(client, payment())
    assert result["number"] == "900001"

    for fault in ("http_503", "reset", "bad_hash"):
        sandbox.reset()
        with (
            sandbox.faults_applied(**{fault: Fault(first_attempts=1)}),
            pytest.raises(example.PaymentOutcomeUnknownError),
        ):
            await example.add_payment(client, payment())
        assert sandbox.counters.calls("addPayment") == 1, fault  # never sent twice


async def test_add_payment_lets_definite_answers_through(
    sandbox: Sandbox, client: AsyncQvickly
) -> None:
    example = load_example("retries")

    def already_exists(call: FunctionCall) -> None:
        raise FunctionError(5199)

    sandbox.register_function("addPayment", already_exists)
    with pytest.raises(QvicklyStateError) as caught:
        await example.add_payment(client, payment())
    assert caught.value.code == 5199


async def test_add_payment_retries_what_never_left() -> None:
    example = load_example("retries")
    attempts: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    overrides = {
        "merchant_id": "1",
        "secret": "s",
        "base_url": "http://127.0.0.1:9/",
        "transport": httpx.MockTransport(refuse),
    }
    async with example.make_client(**overrides) as client:
        with pytest.raises(QvicklyConnectionError) as caught:
            await example.add_payment(client, payment())
    assert caught.value.request_sent is False
    assert len(attempts) == 4  # provably never sent: retried even for a write


@pytest.mark.socket
async def test_retries_main(
    sandbox_env: ServerHandle, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example("retries")
    monkeypatch.setattr(sys, "argv", ["retries.py", "10007"])
    await example.main()
    assert capsys.readouterr().out == "250 invoices\n"


# -- handling errors --------------------------------------------------------------------------


async def test_describe_lookup_by_class_and_code(sandbox: Sandbox, client: AsyncQvickly) -> None:
    example = load_example("handling_errors")
    assert await example.describe_lookup(client, "10001") == "3 invoices"
    assert (await example.describe_lookup(client, " 10001")).startswith("bad input: ")

    async with AsyncQvickly.for_sandbox(sandbox, secret="not-the-secret") as intruder:
        refused = await example.describe_lookup(intruder, "10001")
    assert re.fullmatch(r"credentials refused: code 9013, logid \d+", refused)

    with sandbox.faults_applied(api_9008=1.0):
        busy = await example.describe_lookup(client, "10001")
    assert re.fullmatch(r"Qvickly error 9008: .+ \(logid \d+\)", busy)

    with sandbox.faults_applied(http_503=1.0):
        down = await example.describe_lookup(client, "10001")
    assert down == "Qvickly unreachable or garbled (QvicklyServerError), retries exhausted"


async def test_invoices_by_pno_turns_a_code_into_value_error(
    sandbox: Sandbox, client: AsyncQvickly
) -> None:
    example = load_example("handling_errors")
    rows = await example.invoices_by_pno(client, sandbox.pno_of(10001), "Sent,Paid")
    assert len(rows) == 2
    with pytest.raises(ValueError, match="status must be") as caught:
        await example.invoices_by_pno(client, sandbox.pno_of(10001), "Paid")
    assert getattr(caught.value.__cause__, "code", None) == example.STATUS_NOT_CORRECT == 7022


async def test_handling_errors_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example("handling_errors")
    monkeypatch.setattr(sys, "argv", ["handling_errors.py"])
    await example.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "'10001': 3 invoices"
    assert lines[1].startswith("' 10001': bad input: ")
    assert lines[2] == "'10000': 0 invoices"
    assert re.fullmatch(
        r"getPaymentinfo failed with Qvickly error 5201: .+ \(logid \d+\)", lines[3]
    )


# -- testing your own app ---------------------------------------------------------------------


def test_the_testing_howto_suite_passes() -> None:
    """Run ``docs/examples/test_billing.py`` with pytest, as a user would."""
    plugin_installed = any(
        entry.name == "qvickly_sandbox" for entry in entry_points(group="pytest11")
    )
    plugin = [] if plugin_installed else ["-p", "qvickly_async.sandbox.pytest_plugin"]
    # The package under test first (site-packages in nox -s tests), then the checkout.
    home = str(Path(qvickly_async.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([home, str(ROOT), *sys.path])}
    completed = subprocess.run(  # noqa: S603 - our own interpreter and files
        [
            sys.executable,
            "-m",
            "pytest",
            str(EXAMPLES / "test_billing.py"),
            "-q",
            "-p",
            "no:cacheprovider",
            *plugin,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert re.search(r"\b7 passed\b", completed.stdout), completed.stdout


async def test_billing_main(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("billing")
    await example.main()
    assert Decimal(capsys.readouterr().out) == Decimal("1752.00")


# -- custom HTTP client -----------------------------------------------------------------------


@pytest.mark.socket
async def test_custom_http_client_hooks_and_trace(
    sandbox: Sandbox, server: ServerHandle, caplog: pytest.LogCaptureFixture
) -> None:
    certifi = pytest.importorskip("certifi", reason="the CA bundle case needs certifi")
    example = load_example("custom_http_client")
    events: list[str] = []

    async def trace(event: str, info: dict[str, Any]) -> None:
        events.append(event)

    caplog.set_level(logging.INFO, logger="shop.http")
    http = example.build_http_client(ca_bundle=certifi.where(), trace=trace)
    async with http:
        client = make_client(sandbox, server.url, http_client=http)
        async with client:
            with sandbox.faults_applied(http_503=Fault(first_attempts=1)):
                invoices = await client.get_invoices_by_customer("10001")
        assert not http.is_closed  # the SDK never closes a client it was given
    assert len(invoices) == 3
    assert "connection.connect_tcp.started" in events
    assert "http11.receive_response_headers.complete" in events
    logged = [r.getMessage() for r in caplog.records if r.name == "shop.http"]
    assert len(logged) == 2  # the hook sees every attempt, the retry included
    assert re.fullmatch(
        rf"POST {re.escape(server.url)} -> 503 \(request id [0-9a-f]{{32}}\)", logged[0]
    )
    assert logged[1].startswith(f"POST {server.url} -> 200 ")


@pytest.mark.socket
async def test_custom_http_client_main(
    sandbox_env: ServerHandle, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example("custom_http_client")
    monkeypatch.setattr(example, "PROXY", None)
    monkeypatch.setattr(example, "CA_BUNDLE", None)
    await example.main()
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "connection.connect_tcp.started"
    assert "http11.receive_response_body.complete" in printed


# -- logging ----------------------------------------------------------------------------------


@pytest.fixture
def qvickly_logger() -> Iterator[logging.Logger]:
    """The ``qvickly_async`` logger, restored after the test."""
    logger = logging.getLogger("qvickly_async")
    level, handlers = logger.level, list(logger.handlers)
    yield logger
    logger.setLevel(level)
    logger.handlers[:] = handlers


async def test_logging_masks_personal_data(
    sandbox: Sandbox, client: AsyncQvickly, qvickly_logger: logging.Logger
) -> None:
    example = load_example("logging_setup")
    stream = io.StringIO()
    example.enable_qvickly_logging(logging.DEBUG, stream)
    with sandbox.faults_applied(http_503=Fault(first_attempts=1)):
        await client.get_invoices_by_customer("10001")
    log = stream.getvalue()
    assert "WARNING qvickly_async: getInvoicesByCustomer attempt 1 failed" in log
    assert "DEBUG qvickly_async: getInvoicesByCustomer attempt 2 (10001): sending" in log
    assert '"topay": "13144.00"' in log  # amounts stay readable
    sandbox.configure(invoice_shape="nested")
    details = sandbox.expected_invoices("10001")[0]["Customer"]
    sandbox.configure(invoice_shape="flat")
    secrets = [
        sandbox.secret,
        details["pno"],
        details["Billing"]["email"],
        details["Billing"]["lastname"],
        flat_rows(sandbox, "10001")[0]["name"],
    ]
    for secret in secrets:
        assert secret not in log


async def test_logging_main(
    capsys: pytest.CaptureFixture[str], qvickly_logger: logging.Logger
) -> None:
    example = load_example("logging_setup")
    await example.main()
    out = capsys.readouterr().out
    assert "DEBUG qvickly_async: getInvoicesByCustomer attempt 1 (10001): sending" in out
    assert "Hägg" not in out


# -- money and dates --------------------------------------------------------------------------

ODD_ROWS: list[dict[str, Any]] = [
    {
        "invoiceid_real": "1",
        "status": "Sent",
        "topay": "1000.50",
        "balancedue": "1000.50",
        "invoicedate": "2024-01-01",
        "duedate": "2024-01-31",
    },
    {
        "invoiceid_real": "2",
        "status": "Disputed",  # a status the SDK does not know
        "topay": "99.90",
        "balancedue": "99.90",
        "duedate": "0000-00-00",  # no due date
    },
    {  # the nested shape: every amount in öre
        "PaymentData": {
            "number": "3",
            "status": "paid",
            "currency": "SEK",
            "duedate": "2024-02-01",
        },
        "Cart": {"Total": {"withouttax": "100040", "tax": "25010", "withtax": "125050"}},
        "PaymentInfo": {"balancedue": "0"},
    },
]


async def test_money_and_dates(sandbox: Sandbox, client: AsyncQvickly) -> None:
    example = load_example("money_and_dates")
    sandbox.add_customer("80001", ODD_ROWS)
    invoices = await client.get_invoices_by_customer("80001")
    assert example.totals_by_status(invoices) == {
        "SENT": Decimal("1000.50"),
        "other: Disputed": Decimal("99.90"),
        "PAID": Decimal("1250.50"),
    }
    assert invoices[1].due_date is None
    assert invoices[2].cart is not None
    assert invoices[2].cart.total is not None
    assert invoices[2].cart.total.tax == Decimal("250.10")
    assert example.overdue(invoices, today=date(2024, 6, 1)) == ["1"]
    assert example.to_ore(Decimal("1752.50")) == 175250
    with pytest.raises(ValueError, match="fraction"):
        example.to_ore(Decimal("0.005"))


async def test_money_and_dates_main(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("money_and_dates")
    await example.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "{'PAID': Decimal('18338.00'), 'SENT': Decimal('1752.00')}"
    assert lines[1] == "['10001002']"
    assert lines[2] == "175250"


# -- callbacks --------------------------------------------------------------------------------


def payment_numbers(sandbox: Sandbox, count: int) -> list[str]:
    """The first ``count`` payment (invoice) numbers of the demo data."""
    numbers: list[str] = []
    for customer in sandbox.customer_numbers:
        numbers.extend(str(row["invoiceid_real"]) for row in sandbox.expected_invoices(customer))
        if len(numbers) >= count:
            return numbers[:count]
    raise AssertionError("not enough demo payments")


def callback_app(name: str, sandbox: Sandbox, fulfil: Any) -> Any:
    example = load_example(name)
    return example.create_app(
        lambda: AsyncQvickly.for_sandbox(sandbox), secret=sandbox.secret, fulfil=fulfil
    )


@contextlib.asynccontextmanager
async def serve_callback_app(name: str, app: Any) -> AsyncIterator[str]:
    from .callbacks._servers import aiohttp_server, uvicorn_server

    server = uvicorn_server(app) if name == "fastapi_callbacks" else aiohttp_server(app)
    async with server as url:
        yield url


@pytest.mark.socket
@pytest.mark.parametrize("name", ["fastapi_callbacks", "aiohttp_callbacks"])
async def test_callback_examples_confirm_and_fulfil_paid_payments(
    name: str, sandbox: Sandbox
) -> None:
    pytest.importorskip("fastapi", reason="the FastAPI example needs fastapi")
    fulfilled: list[tuple[str | None, str, str]] = []

    async def fulfil(callback: Any, payment: Any) -> None:
        fulfilled.append((callback.order_id, payment.number, str(payment.status)))

    paid, cancelled, unpaid = payment_numbers(sandbox, 3)
    sandbox.set_payment_status(unpaid, "Created", test_mode=None)
    app = callback_app(name, sandbox, fulfil)
    async with serve_callback_app(name, app) as base, httpx.AsyncClient(base_url=base) as http:
        url = f"{base}/qvickly/callback"
        first = sandbox.payment_event(paid, "paid", url=url)
        second = sandbox.payment_event(cancelled, "cancelled", url=url)
        # A signed callback claims "paid" for a payment that is not (stale, or a bug): the
        # confirmation with getPaymentinfo keeps it from being fulfilled.
        forged = sandbox.callbacks.send(
            url,
            callback_body(callback_data(unpaid, "paid"), secret=sandbox.secret),
            number=unpaid,
        )
        assert await sandbox.callbacks.wait_async(10)
        records = {record.id: record for record in sandbox.callbacks.records()}
        assert {records[i].state for i in (first, second, forged)} == {"delivered"}
        back = await http.get(
            "/qvickly/return",
            params=redirect_params(callback_data(paid, "paid"), secret=sandbox.secret),
        )
        assert back.status_code == 200
        assert back.json() == {"payment": paid, "status": "Paid"}
        unsigned = await http.get("/qvickly/return", params={"data": '{"number":"1"}'})
        assert unsigned.status_code == 403
        junk = await http.get(
            "/qvickly/return", params={"data": "[", "credentials": '{"hash":"x"}'}
        )
        assert junk.status_code == 400
    order = sandbox.expected_payment(paid)
    assert order is not None
    assert fulfilled == [(order["PaymentData"]["orderid"], paid, "Paid")]


@pytest.mark.socket
async def test_fastapi_example_handles_1000_sandbox_callbacks_once_despite_failures(
    sandbox: Sandbox,
) -> None:
    """1,000 payments paid; the shop's code fails 10 % of the time; 100 events sent twice."""
    pytest.importorskip("fastapi", reason="the FastAPI example needs fastapi")
    import random
    from collections import Counter

    flaky = random.Random(13)
    succeeded: Counter[str] = Counter()
    failed: Counter[str] = Counter()

    async def fulfil(callback: Any, payment: Any) -> None:
        if flaky.random() < 0.10:
            failed[payment.number] += 1
            raise ConnectionError("the order database did not answer")
        succeeded[payment.number] += 1

    numbers = payment_numbers(sandbox, 1000)
    deliveries = sandbox.configure_callbacks(speedup=60_000, timeout=10)  # 1 min -> 1 ms
    app = callback_app("fastapi_callbacks", sandbox, fulfil)
    async with serve_callback_app("fastapi_callbacks", app) as base:
        url = f"{base}/qvickly/callback"
        ids = [sandbox.payment_event(number, "paid", url=url) for number in numbers]
        # Qvickly delivers at least once: the same event a second time, meanwhile.
        ids += [sandbox.payment_event(number, "paid", url=url) for number in numbers[::10]]
        assert await deliveries.wait_async(60), f"still pending: {deliveries.pending}"
    assert succeeded == Counter(dict.fromkeys(numbers, 1))  # every payment exactly once
    assert sum(failed.values()) > 50  # the failures did happen (about 10 %)
    records = deliveries.records()
    assert sorted(record.id for record in records) == sorted(ids)  # nothing lost
    for record in records:
        assert record.state == "delivered", record
        *before, last = record.attempts
        assert last.status_code == 200  # it stopped after the first 200 ...
        assert all(attempt.status_code == 503 for attempt in before)  # ... and only then
        assert [attempt.attempt for attempt in record.attempts] == list(
            range(1, len(record.attempts) + 1)
        )
    refused = [a for record in records for a in record.attempts if a.status_code != 200]
    assert len(refused) == sum(failed.values())  # each failure was answered 503 and retried


async def test_redis_recipe_shares_handled_events_and_locks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("fakeredis", reason="the Redis recipe is tested with fakeredis")
    from fakeredis import FakeAsyncRedis

    from qvickly_async.callbacks import CallbackProcessor

    example = load_example("redis_callback_store")
    await example.main()
    assert capsys.readouterr().out == "[200, 200, 200, 200, 200, 200] ['1001:paid']\n"

    redis = FakeAsyncRedis()
    inside = 0
    most = 0
    runs = 0

    async def slow_handler(callback: Any) -> None:
        nonlocal inside, most, runs
        inside += 1
        most = max(most, inside)
        await asyncio.sleep(0.01)
        inside -= 1
        runs += 1
        if runs == 1:
            raise ConnectionError("first run fails")

    workers = [
        CallbackProcessor(
            slow_handler,
            secret="s",
            store=example.RedisCallbackStore(redis),
            locks=example.redis_locks(redis, timeout=5),
        )
        for _ in range(3)
    ]
    body = callback_body(callback_data("7", "paid"), secret="s")
    outcomes = await asyncio.gather(*(worker.process(body) for worker in workers * 2))
    assert sorted(outcome.status_code for outcome in outcomes) == [200] * 5 + [503]
    assert runs == 2 and most == 1  # one worker at a time; handled once after the failure
    assert await redis.ttl("qvickly:handled:7:paid") > 90 * 24 * 3600


PHP_REDIRECT = r"""
[$secret, $number] = [$argv[1], $argv[2]];
$data = ["number" => $number, "status" => "Paid", "orderid" => "P$number",
         "url" => "https://api.qvickly.io/invoice/$number/x"];
$json = json_encode($data);
$hash = hash_hmac('sha512', $json, $secret);
echo http_build_query(["credentials" => json_encode(["hash" => $hash]), "data" => $json]), "\n";
echo json_encode(["credentials" => ["hash" => $hash], "data" => $data]), "\n";
"""


def php_signed_redirect(php: str, secret: str, number: str) -> tuple[str, str]:
    """(query string, JSON envelope) of a "Paid" redirect/callback signed by real PHP."""
    command = [php, "-r", PHP_REDIRECT, secret, number]
    done = subprocess.run(command, capture_output=True, check=True, timeout=30)  # noqa: S603
    query, envelope = done.stdout.decode("ascii").splitlines()
    return query, envelope


@pytest.mark.php
@pytest.mark.socket
async def test_fastapi_example_accepts_what_real_php_signs(sandbox: Sandbox, php: str) -> None:
    pytest.importorskip("fastapi", reason="the FastAPI example needs fastapi")
    [number] = payment_numbers(sandbox, 1)
    sandbox.set_payment_status(number, "Paid", test_mode=None)
    query, envelope = php_signed_redirect(php, sandbox.secret, number)
    fulfilled: list[str] = []

    async def fulfil(callback: Any, payment: Any) -> None:
        fulfilled.append(payment.number)

    app = callback_app("fastapi_callbacks", sandbox, fulfil)
    async with (
        serve_callback_app("fastapi_callbacks", app) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        back = await http.get(f"/qvickly/return?{query}")  # the GET redirect
        form = await http.post(
            "/qvickly/callback",
            content=query.encode("ascii"),  # the same fields as a form POST
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        raw = await http.post(
            "/qvickly/callback",
            content=envelope.encode("ascii"),
            headers={"Content-Type": "application/json"},
        )
        altered = await http.post("/qvickly/callback", content=envelope.replace("Paid", "Pai"))
    assert back.status_code == 200 and back.json() == {"payment": number, "status": "Paid"}
    assert (form.status_code, form.text) == (200, "ok")
    assert (raw.status_code, raw.text) == (200, "already handled")  # the same event
    assert altered.status_code == 403
    assert fulfilled == [number]


# -- nightly sync -------------------------------------------------------------------------------


def _synced(path: Path) -> dict[str, list[dict[str, Any]]]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    synced = {line["customer_number"]: line["invoices"] for line in lines}
    assert len(synced) == len(lines)  # every customer once
    return synced


async def test_nightly_sync_writes_results_and_exactly_the_failures(tmp_path: Path) -> None:
    example = load_example("nightly_sync")
    sandbox = Sandbox(customers=60, faults=FaultPlan(seed=3, http_503=0.6))
    numbers = [str(number) for number in sandbox.customer_numbers]
    with no_backoff():
        async with AsyncQvickly.for_sandbox(sandbox) as client:
            summary = await example.sync_merchant(
                client, "shop", iter(numbers), tmp_path, rate_limit=5000.0
            )
    synced = _synced(tmp_path / "shop.jsonl")
    failed = (tmp_path / "shop.failed").read_text(encoding="utf-8").split()
    assert 0 < len(failed) < len(numbers)  # a bad night, but not a lost one
    assert sorted([*synced, *failed]) == sorted(numbers)
    assert (summary.customers, summary.failed) == (len(numbers), len(failed))
    assert summary.invoices == sum(len(invoices) for invoices in synced.values())
    for number, invoices in synced.items():
        assert invoices == [row.to_dict() for row in _typed(sandbox, number)]
    assert not (tmp_path / "shop.jsonl.part").exists()

    # The re-run asks for the failed customers only, and completes the file.
    sandbox.set_faults(None)
    sandbox.counters.reset()
    with no_backoff():
        async with AsyncQvickly.for_sandbox(sandbox) as client:
            again = await example.rerun_failures(client, "shop", tmp_path, rate_limit=5000.0)
    assert again.customers == len(failed) and again.failed == 0
    assert sandbox.counters.total() == len(failed)
    for number in failed:
        assert sandbox.counters.calls("getInvoicesByCustomer", key=number) == 1
    assert sorted(_synced(tmp_path / "shop.jsonl")) == sorted(numbers)
    assert (tmp_path / "shop.failed").read_text(encoding="utf-8") == ""


def _typed(sandbox: Sandbox, number: str) -> list[Invoice]:
    from qvickly_async._codec import structure_invoices

    return structure_invoices(sandbox.expected_invoices(number))


async def test_nightly_sync_keeps_last_nights_file_when_credentials_are_refused(
    tmp_path: Path,
) -> None:
    example = load_example("nightly_sync")
    sandbox = Sandbox(customers=300)
    (tmp_path / "shop.jsonl").write_text("last night\n", encoding="utf-8")
    (tmp_path / "shop.failed").write_text("10003\n", encoding="utf-8")
    numbers = (str(number) for number in sandbox.customer_numbers)
    async with AsyncQvickly.for_sandbox(sandbox, secret="wrong-secret") as client:
        with pytest.raises(QvicklyAuthenticationError):
            await example.sync_merchant(client, "shop", numbers, tmp_path, rate_limit=5000.0)
    assert (tmp_path / "shop.jsonl").read_text(encoding="utf-8") == "last night\n"
    assert (tmp_path / "shop.failed").read_text(encoding="utf-8") == "10003\n"
    assert not (tmp_path / "shop.jsonl.part").exists()
    assert sandbox.counters.total() < 100  # stopped early, not 300 refused lookups


def test_nightly_sync_main_and_the_job_runner_entry_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example("nightly_sync")
    with no_backoff():
        assert example.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "first run: {'merchant': 'demo', 'customers': 200" in out
    assert "'failed': 0" in out.splitlines()[-1]
    assert len(_synced(tmp_path / "demo.jsonl")) == 200
    # arq: a plain class naming the task; no runner-level retries of a whole merchant.
    assert example.WorkerSettings.functions == (example.arq_sync_merchant,)
    assert example.WorkerSettings.max_tries == 1
    # Celery: a sync function around the same coroutine.
    sandbox = Sandbox(customers=5)
    (tmp_path / "shop.customers").write_text("10001\n10002\n", encoding="utf-8")
    result = example.celery_sync_merchant(
        "shop", str(tmp_path), make_client=lambda merchant: AsyncQvickly.for_sandbox(sandbox)
    )
    assert result["customers"] == 2 and result["failed"] == 0
    assert sorted(_synced(tmp_path / "shop.jsonl")) == ["10001", "10002"]


# -- payments and the other typed reads (docs/howto/payments.md) -------------------------------


async def test_payments_example_functions(sandbox: Sandbox, client: AsyncQvickly) -> None:
    example = load_example("payments")
    payments = await example.payments_of_customer(client, "10001")
    invoices = await client.get_invoices_by_customer("10001")
    assert [payment.number for payment in payments] == [invoice.number for invoice in invoices]
    for payment in payments:
        wire = sandbox.expected_payment(payment.number)
        assert wire is not None
        assert payment.total == Decimal(wire["Cart"]["Total"]["withtax"]) / 100
    pno = sandbox.pno_of(10001)
    sent = [
        row
        for row in flat_rows(sandbox, "10001")
        if row["distributor_status"] in ("Created", "Sent")
    ]
    expected = sum(
        (Decimal(str(row["balancedue"])) for row in sent if row["status"] == "Sent"), Decimal(0)
    )
    assert await example.unpaid_total(client, pno) == expected
    plan = await example.cheapest_plan(client, Decimal("1500.00"))
    plans = await client.get_payment_plans(total_with_tax=Decimal("1500.00"))
    assert plan is not None and plan.monthly_cost == min(
        p.monthly_cost for p in plans if p.monthly_cost
    )
    with pytest.raises(QvicklyNotFoundError):  # 5301: no plan for 50 kronor
        await example.cheapest_plan(client, Decimal("50.00"))


async def test_payments_example_main(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("payments")
    await example.main()
    printed = capsys.readouterr().out
    sandbox = Sandbox()
    for row in flat_rows(sandbox, "10001"):
        assert str(row["invoiceid_real"]) in printed
    assert "merchant: Sandlådan Handel AB" in printed
    assert "checkout order: 10001000" in printed
    assert re.search(r"^plan: .+ \d+\.\d\d$", printed, re.MULTILINE)
