"""Immutable client options and their validation. No I/O.

The defaults themselves live in :mod:`qvickly_async._defaults`.
"""

from __future__ import annotations

import enum
import ipaddress
import math
from collections.abc import Callable
from typing import Final, Literal
from urllib.parse import urlsplit

import attrs
import httpx

from . import _defaults
from ._retry import RetryBudget, RetryDetails
from ._signing import Secret
from .exceptions import QvicklyInputError

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "NOT_GIVEN",
    "ClientOptions",
    "NotGiven",
    "Secret",
    "check_base_url",
]

# The historical names of the defaults (see _defaults for the values).
DEFAULT_BASE_URL: Final = _defaults.BASE_URL
DEFAULT_DEADLINE: Final = _defaults.DEADLINE
DEFAULT_MAX_RESPONSE_BYTES: Final = _defaults.MAX_RESPONSE_BYTES
API_VERSION: Final = _defaults.API_VERSION


class NotGiven(enum.Enum):
    """Type of :data:`NOT_GIVEN`, the "use the default" marker."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


#: Marker for "argument not given": distinct from ``None`` (which disables a timeout).
NOT_GIVEN: Final = NotGiven.NOT_GIVEN


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
        return _defaults.TIMEOUT
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
    base_url: str = _defaults.BASE_URL
    test_mode: bool = False
    language: str = attrs.field(default=_defaults.LANGUAGE, validator=_check_language)
    timeout: httpx.Timeout = attrs.field(default=_defaults.TIMEOUT, converter=_to_timeout)
    max_retries: int = attrs.field(default=_defaults.MAX_RETRIES, validator=_check_retries)
    deadline: float = attrs.field(default=_defaults.DEADLINE, validator=_check_deadline)
    on_retry: Callable[[RetryDetails], None] | None = None
    retry_budget: RetryBudget | None = None
    allow_insecure_http: bool = False
    limits: httpx.Limits = _defaults.LIMITS
    max_response_bytes: int = _defaults.MAX_RESPONSE_BYTES
    client_name: str = _defaults.CLIENT_NAME
    #: Keep each decoded row in ``Invoice.raw`` (off: it costs decode time and memory).
    keep_raw: bool = False

    def __attrs_post_init__(self) -> None:
        check_base_url(self.base_url, allow_insecure_http=self.allow_insecure_http)


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    """Validate ``base_url``; plain ``http://`` is refused except on loopback or if allowed."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise QvicklyInputError(f"base_url must be an http(s) URL, got {base_url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise QvicklyInputError(
            f"refusing plain http:// to non-loopback host {parts.hostname!r}: the signed "
            "requests carry personal data; use https:// or pass allow_insecure_http=True"
        )
    return base_url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # Python < 3.13 does not look inside the mapping
    return address.is_loopback
