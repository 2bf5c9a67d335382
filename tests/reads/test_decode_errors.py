"""Answers that cannot be decoded raise QvicklyDecodeError naming the wire path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from qvickly_async import AsyncQvickly, QvicklyDecodeError

from . import _mini_server as mini

pytestmark = pytest.mark.anyio


class Broken(mini.MiniQvickly):
    """The mini server with one value of one answer replaced."""

    def __init__(self, function: str, path: tuple[Any, ...], value: Any) -> None:
        super().__init__()
        self.target = function
        self.path = path
        self.value = value

    def _answer(self, function: str, data: dict[str, Any]) -> Any:
        answer = super()._answer(function, data)
        if function == self.target:
            answer = copy.deepcopy(answer)
            place = answer
            for step in self.path[:-1]:
                place = place[step]
            place[self.path[-1]] = self.value
        return answer


CASES = [
    ("getpaymentinfo", ("PaymentData", "method"), "card", "payment.PaymentData.method"),
    ("getpaymentinfo", ("Cart", "Total", "withtax"), "12,50", "payment.Cart.Total.withtax"),
    ("getpaymentinfo", ("Articles", 1, "aprice"), {"x": 1}, "payment.Articles[1].aprice"),
    ("getpaymentinfo", ("Settlement",), "yes", "payment.Settlement"),
    ("getpaymentinfo", ("Card", "recurring"), [1], "payment.Card.recurring"),
    ("getcheckout", ("PaymentData", "order", "status"), {}, "checkout.PaymentData.order.status"),
    (
        "getcheckout",
        ("CheckoutData", "Cart", "Total", "tax"),
        "x",
        "checkout.CheckoutData.Cart.Total.tax",
    ),
    ("getaccountinfo", ("paymentoptions", 2, "method"), "x", "account.paymentoptions[2].method"),
    ("getaccountinfo", ("checkout",), "maybe", "account.checkout"),
    ("getpaymentplans", (1, "startfee"), "1e3", "plans[1].startfee"),
    ("getaddress", ("zip",), ["12345"], "address.zip"),
]


async def _call(client: AsyncQvickly, function: str) -> Any:
    if function == "getpaymentinfo":
        return await client.get_payment_info("1000235")
    if function == "getcheckout":
        return await client.get_checkout(mini.CHECKOUT_HASH)
    if function == "getaccountinfo":
        return await client.get_account_info()
    if function == "getpaymentplans":
        return await client.get_payment_plans()
    return await client.get_address("5501011018")


@pytest.mark.parametrize(("function", "where", "value", "path"), CASES)
async def test_decode_errors_name_the_wire_path(
    function: str, where: tuple[Any, ...], value: Any, path: str
) -> None:
    server = Broken(function, where, value)
    async with AsyncQvickly(
        merchant_id=mini.MERCHANT, secret=mini.SECRET, transport=server.transport(), max_retries=0
    ) as client:
        with pytest.raises(QvicklyDecodeError) as caught:
            await _call(client, function)
    assert caught.value.path == path
    assert path in str(caught.value)
    assert repr(value) not in str(caught.value) or isinstance(value, dict | list)


@pytest.mark.parametrize("answer", [[], "text", 5])
async def test_an_answer_of_the_wrong_type_is_a_decode_error(answer: Any) -> None:
    class Wrong(mini.MiniQvickly):
        def _answer(self, function: str, data: dict[str, Any]) -> Any:
            return answer

    async with AsyncQvickly(
        merchant_id=mini.MERCHANT, secret=mini.SECRET, transport=Wrong().transport(), max_retries=0
    ) as client:
        with pytest.raises(QvicklyDecodeError) as caught:
            await client.get_payment_info("1000235")
        assert caught.value.path == "payment"
