"""Check the arguments of the typed reads before anything is sent. No I/O.

Every check returns the value as it goes on the wire or raises
:class:`~qvickly_async.exceptions.QvicklyInputError`. Messages never repeat a personal
number: they say what is wrong with it.
"""

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Final
from urllib.parse import urlsplit

from .exceptions import QvicklyInputError

__all__ = [
    "check_checkout_hash",
    "check_country",
    "check_currency",
    "check_language",
    "check_payment_number",
    "check_pno",
    "check_pno_statuses",
    "check_total",
]

_NUMBER: Final = re.compile(r"[0-9]{1,20}")
# Personal or organisation number: 6 or 8 date/serial digits, an optional separator, 4 more.
_PNO: Final = re.compile(r"(?:[0-9]{6}|[0-9]{8})[-+]?[0-9]{4}")
_HASH: Final = re.compile(r"[0-9A-Za-z]{6,128}")
_CURRENCY: Final = re.compile(r"[A-Z]{3}")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")
#: Languages PaymentData accepts, as the API documents them.
LANGUAGES: Final = ("sv", "da", "no", "en")
#: getInvoicesByPno's two accepted status filters, as its documentation lists them, by parts.
_PNO_FILTERS: Final = {
    frozenset({"sent"}): "Sent",
    frozenset({"sent", "paid"}): "Sent,Paid",
}


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise QvicklyInputError(f"{name} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise QvicklyInputError(f"{name} must not be empty or blank")
    if value != value.strip():
        raise QvicklyInputError(f"{name} has leading or trailing whitespace")
    return value


def check_payment_number(number: object) -> str:
    """Check a payment (invoice) number: digits as ``str``, or a positive ``int``."""
    if isinstance(number, int) and not isinstance(number, bool):
        if number < 1:
            raise QvicklyInputError(f"payment number must be positive, got {number}")
        return str(number)
    if not isinstance(number, str):
        raise QvicklyInputError(f"payment number must be a str or int, not {type(number).__name__}")
    text = _text(number, "payment number")
    if not _NUMBER.fullmatch(text):
        raise QvicklyInputError(
            f"payment number must be 1 to 20 digits, got {len(text)} characters of other text"
            if len(text) > 20 or not text.isascii()
            else "payment number must be digits only (e.g. '1000235')"
        )
    return text


def check_pno(pno: object, name: str = "pno") -> str:
    """Check a personal/organisation number: ``YYMMDD-NNNN``, ``YYYYMMDDNNNN``, ...."""
    text = _text(pno, name)
    if not text.isascii() or not _PNO.fullmatch(text):
        digits = sum(char.isdigit() for char in text)
        raise QvicklyInputError(
            f"{name} is not a personal or organisation number (expected 10 or 12 digits with "
            f"an optional '-' or '+' before the last four, got {len(text)} characters, "
            f"{digits} of them digits)"
        )
    return text


def check_checkout_hash(hash_or_url: object) -> str:
    """Check a checkout hash, or a checkout URL whose last path segment is the hash."""
    text = _text(hash_or_url, "checkout hash")
    candidate = text
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise QvicklyInputError("checkout URL must be an http(s) URL")
        segments = [segment for segment in parts.path.split("/") if segment]
        if not segments:
            raise QvicklyInputError("checkout URL has no path: its last segment is the hash")
        candidate = segments[-1]
    if not _HASH.fullmatch(candidate):
        raise QvicklyInputError(
            "checkout hash must be 6 to 128 letters and digits (the last path segment of the "
            "checkout URL)"
        )
    return candidate


def check_pno_statuses(statuses: object) -> str:
    """Check getInvoicesByPno's filter: ``"Sent"`` or ``"Sent,Paid"`` (as text or an iterable)."""
    if isinstance(statuses, str):
        parts: Iterable[object] = statuses.split(",")
    elif isinstance(statuses, Iterable):
        parts = list(statuses)
    else:
        raise QvicklyInputError(
            f"statuses must be 'Sent', 'Sent,Paid' or an iterable of them, "
            f"not {type(statuses).__name__}"
        )
    names = set()
    for part in parts:
        if not isinstance(part, str):
            raise QvicklyInputError(f"statuses must be strings, got {type(part).__name__}")
        names.add(part.strip().casefold())
    found = _PNO_FILTERS.get(frozenset(names))
    if found is None:
        raise QvicklyInputError(
            "getInvoicesByPno accepts only the statuses ('Sent',) or ('Sent', 'Paid'), "
            f"got {sorted(names)!r}"
        )
    return found


def check_currency(currency: object) -> str:
    """Check an ISO 4217 code in capitals, e.g. ``"SEK"``."""
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise QvicklyInputError(f"currency must be three capital letters, got {currency!r}")
    return currency


def check_country(country: object) -> str:
    """Check an ISO 3166-1 alpha-2 code in capitals, e.g. ``"SE"``."""
    if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
        raise QvicklyInputError(f"country must be two capital letters, got {country!r}")
    return country


def check_language(language: object) -> str:
    """Check one of the languages PaymentData accepts."""
    if language not in LANGUAGES:
        raise QvicklyInputError(f"language must be one of {LANGUAGES}, got {language!r}")
    assert isinstance(language, str)
    return language


def check_total(total: object) -> str:
    """Check an amount in currency units (``Decimal`` or ``int``); return öre/cent text."""
    if isinstance(total, bool) or not isinstance(total, Decimal | int):
        raise QvicklyInputError(
            f"total_with_tax must be a Decimal or int in currency units, not "
            f"{type(total).__name__} (floats are refused: money must be exact)"
        )
    amount = Decimal(total)
    if not amount.is_finite() or amount < 0:
        raise QvicklyInputError("total_with_tax must be a finite amount >= 0")
    ore = amount.scaleb(2)
    if ore != ore.to_integral_value():
        raise QvicklyInputError("total_with_tax has more than two decimals")
    return str(int(ore))
