"""Models of the read-only answers beyond invoice lists: payments, checkouts, account, plans.

They follow the conventions of :mod:`qvickly_async.models` (frozen, keyword-only, money as
:class:`~decimal.Decimal` in currency units, tolerant enums, unknown keys in ``extra``,
personal data masked in ``repr()``) and share its blocks: a :class:`Payment` is built of the
same :class:`~qvickly_async.models.PaymentData`, :class:`~qvickly_async.models.PaymentInfo`,
:class:`~qvickly_async.models.Customer`, :class:`~qvickly_async.models.Article` and
:class:`~qvickly_async.models.Cart` as a nested :class:`~qvickly_async.models.Invoice`.
"""

import datetime as _dt
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from .models import (
    _AMOUNT,
    _EMPTY,
    Article,
    Cart,
    Customer,
    InvoiceStatus,
    Model,
    PaymentData,
    PaymentInfo,
    PaymentMethod,
    _extra_field,
    _freeze_mapping,
    _mask_text,
    _mask_url,
)

__all__ = [
    "AccountInfo",
    "Card",
    "Checkout",
    "CheckoutData",
    "CheckoutOrder",
    "DetailedPaymentData",
    "Payment",
    "PaymentOption",
    "PaymentPlan",
    "Settlement",
]


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return value if type(value) is tuple else tuple(value)


def _raw_field() -> Any:
    # The decoded wire object, left out of ``==`` and ``repr()``.
    return attrs.field(default=_EMPTY, converter=_freeze_mapping, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class CheckoutOrder(Model):
    """``PaymentData.order`` of a checkout: the payment the checkout created, if any.

    The link is shown only up to its host in ``repr()``.
    """

    number: str | None = None
    status: InvoiceStatus | str | None = None
    order_id: str | None = None
    url: str | None = attrs.field(default=None, repr=_mask_url)
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen(kw_only=True)
class DetailedPaymentData(PaymentData):
    """The PaymentData block of getPaymentinfo and getCheckout answers.

    A :class:`~qvickly_async.models.PaymentData` (the same block as in a nested invoice)
    with the two keys those answers add: ``method_name`` and, for a checkout, ``order``.
    """

    #: A human label of the method, e.g. ``"Betala med Qvickly"``.
    method_name: str | None = None
    #: The payment a checkout created (getCheckout only).
    order: CheckoutOrder | None = None


@attrs.frozen(kw_only=True)
class Card(Model):
    """The card block of a payment (``Card``); links shown only up to their host in ``repr()``.

    It is also where older payments keep their accept, cancel and callback links.
    """

    prompt_name: str | None = None
    recurring: str | None = None
    recurring_number: str | None = None
    accept_url: str | None = attrs.field(default=None, repr=_mask_url)
    cancel_url: str | None = attrs.field(default=None, repr=_mask_url)
    callback_url: str | None = attrs.field(default=None, repr=_mask_url)
    return_method: str | None = None
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen(kw_only=True)
class Settlement(Model):
    """The settlement a payment was paid out in (``Settlement``); empty before that."""

    number: str | None = None
    date: _dt.date | None = None
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen(kw_only=True)
class Payment(Model):
    """One payment as ``getPaymentinfo`` answers it.

    ``number`` is the payment (invoice) number that was asked for; the blocks are as the
    server sent them (``None`` when a block was absent or empty). All amounts are money in
    currency units. ``raw`` keeps the decoded wire object (not part of ``==`` or ``repr()``).
    """

    number: str
    payment_data: DetailedPaymentData | None = None
    payment_info: PaymentInfo | None = None
    card: Card | None = None
    settlement: Settlement | None = None
    customer: Customer | None = None
    articles: tuple[Article, ...] = attrs.field(default=(), converter=_tuple)
    cart: Cart | None = None
    extra: Mapping[str, Any] = _extra_field()
    raw: Mapping[str, Any] = _raw_field()

    @property
    def status(self) -> InvoiceStatus | str | None:
        """``payment_data.status``: the payment's (credit check style) status."""
        return self.payment_data.status if self.payment_data is not None else None

    @property
    def total(self) -> Decimal | None:
        """``cart.total.with_tax``: the amount with tax, in currency units."""
        total = self.cart.total if self.cart is not None else None
        return total.with_tax if total is not None else None


@attrs.frozen(kw_only=True)
class CheckoutData(Model):
    """The ``CheckoutData`` block of a checkout: its settings and the cart it was opened with.

    Flags (``company_view``, ...) are kept as sent (``"true"``/``"false"``).
    """

    terms: str | None = None
    privacy_policy: str | None = None
    company_view: str | None = None
    hide_shipping_address: str | None = None
    show_phone_on_delivery: str | None = None
    redirect_on_success: str | None = None
    cart: Cart | None = None
    client: str | None = None
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen(kw_only=True)
class Checkout(Model):
    """A checkout as ``getCheckout`` answers it.

    ``checkout_hash`` is the checkout hash that was asked for. ``payment_data.order`` is the payment
    the checkout created (``number``, ``status``, ``order_id``, ``url``);
    ``payment_data.status`` is the checkout's own progress (e.g. ``Step2Loaded``).
    ``raw`` keeps the decoded wire object (not part of ``==`` or ``repr()``).
    """

    checkout_hash: str = attrs.field(repr=_mask_text)
    status: InvoiceStatus | str | None = None
    date_time: datetime | None = None
    payment_data: DetailedPaymentData | None = None
    payment_info: PaymentInfo | None = None
    customer: Customer | None = None
    articles: tuple[Article, ...] = attrs.field(default=(), converter=_tuple)
    cart: Cart | None = None
    checkout_data: CheckoutData | None = None
    api_client: str | None = None
    order_id_real: str | None = None
    invoice_id_real: str | None = None
    extra: Mapping[str, Any] = _extra_field()
    raw: Mapping[str, Any] = _raw_field()


@attrs.frozen(kw_only=True)
class PaymentOption(Model):
    """One payment method the account may use, with its currencies and languages.

    ``currency`` and ``language`` are kept as sent (comma separated); :attr:`currencies` and
    :attr:`languages` split them.
    """

    method: PaymentMethod | int | None = None
    currency: str | None = None
    language: str | None = None
    extra: Mapping[str, Any] = _extra_field()

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies, e.g. ``("SEK", "EUR")``."""
        return tuple(part.strip() for part in (self.currency or "").split(",") if part.strip())

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages, e.g. ``("sv", "en")``."""
        return tuple(part.strip() for part in (self.language or "").split(",") if part.strip())


@attrs.frozen(kw_only=True)
class AccountInfo(Model):
    """The merchant account as ``getAccountinfo`` answers it.

    The many feature flags of the answer (``force2havepno``, ``enableTestModeCheckout``,
    ...) are kept as sent in ``extra``. ``raw`` keeps the decoded wire object.
    """

    company: str | None = None
    address: str | None = None
    zip_code: str | None = None
    city: str | None = None
    country: str | None = None
    phone: str | None = None
    email: str | None = None
    org_number: str | None = None
    vat_number: str | None = None
    language: str | None = None
    payment_options: tuple[PaymentOption, ...] = attrs.field(default=(), converter=_tuple)
    #: Default payment terms in days.
    default_payment_terms_company: int | None = None
    default_payment_terms_private: int | None = None
    #: Whether Qvickly Checkout is enabled (``"1"``).
    checkout: bool | None = None
    logo: str | None = None
    extra: Mapping[str, Any] = _extra_field()
    raw: Mapping[str, Any] = _raw_field()


@attrs.frozen(kw_only=True)
class PaymentPlan(Model):
    """One part payment plan of ``getPaymentplans``.

    ``start_fee``, ``handling_fee``, ``min_amount``, ``max_amount``, ``total_fee`` and
    ``monthly_cost`` are money in currency units (the wire sends öre); ``interest_rate`` is a
    percentage.
    """

    payment_plan_id: str | None = None
    description: str | None = None
    months: int | None = None
    start_fee: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    handling_fee: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    min_amount: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    max_amount: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    country: str | None = None
    plan_type: str | None = None
    expiry_date: date | None = None
    interest_rate: Decimal | None = None
    currency: str | None = None
    language: str | None = None
    total_fee: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    monthly_cost: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    extra: Mapping[str, Any] = _extra_field()


# Public under qvickly_async.models (where they are re-exported): reprs, pickles and the
# reference name them there, not by this private module.
for _cls in (
    CheckoutOrder,
    DetailedPaymentData,
    Card,
    Settlement,
    Payment,
    CheckoutData,
    Checkout,
    PaymentOption,
    AccountInfo,
    PaymentPlan,
):
    _cls.__module__ = "qvickly_async.models"
del _cls
