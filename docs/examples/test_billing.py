"""How-to: test your own code against the sandbox (run it with ``pytest test_billing.py``).

The ``qvickly_sandbox`` and ``qvickly_sandbox_server`` fixtures come with the package (a
pytest plugin registered on install); the ``anyio`` marker comes with anyio.
"""

import sys
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
from billing import create_invoice, open_balance

from qvickly_async import AsyncQvickly, Invoice, InvoiceStatus, QvicklyServerError
from qvickly_async.sandbox import Fault, FunctionCall, Sandbox, ServerHandle
from qvickly_async.testing import no_backoff

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    with no_backoff():  # retries still happen, without the sleeps
        yield


@pytest.fixture
async def client(qvickly_sandbox: Sandbox) -> AsyncIterator[AsyncQvickly]:
    async with AsyncQvickly.for_sandbox(qvickly_sandbox) as client:  # in-process, no sockets
        yield client


async def test_open_balance_skips_cancelled_invoices(
    qvickly_sandbox: Sandbox, client: AsyncQvickly
) -> None:
    qvickly_sandbox.add_customer(
        "70001",
        [
            Invoice(number="1", status=InvoiceStatus.SENT, balance_due=Decimal("100.50")),
            Invoice(number="2", status=InvoiceStatus.PAID, balance_due=Decimal("0.00")),
            Invoice(number="3", status=InvoiceStatus.CANCELLED, balance_due=Decimal("30.00")),
        ],
    )
    assert await open_balance(client, "70001") == Decimal("100.50")


async def test_unknown_customer_owes_nothing(client: AsyncQvickly) -> None:
    assert await open_balance(client, "99999999") == Decimal(0)


async def test_retries_hide_a_flaky_server(qvickly_sandbox: Sandbox, client: AsyncQvickly) -> None:
    qvickly_sandbox.set_faults(http_503=Fault(first_attempts=2))  # fail twice, then answer
    await open_balance(client, "10001")
    counters = qvickly_sandbox.counters
    assert counters.calls("getInvoicesByCustomer", key="10001", outcome="fault:http_503") == 2
    assert counters.calls("getInvoicesByCustomer", key="10001", outcome="ok") == 1


async def test_an_outage_surfaces_as_a_typed_error(
    qvickly_sandbox: Sandbox, client: AsyncQvickly
) -> None:
    qvickly_sandbox.set_faults(http_503=1.0)
    with pytest.raises(QvicklyServerError):
        await open_balance(client, "10001")
    assert qvickly_sandbox.counters.total() == 3  # the first attempt and max_retries=2


async def test_over_a_real_socket(
    qvickly_sandbox: Sandbox, qvickly_sandbox_server: ServerHandle
) -> None:
    client = AsyncQvickly(
        merchant_id=qvickly_sandbox.merchant_id,
        secret=qvickly_sandbox.secret,
        base_url=qvickly_sandbox_server.url,  # http://127.0.0.1:<port>/
    )
    async with client:
        with qvickly_sandbox.faults_applied(reset=Fault(first_attempts=1)):
            balance = await open_balance(client, "10001")  # survives a TCP reset
    assert balance == Decimal("1752.00")


class FakeAddPayment:
    """A handler for the sandbox's addPayment that remembers what it was sent."""

    def __init__(self) -> None:
        self.received: list[Any] = []

    def __call__(self, call: FunctionCall) -> dict[str, str]:
        self.received.append(call.data)
        order_id = call.data["PaymentData"]["orderid"]
        return {"number": "500001", "status": "Created", "orderid": order_id, "url": ""}


async def test_create_invoice_sends_the_cart_in_ore(
    qvickly_sandbox: Sandbox, client: AsyncQvickly
) -> None:
    add_payment = FakeAddPayment()
    qvickly_sandbox.register_function("addPayment", add_payment)
    assert await create_invoice(client, "order-1", "195501011018", 10000) == "500001"
    [sent] = add_payment.received
    assert sent["Cart"]["Total"] == {
        "withouttax": 10000,
        "tax": 2500,
        "rounding": 0,
        "withtax": 12500,
    }


async def test_a_lost_answer_is_not_sent_twice(
    qvickly_sandbox: Sandbox, client: AsyncQvickly
) -> None:
    qvickly_sandbox.register_function("addPayment", FakeAddPayment())
    qvickly_sandbox.set_faults(http_503=Fault(first_attempts=1, functions="addPayment"))
    with pytest.raises(QvicklyServerError):  # did the payment happen? reconcile, don't resend
        await create_invoice(client, "order-2", "195501011018", 10000)
    assert qvickly_sandbox.counters.calls("addPayment") == 1


def main() -> int:
    """Run these tests: ``python test_billing.py`` is ``pytest test_billing.py``."""
    return pytest.main([__file__])


if __name__ == "__main__":
    sys.exit(main())
