"""The one strict reader of environment variables: flags, client settings, proxies, CA files.

Shared by :meth:`AsyncQvickly.from_env <qvickly_async.AsyncQvickly.from_env>`, the ``qvickly``
CLI and the sandbox's command line, so ``QVICKLY_TEST_MODE=maybe`` means the same everywhere:
a configuration error (never silently live mode). Proxy and CA variables are checked when a
client that builds its own connection pool is created, so one that cannot work fails there
with a :class:`~qvickly_async.exceptions.QvicklyInputError` naming the variable, not with an
``ImportError`` or ``FileNotFoundError`` at the first call. No value of a secret, and no
credentials inside a proxy URL, ever appear in a message.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from typing import Final
from urllib.parse import SplitResult, urlsplit

from ._options import to_secret
from .exceptions import QvicklyInputError

__all__ = [
    "FALSE_WORDS",
    "TRUE_WORDS",
    "check_network_environment",
    "env_flag",
    "read_client_settings",
]

#: Values of a flag variable that mean "on" (compared case-insensitively, blanks stripped).
TRUE_WORDS: Final = frozenset({"1", "true", "yes", "on"})
#: Values that mean "off"; an empty variable is off too.
FALSE_WORDS: Final = frozenset({"0", "false", "no", "off", ""})
_PROXY_VARIABLES: Final = ("http_proxy", "https_proxy", "all_proxy")
_PROXY_SCHEMES: Final = frozenset({"http", "https", "socks5", "socks5h"})


def env_flag(name: str, value: str | None, *, default: bool = False) -> bool:
    """Read the flag variable ``name`` whose value is ``value`` (``None``: not set).

    Raises:
        QvicklyInputError: the value is neither in :data:`TRUE_WORDS` nor in
            :data:`FALSE_WORDS`.
    """
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise QvicklyInputError(
        f"environment variable {name}={value[:40]!r} is not a flag: use one of "
        "1/true/yes/on or 0/false/no/off"
    )


def read_client_settings(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Read the client's ``QVICKLY_*`` variables into constructor keyword arguments.

    ``QVICKLY_MERCHANT_ID``, ``QVICKLY_SECRET``, ``QVICKLY_BASE_URL`` and
    ``QVICKLY_TEST_MODE``; only those that are set (non-empty) are returned, the secret
    already wrapped in a :class:`~qvickly_async._signing.Secret`.

    Raises:
        QvicklyInputError: ``QVICKLY_TEST_MODE`` is not a flag.
    """
    env = os.environ if environ is None else environ
    settings: dict[str, object] = {}
    for name, key in (
        ("merchant_id", "QVICKLY_MERCHANT_ID"),
        ("secret", "QVICKLY_SECRET"),
        ("base_url", "QVICKLY_BASE_URL"),
    ):
        value = env.get(key)
        if value:
            # The key is wrapped at once: no frame above this one ever holds it raw.
            settings[name] = to_secret(value) if name == "secret" else value
    test_mode = env.get("QVICKLY_TEST_MODE")
    if test_mode is not None:
        settings["test_mode"] = env_flag("QVICKLY_TEST_MODE", test_mode)
    return settings


def _proxy_variables(env: Mapping[str, str]) -> list[tuple[str, str]]:
    found = [(name, value) for name, value in env.items() if name.lower() in _PROXY_VARIABLES]
    return [(name, value) for name, value in sorted(found) if value.strip()]


def _shown(parts: SplitResult) -> str:
    # Never the user:password part of a proxy URL.
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _check_proxy(name: str, value: str) -> None:
    url = value.strip() if "://" in value else f"http://{value.strip()}"
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise QvicklyInputError(
            f"environment variable {name}: the proxy URL has an invalid port"
        ) from None
    if parts.scheme not in _PROXY_SCHEMES or not parts.hostname:
        raise QvicklyInputError(
            f"environment variable {name}: not a proxy URL (expected http://, https:// or "
            f"socks5://HOST:PORT, got scheme {parts.scheme!r})"
        )
    if parts.scheme.startswith("socks5") and importlib.util.find_spec("socksio") is None:
        raise QvicklyInputError(
            f"environment variable {name}: a SOCKS proxy ({_shown(parts)}) needs the socksio "
            "package (pip install 'httpx[socks]'), or unset the variable"
        )


def check_network_environment(environ: Mapping[str, str] | None = None) -> None:
    """Check the proxy and CA variables an SDK-built connection pool would use.

    ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` (any case) must be proxy URLs this
    installation can use; ``SSL_CERT_FILE`` must name a readable file and ``SSL_CERT_DIR``
    a directory.

    Raises:
        QvicklyInputError: naming the variable that cannot work.
    """
    env = os.environ if environ is None else environ
    for name, value in _proxy_variables(env):
        _check_proxy(name, value)
    cafile = env.get("SSL_CERT_FILE")
    if cafile and not (os.path.isfile(cafile) and os.access(cafile, os.R_OK)):
        raise QvicklyInputError(
            f"environment variable SSL_CERT_FILE: {cafile!r} is not a readable file of CA "
            "certificates"
        )
    capath = env.get("SSL_CERT_DIR")
    if capath and not cafile and not os.path.isdir(capath):
        raise QvicklyInputError(f"environment variable SSL_CERT_DIR: {capath!r} is not a directory")
