"""The secret and personal data never show up where a developer's tools look.

A hypothesis-driven sequence of operations (successes, every error class, retries, batches,
streams, ping, a state-changing call) runs against the sandbox, with every logger at DEBUG
and a handler on the root logger. Generated per example: the merchant secret, a wrong secret,
personal numbers and e-mail addresses (inside the served invoices, as a customer number, and
in an addPayment). Afterwards none of them may appear in:

* any log record (message with its args rendered, and any exception text it carries);
* any exception's ``str``/``repr``/notes, or its traceback rendered without locals (causes,
  contexts and exception groups included);
* the ``repr`` of a public object: client, options, ``Secret``, sandbox, results, invoices,
  ``RetryDetails``, ``BatchProgress``, streams; nor ``attrs.asdict(client.options)``.

The secret is searched raw, as hex of its bytes and as base64 (standard and URL-safe).

Tracebacks rendered *with locals* (``traceback.TracebackException(..., capture_locals=True)``,
what some error trackers send) must not hold the secret either: the SDK keeps it inside
``Secret`` (masked ``repr``) and reveals it only inside the signing and verifying expressions,
so no frame has it in a local. Personal data is another matter, decided deliberately: frames
of a call necessarily hold the caller's own arguments (the customer number, the ``data``
mapping) and the bytes being sent and received, exactly as the caller's frame does; wrapping
every such value would make debugging worse without protecting anything the caller's frame
does not already show. So with locals only the secret is checked, and the personal data that
appears there is counted and reported (see the test output); turn off local-variable capture
in error trackers, or scrub there, when that matters.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import traceback
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qvickly_async import AsyncQvickly, CustomerResult, QvicklyError, RetryDetails
from qvickly_async.sandbox import Fault, FaultPlan, FunctionCall, FunctionError, Sandbox

from ._hostile import bound_unlistening_socket, register_add_payment, report

OPERATIONS = (
    "lookup_nested",
    "lookup_pno_like",
    "lookup_flat",
    "batch",
    # "batch_fail_fast": leaks today, see test_fail_fast_note_masks_the_customer_number;
    # add it back here when that test starts to pass.
    "stream_early_exit",
    "ping",
    "add_payment",
    "retry_then_ok",
    "always_failing",
    "wrong_secret",
    "not_found",
    "validation",
    "unknown_function",
    "input_errors",
    "deadline",
    "decode_error",
    "connection_refused",
    "read_timeout",
    "http_status",
    "state_and_configuration",
)
FAULTS = ("reset", "http_502", "http_503", "rate_limit", "api_9008", "truncated", "bad_hash")


@attrs.frozen
class People:
    """Generated personal data (and secrets) of one example."""

    secret: str
    wrong_secret: str
    pnos: tuple[str, ...]
    emails: tuple[str, ...]

    def secret_forms(self) -> list[str]:
        forms = []
        for secret in (self.secret, self.wrong_secret):
            raw = secret.encode("utf-8")
            forms += [
                secret,
                raw.hex(),
                base64.b64encode(raw).decode(),
                base64.urlsafe_b64encode(raw).decode(),
                repr(raw)[2:-1],
            ]
        return forms

    def personal_forms(self) -> list[str]:
        forms = list(self.emails)
        for pno in self.pnos:
            forms += [pno, pno.replace("-", "")]
        return forms


_token = st.text(
    alphabet="abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=12, max_size=20
)


@st.composite
def people(draw: st.DrawFn) -> People:
    secret = "qv-" + draw(_token) + draw(st.sampled_from(["", "/å", "+=", "ö!"]))
    wrong = "qw-" + draw(_token)
    pnos = []
    for _ in range(3):
        year = draw(st.integers(1930, 2005))
        digits = draw(st.integers(0, 10**8 - 1))
        born = f"{year}{digits:08d}"[:12]
        pnos.append(draw(st.sampled_from([born, f"{born[2:8]}-{born[8:]}"])))
    emails = tuple(
        f"{draw(_token).lower()}.{index}@{draw(_token).lower()}.se" for index in range(2)
    )
    return People(secret, wrong, tuple(pnos), emails)


EVERY_OPERATION_PEOPLE = People(
    secret="qv-Kx7mP2qR9sT4vW/å",
    wrong_secret="qw-Hn3bV8cZ5dF6gJ",
    pnos=("198112289874", "551001-2345", "200502143322"),
    emails=("tqmzr.0@wpxkc.se", "hjvnb.1@qrstu.se"),
)


def _personal_row(template: dict[str, Any], number: str, pno: str, email: str) -> dict[str, Any]:
    row = {
        key: dict(value) if isinstance(value, dict) else value for key, value in template.items()
    }
    row["PaymentData"] = {**template["PaymentData"], "number": number}
    customer = dict(template["Customer"])
    customer["pno"] = pno
    customer["Billing"] = {**customer["Billing"], "email": email}
    row["Customer"] = customer
    return row


class Recorder(logging.Handler):
    """Renders every record the way a log file would (message, args and exception text)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.rendered: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("qvickly_async.sandbox"):
            # The sandbox (a test double, not the SDK) logs request keys verbatim.
            return
        self.rendered.append(self.format(record))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    root = logging.getLogger()
    handler = Recorder()
    previous = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


class Scenario:
    """One example: a sandbox with personal data, clients, and everything they produced."""

    def __init__(self, who: People) -> None:
        self.who = who
        self.sandbox = Sandbox(secret=who.secret, invoice_shape="nested")
        template = self.sandbox.expected_invoices("10005")[0]
        self.pno_customer = who.pnos[0].replace("-", "")
        self.sandbox.add_customer(
            "70001", [_personal_row(template, "70001001", who.pnos[1], who.emails[0])]
        )
        self.sandbox.add_customer(
            self.pno_customer,
            [_personal_row(template, "70002001", who.pnos[0], who.emails[1])],
            pno=who.pnos[0],
        )
        broken = _personal_row(template, "70003001", who.pnos[2], who.emails[0])
        broken["PaymentData"] = {**broken["PaymentData"], "duedate": {"pno": who.pnos[2]}}
        self.sandbox.add_customer("70003", [broken])
        self.broken_pno_customer = who.pnos[2].replace("-", "")
        self.sandbox.add_customer(self.broken_pno_customer, [broken])
        register_add_payment(self.sandbox)
        self.retries: list[RetryDetails] = []
        self.errors: list[BaseException] = []
        self.results: list[CustomerResult] = []
        self.objects: list[object] = [self.sandbox]
        self.client = AsyncQvickly.for_sandbox(self.sandbox, on_retry=self.retries.append)
        self.objects += [self.client, self.client.options, self.client.options.secret]

    async def attempt(self, operation: str) -> None:
        try:
            await getattr(self, operation)()
        except QvicklyError as error:
            self.errors.append(error)

    async def lookup_nested(self) -> None:
        self.objects.append(await self.client.get_invoices_by_customer("70001"))

    async def lookup_pno_like(self) -> None:
        self.objects.append(await self.client.get_invoices_by_customer(self.pno_customer))

    async def lookup_flat(self) -> None:
        self.sandbox.configure(invoice_shape="flat")
        try:
            self.objects.append(await self.client.get_invoices_by_customer("10001"))
        finally:
            self.sandbox.configure(invoice_shape="nested")

    async def batch(self) -> None:
        with self.sandbox.faults_applied(http_503=Fault(first_attempts=1)):
            results = await self.client.get_invoices_by_customers(
                ["70001", self.pno_customer, "70003", "10001", "99999"],
                on_progress=self.objects.append,
            )
        self.results += results
        self.errors += [result.error for result in results if result.error is not None]

    async def batch_fail_fast(self) -> None:
        await self.client.get_invoices_by_customers(
            ["70001", self.broken_pno_customer], fail_fast=True
        )

    async def stream_early_exit(self) -> None:
        async with self.client.iter_invoices_by_customers(
            ["70001", self.pno_customer, "10001"]
        ) as stream:
            self.objects.append(stream)
            async for result in stream:
                self.results.append(result)
                break

    async def ping(self) -> None:
        await self.client.ping()

    async def add_payment(self) -> None:
        data = {
            "PaymentData": {"method": "1", "currency": "SEK", "country": "SE"},
            "Customer": {
                "pno": self.who.pnos[1],
                "Billing": {"firstname": "Test", "email": self.who.emails[1]},
            },
            "Articles": [{"title": "Book", "aprice": "100", "quantity": "1"}],
        }
        self.objects.append(await self.client.call("addPayment", data))

    async def retry_then_ok(self) -> None:
        for kind in FAULTS:
            with self.sandbox.faults_applied(**{kind: Fault(first_attempts=1)}):
                self.objects.append(await self.client.get_invoices_by_customer("70001"))

    async def always_failing(self) -> None:
        for kind in FAULTS:
            with self.sandbox.faults_applied(FaultPlan.from_json({kind: 1.0, "retry_after": 0})):
                await self.attempt_inner(self.client.get_invoices_by_customer(self.pno_customer))

    async def attempt_inner(self, call: Any) -> None:
        try:
            await call
        except QvicklyError as error:
            self.errors.append(error)

    async def wrong_secret(self) -> None:
        async with AsyncQvickly.for_sandbox(self.sandbox, secret=self.who.wrong_secret) as other:
            self.objects += [other, other.options]
            await self.attempt_inner(other.get_invoices_by_customer("70001"))
            await other.ping()

    async def not_found(self) -> None:
        await self.client.call("getPaymentinfo", {"number": "424242"})

    async def validation(self) -> None:
        await self.client.call("getInvoicesByCustomer", {"customerno": ""})

    async def unknown_function(self) -> None:
        await self.client.call("getNothingAtAll", {"pno": self.who.pnos[1]})

    async def input_errors(self) -> None:
        pno = self.who.pnos[1]
        for call in (
            self.client.get_invoices_by_customer(pno + " "),
            self.client.get_invoices_by_customers([pno, pno + " ", " " + self.who.emails[0]]),
            self.client.call("addPayment", {"Customer": {"pno": pno, "x": float("nan")}}),
            self.client.call("addPayment", {"Customer": {"pno": pno, "name": "Mugg €"}}),
        ):
            await self.attempt_inner(call)

    async def deadline(self) -> None:
        with self.sandbox.faults_applied(latency=0.05):
            fast = self.client.with_options(deadline=0.01)
            self.objects.append(fast)
            await fast.get_invoices_by_customer(self.pno_customer)

    async def decode_error(self) -> None:
        await self.client.get_invoices_by_customer("70003")

    async def connection_refused(self) -> None:
        placeholder = bound_unlistening_socket()
        url = f"http://127.0.0.1:{placeholder.getsockname()[1]}/"
        try:
            async with AsyncQvickly(
                merchant_id=self.sandbox.merchant_id,
                secret=self.who.secret,
                base_url=url,
                max_retries=1,
            ) as refused:
                self.objects.append(refused)
                await refused.get_invoices_by_customer(self.pno_customer)
        finally:
            placeholder.close()

    async def read_timeout(self) -> None:
        with self.sandbox.faults_applied(latency=0.2):
            async with (
                self.sandbox.serve() as server,
                AsyncQvickly(
                    merchant_id=self.sandbox.merchant_id,
                    secret=self.who.secret,
                    base_url=server.url,
                    timeout=httpx.Timeout(5.0, read=0.02),
                    max_retries=1,
                ) as slow,
            ):
                self.objects.append(slow)
                await slow.get_invoices_by_customer(self.pno_customer)

    async def http_status(self) -> None:
        async with AsyncQvickly.for_sandbox(
            self.sandbox, base_url="http://sandbox.invalid/no-such-page"
        ) as lost:
            await lost.get_invoices_by_customer(self.pno_customer)

    async def state_and_configuration(self) -> None:
        def refuse(code: int) -> Any:
            def handler(call: FunctionCall) -> Any:
                raise FunctionError(code)

            return handler

        self.sandbox.register_function("cancelPayment", refuse(5220))
        self.sandbox.register_function("activatePayment", refuse(5001))
        for function in ("cancelPayment", "activatePayment"):
            await self.attempt_inner(
                self.client.call(function, {"number": "70001001", "pno": self.who.pnos[2]})
            )


def _renderings_without_locals(error: BaseException) -> list[str]:
    return [
        str(error),
        repr(error),
        "".join(getattr(error, "__notes__", [])),
        "".join(traceback.format_exception(error)),
    ]


def _rendering_with_locals(error: BaseException) -> str:
    return "".join(
        traceback.TracebackException(
            type(error), error, error.__traceback__, capture_locals=True
        ).format()
    )


def _find(needles: list[str], haystack: str) -> list[str]:
    return [needle for needle in needles if needle in haystack]


EXPECTED_ERROR_CLASSES = {
    "QvicklyAuthenticationError",
    "QvicklyAccountFeatureError",
    "QvicklyConnectionError",
    "QvicklyDeadlineExceededError",
    "QvicklyDecodeError",
    "QvicklyHTTPStatusError",
    "QvicklyInputError",
    "QvicklyNotFoundError",
    "QvicklyRateLimitError",
    "QvicklyServerError",
    "QvicklySignatureError",
    "QvicklyStateError",
    "QvicklyTimeoutError",
    "QvicklyTransientError",
    "QvicklyValidationError",
}


async def run_scenario(who: People, operations: list[str]) -> Scenario:
    scenario = Scenario(who)
    async with scenario.client:
        for operation in operations:
            await scenario.attempt(operation)
    return scenario


def test_no_secret_or_personal_data_leaks(recorder: Recorder) -> None:
    totals = {"examples": 0, "operations": 0, "errors": 0, "records": 0}
    error_classes: set[str] = set()
    personal_in_locals: dict[str, int] = {}

    @settings(
        max_examples=60,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        who=people(),
        operations=st.lists(st.sampled_from(OPERATIONS), min_size=3, max_size=10),
    )
    # Every operation at least once, whatever examples the derandomized search draws (its
    # draws depend on how the test module was imported, so they differ between runners).
    @example(who=EVERY_OPERATION_PEOPLE, operations=list(OPERATIONS))
    def sequence(who: People, operations: list[str]) -> None:
        recorder.rendered.clear()
        scenario = asyncio.run(run_scenario(who, operations))
        secrets, personal = who.secret_forms(), who.personal_forms()

        for text in recorder.rendered:
            assert not _find(secrets + personal, text), text
        for error in scenario.errors:
            for text in _renderings_without_locals(error):
                assert not _find(secrets + personal, text), (type(error).__name__, text[-3000:])
            with_locals = _rendering_with_locals(error)
            assert not _find(secrets, with_locals), with_locals[-5000:]
            name = type(error).__name__
            if _find(personal, with_locals):
                personal_in_locals[name] = personal_in_locals.get(name, 0) + 1
            error_classes.add(name)
        parts = [(result, result.invoices, result.error) for result in scenario.results]
        for obj in [*scenario.objects, *scenario.retries, *parts]:
            assert not _find(secrets + personal, repr(obj)), repr(obj)
        assert not _find(secrets, repr(attrs.asdict(scenario.client.options)))
        totals["examples"] += 1
        totals["operations"] += len(operations)
        totals["errors"] += len(scenario.errors)
        totals["records"] += len(recorder.rendered)

    sequence()
    report(f"\nhygiene: {totals}; error classes {sorted(error_classes)}")
    report(f"personal data in tracebacks with locals (by design, see above): {personal_in_locals}")
    assert error_classes >= EXPECTED_ERROR_CLASSES
    assert totals["records"] > 0


@pytest.mark.parametrize("seed", [77], ids=lambda seed: f"seed={seed}")
def test_secret_is_masked_in_every_rendering(seed: int) -> None:
    secret = f"qv-{random.Random(seed).getrandbits(96):024x}"
    client = AsyncQvickly(
        merchant_id="1", secret=secret, transport=httpx.MockTransport(lambda _: httpx.Response(200))
    )
    options = client.options
    texts = [
        repr(client),
        repr(options),
        str(options),
        repr(options.secret),
        str(options.secret),
        f"{options.secret}",
        repr(attrs.asdict(options)),
        repr(attrs.asdict(options, recurse=False)),
        repr(vars(client)),
        repr(client.with_options(max_retries=0)),
    ]
    for text in texts:
        assert secret not in text and secret.encode().hex() not in text, text


def test_customer_result_repr_masks_a_personal_number() -> None:
    assert "195501011018" not in repr(CustomerResult("195501011018"))


def test_fail_fast_note_masks_the_customer_number() -> None:
    who = People("qv-" + "x" * 16, "qw-" + "y" * 16, ("195501011018",) * 3, ("a.b@c.se",) * 2)

    async def run() -> BaseException | None:
        scenario = Scenario(who)
        async with scenario.client:
            try:
                await scenario.batch_fail_fast()
            except QvicklyError as error:
                return error
        return None

    error = asyncio.run(run())
    assert error is not None
    assert "195501011018" not in "".join(traceback.format_exception(error))
