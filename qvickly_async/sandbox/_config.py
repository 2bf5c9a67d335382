"""Behaviour switches of a sandbox, as one immutable value."""

from __future__ import annotations

from typing import Final, Literal, get_args

import attrs

__all__ = [
    "DEFAULT_MERCHANT_ID",
    "DEFAULT_SECRET",
    "DEFAULT_SEED",
    "DEFAULT_SIZE",
    "ErrorShape",
    "LogidStyle",
    "RowShape",
    "Settings",
]

#: Merchant id of a sandbox created without one.
DEFAULT_MERCHANT_ID: Final = "12345"
#: Secret key of a sandbox created without one (it is public: never use it for real money).
DEFAULT_SECRET: Final = "sandbox-secret"  # noqa: S105 - a published test key
#: Seed of the demo dataset.
DEFAULT_SEED: Final = 20240601
#: Number of demo customers (numbered from 10000).
DEFAULT_SIZE: Final = 1000

#: ``"bare"``: ``{"code","message","logid"}`` at the top level, unsigned (what production
#: sends). ``"signed"``: the same object as signed ``data`` (the reference pages' shape).
ErrorShape = Literal["bare", "signed"]
#: The ``invoice_shape`` switch: which shape the sandbox gives getInvoicesByCustomer rows:
#: every row the documented ``"flat"`` row, every row the server example's ``"nested"``
#: getPaymentinfo-like object, or ``"mixed"`` (each invoice picks one, deterministically).
#: (:class:`qvickly_async.models.InvoiceShape` says which shape one decoded invoice came in.)
RowShape = Literal["flat", "nested", "mixed"]
#: ``"auto"``: ``logid`` is a number in ``credentials`` and a string in error objects (as the
#: documentation's examples show); ``"int"`` or ``"str"`` force one type everywhere.
LogidStyle = Literal["auto", "int", "str"]


@attrs.frozen(kw_only=True)
class Settings:
    """How a sandbox answers; change with :meth:`Sandbox.configure`."""

    #: Accept PHP's default ``json_encode`` only (no unescaped slash/unicode variants) and
    #: refuse empty ``data`` with 9004.
    strict: bool = False
    error_shape: ErrorShape = attrs.field(
        default="bare", validator=attrs.validators.in_(get_args(ErrorShape))
    )
    invoice_shape: RowShape = attrs.field(
        default="flat", validator=attrs.validators.in_(get_args(RowShape))
    )
    logid: LogidStyle = attrs.field(
        default="auto", validator=attrs.validators.in_(get_args(LogidStyle))
    )

    @property
    def success_logid_as_string(self) -> bool:
        """Whether ``credentials.logid`` is a string."""
        return self.logid == "str"

    @property
    def error_logid_as_string(self) -> bool:
        """Whether ``logid`` inside an error object is a string."""
        return self.logid != "int"
