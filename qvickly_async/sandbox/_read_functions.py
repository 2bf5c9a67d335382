"""Sandbox handlers for getAddress, getPaymentplans and getCheckout.

They answer from the same store as the invoice functions, so the answers agree: a demo
customer's personal number gives that customer's address, and an invoice's checkout
(:func:`checkout_hash`) shows that invoice's payment. Validation and error codes follow
the API's documented error codes and function pages (getCheckout as Qvickly's plugins use it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Final

from ._functions import FunctionCall, FunctionError, Signed
from ._store import Store

__all__ = [
    "PAYMENT_PLANS",
    "checkout_hash",
    "get_address",
    "get_checkout",
    "get_paymentplans",
    "number_of_checkout",
]

_PNO_TEXT: Final = re.compile(r"[0-9]{6,8}[-+]?[0-9]{4}")
_COUNTRY: Final = re.compile(r"[A-Za-z]{2,3}")

#: The part payment plans the sandbox offers (getPaymentplans' documented example; amounts
#: in öre): ``(id, description, months, startfee, handlingfee, minamount, maxamount, rate)``.
PAYMENT_PLANS: Final = (
    ("1", "3 månaders delbetalning", 3, 2900, 3500, 10000, 10000000000, 12),
    ("2", "6 månaders delbetalning", 6, 17000, 3500, 20000, 10000000000, 12),
    ("3", "12 månaders delbetalning", 12, 17000, 3500, 40000, 10000000000, 12),
)
_PLAN_EXPIRY: Final = "2030-12-31"
_METHOD_NAMES: Final = {
    "1": "Faktura",
    "2": "Faktura",
    "4": "Delbetalning",
    "8": "Kortbetalning",
    "16": "Banköverföring",
    "64": "Qvickly Checkout",
    "1024": "Swish",
    "2048": "Betala med Qvickly",
}


# -- getAddress ---------------------------------------------------------------------------------


def _store(call: FunctionCall) -> Store:
    return call.store


def get_address(call: FunctionCall) -> Signed:
    """Answer ``pno`` (+ ``country``) with the registered address; 8010 when unknown."""
    pno = call.field("pno")
    if pno is None:
        raise FunctionError(9014)
    digits = sum(char.isdigit() for char in pno)
    if digits < 10:
        raise FunctionError(9015)
    if not _PNO_TEXT.fullmatch(pno):
        raise FunctionError(9016)
    country = call.field("country") or "SE"
    if not _COUNTRY.fullmatch(country):
        raise FunctionError(7031)
    found = _address_for(_store(call), pno, test=call.test)
    if found is None:
        raise FunctionError(8010)
    return call.sign(found)


def _address_for(store: Store, pno: str, *, test: bool) -> dict[str, str] | None:
    user = store.user_for_pno(pno, test=test)
    if user is not None:
        for row in user.rows:
            customer = row.get("Customer")
            billing = customer.get("Billing") if isinstance(customer, Mapping) else None
            if isinstance(billing, Mapping):
                return {str(key): str(value) for key, value in billing.items()}
        name = next((str(row["name"]) for row in user.rows if row.get("name")), "")
        first, _, last = name.partition(" ")
        return {"firstname": first, "lastname": last, "country": "SE"}
    demo = store.dataset.customer_for_pno(pno)
    if demo is None or store.user_for_number(str(demo), test=test) is not None:
        return None
    person = store.dataset.customer(demo)
    answer = {
        "firstname": "" if person.company else person.firstname,
        "lastname": "" if person.company else person.lastname,
    }
    if person.company:
        answer["company"] = person.company
    answer.update(
        street=person.street,
        zip=person.zip,
        city=person.city,
        country="SE",
        phone=person.phone,
        email=person.email,
    )
    return answer


# -- getPaymentplans ----------------------------------------------------------------------------


def _plan(plan: tuple[Any, ...], amount: int) -> dict[str, str]:
    plan_id, description, months, start_fee, handling_fee, low, high, rate = plan
    interest = round(amount * rate * months / 1200)
    total_cost = amount + start_fee + handling_fee * months + interest
    monthly = -(-total_cost // months)
    return {
        "paymentplanid": plan_id,
        "description": description,
        "nbrofmonths": str(months),
        "startfee": str(start_fee),
        "handlingfee": str(handling_fee),
        "minamount": str(low),
        "maxamount": str(high),
        "country": "SE",
        "type": "1",
        "expirydate": _PLAN_EXPIRY,
        "interestrate": str(rate),
        "currency": "SEK",
        "language": "sv",
        "totalfee": str(monthly * months),
        "monthlycost": str(monthly),
    }


def get_paymentplans(call: FunctionCall) -> Signed:
    """Answer ``PaymentData{currency, country, language, totalwithtax?}`` with the plans.

    5302 when currency, country or language is missing; 6012 for a currency other than SEK;
    5301 when no plan fits (another country, or a ``totalwithtax`` outside every plan's range).
    """
    payment_data = call.data.get("PaymentData") if isinstance(call.data, dict) else None
    if not isinstance(payment_data, dict):
        raise FunctionError(5302)
    values = {key: payment_data.get(key) for key in ("currency", "country", "language")}
    if not all(isinstance(value, str) and value.strip() for value in values.values()):
        raise FunctionError(5302)
    if str(values["currency"]).upper() != "SEK":
        raise FunctionError(6012)
    if str(values["country"]).upper() != "SE":
        raise FunctionError(5301)
    total = _amount(payment_data.get("totalwithtax"))
    if total is None:
        cart = call.data.get("Cart")
        cart_total = cart.get("Total") if isinstance(cart, dict) else None
        total = _amount(cart_total.get("withtax")) if isinstance(cart_total, dict) else None
    if total is None:
        plans = [_plan(plan, plan[5]) for plan in PAYMENT_PLANS]
    else:
        plans = [_plan(plan, total) for plan in PAYMENT_PLANS if plan[5] <= total <= plan[6]]
    if not plans:
        raise FunctionError(5301)
    return call.sign(plans)


def _amount(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if value is None or value == "":
        return None
    raise FunctionError(9111)


# -- getCheckout --------------------------------------------------------------------------------


def checkout_hash(seed: int, number: int) -> str:
    """Return the checkout hash of invoice ``number``: 24 digest + 8 number hex digits."""
    digest = hashlib.sha256(f"{seed}:checkout:{number}".encode()).hexdigest()[:24]
    return f"{digest}{number:08x}"


def number_of_checkout(seed: int, text: str) -> int | None:
    """Return the invoice number a :func:`checkout_hash` stands for, or ``None``."""
    if len(text) != 32:
        return None
    try:
        number = int(text[24:], 16)
    except ValueError:
        return None
    return number if checkout_hash(seed, number) == text.lower() else None


def get_checkout(call: FunctionCall) -> Signed:
    """Answer ``PaymentData{hash}`` with the checkout of that invoice; 50012 when unknown."""
    payment_data = call.data.get("PaymentData") if isinstance(call.data, dict) else None
    text = payment_data.get("hash") if isinstance(payment_data, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise FunctionError(50015)
    store = _store(call)
    number = number_of_checkout(store.dataset.seed, text.strip())
    payment = store.payment(str(number), test=call.test) if number is not None else None
    if number is None or payment is None:
        raise FunctionError(50012)
    return call.sign(_checkout(payment, str(number)))


def _checkout(payment: Mapping[str, Any], number: str) -> dict[str, Any]:
    data = payment.get("PaymentData")
    data = data if isinstance(data, Mapping) else {}
    info = payment.get("PaymentInfo")
    info = info if isinstance(info, Mapping) else {}
    customer = payment.get("Customer")
    customer = customer if isinstance(customer, Mapping) else {}
    cart = payment.get("Cart", [])
    method = str(data.get("method", ""))
    status = str(data.get("status", ""))
    order_id = str(data.get("orderid", ""))
    billing = customer.get("Billing", [])
    shipping = customer.get("Shipping", [])
    if isinstance(shipping, Mapping) and not any(shipping.get(key) for key in ("street", "zip")):
        shipping = []
    articles = [
        {key: value for key, value in line.items() if key != "tax"}
        for line in payment.get("Articles", [])
        if isinstance(line, Mapping)
    ]
    date_text = str(info.get("paymentdate", "")) or "0000-00-00"
    return {
        "DateTime": f"{date_text} 12:00:00",
        "PaymentData": {
            "order": {
                "number": number,
                "status": status,
                "orderid": order_id,
                "url": str(data.get("url", "")),
            },
            "number": number,
            "orderid": order_id,
            "status": status,
            "method": method,
            "paymentplanid": str(data.get("paymentplanid", "")) or "0",
            "currency": str(data.get("currency", "")),
            "language": str(data.get("language", "")),
            "country": str(data.get("country", "")),
            "method_name": _METHOD_NAMES.get(method, ""),
            "logo": "",
            "accepturl": str(data.get("accepturl", "")),
            "cancelurl": str(data.get("cancelurl", "")),
            "callbackurl": str(data.get("callbackurl", "")),
        },
        "apiClient": "QvicklySandbox:1.0",
        "Customer": {"Billing": billing, "pno": str(customer.get("pno", "")), "Shipping": shipping},
        "PaymentInfo": "",
        "Cart": cart,
        "Articles": articles,
        "CheckoutData": {
            "terms": "https://shop.example.se/terms",
            "companyView": "false",
            "hideShippingAddress": "false",
            "privacyPolicy": "https://shop.example.se/privacy",
            "Cart": cart,
            "client": "QvicklySandbox:1.0",
        },
        "orderid_real": order_id,
        "invoiceid_real": number,
        "status": "Created",
    }
