"""Decode invoice rows into :mod:`qvickly_async.models` and encode them back. No I/O.

All wire knowledge lives here: key names, units and the two row shapes of
``getInvoicesByCustomer`` / ``getInvoicesByPno``. One module-level cattrs converter, built at
import, holds generated hooks for every model class.

Money convention: every amount becomes a :class:`~decimal.Decimal` in currency units
(kronor, euro), whatever unit the wire used, and never passes through ``float``:

* flat rows send ``topay`` / ``balancedue`` as decimal currency units (``"1000.00"``, or JSON
  numbers ``1000`` / ``1000.5``), taken as they are;
* nested rows send every amount (``Cart``, ``Articles``, ``PaymentInfo.balancedue``) as
  integer öre/cent strings (``"10000"``), scaled exactly by 1/100 (``Decimal("100.00")``).

Integers convert exactly and JSON floats through their shortest ``repr``. Text that is not a
number raises (money is never dropped silently); an empty string is ``None``.

Other rules: numbers sent as strings or as JSON numbers are both accepted; identifiers stay
``str``; dates are lenient (zero, empty and impossible dates become ``None``); a scalar field
holding an object or array, a block that is not an object, or unparsable numbers are hard
failures reported as :class:`~qvickly_async.exceptions.QvicklyDecodeError` whose ``path`` names
the place, such as ``invoices[3].PaymentData.method``. Unknown keys land in ``extra``.
"""

import enum
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any, Final, NoReturn, Protocol, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .exceptions import QvicklyDecodeError, QvicklyInputError
from .models import (
    _EMPTY,
    Address,
    Article,
    Cart,
    CartCharge,
    CartTotal,
    CheckoutOrder,
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

__all__ = ["converter", "structure_invoices", "unstructure_invoice"]


class _HasExtra(Protocol):
    @property
    def extra(self) -> Mapping[str, Any]: ...


T = TypeVar("T")
E = TypeVar("E", bound=_HasExtra)
Hook = Callable[[Any, Any], Any]

# Keys that cannot occur on the wire, used to hand `extra` and `raw` to generated hooks.
_EXTRA_KEY: Final = "\x00qvickly:extra"
_RAW_KEY: Final = "\x00qvickly:raw"
# A row with any of these keys is a nested (getPaymentinfo-like) row.
_NESTED_MARKERS: Final = ("PaymentData", "Cart", "Customer")
# Exact arithmetic for scaling öre to currency units, whatever the ambient context.
_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_CENT: Final = Decimal("0.01")
_DECIMAL_TEXT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_INT_TEXT: Final = re.compile(r"[+-]?\d+")
_ZERO_DATE: Final = "0000-00-00"
_ZERO_DATETIME: Final = "0000-00-00 00:00:00"

#: The single converter of the SDK. Hooks are registered below, at import.
converter: Final = cattrs.Converter(detailed_validation=True)


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
    CheckoutOrder: {"number": "number", "status": "status", "order_id": "orderid", "url": "url"},
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
        "method_name": "method_name",
        "order": "order",
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


# Fields written only when set (getPaymentinfo and getCheckout keys invoice rows do not have).
_OPTIONAL_OUT: Final[Mapping[type, frozenset[str]]] = {
    PaymentData: frozenset({"method_name", "order"}),
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
        if _INT_TEXT.fullmatch(text):
            return int(text)
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

    def structure(value: Any, _: Any = None) -> Any:
        if type(value) is str:
            return table.get(value.casefold(), value) if value else None
        if value is None:
            return None
        if type(value) is int:
            return str(value)
        _reject(value, "a string")

    return structure


def _structure_decimal(value: Any, _: Any = None) -> Decimal | None:
    """Structure an exact decimal from text or a JSON number; ``""`` is ``None``."""
    if type(value) is str:
        text = value.strip()
        if not text:
            return None
        if _DECIMAL_TEXT.fullmatch(text):
            return Decimal(text)
        raise _FieldError("expected a decimal number, got other text")
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
    amount = _structure_decimal(value)
    return None if amount is None else amount.scaleb(-2, _EXACT)


def _structure_date(value: Any, _: Any = None) -> date | None:
    """Lenient: zero, empty, impossible or non-text dates are ``None``."""
    if type(value) is str:
        if not value or value.startswith(_ZERO_DATE):
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value).date()
        except ValueError:
            return None
    if isinstance(value, Mapping | list | tuple):
        _reject(value, "a date")
    return None


def _structure_datetime(value: Any, _: Any = None) -> datetime | None:
    """Lenient like :func:`_structure_date`; a bare date means midnight."""
    if type(value) is str:
        if not value or value.startswith(_ZERO_DATE):
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, Mapping | list | tuple):
        _reject(value, "a date and time")
    return None


def _identity(value: Any, _: Any = None) -> Any:
    return value


# -- scalar hooks: model -> wire (every scalar is a string, as Qvickly sends them) ------------


def _text_out(value: object) -> str:
    return "" if value is None else str(value)


def _int_out(value: int | None) -> str:
    return "" if value is None else str(int(value))


def _enum_out(value: enum.Enum | str | None) -> str:
    if value is None:
        return ""
    return str(value.value) if isinstance(value, enum.Enum) else value


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise QvicklyInputError("amounts and quantities must be finite decimals")
    return value


def _decimal_out(value: Decimal | None) -> str:
    return "" if value is None else format(_finite(value), "f")


def _ore_out(value: Decimal | None) -> str:
    """Currency units to the integer öre/cent text of nested rows (``100.00`` -> ``"10000"``)."""
    return "" if value is None else format(_finite(value).scaleb(2, _EXACT), "f")


def _money_out(value: Decimal | None) -> str:
    """Currency units as flat rows send them: at least two decimals (``"1000.00"``)."""
    if value is None:
        return ""
    amount = _finite(value)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        amount = amount.quantize(_CENT, context=_EXACT)
    return format(amount, "f")


def _date_out(value: date | None) -> str:
    return _ZERO_DATE if value is None else value.isoformat()


def _datetime_out(value: datetime | None) -> str:
    return _ZERO_DATETIME if value is None else value.isoformat(sep=" ")


def _thaw(value: Any) -> Any:
    """Turn frozen containers back into JSON-ready dicts and lists."""
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_thaw(item) for item in value]
    return value


def _add_extra(wire: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Append unknown keys after the known ones; a known key always wins."""
    for key, value in extra.items():
        if key not in wire:
            wire[key] = _thaw(value)
    return wire


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


# -- hook generation ------------------------------------------------------------------------------


def _field_hooks(cls: type) -> dict[str, Hook]:
    hooks: dict[str, Hook] = dict.fromkeys(_ORE_FIELDS.get(cls, ()), _structure_ore)
    if "credit_invoice_id" in _WIRE_NAMES[cls]:
        hooks["credit_invoice_id"] = _structure_reference
    return hooks


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


def _unstructure_overrides(cls: type) -> dict[str, Any]:
    ore = _ORE_FIELDS.get(cls, frozenset())
    optional = _OPTIONAL_OUT.get(cls, frozenset())
    overrides = {"extra": override(omit=True)}
    for field in attrs.fields(cls):
        key = _WIRE_NAMES[cls].get(field.name)
        if key is None:
            continue
        if field.name in ore:
            overrides[field.name] = override(rename=key, unstruct_hook=_ore_out)
        elif attrs.has(_optional_inner(field.type)) or field.name in optional:
            overrides[field.name] = override(rename=key, omit_if_default=True)
        else:
            overrides[field.name] = override(rename=key)
    return overrides


def _optional_inner(annotation: Any) -> Any:
    args = [arg for arg in getattr(annotation, "__args__", ()) if arg is not type(None)]
    return args[0] if len(args) == 1 else annotation


def _object_unhook(cls: type[E], **options: Any) -> Callable[[E], dict[str, Any]]:
    generated = make_dict_unstructure_fn(cls, converter, **options, **_unstructure_overrides(cls))

    def unstructure(obj: E) -> dict[str, Any]:
        return _add_extra(generated(obj), obj.extra)

    return unstructure


def _structure_articles(value: Any, _: Any = None) -> tuple[Article, ...]:
    if value is None or value == "":
        return ()
    structure_article = converter.get_structure_hook(Article)
    articles: list[Article] = []
    errors: list[Exception] = []
    for index, item in enumerate(_as_array(value)):
        try:
            articles.append(structure_article(item, Article))
        except Exception as error:  # collected and re-raised as a group below
            error.add_note(IterableValidationNote(f"article {index}", index, Article))
            errors.append(error)
    if errors:
        raise IterableValidationError("While structuring Articles", errors, tuple)
    return tuple(articles)


def _register_scalars() -> None:
    structure: dict[Any, Hook] = {
        str: _structure_required_text,
        str | None: _structure_text,
        int | None: _structure_int,
        Decimal | None: _structure_decimal,
        date | None: _structure_date,
        datetime | None: _structure_datetime,
        PaymentMethod | int | None: _structure_method,
    }
    unstructure: dict[Any, Callable[[Any], Any]] = {
        str | None: _text_out,
        int | None: _int_out,
        Decimal | None: _decimal_out,
        date | None: _date_out,
        datetime | None: _datetime_out,
        PaymentMethod | int | None: _int_out,
    }
    for cls in (InvoiceType, InvoiceStatus, DistributorStatus):
        structure[cls | str | None] = _tolerant_enum_hook(cls)
        unstructure[cls | str | None] = _enum_out
    for annotation, hook in structure.items():
        converter.register_structure_hook(annotation, hook)
    for annotation, unhook in unstructure.items():
        converter.register_unstructure_hook(annotation, unhook)
    # A generic alias is no class: match it by equality.
    converter.register_structure_hook_func(_is_article_tuple, _structure_articles)
    converter.register_unstructure_hook_func(_is_article_tuple, _unstructure_articles)


def _is_article_tuple(annotation: Any) -> bool:
    return bool(annotation == tuple[Article, ...])


def _unstructure_articles(articles: tuple[Article, ...]) -> list[dict[str, Any]]:
    return [converter.unstructure(article, Article) for article in articles]


# Leaves first: a generated hook looks up the hooks of its fields when it is built.
_BLOCKS: Final[tuple[type[Any], ...]] = (
    CartCharge,
    CartTotal,
    Cart,
    CheckoutOrder,
    PaymentData,
    Address,
    CompanySigner,
    Customer,
    Article,
    PaymentInfo,
)


def _register_objects() -> None:
    for cls in _BLOCKS:
        converter.register_structure_hook(cls, _object_hook(cls))
        converter.register_unstructure_hook(cls, _object_unhook(cls))
    # Row-level keys of a nested row are written only when set (the server omits them).
    converter.register_structure_hook(_NestedRow, _object_hook(_NestedRow))
    converter.register_unstructure_hook(
        _NestedRow, _object_unhook(_NestedRow, _cattrs_omit_if_default=True)
    )


_register_scalars()
_register_objects()


def _flat_structure_fn() -> Callable[[Mapping[str, Any], Any], Invoice]:
    overrides = _structure_overrides(Invoice)
    overrides["raw"] = override(rename=_RAW_KEY, struct_hook=_identity)
    return make_dict_structure_fn(Invoice, converter, **overrides)


_structure_flat_generated: Final = _flat_structure_fn()
_FLAT_KNOWN: Final = frozenset(_WIRE_NAMES[Invoice].values())


# -- rows -------------------------------------------------------------------------------------


def _structure_flat(row: Mapping[str, Any]) -> Invoice:
    wire = {**row, _RAW_KEY: _freeze(row)}
    if not row.keys() <= _FLAT_KNOWN:
        wire[_EXTRA_KEY] = _unknown_keys(row, _FLAT_KNOWN)
    return _structure_flat_generated(wire, Invoice)


def _structure_nested(row: Mapping[str, Any]) -> Invoice:
    parts = converter.structure(row, _NestedRow)
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
        raw=_freeze(row),
    )


def _is_nested(row: Mapping[str, Any]) -> bool:
    return any(marker in row for marker in _NESTED_MARKERS)


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


def _structure_row(row: Any, index: int, function: str) -> Invoice:
    path = f"invoices[{index}]"
    if not isinstance(row, Mapping):
        raise QvicklyDecodeError(
            f"{function} returned {_json_type(row)} where an invoice object was expected at {path}",
            function=function,
            path=path,
        )
    try:
        return _structure_nested(row) if _is_nested(row) else _structure_flat(row)
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


def structure_invoices(data: Any, *, function: str = "getInvoicesByCustomer") -> list[Invoice]:
    """Decode the verified ``data`` of an invoice-list answer into :class:`Invoice` objects.

    ``data`` is a JSON array of rows (a JSON object keyed ``"0"`` .. ``"n-1"``, as PHP may
    send, is accepted as the same list). Each row is decoded as a flat or nested invoice by
    its content, so one answer may mix both shapes.

    Raises:
        QvicklyDecodeError: ``data`` is not a list, or a row cannot be decoded; ``path`` names
            the place, e.g. ``invoices[3].PaymentData.method``.
    """
    return [_structure_row(row, index, function) for index, row in enumerate(_rows(data, function))]


# -- invoice -> wire ------------------------------------------------------------------------------

_FLAT_OUT: Final[Mapping[str, Callable[[Any], str]]] = {
    "status": _enum_out,
    "customer_name": _text_out,
    "invoice_date": _date_out,
    "due_date": _date_out,
    "to_pay": _money_out,
    "number": _text_out,
    "file_url": _text_out,
    "balance_due": _money_out,
    "invoice_type": _enum_out,
    "distributor_status": _enum_out,
    "credit_invoice_id": _text_out,
    "invoice_hash": _text_out,
    "mm3_services_id": _text_out,
    "mexc_modules_id": _text_out,
    "mexc_customer_invoices_id": _text_out,
}
_NESTED_ONLY: Final = ("currency", "paid_date", "cart", "payment_data", "customer", "payment_info")


def _unstructure_flat(invoice: Invoice) -> dict[str, Any]:
    misplaced = [name for name in _NESTED_ONLY if getattr(invoice, name) is not None]
    if invoice.articles:
        misplaced.append("articles")
    if misplaced:
        raise QvicklyInputError(
            f"a flat invoice row cannot carry {', '.join(misplaced)}; build a nested invoice "
            "with Invoice.from_blocks(...) instead"
        )
    markers = [key for key in _NESTED_MARKERS if key in invoice.extra]
    if markers:
        raise QvicklyInputError(f"extra keys {markers} would turn a flat row into a nested one")
    wire = {
        key: _FLAT_OUT[name](getattr(invoice, name)) for name, key in _WIRE_NAMES[Invoice].items()
    }
    return _add_extra(wire, invoice.extra)


def _unstructure_nested(invoice: Invoice) -> dict[str, Any]:
    if invoice.payment_data is None or not invoice.payment_data.number:
        raise QvicklyInputError("a nested invoice needs payment_data with a number")
    parts = _NestedRow(
        cart=invoice.cart,
        payment_data=invoice.payment_data,
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
    expected = Invoice.from_blocks(
        **{f.name: getattr(parts, f.name) for f in attrs.fields(_NestedRow)}
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
    wire: dict[str, Any] = converter.unstructure(parts)
    return wire


def unstructure_invoice(invoice: Invoice) -> dict[str, Any]:
    """Return the wire row for ``invoice`` in the shape named by ``invoice.shape``.

    Nested rows carry every scalar as a string and amounts as integer öre/cent strings; flat
    rows carry amounts as ``"1000.00"`` strings. Empty values are written as ``""`` and unset
    dates as zero dates, as Qvickly sends them. ``structure_invoices([row])[0]`` equals
    ``invoice`` again.

    Raises:
        QvicklyInputError: the invoice cannot be written in its shape: a flat invoice with
            nested-only data, or a nested invoice whose summary fields disagree with its
            blocks (build those with :meth:`Invoice.from_blocks`).
    """
    if invoice.shape == InvoiceShape.NESTED:
        return _unstructure_nested(invoice)
    return _unstructure_flat(invoice)
