"""Every typed read against an independent server that answers the documentation's examples."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from qvickly_async import (
    AsyncQvickly,
    BatchProgress,
    InvoiceShape,
    InvoiceStatus,
    PaymentMethod,
    QvicklyInputError,
    QvicklyNotFoundError,
)

from . import _mini_server as mini

pytestmark = pytest.mark.anyio


def thaw(value: object) -> object:
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(item) for item in value]
    return value


def client_for(server: mini.MiniQvickly, **options: Any) -> AsyncQvickly:
    return AsyncQvickly(
        merchant_id=mini.MERCHANT,
        secret=mini.SECRET,
        transport=server.transport(),
        keep_raw=True,
        **options,
    )


async def test_get_payment_info_keeps_every_value_of_the_documented_answer() -> None:
    server = mini.MiniQvickly()
    async with client_for(server) as client:
        payment = await client.get_payment_info("1000235")
    assert server.requests[0]["function"] == "getPaymentinfo"
    assert server.requests[0]["data"] == {"number": "1000235"}
    assert thaw(payment.raw) == mini.PAYMENT
    assert payment.number == "1000235"
    data = payment.payment_data
    assert data is not None
    assert data.method is PaymentMethod.FACTORING
    assert (data.currency, data.country, data.language) == ("SEK", "SE", "sv")
    assert (data.auto_activate, data.order_id) == ("0", "P123456718")
    assert data.status is InvoiceStatus.CREATED
    assert data.payment_plan_id is None and data.related_payment_id is None and data.url is None
    assert data.method_name == "Faktura"
    info = payment.payment_info
    assert info is not None
    assert info.payment_date == date(2014, 7, 31) and info.payment_terms == 14
    assert (info.your_reference, info.our_reference) == ("Purchaser X", "Seller Y")
    assert (info.project_name, info.delivery_method, info.delivery_terms) == (
        "Project Z",
        "Post",
        "FOB",
    )
    card = payment.card
    assert card is not None
    assert card.accept_url == "https://www.mystore.se/completedpayment"
    assert card.cancel_url == "https://www.mystore.se/failedpayment"
    assert card.callback_url == "https://www.mystore.se/callback.php"
    assert payment.settlement is not None
    assert payment.settlement.number == "2" and payment.settlement.date == date(2018, 12, 17)
    customer = payment.customer
    assert customer is not None and customer.number == "12" and customer.pno == "5501011018"
    assert customer.billing is not None and customer.shipping is not None
    assert customer.billing.company == "Company" and customer.billing.street2 == "Street2"
    assert customer.billing.email == "test@developer.qvickly.io"
    assert customer.shipping.street == "Shipping Street 1" and customer.shipping.email is None
    first, second = payment.articles
    assert first.article_number is None and first.title == "Article 1"
    assert (first.quantity, first.unit_price, first.tax, first.without_tax) == (
        Decimal("2"),
        Decimal("12.34"),
        Decimal("6.17"),
        Decimal("24.68"),
    )
    assert (second.quantity, second.discount, second.tax_rate) == (
        Decimal("3.5"),
        Decimal("10"),
        Decimal("25"),
    )
    assert second.unit_price == Decimal("567.80") and second.without_tax == Decimal("1788.57")
    cart = payment.cart
    assert cart is not None and cart.handling is not None and cart.shipping is not None
    assert cart.handling.without_tax == Decimal("10.00")
    assert cart.shipping.without_tax == Decimal("30.00")
    assert cart.total is not None
    assert (cart.total.rounding, cart.total.without_tax, cart.total.tax) == (
        Decimal("0.44"),
        Decimal("1853.25"),
        Decimal("463.31"),
    )
    assert payment.total == Decimal("2317.00")
    assert thaw(payment.extra) == {"FutureBlock": {"anything": ["kept"]}}
    text = repr(payment)
    for personal in ("5501011018", "Firstname", "Street", "0712-345678", "Purchaser X"):
        assert personal not in text


@pytest.mark.parametrize("shape", ["flat", "mixed"])
async def test_get_invoices_by_pno_reads_both_row_shapes(shape: str) -> None:
    server = mini.MiniQvickly()
    server.pno_shape = shape
    async with client_for(server) as client:
        invoices = await client.get_invoices_by_pno("550101-1018", statuses=("sent", "PAID"))
    assert server.requests[0]["data"] == {"pno": "550101-1018", "status": "Sent,Paid"}
    flat = invoices[0]
    assert thaw(flat.raw) == mini.PNO_ROW_FLAT
    assert flat.shape is InvoiceShape.FLAT and flat.number == "12345"
    assert flat.status is InvoiceStatus.CANCELLED and flat.to_pay == Decimal("0.00")
    assert flat.invoice_date == date(2024, 4, 19) and flat.credit_invoice_id is None
    assert flat.mexc_customer_invoices_id == "1234567"
    if shape == "mixed":
        nested = invoices[1]
        assert nested.shape is InvoiceShape.NESTED and nested.number == "12346"
        assert nested.to_pay == Decimal("125.00") and nested.status is InvoiceStatus.PAID
        assert thaw(nested.raw) == mini.PNO_ROW_NESTED
    else:
        assert len(invoices) == 1


async def test_get_account_info_keeps_options_flags_and_unknown_methods() -> None:
    server = mini.MiniQvickly()
    async with client_for(server) as client:
        account = await client.get_account_info()
    assert server.requests[0]["function"] == "getAccountinfo"
    assert server.requests[0]["data"]  # never empty (the API refuses empty data)
    assert thaw(account.raw) == mini.ACCOUNT
    assert (account.company, account.address, account.zip_code, account.city) == (
        "Qvickly Test",
        "Testvägen 1",
        "123 45",
        "Testinge",
    )
    assert (account.org_number, account.vat_number) == ("555555-5555", "SE555555555501")
    assert account.default_payment_terms_company == 20
    assert account.default_payment_terms_private == 5
    assert account.checkout is True
    first, partpay, unknown = account.payment_options
    assert first.method is PaymentMethod.FACTORING
    assert first.currencies == ("SEK", "DKK", "NOK", "GBP", "EUR", "USD")
    assert first.languages == ("sv", "da", "no", "en")
    assert partpay.method is PaymentMethod.PART_PAYMENT
    assert unknown.method == 4096 and not isinstance(unknown.method, PaymentMethod)
    assert thaw(account.extra) == {
        "force2havepno": "0",
        "checkoutAvailableCustomerTypes": ["company", "person"],
    }


async def test_get_address_returns_the_documented_address() -> None:
    server = mini.MiniQvickly()
    async with client_for(server) as client:
        address = await client.get_address("5501011018", country="SE")
    assert server.requests[0]["data"] == {"pno": "5501011018", "country": "SE"}
    assert (address.first_name, address.last_name) == ("*TEST* Firstname", "Lastname")
    assert (address.street, address.zip_code, address.city, address.country) == (
        "Streetname",
        "12345",
        "City",
        "SE",
    )
    assert (address.phone, address.email) == ("467012345678", "test@testcompany.se")
    assert address.extra == {}
    assert "Streetname" not in repr(address) and "467012345678" not in repr(address)


async def test_get_payment_plans_converts_ore_to_currency_units() -> None:
    server = mini.MiniQvickly()
    async with client_for(server) as client:
        plans = await client.get_payment_plans(total_with_tax=Decimal("500.00"))
    assert server.requests[0]["data"] == {
        "PaymentData": {
            "currency": "SEK",
            "country": "SE",
            "language": "sv",
            "totalwithtax": "50000",
        }
    }
    first, second = plans
    assert first.payment_plan_id == "1" and first.description == "3 månaders delbetalning"
    assert first.months == 3 and first.plan_type == "1"
    assert (first.start_fee, first.handling_fee) == (Decimal("29.00"), Decimal("35.00"))
    assert (first.min_amount, first.max_amount) == (Decimal("100.00"), Decimal("100000000.00"))
    assert (first.total_fee, first.monthly_cost) == (Decimal("645.00"), Decimal("215.00"))
    assert first.interest_rate == Decimal("12") and first.expiry_date == date(2025, 12, 31)
    assert (first.country, first.currency, first.language) == ("SE", "SEK", "sv")
    assert first.extra == {} and second.extra == {"campaign": "spring"}


@pytest.mark.parametrize(
    "given",
    [mini.CHECKOUT_HASH, f"https://checkout.qvickly.io/4711/{mini.CHECKOUT_HASH}/"],
)
async def test_get_checkout_by_hash_or_url(given: str) -> None:
    server = mini.MiniQvickly()
    async with client_for(server) as client:
        checkout = await client.get_checkout(given)
    assert server.requests[0]["function"] == "getCheckout"
    assert server.requests[0]["data"] == {"PaymentData": {"hash": mini.CHECKOUT_HASH}}
    assert thaw(checkout.raw) == mini.CHECKOUT
    assert checkout.checkout_hash == mini.CHECKOUT_HASH
    assert checkout.status is InvoiceStatus.CREATED
    assert checkout.date_time == datetime(2024, 5, 1, 12, 12, 12)
    data = checkout.payment_data
    assert data is not None and data.order is not None
    assert data.order.number == "12345" and data.order.status is InvoiceStatus.PENDING
    assert (
        data.order.order_id == "123" and data.order.url == "https://api.billmate.se/invoice/123456/"
    )
    assert data.status is InvoiceStatus.STEP2_LOADED
    assert data.method is PaymentMethod.PAY_WITH_QVICKLY
    assert data.method_name == "Betala med Qvickly" and data.extra == {"logo": ""}
    assert checkout.customer is not None and checkout.customer.billing is not None
    assert checkout.customer.billing.customer_type == "person"
    assert checkout.customer.pno == "19550101-0101"
    assert checkout.cart is not None and checkout.cart.total is not None
    assert checkout.cart.total.with_tax == Decimal("70.00")
    assert checkout.checkout_data is not None and checkout.checkout_data.cart is not None
    assert checkout.checkout_data.client == "WooCommerce_v2:1.6.6"
    assert checkout.checkout_data.company_view == "false"
    assert checkout.articles[0].unit_price == Decimal("25.00")
    assert (checkout.api_client, checkout.order_id_real, checkout.invoice_id_real) == (
        "MyBillMate:NodeJS:1.0",
        "12345",
        "1234567",
    )


async def test_server_errors_arrive_typed() -> None:
    server = mini.MiniQvickly()
    async with client_for(server, max_retries=0) as client:
        with pytest.raises(QvicklyNotFoundError) as caught:
            await client.get_payment_info("1")
        assert caught.value.code == 5201
        with pytest.raises(QvicklyNotFoundError):
            await client.get_checkout("abcdef123456")


@pytest.mark.parametrize(
    ("call", "args", "kwargs"),
    [
        ("get_invoices_by_pno", ("550101-1018",), {"statuses": ("Paid",)}),
        ("get_invoices_by_pno", ("550101-1018",), {"statuses": "Sent,Cancelled"}),
        ("get_invoices_by_pno", ("550101-1018",), {"statuses": ()}),
        ("get_invoices_by_pno", ("550101-1018",), {"statuses": 7}),
        ("get_invoices_by_pno", ("55-01-01",), {}),
        ("get_invoices_by_pno", (" 5501011018",), {}),
        ("get_invoices_by_pno", (5501011018,), {}),
        ("get_address", ("12345",), {}),
        ("get_address", ("5501011018",), {"country": "Sweden"}),
        ("get_address", ("5501011018",), {"country": "se"}),
        ("get_payment_plans", (), {"currency": "kr"}),
        ("get_payment_plans", (), {"language": "de"}),
        ("get_payment_plans", (), {"total_with_tax": 10.5}),
        ("get_payment_plans", (), {"total_with_tax": Decimal("1.005")}),
        ("get_payment_plans", (), {"total_with_tax": Decimal("-1")}),
        ("get_payment_plans", (), {"total_with_tax": Decimal("NaN")}),
        ("get_checkout", ("",), {}),
        ("get_checkout", ("abc",), {}),
        ("get_checkout", ("ftp://host/123456abc",), {}),
        ("get_checkout", ("https://checkout.qvickly.io/",), {}),
        ("get_checkout", ("12345 6789",), {}),
        ("get_payment_infos", (["1000235", "x"],), {}),
        ("get_invoices_by_pnos", (["5501011018", "bad"],), {}),
        ("get_addresses", (["5501011018"],), {"country": "S"}),
        ("get_checkouts", ([mini.CHECKOUT_HASH, "?"],), {}),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    call: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    server = mini.MiniQvickly()
    async with client_for(server) as client:
        with pytest.raises(QvicklyInputError):
            await getattr(client, call)(*args, **kwargs)
    assert server.requests == []


async def test_keyed_batches_give_one_result_per_distinct_key_in_input_order() -> None:
    server = mini.MiniQvickly()
    async with client_for(server, max_retries=0) as client:
        payments = await client.get_payment_infos(["1000235", "1", 1000235, "1000235"])
        by_pno = await client.get_invoices_by_pnos(["5501011018", "550101-1018"])
        addresses = await client.get_addresses(["5501011018"])
        checkouts = await client.get_checkouts([mini.CHECKOUT_HASH, "abcdef123456"])
        single = await client.get_payment_info("1000235")
    assert [result.key for result in payments] == ["1000235", "1"]
    assert payments[0].ok and payments[0].unwrap() == single
    assert isinstance(payments[1].error, QvicklyNotFoundError)
    with pytest.raises(QvicklyNotFoundError):
        payments[1].unwrap()
    assert [len(result.unwrap()) for result in by_pno] == [1, 1]
    assert addresses[0].unwrap().last_name == "Lastname"
    assert checkouts[0].ok and not checkouts[1].ok
    functions = [request["function"] for request in server.requests]
    assert functions.count("getPaymentinfo") == 3


async def test_streaming_payment_lookups_reports_bad_keys_as_results() -> None:
    server = mini.MiniQvickly()
    seen: list[BatchProgress] = []
    async with client_for(server) as client:
        stream = client.iter_payment_infos(
            (number for number in ["1000235", "nope"]), on_progress=seen.append
        )
        async with stream:
            results = {result.key: result async for result in stream}
    assert results["1000235"].ok
    assert isinstance(results["nope"].error, QvicklyInputError)
    assert len(server.requests) == 1
    assert seen[-1].done == 2 and seen[-1].failed == 1


class Flaky(mini.MiniQvickly):
    """Answers 9008 ("please try again") to the first getPaymentinfo of every number."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def _answer(self, function: str, data: dict[str, Any]) -> Any:
        if function == "getpaymentinfo" and data.get("number") not in self.seen:
            self.seen.add(str(data.get("number")))
            return self._error("9008", "Internal server error. Please try again!")
        return super()._answer(function, data)


async def test_payment_batches_share_the_retry_budget_and_fail_fast() -> None:
    from qvickly_async import QvicklyTransientError, RetryBudget

    server = Flaky()
    async with client_for(server) as client:
        results = await client.get_payment_infos(
            ["1000235", "1", "2", "3"], retry_budget=RetryBudget(ratio=0.0, minimum=2)
        )
    retried = [result for result in results if not isinstance(result.error, QvicklyTransientError)]
    assert len(retried) == 2  # two retries in the budget: the other two keep their 9008
    assert sum(isinstance(result.error, QvicklyTransientError) for result in results) == 2
    plain = mini.MiniQvickly()
    numbers = ["1", *(str(1000235 + index) for index in range(50))]
    async with client_for(plain, max_retries=0) as client:
        with pytest.raises(QvicklyNotFoundError) as caught:
            await client.get_payment_infos(numbers, concurrency=1, fail_fast=True)
    assert caught.value.code == 5201
    assert len(plain.requests) < len(numbers)  # the rest were cancelled
