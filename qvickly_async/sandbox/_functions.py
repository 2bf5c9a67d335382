"""The Payment API functions the sandbox answers, and the registry that maps names to them.

A handler takes a :class:`FunctionCall` (its context: the request, the sandbox's data, switches
and answer cache) and returns the ``data`` to sign (any JSON value) or a ready signed answer, or
raises :class:`FunctionError` for an API error. Names are looked up case-insensitively.
Documented functions without a handler answer 9001 "not emulated by the sandbox: <name>".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Final

import attrs

from .._signing import php_json_encode, sign
from ._config import Settings
from ._store import PNO_STATUSES, Store

__all__ = [
    "DOCUMENTED_FUNCTIONS",
    "FunctionCall",
    "FunctionError",
    "Handler",
    "Registry",
    "ResponseCache",
    "Signed",
    "default_registry",
]

#: Every function name the Payment API's documentation lists, in its order.
DOCUMENTED_FUNCTIONS: Final = (
    "getAddress", "addPayment", "activatePayment", "updatePayment", "cancelPayment",
    "creditPayment", "duplicatePayment", "getAccountinfo", "getTerms", "getPaymentplans",
    "getPaymentinfo", "getDuePayments", "getSettlements", "getSettlementsWithDetails",
    "getCustomersByName", "getMerchantByOrgnum", "getInvoicesByPno", "getInvoicesByCustomer",
    "getExchangeRate", "getVatrate", "getFees", "crediflowSearchParty", "getOrderInfo",
    "getOrderByHash", "updateStatusLogOfInvoiceByHash", "getInvoiceByHash",
    "createInvoiceFromOrderHash", "getAPICredentials", "uploadKalpForm",
    "getBankIdKeyFromAuthToken", "initCheckout", "updateCheckout",
)  # fmt: skip


@attrs.frozen
class Signed:
    """Encoded ``data`` bytes and their HMAC (a ready answer)."""

    data: bytes
    digest: str


class FunctionError(Exception):
    """Raise from a handler to answer with API error ``code``.

    Without ``message`` the documented message for the code is used.
    """

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


class ResponseCache:
    """Bounded cache of signed answers (first in, first out). Thread-safe."""

    def __init__(self, max_entries: int = 16384) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Hashable, Signed] = {}
        self._max = max_entries

    def get_or_make(self, key: Hashable, make: Callable[[], Signed]) -> Signed:
        """Return the cached answer for ``key``, made (once, usually) on a miss."""
        found = self._entries.get(key)
        if found is not None:
            return found
        made = make()
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = made
        return made

    def clear(self) -> None:
        """Drop every entry (after data or secrets change)."""
        with self._lock:
            self._entries.clear()


class FunctionCall:
    """The context a handler answers: one request and the sandbox it reached.

    Attributes:
        function: the documented spelling of the function name.
        data: the request's ``data`` as the server sees it (decoded, characters above U+00FF
            turned into ``?``).
        merchant_id: the authenticated merchant.
        test: whether ``credentials.test`` was truthy.
        settings: the sandbox's answer switches in force (:class:`Settings`), for example
            ``settings.invoice_shape``.
        store: the sandbox's data, users' customers over the demo dataset. Its lookups come
            as decoded values (``customer_rows``, ``pno_rows``, ``payment``) and as ready
            ``data`` bytes (``customer_json``, ``pno_json``, ``payment_json``).
        cache: signed answers already made; :meth:`cached` reads and fills it.

    A handler returns the ``data`` to sign (any JSON value), or a ready answer from
    :meth:`sign`, :meth:`sign_json` or :meth:`cached`.
    """

    __slots__ = ("_secret", "cache", "data", "function", "merchant_id", "settings", "store", "test")

    def __init__(
        self,
        *,
        function: str,
        data: Any,
        merchant_id: str,
        test: bool,
        secret: bytes,
        settings: Settings,
        store: Store,
        cache: ResponseCache,
    ) -> None:
        self.function = function
        self.data = data
        self.merchant_id = merchant_id
        self.test = test
        self._secret = secret
        self.settings = settings
        self.store = store
        self.cache = cache

    def __repr__(self) -> str:
        return f"<FunctionCall {self.function} merchant_id={self.merchant_id!r} test={self.test}>"

    def sign(self, value: Any) -> Signed:
        """Encode ``value`` as PHP would and sign it with the merchant's secret."""
        return self.sign_json(php_json_encode(value).encode("ascii"))

    def sign_json(self, data: bytes) -> Signed:
        """Sign ``data``, JSON already encoded as PHP would (for example ``store.*_json``)."""
        return Signed(data, sign(self._secret, data))

    def cached(self, key: Hashable, make: Callable[[], Signed]) -> Signed:
        """Return the signed answer cached for this merchant and ``key``, made on a miss.

        ``key`` names the answer within the function, for example ``(customer, shape)``;
        the function name, merchant and test flag are added to it.
        """
        return self.cache.get_or_make((self.function, self.merchant_id, self.test, key), make)

    def field(self, name: str) -> str | None:
        """Return ``data[name]`` as text (numbers converted), ``None`` when absent or blank."""
        if not isinstance(self.data, dict):
            return None
        value = self.data.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value.strip():
            return value
        return None


Handler = Callable[[FunctionCall], Any]


def get_invoices_by_customer(call: FunctionCall) -> Signed:
    """Answer ``customerno`` with the invoices (flat, nested or mixed); ``[]`` if unknown."""
    number = call.field("customerno")
    if number is None:
        raise FunctionError(7020)
    shape = call.settings.invoice_shape
    return call.cached(
        (number, shape),
        lambda: call.sign_json(call.store.customer_json(number, shape, test=call.test)),
    )


def get_invoices_by_pno(call: FunctionCall) -> Signed:
    """Answer ``pno`` + ``status`` (``Sent`` or ``Sent,Paid``) with flat rows."""
    pno = call.field("pno")
    if pno is None:
        raise FunctionError(9014)
    status = call.field("status")
    if status not in PNO_STATUSES:
        raise FunctionError(7022)
    return call.cached(
        (pno, status), lambda: call.sign_json(call.store.pno_json(pno, status, test=call.test))
    )


def get_paymentinfo(call: FunctionCall) -> Signed:
    """Answer ``number`` with the nested object; 5200 when missing, 5201 when unknown."""
    number = call.field("number")
    if number is None:
        raise FunctionError(5200)

    def answer() -> Signed:
        found = call.store.payment_json(number, test=call.test)
        if found is None:
            raise FunctionError(5201)
        return call.sign_json(found)

    # Cached like invoice lists (cleared when data changes); an unknown number raises and is
    # not cached.
    return call.cached(number, answer)


def _account_info(merchant_id: str) -> dict[str, Any]:
    options = [
        {"method": method, "currency": currency, "language": "sv,da,no,en"}
        for method, currency in (("1", "SEK,DKK,NOK,EUR"), ("2", "SEK,DKK,NOK,EUR"), ("8", "SEK"))
    ]
    return {
        "company": "Sandlådan Handel AB",
        "address": "Testvägen 1",
        "zip": "123 45",
        "city": "Göteborg",
        "country": "Sweden",
        "phone": "031-123 45 67",
        "email": "sandbox@example.se",
        "orgregnr": "556677-8899",
        "vatregnr": "SE556677889901",
        "language": "sv",
        "paymentoptions": options,
        "defaultpaymentterms_company": "20",
        "defaultpaymentterms_private": "14",
        "checkout": "0",
        "merchantid": merchant_id,
        "logo": "https://shop.example.se/images/logo.png",
    }


def get_accountinfo(call: FunctionCall) -> Signed:
    """Answer a small static description of the merchant account (``ping()`` calls it)."""
    return call.cached(None, lambda: call.sign(_account_info(call.merchant_id)))


class Registry:
    """Function name -> handler, looked up case-insensitively.

    Thread-safe enough: entries are replaced atomically.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, Handler | None]] = {}

    def register(self, name: str, handler: Handler | None) -> None:
        """Answer ``name`` with ``handler`` (``None``: known but not emulated)."""
        if not name or not isinstance(name, str):
            raise ValueError("a function name is a non-empty string")
        self._entries[name.lower()] = (name, handler)

    def lookup(self, name: str) -> tuple[str, Handler | None] | None:
        """Return ``(documented name, handler or None)``, or ``None`` if unknown."""
        return self._entries.get(name.lower())

    def names(self) -> list[str]:
        """Return every registered name, sorted."""
        return sorted(name for name, _ in self._entries.values())


def default_registry() -> Registry:
    """Build a registry of the documented functions (seven emulated) and getCheckout."""
    registry = Registry()
    for name in DOCUMENTED_FUNCTIONS:
        registry.register(name, None)
    registry.register("getInvoicesByCustomer", get_invoices_by_customer)
    registry.register("getInvoicesByPno", get_invoices_by_pno)
    registry.register("getPaymentinfo", get_paymentinfo)
    registry.register("getAccountinfo", get_accountinfo)
    from ._read_functions import get_address, get_checkout, get_paymentplans

    registry.register("getAddress", get_address)
    registry.register("getPaymentplans", get_paymentplans)
    # Not in the documented function list, but Qvickly's own shop plugins call it.
    registry.register("getCheckout", get_checkout)
    return registry
