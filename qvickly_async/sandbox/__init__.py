"""A faithful, deterministic emulator of the Qvickly Payment API, shipped with the SDK.

Three ways to run it::

    from qvickly_async.sandbox import Sandbox
    sandbox = Sandbox()  # merchant id "12345", secret "sandbox-secret", demo customers 10000..

    # (a) in-process, no sockets
    httpx.AsyncClient(transport=sandbox.transport())
    httpx.Client(transport=httpx.MockTransport(sandbox.handler))
    httpx.AsyncClient(transport=httpx.ASGITransport(sandbox.asgi_app))

    # (b) a real loopback server, every fault available (TCP resets, slow drips, ...)
    async with sandbox.serve(host="127.0.0.1", port=0) as server: ...   # server.url
    with sandbox.serve_in_thread() as server: ...

    # (c) a process
    #   python -m qvickly_async.sandbox --port 8080 [--strict --error-shape signed ...]
    #   uvicorn qvickly_async.sandbox:app_factory --factory

Faults are configured with :class:`FaultPlan` (``sandbox.set_faults(...)`` or
``POST /__sandbox__/faults``); what was asked is in ``sandbox.counters`` (or
``GET /__sandbox__/counters``). Payment events send signed callbacks with Qvickly's retry
schedule (``sandbox.payment_event(number, "paid", url=...)`` or
``POST /__sandbox__/callbacks``); :func:`callback_body` and :func:`redirect_params` build
signed callbacks and redirects for your own tests. The pytest plugin
(``qvickly_async.sandbox.pytest_plugin``) provides the ``qvickly_sandbox`` and
``qvickly_sandbox_server`` fixtures.
"""

from __future__ import annotations

from .._deprecation import deprecated_names
from ._callback_bodies import (
    callback_body,
    callback_data,
    redirect_form,
    redirect_params,
    redirect_query,
)
from ._callback_delivery import (
    QVICKLY_RETRY_DELAYS,
    CallbackAttempt,
    CallbackDeliveries,
    CallbackRecord,
    DeliveryState,
)
from ._cli import app_factory, sandbox_from_env, serve_forever
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
from ._faults import FAULT_KINDS, Fault, FaultPlan
from ._functions import DOCUMENTED_FUNCTIONS, FunctionCall, FunctionError
from ._inprocess import AsgiApp
from ._sandbox import Sandbox
from ._server import ServerHandle

__all__ = [
    "DEFAULT_MERCHANT_ID",
    "DEFAULT_SECRET",
    "DEFAULT_SEED",
    "DEFAULT_SIZE",
    "DOCUMENTED_FUNCTIONS",
    "FAULT_KINDS",
    "QVICKLY_RETRY_DELAYS",
    "AsgiApp",
    "CallbackAttempt",
    "CallbackDeliveries",
    "CallbackRecord",
    "Counters",
    "DeliveryState",
    "ErrorShape",
    "Fault",
    "FaultPlan",
    "FunctionCall",
    "FunctionError",
    "LogidStyle",
    "RowShape",
    "Sandbox",
    "ServerHandle",
    "Settings",
    "app_factory",
    "callback_body",
    "callback_data",
    "redirect_form",
    "redirect_params",
    "redirect_query",
    "sandbox_from_env",
    "serve_forever",
]

__getattr__ = deprecated_names(__name__)
