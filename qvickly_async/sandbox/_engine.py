"""The request pipeline: bytes in, a :class:`Reply` out. No I/O, no sleeping.

``POST /``: decode -> fault decision -> function lookup -> credentials -> hash check ->
handler -> signed answer (or error) -> late faults (bad hash, truncation, drip).
Admin endpoints live under ``/__sandbox__/``; anything else is 404/405 like a web server.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, Final

from .._signing import sign
from ..exceptions import QvicklyInputError
from ._admin import ADMIN_PREFIX, handle_admin
from ._config import Settings
from ._counters import Counters
from ._faults import Decision, FaultInjector
from ._functions import FunctionCall, FunctionError, Registry, ResponseCache, Signed
from ._reply import API_HEADERS, Reply, html_reply
from ._store import Store
from ._wire import (
    BadRequestError,
    decode_request,
    error_data,
    error_message,
    hash_matches,
    is_test_flag,
    php_normalize,
    signed_body,
)

__all__ = ["Engine"]

logger = logging.getLogger("qvickly_async.sandbox")

_EARLY_FAULTS: Final = frozenset({"reset", "http_502", "http_503", "rate_limit"})
_KEY_FIELDS: Final = ("customerno", "number", "pno")
_WRONG_KEY: Final = b"\x00sandbox-bad-hash-fault\x00"


def _key_of(data: object) -> str | None:
    if not isinstance(data, dict):
        return None
    for name in _KEY_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    payment = data.get("PaymentData")
    return _key_of({"number": payment.get("number")}) if isinstance(payment, dict) else None


def _merchant_id(credentials: dict[str, Any]) -> str | None:
    value = credentials.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) else None


def _is_empty(data: object) -> bool:
    return data is None or data == "" or data == {} or data == []


class _FailureError(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or error_message(code)


class Engine:
    """Answers requests for a set of merchants from a store, with faults and counters."""

    def __init__(
        self,
        *,
        merchants: dict[str, bytes],
        settings: Settings,
        store: Store,
        registry: Registry,
        faults: FaultInjector,
        counters: Counters,
        first_logid: int = 1_000_000,
    ) -> None:
        self.merchants = merchants
        self.settings = settings
        self.store = store
        self.registry = registry
        self.faults = faults
        self.counters = counters
        self.cache = ResponseCache()
        self._logids = itertools.count(first_logid)

    # -- routing --------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, body: bytes) -> Reply:
        """Answer one HTTP request."""
        if path in ("/", ""):
            if method != "POST":
                return html_reply(405, "405 Not Allowed", (("Allow", "POST"),))
            return self.api(body)
        if path.startswith(ADMIN_PREFIX):
            return handle_admin(self, method, path[len(ADMIN_PREFIX) :], query, body)
        return html_reply(404, "404 Not Found")

    # -- the Payment API ------------------------------------------------------------------

    def api(self, body: bytes) -> Reply:
        """Answer a ``POST /`` body."""
        settings = self.settings
        logid = next(self._logids)
        try:
            envelope: dict[str, Any] | None = decode_request(body)
        except BadRequestError:
            envelope = None
        raw_name = envelope["function"] if envelope is not None else ""
        data = envelope.get("data") if envelope is not None else None
        key = _key_of(data)
        entry = self.registry.lookup(raw_name) if envelope is not None else None
        name = entry[0] if entry is not None else raw_name
        credentials = envelope.get("credentials") if envelope is not None else None
        merchant_id = _merchant_id(credentials) if isinstance(credentials, dict) else None
        secret = self.merchants.get(merchant_id) if merchant_id is not None else None

        decision = self.faults.decide(name.lower(), key or "")
        if decision.kind in _EARLY_FAULTS:
            self._count(name, key, f"fault:{decision.kind}")
            return self._early_fault(decision)

        signed: Signed | None
        try:
            if decision.kind == "api_9008":
                raise _FailureError(9008)
            signed = self._answer(envelope, entry, data, secret, settings)
            reply_body = signed_body(
                signed.digest, logid, signed.data, logid_as_string=settings.success_logid_as_string
            )
            outcome = "ok"
        except _FailureError as failure:
            reply_body, signed = self._error_body(failure, logid, secret, settings)
            outcome = f"error:{failure.code}"
            if decision.kind == "api_9008":
                outcome = "fault:api_9008"
        reply = Reply(200, API_HEADERS, reply_body, delay=decision.delay)
        if decision.kind is not None and decision.kind != "api_9008":
            late = self._late_fault(decision, reply, signed, logid, settings)
            if late is not None:
                reply, outcome = late, f"fault:{decision.kind}"
        self._count(name, key, outcome)
        return reply

    def _count(self, name: str, key: str | None, outcome: str) -> None:
        self.counters.record(name, key, outcome)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("sandbox %s key=%s -> %s", name or "<none>", key, outcome)

    def _answer(
        self,
        envelope: dict[str, Any] | None,
        entry: tuple[str, Any] | None,
        data: Any,
        secret: bytes | None,
        settings: Settings,
    ) -> Signed:
        if envelope is None:
            raise _FailureError(9003)
        if entry is None:
            raise _FailureError(9001)
        credentials = envelope.get("credentials")
        if not isinstance(credentials, dict):
            raise _FailureError(9010)
        given_id = credentials.get("id")
        given_hash = credentials.get("hash")
        if given_id is None or given_id == "" or given_hash is None or given_hash == "":
            raise _FailureError(9010)
        merchant_id = _merchant_id(credentials)
        if secret is None or merchant_id is None:
            raise _FailureError(9011)
        seen = php_normalize(data)
        if not hash_matches(secret, seen, given_hash, strict=settings.strict):
            raise _FailureError(9013)
        if settings.strict and _is_empty(seen):
            raise _FailureError(9004)
        name, handler = entry
        if handler is None:
            raise _FailureError(9001, f"not emulated by the sandbox: {name}")
        call = FunctionCall(
            function=name,
            data=seen,
            merchant_id=merchant_id,
            test=is_test_flag(credentials.get("test")),
            secret=secret,
            settings=settings,
            store=self.store,
            cache=self.cache,
        )
        try:
            result = handler(call)
            return result if isinstance(result, Signed) else call.sign(result)
        except FunctionError as error:
            raise _FailureError(error.code, error.message) from None
        except QvicklyInputError:
            logger.exception("sandbox handler for %s returned data PHP cannot encode", name)
            raise _FailureError(9008) from None
        except Exception:
            logger.exception("sandbox handler for %s failed", name)
            raise _FailureError(9008) from None

    def _error_body(
        self, failure: _FailureError, logid: int, secret: bytes | None, settings: Settings
    ) -> tuple[bytes, Signed | None]:
        data = error_data(
            failure.code,
            failure.message,
            logid,
            logid_as_string=settings.error_logid_as_string,
        )
        if settings.error_shape == "signed" and secret is not None:
            signed = Signed(data, sign(secret, data))
            body = signed_body(
                signed.digest, logid, data, logid_as_string=settings.success_logid_as_string
            )
            return body, signed
        return data, None

    # -- faults ---------------------------------------------------------------------------

    @staticmethod
    def _early_fault(decision: Decision) -> Reply:
        kind = decision.kind
        if kind == "reset":
            return Reply(0, (), b"", delay=decision.delay, reset=True, fault=kind)
        if kind == "http_502":
            page = html_reply(502, "502 Bad Gateway")
        elif kind == "http_503":
            page = html_reply(503, "503 Service Temporarily Unavailable")
        else:
            retry_after = str(decision.plan.retry_after)
            page = html_reply(429, "429 Too Many Requests", (("Retry-After", retry_after),))
        return Reply(page.status, page.headers, page.body, delay=decision.delay, fault=kind)

    @staticmethod
    def _late_fault(
        decision: Decision, reply: Reply, signed: Signed | None, logid: int, settings: Settings
    ) -> Reply | None:
        kind = decision.kind
        plan = decision.plan
        if kind == "bad_hash":
            if signed is None:
                return None  # a bare error carries no hash to spoil
            wrong = sign(_WRONG_KEY, signed.data)
            body = signed_body(
                wrong, logid, signed.data, logid_as_string=settings.success_logid_as_string
            )
            return Reply(200, reply.headers, body, delay=reply.delay, fault=kind)
        if kind == "truncated":
            full = len(reply.body)
            declared = full if plan.truncated_length == "full" else None
            cut = reply.body[: full // 2]
            return Reply(
                200, reply.headers, cut, delay=reply.delay, declared_length=declared, fault=kind
            )
        if kind == "slow_drip":
            drip = (plan.drip_bytes, plan.drip_interval)
            return Reply(200, reply.headers, reply.body, delay=reply.delay, drip=drip, fault=kind)
        return None
