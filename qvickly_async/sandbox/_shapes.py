"""Render demo invoice records in the wire shapes the documentation shows. Pure functions.

* getInvoicesByCustomer's documented flat rows: amounts in currency units with two decimals
  (``"1000.00"``); ids and ``balancedue`` as JSON numbers as on the reference page, or every
  value a string as in getInvoicesByPno's server output; ``fileurl`` sometimes absent;
* nested objects (getInvoicesByCustomer's "Response from server" example): every scalar a string,
  amounts in öre, zero dates;
* getPaymentinfo objects, as its documentation shows them.
"""

from __future__ import annotations

from typing import Any, Final

from ._dataset import DemoArticle, InvoiceRecord

__all__ = [
    "customer_row",
    "flat_row",
    "kronor",
    "nested_row",
    "payment_info",
]

_SHOP: Final = "https://shop.example.se/checkout"
_MM3SERVICESID: Final = 123456
_MEXCMODULESID: Final = 543210


def kronor(ore: int) -> str:
    """``12345`` öre as ``"123.45"`` (negative amounts keep their sign)."""
    sign = "-" if ore < 0 else ""
    whole, cents = divmod(abs(ore), 100)
    return f"{sign}{whole}.{cents:02d}"


def _kronor_number(ore: int) -> int | float:
    whole, cents = divmod(ore, 100)
    return whole if not cents else ore / 100


def flat_row(record: InvoiceRecord, *, numbers_as_strings: bool) -> dict[str, Any]:
    """Render getInvoicesByCustomer's documented flat row, keys in the documented order."""
    row: dict[str, Any] = {
        "status": record.status,
        "name": record.customer.name,
        "invoicedate": record.invoicedate,
        "duedate": record.duedate,
        "topay": kronor(record.topay),
    }
    if numbers_as_strings:
        row["invoiceid_real"] = str(record.number)
    else:
        row["invoiceid_real"] = record.number
    if record.fileurl is not None:
        row["fileurl"] = record.fileurl
    if numbers_as_strings:
        row["balancedue"] = kronor(record.balancedue)
    else:
        row["balancedue"] = _kronor_number(record.balancedue)
    row["invoicetype"] = record.invoicetype
    row["distributor_status"] = record.distributor_status
    if numbers_as_strings:
        row["creditinvoiceid"] = str(record.creditinvoiceid) if record.creditinvoiceid else ""
        row["hash"] = record.hash
        row["mm3servicesid"] = str(_MM3SERVICESID)
        row["mexcModulesid"] = str(_MEXCMODULESID)
        row["mexcCustomerinvoicesid"] = str(record.customerinvoicesid)
    else:
        row["creditinvoiceid"] = record.creditinvoiceid
        row["hash"] = record.hash
        row["mm3servicesid"] = _MM3SERVICESID
        row["mexcModulesid"] = _MEXCMODULESID
        row["mexcCustomerinvoicesid"] = record.customerinvoicesid
    return row


def _cart(record: InvoiceRecord) -> dict[str, Any]:
    rate = str(record.taxrate)
    return {
        "Handling": {"withouttax": str(record.handling), "taxrate": rate},
        "Shipping": {"withouttax": str(record.shipping), "taxrate": rate},
        "Total": {
            "rounding": str(record.rounding),
            "withouttax": str(record.withouttax),
            "tax": str(record.tax),
            "withtax": str(record.withtax),
        },
    }


def _article(article: DemoArticle, *, with_tax: bool) -> dict[str, str]:
    line = {
        "artnr": article.artnr,
        "title": article.title,
        "quantity": article.quantity,
        "aprice": str(article.aprice),
    }
    if with_tax:
        line["tax"] = str(round(article.withouttax * article.taxrate / 100))
    line["discount"] = article.discount
    line["withouttax"] = str(article.withouttax)
    line["taxrate"] = str(article.taxrate)
    return line


def _url(record: InvoiceRecord) -> str:
    return record.fileurl or f"https://api.billmate.se/invoice/{record.number}/{record.hash}"


def _party(record: InvoiceRecord, *, shipping: bool) -> dict[str, str]:
    customer = record.customer
    party = {
        "firstname": customer.company or customer.firstname,
        "lastname": "" if customer.company else customer.lastname,
        "type": "company" if customer.company else "person",
        "street": customer.street,
        "street2": "",
        "zip": customer.zip,
        "city": customer.city,
        "country": "SE",
        "phone": customer.phone,
    }
    if not shipping:
        party["email"] = customer.email
    return party


def nested_row(record: InvoiceRecord) -> dict[str, Any]:
    """GetInvoicesByCustomer's "Response from server" object, keys in that example's order."""
    customer = record.customer
    return {
        "Cart": _cart(record),
        "PaymentData": {
            "method": record.method,
            "currency": record.currency,
            "country": "SE",
            "language": "sv",
            "autoactivate": "0",
            "orderid": record.orderid,
            "status": record.status,
            "paymentid_related": str(record.creditinvoiceid) if record.creditinvoiceid else "",
            "accepturl": f"{_SHOP}/accept",
            "cancelurl": f"{_SHOP}/cancel",
            "returnmethod": "",
            "callbackurl": "https://shop.example.se/qvickly/callback",
            "alladdresses": "",
            "url": _url(record),
            "mexcCustomerinvoicesid": str(record.customerinvoicesid),
            "number": str(record.number),
            "duedate": record.duedate,
            "paiddate": record.paiddate,
        },
        "Customer": {
            "nr": str(customer.number),
            "pno": customer.pno,
            "Billing": _party(record, shipping=False),
            "Shipping": _party(record, shipping=True),
            "companySigner": {"pno": ""},
        },
        "Articles": [_article(article, with_tax=False) for article in record.articles],
        "PaymentInfo": {
            "paymentdate": record.invoicedate,
            "paymentterms": str(record.paymentterms),
            "yourreference": customer.name if customer.company else "",
            "ourreference": "",
            "projectname": "",
            "deliverymethod": "Post" if record.shipping else "",
            "deliveryterms": "",
            "invoiceStatus": "Due" if record.balancedue and record.status == "Sent" else "",
            "balancedue": str(record.balancedue),
        },
    }


def payment_info(record: InvoiceRecord) -> dict[str, Any]:
    """GetPaymentinfo's documented object, every scalar a string."""
    customer = record.customer
    billing = _party(record, shipping=False)
    shipping = _party(record, shipping=True)
    for party in (billing, shipping):
        party.pop("type")
        party["company"] = customer.company
    return {
        "PaymentData": {
            "method": record.method,
            "paymentplanid": "",
            "currency": record.currency,
            "country": "SE",
            "language": "sv",
            "autoactivate": "0",
            "orderid": record.orderid,
            "status": record.status,
            "paymentid_related": str(record.creditinvoiceid) if record.creditinvoiceid else "",
            "url": _url(record),
            "accepturl": f"{_SHOP}/accept",
            "cancelurl": f"{_SHOP}/cancel",
            "callbackurl": "https://shop.example.se/qvickly/callback",
        },
        "PaymentInfo": {
            "paymentdate": record.invoicedate,
            "paymentterms": str(record.paymentterms),
            "yourreference": "",
            "ourreference": "",
            "projectname": "",
            "deliverymethod": "Post" if record.shipping else "",
            "deliveryterms": "",
        },
        "Card": {
            "promptname": "",
            "recurring": "",
            "recurringnr": "",
            "accepturl": "",
            "cancelurl": "",
            "callbackurl": "",
            "returnmethod": "",
        },
        "Settlement": {"number": "", "date": "0000-00-00"},
        "Customer": {
            "nr": str(customer.number),
            "pno": customer.pno,
            "Billing": billing,
            "Shipping": shipping,
        },
        "Articles": [_article(article, with_tax=True) for article in record.articles],
        "Cart": _cart(record),
    }


def customer_row(record: InvoiceRecord, shape: str) -> dict[str, Any]:
    """Render one getInvoicesByCustomer element in ``shape`` (flat, nested or mixed)."""
    if shape == "nested" or (shape == "mixed" and record.nested_in_mixed):
        return nested_row(record)
    return flat_row(record, numbers_as_strings=record.numbers_as_strings)
