"""``AsyncQvickly``: the facade users hold.

Options, lifecycle, public coroutines and the pipeline of one attempt:
``encode -> sign -> send -> verify -> decode``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Self

import attrs
import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base

from . import _retry
from ._batch import BatchProgress, CustomerResult, InvoiceStream
from ._codec import structure_invoices
from ._logging import logger, mask_customer_number, redact_json, scrub
from ._options import API_VERSION, NOT_GIVEN, ClientOptions, NotGiven, Secret
from ._reads import TypedReads
from ._response import verified_data
from ._signing import encode_request_data, php_json_encode, sign
from ._transport import HTTPTransport
from ._version import __version__
from .exceptions import (
    QvicklyDeadlineExceededError,
    QvicklyError,
    QvicklyInputError,
)

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

    from .callbacks import Callback, CallbackConfirmation
    from .models import Invoice
    from .sandbox import Sandbox

__all__ = ["AsyncQvickly"]

_MAX_TEXT_LENGTH = 255


class _DeadlineStop(stop_base):
    """Stop when the next attempt could not start before the deadline."""

    def __init__(self, deadline_at: float) -> None:
        self.deadline_at = deadline_at

    def __call__(self, retry_state: RetryCallState) -> bool:
        upcoming = retry_state.upcoming_sleep or 0.0
        return time.monotonic() + upcoming >= self.deadline_at


def _check_customer_number(customer_number: object) -> str:
    if not isinstance(customer_number, str):
        raise QvicklyInputError(
            f"customer_number must be a str, not {type(customer_number).__name__} "
            "(customer numbers can have leading zeros; pass them as text)"
        )
    if not customer_number.strip():
        raise QvicklyInputError("customer_number must not be empty or blank")
    if customer_number != customer_number.strip():
        raise QvicklyInputError(
            "customer_number has leading or trailing whitespace; the API matches exactly"
        )
    if len(customer_number) > _MAX_TEXT_LENGTH:
        raise QvicklyInputError(
            f"customer_number is {len(customer_number)} characters; the API takes at most 255"
        )
    return customer_number


def _check_function(function: object) -> str:
    if not isinstance(function, str) or not function.isascii() or not function.isidentifier():
        raise QvicklyInputError(f"function must be a Payment API function name, got {function!r}")
    return function


def _make_limiter(rate_limit: object) -> AsyncLimiter | None:
    if rate_limit is None:
        return None
    if (
        isinstance(rate_limit, bool)
        or not isinstance(rate_limit, int | float)
        or not rate_limit > 0
    ):
        raise QvicklyInputError(
            f"rate_limit must be a positive number of requests/s, got {rate_limit!r}"
        )
    from aiolimiter import AsyncLimiter

    # A one-second bucket: bursts of at most rate_limit requests.
    return AsyncLimiter(max(rate_limit, 1.0), max(rate_limit, 1.0) / rate_limit)


def _check_concurrency(concurrency: object, pool: int) -> int:
    if concurrency is None:
        return min(pool, 64)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise QvicklyInputError(f"concurrency must be an int >= 1, got {concurrency!r}")
    # Never more lookups in flight than pooled connections: the rest would wait for the pool
    # and risk PoolTimeout; bounded here they wait in the queue instead.
    return min(concurrency, pool)


class AsyncQvickly(TypedReads):
    """Async client of the Qvickly Payment API.

    Create one per application and event loop, use it as ``async with`` (or call
    :meth:`aclose`), and share it between tasks: it is safe for concurrent use.

    Args:
        merchant_id: Your Qvickly merchant id ("eid").
        secret: Your API secret key. Never logged or shown in reprs.
        base_url: API endpoint; plain ``http://`` only for loopback or with
            ``allow_insecure_http=True``.
        test_mode: Send ``test: "true"``: no real credit checks or payments.
        language: ISO 639-1 language of server messages (``"sv"`` or ``"en"``).
        timeout: Per-operation timeouts (a number or :class:`httpx.Timeout`); default 10 s to
            connect and 30 s for each other phase.
        max_retries: Retries after the first attempt (only where safe; see the docs).
        deadline: Seconds a whole call may take, all attempts and sleeps included.
        http_client: An :class:`httpx.AsyncClient` to use as is (it is not closed by
            :meth:`aclose`). Its own timeouts are overridden per request.
        on_retry: Called with a :class:`~qvickly_async.RetryDetails` before every retry.
        allow_insecure_http: Permit ``http://`` to non-loopback hosts.
        transport: An httpx transport for the client this object creates (e.g. a sandbox).
        limits: Connection pool limits of the client this object creates.
        max_response_bytes: Largest accepted response body.
    """

    def __init__(
        self,
        *,
        merchant_id: str | int,
        secret: str | bytes | Secret,
        base_url: str = "https://api.qvickly.io/",
        test_mode: bool = False,
        language: str = "sv",
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = 2,
        deadline: float = 60.0,
        http_client: httpx.AsyncClient | None = None,
        on_retry: Callable[[_retry.RetryDetails], None] | None = None,
        allow_insecure_http: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        max_response_bytes: int | None = None,
    ) -> None:
        extra: dict[str, Any] = {}
        if limits is not None:
            extra["limits"] = limits
        if max_response_bytes is not None:
            extra["max_response_bytes"] = max_response_bytes
        options = ClientOptions(
            merchant_id=merchant_id,
            secret=secret,
            base_url=base_url,
            test_mode=test_mode,
            language=language,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            on_retry=on_retry,
            allow_insecure_http=allow_insecure_http,
            **extra,
        )
        if http_client is not None and transport is not None:
            raise QvicklyInputError("pass either http_client or transport, not both")
        self._setup(
            options,
            HTTPTransport(
                base_url=options.base_url,
                timeout=options.timeout,
                limits=options.limits,
                http_client=http_client,
                transport=transport,
                max_response_bytes=options.max_response_bytes,
            ),
            owner=True,
        )

    def _setup(self, options: ClientOptions, transport: HTTPTransport, *, owner: bool) -> None:
        self._options = options
        self._transport = transport
        self._owner = owner
        self._credentials_prefix = self._build_credentials_prefix(options)

    @staticmethod
    def _build_credentials_prefix(options: ClientOptions) -> bytes:
        # Everything in credentials but the hash and the time is fixed per client.
        fixed = php_json_encode(
            {
                "id": options.merchant_id,
                "version": API_VERSION,
                "client": f"{options.client_name}:{__version__}",
                "language": options.language,
                "test": "true" if options.test_mode else "false",
            }
        )
        return b'{"credentials":' + fixed[:-1].encode("ascii")

    # -- construction helpers ---------------------------------------------------------------

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Build a client from the environment.

        Reads ``QVICKLY_MERCHANT_ID``, ``QVICKLY_SECRET`` and optionally ``QVICKLY_BASE_URL``
        and ``QVICKLY_TEST_MODE`` (``1``/``true``/``yes``). Keyword arguments override them.
        """
        env: dict[str, Any] = {}
        for name, key in (("merchant_id", "QVICKLY_MERCHANT_ID"), ("secret", "QVICKLY_SECRET")):
            if name not in overrides:
                value = os.environ.get(key)
                if not value:
                    raise QvicklyInputError(f"environment variable {key} is not set")
                env[name] = value
        if "base_url" not in overrides and os.environ.get("QVICKLY_BASE_URL"):
            env["base_url"] = os.environ["QVICKLY_BASE_URL"]
        test_mode = os.environ.get("QVICKLY_TEST_MODE")
        if "test_mode" not in overrides and test_mode is not None:
            env["test_mode"] = test_mode.strip().lower() in ("1", "true", "yes", "on")
        return cls(**env, **overrides)

    @classmethod
    def for_sandbox(cls, sandbox: Sandbox | None = None, **overrides: Any) -> Self:
        """Return a client wired in-process to a :class:`~qvickly_async.sandbox.Sandbox`.

        No network is used. Without ``sandbox`` a fresh one with the demo data is created;
        either way it is available as :attr:`sandbox`.
        """
        from .sandbox import Sandbox

        box = sandbox if sandbox is not None else Sandbox()
        settings: dict[str, Any] = {
            "merchant_id": box.merchant_id,
            "secret": box.secret,
            "base_url": "http://sandbox.invalid/",
            "allow_insecure_http": True,
            "transport": box.transport(),
        }
        settings.update(overrides)
        client = cls(**settings)
        client._sandbox = box
        return client

    _sandbox: Sandbox | None = None

    @property
    def sandbox(self) -> Sandbox | None:
        """The sandbox a :meth:`for_sandbox` client talks to, else ``None``."""
        return self._sandbox

    @property
    def options(self) -> ClientOptions:
        """The client's immutable options."""
        return self._options

    def with_options(self, **changes: Any) -> Self:
        """Return a client with some options changed that shares this one's connections.

        For example ``client.with_options(max_retries=0, deadline=5)``. Only the original
        client closes the shared connection pool. Connection-level settings (``http_client``,
        ``transport``, ``limits``, ``base_url``) cannot be changed this way.
        """
        fixed = {"http_client", "transport", "limits", "base_url", "max_response_bytes"}
        if fixed & changes.keys():
            raise QvicklyInputError(
                f"with_options cannot change {sorted(fixed & changes.keys())}; create a new client"
            )
        clone = object.__new__(type(self))
        clone._setup(attrs.evolve(self._options, **changes), self._transport, owner=False)
        clone._sandbox = self._sandbox
        return clone

    # -- lifecycle ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool if this client created it. Idempotent."""
        if self._owner:
            await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # Never any I/O here (it may run in another thread or after the loop closed).
        if getattr(self, "_owner", False):
            self._transport.warn_if_open(self)

    def __repr__(self) -> str:
        options = self._options
        return (
            f"<AsyncQvickly merchant_id={options.merchant_id!r} base_url={options.base_url!r} "
            f"test_mode={options.test_mode} max_retries={options.max_retries}>"
        )

    # -- public calls ------------------------------------------------------------------------

    async def get_invoices_by_customer(self, customer_number: str) -> list[Invoice]:
        """Return every invoice of ``customer_number`` as typed :class:`~qvickly_async.Invoice`.

        An unknown customer gives an empty list. The customer number must match exactly;
        Qvickly also tries it as an organisation number.

        Raises:
            QvicklyInputError: a non-string, blank or over-long customer number, before
                anything is sent.
            QvicklyError: any subclass, after safe retries ran out.
        """
        return await self._get_invoices(customer_number, budget=None, limiter=None)

    async def _get_invoices(
        self,
        customer_number: str,
        *,
        budget: _retry.RetryBudget | None,
        limiter: AsyncLimiter | None,
    ) -> list[Invoice]:
        number = _check_customer_number(customer_number)
        data = await self._call(
            "getInvoicesByCustomer",
            {"customerno": number},
            log_key=mask_customer_number(number),
            budget=budget,
            limiter=limiter,
        )
        return structure_invoices(data, function="getInvoicesByCustomer")

    async def get_invoices_by_customers(
        self,
        customer_numbers: Iterable[str],
        *,
        concurrency: int | None = None,
        rate_limit: float | None = None,
        fail_fast: bool = False,
        on_progress: Callable[[BatchProgress], None] | None = None,
        retry_budget: _retry.RetryBudget | NotGiven | None = NOT_GIVEN,
    ) -> list[CustomerResult]:
        """Look up many customers concurrently; one result per distinct number, input order.

        Every customer number is checked before anything is sent. Duplicates are fetched
        once. A failed customer gets a result carrying its typed error and never cancels the
        others, unless ``fail_fast`` is set (then the first error is raised and the
        remaining lookups are cancelled). Cancelling the caller cancels every lookup.

        Args:
            customer_numbers: The customers to look up.
            concurrency: Lookups in flight at once; at most (and by default) the connection
                pool size (64 unless ``limits`` says otherwise).
            rate_limit: At most this many requests per second (retries included).
            fail_fast: Stop at the first failed customer and raise its error.
            on_progress: Called with a :class:`~qvickly_async.BatchProgress` after each
                customer.
            retry_budget: Retries shared by the batch (default: 10 plus 20 % of the
                lookups); ``None`` disables the shared cap.
        """
        numbers = list(dict.fromkeys(customer_numbers))
        problems = []
        for number in numbers:
            try:
                _check_customer_number(number)
            except QvicklyInputError as error:
                # Masked like in logs: a customer number may be a personal number.
                problems.append(f"{mask_customer_number(str(number))!r}: {error}")
        if problems:
            shown = "; ".join(problems[:5])
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise QvicklyInputError(f"invalid customer numbers, nothing was sent: {shown}{more}")
        results: dict[str, CustomerResult] = {}
        async with self.iter_invoices_by_customers(
            numbers,
            concurrency=concurrency,
            rate_limit=rate_limit,
            fail_fast=fail_fast,
            on_progress=on_progress,
            retry_budget=retry_budget,
            total=len(numbers),
        ) as stream:
            async for result in stream:
                results[result.customer_number] = result
        return [results[number] for number in numbers]

    def iter_invoices_by_customers(
        self,
        customer_numbers: Iterable[str],
        *,
        concurrency: int | None = None,
        rate_limit: float | None = None,
        fail_fast: bool = False,
        on_progress: Callable[[BatchProgress], None] | None = None,
        retry_budget: _retry.RetryBudget | NotGiven | None = NOT_GIVEN,
        total: int | None = None,
    ) -> InvoiceStream:
        """Stream :class:`~qvickly_async.CustomerResult` objects as lookups complete.

        The input is consumed lazily and results are not accumulated, so millions of
        customers stream in flat memory. An invalid customer number yields a result with a
        :class:`~qvickly_async.exceptions.QvicklyInputError` (nothing is sent for it).
        Use it as ``async with client.iter_invoices_by_customers(numbers) as results:
        async for result in results: ...`` so stopping early cancels what is in flight.
        Arguments as for :meth:`get_invoices_by_customers`; ``total`` (if known) is passed
        on to ``on_progress``.
        """
        pool = self._options.limits.max_connections or 64
        workers = _check_concurrency(concurrency, pool)
        budget = _retry.RetryBudget() if retry_budget is NOT_GIVEN else retry_budget
        limiter = _make_limiter(rate_limit)
        if total is None and isinstance(customer_numbers, Sequence):
            total = len(set(customer_numbers))

        async def lookup(number: str) -> CustomerResult:
            try:
                invoices = await self._get_invoices(number, budget=budget, limiter=limiter)
            except QvicklyError as error:
                return CustomerResult(number, (), error)
            return CustomerResult(number, tuple(invoices))

        return InvoiceStream(
            customer_numbers,
            lookup,
            concurrency=workers,
            fail_fast=fail_fast,
            on_progress=on_progress,
            total=total,
        )

    async def call(self, function: str, data: Mapping[str, Any]) -> Any:
        """Call any Payment API ``function`` with ``data`` and return the verified ``data``.

        Read-only functions (``get*``) are retried like :meth:`get_invoices_by_customer`;
        any other function is retried only when the request provably never left, because
        Qvickly has no idempotency keys. ``getTerms`` returns its HTML as ``str``.
        """
        return await self._call(_check_function(function), data, log_key=None)

    async def confirm_callback(
        self, callback: Callback, *, raise_on_mismatch: bool = True
    ) -> CallbackConfirmation:
        """Confirm a verified callback or redirect with getPaymentinfo.

        A callback is a notification and a redirect passes through the customer's browser:
        act on the payment as Qvickly reports it, not on what was sent. Fetches
        ``callback.number`` and checks that the number and the status agree (case-insensitive;
        ``denied`` matches ``Rejected``).

        Raises:
            QvicklyCallbackMismatchError: they disagree (unless ``raise_on_mismatch=False``,
                which returns a confirmation with ``agrees=False``); its ``payment_status`` is
                the current status, since an old callback may arrive after the payment moved on.
            QvicklyError: any subclass from the getPaymentinfo call.
        """
        from .callbacks._confirm import confirm

        return await confirm(self, callback, raise_on_mismatch=raise_on_mismatch)

    async def ping(self) -> None:
        """Check connectivity and credentials with a cheap authenticated read.

        Returns ``None`` on success; raises the typed error that explains what is wrong
        (for example :class:`~qvickly_async.exceptions.QvicklyAuthenticationError`).
        """
        await self.with_options(max_retries=0)._call("getAccountinfo", {}, log_key=None)

    # -- the pipeline ------------------------------------------------------------------------

    async def _call(
        self,
        function: str,
        data: Mapping[str, Any],
        *,
        log_key: str | None,
        budget: _retry.RetryBudget | None = None,
        limiter: AsyncLimiter | None = None,
    ) -> Any:
        options = self._options
        payload = encode_request_data(data, dummy=lambda: str(int(time.time())))
        tail = (
            b',"data":'
            + payload
            + b',"function":'
            + php_json_encode(function).encode("ascii")
            + b"}"
        )
        # The raw key is revealed only inside this expression (and inside verified_data):
        # never bound to a local, it cannot show in a traceback rendered with its locals.
        digest = sign(options.secret.reveal(), payload)
        prefix = self._credentials_prefix + b',"hash":"' + digest.encode("ascii") + b'"'
        started = time.monotonic()
        deadline_at = started + options.deadline
        read_only = _retry.is_read_only(function)
        if budget is not None:
            budget.record_call()

        budget_refused = False
        failures: list[BaseException] = []  # what each attempt raised, in order

        def retryable(error: BaseException) -> bool:
            nonlocal budget_refused
            failures.append(error)
            if not _retry.is_retryable(error, read_only=read_only):
                return False
            if budget is None or budget.try_spend():
                return True
            budget_refused = True
            return False

        def attempt_once(number: int) -> Awaitable[Any]:
            body = prefix + b',"time":' + repr(time.time()).encode("ascii") + b"}" + tail
            return self._attempt(function, body, options.secret, deadline_at, number, log_key)

        # Fast path: the first attempt runs outside tenacity, whose machinery costs more CPU
        # than signing and verifying together; the retry loop starts only after a failure
        # that may be retried.
        try:
            if limiter is not None:
                await limiter.acquire()
            return await attempt_once(1)
        except QvicklyError as error:
            if options.max_retries == 0 or not _retry.is_retryable(error, read_only=read_only):
                raise
            first_error = error

        retrying = AsyncRetrying(
            stop=stop_after_attempt(options.max_retries + 1) | _DeadlineStop(deadline_at),
            wait=_retry.wait_for,
            retry=retry_if_exception(retryable),
            before_sleep=partial(self._before_sleep, function, started),
            reraise=True,
            sleep=asyncio.sleep,
        )
        attempt_number = 1
        try:
            async for attempt in retrying:
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number
                    if attempt_number == 1:
                        raise first_error  # hand the fast path's failure to tenacity
                    if limiter is not None:
                        await limiter.acquire()
                    return await attempt_once(attempt_number)
        except QvicklyError as error:
            if budget_refused:
                error.add_note(
                    f"not retried after attempt {attempt_number}: the batch's retry budget is "
                    f"spent ({budget!r})"
                )
            elif attempt_number > 1:
                error.add_note(
                    f"gave up after {attempt_number} attempts in "
                    f"{time.monotonic() - started:.2f} s (max_retries={options.max_retries}, "
                    f"deadline={options.deadline} s)"
                )
                earlier = [failure for failure in failures if failure is not error]
                if isinstance(error, QvicklyDeadlineExceededError) and earlier:
                    # The deadline cut the last retry short: say what the attempts before it got.
                    error.add_note(
                        f"the attempt before failed with {type(earlier[-1]).__name__}: "
                        f"{scrub(str(earlier[-1]))}"
                    )
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self,
        function: str,
        body: bytes,
        secret: Secret,
        deadline_at: float,
        attempt: int,
        log_key: str | None,
    ) -> Any:
        remaining = deadline_at - time.monotonic()
        if remaining <= 0:
            raise QvicklyDeadlineExceededError(
                f"{function}: deadline exceeded before attempt {attempt}",
                function=function,
                request_sent=False,
            )
        debug = logger.isEnabledFor(logging.DEBUG)
        if debug:
            logger.debug(
                "%s attempt %d%s: sending %s",
                function,
                attempt,
                f" ({log_key})" if log_key else "",
                redact_json(body),
            )
        try:
            async with asyncio.timeout(remaining):
                response = await self._transport.post(
                    body, function=function, timeouts=self._options.timeout
                )
        except TimeoutError:
            raise QvicklyDeadlineExceededError(
                f"{function}: deadline of {self._options.deadline} s exceeded during attempt "
                f"{attempt}",
                function=function,
                request_sent=True,
            ) from None
        if debug:
            logger.debug(
                "%s attempt %d: 200 in %.1f ms: %s",
                function,
                attempt,
                response.elapsed * 1000,
                redact_json(response.content),
            )
        return verified_data(response.content, secret=secret, function=function)

    def _before_sleep(self, function: str, started: float, retry_state: RetryCallState) -> None:
        outcome: Any = retry_state.outcome
        error = outcome.exception()
        details = _retry.RetryDetails(
            function=function,
            attempt=retry_state.attempt_number,
            wait=retry_state.upcoming_sleep,
            elapsed=time.monotonic() - started,
            error=error,
        )
        logger.warning(
            "%s attempt %d failed (%s: %s); retrying in %.2f s",
            function,
            details.attempt,
            type(error).__name__,
            scrub(str(error)),
            details.wait,
        )
        if self._options.on_retry is not None:
            self._options.on_retry(details)
