"""Immutable client options, their defaults and validation."""

from __future__ import annotations

import enum
import hmac
import math
from collections.abc import Callable
from typing import Final, Literal

import attrs
import httpx

from ._retry import RetryDetails
from ._transport import DEFAULT_LIMITS, DEFAULT_TIMEOUT, check_base_url
from .exceptions import QvicklyInputError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "NOT_GIVEN",
    "ClientOptions",
    "NotGiven",
    "Secret",
]

#: Production base URL of the Payment API.
DEFAULT_BASE_URL: Final = "https://api.qvickly.io/"
#: Seconds one call may take in total, across all attempts and backoff sleeps.
DEFAULT_DEADLINE: Final = 60.0
#: Largest response body accepted (a customer with hundreds of nested invoices is ~1 MB).
DEFAULT_MAX_RESPONSE_BYTES: Final = 32 * 1024 * 1024
API_VERSION: Final = "2.5.0"


class NotGiven(enum.Enum):
    """Type of :data:`NOT_GIVEN`, the "use the default" marker."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


#: Marker for "argument not given": distinct from ``None`` (which disables a timeout).
NOT_GIVEN: Final = NotGiven.NOT_GIVEN


class Secret:
    """The merchant secret key. Never shown by ``repr``/``str``; compare with care.

    Deliberately not an attrs class: ``attrs.asdict(client.options)`` (a common way to log a
    configuration) would otherwise recurse into it and copy the raw key out.
    """

    __slots__ = ("_value",)
    _value: bytes

    def __init__(self, value: bytes) -> None:
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> tuple[type[Secret], tuple[bytes]]:
        return (Secret, (self._value,))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def reveal(self) -> bytes:
        """Return the key bytes (for signing)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


def _to_secret(value: object) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes) or not value.strip():
        raise QvicklyInputError("secret is required: the merchant's API key, a non-empty string")
    return Secret(value)


def _to_merchant_id(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise QvicklyInputError(f"merchant_id must be a string or int, not {type(value).__name__}")
    text = str(value)
    if not text.strip() or text != text.strip():
        raise QvicklyInputError(
            f"merchant_id must be non-blank without surrounding spaces: {text!r}"
        )
    return text


def _to_timeout(value: float | httpx.Timeout | NotGiven | None) -> httpx.Timeout:
    if value is NOT_GIVEN:
        return DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(value)


def _check_deadline(_: object, __: object, value: object) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise QvicklyInputError(f"deadline must be a positive number of seconds, got {value!r}")


def _check_retries(_: object, __: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise QvicklyInputError(f"max_retries must be an int >= 0, got {value!r}")


def _check_language(_: object, __: object, value: object) -> None:
    if not (isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha()):
        raise QvicklyInputError(f"language must be a two-letter ISO 639-1 code, got {value!r}")


@attrs.frozen(kw_only=True)
class ClientOptions:
    """Everything that configures an :class:`~qvickly_async.AsyncQvickly` call."""

    merchant_id: str = attrs.field(converter=_to_merchant_id)
    secret: Secret = attrs.field(converter=_to_secret, repr=False)
    base_url: str = DEFAULT_BASE_URL
    test_mode: bool = False
    language: str = attrs.field(default="sv", validator=_check_language)
    timeout: httpx.Timeout = attrs.field(default=DEFAULT_TIMEOUT, converter=_to_timeout)
    max_retries: int = attrs.field(default=2, validator=_check_retries)
    deadline: float = attrs.field(default=DEFAULT_DEADLINE, validator=_check_deadline)
    on_retry: Callable[[RetryDetails], None] | None = None
    allow_insecure_http: bool = False
    limits: httpx.Limits = DEFAULT_LIMITS
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    client_name: str = "qvickly-async"
    #: Keep each decoded row in ``Invoice.raw`` (off: it costs decode time and memory).
    keep_raw: bool = False

    def __attrs_post_init__(self) -> None:
        check_base_url(self.base_url, allow_insecure_http=self.allow_insecure_http)
