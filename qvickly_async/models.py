"""Public, immutable models of what the Payment API returns.

Every class is a frozen, slotted attrs class built with keyword-only arguments, so
instances are hashable values that can be shared freely between tasks. Containers inside
them are immutable too: tuples and :class:`types.MappingProxyType`.

Conventions shared by all models:

* **Money** is always a :class:`decimal.Decimal` in currency units (kronor, euro, ...),
  whatever unit the wire used: the API sends some amounts as decimal currency units
  (``"1000.00"``) and others as integer öre/cent strings (``"100000"``); both become
  ``Decimal("1000.00")``. Credit invoices carry negative amounts. No amount is ever a
  ``float``.
* **Dates** are :class:`datetime.date` or :class:`datetime.datetime`; ``None`` when the API
  sent nothing, a zero date (``0000-00-00``) or an impossible date.
* **Identifiers** (invoice numbers, customer numbers, internal ids) are ``str`` so leading
  zeros survive; ``None`` when empty.
* **Enumerations keep unknown values**: a field typed ``InvoiceStatus | str`` holds the enum
  member when the value is known (matched case-insensitively) and the text as sent
  otherwise, so a new server value never breaks decoding.
* **Nothing is lost**: every class has ``extra``, a read-only mapping of the keys it does not
  know, and :class:`Invoice` can keep the whole row it was decoded from in ``raw`` (when the
  client was created with ``keep_raw=True``; empty otherwise).
* **JSON-ready**: every class derives from :class:`Model`, whose :meth:`~Model.to_dict` gives
  plain data that :func:`json.dumps`, FastAPI and Starlette accept.
* **Personal data stays out of reprs**: names, personal numbers, addresses, phone numbers,
  e-mail addresses, references and invoice links are masked by ``repr()``.
"""

import enum
import functools
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, Self
from urllib.parse import urlsplit

import attrs

from ._json import MONEY, to_json_data
from ._logging import mask_customer_number

__all__ = [
    "AccountInfo",
    "Address",
    "Article",
    "Card",
    "Cart",
    "CartCharge",
    "CartTotal",
    "Checkout",
    "CheckoutData",
    "CheckoutOrder",
    "CompanySigner",
    "Customer",
    "DetailedPaymentData",
    "DistributorStatus",
    "Invoice",
    "InvoiceShape",
    "InvoiceStatus",
    "InvoiceType",
    "Model",
    "Payment",
    "PaymentData",
    "PaymentInfo",
    "PaymentMethod",
    "PaymentOption",
    "PaymentPlan",
    "Settlement",
]

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
# Field metadata of an amount in currency units: ``to_dict()`` writes it with two decimals or more.
_AMOUNT: Final[Mapping[str, bool]] = MappingProxyType({MONEY: True})
_SCALARS: Final = frozenset({str, int, float, bool, type(None), Decimal})

# Alternative spellings the API and its docs use for the same value (compared casefolded).
_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {"canceled": "cancelled", "stage2loaded": "step2loaded"}
)


# -- immutability helpers ---------------------------------------------------------------------


def _freeze(value: Any) -> Any:
    """Return ``value`` with every dict turned into a read-only mapping and list into a tuple."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def _freeze_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """Attrs converter: a read-only, deeply frozen copy (read-only mappings pass through)."""
    if type(value) is MappingProxyType:
        return value
    frozen: Mapping[str, Any] = _freeze(dict(value))
    return frozen


# -- repr masking -----------------------------------------------------------------------------


def _mask_text(value: str | None) -> str:
    """Show only whether a personal text is present: ``'Tess'`` -> ``'***'``."""
    return repr(value) if not value else "'***'"


def _mask_pno(value: str | None) -> str:
    """Keep the first two characters of a personal number: ``'55**********'``."""
    if not value:
        return repr(value)
    return repr(value[:2] + "*" * (len(value) - 2))


def _mask_customer_number(value: str | None) -> str:
    return repr(value) if not value else repr(mask_customer_number(value))


def _mask_url(value: str | None) -> str:
    """Keep the scheme and host of a link; the path may grant access to an invoice."""
    if not value:
        return repr(value)
    parts = urlsplit(value)
    if parts.scheme and parts.netloc:
        return repr(f"{parts.scheme}://{parts.netloc}/***")
    return "'***'"


def _keys_repr(value: Mapping[str, Any]) -> str:
    """Show the keys of an unknown-keys mapping, never its values."""
    return f"<{len(value)} keys: {', '.join(map(repr, value))}>" if value else "{}"


# -- enumerations -----------------------------------------------------------------------------


@functools.cache
def _lookup_table(cls: type[enum.Enum]) -> Mapping[str, Any]:
    """Map casefolded values and aliases to the members of a string enum."""
    table: dict[str, Any] = {str(member.value).casefold(): member for member in cls}
    for alias, target in _ALIASES.items():
        if target in table and alias not in table:
            table[alias] = table[target]
    return MappingProxyType(table)


class _TolerantStrEnum(enum.StrEnum):
    """A string enum that matches values case-insensitively and knows alias spellings."""

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if isinstance(value, str):
            member: Self | None = _lookup_table(cls).get(value.casefold())
            return member
        return None


class InvoiceType(_TolerantStrEnum):
    """The kind of invoice (``invoicetype``); lowercase values are accepted."""

    #: Faktura, an ordinary invoice.
    INVOICE = "F"
    #: Kreditfaktura, a credit invoice (negative amounts).
    CREDIT = "K"
    #: Kontantnota, a cash note.
    CASH_NOTE = "KN"
    #: Räntefaktura, an interest invoice.
    INTEREST = "RF"


class InvoiceStatus(_TolerantStrEnum):
    """Status of a payment or invoice.

    Matching is case-insensitive; ``Canceled`` is accepted for ``Cancelled`` and
    ``Stage2Loaded`` for ``Step2Loaded``.
    """

    CREATED = "Created"
    SENT = "Sent"
    PAID = "Paid"
    FACTORING = "Factoring"
    PART_PAYMENT = "PartPayment"
    HANDLING = "Handling"
    CANCELLED = "Cancelled"
    PENDING = "Pending"
    SERVICE = "Service"
    CREDITED = "Credited"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    MANUAL = "Manual"
    FACTORING_WITH_REGRESS = "FactoringWithRegress"
    FACTORING_WITHOUT_REGRESS = "FactoringWithoutRegress"
    WAITING_FOR_PURCHASE = "WaitingForPurchase"
    WAITING_FOR_BANKID_IDENTIFICATION = "WaitingForBankIDIdentification"
    CHECKOUT_LOADED = "CheckoutLoaded"
    STEP2_LOADED = "Step2Loaded"
    #: Obsolete e-mail invoice statuses.
    E_BREV = "E-brev"
    E_BREV_SENT = "E-brevsent"


class DistributorStatus(_TolerantStrEnum):
    """Where the invoice distributor is with the invoice (``distributor_status``)."""

    READY = "Ready"
    CREDIT_DECISION = "CreditDecision"
    UNDER_CONTROL = "UnderControl"
    FINAL_DECISION = "FinalDecision"
    CREATED = "Created"
    APPROVED = "Approved"
    SENT = "Sent"
    PAID = "Paid"
    CANCELLED = "Cancelled"
    EFAKTURA_SENT = "eFakturaSent"
    EFAKTURA_CONFIRMED = "eFakturaConfirmed"
    EFAKTURA_FAILED = "eFakturaFailed"


class PaymentMethod(enum.IntEnum):
    """Payment method numbers (bit flags; combinations such as 264 stay plain ``int``)."""

    FACTORING = 1
    #: Invoice handled as a service ("Service" invoice).
    HANDLING = 2
    PART_PAYMENT = 4
    CARD = 8
    BANK = 16
    CARD_OR_BANK = 24
    #: Deprecated.
    CASH = 32
    CHECKOUT = 64
    #: Deprecated.
    SIMPLE = 128
    PAYLINK = 256
    #: Seamless card payment, not combinable.
    CARD_SEAMLESS = 266
    SWISH2 = 512
    SWISH = 1024
    PAY_WITH_QVICKLY = 2048


class InvoiceShape(enum.StrEnum):
    """Which of the two documented row shapes an :class:`Invoice` was decoded from.

    ``FLAT`` is the documented 15-key summary row; ``NESTED`` is the getPaymentinfo-like
    object with ``PaymentData``, ``Cart``, ``Customer``, ``Articles`` and ``PaymentInfo``.
    (Which shapes the sandbox serves is its ``invoice_shape`` switch,
    :data:`qvickly_async.sandbox.RowShape`.)
    """

    FLAT = "flat"
    NESTED = "nested"


# -- the common base -------------------------------------------------------------------------


class Model:
    """Base of every model class: plain, JSON-ready data with :meth:`to_dict`."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Return this model as plain data that :func:`json.dumps` accepts unchanged.

        Keys are the attribute names, nested models nested dicts, in attribute order:

        * amounts (:class:`~decimal.Decimal` money fields) as exact decimal text with at least
          two decimals, never a float and never rounded: ``"1249.50"``, ``"-300.00"``; other
          decimals (quantities, tax rates) as exact text: ``"25"``;
        * dates and date-times in ISO 8601: ``"2024-05-31"``, ``"2024-05-04T12:30:00"``;
        * enum members as their value (``"Paid"``, ``"F"``, ``8``); values the SDK does not
          know stay the text that was sent;
        * tuples as lists; ``extra`` (unknown keys) kept as a dict, as sent;
        * :attr:`Invoice.raw` left out: its content is in the typed fields and ``extra``.

        A FastAPI or Starlette route can return it (or a list of them) directly::

            return [invoice.to_dict() for invoice in invoices]
        """
        data: dict[str, Any] = to_json_data(self)
        return data


# -- blocks of the nested shape ---------------------------------------------------------------


def _extra_field() -> Any:
    # Read-only mappings are not hashable: ``extra`` takes part in ``==`` but not in ``hash``.
    return attrs.field(default=_EMPTY, converter=_freeze_mapping, repr=_keys_repr, hash=False)


@attrs.frozen(kw_only=True)
class CartCharge(Model):
    """A handling or shipping charge of a cart. ``without_tax`` is money (currency units)."""

    without_tax: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    #: Tax rate in percent, e.g. ``Decimal("25")``.
    tax_rate: Decimal | None = None
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen(kw_only=True)
class CartTotal(Model):
    """Totals of a cart, all money in currency units.

    The server does not keep these consistent for every status (a cancelled invoice may
    show ``with_tax == 0`` beside non-zero parts); they are reported as sent.
    """

    rounding: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    without_tax: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    tax: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    with_tax: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen(kw_only=True)
class Cart(Model):
    """The cart block: handling and shipping charges and the totals."""

    handling: CartCharge | None = None
    shipping: CartCharge | None = None
    total: CartTotal | None = None
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen(kw_only=True)
class PaymentData(Model):
    """The payment block: method, currency, state, links and dates of one payment.

    Links (``url``, ``accept_url``, ...) are shown only up to their host in ``repr()``.
    ``auto_activate`` is kept as sent (``"0"``, ``"1"`` or a date).
    """

    method: PaymentMethod | int | None = None
    payment_plan_id: str | None = None
    currency: str | None = None
    country: str | None = None
    language: str | None = None
    auto_activate: str | None = None
    order_id: str | None = None
    status: InvoiceStatus | str | None = None
    related_payment_id: str | None = None
    accept_url: str | None = attrs.field(default=None, repr=_mask_url)
    cancel_url: str | None = attrs.field(default=None, repr=_mask_url)
    return_method: str | None = None
    callback_url: str | None = attrs.field(default=None, repr=_mask_url)
    all_addresses: str | None = None
    url: str | None = attrs.field(default=None, repr=_mask_url)
    mexc_customer_invoices_id: str | None = None
    number: str | None = None
    due_date: date | None = None
    paid_date: datetime | None = None
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen(kw_only=True)
class Address(Model):
    """A billing or shipping address. Every personal field is masked in ``repr()``.

    ``customer_type`` is ``"person"`` or ``"company"`` as sent.
    """

    first_name: str | None = attrs.field(default=None, repr=_mask_text)
    last_name: str | None = attrs.field(default=None, repr=_mask_text)
    company: str | None = attrs.field(default=None, repr=_mask_text)
    customer_type: str | None = None
    street: str | None = attrs.field(default=None, repr=_mask_text)
    street2: str | None = attrs.field(default=None, repr=_mask_text)
    zip_code: str | None = attrs.field(default=None, repr=_mask_text)
    city: str | None = attrs.field(default=None, repr=_mask_text)
    country: str | None = None
    phone: str | None = attrs.field(default=None, repr=_mask_text)
    email: str | None = attrs.field(default=None, repr=_mask_text)
    extra: Mapping[str, Any] = _extra_field()

    @property
    def display_name(self) -> str | None:
        """The company name if there is one, else first and last name; ``None`` if empty."""
        if self.company:
            return self.company
        first, last = self.first_name, self.last_name
        if first and last:
            return f"{first} {last}"
        return first or last or None


@attrs.frozen(kw_only=True)
class CompanySigner(Model):
    """The person who signs for a company customer (personal number masked in ``repr()``)."""

    pno: str | None = attrs.field(default=None, repr=_mask_pno)
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen(kw_only=True)
class Customer(Model):
    """The customer block: customer number, personal/organisation number and addresses."""

    number: str | None = attrs.field(default=None, repr=_mask_customer_number)
    pno: str | None = attrs.field(default=None, repr=_mask_pno)
    billing: Address | None = None
    shipping: Address | None = None
    company_signer: CompanySigner | None = None
    extra: Mapping[str, Any] = _extra_field()

    @property
    def company_signer_pno(self) -> str | None:
        """The company signer's personal number, if any."""
        return self.company_signer.pno if self.company_signer is not None else None


@attrs.frozen(kw_only=True)
class Article(Model):
    """One invoice line. ``unit_price``, ``without_tax`` and ``tax`` are money.

    ``quantity``, ``discount`` (percent) and ``tax_rate`` (percent) are plain decimals.
    """

    article_number: str | None = None
    title: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    discount: Decimal | None = None
    without_tax: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    tax_rate: Decimal | None = None
    tax: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen(kw_only=True)
class PaymentInfo(Model):
    """The invoice information block: dates, terms, references, delivery and balance.

    ``your_reference`` and ``our_reference`` often hold names and are masked in ``repr()``.
    ``balance_due`` is money in currency units.
    """

    payment_date: date | None = None
    #: Payment terms in days.
    payment_terms: int | None = None
    your_reference: str | None = attrs.field(default=None, repr=_mask_text)
    our_reference: str | None = attrs.field(default=None, repr=_mask_text)
    project_name: str | None = None
    delivery_method: str | None = None
    delivery_terms: str | None = None
    invoice_status: InvoiceStatus | str | None = None
    balance_due: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    extra: Mapping[str, Any] = _extra_field()


def _article_tuple(value: Iterable[Article]) -> tuple[Article, ...]:
    return value if type(value) is tuple else tuple(value)


# -- the invoice ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Invoice(Model):
    """One invoice of a ``getInvoicesByCustomer`` / ``getInvoicesByPno`` answer.

    The API answers with one of two row shapes (see :class:`InvoiceShape`), and a single
    answer may mix them. The top-level fields summarise the invoice whichever shape
    arrived; the ``cart``, ``payment_data``, ``customer``, ``articles`` and
    ``payment_info`` blocks are filled for nested rows only.

    Money convention: every amount (``to_pay``, ``balance_due`` and all block amounts) is a
    :class:`~decimal.Decimal` in currency units, never a float, whatever the wire used
    (decimal kronor in flat rows, integer öre in nested rows). Negative amounts are credits.

    Only ``number`` is required, so test data is short to write::

        Invoice(number="1001", status=InvoiceStatus.SENT, to_pay=Decimal("250.00"))

    For nested test data use :meth:`from_blocks`, which fills the summary from the blocks.
    ``raw`` keeps the decoded wire row, read-only, when the client was created with
    ``keep_raw=True`` (empty otherwise); it is left out of ``==`` and ``repr()``.
    """

    number: str
    shape: InvoiceShape = InvoiceShape.FLAT
    invoice_type: InvoiceType | str | None = None
    status: InvoiceStatus | str | None = None
    distributor_status: DistributorStatus | str | None = None
    customer_name: str | None = attrs.field(default=None, repr=_mask_text)
    invoice_date: date | None = None
    due_date: date | None = None
    paid_date: datetime | None = None
    to_pay: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    balance_due: Decimal | None = attrs.field(default=None, metadata=_AMOUNT)
    currency: str | None = None
    file_url: str | None = attrs.field(default=None, repr=_mask_url)
    invoice_hash: str | None = attrs.field(default=None, repr=_mask_text)
    credit_invoice_id: str | None = None
    mm3_services_id: str | None = None
    mexc_modules_id: str | None = None
    mexc_customer_invoices_id: str | None = None
    cart: Cart | None = None
    payment_data: PaymentData | None = None
    customer: Customer | None = None
    articles: tuple[Article, ...] = attrs.field(default=(), converter=_article_tuple)
    payment_info: PaymentInfo | None = None
    extra: Mapping[str, Any] = _extra_field()
    raw: Mapping[str, Any] = attrs.field(
        default=_EMPTY, converter=_freeze_mapping, eq=False, repr=False
    )

    @classmethod
    def from_blocks(
        cls,
        *,
        payment_data: PaymentData,
        cart: Cart | None = None,
        customer: Customer | None = None,
        articles: Iterable[Article] = (),
        payment_info: PaymentInfo | None = None,
        invoice_type: InvoiceType | str | None = None,
        distributor_status: DistributorStatus | str | None = None,
        invoice_hash: str | None = None,
        credit_invoice_id: str | None = None,
        mm3_services_id: str | None = None,
        mexc_modules_id: str | None = None,
        extra: Mapping[str, Any] = _EMPTY,
        raw: Mapping[str, Any] = _EMPTY,
    ) -> Self:
        """Build a nested-shape invoice, deriving the summary fields from the blocks.

        ``number``, ``status``, ``currency``, ``due_date``, ``paid_date``, ``file_url`` and
        ``mexc_customer_invoices_id`` come from ``payment_data``; ``to_pay`` from
        ``cart.total.with_tax``; ``invoice_date`` and ``balance_due`` from ``payment_info``;
        ``customer_name`` from the billing address (company, else first and last name).

        Raises:
            ValueError: ``payment_data.number`` is missing.
        """
        if not payment_data.number:
            raise ValueError("a nested invoice needs payment_data.number")
        total = cart.total if cart is not None else None
        billing = customer.billing if customer is not None else None
        return cls(
            number=payment_data.number,
            shape=InvoiceShape.NESTED,
            invoice_type=invoice_type,
            status=payment_data.status,
            distributor_status=distributor_status,
            customer_name=billing.display_name if billing is not None else None,
            invoice_date=payment_info.payment_date if payment_info is not None else None,
            due_date=payment_data.due_date,
            paid_date=payment_data.paid_date,
            to_pay=total.with_tax if total is not None else None,
            balance_due=payment_info.balance_due if payment_info is not None else None,
            currency=payment_data.currency,
            file_url=payment_data.url,
            invoice_hash=invoice_hash,
            credit_invoice_id=credit_invoice_id,
            mm3_services_id=mm3_services_id,
            mexc_modules_id=mexc_modules_id,
            mexc_customer_invoices_id=payment_data.mexc_customer_invoices_id,
            cart=cart,
            payment_data=payment_data,
            customer=customer,
            articles=tuple(articles),
            payment_info=payment_info,
            extra=extra,
            raw=raw,
        )


# The models of the other typed reads live in their own module; they are part of this one's
# public surface (imported last: they build on the blocks above).
from ._read_models import (  # noqa: E402
    AccountInfo,
    Card,
    Checkout,
    CheckoutData,
    CheckoutOrder,
    DetailedPaymentData,
    Payment,
    PaymentOption,
    PaymentPlan,
    Settlement,
)
