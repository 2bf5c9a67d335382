"""Decode invoice rows into :mod:`qvickly_async.models`. No I/O.

All of the SDK's wire knowledge for decoding lives here: key names, units and the two row
shapes of ``getInvoicesByCustomer`` / ``getInvoicesByPno``. (The sandbox writes rows with its
own, independently spelled encoder, :mod:`qvickly_async.sandbox._invoice_wire`, so a wrong
key here cannot round-trip unnoticed.)

Two paths decode the same rows with the same scalar hooks and the same wire names:

* the **fast path**, used first for every answer: one generated function per model class
  (:func:`_fast_hook`, built at import from ``_WIRE_NAMES`` and the field types, so every model
  registered there gets it), which calls the field hooks and the attrs constructor directly
  and collects nothing;
* the **detailed path**, one cattrs converter with detailed validation, run only when the
  fast path failed: it re-decodes the answer and reports every problem of the first bad
  row with its wire path (``invoices[3].PaymentData.method``).

Money convention: every amount becomes a :class:`~decimal.Decimal` in currency units
(kronor, euro), whatever unit the wire used, and never passes through ``float``:

* flat rows send ``topay`` / ``balancedue`` as decimal currency units (``"1000.00"``, or JSON
  numbers ``1000`` / ``1000.5``), taken as they are;
* nested rows send every amount (``Cart``, ``Articles``, ``PaymentInfo.balancedue``) as
  integer öre/cent strings (``"10000"``), scaled exactly by 1/100 (``Decimal("100.00")``).

Integers convert exactly and JSON floats through their shortest ``repr``. Text is parsed by
:class:`~decimal.Decimal` itself (exact; no regular expression), and refused unless it is a
plain decimal: exponents, underscores, infinities and NaN raise, as does any other text
(money is never dropped silently); an empty string is ``None``. Parsed amounts and dates are
memoised per text in small bounded tables (they are immutable, so equal texts share one
object).

Other rules: numbers sent as strings or as JSON numbers are both accepted; identifiers stay
``str``; dates are lenient (zero, empty and impossible dates become ``None``); a scalar field
holding an object or array, a block that is not an object, or unparsable numbers are hard
failures reported as :class:`~qvickly_async.exceptions.QvicklyDecodeError` whose ``path`` names
the place, such as ``invoices[3].PaymentData.method``. Unknown keys land in ``extra``.
``Invoice.raw`` is filled only when asked for (``keep_raw=True``).
"""

import enum
import functools
import linecache
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any, Final, NoReturn, TypeVar

import attrs
import cattrs
import orjson
from cattrs.errors import (
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, override

from .exceptions import QvicklyDecodeError
from .models import (
    _EMPTY,
    Address,
    Article,
    Cart,
    CartCharge,
    CartTotal,
    CompanySigner,
    Customer,
    DistributorStatus,
    Invoice,
    InvoiceShape,
    InvoiceStatus,
    InvoiceType,
    PaymentData,
    PaymentInfo,
    PaymentMethod,
    _freeze,
    _lookup_table,
)

__all__ = ["converter", "structure_invoices"]


T = TypeVar("T")
#: A field hook: ``hook(value)`` (the cattrs converter passes the type as a second argument).
Hook = Callable[..., Any]

# Keys that cannot occur on the wire, used to hand `extra` and `raw` to generated hooks.
_EXTRA_KEY: Final = "\x00qvickly:extra"
_RAW_KEY: Final = "\x00qvickly:raw"
# Exact arithmetic for scaling öre to currency units, whatever the ambient context.
_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_ZERO_DATE: Final = "0000-00-00"
# Bounded memo tables of parsed texts (amounts, dates): values are immutable, so sharing is
# safe; once full, new texts are parsed but no longer remembered.
_MEMO_LIMIT: Final = 4096
#: Scalar hooks the fast path writes inline: ``hook -> (expression, names it uses)``. The
#: expression (``{v}`` the wire value, ``{h}`` the hook) must equal ``hook(v)`` whenever it
#: does not raise; it only answers the common cases itself and calls the hook for the rest.
_INLINE: Final[dict[Callable[..., Any], tuple[str, Mapping[str, Any]]]] = {}


class _FieldError(ValueError):
    """A value that cannot be decoded. The message never contains the value itself."""

    def __init__(self, message: str, *, where: str = "") -> None:
        super().__init__(message)
        self.where = where


# -- wire names ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _NestedRow:
    """The blocks and row-level keys of a nested row, before the summary is derived."""

    cart: Cart | None = None
    payment_data: PaymentData | None = None
    customer: Customer | None = None
    articles: tuple[Article, ...] = ()
    payment_info: PaymentInfo | None = None
    invoice_type: InvoiceType | str | None = None
    distributor_status: DistributorStatus | str | None = None
    invoice_hash: str | None = None
    credit_invoice_id: str | None = None
    mm3_services_id: str | None = None
    mexc_modules_id: str | None = None
    extra: Mapping[str, Any] = _EMPTY


# attribute name -> wire key, per class; also used to name fields in decode errors.
_WIRE_NAMES: Final[Mapping[type, Mapping[str, str]]] = {
    CartCharge: {"without_tax": "withouttax", "tax_rate": "taxrate"},
    CartTotal: {
        "rounding": "rounding",
        "without_tax": "withouttax",
        "tax": "tax",
        "with_tax": "withtax",
    },
    Cart: {"handling": "Handling", "shipping": "Shipping", "total": "Total"},
    PaymentData: {
        "method": "method",
        "payment_plan_id": "paymentplanid",
        "currency": "currency",
        "country": "country",
        "language": "language",
        "auto_activate": "autoactivate",
        "order_id": "orderid",
        "status": "status",
        "related_payment_id": "paymentid_related",
        "accept_url": "accepturl",
        "cancel_url": "cancelurl",
        "return_method": "returnmethod",
        "callback_url": "callbackurl",
        "all_addresses": "alladdresses",
        "url": "url",
        "mexc_customer_invoices_id": "mexcCustomerinvoicesid",
        "number": "number",
        "due_date": "duedate",
        "paid_date": "paiddate",
    },
    Address: {
        "first_name": "firstname",
        "last_name": "lastname",
        "company": "company",
        "customer_type": "type",
        "street": "street",
        "street2": "street2",
        "zip_code": "zip",
        "city": "city",
        "country": "country",
        "phone": "phone",
        "email": "email",
    },
    CompanySigner: {"pno": "pno"},
    Customer: {
        "number": "nr",
        "pno": "pno",
        "billing": "Billing",
        "shipping": "Shipping",
        "company_signer": "companySigner",
    },
    Article: {
        "article_number": "artnr",
        "title": "title",
        "quantity": "quantity",
        "unit_price": "aprice",
        "discount": "discount",
        "without_tax": "withouttax",
        "tax_rate": "taxrate",
        "tax": "tax",
    },
    PaymentInfo: {
        "payment_date": "paymentdate",
        "payment_terms": "paymentterms",
        "your_reference": "yourreference",
        "our_reference": "ourreference",
        "project_name": "projectname",
        "delivery_method": "deliverymethod",
        "delivery_terms": "deliveryterms",
        "invoice_status": "invoiceStatus",
        "balance_due": "balancedue",
    },
    _NestedRow: {
        "cart": "Cart",
        "payment_data": "PaymentData",
        "customer": "Customer",
        "articles": "Articles",
        "payment_info": "PaymentInfo",
        "invoice_type": "invoicetype",
        "distributor_status": "distributor_status",
        "invoice_hash": "hash",
        "credit_invoice_id": "creditinvoiceid",
        "mm3_services_id": "mm3servicesid",
        "mexc_modules_id": "mexcModulesid",
    },
    # The flat row, in the order the server sends its keys.
    Invoice: {
        "status": "status",
        "customer_name": "name",
        "invoice_date": "invoicedate",
        "due_date": "duedate",
        "to_pay": "topay",
        "number": "invoiceid_real",
        "file_url": "fileurl",
        "balance_due": "balancedue",
        "invoice_type": "invoicetype",
        "distributor_status": "distributor_status",
        "credit_invoice_id": "creditinvoiceid",
        "invoice_hash": "hash",
        "mm3_services_id": "mm3servicesid",
        "mexc_modules_id": "mexcModulesid",
        "mexc_customer_invoices_id": "mexcCustomerinvoicesid",
    },
}

# Fields holding integer öre/cent on the wire.
_ORE_FIELDS: Final[Mapping[type, frozenset[str]]] = {
    CartCharge: frozenset({"without_tax"}),
    CartTotal: frozenset({"rounding", "without_tax", "tax", "with_tax"}),
    Article: frozenset({"unit_price", "without_tax", "tax"}),
    PaymentInfo: frozenset({"balance_due"}),
}


# -- scalar hooks: wire -> model ------------------------------------------------------------------


def _json_type(value: object) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__


def _reject(value: object, expected: str) -> NoReturn:
    raise _FieldError(f"expected {expected}, got {_json_type(value)}")


def _structure_text(value: Any, _: Any = None) -> str | None:
    """Text or a number sent for text; ``""`` is ``None``."""
    if type(value) is str:
        return value or None
    if value is None:
        return None
    if type(value) is int:
        return str(value)
    if type(value) is float and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    _reject(value, "a string")


def _structure_required_text(value: Any, _: Any = None) -> str:
    text = _structure_text(value)
    if text is None:
        raise _FieldError("must not be empty")
    return text


def _structure_reference(value: Any, _: Any = None) -> str | None:
    """Structure an optional reference to another invoice, where ``0`` means none."""
    text = _structure_text(value)
    return None if text == "0" else text


def _structure_int(value: Any, _: Any = None) -> int | None:
    if type(value) is str:
        text = value.strip()
        if not text:
            return None
        # int() also takes "1_000"; the wire never means that.
        if "_" not in text:
            try:
                return int(text)
            except ValueError:
                pass
        raise _FieldError("expected a whole number, got other text")
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if value is None:
        return None
    _reject(value, "a whole number")


_METHODS: Final[Mapping[int, PaymentMethod]] = {member.value: member for member in PaymentMethod}


def _structure_method(value: Any, _: Any = None) -> PaymentMethod | int | None:
    number = _structure_int(value)
    return None if number is None else _METHODS.get(number, number)


def _tolerant_enum_hook(cls: type[enum.StrEnum]) -> Hook:
    """Structure a string enum, keeping unknown values as the text that arrived."""
    table = _lookup_table(cls)
    # The fast path first tries the exact texts the server sends (``"Sent"``) in one lookup.
    exact = {**{str(member.value): member for member in cls}, **table}

    def structure(value: Any, _: Any = None) -> Any:
        if type(value) is str:
            return table.get(value.casefold(), value) if value else None
        if value is None:
            return None
        if type(value) is int:
            return str(value)
        _reject(value, "a string")

    _INLINE[structure] = ("{table}.get({v}) or {h}({v})", {"table": exact})
    return structure


def _decimal_from_text(text: str) -> Decimal | None:
    """Parse a plain decimal (``[+-]digits[.digits]``, blanks around it) exactly.

    :class:`~decimal.Decimal` parses exactly whatever the context; what it accepts beyond a
    plain decimal (exponents, ``_`` separators, infinities, NaN) is refused here.
    """
    try:
        amount = Decimal(text)
    except ArithmeticError:  # decimal.InvalidOperation
        if not text.strip():
            return None
        raise _FieldError("expected a decimal number, got other text") from None
    if not amount.is_finite() or "e" in text or "E" in text or "_" in text:
        raise _FieldError("expected a decimal number, got other text")
    return amount


_DECIMALS: Final[dict[str, Decimal | None]] = {}
_ORES: Final[dict[str, Decimal | None]] = {}


def _structure_decimal(value: Any, _: Any = None) -> Decimal | None:
    """Structure an exact decimal from text or a JSON number; ``""`` is ``None``."""
    if type(value) is str:
        amount = _DECIMALS.get(value)
        if amount is None:
            if not value:
                return None
            amount = _decimal_from_text(value)
            if len(_DECIMALS) < _MEMO_LIMIT:
                _DECIMALS[value] = amount
        return amount
    if type(value) is int:
        return Decimal(value)
    if type(value) is float:
        if not math.isfinite(value):
            raise _FieldError("expected a finite number")
        return Decimal(repr(value))
    if value is None:
        return None
    _reject(value, "a number")


def _structure_ore(value: Any, _: Any = None) -> Decimal | None:
    """Money sent in öre/cent, returned in currency units (exactly, no rounding)."""
    if type(value) is str:
        amount = _ORES.get(value)
        if amount is None:
            if not value:
                return None
            if value.isdigit() and value.isascii():
                # Plain digits, the common case: the same coefficient with exponent -2 is
                # exactly what ``scaleb(-2)`` makes of it, parsed once (Decimal() is exact).
                amount = Decimal(value + "E-2")
            else:
                amount = _decimal_from_text(value)
                if amount is not None:
                    amount = amount.scaleb(-2, _EXACT)
            if len(_ORES) < _MEMO_LIMIT:
                _ORES[value] = amount
        return amount
    amount = _structure_decimal(value)
    return None if amount is None else amount.scaleb(-2, _EXACT)


_DATES: Final[dict[str, date | None]] = {}


def _date_from_text(value: str) -> date | None:
    if value.startswith(_ZERO_DATE):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def _structure_date(value: Any, _: Any = None) -> date | None:
    """Lenient: zero, empty, impossible or non-text dates are ``None``."""
    if type(value) is str:
        try:
            return _DATES[value]
        except KeyError:
            pass
        parsed = _date_from_text(value) if value else None
        if len(_DATES) < _MEMO_LIMIT:
            _DATES[value] = parsed
        return parsed
    if isinstance(value, Mapping | list | tuple):
        _reject(value, "a date")
    return None


_DATETIMES: Final[dict[str, datetime | None]] = {}


def _structure_datetime(value: Any, _: Any = None) -> datetime | None:
    """Lenient like :func:`_structure_date`; a bare date means midnight."""
    if type(value) is str:
        if not value or value.startswith(_ZERO_DATE):
            return None
        try:
            parsed: datetime | None = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if len(_DATETIMES) < _MEMO_LIMIT:
            _DATETIMES[value] = parsed
        return parsed
    if isinstance(value, Mapping | list | tuple):
        _reject(value, "a date and time")
    return None


def _identity(value: Any, _: Any = None) -> Any:
    return value


_MISSING: Final = object()
_METHOD_TEXTS: Final = {str(member.value): member for member in PaymentMethod}
_INLINE.update(
    {
        _structure_text: (
            "({v} or None) if type({v}) is str else (None if {v} is None"
            " else (str({v}) if type({v}) is int else {h}({v})))",
            {},
        ),
        _structure_required_text: (
            "{v} if type({v}) is str and {v} else (str({v}) if type({v}) is int else {h}({v}))",
            {},
        ),
        _structure_int: ("int({v}) if type({v}) is str and {v}.isdecimal() else {h}({v})", {}),
        _structure_method: ("{methods}.get({v}) or {h}({v})", {"methods": _METHOD_TEXTS}),
        # Memo tables are keyed by text only, so a hit means the text was parsed before.
        _structure_decimal: (
            "{a} if ({a} := {memo}.get({v})) is not None"
            " else (None if {v} is None else ({dec}({v}) if type({v}) is int else {h}({v})))",
            {"memo": _DECIMALS, "dec": Decimal},
        ),
        _structure_ore: (
            "{a} if ({a} := {memo}.get({v})) is not None else (None if {v} is None else {h}({v}))",
            {"memo": _ORES},
        ),
        _structure_date: (
            "{a} if ({a} := {memo}.get({v}, {missing})) is not {missing} else {h}({v})",
            {"memo": _DATES, "missing": _MISSING},
        ),
        _structure_datetime: (
            "{a} if ({a} := {memo}.get({v}, {missing})) is not {missing} else {h}({v})",
            {"memo": _DATETIMES, "missing": _MISSING},
        ),
    }
)


# -- containers ---------------------------------------------------------------------------------


def _as_object(value: Any) -> Mapping[str, Any]:
    if type(value) is dict or isinstance(value, Mapping):
        return value
    if (isinstance(value, list | tuple) and not value) or value == "":
        # PHP's json_encode writes an empty array for an empty object; some answers send
        # an empty block as "" (getCheckout's PaymentInfo).
        return {}
    _reject(value, "an object")


def _php_list(value: Mapping[str, Any]) -> list[Any] | None:
    """Return the values of a mapping keyed ``"0"`` .. ``"n-1"`` (a PHP list), else ``None``."""
    for index, key in enumerate(value):
        if key != str(index):
            return None
    return list(value.values())


def _as_array(value: Any) -> Sequence[Any]:
    if isinstance(value, list | tuple):
        return value
    if isinstance(value, Mapping):
        items = _php_list(value)
        if items is not None:
            return items
    _reject(value, "an array")


def _unknown_keys(wire: Mapping[str, Any], known: frozenset[str]) -> Mapping[str, Any]:
    unknown: Mapping[str, Any] = _freeze(
        {key: value for key, value in wire.items() if key not in known}
    )
    return unknown


# -- field hooks (shared by both paths) ------------------------------------------------------------


def _field_hooks(cls: type) -> dict[str, Hook]:
    """Hooks chosen by field name rather than by type (öre amounts, invoice references)."""
    hooks: dict[str, Hook] = dict.fromkeys(_ORE_FIELDS.get(cls, ()), _structure_ore)
    if "credit_invoice_id" in _WIRE_NAMES[cls]:
        hooks["credit_invoice_id"] = _structure_reference
    return hooks


def _scalar_hooks() -> dict[Any, Hook]:
    """Hooks chosen by the field's type annotation."""
    hooks: dict[Any, Hook] = {
        str: _structure_required_text,
        str | None: _structure_text,
        int | None: _structure_int,
        Decimal | None: _structure_decimal,
        date | None: _structure_date,
        datetime | None: _structure_datetime,
        PaymentMethod | int | None: _structure_method,
    }
    for cls in (InvoiceType, InvoiceStatus, DistributorStatus):
        hooks[cls | str | None] = _tolerant_enum_hook(cls)
    return hooks


_SCALAR_HOOKS: Final = _scalar_hooks()


# -- the detailed path: cattrs with detailed validation ------------------------------------------

#: The detailed converter: run only to report where a row failed (see the module docstring).
converter: Final = cattrs.Converter(detailed_validation=True)


def _structure_overrides(cls: type) -> dict[str, Any]:
    wire = _WIRE_NAMES[cls]
    hooks = _field_hooks(cls)
    overrides = {
        field.name: override(omit=True) for field in attrs.fields(cls) if field.name not in wire
    }
    for name, key in wire.items():
        overrides[name] = override(rename=key, struct_hook=hooks.get(name))
    overrides["extra"] = override(rename=_EXTRA_KEY, struct_hook=_identity)
    return overrides


def _object_hook(cls: type[T]) -> Callable[[Any, Any], T]:
    """Build a generated cattrs hook for ``cls`` that also collects unknown keys in ``extra``."""
    generated = make_dict_structure_fn(cls, converter, **_structure_overrides(cls))
    known = frozenset(_WIRE_NAMES[cls].values())

    def structure(value: Any, _: Any = None) -> T:
        wire = _as_object(value)
        if not wire.keys() <= known:
            wire = {**wire, _EXTRA_KEY: _unknown_keys(wire, known)}
        return generated(wire, cls)

    return structure


def _detailed_tuple_hook(item: type[T]) -> Hook:
    """Structure an array (or PHP list object) of ``item`` objects, naming failing indexes."""

    def structure(value: Any, _: Any = None) -> tuple[T, ...]:
        if value is None or value == "":
            return ()
        structure_item = converter.get_structure_hook(item)
        items: list[T] = []
        errors: list[Exception] = []
        for index, element in enumerate(_as_array(value)):
            try:
                items.append(structure_item(element, item))
            except Exception as error:  # collected and re-raised as a group below
                error.add_note(IterableValidationNote(f"{item.__name__} {index}", index, item))
                errors.append(error)
        if errors:
            raise IterableValidationError(f"While structuring {item.__name__}s", errors, tuple)
        return tuple(items)

    return structure


def _tuple_item(annotation: Any) -> type | None:
    """``X`` for a ``tuple[X, ...]`` annotation of an attrs class ``X``, else ``None``."""
    args: tuple[Any, ...] = getattr(annotation, "__args__", ())
    if getattr(annotation, "__origin__", None) is tuple and len(args) == 2 and args[1] is ...:
        item: type = args[0]
        return item if attrs.has(item) else None
    return None


# Leaves first: a generated hook looks up the hooks of its fields when it is built.
_BLOCKS: Final[tuple[type[Any], ...]] = (
    CartCharge,
    CartTotal,
    Cart,
    PaymentData,
    Address,
    CompanySigner,
    Customer,
    Article,
    PaymentInfo,
)


def _register_detailed() -> None:
    for annotation, hook in _SCALAR_HOOKS.items():
        converter.register_structure_hook(annotation, hook)
    # A generic alias is no class: match tuples of models by predicate.
    converter.register_structure_hook_factory(
        lambda annotation: _tuple_item(annotation) is not None,
        lambda annotation: _detailed_tuple_hook(_tuple_item(annotation)),  # type: ignore[arg-type]
    )
    for cls in (*_BLOCKS, _NestedRow):
        converter.register_structure_hook(cls, _object_hook(cls))


_register_detailed()


def _flat_structure_fn() -> Callable[[Mapping[str, Any], Any], Invoice]:
    overrides = _structure_overrides(Invoice)
    overrides["raw"] = override(rename=_RAW_KEY, struct_hook=_identity)
    return make_dict_structure_fn(Invoice, converter, **overrides)


_structure_flat_detailed: Final = _flat_structure_fn()
_FLAT_KNOWN: Final = frozenset(_WIRE_NAMES[Invoice].values())


def _detailed_flat(row: Mapping[str, Any], keep_raw: bool) -> Invoice:
    wire = {**row, _RAW_KEY: _freeze(row) if keep_raw else _EMPTY}
    if not row.keys() <= _FLAT_KNOWN:
        wire[_EXTRA_KEY] = _unknown_keys(row, _FLAT_KNOWN)
    return _structure_flat_detailed(wire, Invoice)


def _detailed_nested(row: Mapping[str, Any], keep_raw: bool) -> Invoice:
    parts = converter.structure(row, _NestedRow)
    return _invoice_from_parts(parts, _freeze(row) if keep_raw else _EMPTY)


# -- the fast path: one generated function per model class ---------------------------------------

_FAST_HOOKS: Final[dict[type, Callable[[Any], Any]]] = {}


def _fast_tuple_hook(item: type) -> Callable[[Any], tuple[Any, ...]]:
    structure_item = _FAST_HOOKS[item]

    def structure(value: Any) -> tuple[Any, ...]:
        if type(value) is list:
            return tuple(map(structure_item, value))
        if value is None or value == "":
            return ()
        return tuple(map(structure_item, _as_array(value)))

    return structure


def _fast_field_hook(cls: type, field: "attrs.Attribute[Any]") -> Callable[[Any], Any]:
    by_name = _field_hooks(cls).get(field.name)
    if by_name is not None:
        return by_name
    if field.type in _SCALAR_HOOKS:
        scalar: Callable[[Any], Any] = _SCALAR_HOOKS[field.type]
        return scalar
    inner = [arg for arg in getattr(field.type, "__args__", ()) if arg is not type(None)]
    if len(inner) == 1 and inner[0] in _FAST_HOOKS:  # ``Model | None``
        return _FAST_HOOKS[inner[0]]
    item = _tuple_item(field.type)
    if item is not None and item in _FAST_HOOKS:
        return _fast_tuple_hook(item)
    # Anything else: the detailed converter's hook, so every type it handles works here.
    hook = converter.get_structure_hook(field.type)
    annotation = field.type
    return lambda value: hook(value, annotation)


def _fast_argument(
    index: int, key: str, field: "attrs.Attribute[Any]", hook: Hook, namespace: dict[str, Any]
) -> tuple[str | None, str]:
    """One field of a generated hook: an optional statement and the argument expression."""
    namespace[f"h{index}"] = hook
    default = field.default
    if default is attrs.NOTHING:
        value = f"wire[{key!r}]"
    else:
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            raise TypeError(f"{field.name}: factory defaults are not supported")
        try:
            from_none = hook(None)
        except Exception:
            from_none = _MISSING
        if from_none is not default and not (
            from_none == default and type(from_none) is type(default)
        ):
            namespace[f"d{index}"] = default
            return None, f"h{index}(wire[{key!r}]) if {key!r} in wire else d{index}"
        value = f"get({key!r})"
    inline = _INLINE.get(hook)
    if inline is None:
        return None, f"h{index}({value})"
    template, names = inline
    local = {name: f"{name}{index}" for name in names}
    namespace.update({f"{name}{index}": item for name, item in names.items()})
    expression = template.format(v=f"v{index}", h=f"h{index}", a=f"a{index}", **local)
    return f"    v{index} = {value}", f"({expression})"


def _settable_directly(cls: type) -> bool:
    """Tell whether ``cls`` can be built by setting its slots (nothing in ``__init__`` lost).

    True for a slotted attrs class without validators, ``__attrs_post_init__`` or hash cache;
    converters are applied by the generated code itself.
    """
    return (
        "__slots__" in vars(cls)
        and not hasattr(cls, "__attrs_post_init__")
        and not hasattr(cls, "__attrs_pre_init__")
        and all(field.validator is None for field in attrs.fields(cls))
        and "__attrs_cached_hash__" not in getattr(cls, "__slots__", ())
    )


@functools.cache
def _assembler(cls: type) -> type:
    """Return the private twin that generated hooks build ``cls`` instances in (one per class).

    A frozen attrs class refuses attribute assignment through its ``__setattr__``, so a hook
    could only fill its slots through their descriptors (``Field.__set__(obj, value)``, a call
    each). The twin is a subclass with no slots of its own and the plain ``__setattr__``, so
    ``obj.field = value`` is one specialised bytecode; the finished object is handed back as
    ``cls`` through ``__class__`` assignment, which CPython allows because the two layouts are
    identical (nothing is copied). No twin instance leaves a generated hook.
    """
    namespace = {
        "__slots__": (),
        "__setattr__": object.__setattr__,
        # Both methods share one C slot: with the frozen class's ``__delattr__`` inherited,
        # assignments would go through a Python-level dispatch (about twice the decode time).
        "__delattr__": object.__delattr__,
        "__module__": __name__,
        "__doc__": f"Private: {cls.__name__} while a decoding hook fills it in.",
    }
    return type(f"_Assembling{cls.__name__}", (cls,), namespace)


def _assembly(
    cls: type, assignments: Sequence[tuple[str, str]], namespace: dict[str, Any]
) -> list[str]:
    """Lines that build ``cls`` from ``(attribute, expression)`` pairs: every field, in order."""
    namespace["new"] = object.__new__
    namespace["assembling"] = _assembler(cls)
    namespace["finished"] = cls
    return [
        "    self = new(assembling)",
        *(f"    self.{name} = {expression}" for name, expression in assignments),
        "    self.__class__ = finished",
        "    return self",
    ]


def _converted_default(cls: type, field: Any) -> Any:
    default = field.default
    if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        raise TypeError(f"{cls.__name__}.{field.name}: a field off the wire needs a plain default")
    return default if field.converter is None else field.converter(default)


def _fast_hook(
    cls: type[T], *, passthrough: tuple[str, ...] = (), build: Callable[..., Any] | None = None
) -> Callable[..., Any]:
    """Generate ``structure(wire, <passthrough>=...)`` for ``cls`` from ``_WIRE_NAMES[cls]``.

    Every wired field is ``hook(wire.get(key))`` (common scalar cases written inline, see
    ``_INLINE``); ``extra`` gets the unknown keys. A missing key and JSON ``null`` both reach the
    hook as ``None``, which every hook maps to the field's default (checked here); a required
    field reads ``wire[key]``, and a field whose default is not what its hook makes of ``None``
    is written ``hook(wire[key]) if key in wire else default``.

    With ``build``, the function returns ``build(name=value, ...)`` (wired fields, ``extra``
    and the ``passthrough`` arguments). Without, it builds ``cls`` itself: slot by slot on
    its private twin (:func:`_assembler`) when :func:`_settable_directly` allows (attrs
    converters applied here, defaults for the other fields), else through ``cls(...)``. It
    collects nothing: any failure raises and the caller re-runs the detailed path.
    """
    wire_names = _WIRE_NAMES[cls]
    fields = {field.name: field for field in attrs.fields(cls)}  # type: ignore[arg-type]
    namespace: dict[str, Any] = {
        "build": cls if build is None else build,
        "known": frozenset(wire_names.values()),
        "as_object": _as_object,
        "unknown_keys": _unknown_keys,
        "EMPTY": _EMPTY,
    }
    statements: list[str] = []
    values: dict[str, str] = {}
    for index, (name, key) in enumerate(wire_names.items()):
        hook = _fast_field_hook(cls, fields[name])
        statement, expression = _fast_argument(index, key, fields[name], hook, namespace)
        if statement is not None:
            statements.append(statement)
        values[name] = expression
    # Unknown keys are frozen by ``_unknown_keys`` already (``extra``'s converter would pass
    # them through unchanged).
    values["extra"] = "EMPTY if wire.keys() <= known else unknown_keys(wire, known)"
    values.update({name: name for name in passthrough})
    body: list[str]
    if build is None and _settable_directly(cls):
        assignments: list[tuple[str, str]] = []
        for index, field in enumerate(fields.values()):
            given = values.get(field.name)
            if given is None:  # not on the wire: the default, converted once here
                namespace[f"default{index}"] = _converted_default(cls, field)
                given = f"default{index}"
            elif field.converter is not None and field.name != "extra":
                namespace[f"convert{index}"] = field.converter
                given = f"convert{index}({given})"
            assignments.append((field.name, given))
        body = _assembly(cls, assignments, namespace)
    else:
        body = [
            "    return build(",
            *(f"        {name}={expression}," for name, expression in values.items()),
            "    )",
        ]
    signature = "".join(f", {name}=EMPTY" for name in passthrough)
    source = "\n".join(
        [
            f"def structure_{cls.__name__}(value{signature}):",
            "    wire = value if type(value) is dict else as_object(value)",
            "    get = wire.get",
            *statements,
            *body,
        ]
    )
    return _compiled(f"structure_{cls.__name__}", source, namespace)


def _compiled(name: str, source: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """Compile generated ``source`` defining ``name`` in ``namespace``; return the function."""
    filename = f"<qvickly fast hook {name.removeprefix('structure_')}>"
    # Registered with linecache, so tracebacks and profilers show the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    generated: Callable[..., Any] = namespace[name]
    return generated


# Memo keys: the exact JSON text of a wire value. For JSON data (all the client passes) orjson
# tells every type apart (``1``, ``1.0``, ``"1"``, ``true``); the options refuse (TypeError)
# what it would otherwise write like another type, and a text holding ``null`` is not used as
# a key (NaN and infinities, which no JSON answer holds, would be written as ``null`` too).
_KEY_OPTIONS: Final = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
_json_key: Final = orjson.dumps


def _memo_key(value: Any) -> bytes | None:
    """Return the exact JSON text of ``value`` as a memo key, or ``None`` if it cannot be one."""
    try:
        key = _json_key(value, option=_KEY_OPTIONS)
    except TypeError:  # no JSON data (a caller's own objects): decode without a memo
        return None
    return None if b"null" in key else key


def _decode_memoised(hook: Callable[[Any], T], value: Any, memo: dict[bytes, Any], limit: int) -> T:
    """``hook(value)``, taken from or stored in ``memo`` (at most ``limit`` entries).

    Decoding is a pure function of the wire value and the models are immutable, so equal
    texts may share one object. The key is type-exact (``1``, ``1.0``, ``"1"`` and ``true``
    differ), unlike ``==`` on the decoded dicts.
    """
    key = _memo_key(value)
    if key is None:
        return hook(value)
    found: T | None = memo.get(key)
    if found is None:
        found = hook(value)
        if len(memo) < limit:
            memo[key] = found
    return found


def _memoised(hook: Callable[[Any], T], memo: dict[bytes, T]) -> Callable[[Any], T]:
    """Wrap a fast hook with a process-wide memo bounded like the scalar memo tables."""

    def structure(value: Any) -> T:
        return _decode_memoised(hook, value, memo, _MEMO_LIMIT)

    return structure


def _shared(hook: Callable[[Any], T]) -> Callable[[Any, dict[bytes, Any]], T]:
    """Like :func:`_memoised`, with a memo the caller passes: one per answer.

    For blocks holding personal data (the customer): they repeat within one answer (every
    invoice of ``getInvoicesByCustomer`` names the same customer), and must not outlive it.
    """

    def structure(value: Any, shared: dict[bytes, Any]) -> T:
        return _decode_memoised(hook, value, shared, sys.maxsize)

    return structure


# Shop-wide charges (handling, shipping) repeat across invoices and customers and hold no
# personal data: one memo for the process, bounded like the scalar memo tables.
_CHARGES: Final[dict[bytes, Any]] = {}


def _register_fast() -> None:
    for cls in (*_BLOCKS, _NestedRow):
        hook = _fast_hook(cls)
        _FAST_HOOKS[cls] = _memoised(hook, _CHARGES) if cls is CartCharge else hook


_register_fast()


def _nested_row_hook() -> Callable[..., Invoice]:
    """Generate ``structure_nested_row(value, raw, shared)``: a nested row to an :class:`Invoice`.

    The row-level keys are decoded as ``_NestedRow``'s fast hook does (the same
    :func:`_fast_argument` expressions), the ``Customer`` block through :func:`_shared` with
    the answer's memo, and the invoice is assembled slot by slot (:func:`_assembler`), the
    summary derived exactly as :meth:`Invoice.from_blocks` derives it (``tests/test_codec.py``
    checks both against each other). A row without ``PaymentData.number`` raises, and the caller
    re-runs the detailed path, which names the place.
    """
    wire_names = _WIRE_NAMES[_NestedRow]
    fields = {field.name: field for field in attrs.fields(_NestedRow)}
    namespace: dict[str, Any] = {
        "known": frozenset(wire_names.values()),
        "as_object": _as_object,
        "unknown_keys": _unknown_keys,
        "EMPTY": _EMPTY,
        "NESTED": InvoiceShape.NESTED,
        "shared_customer": _shared(_FAST_HOOKS[Customer]),
        "missing_number": _missing_number,
    }
    lines = [
        "def structure_nested_row(value, raw, shared):",
        "    wire = value if type(value) is dict else as_object(value)",
        "    get = wire.get",
    ]
    for index, (name, key) in enumerate(wire_names.items()):
        if name == "customer":
            lines.append(
                f"    {name} = shared_customer(wire[{key!r}], shared) if {key!r} in wire else None"
            )
            continue
        hook = _fast_field_hook(_NestedRow, fields[name])
        statement, expression = _fast_argument(index, key, fields[name], hook, namespace)
        if statement is not None:
            lines.append(statement)
        lines.append(f"    {name} = {expression}")
    lines += [
        "    extra = EMPTY if wire.keys() <= known else unknown_keys(wire, known)",
        "    if payment_data is None or not payment_data.number:",
        "        missing_number(payment_data)",
        "    total = cart.total if cart is not None else None",
        "    billing = customer.billing if customer is not None else None",
    ]
    derived = {
        "number": "payment_data.number",
        "shape": "NESTED",
        "status": "payment_data.status",
        "customer_name": "billing.display_name if billing is not None else None",
        "invoice_date": "payment_info.payment_date if payment_info is not None else None",
        "due_date": "payment_data.due_date",
        "paid_date": "payment_data.paid_date",
        "to_pay": "total.with_tax if total is not None else None",
        "balance_due": "payment_info.balance_due if payment_info is not None else None",
        "currency": "payment_data.currency",
        "file_url": "payment_data.url",
        "mexc_customer_invoices_id": "payment_data.mexc_customer_invoices_id",
        "raw": "raw",
    }
    invoice_fields: tuple[attrs.Attribute[Any], ...] = attrs.fields(Invoice)
    for field in invoice_fields:
        if field.name not in derived and field.name not in fields:
            raise TypeError(f"Invoice.{field.name}: not derived for nested rows")
    lines += _assembly(
        Invoice,
        [(field.name, derived.get(field.name, field.name)) for field in invoice_fields],
        namespace,
    )
    return _compiled("structure_nested_row", "\n".join(lines), namespace)


def _missing_number(payment_data: PaymentData | None) -> NoReturn:
    where = ".PaymentData.number" if payment_data is not None else ".PaymentData"
    raise _FieldError("required field missing", where=where)


# Whole rows.
_fast_nested: Final = _nested_row_hook()
_fast_flat: Final = _fast_hook(Invoice, passthrough=("raw",))


# -- rows -------------------------------------------------------------------------------------


def _invoice_from_parts(parts: _NestedRow, raw: Mapping[str, Any]) -> Invoice:
    payment_data = parts.payment_data
    if payment_data is None or payment_data.number is None:
        where = ".PaymentData.number" if payment_data is not None else ".PaymentData"
        raise _FieldError("required field missing", where=where)
    return Invoice.from_blocks(
        payment_data=payment_data,
        cart=parts.cart,
        customer=parts.customer,
        articles=parts.articles,
        payment_info=parts.payment_info,
        invoice_type=parts.invoice_type,
        distributor_status=parts.distributor_status,
        invoice_hash=parts.invoice_hash,
        credit_invoice_id=parts.credit_invoice_id,
        mm3_services_id=parts.mm3_services_id,
        mexc_modules_id=parts.mexc_modules_id,
        extra=parts.extra,
        raw=raw,
    )


def _is_nested(row: Mapping[str, Any]) -> bool:
    """Tell whether ``row`` is nested (getPaymentinfo-like): it has a block key."""
    return "PaymentData" in row or "Cart" in row or "Customer" in row


def _fast_row(row: Any, keep_raw: bool, shared: dict[bytes, Any] | None = None) -> Invoice:
    """Decode one row on the fast path; ``shared`` is the answer's memo of customer blocks."""
    raw = _freeze(row) if keep_raw else _EMPTY
    if type(row) is not dict:
        if not isinstance(row, Mapping):
            raise TypeError("not an object")
        row = dict(row)
    if _is_nested(row):
        invoice: Invoice = _fast_nested(row, raw, {} if shared is None else shared)
    else:
        invoice = _fast_flat(row, raw=raw)
    return invoice


def _problems(error: BaseException, path: str) -> list[tuple[str, str]]:
    """Flatten a (cattrs) error into ``(path, message)`` pairs named with wire keys."""
    if isinstance(error, ClassValidationError):
        names = _WIRE_NAMES.get(error.cl, {})
        with_names, without = error.group_exceptions()
        steps = [(sub, f".{names.get(note.name, note.name)}") for sub, note in with_names]
        return _sub_problems(steps, without, path)
    if isinstance(error, IterableValidationError):
        with_indexes, without = error.group_exceptions()
        steps = [(sub, f"[{note.index}]") for sub, note in with_indexes]
        return _sub_problems(steps, without, path)
    if isinstance(error, _FieldError):
        return [(path + error.where, str(error))]
    if isinstance(error, KeyError):
        return [(path, "required field missing")]
    return [(path, f"cannot be decoded ({type(error).__name__})")]


def _sub_problems(
    steps: list[tuple[Exception, str]], without: list[Exception], path: str
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for sub, step in steps:
        found.extend(_problems(sub, path + step))
    for sub in without:
        found.extend(_problems(sub, path))
    return found


def _decode_error(error: BaseException, path: str, function: str) -> QvicklyDecodeError:
    problems = _problems(error, path) or [(path, "cannot be decoded")]
    listed = "; ".join(f"{where}: {message}" for where, message in problems[:5])
    if len(problems) > 5:
        listed += f"; and {len(problems) - 5} more"
    return QvicklyDecodeError(
        f"{function} returned an invoice that cannot be decoded: {listed}",
        function=function,
        path=problems[0][0],
    )


def _detailed_row(row: Any, index: int, function: str, keep_raw: bool) -> Invoice:
    path = f"invoices[{index}]"
    if not isinstance(row, Mapping):
        raise QvicklyDecodeError(
            f"{function} returned {_json_type(row)} where an invoice object was expected at {path}",
            function=function,
            path=path,
        )
    try:
        if _is_nested(row):
            return _detailed_nested(row, keep_raw)
        return _detailed_flat(row, keep_raw)
    except Exception as error:  # every failure inside a row is reported with its path
        raise _decode_error(error, path, function) from error


def _rows(data: Any, function: str) -> Sequence[Any]:
    if isinstance(data, list | tuple):
        return data
    if isinstance(data, Mapping):
        items = _php_list(data)
        if items is not None:
            return items
    raise QvicklyDecodeError(
        f"{function} returned {_json_type(data)} where an array of invoices was expected",
        function=function,
        path="invoices",
    )


def structure_invoices(
    data: Any, *, function: str = "getInvoicesByCustomer", keep_raw: bool = False
) -> list[Invoice]:
    """Decode the verified ``data`` of an invoice-list answer into :class:`Invoice` objects.

    ``data`` is a JSON array of rows (a JSON object keyed ``"0"`` .. ``"n-1"``, as PHP may
    send, is accepted as the same list). Each row is decoded as a flat or nested invoice by
    its content, so one answer may mix both shapes. ``keep_raw`` fills ``Invoice.raw`` with a
    deeply read-only copy of each row (off by default: it costs time and memory).

    Raises:
        QvicklyDecodeError: ``data`` is not a list, or a row cannot be decoded; ``path`` names
            the place, e.g. ``invoices[3].PaymentData.method``.
    """
    rows = _rows(data, function)
    shared: dict[bytes, Any] = {}
    try:
        return [_fast_row(row, keep_raw, shared) for row in rows]
    except Exception:  # noqa: S110 - the detailed path below says what failed, and where
        pass
    return [_detailed_row(row, index, function, keep_raw) for index, row in enumerate(rows)]
