"""The default transport: HTTP/1.1 keep-alive connections on asyncio, parsed by llhttp.

Each connection is an :class:`asyncio.Protocol` that feeds what arrives to ``httptools``'
response parser (llhttp, the parser of Node.js, aiohttp and uvicorn) and completes one
exchange at a time; a pool per origin keeps idle connections for reuse. There is no
general-purpose client machinery in between (no per-request session, tracing, cookie jar or
multidict rebuilding), which is where aiohttp's client spends most of its CPU per request
(docs/performance.md): a batch lookup costs about half the CPU it cost through aiohttp.

The error mapping is the point of owning this module: an error may claim that the request
never left only when that is certain, because state-changing Payment API calls are retried
only then. So:

* failures before one byte of the request is written are :class:`httpx.PoolTimeout` (no free
  connection slot in time), :class:`httpx.ConnectTimeout` (DNS, TCP or TLS handshake too
  slow) or :class:`httpx.ConnectError` (DNS, refused, unreachable, TLS handshake and
  certificate failures);
* everything later (resets, a close before the whole answer, malformed responses, read
  timeouts) is :class:`httpx.ReadError`, :class:`httpx.RemoteProtocolError` or
  :class:`httpx.ReadTimeout`: the request may have been received.

An idle connection is reused only while it is healthy: never after the server closed it or
sent anything unasked (its socket is checked before reuse, as httpcore does), never after a
response that was not read to its end, never past ``keepalive_expiry``. Redirects are never
followed, the read timeout bounds every wait for the next bytes of the answer (writing the
request included), TLS is verified with the context httpx would build (certifi, or
``SSL_CERT_FILE``/``SSL_CERT_DIR``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import select
import socket
import ssl
from collections import deque
from collections.abc import AsyncIterator, Coroutine, Iterable, Mapping
from typing import Any, Final, NamedTuple

import httptools
import httpx

from ._decompress import BodyDecoder, ContentDecodingError, ResponseTooLargeError
from ._defaults import LIMITS as _DEFAULT_LIMITS

__all__ = ["Http11Transport", "Origin", "Reply"]

#: ``(scheme, host, port)`` of the server a connection talks to.
Origin = tuple[str, str, int]

# select() watches descriptors below FD_SETSIZE only (1024 on Linux and macOS).
_SELECT_LIMIT: Final = 1024
# A streamed body (``handle_async_request``) stops reading from the socket above this many
# buffered bytes until the consumer catches up.
_HIGH_WATER: Final = 256 * 1024
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_CLOSED_EARLY: Final = "the server closed the connection without a complete response"
# The read timer's callback only fails the exchange: running it in one context of its own
# spares the copy of the caller's context asyncio makes for every timer.
_TIMER_CONTEXT: Final = contextvars.Context()
_NO_HEADERS: Final[Mapping[str, str]] = {}


class Reply(NamedTuple):
    """A whole answer: the status, the body, and for errors the reason phrase and headers."""

    status: int
    content: bytes
    reason: str
    headers: Mapping[str, str]


def _connection_lost_text(error: BaseException) -> str:
    """Say what failed after connecting, in the SDK's words (with the system's reason)."""
    errno = getattr(error, "errno", None)
    if isinstance(errno, int) and errno > 0:
        return f"the connection failed after it was opened: {os.strerror(errno)}"
    return str(error) or type(error).__name__


def _connect_error(error: OSError, host: str, port: int) -> httpx.ConnectError:
    """Say what failed while connecting, in the SDK's words."""
    where = f"{host}:{port}"
    if isinstance(error, ssl.SSLCertVerificationError):
        reason = error.verify_message or error.reason or str(error)
        return httpx.ConnectError(f"the TLS certificate of {where} was not accepted: {reason}")
    if isinstance(error, ssl.SSLError):
        return httpx.ConnectError(f"the TLS handshake with {where} failed: {error}")
    if isinstance(error, socket.gaierror):
        return httpx.ConnectError(
            f"cannot resolve the host name {host!r}: {error.strerror or error}"
        )
    errno = error.errno
    reason = os.strerror(errno) if isinstance(errno, int) and errno > 0 else str(error)
    return httpx.ConnectError(f"cannot connect to {where}: {reason}")


def _socket_is_readable(transport: asyncio.BaseTransport | None) -> bool:
    """Whether an idle connection's socket has something to read (EOF included).

    An idle HTTP/1.1 connection never legitimately receives anything: readable means the
    server closed it (its FIN is waiting, not yet seen by the event loop) or sent junk, so it
    must not carry a request. This is the check httpcore makes before reusing a connection.
    """
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return True
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


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one exchange at a time, its answer parsed as it arrives.

    ``start()`` begins an exchange; ``waiter`` then resolves when the whole answer is in
    (``whole``) or, for a streamed body, when its head is; a failure resolves it with the
    httpx exception to raise. The parser's callbacks (``on_*``) run inside
    ``data_received``.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        #: The server closed, we closed, or something went wrong: never reused.
        self.closed = False
        self.idle_since = 0.0
        self.active = False
        self.waiter: asyncio.Future[None] | None = None
        self.error: BaseException | None = None
        self._reset(whole=True, limit=None)

    def _reset(self, *, whole: bool, limit: int | None) -> None:
        self.whole = whole
        self.limit = limit
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.size = 0
        self.framed = False  # Content-Length or chunked: the end of the body is known
        self.encoded = False  # Content-Encoding: the body is decoded once read
        self.head_done = False
        self.done = False
        self.informational = False
        self.read_timeout: float | None = None
        self.last_data = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.paused = False

    # -- an exchange ----------------------------------------------------------------------

    def start(self, *, whole: bool, limit: int | None, read_timeout: float | None) -> None:
        """Begin an exchange (the request is written next); arm the read timeout."""
        self._reset(whole=whole, limit=limit)
        self.active = True
        self.error = None
        self.waiter = self.loop.create_future()
        if read_timeout is not None:
            self._arm(read_timeout)

    def _arm(self, read_timeout: float) -> None:
        self.read_timeout = read_timeout
        self.last_data = now = self.loop.time()
        self.timer = self.loop.call_at(now + read_timeout, self._on_timer, context=_TIMER_CONTEXT)

    def _disarm(self) -> None:
        timer, self.timer = self.timer, None
        if timer is not None:
            timer.cancel()

    def _on_timer(self) -> None:
        # Rescheduled lazily: data_received only notes the time, the timer moves on from it.
        self.timer = None
        read_timeout = self.read_timeout
        if read_timeout is None or not self.active:
            return
        deadline = self.last_data + read_timeout
        if self.loop.time() >= deadline:
            self.fail(httpx.ReadTimeout("timed out while reading the response"))
        else:
            self.timer = self.loop.call_at(deadline, self._on_timer, context=_TIMER_CONTEXT)

    def fail(self, error: BaseException) -> None:
        """End the exchange with ``error`` and close the connection (never reused)."""
        if self.error is None:
            self.error = error
        self._disarm()
        self.closed = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(self.error)
        transport = self.transport
        if transport is not None:
            transport.abort()

    def finish(self) -> None:
        """End an exchange whose answer was read to the end (the connection may be reused)."""
        self._disarm()
        self.active = False
        self.waiter = None
        self.chunks = deque()
        self.headers = []
        self.idle_since = self.loop.time()

    def close(self) -> None:
        """Close the connection now (an abandoned exchange, an expired or unusable one)."""
        self._disarm()
        self.closed = True
        self.active = False
        transport = self.transport
        if transport is not None:
            transport.abort()

    def body(self) -> bytes:
        """Return the whole body of a completed ``whole`` exchange."""
        chunks = self.chunks
        if len(chunks) == 1:
            return chunks[0]
        return b"".join(chunks)

    async def next_chunk(self) -> bytes | None:
        """Return the next piece of a streamed body, ``None`` at its end."""
        while True:
            chunks = self.chunks
            if chunks:
                chunk = chunks.popleft()
                self.buffered -= len(chunk)
                if self.paused and self.buffered < _HIGH_WATER // 2 and self.transport:
                    self.paused = False
                    self.transport.resume_reading()
                return chunk
            if self.error is not None:
                raise self.error
            if self.done:
                return None
            self.waiter = self.loop.create_future()
            if self.read_timeout is not None:
                self._arm(self.read_timeout)
            try:
                await self.waiter
            finally:
                self._disarm()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.active:
            # Unasked bytes on an idle connection (or after a failed exchange): unusable.
            self.close()
            return
        if self.error is not None:
            return
        if self.timer is not None:
            self.last_data = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.fail(httpx.RemoteProtocolError("the server switched protocols (upgrade)"))
        except httptools.HttpParserError as error:
            # A callback's own failure was recorded first (fail() keeps the first error).
            self.fail(httpx.RemoteProtocolError(f"malformed HTTP response: {error}"))

    def eof_received(self) -> bool:
        if self.active and not self.done and self.error is None:
            if self.head_done and not self.framed and not self.informational:
                self.on_message_complete()  # a body delimited by the connection's close
            else:
                self.fail(httpx.RemoteProtocolError(_CLOSED_EARLY))
        self.closed = True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.active and not self.done and self.error is None:
            if exc is None:
                self.fail(httpx.RemoteProtocolError(_CLOSED_EARLY))
            else:
                self.fail(httpx.ReadError(_connection_lost_text(exc)))
        self.transport = None
        self._disarm()

    # -- parser callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.done:
            # A second answer to one request: whatever it is, the connection is unusable.
            self.closed = True

    # After the answer (``done``), whatever else the server sends is ignored: the connection
    # is closed once the exchange ends (``on_message_begin``).

    def on_status(self, reason: bytes) -> None:
        if not self.done:
            self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.done:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.done:
            return
        status = self.parser.get_status_code()
        self.status = status
        if 100 <= status < 200:
            # 1xx (100 Continue, 103 Early Hints): not the answer; the real one follows.
            self.informational = True
            return
        limit = self.limit
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == b"content-length":
                self.framed = True
                if limit is not None and value.strip().isdigit() and int(value) > limit:
                    self.fail(ResponseTooLargeError())
                    return
            elif lowered == b"transfer-encoding":
                self.framed = True
            elif lowered == b"content-encoding":
                self.encoded = True
        self.head_done = True
        if not self.whole:
            self._disarm()  # from now on, only while the consumer waits (next_chunk)
            self._wake()

    def on_body(self, body: bytes) -> None:
        if self.error is not None or self.done:
            return
        size = self.size + len(body)
        self.size = size
        limit = self.limit
        if limit is not None and size > limit:
            self.fail(ResponseTooLargeError())
            return
        self.chunks.append(body)
        if not self.whole:
            self.buffered += len(body)
            if self.buffered > _HIGH_WATER and not self.paused and self.transport:
                self.paused = True
                self.transport.pause_reading()
            self._wake()

    def on_message_complete(self) -> None:
        if self.error is not None or self.done:
            return
        if self.informational:
            self.informational = False
            self.reason = b""
            self.headers = []
            return
        self.done = True
        self._disarm()
        if not self.parser.should_keep_alive():
            self.closed = True
        self._wake()


class Http11Transport(httpx.AsyncBaseTransport):
    """An :class:`httpx.AsyncBaseTransport` over the SDK's own HTTP/1.1 connection pool.

    Args:
        limits: ``max_connections`` bounds the requests in flight and so the connections
            (``None``: unbounded); ``keepalive_expiry`` is how long an idle connection is
            kept; ``max_keepalive_connections=0`` disables reuse (other values are not
            enforced separately: idle connections never outnumber ``max_connections``).
        verify: ``True`` (verify with certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), an
            :class:`ssl.SSLContext`, or ``False`` to disable verification (never do that
            against the real API).

    Use one transport per event loop, and close it with :meth:`aclose` (an
    ``httpx.AsyncClient`` built on it does that when it closes).
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits = _DEFAULT_LIMITS,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._verify = verify
        self._ssl: ssl.SSLContext | None = verify if isinstance(verify, ssl.SSLContext) else None
        self._reuse = limits.max_keepalive_connections != 0
        self._expiry = limits.keepalive_expiry
        # Held from the request until its response is closed: waiting for one is httpx's
        # "pool" phase, with its own timeout and PoolTimeout.
        self._slots = asyncio.Semaphore(limits.max_connections) if limits.max_connections else None
        self._idle: dict[Origin, list[_Connection]] = {}
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def _check_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._closed:
            raise RuntimeError("the transport is closed")
        if self._loop is loop:
            return loop
        if self._loop is not None:
            raise RuntimeError(
                "this transport was first used in another event loop; "
                "create one client per event loop"
            )
        self._loop = loop
        return loop

    def _tls(self) -> ssl.SSLContext:
        context = self._ssl
        if context is None:
            context = self._ssl = httpx.create_ssl_context(
                verify=bool(self._verify), trust_env=True
            )
        return context

    async def _connection(
        self, origin: Origin, connect_timeout: float | None, sni: str | None
    ) -> _Connection:
        """Return a healthy idle connection to ``origin``, or a new one."""
        idle = self._idle.get(origin)
        if idle:
            expiry = self._expiry
            now = self._loop.time() if self._loop is not None else 0.0
            while idle:
                connection = idle.pop()  # the most recently used: the least likely stale
                if (
                    connection.closed
                    or (expiry is not None and now - connection.idle_since > expiry)
                    or _socket_is_readable(connection.transport)
                ):
                    self._drop(connection)
                    continue
                return connection
        return await self._open(origin, connect_timeout, sni)

    async def _open(
        self, origin: Origin, connect_timeout: float | None, sni: str | None
    ) -> _Connection:
        scheme, host, port = origin
        loop = self._check_loop()
        tls = self._tls() if scheme == "https" else None
        try:
            async with asyncio.timeout(connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=(sni or host) if tls is not None else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"timed out while connecting to {host}:{port}") from None
        except OSError as error:  # ssl.SSLError and socket.gaierror included
            raise _connect_error(error, host, port) from None
        self._connections.add(connection)
        return connection

    def _release(self, connection: _Connection, origin: Origin) -> None:
        """After an answer read to its end: keep the connection for reuse, or close it."""
        connection.finish()
        if connection.closed or not self._reuse or self._closed:
            connection.close()
            self._connections.discard(connection)
            return
        self._idle.setdefault(origin, []).append(connection)

    def _drop(self, connection: _Connection) -> None:
        connection.close()
        self._connections.discard(connection)

    def poster(
        self, url: httpx.URL, headers: httpx.Headers, limit: int
    ) -> functools.partial[Coroutine[Any, Any, Reply]]:
        """Return :meth:`post` bound to ``url``; awaiting ``(body, timeouts)`` sends one POST.

        The request head an ``httpx.Request`` would carry (``headers`` and ``Host``) is built
        once, up to ``Content-Length: ``; each call adds the length and the body. A partial,
        not a coroutine of its own.
        """
        sample = httpx.Request("POST", url, content=b"", headers=headers)
        kept = [
            (name, value)
            for name, value in sample.headers.raw
            if name.lower() not in (b"transfer-encoding", b"content-length")
        ]
        head = _head("POST", url, kept) + b"Content-Length: "
        return functools.partial(self.post, _origin(url), head, limit)

    async def post(
        self,
        origin: Origin,
        head: bytes,
        limit: int,
        body: bytes,
        timeouts: httpx.Timeout,
    ) -> Reply:
        """POST ``body`` and read the whole answer: the SDK's own hot path.

        ``head`` is the request head up to and including ``Content-Length: ``; the length and
        the body follow. The body is content-decoded, every layer bounded by ``limit`` bytes.
        The headers of a ``200`` answer are not kept (nothing reads them).

        Raises:
            httpx.TransportError: see the module docstring for which one when.
            ResponseTooLargeError: the answer exceeds ``limit`` bytes.
            httpx.DecodingError: a content-encoded body could not be decoded.
        """
        if self._loop is not asyncio.get_running_loop() or self._closed:
            self._check_loop()
        slots = self._slots
        if slots is not None:
            await _acquire(slots, timeouts.pool)
        try:
            connection = await self._connection(origin, timeouts.connect, None)
            try:
                connection.start(whole=True, limit=limit, read_timeout=timeouts.read)
                assert connection.transport is not None
                connection.transport.write(
                    b"%b%d\r\n\r\n%b" % (head, len(body), body) if body else head + b"0\r\n\r\n"
                )
                await connection.waiter  # type: ignore[misc]
            except BaseException:
                self._drop(connection)
                raise
            status, reason, headers = connection.status, connection.reason, connection.headers
            content = connection.body()
            encoded = connection.encoded
            self._release(connection, origin)
        finally:
            if slots is not None:
                slots.release()
        if encoded:
            content = _decoded(content, headers, limit)
        if status == 200:
            return Reply(200, content, "OK", _NO_HEADERS)
        return Reply(
            status,
            content,
            reason.decode("ascii", "ignore") if reason else httpx.codes.get_reason_phrase(status),
            httpx.Headers(headers),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return a response whose body is still to be streamed."""
        url = request.url
        if url.scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}: {url}")
        if not url.host:
            raise httpx.UnsupportedProtocol(f"no host in the URL {url}")
        self._check_loop()
        origin = _origin(url)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        head = _head(request.method, url, request.headers.raw) + b"\r\n"
        chunked = request.headers.get("transfer-encoding", "").lower() == "chunked"
        slots = self._slots
        if slots is not None:
            await _acquire(slots, timeouts.get("pool"))
        try:
            connection = await self._connection(
                origin, timeouts.get("connect"), request.extensions.get("sni_hostname")
            )
            try:
                connection.start(whole=False, limit=None, read_timeout=timeouts.get("read"))
                await _write_request(connection, head, request, chunked)
                await connection.waiter  # type: ignore[misc]
            except BaseException:
                self._drop(connection)
                raise
        except BaseException:
            if slots is not None:
                slots.release()
            raise
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if connection.reason:
            extensions["reason_phrase"] = connection.reason
        return httpx.Response(
            status_code=connection.status,
            headers=connection.headers,
            stream=_ResponseStream(self, connection, origin, slots),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        """Close every connection. Idempotent; works from any event loop.

        The connections belong to the loop they were opened in. From another loop they are
        closed there if that loop still runs (in another thread), else their sockets now.
        """
        self._closed = True
        loop = self._loop
        if loop is None or loop is asyncio.get_running_loop() or not loop.is_running():
            self._drop_all()
        else:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            running = asyncio.get_running_loop()

            def drop() -> None:
                self._drop_all()
                running.call_soon_threadsafe(done.set_result, None)

            loop.call_soon_threadsafe(drop)
            await done

    def abandon(self) -> None:
        """Drop every connection without awaiting (the owner was garbage collected unclosed)."""
        self._closed = True
        loop = self._loop
        if loop is not None and loop.is_running():
            try:
                running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:  # collected in another thread: close them in their own
                loop.call_soon_threadsafe(self._drop_all)
                return
        self._drop_all()

    def _drop_all(self) -> None:
        """Close every connection now, awaiting nothing, whatever the state of their loop.

        ``transport.abort()`` needs the loop to schedule the final close; when that loop is
        already closed the socket is closed directly (else only garbage collection would).
        """
        connections = list(self._connections)
        self._connections.clear()
        self._idle.clear()
        for connection in connections:
            transport = connection.transport
            connection.closed = True
            if transport is None:
                continue
            try:
                transport.abort()
            except RuntimeError:  # "Event loop is closed"
                lost = getattr(transport, "_call_connection_lost", None)
                if lost is not None:
                    with contextlib.suppress(Exception):
                        lost(None)


class _ResponseStream(httpx.AsyncByteStream):
    """The body of a streamed response; closing frees the connection (reused if read to the end)."""

    def __init__(
        self,
        transport: Http11Transport,
        connection: _Connection,
        origin: Origin,
        slots: asyncio.Semaphore | None,
    ) -> None:
        self._transport: Http11Transport | None = transport
        self._connection = connection
        self._origin = origin
        self._slots = slots

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        while (chunk := await connection.next_chunk()) is not None:
            yield chunk

    async def aclose(self) -> None:
        transport, self._transport = self._transport, None
        if transport is None:
            return
        connection = self._connection
        if connection.done and connection.error is None and not connection.chunks:
            transport._release(connection, self._origin)
        else:  # abandoned mid-body, or failed: the connection cannot be reused
            transport._drop(connection)
        if self._slots is not None:
            self._slots.release()


async def _write_request(
    connection: _Connection, head: bytes, request: httpx.Request, chunked: bool
) -> None:
    transport = connection.transport
    assert transport is not None
    try:
        content = request.content
    except httpx.RequestNotRead:
        transport.write(head)
        stream: Any = request.stream
        async for chunk in stream:
            if connection.error is not None:  # failed while writing: no point going on
                raise connection.error from None
            if chunked:
                if chunk:
                    transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            else:
                transport.write(chunk)
        if chunked:
            transport.write(b"0\r\n\r\n")
        return
    transport.write(head + content)


def _origin(url: httpx.URL) -> Origin:
    return (url.scheme, url.host, url.port or _DEFAULT_PORTS[url.scheme])


def _head(method: str, url: httpx.URL, headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Return the request line and header lines (each ending in CRLF), not the blank line."""
    lines = [b"%b %b HTTP/1.1\r\n" % (method.encode("ascii"), url.raw_path)]
    lines += [name + b": " + value + b"\r\n" for name, value in headers]
    return b"".join(lines)


def _decoded(content: bytes, headers: list[tuple[bytes, bytes]], limit: int) -> bytes:
    """Decode a content-encoded body, every layer bounded by ``limit`` bytes."""
    encodings = [
        value.decode("latin-1") for name, value in headers if name.lower() == b"content-encoding"
    ]
    try:
        decoder = BodyDecoder(encodings, limit)
        decoded = decoder.feed(content)
        decoder.finish()
    except ContentDecodingError as error:
        # Damaged in transit like a malformed body: the request did arrive.
        raise httpx.DecodingError(f"response body could not be decoded: {error}") from None
    return decoded


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
