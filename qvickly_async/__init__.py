"""Typed asyncio client for the Qvickly (formerly Billmate) Payment API.

>>> from qvickly_async import AsyncQvickly
>>> async def main() -> None:
...     async with AsyncQvickly.from_env() as client:
...         invoices = await client.get_invoices_by_customer("12345")
"""

from __future__ import annotations

from typing import Any

from ._batch import BatchProgress, CustomerResult, InvoiceStream, LookupResult, ResultStream
from ._client import AsyncQvickly
from ._deprecation import resolve_deprecated
from ._options import NOT_GIVEN, ClientOptions, NotGiven, Secret
from ._retry import RetryBudget, RetryDetails
from .exceptions import (
    QvicklyAccountFeatureError,
    QvicklyAPIError,
    QvicklyAuthenticationError,
    QvicklyCallbackMismatchError,
    QvicklyConnectionError,
    QvicklyDeadlineExceededError,
    QvicklyDecodeError,
    QvicklyError,
    QvicklyHTTPStatusError,
    QvicklyInputError,
    QvicklyNotFoundError,
    QvicklyPerformanceWarning,
    QvicklyRateLimitError,
    QvicklyResponseError,
    QvicklyServerError,
    QvicklySignatureError,
    QvicklyStateError,
    QvicklyTimeoutError,
    QvicklyTransientError,
    QvicklyTransportError,
    QvicklyValidationError,
)
from .models import (
    AccountInfo,
    Address,
    Article,
    Card,
    Cart,
    Checkout,
    CheckoutData,
    CheckoutOrder,
    Customer,
    DistributorStatus,
    Invoice,
    InvoiceShape,
    InvoiceStatus,
    InvoiceType,
    Payment,
    PaymentData,
    PaymentInfo,
    PaymentMethod,
    PaymentOption,
    PaymentPlan,
    Settlement,
)

__all__ = [
    "NOT_GIVEN",
    "AccountInfo",
    "Address",
    "Article",
    "AsyncQvickly",
    "BatchProgress",
    "Card",
    "Cart",
    "Checkout",
    "CheckoutData",
    "CheckoutOrder",
    "ClientOptions",
    "Customer",
    "CustomerResult",
    "DistributorStatus",
    "Invoice",
    "InvoiceShape",
    "InvoiceStatus",
    "InvoiceStream",
    "InvoiceType",
    "LookupResult",
    "NotGiven",
    "Payment",
    "PaymentData",
    "PaymentInfo",
    "PaymentMethod",
    "PaymentOption",
    "PaymentPlan",
    "QvicklyAPIError",
    "QvicklyAccountFeatureError",
    "QvicklyAuthenticationError",
    "QvicklyCallbackMismatchError",
    "QvicklyConnectionError",
    "QvicklyDeadlineExceededError",
    "QvicklyDecodeError",
    "QvicklyError",
    "QvicklyHTTPStatusError",
    "QvicklyInputError",
    "QvicklyNotFoundError",
    "QvicklyPerformanceWarning",
    "QvicklyRateLimitError",
    "QvicklyResponseError",
    "QvicklyServerError",
    "QvicklySignatureError",
    "QvicklyStateError",
    "QvicklyTimeoutError",
    "QvicklyTransientError",
    "QvicklyTransportError",
    "QvicklyValidationError",
    "ResultStream",
    "RetryBudget",
    "RetryDetails",
    "Secret",
    "Settlement",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("qvickly-async")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            from ._version import __version__

            return __version__
    return resolve_deprecated(__name__, name)
