"""Decode the read-only answers beyond invoice lists into :mod:`qvickly_async._read_models`.

The hooks are registered on the one converter of :mod:`qvickly_async._codec` and follow its
rules (money in currency units, lenient dates, tolerant enums, unknown keys in ``extra``).
Every failure becomes a :class:`~qvickly_async.exceptions.QvicklyDecodeError` whose ``path``
names the wire place, such as ``payment.PaymentData.method`` or ``plans[2].startfee``.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Generic, TypeVar

import attrs
from cattrs.gen import make_dict_structure_fn, override

from . import _codec
from ._codec import (
    _EXTRA_KEY,
    _FAST_HOOKS,
    _RAW_KEY,
    _fast_hook,
    _FieldError,
    _identity,
    _json_type,
    _object_hook,
    _php_list,
    _problems,
    _structure_overrides,
    _unknown_keys,
    converter,
)
from ._read_models import (
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
from .exceptions import QvicklyDecodeError
from .models import _EMPTY, Address, PaymentData, _freeze

__all__ = [
    "structure_account_info",
    "structure_address",
    "structure_checkout",
    "structure_payment",
    "structure_payment_plans",
]

T = TypeVar("T")

# A key that cannot occur on the wire, to hand the key asked for to a generated hook.
_KEY_KEY: Final = "\x00qvickly:key"

_BLOCK_NAMES: Final[Mapping[type, Mapping[str, str]]] = {
    CheckoutOrder: {"number": "number", "status": "status", "order_id": "orderid", "url": "url"},
    DetailedPaymentData: {
        **_codec._WIRE_NAMES[PaymentData],
        "method_name": "method_name",
        "order": "order",
    },
    Card: {
        "prompt_name": "promptname",
        "recurring": "recurring",
        "recurring_number": "recurringnr",
        "accept_url": "accepturl",
        "cancel_url": "cancelurl",
        "callback_url": "callbackurl",
        "return_method": "returnmethod",
    },
    Settlement: {"number": "number", "date": "date"},
    CheckoutData: {
        "terms": "terms",
        "privacy_policy": "privacyPolicy",
        "company_view": "companyView",
        "hide_shipping_address": "hideShippingAddress",
        "show_phone_on_delivery": "showPhoneOnDelivery",
        "redirect_on_success": "redirectOnSuccess",
        "cart": "Cart",
        "client": "client",
    },
    PaymentOption: {"method": "method", "currency": "currency", "language": "language"},
    PaymentPlan: {
        "payment_plan_id": "paymentplanid",
        "description": "description",
        "months": "nbrofmonths",
        "start_fee": "startfee",
        "handling_fee": "handlingfee",
        "min_amount": "minamount",
        "max_amount": "maxamount",
        "country": "country",
        "plan_type": "type",
        "expiry_date": "expirydate",
        "interest_rate": "interestrate",
        "currency": "currency",
        "language": "language",
        "total_fee": "totalfee",
        "monthly_cost": "monthlycost",
    },
}
_TOP_NAMES: Final[Mapping[type, Mapping[str, str]]] = {
    Payment: {
        "payment_data": "PaymentData",
        "payment_info": "PaymentInfo",
        "card": "Card",
        "settlement": "Settlement",
        "customer": "Customer",
        "articles": "Articles",
        "cart": "Cart",
    },
    Checkout: {
        "status": "status",
        "date_time": "DateTime",
        "payment_data": "PaymentData",
        "payment_info": "PaymentInfo",
        "customer": "Customer",
        "articles": "Articles",
        "cart": "Cart",
        "checkout_data": "CheckoutData",
        "api_client": "apiClient",
        "order_id_real": "orderid_real",
        "invoice_id_real": "invoiceid_real",
    },
    AccountInfo: {
        "company": "company",
        "address": "address",
        "zip_code": "zip",
        "city": "city",
        "country": "country",
        "phone": "phone",
        "email": "email",
        "org_number": "orgregnr",
        "vat_number": "vatregnr",
        "language": "language",
        "payment_options": "paymentoptions",
        "default_payment_terms_company": "defaultpaymentterms_company",
        "default_payment_terms_private": "defaultpaymentterms_private",
        "checkout": "checkout",
        "logo": "logo",
    },
}
_ORE: Final[Mapping[type, frozenset[str]]] = {
    PaymentPlan: frozenset(
        {"start_fee", "handling_fee", "min_amount", "max_amount", "total_fee", "monthly_cost"}
    ),
}
_TRUE: Final = frozenset({"1", "true", "yes"})
_FALSE: Final = frozenset({"0", "false", "no"})


def _structure_flag(value: Any, _: Any = None) -> bool | None:
    """``"1"``/``"true"``/``true`` and ``"0"``/``"false"``/``false``; ``""`` is ``None``."""
    if type(value) is bool:
        return value
    if value is None or value == "":
        return None
    text = str(value).strip().casefold() if isinstance(value, str | int) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _FieldError(f"expected a flag (0/1/true/false), got {_json_type(value)}")


# Leaves first: a generated hook looks up the hooks of its fields when it is built.
_READ_BLOCKS: Final = (
    CheckoutOrder,
    DetailedPaymentData,
    Card,
    Settlement,
    CheckoutData,
    PaymentOption,
    PaymentPlan,
)


def _register() -> None:
    # The shared machinery names fields in decode errors and generates both paths' hooks
    # from these tables.
    _codec._WIRE_NAMES.update(_BLOCK_NAMES)  # type: ignore[attr-defined]
    _codec._WIRE_NAMES.update(_TOP_NAMES)  # type: ignore[attr-defined]
    _codec._ORE_FIELDS.update(_ORE)  # type: ignore[attr-defined]
    converter.register_structure_hook(bool | None, _structure_flag)
    for cls in _READ_BLOCKS:
        converter.register_structure_hook(cls, _object_hook(cls))
        _FAST_HOOKS[cls] = _fast_hook(cls)


_register()


def _detailed_top(cls: type[T], key_field: str | None) -> Callable[..., T]:
    """Build the detailed (error-reporting) hook of an answer object."""
    overrides = _structure_overrides(cls)
    overrides["raw"] = override(rename=_RAW_KEY, struct_hook=_identity)
    if key_field is not None:
        overrides[key_field] = override(rename=_KEY_KEY, struct_hook=_identity)
    generated = make_dict_structure_fn(cls, converter, **overrides)
    known = frozenset(_TOP_NAMES[cls].values())

    def structure(row: Mapping[str, Any], **given: Any) -> T:
        wire = {**row, _RAW_KEY: given.get("raw", _EMPTY)}
        if key_field is not None:
            wire[_KEY_KEY] = given[key_field]
        if not row.keys() <= known:
            wire[_EXTRA_KEY] = _unknown_keys(row, known)
        return generated(wire, cls)

    return structure


@attrs.frozen
class _Decoder(Generic[T]):
    """Both paths of one answer object: the fast hook first, the detailed one on failure."""

    fast: Callable[..., T]
    detailed: Callable[..., T]
    path: str
    what: str

    def __call__(self, data: Any, function: str, keep_raw: bool, **given: Any) -> T:
        row = _object(data, function, self.path, self.what)
        raw = _freeze(row) if keep_raw else _EMPTY
        try:
            return self.fast(row, raw=raw, **given)
        except Exception:  # noqa: S110 - the detailed path below says what failed, and where
            pass
        try:
            return self.detailed(row, raw=raw, **given)
        except Exception as error:  # every failure is reported with its wire path
            raise _decode_error(error, self.path, function, self.what) from error


def _decoder(cls: type[T], key_field: str | None, path: str, what: str) -> _Decoder[T]:
    passthrough = ("raw",) if key_field is None else (key_field, "raw")
    return _Decoder(
        _fast_hook(cls, passthrough=passthrough), _detailed_top(cls, key_field), path, what
    )


_payment: Final = _decoder(Payment, "number", "payment", "a payment")
_checkout: Final = _decoder(Checkout, "checkout_hash", "checkout", "a checkout")
_account: Final = _decoder(AccountInfo, None, "account", "an account")


def _decode_error(error: BaseException, path: str, function: str, what: str) -> QvicklyDecodeError:
    problems = _problems(error, path) or [(path, "cannot be decoded")]
    listed = "; ".join(f"{where}: {message}" for where, message in problems[:5])
    if len(problems) > 5:
        listed += f"; and {len(problems) - 5} more"
    return QvicklyDecodeError(
        f"{function} returned {what} that cannot be decoded: {listed}",
        function=function,
        path=problems[0][0],
    )


def _object(data: Any, function: str, path: str, what: str) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    raise QvicklyDecodeError(
        f"{function} returned {_json_type(data)} where {what} object was expected at {path}",
        function=function,
        path=path,
    )


def structure_payment(
    data: Any, number: str, *, function: str = "getPaymentinfo", keep_raw: bool = False
) -> Payment:
    """Decode getPaymentinfo's verified ``data`` for payment ``number``.

    ``keep_raw`` fills ``Payment.raw`` with a read-only copy of the answer.

    Raises:
        QvicklyDecodeError: ``data`` is not an object or a value cannot be decoded; ``path``
            names the place, e.g. ``payment.Cart.Total.withtax``.
    """
    return _payment(data, function, keep_raw, number=number)


def structure_checkout(
    data: Any, checkout_hash: str, *, function: str = "getCheckout", keep_raw: bool = False
) -> Checkout:
    """Decode getCheckout's verified ``data`` for ``checkout_hash``.

    Raises:
        QvicklyDecodeError: as :func:`structure_payment`, paths start with ``checkout``.
    """
    return _checkout(data, function, keep_raw, checkout_hash=checkout_hash)


def structure_account_info(
    data: Any, *, function: str = "getAccountinfo", keep_raw: bool = False
) -> AccountInfo:
    """Decode getAccountinfo's verified ``data``.

    Raises:
        QvicklyDecodeError: as :func:`structure_payment`, paths start with ``account``.
    """
    return _account(data, function, keep_raw)


def structure_address(data: Any, *, function: str = "getAddress") -> Address:
    """Decode getAddress's verified ``data`` (one address).

    Raises:
        QvicklyDecodeError: as :func:`structure_payment`, paths start with ``address``.
    """
    row = _object(data, function, "address", "an address")
    try:
        return _FAST_HOOKS[Address](row)  # type: ignore[no-any-return]
    except Exception:  # noqa: S110 - the detailed path below says what failed, and where
        pass
    try:
        return converter.structure(row, Address)
    except Exception as error:  # every failure is reported with its wire path
        raise _decode_error(error, "address", function, "an address") from error


def _plan_rows(data: Any, function: str) -> Sequence[Any]:
    if isinstance(data, list | tuple):
        return data
    if isinstance(data, Mapping):
        items = _php_list(data)
        if items is not None:
            return items
    raise QvicklyDecodeError(
        f"{function} returned {_json_type(data)} where an array of payment plans was expected",
        function=function,
        path="plans",
    )


def structure_payment_plans(data: Any, *, function: str = "getPaymentplans") -> list[PaymentPlan]:
    """Decode getPaymentplans' verified ``data`` (an array of plans).

    Raises:
        QvicklyDecodeError: as :func:`structure_payment`, paths look like ``plans[2].startfee``.
    """
    rows = _plan_rows(data, function)
    fast = _FAST_HOOKS[PaymentPlan]
    try:
        return [fast(row) for row in rows]
    except Exception:  # noqa: S110 - the detailed path below says what failed, and where
        pass
    detailed = converter.get_structure_hook(PaymentPlan)
    plans = []
    for index, row in enumerate(rows):
        path = f"plans[{index}]"
        item = _object(row, function, path, "a payment plan")
        try:
            plans.append(detailed(item, PaymentPlan))
        except Exception as error:  # every failure is reported with its wire path
            raise _decode_error(error, path, function, "a payment plan") from error
    return plans
