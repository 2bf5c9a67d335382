"""``AsyncQvickly``: the facade users hold.

Options, lifecycle and the public coroutines. Each call runs the pipeline, one stage per
module: request (:mod:`._request`: encode, sign) -> retry engine (:mod:`._retry`: attempts,
backoff, deadline, budget) -> send (:mod:`._transport`) -> verify (:mod:`._response`) ->
decode (:mod:`._codec`).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Self, Unpack

import attrs
import httpx

from . import _defaults, _retry
from ._batch import (
    BatchProgress,
    CustomerResult,
    InvoiceStream,
    batch_concurrency,
    make_limiter,
    unexpected_error,
)
from ._codec import structure_invoices
from ._environment import check_network_environment, read_client_settings
from ._inputs import (
    check_batch_arguments,
    check_customer_number,
    check_customer_numbers,
    check_function,
    distinct,
    iterable_of_numbers,
)
from ._logging import logger, mask_customer_number, redact_json
from ._options import (
    NOT_GIVEN,
    ClientOptions,
    ClientSettings,
    NotGiven,
    OptionChanges,
    check_option_names,
    to_secret,
)
from ._reads import TypedReads
from ._request import RequestTemplate, SignedRequest
from ._response import verified_data
from ._retry import RetryBudget, RetryDetails
from ._signing import Secret
from ._transport import HTTPTransport
from ._version import __version__
from .exceptions import QvicklyError, QvicklyInputError

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

    from .callbacks import Callback, CallbackConfirmation
    from .models import Invoice
    from .sandbox import Sandbox

__all__ = ["AsyncQvickly"]


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
        retry_budget: A :class:`~qvickly_async.RetryBudget` shared by every call of this
            client (and of its :meth:`with_options` copies, unless they set their own), so
            an outage cannot multiply the requests sent: at most ``minimum + ratio * calls``
            retries in all. ``None`` (the default): each call retries up to ``max_retries``.
            Batches also keep their own budget; a retry needs room in both.
        allow_insecure_http: Permit ``http://`` to non-loopback hosts.
        transport: An httpx transport for the client this object creates (e.g. a sandbox).
        limits: Connection pool limits of the client this object creates.
        max_response_bytes: Largest accepted response body.
        keep_raw: Keep each decoded wire row, read-only, in ``Invoice.raw`` (off by default:
            it costs decode time and memory).
    """

    def __init__(
        self,
        *,
        merchant_id: str | int,
        secret: str | bytes | Secret,
        base_url: str = _defaults.BASE_URL,
        test_mode: bool = False,
        language: str = _defaults.LANGUAGE,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = _defaults.MAX_RETRIES,
        deadline: float = _defaults.DEADLINE,
        http_client: httpx.AsyncClient | None = None,
        on_retry: Callable[[RetryDetails], None] | None = None,
        retry_budget: RetryBudget | None = None,
        allow_insecure_http: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        max_response_bytes: int | None = None,
        keep_raw: bool = False,
    ) -> None:
        # Wrapped first: from here on no frame of a traceback holds the raw key.
        secret = to_secret(secret)
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise QvicklyInputError(
                f"http_client must be an httpx.AsyncClient, not {type(http_client).__name__}"
            )
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise QvicklyInputError(
                f"transport must be an httpx.AsyncBaseTransport, not {type(transport).__name__}"
            )
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
            retry_budget=retry_budget,
            allow_insecure_http=allow_insecure_http,
            keep_raw=keep_raw,
            **extra,
        )
        if http_client is not None and transport is not None:
            raise QvicklyInputError("pass either http_client or transport, not both")
        if http_client is None and transport is None:
            check_network_environment()  # the pool built here would use these variables
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
        self._closed = False
        transport.users.add(self)
        self._request = RequestTemplate(
            merchant_id=options.merchant_id,
            language=options.language,
            test_mode=options.test_mode,
            client=f"{options.client_name}:{__version__}",
        )
        self._retry = _retry.RetryPolicy(
            max_retries=options.max_retries, deadline=options.deadline, on_retry=options.on_retry
        )

    # -- construction helpers ---------------------------------------------------------------

    @classmethod
    def from_env(cls, **overrides: Unpack[ClientSettings]) -> Self:
        """Build a client from the environment.

        Reads ``QVICKLY_MERCHANT_ID``, ``QVICKLY_SECRET`` and optionally ``QVICKLY_BASE_URL``
        and ``QVICKLY_TEST_MODE`` (``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/
        ``off``; anything else is a :class:`~qvickly_async.exceptions.QvicklyInputError`).
        Keyword arguments (the constructor's) override them.
        """
        check_option_names(overrides, ClientSettings, method="from_env")
        if "secret" in overrides:
            overrides["secret"] = to_secret(overrides["secret"])
        settings = read_client_settings()
        for name, key in (("merchant_id", "QVICKLY_MERCHANT_ID"), ("secret", "QVICKLY_SECRET")):
            if name not in overrides and name not in settings:
                raise QvicklyInputError(f"environment variable {key} is not set")
        env: dict[str, Any] = {
            name: value for name, value in settings.items() if name not in overrides
        }
        return cls(**env, **overrides)

    @classmethod
    def for_sandbox(
        cls, sandbox: Sandbox | None = None, **overrides: Unpack[ClientSettings]
    ) -> Self:
        """Return a client wired in-process to a :class:`~qvickly_async.sandbox.Sandbox`.

        No network is used. Without ``sandbox`` a fresh one with the demo data is created;
        either way it is available as :attr:`sandbox`. Keyword arguments are the
        constructor's.
        """
        from .sandbox import Sandbox

        check_option_names(overrides, ClientSettings, method="for_sandbox")
        if sandbox is not None and not isinstance(sandbox, Sandbox):
            raise QvicklyInputError(f"sandbox must be a Sandbox, not {type(sandbox).__name__}")
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

    def with_options(self, **changes: Unpack[OptionChanges]) -> Self:
        """Return a client with some options changed that shares this one's connections.

        For example ``client.with_options(max_retries=0, deadline=5)``. Only the original
        client closes the shared connection pool. Connection-level settings (``http_client``,
        ``transport``, ``limits``, ``base_url``, ``max_response_bytes``) cannot be changed
        this way. Every change is validated like in the constructor.
        """
        fixed = {"http_client", "transport", "limits", "base_url", "max_response_bytes"}
        if fixed & changes.keys():
            raise QvicklyInputError(
                f"with_options cannot change {sorted(fixed & changes.keys())}; create a new client"
            )
        check_option_names(changes, OptionChanges, method="with_options")
        if "secret" in changes:
            changes["secret"] = to_secret(changes["secret"])
        clone = object.__new__(type(self))
        clone._setup(attrs.evolve(self._options, **changes), self._transport, owner=False)
        clone._sandbox = self._sandbox
        clone._root = self._root if not self._owner else weakref.ref(self)
        return clone

    # -- lifecycle ---------------------------------------------------------------------------

    #: The client a with_options() client derives from (it owns the shared pool).
    _root: weakref.ref[AsyncQvickly] | None = None

    def _last_user(self) -> bool:
        """Whether no other client sharing the pool is still open (no owner left either)."""
        root = self._root() if self._root is not None else None
        if root is not None and not root._closed:
            return False
        return all(user._closed for user in self._transport.users if user is not self)

    async def aclose(self) -> None:
        """Close the connection pool if this client created it. Idempotent.

        A :meth:`with_options` client closes nothing while the client it derives from (or
        another derived one) is open; once it is the last user of a pool whose owner is gone,
        it closes the pool, so ``async with AsyncQvickly(...).with_options(...)`` leaks
        nothing.
        """
        self._closed = True
        if self._owner or self._last_user():
            await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # Never any I/O here (it may run in another thread or after the loop closed).
        transport = getattr(self, "_transport", None)
        if transport is None or getattr(self, "_closed", True):
            return
        if (self._owner and not self._open_clones()) or (not self._owner and self._last_user()):
            transport.warn_if_open(self)

    def _open_clones(self) -> bool:
        return any(not user._closed for user in self._transport.users if user is not self)

    def __repr__(self) -> str:
        options = getattr(self, "_options", None)
        if options is None:  # construction failed (a traceback rendered with its locals)
            return "<AsyncQvickly (not initialised)>"
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
        number = check_customer_number(customer_number)
        data = await self._call(
            "getInvoicesByCustomer",
            {"customerno": number},
            log_key=mask_customer_number(number),
            budget=budget,
            limiter=limiter,
        )
        return structure_invoices(
            data, function="getInvoicesByCustomer", keep_raw=self._options.keep_raw
        )

    async def get_invoices_by_customers(
        self,
        customer_numbers: Iterable[str],
        *,
        concurrency: int | None = None,
        rate_limit: float | None = None,
        fail_fast: bool = False,
        on_progress: Callable[[BatchProgress], None] | None = None,
        retry_budget: RetryBudget | NotGiven | None = NOT_GIVEN,
    ) -> list[CustomerResult]:
        """Look up many customers concurrently; one result per distinct number, input order.

        Every customer number is checked before anything is sent. Duplicates are fetched
        once. A failed customer gets a result carrying its typed error and never cancels the
        others, unless ``fail_fast`` is set (then the first error is raised and the
        remaining lookups are cancelled). Cancelling the caller cancels every lookup.

        Args:
            customer_numbers: The customers to look up.
            concurrency: Lookups in flight at once (default 64, or the connection pool size if
                smaller). More than the pool the client created (``limits``, 64 connections
                by default) is refused with :class:`~qvickly_async.exceptions.QvicklyInputError`:
                raise ``limits`` with it. With your own ``http_client`` or ``transport`` the
                SDK cannot see the pool, so the number is used as given.
            rate_limit: At most this many requests per second (retries included).
            fail_fast: Stop at the first failed customer and raise its error.
            on_progress: Called with a :class:`~qvickly_async.BatchProgress` after each
                customer.
            retry_budget: Retries shared by the batch (default: 10 plus 20 % of the
                lookups); ``None`` disables the shared cap.
        """
        numbers = distinct(iterable_of_numbers(customer_numbers))
        check_customer_numbers(numbers)
        results: dict[str, CustomerResult] = {}
        async with self.iter_invoices_by_customers(
            numbers,
            concurrency=concurrency,
            rate_limit=rate_limit,
            fail_fast=fail_fast,
            on_progress=on_progress,
            retry_budget=retry_budget,
            total=len(numbers),
            deduplicate=False,  # already distinct
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
        retry_budget: RetryBudget | NotGiven | None = NOT_GIVEN,
        total: int | None = None,
        deduplicate: bool = True,
    ) -> InvoiceStream:
        """Stream :class:`~qvickly_async.CustomerResult` objects as lookups complete.

        The input is consumed lazily and results are not accumulated. Duplicates are
        looked up once: the filter remembers every distinct number (roughly 100 bytes
        each), so for unbounded inputs pass ``deduplicate=False`` (every number is then
        looked up as often as it occurs) and the stream runs in flat memory however many
        customers flow through. An invalid customer number yields a result with a
        :class:`~qvickly_async.exceptions.QvicklyInputError` (nothing is sent for it).
        Use it as ``async with client.iter_invoices_by_customers(numbers) as results:
        async for result in results: ...`` so stopping early cancels what is in flight
        and waits for it; a stream dropped without that cancels its lookups when it is
        garbage collected. Lookups start at the first iteration, not before. Arguments as
        for :meth:`get_invoices_by_customers`; ``total`` (if known) is passed on to
        ``on_progress``.
        """
        iterable_of_numbers(customer_numbers)
        check_batch_arguments(
            fail_fast=fail_fast,
            on_progress=on_progress,
            retry_budget=retry_budget,
            total=total,
            deduplicate=deduplicate,
        )
        workers = batch_concurrency(
            concurrency, self._transport.pool_size, default=self._transport.default_concurrency
        )
        budget = _retry.RetryBudget() if retry_budget is NOT_GIVEN else retry_budget
        limiter = make_limiter(rate_limit)
        if total is None and isinstance(customer_numbers, Sequence):
            if not deduplicate:
                total = len(customer_numbers)
            else:
                try:
                    total = len(set(customer_numbers))
                except TypeError:  # an unhashable entry (it becomes an input-error result)
                    total = len(distinct(customer_numbers))

        async def lookup(number: str) -> CustomerResult:
            try:
                invoices = await self._get_invoices(number, budget=budget, limiter=limiter)
            except QvicklyError as error:
                return CustomerResult(number, (), error)
            except Exception as error:
                return CustomerResult(number, (), unexpected_error(error, "getInvoicesByCustomer"))
            return CustomerResult(number, tuple(invoices))

        return InvoiceStream(
            customer_numbers,
            lookup,
            concurrency=workers,
            fail_fast=fail_fast,
            on_progress=on_progress,
            total=total,
            deduplicate=deduplicate,
        )

    async def call(self, function: str, data: Mapping[str, Any]) -> Any:
        """Call any Payment API ``function`` with ``data`` and return the verified ``data``.

        Read-only functions (``get*``) are retried like :meth:`get_invoices_by_customer`;
        any other function is retried only when the request provably never left, because
        Qvickly has no idempotency keys. ``getTerms`` returns its HTML as ``str``.
        """
        return await self._call(check_function(function), data, log_key=None)

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
        request = self._request.sign(function, data, self._options.secret)
        return await self._retry.run(
            partial(self._attempt, request, log_key),
            function=function,
            budget=budget,
            client_budget=self._options.retry_budget,
            before_attempt=limiter.acquire if limiter is not None else None,
        )

    async def _attempt(self, request: SignedRequest, log_key: str | None, attempt: int) -> Any:
        """One attempt: send the request stamped with the time now, verify the answer."""
        function = request.function
        body = request.body(time.time())
        debug = logger.isEnabledFor(logging.DEBUG)
        if debug:
            _log_request(function, attempt, log_key, body)
        response = await self._transport.post(
            body, function=function, timeouts=self._options.timeout
        )
        if debug:
            _log_response(function, attempt, response.elapsed, response.content)
        return verified_data(response.content, secret=self._options.secret, function=function)


def _log_request(function: str, attempt: int, log_key: str | None, body: bytes) -> None:
    logger.debug(
        "%s attempt %d%s: sending %s",
        function,
        attempt,
        f" ({log_key})" if log_key else "",
        redact_json(body),
    )


def _log_response(function: str, attempt: int, elapsed: float, content: bytes) -> None:
    logger.debug(
        "%s attempt %d: 200 in %.1f ms: %s", function, attempt, elapsed * 1000, redact_json(content)
    )
