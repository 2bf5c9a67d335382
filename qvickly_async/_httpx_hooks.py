"""Whether something hooks into httpx's sending: respx, OpenTelemetry, Sentry... No I/O.

Mocking libraries and instrumentation replace methods of httpx and httpcore: respx patches
``httpcore.AsyncConnectionPool.handle_async_request`` (or ``AsyncClient._transport_for_url``),
OpenTelemetry wraps ``httpx.AsyncHTTPTransport.handle_async_request``, Sentry wraps
``httpx.AsyncClient.send``. The client's default transport (:mod:`qvickly_async._http11`)
goes through none of them, so while any is hooked the client sends through an
``httpx.AsyncClient`` instead and they see every request.

A method counts as hooked when it is not httpx's or httpcore's own plain function: replaced by
a function from another module, by a wrapper object, or by a ``functools.wraps`` wrapper
(which keeps the module name but adds ``__wrapped__``).
"""

from __future__ import annotations

import types
from typing import Final

import httpcore
import httpx

__all__ = ["fingerprint", "hooked_methods", "snapshot"]

_HOOK_POINTS: Final[tuple[tuple[type, str], ...]] = (
    (httpx.AsyncClient, "send"),
    (httpx.AsyncClient, "_transport_for_url"),
    (httpx.AsyncHTTPTransport, "handle_async_request"),
    (httpcore.AsyncConnectionPool, "handle_async_request"),
)
_OWN_PACKAGES: Final = frozenset({"httpx", "httpcore"})


def _attribute(owner: type, name: str) -> object:
    for cls in owner.__mro__:
        if name in cls.__dict__:
            return cls.__dict__[name]
    return None


def snapshot() -> tuple[object, ...]:
    """Return the objects at every hook point now (cheap: compare two with ``==``)."""
    return tuple(_attribute(owner, name) for owner, name in _HOOK_POINTS)


def fingerprint() -> tuple[object, ...]:
    """Return what the hook points resolve to now, for change detection on every request.

    Cheaper than :func:`snapshot` (plain attribute lookups, which the interpreter caches):
    replacing or wrapping any hook point changes it. Compare two with ``!=``.
    """
    return (
        httpx.AsyncClient.send,
        httpx.AsyncClient._transport_for_url,
        httpx.AsyncHTTPTransport.handle_async_request,
        httpcore.AsyncConnectionPool.handle_async_request,
    )


def _is_own(value: object) -> bool:
    return (
        isinstance(value, types.FunctionType)
        and value.__module__.partition(".")[0] in _OWN_PACKAGES
        and not hasattr(value, "__wrapped__")
    )


def hooked_methods() -> list[str]:
    """Names of the httpx/httpcore methods something has replaced or wrapped, if any."""
    return [
        f"{owner.__module__.partition('.')[0]}.{owner.__name__}.{name}"
        for (owner, name), value in zip(_HOOK_POINTS, snapshot(), strict=True)
        if not _is_own(value)
    ]
