"""One HTTP attempt over an ``httpx.AsyncClient`` the transport owns or borrows.

Maps every httpx failure to the SDK's exception tree, recording whether the request may have
reached the server; reads bodies up to a size limit and always closes the response.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
import urllib.request
import warnings
from typing import Final
from urllib.parse import urlsplit

import attrs
import httpx

from ._retry import parse_retry_after
from .exceptions import (
    QvicklyConnectionError,
    QvicklyHTTPStatusError,
    QvicklyInputError,
    QvicklyRateLimitError,
    QvicklyResponseError,
    QvicklyServerError,
    QvicklyTimeoutError,
)

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "HTTPTransport", "RawResponse", "check_base_url"]

#: Connect within 10 s; every other phase (write, each read, waiting for a pooled
#: connection) within 30 s. A total deadline bounds the whole call on top of these.
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
#: Connection pool size; batch concurrency never exceeds ``max_connections``.
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=64, max_keepalive_connections=64)
_HEADERS: Final = {"Content-Type": "application/json", "Accept": "application/json"}

# Failures that happen before a single byte of the request can have left this process.
_NOT_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


def _default_transport(limits: httpx.Limits, base_url: str) -> httpx.AsyncBaseTransport | None:
    """Return the transport of a client created without ``http_client``/``transport``.

    An aiohttp-backed transport: httpx's own pool spends CPU per request that grows with the
    pool size and collapses batch throughput (see docs/performance.md). ``None`` (httpx's
    own transport) when the environment configures a proxy, which httpx honours with the
    exact same rules as any other httpx client; but loopback traffic never goes through a
    proxy (which could not reach this machine's loopback anyway).
    """
    proxies = urllib.request.getproxies()
    host = httpx.URL(base_url).host
    if not _is_loopback(host) and any(proxies.get(scheme) for scheme in ("http", "https", "all")):
        return None
    from ._aiohttp_transport import AiohttpTransport

    return AiohttpTransport(limits=limits)


@attrs.frozen
class RawResponse:
    """A ``200 OK`` response, fully read."""

    content: bytes
    elapsed: float


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


class HTTPTransport:
    """Sends one attempt. Creates its ``httpx.AsyncClient`` lazily inside the running loop.

    A client passed in is borrowed: used as is and never closed here.
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: httpx.Timeout,
        limits: httpx.Limits,
        http_client: httpx.AsyncClient | None,
        transport: httpx.AsyncBaseTransport | None,
        max_response_bytes: int,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.limits = limits
        self.max_response_bytes = max_response_bytes
        self._client = http_client
        self._owns_client = http_client is None
        self._transport = transport
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        # Set when this object created the client over the default transport: requests then
        # go straight to that transport (see post()).
        self._direct: httpx.AsyncBaseTransport | None = None
        self._url = httpx.URL(base_url)
        self._headers = httpx.Headers(_HEADERS)

    @property
    def owns_client(self) -> bool:
        """Whether the transport created its HTTP client (and so must close it)."""
        return self._owns_client

    @property
    def is_open(self) -> bool:
        """Whether an owned client exists and has not been closed."""
        return self._owns_client and self._client is not None and not self._closed

    def _get_client(self) -> httpx.AsyncClient:
        if self._closed:
            raise RuntimeError("this AsyncQvickly client is closed")
        loop = asyncio.get_running_loop()
        if self._client is None:
            transport = self._transport
            if transport is None:
                transport = self._direct = _default_transport(self.limits, self.base_url)
            self._client = httpx.AsyncClient(
                timeout=self.timeout,
                limits=self.limits,
                transport=transport,
                follow_redirects=False,
                trust_env=True,
            )
            # What AsyncClient.build_request would send: its default headers plus ours.
            self._headers = httpx.Headers({**self._client.headers, **_HEADERS})
            self._loop = loop
        elif self._owns_client and self._loop is not loop:
            raise RuntimeError(
                "this AsyncQvickly client was first used in another event loop; "
                "create one client per event loop (for example in your app's lifespan)"
            )
        return self._client

    async def post(self, body: bytes, *, function: str, timeouts: httpx.Timeout) -> RawResponse:
        """POST ``body`` to the base URL and return the read response, or raise."""
        client = self._get_client()
        started = time.monotonic()
        try:
            direct = self._direct
            if direct is not None:
                # Our own client on our own transport: nothing AsyncClient.send adds (auth,
                # redirects, cookies, event hooks) applies, and skipping it (and re-parsing
                # the URL) saves about 0.1 ms of CPU per request (docs/performance.md).
                request = httpx.Request(
                    "POST",
                    self._url,
                    content=body,
                    headers=self._headers,
                    extensions={"timeout": timeouts.as_dict()},
                )
                response = await direct.handle_async_request(request)
            else:
                request = client.build_request(
                    "POST", self.base_url, content=body, headers=_HEADERS, timeout=timeouts
                )
                response = await client.send(request, stream=True, follow_redirects=False)
            try:
                content = await self._read(response, function)
            finally:
                await response.aclose()
        except httpx.TimeoutException as error:
            raise QvicklyTimeoutError(
                f"{function}: {type(error).__name__} after {time.monotonic() - started:.2f} s",
                function=function,
                request_sent=not isinstance(error, _NOT_SENT),
            ) from error
        except httpx.TransportError as error:
            raise QvicklyConnectionError(
                f"{function}: {type(error).__name__}: {error}",
                function=function,
                request_sent=not isinstance(error, _NOT_SENT),
            ) from error
        elapsed = time.monotonic() - started
        if response.status_code != 200:
            raise _status_error(response, content, function)
        return RawResponse(content=content, elapsed=elapsed)

    async def _read(self, response: httpx.Response, function: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_response_bytes:
            raise _too_large(function, self.max_response_bytes)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_response_bytes:
                raise _too_large(function, self.max_response_bytes)
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        """Close the HTTP client if this transport created it."""
        self._closed = True
        if self._owns_client and self._client is not None:
            await self._client.aclose()

    def warn_if_open(self, owner: object) -> None:
        """Emit a ``ResourceWarning`` if an owned client was never closed (no I/O)."""
        if self.is_open:
            warnings.warn(
                f"{owner!r} was not closed; use 'async with' or 'await client.aclose()'",
                ResourceWarning,
                stacklevel=3,
            )


def _too_large(function: str, limit: int) -> QvicklyResponseError:
    return QvicklyResponseError(
        f"{function}: response body exceeds the {limit:,}-byte limit (max_response_bytes)",
        function=function,
    )


def _status_error(
    response: httpx.Response, content: bytes, function: str
) -> QvicklyHTTPStatusError:
    status = response.status_code
    excerpt = content[:200].decode("utf-8", "replace")
    message = f"{function}: HTTP {status} {response.reason_phrase}".rstrip()
    if status == 429:
        return QvicklyRateLimitError(
            message,
            function=function,
            body_excerpt=excerpt,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    if status >= 500:
        return QvicklyServerError(
            message, function=function, status_code=status, body_excerpt=excerpt
        )
    return QvicklyHTTPStatusError(
        message, function=function, status_code=status, body_excerpt=excerpt
    )
