"""A small Qvickly-compatible server written from the API documentation, sharing no SDK code.

It verifies the request hash (HMAC-SHA512 over PHP-style JSON of ``data``), answers the read
functions with the documentation's own example answers (the function reference and Get-* example
pages, and getCheckout as Qvickly's plugins use it), signs them the same way and answers errors
in the bare top-level shape production sends. Every request is recorded, so tests can assert
what was (or was not) sent.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from typing import Any

import httpx

MERCHANT = "4711"
SECRET = "mini-server-secret"

PAYMENT = {
    "PaymentData": {
        "method": "1",
        "paymentplanid": "",
        "currency": "SEK",
        "country": "SE",
        "language": "sv",
        "autoactivate": "0",
        "orderid": "P123456718",
        "status": "Created",
        "paymentid_related": "",
        "url": "",
        "method_name": "Faktura",
    },
    "PaymentInfo": {
        "paymentdate": "2014-07-31",
        "paymentterms": "14",
        "yourreference": "Purchaser X",
        "ourreference": "Seller Y",
        "projectname": "Project Z",
        "deliverymethod": "Post",
        "deliveryterms": "FOB",
    },
    "Card": {
        "promptname": "",
        "recurring": "",
        "recurringnr": "",
        "accepturl": "https://www.mystore.se/completedpayment",
        "cancelurl": "https://www.mystore.se/failedpayment",
        "callbackurl": "https://www.mystore.se/callback.php",
        "returnmethod": "",
    },
    "Settlement": {"number": "2", "date": "2018-12-17"},
    "Customer": {
        "nr": "12",
        "pno": "5501011018",
        "Billing": {
            "firstname": "Firstname",
            "lastname": "Lastname",
            "company": "Company",
            "street": "Street",
            "street2": "Street2",
            "zip": "12345",
            "city": "Lund",
            "country": "SE",
            "phone": "0712-345678",
            "email": "test@developer.qvickly.io",
        },
        "Shipping": {
            "firstname": "Firstname",
            "lastname": "Lastname",
            "company": "Company",
            "street": "Shipping Street 1",
            "street2": "Shipping Street2",
            "zip": "23456",
            "city": "Lund",
            "country": "SE",
            "phone": "0711-345678",
        },
    },
    "Articles": [
        {
            "artnr": "",
            "title": "Article 1",
            "quantity": "2",
            "aprice": "1234",
            "tax": "617",
            "discount": "0",
            "withouttax": "2468",
            "taxrate": "25",
        },
        {
            "artnr": "B456",
            "title": "Article 2",
            "quantity": "3.5",
            "aprice": "56780",
            "tax": "44714",
            "discount": "10",
            "withouttax": "178857",
            "taxrate": "25",
        },
    ],
    "Cart": {
        "Handling": {"withouttax": "1000", "taxrate": "25"},
        "Shipping": {"withouttax": "3000", "taxrate": "25"},
        "Total": {"rounding": "44", "withouttax": "185325", "tax": "46331", "withtax": "231700"},
    },
    "FutureBlock": {"anything": ["kept"]},
}

PNO_ROW_FLAT = {
    "status": "Cancelled",
    "name": "Whazzup",
    "invoicedate": "2024-04-19",
    "duedate": "2024-05-03",
    "topay": "0.00",
    "invoiceid_real": "12345",
    "fileurl": "http://www.combain.com/mexc/customerinvoices/x.pdf",
    "balancedue": "0.00",
    "invoicetype": "F",
    "distributor_status": "Cancelled",
    "creditinvoiceid": "",
    "hash": "2024089017233469726180c4f1b6bce",
    "mm3servicesid": "123456",
    "mexcModulesid": "543210",
    "mexcCustomerinvoicesid": "1234567",
}
PNO_ROW_NESTED = {
    "Cart": {"Total": {"rounding": "0", "withouttax": "10000", "tax": "2500", "withtax": "12500"}},
    "PaymentData": {"method": "8", "currency": "SEK", "status": "Paid", "number": "12346"},
    "Customer": {"nr": "123456", "pno": "550101-1018"},
    "Articles": [],
    "PaymentInfo": {"paymentdate": "2024-05-04", "balancedue": "0"},
}

ACCOUNT = {
    "company": "Qvickly Test",
    "address": "Testvägen 1",
    "zip": "123 45",
    "city": "Testinge",
    "country": "Sweden",
    "phone": "0123-456 78",
    "email": "test@example.com",
    "orgregnr": "555555-5555",
    "vatregnr": "SE555555555501",
    "language": "sv",
    "paymentoptions": [
        {"method": "1", "currency": "SEK,DKK,NOK,GBP,EUR,USD", "language": "sv,da,no,en"},
        {"method": "4", "currency": "SEK", "language": "sv,da,no,en"},
        {"method": "4096", "currency": "SEK", "language": "sv"},
    ],
    "defaultpaymentterms_company": "20",
    "defaultpaymentterms_private": "5",
    "checkout": "1",
    "force2havepno": "0",
    "checkoutAvailableCustomerTypes": ["company", "person"],
    "logo": "https://example.com/companylogos/logo.png",
}

ADDRESS = {
    "firstname": "*TEST* Firstname",
    "lastname": "Lastname",
    "street": "Streetname",
    "zip": "12345",
    "city": "City",
    "country": "SE",
    "phone": "467012345678",
    "email": "test@testcompany.se",
}

PLANS = [
    {
        "paymentplanid": "1",
        "description": "3 månaders delbetalning",
        "nbrofmonths": "3",
        "startfee": "2900",
        "handlingfee": "3500",
        "minamount": "10000",
        "maxamount": "10000000000",
        "country": "SE",
        "type": "1",
        "expirydate": "2025-12-31",
        "interestrate": "12",
        "currency": "SEK",
        "language": "sv",
        "totalfee": "64500",
        "monthlycost": "21500",
    },
    {
        "paymentplanid": "2",
        "description": "6 månaders delbetalning",
        "nbrofmonths": "6",
        "startfee": "17000",
        "handlingfee": "3500",
        "minamount": "20000",
        "maxamount": "10000000000",
        "country": "SE",
        "type": "1",
        "expirydate": "2025-12-31",
        "interestrate": "12",
        "currency": "SEK",
        "language": "sv",
        "totalfee": "90600",
        "monthlycost": "15100",
        "campaign": "spring",
    },
]

CHECKOUT_HASH = "123456abc123456abc123456abc12345"
CHECKOUT = {
    "DateTime": "2024-05-01 12:12:12",
    "PaymentData": {
        "order": {
            "number": "12345",
            "status": "Pending",
            "orderid": "123",
            "url": "https://api.billmate.se/invoice/123456/",
        },
        "number": "12345",
        "orderid": "12345",
        "status": "Step2Loaded",
        "method": "2048",
        "paymentplanid": "0",
        "currency": "SEK",
        "language": "sv",
        "country": "SE",
        "method_name": "Betala med Qvickly",
        "logo": "",
        "accepturl": "https://example.com/?bco_confirm=yes",
        "cancelurl": "https://example.com/checkout/",
        "callbackurl": "https://example.com/wc-api/BCO_WC_Push/",
    },
    "apiClient": "MyBillMate:NodeJS:1.0",
    "Customer": {
        "Billing": {
            "company": "",
            "street": "Testgatan 1",
            "zip": "123 45",
            "city": "Testingeby",
            "country": "SE",
            "phone": "070 - 000 00 00",
            "email": "tess.t.persson@example.com",
            "type": "person",
            "firstname": "Tess T",
            "lastname": "Persson",
            "street2": "",
        },
        "pno": "19550101-0101",
        "Shipping": [],
    },
    "PaymentInfo": "",
    "Cart": {
        "Total": {"withouttax": "7000", "tax": "0", "rounding": "0", "withtax": "7000"},
        "Shipping": {"withouttax": "0", "taxrate": "0"},
        "Handling": {"withouttax": "0", "taxrate": "0"},
    },
    "Articles": [
        {
            "artnr": "woo-long-sleeve-tee",
            "title": "Long Sleeve Tee",
            "quantity": "1",
            "aprice": "2500",
            "withouttax": "2500",
            "taxrate": "0",
            "discount": "0",
        }
    ],
    "CheckoutData": {
        "terms": "https://example.com/cart/",
        "companyView": "false",
        "hideShippingAddress": "false",
        "privacyPolicy": "https://example.com/privacy-policy/",
        "Cart": {"Total": {"withouttax": "7000", "tax": "0", "rounding": "0", "withtax": "7000"}},
        "client": "WooCommerce_v2:1.6.6",
    },
    "orderid_real": "12345",
    "invoiceid_real": "1234567",
    "status": "Created",
}


def php_json(value: Any) -> str:
    """PHP json_encode with default flags for the values used here (the docs' recipe)."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/")


def _mac(text: str) -> str:
    return hmac.new(SECRET.encode(), text.encode(), hashlib.sha512).hexdigest()


class MiniQvickly:
    """The server: ``httpx.MockTransport(server.handle)``; answers are deep copies."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.pno_shape = "flat"

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        credentials = body.get("credentials", {})
        if credentials.get("id") != MERCHANT:
            return self._error("9011", "Invalid credentials")
        if not hmac.compare_digest(str(credentials.get("hash")), _mac(php_json(body["data"]))):
            return self._error("9013", "Authentication is failed.")
        answer = self._answer(str(body.get("function", "")).lower(), body["data"])
        if isinstance(answer, httpx.Response):
            return answer
        text = php_json(answer)
        head = '{"credentials":{"hash":"' + _mac(text) + '","logid":853022},"data":'
        envelope = head + text + "}"
        return httpx.Response(200, content=envelope.encode())

    @staticmethod
    def _error(code: str, message: str) -> httpx.Response:
        return httpx.Response(200, json={"code": code, "message": message, "logid": "1234567"})

    def _answer(self, function: str, data: dict[str, Any]) -> Any:
        if function == "getpaymentinfo":
            if not data.get("number"):
                return self._error("5200", "Payment number is mandatory")
            if data["number"] != "1000235":
                return self._error("5201", "Invoice does not exist")
            return copy.deepcopy(PAYMENT)
        if function == "getinvoicesbypno":
            if data.get("status") not in ("Sent", "Sent,Paid"):
                return self._error("7022", "Status not correct")
            rows = [PNO_ROW_FLAT] if self.pno_shape == "flat" else [PNO_ROW_FLAT, PNO_ROW_NESTED]
            return copy.deepcopy(rows)
        if function == "getaccountinfo":
            return copy.deepcopy(ACCOUNT)
        if function == "getaddress":
            if not data.get("pno"):
                return self._error("9014", "Personal/Organisation number is required")
            return copy.deepcopy(ADDRESS)
        if function == "getpaymentplans":
            payment_data = data.get("PaymentData", {})
            if not all(payment_data.get(key) for key in ("currency", "country", "language")):
                return self._error("5302", "Currency, Country and Language are mandatory")
            return copy.deepcopy(PLANS)
        if function == "getcheckout":
            if data.get("PaymentData", {}).get("hash") != CHECKOUT_HASH:
                return self._error("50012", "Checkout: checkout can not be found")
            return copy.deepcopy(CHECKOUT)
        return self._error("9001", "The method that you are calling does not exist.")
