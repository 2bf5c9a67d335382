"""The ``qvickly_async`` logger and the masking of personal data in what it writes.

Records carry the function, attempt and timing. Bodies are logged only at DEBUG and only
after :func:`redact` masked personal numbers, e-mail addresses, phone numbers, names and
addresses. The secret key is never logged: it is not part of any body (only its HMAC is).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["logger", "mask", "mask_customer_number", "redact", "redact_json", "scrub"]

logger: Final = logging.getLogger("qvickly_async")

#: Keys whose values are personal data, wherever they appear (compared lower-case).
PERSONAL_KEYS: Final = frozenset(
    {
        "pno",
        "email",
        "phone",
        "firstname",
        "lastname",
        "name",
        "company",
        "street",
        "street2",
        "zip",
        "city",
        "customerno",
        "nr",
        "orgnum",
        "hash",
    }
)
_PNO_LIKE: Final = re.compile(r"^\s*(\d{6}|\d{8})[-+]?\d{4}\s*$")
_PNO_IN_TEXT: Final = re.compile(r"(?<!\d)(\d{6}|\d{8})[-+]?\d{4}(?!\d)")
# The look-behind makes a match start only where a run of address characters starts: without
# it every position of a long run of word characters was tried, quadratic in its length.
_EMAIL_IN_TEXT: Final = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SCRUB_LIMIT: Final = 10_000
_PHONE_IN_TEXT: Final = re.compile(r"(?<![\w])\+?\d[\d \-]{7,}\d(?![\w])")


def mask(value: object) -> str:
    """Mask a personal value, keeping only its length class: ``'Ada'`` -> ``'***'``."""
    text = str(value)
    if not text:
        return ""
    return "*" * min(len(text), 8)


def mask_customer_number(value: str) -> str:
    """Mask a customer number that could be a personal or organisation number.

    Short shop-internal numbers (``"10042"``) stay readable; anything that looks like a
    Swedish personal/organisation number, or is long, keeps only its last two characters.
    """
    if len(value) <= 8 and not _PNO_LIKE.match(value):
        return value
    return "*" * (len(value) - 2) + value[-2:]


def redact(value: Any) -> Any:
    """Return a copy of a decoded JSON value with personal data masked.

    Values of :data:`PERSONAL_KEYS` are masked whole; every other string is :func:`scrub`-bed,
    so personal numbers, e-mail addresses and phone numbers inside free text are masked too.
    """
    if isinstance(value, Mapping):
        return {
            key: (
                mask(item)
                if str(key).lower() in PERSONAL_KEYS and not isinstance(item, Mapping | list)
                else redact(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        # Free text (a reference, an article title, a server message) may hold them too.
        return scrub(value)
    return value


def redact_json(body: bytes, *, limit: int = 4000) -> str:
    """Render a JSON body for a DEBUG log with personal data masked, cut at ``limit``."""
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return f"<{len(body)} bytes, not JSON>"
    try:
        text = json.dumps(redact(decoded), ensure_ascii=False)
    except RecursionError:  # parsable, but too deep to walk again (no PHP server nests so)
        return f"<{len(body)} bytes, nested too deeply to show>"
    return text if len(text) <= limit else text[:limit] + f"... <{len(text) - limit} more chars>"


def scrub(text: str) -> str:
    """Mask personal numbers, e-mail addresses and phone numbers inside free text.

    Used on server messages and exception texts before they are logged. Longer texts are
    cut (at a space, so no half-masked number is left) to ``_SCRUB_LIMIT`` characters.
    """
    if len(text) > _SCRUB_LIMIT:
        head = text[:_SCRUB_LIMIT]
        kept = head[: max(0, *(head.rfind(space) for space in " \t\r\n"))]
        text = f"{kept}... <{len(text) - len(kept)} more chars>"
    text = _EMAIL_IN_TEXT.sub("<email>", text)
    text = _PNO_IN_TEXT.sub("<pno>", text)
    return _PHONE_IN_TEXT.sub("<phone>", text)
