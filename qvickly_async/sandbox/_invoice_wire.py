"""Write users' :class:`~qvickly_async.models.Invoice` objects as wire rows. Pure functions.

This is the sandbox's own encoder, written independently of the SDK's decoder
(:mod:`qvickly_async._codec`): every key below is spelled out from the API documentation
(getInvoicesByCustomer's documented flat row and its "Response from server" nested objects, and
the getPaymentinfo keys the models also carry: ``paymentplanid``, ``company``, ``tax``), not
derived from the codec's tables. So a wrong wire key in the SDK does not round-trip through
the sandbox: the SDK would decode the sandbox's rows wrongly and a test would notice.

Rows are written the way Qvickly sends them: every scalar a string, empty values ``""``,
unset dates as zero dates, flat-row amounts as currency units with at least two decimals
(``"1000.00"``), nested-row amounts (cart, articles, ``PaymentInfo.balancedue``) as integer
öre/cent (``"10000"``). Unknown keys (``extra``) follow the known ones.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any, Final

import attrs

from ..exceptions import QvicklyInputError
from ..models import (
    Address,
    Article,
    Cart,
    CartCharge,
    CartTotal,
    CompanySigner,
    Customer,
    Invoice,
    InvoiceShape,
    PaymentData,
    PaymentInfo,
)

__all__ = ["invoice_to_wire"]

_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_CENT: Final = Decimal("0.01")
_ZERO_DATE: Final = "0000-00-00"
_ZERO_DATETIME: Final = "0000-00-00 00:00:00"
# Keys that make a row nested (the SDK tells the shapes apart by them).
_NESTED_KEYS: Final = ("PaymentData", "Cart", "Customer")


# -- scalars ------------------------------------------------------------------------------------


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _number(value: int | None) -> str:
    return "" if value is None else str(int(value))


def _choice(value: enum.Enum | str | None) -> str:
    if value is None:
        return ""
    return str(value.value) if isinstance(value, enum.Enum) else value


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise QvicklyInputError("amounts and quantities must be finite decimals")
    return value


def _plain(value: Decimal | None) -> str:
    """Write a plain decimal (quantities, percentages): ``Decimal("3.5")`` -> ``"3.5"``."""
    return "" if value is None else format(_finite(value), "f")


def _ore(value: Decimal | None) -> str:
    """Currency units as integer öre/cent text: ``Decimal("100.00")`` -> ``"10000"``."""
    return "" if value is None else format(_finite(value).scaleb(2, _EXACT), "f")


def _kronor(value: Decimal | None) -> str:
    """Currency units with at least two decimals: ``Decimal("1000")`` -> ``"1000.00"``."""
    if value is None:
        return ""
    amount = _finite(value)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        amount = amount.quantize(_CENT, context=_EXACT)
    return format(amount, "f")


def _day(value: date | None) -> str:
    return _ZERO_DATE if value is None else value.isoformat()


def _moment(value: datetime | None) -> str:
    return _ZERO_DATETIME if value is None else value.isoformat(sep=" ")


def _json(value: Any) -> Any:
    """Read-only containers of ``extra`` back to JSON dicts and lists."""
    if isinstance(value, Mapping):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    return value


def _with_extra(row: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Append unknown keys after the known ones; a known key always wins."""
    for key, value in extra.items():
        if key not in row:
            row[key] = _json(value)
    return row


def _put(row: dict[str, Any], key: str, block: Any, write: Callable[[Any], dict[str, Any]]) -> None:
    """Write a block only when it is there (absent blocks are left out, not written empty)."""
    if block is not None:
        row[key] = write(block)


# -- flat rows (getInvoicesByCustomer's documented row) -------------------------------------------

_NESTED_ONLY: Final = ("currency", "paid_date", "cart", "payment_data", "customer", "payment_info")


def _flat(invoice: Invoice) -> dict[str, Any]:
    misplaced = [name for name in _NESTED_ONLY if getattr(invoice, name) is not None]
    if invoice.articles:
        misplaced.append("articles")
    if misplaced:
        raise QvicklyInputError(
            f"a flat invoice row cannot carry {', '.join(misplaced)}; build a nested invoice "
            "with Invoice.from_blocks(...) instead"
        )
    markers = [key for key in _NESTED_KEYS if key in invoice.extra]
    if markers:
        raise QvicklyInputError(f"extra keys {markers} would turn a flat row into a nested one")
    row = {
        "status": _choice(invoice.status),
        "name": _text(invoice.customer_name),
        "invoicedate": _day(invoice.invoice_date),
        "duedate": _day(invoice.due_date),
        "topay": _kronor(invoice.to_pay),
        "invoiceid_real": _text(invoice.number),
        "fileurl": _text(invoice.file_url),
        "balancedue": _kronor(invoice.balance_due),
        "invoicetype": _choice(invoice.invoice_type),
        "distributor_status": _choice(invoice.distributor_status),
        "creditinvoiceid": _text(invoice.credit_invoice_id),
        "hash": _text(invoice.invoice_hash),
        "mm3servicesid": _text(invoice.mm3_services_id),
        "mexcModulesid": _text(invoice.mexc_modules_id),
        "mexcCustomerinvoicesid": _text(invoice.mexc_customer_invoices_id),
    }
    return _with_extra(row, invoice.extra)


# -- nested objects (getInvoicesByCustomer's "Response from server") ------------------------------


def _charge(charge: CartCharge) -> dict[str, Any]:
    row = {"withouttax": _ore(charge.without_tax), "taxrate": _plain(charge.tax_rate)}
    return _with_extra(row, charge.extra)


def _total(total: CartTotal) -> dict[str, Any]:
    row = {
        "rounding": _ore(total.rounding),
        "withouttax": _ore(total.without_tax),
        "tax": _ore(total.tax),
        "withtax": _ore(total.with_tax),
    }
    return _with_extra(row, total.extra)


def _cart(cart: Cart) -> dict[str, Any]:
    row: dict[str, Any] = {}
    _put(row, "Handling", cart.handling, _charge)
    _put(row, "Shipping", cart.shipping, _charge)
    _put(row, "Total", cart.total, _total)
    return _with_extra(row, cart.extra)


def _payment_data(block: PaymentData) -> dict[str, Any]:
    row = {
        "method": _number(block.method),
        "paymentplanid": _text(block.payment_plan_id),
        "currency": _text(block.currency),
        "country": _text(block.country),
        "language": _text(block.language),
        "autoactivate": _text(block.auto_activate),
        "orderid": _text(block.order_id),
        "status": _choice(block.status),
        "paymentid_related": _text(block.related_payment_id),
        "accepturl": _text(block.accept_url),
        "cancelurl": _text(block.cancel_url),
        "returnmethod": _text(block.return_method),
        "callbackurl": _text(block.callback_url),
        "alladdresses": _text(block.all_addresses),
        "url": _text(block.url),
        "mexcCustomerinvoicesid": _text(block.mexc_customer_invoices_id),
        "number": _text(block.number),
        "duedate": _day(block.due_date),
        "paiddate": _moment(block.paid_date),
    }
    return _with_extra(row, block.extra)


def _address(address: Address) -> dict[str, Any]:
    row = {
        "firstname": _text(address.first_name),
        "lastname": _text(address.last_name),
        "company": _text(address.company),
        "type": _text(address.customer_type),
        "street": _text(address.street),
        "street2": _text(address.street2),
        "zip": _text(address.zip_code),
        "city": _text(address.city),
        "country": _text(address.country),
        "phone": _text(address.phone),
        "email": _text(address.email),
    }
    return _with_extra(row, address.extra)


def _signer(signer: CompanySigner) -> dict[str, Any]:
    return _with_extra({"pno": _text(signer.pno)}, signer.extra)


def _customer(customer: Customer) -> dict[str, Any]:
    row: dict[str, Any] = {"nr": _text(customer.number), "pno": _text(customer.pno)}
    _put(row, "Billing", customer.billing, _address)
    _put(row, "Shipping", customer.shipping, _address)
    _put(row, "companySigner", customer.company_signer, _signer)
    return _with_extra(row, customer.extra)


def _article(article: Article) -> dict[str, Any]:
    row = {
        "artnr": _text(article.article_number),
        "title": _text(article.title),
        "quantity": _plain(article.quantity),
        "aprice": _ore(article.unit_price),
        "discount": _plain(article.discount),
        "withouttax": _ore(article.without_tax),
        "taxrate": _plain(article.tax_rate),
        "tax": _ore(article.tax),
    }
    return _with_extra(row, article.extra)


def _payment_info(info: PaymentInfo) -> dict[str, Any]:
    row = {
        "paymentdate": _day(info.payment_date),
        "paymentterms": _number(info.payment_terms),
        "yourreference": _text(info.your_reference),
        "ourreference": _text(info.our_reference),
        "projectname": _text(info.project_name),
        "deliverymethod": _text(info.delivery_method),
        "deliveryterms": _text(info.delivery_terms),
        "invoiceStatus": _choice(info.invoice_status),
        "balancedue": _ore(info.balance_due),
    }
    return _with_extra(row, info.extra)


def _check_summary(invoice: Invoice, payment_data: PaymentData) -> None:
    """Refuse a nested invoice whose summary fields are not the ones its blocks give."""
    expected = Invoice.from_blocks(
        payment_data=payment_data,
        cart=invoice.cart,
        customer=invoice.customer,
        articles=invoice.articles,
        payment_info=invoice.payment_info,
        invoice_type=invoice.invoice_type,
        distributor_status=invoice.distributor_status,
        invoice_hash=invoice.invoice_hash,
        credit_invoice_id=invoice.credit_invoice_id,
        mm3_services_id=invoice.mm3_services_id,
        mexc_modules_id=invoice.mexc_modules_id,
        extra=invoice.extra,
    )
    differing = [
        field.name
        for field in attrs.fields(Invoice)
        if field.eq and getattr(expected, field.name) != getattr(invoice, field.name)
    ]
    if differing:
        raise QvicklyInputError(
            f"the summary fields {', '.join(differing)} disagree with the blocks of a nested "
            "invoice; build it with Invoice.from_blocks(...) so they are derived"
        )


def _nested(invoice: Invoice) -> dict[str, Any]:
    payment_data = invoice.payment_data
    if payment_data is None or not payment_data.number:
        raise QvicklyInputError("a nested invoice needs payment_data with a number")
    _check_summary(invoice, payment_data)
    row: dict[str, Any] = {}
    _put(row, "Cart", invoice.cart, _cart)
    row["PaymentData"] = _payment_data(payment_data)
    _put(row, "Customer", invoice.customer, _customer)
    if invoice.articles:
        row["Articles"] = [_article(article) for article in invoice.articles]
    _put(row, "PaymentInfo", invoice.payment_info, _payment_info)
    # Row-level keys the server adds beside the blocks, written only when set.
    for key, value in (
        ("invoicetype", _choice(invoice.invoice_type)),
        ("distributor_status", _choice(invoice.distributor_status)),
        ("hash", _text(invoice.invoice_hash)),
        ("creditinvoiceid", _text(invoice.credit_invoice_id)),
        ("mm3servicesid", _text(invoice.mm3_services_id)),
        ("mexcModulesid", _text(invoice.mexc_modules_id)),
    ):
        if value:
            row[key] = value
    return _with_extra(row, invoice.extra)


def invoice_to_wire(invoice: Invoice) -> dict[str, Any]:
    """Return the wire row of ``invoice`` in the shape ``invoice.shape`` names.

    Raises:
        QvicklyInputError: the invoice cannot be written in its shape: a flat invoice with
            nested-only data, or a nested invoice whose summary fields disagree with its
            blocks (build those with :meth:`Invoice.from_blocks`).
    """
    if invoice.shape == InvoiceShape.NESTED:
        return _nested(invoice)
    return _flat(invoice)
