"""Immutable client options and their validation. No I/O.

The defaults themselves live in :mod:`qvickly_async._defaults`.
"""

from __future__ import annotations

import enum
import ipaddress
import math
from collections.abc import Callable, Iterable
from typing import Any, Final, Literal, TypedDict
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
    "ClientSettings",
    "NotGiven",
    "OptionChanges",
    "Secret",
    "check_base_url",
    "check_option_names",
    "to_secret",
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


def to_secret(value: object) -> Secret:
    """Wrap the secret key; raise a :class:`QvicklyInputError` that never contains it.

    The raw key is never put into an exception, not even as the ``__context__`` of one: a
    ``UnicodeEncodeError`` would carry the whole text (a lone surrogate from an environment
    that is not UTF-8, for example).
    """
    if isinstance(value, Secret):
        return value
    encoded: bytes | None = None
    if isinstance(value, str):
        try:
            encoded = value.encode("utf-8")
        except UnicodeEncodeError:
            encoded = None
        if encoded is None:  # raised outside the except block: no context holds the key
            raise QvicklyInputError(
                "secret is not valid text (it contains a lone surrogate, e.g. from an "
                "environment variable that is not UTF-8); the key was not used"
            )
    elif isinstance(value, bytes):
        encoded = value
    if encoded is None or not encoded.strip():
        raise QvicklyInputError("secret is required: the merchant's API key, a non-empty string")
    return Secret(encoded)


def _to_timeout(value: object) -> httpx.Timeout:
    if value is NOT_GIVEN:
        return _defaults.TIMEOUT
    if isinstance(value, httpx.Timeout):
        for phase, seconds in value.as_dict().items():
            _check_seconds(f"timeout ({phase})", seconds)
        return value
    _check_seconds("timeout", value)
    return httpx.Timeout(value)  # type: ignore[arg-type]  # checked just above


def _check_seconds(name: str, value: object) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise QvicklyInputError(
            f"{name} must be a positive number of seconds, an httpx.Timeout or None, got {value!r}"
        )


def _check_bool(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # "false" is truthy: a string here once sent "test": "true" or allowed plain http.
    if not isinstance(value, bool):
        raise QvicklyInputError(
            f"{attribute.name} must be True or False, not {type(value).__name__} {value!r}"
        )


def _check_str(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise QvicklyInputError(
            f"{attribute.name} must be a non-empty str, not {type(value).__name__} {value!r}"
        )


def _check_callback(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not callable(value):
        raise QvicklyInputError(
            f"{attribute.name} must be a callable or None, not {type(value).__name__}"
        )


def _check_retry_budget(_: object, __: object, value: Any) -> None:
    if value is not None and not isinstance(value, RetryBudget):
        raise QvicklyInputError(
            f"retry_budget must be a RetryBudget or None, not {type(value).__name__}"
        )


def _check_limits(_: object, __: object, value: object) -> None:
    if not isinstance(value, httpx.Limits):
        raise QvicklyInputError(f"limits must be an httpx.Limits, not {type(value).__name__}")
    connections: object = value.max_connections  # httpx does not check its type
    if connections is not None and (
        isinstance(connections, bool) or not isinstance(connections, int) or connections < 1
    ):
        raise QvicklyInputError(
            f"limits.max_connections must be an int >= 1 or None, got {connections!r}"
        )


def _check_max_response_bytes(_: object, __: object, value: object) -> None:
    # nan compared false with every size and so disabled the limit.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise QvicklyInputError(f"max_response_bytes must be an int >= 1 (bytes), got {value!r}")


def _to_merchant_id(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise QvicklyInputError(f"merchant_id must be a string or int, not {type(value).__name__}")
    text = str(value)
    if not text.strip() or text != text.strip():
        raise QvicklyInputError(
            f"merchant_id must be non-blank without surrounding spaces: {text!r}"
        )
    return text


def _check_deadline(_: object, __: object, value: object) -> None:
    if isinstance(value, bool) or not (
        isinstance(value, int | float) and math.isfinite(value) and value > 0
    ):
        raise QvicklyInputError(f"deadline must be a positive number of seconds, got {value!r}")


def _check_retries(_: object, __: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise QvicklyInputError(f"max_retries must be an int >= 0, got {value!r}")


def _check_language(_: object, __: object, value: object) -> None:
    if not (isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha()):
        raise QvicklyInputError(f"language must be a two-letter ISO 639-1 code, got {value!r}")


@attrs.frozen(kw_only=True, repr=False)
class ClientOptions:
    """Everything that configures an :class:`~qvickly_async.AsyncQvickly` call."""

    merchant_id: str = attrs.field(converter=_to_merchant_id)
    secret: Secret = attrs.field(converter=to_secret, repr=False)
    base_url: str = attrs.field(default=_defaults.BASE_URL, validator=_check_str)
    test_mode: bool = attrs.field(default=False, validator=_check_bool)
    language: str = attrs.field(default=_defaults.LANGUAGE, validator=_check_language)
    timeout: httpx.Timeout = attrs.field(default=_defaults.TIMEOUT, converter=_to_timeout)
    max_retries: int = attrs.field(default=_defaults.MAX_RETRIES, validator=_check_retries)
    deadline: float = attrs.field(default=_defaults.DEADLINE, validator=_check_deadline)
    on_retry: Callable[[RetryDetails], None] | None = attrs.field(
        default=None, validator=_check_callback
    )
    retry_budget: RetryBudget | None = attrs.field(default=None, validator=_check_retry_budget)
    allow_insecure_http: bool = attrs.field(default=False, validator=_check_bool)
    limits: httpx.Limits = attrs.field(default=_defaults.LIMITS, validator=_check_limits)
    max_response_bytes: int = attrs.field(
        default=_defaults.MAX_RESPONSE_BYTES, validator=_check_max_response_bytes
    )
    client_name: str = attrs.field(default=_defaults.CLIENT_NAME, validator=_check_str)
    #: Keep each decoded row in ``Invoice.raw`` (off: it costs decode time and memory).
    keep_raw: bool = attrs.field(default=False, validator=_check_bool)

    def __attrs_post_init__(self) -> None:
        check_base_url(self.base_url, allow_insecure_http=self.allow_insecure_http)

    def __repr__(self) -> str:
        # Never raises, not even on a half-built instance (a traceback rendered with its
        # locals shows the one whose validation failed); the secret is never shown.
        shown = ", ".join(
            f"{field.name}={getattr(self, field.name, '<unset>')!r}"
            for field in attrs.fields(type(self))
            if field.repr
        )
        return f"ClientOptions({shown})"


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


class OptionChanges(TypedDict, total=False):
    """What :meth:`AsyncQvickly.with_options <qvickly_async.AsyncQvickly.with_options>` may change.

    Keyword arguments, each as for the constructor; a misspelt name is a type error.
    """

    merchant_id: str | int
    secret: str | bytes | Secret
    test_mode: bool
    language: str
    timeout: float | httpx.Timeout | None
    max_retries: int
    deadline: float
    on_retry: Callable[[RetryDetails], None] | None
    retry_budget: RetryBudget | None
    allow_insecure_http: bool
    keep_raw: bool


class ClientSettings(OptionChanges, total=False):
    """Constructor keyword arguments, as ``from_env`` and ``for_sandbox`` take them."""

    base_url: str
    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
    limits: httpx.Limits | None
    max_response_bytes: int | None


def check_option_names(given: Iterable[str], allowed: type, *, method: str) -> None:
    """Refuse keyword arguments that are not options, naming them (a typo, for example)."""
    names = allowed.__required_keys__ | allowed.__optional_keys__  # type: ignore[attr-defined]
    unknown = sorted(set(given) - names)
    if unknown:
        raise QvicklyInputError(
            f"{method}() got unknown option(s) {', '.join(map(repr, unknown))}; "
            f"the options are {', '.join(sorted(names))}"
        )
