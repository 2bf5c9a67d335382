"""An ``httpx`` transport over an ``aiohttp`` connection pool, with an exact error mapping.

httpx's own pool (httpcore) spends time proportional to the number of pooled connections on
every request (encode/httpx#3215, encode/httpcore#1035), so batches at 64 connections and more
become CPU bound long before the network is. aiohttp's connector does not. This transport
keeps the httpx API (``httpx.AsyncClient``, ``httpx.Request``/``httpx.Response``, httpx
timeouts and limits) and lets aiohttp move the bytes.

The error mapping is the point of owning this module: an error may claim that the request
never left only when that is certain, because state-changing Payment API calls are retried
only then. So:

* failures before one byte of the request is written become :class:`httpx.PoolTimeout`
  (no free connection in time: this transport's own slot wait),
  :class:`httpx.ConnectTimeout` (aiohttp's ``ConnectionTimeoutError``: DNS, TCP or TLS
  handshake too slow) or :class:`httpx.ConnectError` (``ClientConnectorError`` and its DNS,
  proxy, TLS and certificate subclasses);
* everything later (``ServerDisconnectedError``, resets, payload errors, read timeouts,
  malformed responses) becomes :class:`httpx.ReadError`, :class:`httpx.RemoteProtocolError`
  or :class:`httpx.ReadTimeout`: the request may have been received.

Redirects are never followed, bodies are streamed (so size limits apply while reading),
content decoding is left to httpx, cookies are left to httpx, TLS is verified with the same
context httpx would build (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import ssl
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, NoReturn

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

from ._defaults import LIMITS as _DEFAULT_LIMITS

__all__ = ["AiohttpTransport"]

# Headers aiohttp would add on its own; httpx already sends what it wants.
_SKIP_AUTO_HEADERS: Final = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
_TIMEOUT_CACHE_SIZE: Final = 64
# select() watches descriptors below FD_SETSIZE only (1024 on Linux and macOS).
_SELECT_LIMIT: Final = 1024


def _httpx_error(error: Exception) -> Exception | None:
    """Return the httpx exception ``error`` maps to (see the module docstring), or ``None``."""
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        # Raised only around aiohttp's connector.connect(): DNS, TCP, TLS handshake.
        return httpx.ConnectTimeout(str(error) or "timed out while connecting")
    if isinstance(error, aiohttp.ClientConnectorError):
        # DNS, refused, unreachable, proxy connect, TLS handshake and certificate failures.
        return httpx.ConnectError(_connect_error_text(error))
    if isinstance(error, aiohttp.ServerTimeoutError):
        # SocketTimeoutError (sock_read) and any other server timeout after connecting.
        return httpx.ReadTimeout(str(error) or "timed out while reading")
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(
            "the server closed the connection without a complete response"
        )
    if isinstance(error, aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(str(error) or "malformed response body")
    if isinstance(error, aiohttp.ClientResponseError):
        # A malformed status line or headers (aiohttp's HTTP parser gave up).
        return httpx.RemoteProtocolError(error.message or str(error))
    if isinstance(error, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return httpx.UnsupportedProtocol(str(error))
    if isinstance(error, TimeoutError):
        # A bare timeout from aiohttp internals after connecting (never the connect phase,
        # which aiohttp reports as ConnectionTimeoutError above).
        return httpx.ReadTimeout(str(error) or "timed out")
    if isinstance(error, aiohttp.ClientError | OSError):
        # Resets, broken pipes and anything else after the connection was handed over:
        # the request may have reached the server.
        return httpx.ReadError(_connection_lost_text(error))
    return None


def _raise_as_httpx(error: Exception) -> NoReturn:
    """Raise the httpx exception ``error`` maps to, or ``error`` itself when none."""
    mapped = _httpx_error(error)
    if mapped is None:
        raise error
    raise mapped from error


@contextmanager
def _map_errors() -> Iterator[None]:
    """Translate aiohttp failures into httpx exceptions (see :func:`_httpx_error`)."""
    try:
        yield
    except Exception as error:
        _raise_as_httpx(error)


def _connect_error_text(error: aiohttp.ClientConnectorError) -> str:
    """Say what failed in the SDK's words, not aiohttp's (no ``ssl:default`` for plain http)."""
    where = f"{error.host}:{error.port}"
    cause = error.os_error
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return f"the TLS certificate of {where} was not accepted: {error.certificate_error}"
    if isinstance(error, aiohttp.ClientConnectorSSLError):
        return f"the TLS handshake with {where} failed: {cause}"
    if isinstance(cause, socket.gaierror):
        return f"cannot resolve the host name {error.host!r}: {cause.strerror or cause}"
    reason = os.strerror(cause.errno) if cause.errno and cause.errno > 0 else str(cause)
    return f"cannot connect to {where}: {reason}"


def _connection_lost_text(error: BaseException) -> str:
    """Say what failed after connecting, in the SDK's words (with the system's reason)."""
    errno = getattr(error, "errno", None)
    if isinstance(errno, int) and errno > 0:
        return f"the connection failed after it was opened: {os.strerror(errno)}"
    if isinstance(error, aiohttp.ClientConnectionError) and "closed" in str(error).lower():
        return "the connection was closed while the request was in flight"
    return str(error) or type(error).__name__


def _socket_is_readable(transport: asyncio.BaseTransport | None) -> bool:
    """Whether an idle pooled connection's socket has something to read (EOF included).

    An idle HTTP/1.1 connection never legitimately receives anything: readable means the
    server closed it (its FIN is waiting) or sent junk, so it must not carry a request.
    This is the check httpcore makes before reusing a connection.
    """
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return False
    try:
        fileno = sock.fileno()
        if fileno < 0:
            return True
        if fileno < _SELECT_LIMIT or not hasattr(select, "poll"):
            # select() is the cheaper syscall wrapper, for descriptors it can watch.
            return bool(select.select([fileno], [], [], 0)[0])
        poller = select.poll()
        poller.register(fileno, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


class _CheckedConnector(aiohttp.TCPConnector):
    """A connector that drops pooled connections the server already closed, before reuse.

    aiohttp reuses a pooled connection as long as the event loop has not yet processed the
    server's FIN; a request written onto it then fails with "may have been sent" although
    it never reached the server. Checking the socket first (like httpcore) avoids that.
    """

    async def _get(self, key: Any, *args: Any, **kwargs: Any) -> Any:
        # aiohttp hands out the oldest idle connection first (``popleft``): check only the
        # one it is about to reuse (and the next, while they turn out closed), not every idle
        # connection on every request, which cost CPU proportional to the pool size.
        conns: Any = self._conns.get(key)  # a deque (a list before aiohttp 3.12)
        if isinstance(conns, deque):
            while conns and _socket_is_readable(conns[0][0].transport):
                conns.popleft()[0].close()  # closed by the server: never reused
        elif conns:  # older aiohttp (a list, reused from either end): check every one
            kept = []
            for entry in conns:
                if _socket_is_readable(entry[0].transport):
                    entry[0].close()
                else:
                    kept.append(entry)
            if len(kept) != len(conns):
                conns[:] = kept
        return await super()._get(key, *args, **kwargs)


class _ResponseStream(httpx.AsyncByteStream):
    """The body of an aiohttp response, read as it arrives; closing frees the connection."""

    __slots__ = ("_release", "_response")

    def __init__(
        self, response: aiohttp.ClientResponse, release: Callable[[], None] | None
    ) -> None:
        self._response = response
        self._release = release

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _body_chunks(self._response)

    async def aclose(self) -> None:
        _finish(self._response)
        release, self._release = self._release, None
        if release is not None:
            release()


async def _body_chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """Yield the body of ``response`` as it arrives, with aiohttp's errors mapped to httpx's."""
    content = response.content
    with _map_errors():
        while chunk := await content.readany():
            yield chunk


def _finish(response: aiohttp.ClientResponse) -> None:
    """Give the connection back when the body was read to the end, else close it."""
    if response.content.at_eof():
        # Fully read: aiohttp already put the connection back in its pool.
        response.release()
    else:
        # Abandoned mid-body (size limit, cancellation): the connection cannot be reused.
        response.close()


#: Reads a response's body (given the response, for its headers, and its raw chunks).
BodyReader = Callable[[aiohttp.ClientResponse, AsyncIterator[bytes]], Awaitable[bytes]]


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An :class:`httpx.AsyncBaseTransport` that sends requests through an aiohttp pool.

    Args:
        limits: ``max_connections`` bounds the pool (``None``: unbounded);
            ``keepalive_expiry`` is how long an idle connection is kept;
            ``max_keepalive_connections=0`` disables reuse. aiohttp has no separate cap on
            idle connections, so other values of it are not enforced.
        verify: ``True`` (verify with certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), an
            :class:`ssl.SSLContext`, or ``False`` to disable verification (never do that
            against the real API).

    The aiohttp session is created on first use inside the running event loop; use one
    transport per event loop, and close it with :meth:`aclose` (an ``httpx.AsyncClient``
    built on it does that when it closes).
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits = _DEFAULT_LIMITS,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._limits = limits
        if isinstance(verify, ssl.SSLContext):
            self._ssl: ssl.SSLContext | bool = verify
        elif verify:
            self._ssl = httpx.create_ssl_context(verify=True, trust_env=True)
        else:
            self._ssl = False
        self._session: aiohttp.ClientSession | None = None
        # Connection slots, held from the request until its response is closed: waiting
        # for one is httpx's "pool" phase, with its own timeout and PoolTimeout.
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        session = self._session
        loop = asyncio.get_running_loop()
        if session is not None and self._loop is loop:
            return session
        if self._closed:
            raise RuntimeError("the transport is closed")
        if session is not None:
            raise RuntimeError(
                "this transport was first used in another event loop; "
                "create one client per event loop"
            )
        limits = self._limits
        reuse = limits.max_keepalive_connections != 0
        if reuse:
            connector: aiohttp.TCPConnector = _CheckedConnector(
                limit=limits.max_connections or 0,
                limit_per_host=0,
                ssl=self._ssl,
                keepalive_timeout=limits.keepalive_expiry,
            )
        else:
            connector = aiohttp.TCPConnector(
                limit=limits.max_connections or 0, limit_per_host=0, ssl=self._ssl, force_close=True
            )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        if limits.max_connections:
            self._slots = asyncio.Semaphore(limits.max_connections)
        self._session = session
        self._loop = loop
        return session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        spec: dict[str, float | None] = request.extensions.get("timeout", {})
        return self._client_timeout(spec.get("connect"), spec.get("read"))

    def _client_timeout(self, connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        key = (connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) >= _TIMEOUT_CACHE_SIZE:
                self._timeouts.clear()
            # The pool wait happens before aiohttp is called (see _acquire), so aiohttp's
            # ``connect`` (slot + DNS + TCP + TLS) never waits for a slot. ``sock_read`` bounds
            # the wait for each chunk of the response; it starts before the request is
            # written, so it bounds writing too (aiohttp has no write timeout of its own).
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, connect=connect, sock_connect=connect, sock_read=read
            )
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return a response whose body is still to be streamed."""
        session = self._session
        if session is None or self._loop is not asyncio.get_running_loop():
            session = self._get_session()
        # Header names and values as text; aiohttp frames the body itself.
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in request.headers.raw
            if name.lower() != b"transfer-encoding"
        ]
        try:
            data: Any = request.content or None
        except httpx.RequestNotRead:
            data = _stream_body(request.stream)
        slots = self._slots
        if slots is not None:
            await _acquire(slots, request.extensions.get("timeout", {}).get("pool"))
        try:
            with _map_errors():
                response = await session.request(
                    request.method,
                    # httpx's URL is already percent-encoded: no second round of quoting.
                    URL(str(request.url), encoded=True),
                    headers=headers,
                    skip_auto_headers=_SKIP_AUTO_HEADERS,
                    data=data,
                    allow_redirects=False,
                    timeout=self._timeout(request),
                    server_hostname=request.extensions.get("sni_hostname"),
                )
        except BaseException:
            if slots is not None:
                slots.release()
            raise
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, slots.release if slots is not None else None),
            request=request,
            extensions=extensions,
        )

    async def post_read(
        self,
        url: URL,
        headers: CIMultiDict[str],
        body: bytes,
        timeouts: httpx.Timeout,
        read: BodyReader,
        whole_limit: int,
    ) -> tuple[aiohttp.ClientResponse, bytes]:
        """POST ``body`` and read the answer: the SDK's own hot path.

        What :meth:`handle_async_request` does (same pool slots and ``PoolTimeout``, same
        timeouts, same error mapping, the connection closed unless the body was read to the
        end), without building an ``httpx.Request`` and ``httpx.Response`` per request.
        ``url`` is already encoded. ``headers`` are sent as given, plus the ``Host`` and
        ``Content-Length`` aiohttp derives from ``url`` and ``body``; they must name
        ``Accept``, ``Accept-Encoding``, ``User-Agent`` and ``Content-Type`` (aiohttp would add
        its own otherwise). A body that is not content-encoded and declares a length of at
        most ``whole_limit`` bytes is read in one go (aiohttp's parser reads that many bytes,
        no more); any other body is read with ``read``.
        """
        session = self._session
        if session is None or self._loop is not asyncio.get_running_loop():
            session = self._get_session()
        slots = self._slots
        if slots is not None:
            await _acquire(slots, timeouts.pool)
        try:
            try:
                response = await session.request(
                    "POST",
                    url,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    timeout=self._client_timeout(timeouts.connect, timeouts.read),
                )
            except Exception as error:
                _raise_as_httpx(error)
            try:
                found = response.headers
                declared = found.get("Content-Length")
                if (
                    declared is not None
                    and "Content-Encoding" not in found
                    and declared.isascii()
                    and declared.isdigit()
                    and int(declared) <= whole_limit
                ):
                    try:
                        content = await response.read()
                    except Exception as error:
                        _raise_as_httpx(error)
                else:
                    content = await read(response, _body_chunks(response))
            finally:
                _finish(response)
        finally:
            if slots is not None:
                slots.release()
        return response, content

    async def aclose(self) -> None:
        """Close every pooled connection. Idempotent; works from any event loop.

        The pool belongs to the loop it was first used in. From another loop it is closed
        there if that loop still runs (in another thread), else its sockets are closed now.
        """
        self._closed = True
        session, self._session = self._session, None
        if session is None:
            return
        loop = self._loop
        if loop is None or loop is asyncio.get_running_loop():
            await session.close()
        elif loop.is_running():
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(session.close(), loop))
        else:
            _drop_connections(session)

    def abandon(self) -> None:
        """Drop the pool without awaiting (its owner was garbage collected unclosed)."""
        self._closed = True
        session, self._session = self._session, None
        if session is None:
            return
        loop = self._loop
        if loop is not None and loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:  # collected in another thread: close it in its own
                loop.call_soon_threadsafe(_drop_connections, session)
                return
        _drop_connections(session)


def _drop_connections(session: aiohttp.ClientSession) -> None:
    """Close every connection of ``session`` now, awaiting nothing, whatever its loop's state.

    ``transport.abort()`` needs the transport's loop to schedule the final close; when that
    loop is already closed the socket is closed directly (else only garbage collection would,
    much later). The connector is then marked closed, so aiohttp reports nothing.
    """
    connector = session.connector
    if connector is None:
        return
    protocols = [proto for conns in connector._conns.values() for proto, _ in conns]
    protocols.extend(connector._acquired)
    for proto in protocols:
        transport = proto.transport
        if transport is None:
            continue
        try:
            transport.abort()
        except RuntimeError:  # "Event loop is closed"
            lost = getattr(transport, "_call_connection_lost", None)
            if lost is not None:
                with contextlib.suppress(Exception):
                    lost(None)
    connector._close(abort_ssl=True)


async def _acquire(slots: asyncio.Semaphore, pool: float | None) -> None:
    if not slots.locked():
        await slots.acquire()  # free: returns without suspending
        return
    try:
        async with asyncio.timeout(pool):
            await slots.acquire()
    except TimeoutError:
        raise httpx.PoolTimeout(
            f"no free connection within {pool} s (max_connections reached)"
        ) from None


async def _stream_body(stream: Any) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield chunk
