"""The :class:`Sandbox` facade: one emulated Payment API, reachable three ways."""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import attrs
import httpx

from .._signing import php_json_encode
from ._callback_delivery import CallbackDeliveries
from ._callback_events import events_for
from ._config import (
    DEFAULT_MERCHANT_ID,
    DEFAULT_SECRET,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    ErrorShape,
    LogidStyle,
    RowShape,
    Settings,
)
from ._counters import Counters
from ._dataset import FIRST_CUSTOMER, DemoDataset
from ._engine import Engine
from ._faults import FaultInjector, FaultPlan
from ._functions import Handler, Registry, default_registry
from ._inprocess import AsgiApp, async_handler, sync_handler
from ._payment_functions import register_payment_functions
from ._server import ServerHandle, serve, serve_in_thread
from ._store import Store
from ._userdata import UserCustomer, load_customers_file, to_wire_rows

__all__ = ["Sandbox"]


def _secret_bytes(secret: str | bytes) -> bytes:
    if not isinstance(secret, str | bytes):
        raise TypeError(f"secret must be a str or bytes, not {type(secret).__name__}")
    value = secret.encode("utf-8") if isinstance(secret, str) else secret
    if not value:
        raise ValueError("secret must not be empty")
    return value


def _merchant_text(merchant_id: str | int) -> str:
    if isinstance(merchant_id, bool) or not isinstance(merchant_id, str | int):
        raise TypeError(f"merchant_id must be a str or int, not {type(merchant_id).__name__}")
    text = str(merchant_id)
    if not text.strip():
        raise ValueError("merchant_id must not be blank")
    return text


class Sandbox:
    """A faithful, deterministic emulator of the Qvickly Payment API.

    Reach it three ways:

    * in-process: ``httpx.MockTransport(sandbox.handler)`` (sync handler, the fast path),
      ``httpx.ASGITransport(sandbox.asgi_app)``, or simply ``sandbox.transport()``;
    * on a loopback socket: ``async with sandbox.serve() as server:`` or
      ``with sandbox.serve_in_thread() as server:``, then use ``server.url``;
    * as a process: ``python -m qvickly_async.sandbox --port 8080`` or
      ``qvickly sandbox serve``.

    Args:
        merchant_id: the merchant id (``credentials.id``) it accepts.
        secret: that merchant's secret key.
        seed: seed of the demo dataset (same seed, same bytes).
        customers: number of demo customers, numbered from 10000.
        strict: accept only PHP-default hashing and refuse empty ``data`` (9004).
        error_shape: ``"bare"`` (top-level, unsigned) or ``"signed"`` (inside ``data``).
        invoice_shape: getInvoicesByCustomer rows ``"flat"``, ``"nested"`` or ``"mixed"``.
        logid: ``"auto"``, ``"int"`` or ``"str"``; see :data:`LogidStyle`.
        faults: a :class:`FaultPlan` in force from the start.
        data_file: a JSON file of customers to load (see :meth:`load_json`).
        first_logid: the first ``logid`` handed out (then counting up).

    The secret never appears in ``repr`` or logs.
    """

    def __init__(
        self,
        *,
        merchant_id: str | int = DEFAULT_MERCHANT_ID,
        secret: str | bytes = DEFAULT_SECRET,
        seed: int = DEFAULT_SEED,
        customers: int = DEFAULT_SIZE,
        strict: bool = False,
        error_shape: ErrorShape = "bare",
        invoice_shape: RowShape = "flat",
        logid: LogidStyle = "auto",
        faults: FaultPlan | None = None,
        data_file: str | os.PathLike[str] | None = None,
        first_logid: int = 1_000_000,
    ) -> None:
        self._merchant_id = _merchant_text(merchant_id)
        self._secret = _secret_bytes(secret)
        self._dataset = DemoDataset(seed=seed, size=customers)
        self._store = Store(self._dataset)
        self._registry: Registry = default_registry()
        register_payment_functions(self._registry, lambda: events_for(self._engine))
        self._counters = Counters()
        self._faults = FaultInjector(faults)
        self._engine = Engine(
            merchants={self._merchant_id: self._secret},
            settings=Settings(
                strict=strict, error_shape=error_shape, invoice_shape=invoice_shape, logid=logid
            ),
            store=self._store,
            registry=self._registry,
            faults=self._faults,
            counters=self._counters,
            first_logid=first_logid,
        )
        self._handler = sync_handler(self._engine)
        self._async_handler = async_handler(self._engine)
        self._asgi = AsgiApp(self._engine)
        if data_file is not None:
            self.load_json(data_file)

    def __repr__(self) -> str:
        settings = self._engine.settings
        return (
            f"Sandbox(merchant_id={self._merchant_id!r}, seed={self._dataset.seed}, "
            f"customers={self._dataset.size}, strict={settings.strict}, "
            f"error_shape={settings.error_shape!r}, invoice_shape={settings.invoice_shape!r}, "
            f"faults={'on' if not self._faults.plan.quiet else 'off'})"
        )

    # -- identity -------------------------------------------------------------------------

    @property
    def merchant_id(self) -> str:
        """The default merchant's id."""
        return self._merchant_id

    @property
    def secret(self) -> str:
        """The default merchant's secret (to configure a client; never logged)."""
        return self._secret.decode("utf-8", errors="surrogateescape")

    @property
    def secret_bytes(self) -> bytes:
        """The default merchant's secret as bytes (the HMAC key)."""
        return self._secret

    @property
    def seed(self) -> int:
        """Seed of the demo dataset."""
        return self._dataset.seed

    @property
    def customer_numbers(self) -> range:
        """Numbers of the demo customers (``10000 ..``); users' customers are not included."""
        return range(FIRST_CUSTOMER, FIRST_CUSTOMER + self._dataset.size)

    def add_merchant(self, merchant_id: str | int, secret: str | bytes) -> None:
        """Accept another merchant (same data). Re-adding one changes its secret."""
        self._engine.merchants[_merchant_text(merchant_id)] = _secret_bytes(secret)
        self._engine.cache.clear()

    # -- behaviour ------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The answer switches in force."""
        return self._engine.settings

    def configure(self, **changes: Any) -> Settings:
        """Change answer switches while running and return the new settings.

        Switches: ``strict``, ``error_shape``, ``invoice_shape``, ``logid``.
        """
        self._engine.settings = attrs.evolve(self._engine.settings, **changes)
        return self._engine.settings

    @property
    def faults(self) -> FaultPlan:
        """The fault plan in force."""
        return self._faults.plan

    def set_faults(self, plan: FaultPlan | None = None, /, **fields: Any) -> FaultPlan:
        """Replace the fault plan and restart attempt counting; return the plan in force.

        ``None`` or no arguments: no faults. Keyword arguments build a :class:`FaultPlan`:
        ``sandbox.set_faults(http_503=Fault(first_attempts=2))``.
        """
        if plan is not None and fields:
            raise TypeError("pass a FaultPlan or keyword fields, not both")
        new = plan if plan is not None else (FaultPlan(**fields) if fields else None)
        self._faults.set_plan(new)
        return self._faults.plan

    @contextlib.contextmanager
    def faults_applied(
        self, plan: FaultPlan | None = None, /, **fields: Any
    ) -> Iterator[FaultPlan]:
        """Within the block the given faults apply; the previous plan is restored after."""
        previous = self._faults.plan
        applied = self.set_faults(plan, **fields)
        try:
            yield applied
        finally:
            self._faults.set_plan(previous)

    @property
    def counters(self) -> Counters:
        """What the sandbox answered, per function, key and outcome."""
        return self._counters

    def reset(self) -> None:
        """Zero the counters and the per-key attempt counts (the fault plan stays)."""
        self._counters.reset()
        self._faults.reset_attempts()

    def register_function(self, name: str, handler: Handler) -> None:
        """Answer function ``name`` (case-insensitive) with ``handler``.

        ``handler(call)`` gets a :class:`FunctionCall` (the request and the sandbox's data,
        switches and answer cache) and returns the ``data`` to sign, or raises
        :class:`FunctionError` to answer with an API error code.
        """
        self._registry.register(name, handler)

    # -- data -----------------------------------------------------------------------------

    def add_customer(
        self,
        customer_number: str | int,
        invoices: Iterable[object],
        *,
        pno: str | None = None,
        test_mode: bool | None = None,
    ) -> None:
        """Serve ``invoices`` for ``customer_number`` (replacing demo data of that number).

        Invoices are :class:`qvickly_async.Invoice` objects or wire-form dicts (flat or
        nested) and are served exactly as given. ``pno`` makes them reachable through
        getInvoicesByPno (nested rows carry it already). ``test_mode=True``/``False`` serves
        them only to test/live requests (``credentials.test``); ``None`` to both.
        """
        customer = UserCustomer(str(customer_number), to_wire_rows(invoices), pno)
        self._store.add(customer, test_mode=test_mode)
        self._engine.cache.clear()

    def load_json(self, path: str | os.PathLike[str], *, test_mode: bool | None = None) -> int:
        """Load customers from a JSON file and return how many were loaded.

        Layout (the ``"customers"`` wrapper is optional)::

            {"customers": {"20001": [row, ...], "20002": {"pno": "...", "invoices": [...]}}}
        """
        loaded = load_customers_file(path)
        for customer in loaded:
            self._store.add(customer, test_mode=test_mode)
        self._engine.cache.clear()
        return len(loaded)

    def expected_invoices(
        self, customer_number: str | int, *, test_mode: bool = False
    ) -> list[dict[str, Any]]:
        """Return the decoded ``data`` rows getInvoicesByCustomer answers for a customer.

        Rows follow the current invoice shape; an unknown customer gets ``[]``.
        """
        rows = self._store.customer_rows(
            str(customer_number), self._engine.settings.invoice_shape, test=test_mode
        )
        decoded: list[dict[str, Any]] = json.loads(php_json_encode(rows))
        return decoded

    def expected_payment(
        self, number: str | int, *, test_mode: bool = False
    ) -> dict[str, Any] | None:
        """Return the decoded ``data`` getPaymentinfo answers for ``number`` (or ``None``)."""
        found = self._store.payment(str(number), test=test_mode)
        return None if found is None else dict(json.loads(php_json_encode(found)))

    def checkout_url(self, number: str | int) -> str:
        """Return the checkout URL of invoice ``number``; getCheckout takes its last segment.

        The checkout shows that invoice's payment (as getPaymentinfo answers it).
        """
        from ._read_functions import checkout_hash

        digest = checkout_hash(self._dataset.seed, int(number))
        return f"https://checkout.qvickly.io/{self.merchant_id}/{digest}"

    def invoice_count(self, customer_number: str | int, *, test_mode: bool = False) -> int:
        """Return how many invoices ``customer_number`` has."""
        rows = self._store.customer_rows(str(customer_number), "flat", test=test_mode)
        return len(rows)

    def pno_of(self, customer_number: int) -> str:
        """Return the personal number of a demo customer (for getInvoicesByPno)."""
        return self._dataset.pno_for(int(customer_number))

    def set_payment_status(
        self, number: str | int, status: str, *, test_mode: bool | None = None
    ) -> None:
        """Make getPaymentinfo report ``status`` (``"Paid"``, ``"Created"``, ...) for ``number``.

        No callback is sent (:meth:`payment_event` sends one). ``test_mode=True``/``False``
        changes it only for test/live requests; ``None`` for both.
        """
        self._store.set_payment_status(str(number), status, test=test_mode)
        self._engine.cache.clear()

    # -- callbacks ------------------------------------------------------------------------

    def payment_event(
        self,
        number: str | int,
        status: str,
        *,
        url: str | None = None,
        test_mode: bool | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        """Change payment ``number``'s status and send Qvickly's signed callback about it.

        getPaymentinfo reports the new status from then on (``paid`` as ``Paid``, ``denied``
        as ``Rejected``). The callback goes to ``url`` (or the one set with
        :meth:`configure_callbacks`) and is retried on Qvickly's schedule until a 2xx;
        :attr:`callbacks` records every attempt. Returns the callback's id.
        """
        return events_for(self._engine).payment_event(
            number, status, url=url, test_mode=test_mode, data=data
        )

    def configure_callbacks(
        self,
        *,
        url: str | None = None,
        speedup: float | None = None,
        timeout: float | None = None,
        stop_on_404: bool | None = None,
        delays: tuple[float, ...] | None = None,
    ) -> CallbackDeliveries:
        """Set the default callback URL and the retry schedule; return :attr:`callbacks`.

        ``speedup`` divides Qvickly's delays (1 min ... 1 month); ``delays`` replaces them.
        """
        events = events_for(self._engine)
        events.configure(
            url=url, speedup=speedup, timeout=timeout, stop_on_404=stop_on_404, delays=delays
        )
        return events.deliveries

    @property
    def callbacks(self) -> CallbackDeliveries:
        """Every callback sent and its attempts (``records()``, ``attempts()``, ``wait()``)."""
        return events_for(self._engine).deliveries

    # -- ways in --------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request synchronously: ``httpx.MockTransport(sandbox.handler)``.

        Works with ``httpx.Client`` and ``httpx.AsyncClient``. Latency faults block with
        ``time.sleep``; prefer :meth:`transport` when latency matters in async code.
        """
        return self._handler(request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request without blocking.

        Use as ``httpx.MockTransport(sandbox.async_handler)`` with ``httpx.AsyncClient``.
        """
        return await self._async_handler(request)

    @property
    def asgi_app(self) -> AsgiApp:
        """The sandbox as an ASGI 3 app, for ``httpx.ASGITransport(sandbox.asgi_app)``."""
        return self._asgi

    def transport(self) -> httpx.AsyncBaseTransport:
        """Return a fresh in-process async transport for ``httpx.AsyncClient``."""
        return httpx.MockTransport(self._async_handler)

    def sync_transport(self) -> httpx.BaseTransport:
        """Return a fresh in-process transport for ``httpx.Client``."""
        return httpx.MockTransport(self._handler)

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[ServerHandle]:
        """Serve on a real socket in the running event loop (asyncio).

        Example::

            async with sandbox.serve() as server:
                async with httpx.AsyncClient(base_url=server.url) as client: ...

        Every fault works here, socket-level ones included.
        """
        async with serve(self._engine, host, port) as handle:
            yield handle

    @contextlib.contextmanager
    def serve_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[ServerHandle]:
        """Serve on a real socket from a background thread.

        Example::

            with sandbox.serve_in_thread() as server:
                requests.post(server.url, json=...)
        """
        with serve_in_thread(self._engine, host, port) as handle:
            yield handle

    @property
    def engine(self) -> Engine:
        """The sandbox's internal request engine; deprecated.

        Serve the sandbox with :attr:`asgi_app` (any ASGI server), :meth:`handler` or
        :meth:`transport` instead. Reading it warns with :class:`DeprecationWarning`; it
        will be removed in the next release.
        """
        warnings.warn(
            "Sandbox.engine is deprecated and will be removed in the next release: serve the "
            "sandbox with Sandbox.asgi_app, Sandbox.handler or Sandbox.transport() instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._engine
