"""The send stage: one HTTP attempt, over one send path.

Every request goes the same way: :meth:`HTTPTransport.post` hands the body to the one
sender chosen for the client's transport, which reads the whole answer up to a size limit and
always closes the response; every httpx failure is mapped to the SDK's exception tree with
whether the request may have reached the server. The sender is
:meth:`Http11Transport.poster <qvickly_async._http11.Http11Transport.poster>` for the default
transport (a request head built once, no ``httpx.Request``/``httpx.Response`` per request)
and :class:`_HttpxSender` (``handle_async_request``) for any other.

Which transport that is gets decided once, on first use inside the running loop:

* a ``transport=`` the user passed, as is;
* otherwise the SDK's own HTTP/1.1 pool (:mod:`qvickly_async._http11`);
* with a proxy configured in the environment, or with an ``http_client=`` the user passed,
  an adapter that sends through ``httpx.AsyncClient.send``, so that client's proxies, mounts,
  auth, event hooks and instrumentation all apply.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import urllib.request
import warnings
import weakref
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Final, NamedTuple, Protocol

import httpx

from . import _defaults, _httpx_hooks
from ._decompress import ACCEPT_ENCODING, BodyDecoder, ContentDecodingError, ResponseTooLargeError
from ._http11 import Http11Transport, Reply
from ._logging import logger
from ._options import _is_loopback, check_base_url
from ._retry import parse_retry_after
from .exceptions import (
    QvicklyConnectionError,
    QvicklyHTTPStatusError,
    QvicklyPerformanceWarning,
    QvicklyRateLimitError,
    QvicklyResponseError,
    QvicklyServerError,
    QvicklyTimeoutError,
)

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "HTTPTransport", "RawResponse", "check_base_url"]

#: See :data:`qvickly_async._defaults.TIMEOUT`.
DEFAULT_TIMEOUT: Final = _defaults.TIMEOUT
#: See :data:`qvickly_async._defaults.LIMITS`.
DEFAULT_LIMITS: Final = _defaults.LIMITS
# Accept-Encoding: only the codings _decompress decodes with a bound (never br or zstd, which
# httpx would add when their packages happen to be installed).
_HEADERS: Final = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "Accept-Encoding": ACCEPT_ENCODING,
}

# Failures that happen before a single byte of the request can have left this process.
_NOT_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


def _fallback_reason(base_url: str = _defaults.BASE_URL) -> str | None:
    """Why a client of its own pool cannot use the default (HTTP/1.1) transport, if it cannot.

    httpx honours proxy variables and is what respx and instrumentation hook into; the
    SDK's own transport does neither, so with either the client sends through httpx's own pool.
    """
    proxies = urllib.request.getproxies()
    # Loopback traffic never goes through a proxy (which could not reach this machine's
    # loopback anyway).
    loopback = _is_loopback(httpx.URL(base_url).host)
    if not loopback and any(proxies.get(scheme) for scheme in ("http", "https", "all")):
        return "a proxy is configured in the environment (HTTP_PROXY, HTTPS_PROXY or ALL_PROXY)"
    hooked = _httpx_hooks.hooked_methods()
    if hooked:
        return f"httpx is mocked or instrumented ({', '.join(hooked)})"
    return None


def _default_transport(
    limits: httpx.Limits,
    base_url: str = _defaults.BASE_URL,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncBaseTransport | None:
    """Return the transport of a client created without ``http_client``/``transport``.

    The SDK's own HTTP/1.1 transport: httpx's own pool spends CPU per request that grows with
    the pool size and collapses batch throughput, aiohttp's client about twice the CPU per
    request (see docs/performance.md). ``None`` (httpx's own pool) when
    :func:`_fallback_reason` names a reason: a proxy in the environment
    (warned about, with :class:`~qvickly_async.exceptions.QvicklyPerformanceWarning`: it is
    production traffic), or respx or an instrumentation hooked into httpx (logged).
    """
    reason = _fallback_reason(base_url)
    if reason is None:
        return Http11Transport(limits=limits, verify=verify)
    message = (
        f"{reason}: sending through httpx's own connection pool, which costs more CPU per "
        f"request as the pool grows; batches default to {_defaults.FALLBACK_CONCURRENCY} "
        "lookups in flight instead of "
        f"{_defaults.BATCH_CONCURRENCY} (docs/howto/http-client.md)"
    )
    if reason.startswith("a proxy"):
        warnings.warn(message, QvicklyPerformanceWarning, stacklevel=2)
    else:
        logger.info("%s", message)
    return None


class _ClientSender(httpx.AsyncBaseTransport):
    """Sends through an ``httpx.AsyncClient``: its defaults, mounts, auth and hooks apply."""

    def __init__(self, client: httpx.AsyncClient, *, owned: bool) -> None:
        self.client = client
        self._owned = owned

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = self.client
        # build_request merges the client's default headers, cookies and query parameters,
        # exactly as for any request made with that client; the timeout extension is ours.
        request = client.build_request(
            request.method,
            request.url,
            content=request.content,
            headers=request.headers,
            extensions=request.extensions,
        )
        return await client.send(request, stream=True, follow_redirects=False)

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()


_base_headers: httpx.Headers | None = None


def _httpx_default_headers() -> httpx.Headers:
    """Return the headers every ``httpx.AsyncClient`` adds (User-Agent, Accept-Encoding...)."""
    global _base_headers
    if _base_headers is None:
        # A client over a given transport creates no pool, no SSL context and reads no proxies.
        _base_headers = httpx.AsyncClient(transport=httpx.MockTransport(_unused)).headers
    return _base_headers


def _unused(request: httpx.Request) -> httpx.Response:  # pragma: no cover - never called
    raise AssertionError("not a real transport")


class RawResponse(NamedTuple):
    """A ``200 OK`` response, fully read."""

    content: bytes
    elapsed: float


class _Sender(Protocol):
    """The one send path: POST a body, read the whole answer (bounded), close the response.

    Failures are httpx exceptions (the transport maps them to the SDK's), or
    :class:`~qvickly_async._decompress.ResponseTooLargeError` for a body over the limit.
    """

    def __call__(self, body: bytes, timeouts: httpx.Timeout) -> Awaitable[Reply]: ...


class HTTPTransport:
    """Sends one attempt. Picks its transport lazily inside the running loop.

    A client passed in is borrowed: used as is and never closed here. A transport passed in
    (or the default one) is owned: closed by :meth:`aclose`.
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
        self._borrowed = http_client
        self._given = transport
        # Done here, not in the first call (where it once stalled the running loop for
        # ~200 ms): for https only, loading the CA bundle. A plain-http client never loads one.
        # Which transport sends is still decided at the first call.
        self._verify: ssl.SSLContext | bool = False
        if http_client is None and transport is None:
            if httpx.URL(base_url).scheme == "https":
                self._verify = httpx.create_ssl_context(verify=True, trust_env=True)
            _httpx_default_headers()
        self._sender: httpx.AsyncBaseTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._url = httpx.URL(base_url)
        self._headers = httpx.Headers(_HEADERS)
        #: The clients sending through this transport (the owner and its with_options ones).
        self.users: weakref.WeakSet[Any] = weakref.WeakSet()
        # The default transport sees no httpx hooks: what the hook points held when it was
        # chosen, to refuse loudly if respx or an instrumentation starts afterwards.
        self._hooks_seen: tuple[object, ...] | None = None
        self._fallback = False
        self._send: _Sender | None = None

    @property
    def owns_client(self) -> bool:
        """Whether the transport created (or was handed) what it sends with, so must close it."""
        return self._borrowed is None

    @property
    def is_open(self) -> bool:
        """Whether an owned transport is in use and has not been closed."""
        return self._borrowed is None and self._sender is not None and not self._closed

    @property
    def pool_size(self) -> int | None:
        """Connections of the pool this transport creates; ``None`` if unbounded or not ours.

        A borrowed ``http_client`` or a ``transport=`` has a pool of its own, unknown here.
        """
        if self._borrowed is None and self._given is None:
            return self.limits.max_connections
        return None

    @property
    def default_concurrency(self) -> int:
        """Lookups a batch keeps in flight when not told: fewer on httpx's own pool.

        That pool's CPU cost per request grows with its size (docs/performance.md).
        """
        if self._sender is not None:
            fallback = self._fallback
        else:
            fallback = self.pool_size is not None and _fallback_reason() is not None
        return _defaults.FALLBACK_CONCURRENCY if fallback else _defaults.BATCH_CONCURRENCY

    @property
    def sender(self) -> httpx.AsyncBaseTransport | None:
        """The transport every request goes to (``None`` before the first request)."""
        return self._sender

    def _open(self) -> _Sender:
        if self._closed:
            raise RuntimeError("this AsyncQvickly client is closed")
        loop = asyncio.get_running_loop()
        send = self._send
        if send is not None:
            if self._loop is not loop and self._borrowed is None:
                raise RuntimeError(
                    "this AsyncQvickly client was first used in another event loop; "
                    "create one client per event loop (for example in your app's lifespan)"
                )
            return send
        if self._borrowed is not None:
            sender: httpx.AsyncBaseTransport = _ClientSender(self._borrowed, owned=False)
        else:
            transport = self._given or _default_transport(self.limits, self.base_url, self._verify)
            if self._given is None and transport is not None:
                self._hooks_seen = _httpx_hooks.fingerprint()
            if transport is None:
                # A proxy or httpx hooks: httpx's own client, with its proxy mounts and hooks.
                self._fallback = True
                transport = _ClientSender(
                    httpx.AsyncClient(
                        timeout=self.timeout,
                        limits=self.limits,
                        follow_redirects=False,
                        trust_env=True,
                    ),
                    owned=True,
                )
            sender = transport
            # What an httpx.AsyncClient would send: its default headers plus ours.
            self._headers = httpx.Headers({**_httpx_default_headers(), **_HEADERS})
        self._send = _sender_for(sender, self._url, self._headers, self.max_response_bytes)
        self._sender = sender
        self._loop = loop
        return self._send

    async def post(self, body: bytes, *, function: str, timeouts: httpx.Timeout) -> RawResponse:
        """POST ``body`` to the base URL and return the read response, or raise."""
        send = self._send
        if send is None or self._loop is not asyncio.get_running_loop() or self._closed:
            send = self._open()
        if self._hooks_seen is not None and _httpx_hooks.fingerprint() != self._hooks_seen:
            self._refuse_new_hooks()
        started = time.monotonic()
        try:
            reply = await send(body, timeouts)
        except httpx.TimeoutException as error:
            raise QvicklyTimeoutError(
                f"{function}: {type(error).__name__} after {time.monotonic() - started:.2f} s",
                function=function,
                request_sent=not isinstance(error, _NOT_SENT),
            ) from error
        except (httpx.TransportError, httpx.DecodingError) as error:
            raise QvicklyConnectionError(
                f"{function}: {type(error).__name__}: {error}",
                function=function,
                request_sent=not isinstance(error, _NOT_SENT),
            ) from error
        except ResponseTooLargeError:
            raise _too_large(function, self.max_response_bytes) from None
        elapsed = time.monotonic() - started
        if reply.status != 200:
            raise _status_error(reply, function)
        return RawResponse(reply.content, elapsed)

    def _refuse_new_hooks(self) -> None:
        hooked = _httpx_hooks.hooked_methods()
        if not hooked:  # changed, but back to httpx's own methods (respx stopped, ...)
            self._hooks_seen = _httpx_hooks.fingerprint()
            return
        raise RuntimeError(
            f"httpx is now mocked or instrumented ({', '.join(hooked)}), but this client "
            "already sends through its default transport, which such hooks never see (a "
            "respx mock would be bypassed: the request would really be sent). Create the "
            "client after starting respx or the instrumentation, or pass "
            "http_client=httpx.AsyncClient(...) (docs/howto/testing.md)"
        )

    async def aclose(self) -> None:
        """Close what this transport owns (never a borrowed client). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._borrowed is None and self._sender is not None:
            await self._sender.aclose()

    def warn_if_open(self, owner: object) -> None:
        """Emit a ``ResourceWarning`` if an owned client was never closed (no I/O).

        Then the pool is dropped without awaiting anything, so the SDK's warning is the only
        one (no "unclosed transport" warnings from asyncio for the pooled sockets).
        """
        if self.is_open:
            warnings.warn(
                f"{owner!r} was not closed; use 'async with' or 'await client.aclose()'",
                ResourceWarning,
                stacklevel=3,
            )
            abandon = getattr(self._sender, "abandon", None)
            if abandon is not None:
                abandon()


async def read_bounded(
    declared: str | None, encodings: list[str], raw_chunks: AsyncIterator[bytes], limit: int
) -> bytes:
    """Read and decode a body as it arrives, every layer bounded by ``limit`` bytes.

    Raises:
        ResponseTooLargeError: the declared length, the bytes read or the decoded bytes
            exceed ``limit``.
        httpx.DecodingError: the body could not be decoded (damaged in transit).
    """
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLargeError
    # The raw bytes, decoded here with every layer bounded by the limit (_decompress).
    try:
        decoder = BodyDecoder(encodings, limit)
        chunks: list[bytes] = []
        size = 0
        async for raw in raw_chunks:
            size += len(raw)
            if size > limit:
                raise ResponseTooLargeError
            chunk = decoder.feed(raw)
            if chunk:
                chunks.append(chunk)
        decoder.finish()
    except ContentDecodingError as error:
        # Damaged in transit like a malformed body: the request did arrive.
        raise httpx.DecodingError(f"response body could not be decoded: {error}") from None
    return b"".join(chunks)


class _HttpxSender:
    """The send path over any :class:`httpx.AsyncBaseTransport`.

    A user's ``transport=``, or an adapter that sends through an ``httpx.AsyncClient``
    (:class:`_ClientSender`).
    """

    __slots__ = ("_headers", "_limit", "_transport", "_url")

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        url: httpx.URL,
        headers: httpx.Headers,
        limit: int,
    ) -> None:
        self._transport = transport
        self._url = url
        self._headers = headers
        self._limit = limit

    async def __call__(self, body: bytes, timeouts: httpx.Timeout) -> Reply:
        request = httpx.Request(
            "POST",
            self._url,
            content=body,
            headers=self._headers,
            extensions={"timeout": timeouts.as_dict()},
        )
        response = await self._transport.handle_async_request(request)
        try:
            content = await self._read(response)
        finally:
            await response.aclose()
        return Reply(response.status_code, content, response.reason_phrase, response.headers)

    async def _read(self, response: httpx.Response) -> bytes:
        limit = self._limit
        headers = response.headers
        if response.is_stream_consumed:
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise ResponseTooLargeError
            # An in-memory response (a mock transport's): httpx decoded it when it was built.
            if len(response.content) > limit:
                raise ResponseTooLargeError
            return response.content
        return await read_bounded(
            headers.get("content-length"),
            headers.get_list("content-encoding"),
            response.aiter_raw(),
            limit,
        )


def _sender_for(
    transport: httpx.AsyncBaseTransport, url: httpx.URL, headers: httpx.Headers, limit: int
) -> _Sender:
    """Return the send path for ``transport``.

    The SDK's own for its transport (not a subclass nor another one), httpx's request and
    response objects for any other.
    """
    if type(transport) is Http11Transport:
        return transport.poster(url, headers, limit)
    return _HttpxSender(transport, url, headers, limit)


def _too_large(function: str, limit: int) -> QvicklyResponseError:
    return QvicklyResponseError(
        f"{function}: response body exceeds the {limit:,}-byte limit (max_response_bytes)",
        function=function,
    )


def _status_error(reply: Reply, function: str) -> QvicklyHTTPStatusError:
    status = reply.status
    excerpt = reply.content[:200].decode("utf-8", "replace")
    message = f"{function}: HTTP {status} {reply.reason}".rstrip()
    if status == 429:
        return QvicklyRateLimitError(
            message,
            function=function,
            body_excerpt=excerpt,
            retry_after=parse_retry_after(reply.headers.get("retry-after")),
        )
    if status >= 500:
        return QvicklyServerError(
            message, function=function, status_code=status, body_excerpt=excerpt
        )
    return QvicklyHTTPStatusError(
        message, function=function, status_code=status, body_excerpt=excerpt
    )
