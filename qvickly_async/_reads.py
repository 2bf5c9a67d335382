"""The typed reads beyond invoices by customer, and their batch forms, as a client mixin.

:class:`AsyncQvickly` inherits them. Each coroutine checks its arguments (raising
:class:`~qvickly_async.exceptions.QvicklyInputError` before anything is sent), calls the
function through the client's one pipeline (signing, retries of reads, deadline, logging)
and decodes the verified answer with the one converter.
"""

from __future__ import annotations

import decimal
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ._batch import (
    BatchProgress,
    LookupResult,
    ResultStream,
    batch_concurrency,
    make_limiter,
    unexpected_error,
)
from ._codec import structure_invoices
from ._logging import mask_customer_number
from ._options import NOT_GIVEN, NotGiven
from ._read_codec import (
    structure_account_info,
    structure_address,
    structure_checkout,
    structure_payment,
    structure_payment_plans,
)
from ._read_inputs import (
    check_checkout_hash,
    check_country,
    check_currency,
    check_language,
    check_payment_number,
    check_pno,
    check_pno_statuses,
    check_total,
)
from ._retry import RetryBudget
from .exceptions import QvicklyError, QvicklyInputError

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

    from ._options import ClientOptions
    from ._read_models import AccountInfo, Checkout, Payment, PaymentPlan
    from ._transport import HTTPTransport
    from .models import Address, Invoice

__all__ = ["TypedReads"]

V = TypeVar("V")

# The Payment API function behind each keyed fetch, for errors that are not QvicklyErrors.
_FUNCTION_OF_FETCH = {
    "_payment": "getPaymentinfo",
    "_invoices_by_pno": "getInvoicesByPno",
    "_address": "getAddress",
    "_checkout": "getCheckout",
}
_Fetch = Callable[[str, "RetryBudget | None", "AsyncLimiter | None"], Awaitable[V]]


class TypedReads:
    """Typed read-only calls: payments, invoices by personal number, account, plans."""

    if TYPE_CHECKING:
        _options: ClientOptions
        _transport: HTTPTransport

        async def _call(
            self,
            function: str,
            data: Mapping[str, Any],
            *,
            log_key: str | None,
            budget: RetryBudget | None = None,
            limiter: AsyncLimiter | None = None,
        ) -> Any: ...

    # -- single reads ------------------------------------------------------------------------

    async def get_payment_info(self, number: str | int) -> Payment:
        """Return payment ``number`` (getPaymentinfo) as a typed :class:`~qvickly_async.Payment`.

        An invoice's number (``Invoice.number``) gives its payment. The answer keeps every
        block the server sent (PaymentData, PaymentInfo, Card, Settlement, Customer,
        Articles, Cart) and every unknown key; with the client option ``keep_raw`` also the
        decoded answer, in ``Payment.raw``.

        Raises:
            QvicklyInputError: ``number`` is not digits (or a positive int), before sending.
            QvicklyNotFoundError: no such payment (5201).
            QvicklyError: any other subclass, after safe retries ran out.
        """
        return await self._payment(check_payment_number(number), None, None)

    async def _payment(
        self,
        number: str,
        budget: RetryBudget | None,
        limiter: AsyncLimiter | None,
    ) -> Payment:
        data = await self._call(
            "getPaymentinfo", {"number": number}, log_key=number, budget=budget, limiter=limiter
        )
        return structure_payment(data, number, keep_raw=self._options.keep_raw)

    async def get_invoices_by_pno(
        self, pno: str, *, statuses: str | Iterable[str] = ("Sent",)
    ) -> list[Invoice]:
        """Return the invoices of a personal or organisation number (getInvoicesByPno).

        Args:
            pno: ``YYMMDD-NNNN``, ``YYYYMMDDNNNN`` or an organisation number.
            statuses: ``("Sent",)`` (distributor status Created or Sent) or
                ``("Sent", "Paid")`` (also Paid, and Cancelled invoices); also as text
                ``"Sent"`` / ``"Sent,Paid"``. Nothing else is accepted by the API.

        Rows may arrive flat or nested; both become :class:`~qvickly_async.Invoice`
        (the client option ``keep_raw`` fills ``Invoice.raw`` with each row as sent).

        Raises:
            QvicklyInputError: a malformed ``pno`` or another status filter, before sending.
        """
        filter_text = check_pno_statuses(statuses)
        return await self._invoices_by_pno(check_pno(pno), filter_text, None, None)

    async def _invoices_by_pno(
        self,
        pno: str,
        statuses: str,
        budget: RetryBudget | None,
        limiter: AsyncLimiter | None,
    ) -> list[Invoice]:
        data = await self._call(
            "getInvoicesByPno",
            {"pno": pno, "status": statuses},
            log_key=mask_customer_number(pno),
            budget=budget,
            limiter=limiter,
        )
        return structure_invoices(
            data, function="getInvoicesByPno", keep_raw=self._options.keep_raw
        )

    async def get_account_info(self) -> AccountInfo:
        """Return the merchant account's details and payment options (getAccountinfo).

        With the client option ``keep_raw`` the decoded answer is kept in ``AccountInfo.raw``.
        """
        data = await self._call("getAccountinfo", {}, log_key=None)
        return structure_account_info(data, keep_raw=self._options.keep_raw)

    async def get_address(self, pno: str, *, country: str = "SE") -> Address:
        """Return the registered address of a personal or organisation number (getAddress).

        Raises:
            QvicklyInputError: a malformed ``pno`` or ``country``, before sending.
            QvicklyNotFoundError: the number is not known (8010-8012).
        """
        return await self._address(check_pno(pno), check_country(country), None, None)

    async def _address(
        self,
        pno: str,
        country: str,
        budget: RetryBudget | None,
        limiter: AsyncLimiter | None,
    ) -> Address:
        data = await self._call(
            "getAddress",
            {"pno": pno, "country": country},
            log_key=mask_customer_number(pno),
            budget=budget,
            limiter=limiter,
        )
        return structure_address(data)

    async def get_payment_plans(
        self,
        *,
        currency: str = "SEK",
        country: str = "SE",
        language: str = "sv",
        total_with_tax: decimal.Decimal | int | None = None,
    ) -> list[PaymentPlan]:
        """Return the part payment plans on offer (getPaymentplans).

        Args:
            currency: ISO 4217 code; Qvickly offers plans in SEK only (6012 otherwise).
            country: ISO 3166-1 alpha-2 code.
            language: ``sv``, ``da``, ``no`` or ``en``.
            total_with_tax: The purchase amount in currency units (``Decimal``, at most two
                decimals); plans then show its monthly cost.

        Raises:
            QvicklyInputError: a malformed argument (a float amount too), before sending.
            QvicklyNotFoundError: no plans (5301).
        """
        payment_data = {
            "currency": check_currency(currency),
            "country": check_country(country),
            "language": check_language(language),
        }
        if total_with_tax is not None:
            payment_data["totalwithtax"] = check_total(total_with_tax)
        data = await self._call("getPaymentplans", {"PaymentData": payment_data}, log_key=None)
        return structure_payment_plans(data)

    async def get_checkout(self, hash_or_url: str) -> Checkout:
        """Return a checkout (getCheckout) by its hash or by the URL initCheckout returned.

        The hash is the last path segment of the checkout URL. With the client option
        ``keep_raw`` the decoded answer is kept in ``Checkout.raw``.

        Raises:
            QvicklyInputError: neither a hash nor an http(s) URL ending in one, before sending.
            QvicklyNotFoundError: no such checkout (50012).
        """
        return await self._checkout(check_checkout_hash(hash_or_url), None, None)

    async def _checkout(
        self,
        checkout_hash: str,
        budget: RetryBudget | None,
        limiter: AsyncLimiter | None,
    ) -> Checkout:
        data = await self._call(
            "getCheckout",
            {"PaymentData": {"hash": checkout_hash}},
            log_key=None,
            budget=budget,
            limiter=limiter,
        )
        return structure_checkout(data, checkout_hash, keep_raw=self._options.keep_raw)

    # -- batch forms --------------------------------------------------------------------------

    async def get_payment_infos(
        self,
        numbers: Iterable[str | int],
        *,
        concurrency: int | None = None,
        rate_limit: float | None = None,
        fail_fast: bool = False,
        on_progress: Callable[[BatchProgress], None] | None = None,
        retry_budget: RetryBudget | NotGiven | None = NOT_GIVEN,
    ) -> list[LookupResult[Payment]]:
        """Look up many payments concurrently; one result per distinct number, input order.

        Works like :meth:`get_invoices_by_customers` (same concurrency, rate limit, retry
        budget, ``fail_fast`` and progress); each :class:`~qvickly_async.LookupResult` holds
        a :class:`~qvickly_async.Payment` or the typed error of its lookup. Every number is
        checked before anything is sent.
        """
        keys = _checked_keys(numbers, check_payment_number, "payment numbers")
        return await self._collect(
            keys, self._payment, concurrency, rate_limit, fail_fast, on_progress, retry_budget
        )

    def iter_payment_infos(
        self,
        numbers: Iterable[str | int],
        *,
        concurrency: int | None = None,
        rate_limit: float | None = None,
        fail_fast: bool = False,
        on_progress: Callable[[BatchProgress], None] | None = None,
        retry_budget: RetryBudget | NotGiven | None = NOT_GIVEN,
        total: int | None = None,
    ) -> ResultStream[LookupResult[Payment]]:
        """Stream payment lookups as they complete, like :meth:`iter_invoices_by_customers`.

        The input is consumed lazily; an invalid number yields a result carrying a
        :class:`~qvickly_async.exceptions.QvicklyInputError` (nothing is sent for it).
        """
        return self._stream(
            (_key_text(number) for number in numbers),
            check_payment_number,
            self._payment,
            concurrency,
            rate_limit,
            fail_fast,
            on_progress,
            retry_budget,
            total if total is not None else _distinct(numbers),
        )

    async def get_invoices_by_pnos(
        self,
        pnos: Iterable[str],
        *,
        statuses: str | Iterable[str] = ("Sent",),
        concurrency: int | None = None,
        rate_limit: float | None = None,
        fail_fast: bool = False,
        on_progress: Callable[[BatchProgress], None] | None = None,
        retry_budget: RetryBudget | NotGiven | None = NOT_GIVEN,
    ) -> list[LookupResult[tuple[Invoice, ...]]]:
        """Look up the invoices of many personal numbers concurrently (getInvoicesByPno).

        One :class:`~qvickly_async.LookupResult` per distinct number, in input order, with a
        tuple of invoices; batch options as for :meth:`get_payment_infos`.
        """
        filter_text = check_pno_statuses(statuses)
        keys = _checked_keys(pnos, check_pno, "personal numbers")

        async def fetch(
            pno: str, budget: RetryBudget | None, limiter: AsyncLimiter | None
        ) -> tuple[Invoice, ...]:
            return tuple(await self._invoices_by_pno(pno, filter_text, budget, limiter))

        return await self._collect(
            keys, fetch, concurrency, rate_limit, fail_fast, on_progress, retry_budget
        )

    async def get_addresses(
        self,
        pnos: Iterable[str],
        *,
        country: str = "SE",
        concurrency: int | None = None,
        rate_limit: float | None = None,
        fail_fast: bool = False,
        on_progress: Callable[[BatchProgress], None] | None = None,
        retry_budget: RetryBudget | NotGiven | None = NOT_GIVEN,
    ) -> list[LookupResult[Address]]:
        """Look up the addresses of many personal numbers concurrently (getAddress).

        Batch options as for :meth:`get_payment_infos`.
        """
        land = check_country(country)
        keys = _checked_keys(pnos, check_pno, "personal numbers")

        async def fetch(
            pno: str, budget: RetryBudget | None, limiter: AsyncLimiter | None
        ) -> Address:
            return await self._address(pno, land, budget, limiter)

        return await self._collect(
            keys, fetch, concurrency, rate_limit, fail_fast, on_progress, retry_budget
        )

    async def get_checkouts(
        self,
        hashes_or_urls: Iterable[str],
        *,
        concurrency: int | None = None,
        rate_limit: float | None = None,
        fail_fast: bool = False,
        on_progress: Callable[[BatchProgress], None] | None = None,
        retry_budget: RetryBudget | NotGiven | None = NOT_GIVEN,
    ) -> list[LookupResult[Checkout]]:
        """Look up many checkouts concurrently (getCheckout); keys are the hashes.

        Batch options as for :meth:`get_payment_infos`.
        """
        keys = _checked_keys(hashes_or_urls, check_checkout_hash, "checkout hashes")
        return await self._collect(
            keys, self._checkout, concurrency, rate_limit, fail_fast, on_progress, retry_budget
        )

    # -- the shared batch machinery ---------------------------------------------------------

    def _stream(
        self,
        keys: Iterable[str],
        check: Callable[[object], str],
        fetch: _Fetch[V],
        concurrency: int | None,
        rate_limit: float | None,
        fail_fast: bool,
        on_progress: Callable[[BatchProgress], None] | None,
        retry_budget: RetryBudget | NotGiven | None,
        total: int | None,
    ) -> ResultStream[LookupResult[V]]:
        workers = batch_concurrency(concurrency, self._transport.pool_size)
        budget = RetryBudget() if retry_budget is NOT_GIVEN else retry_budget
        limiter = make_limiter(rate_limit)

        async def lookup(key: str) -> LookupResult[V]:
            try:
                value = await fetch(check(key), budget, limiter)
            except QvicklyError as error:
                return LookupResult(key, None, error)
            except Exception as error:  # no exception of one lookup ends a batch
                function = _FUNCTION_OF_FETCH.get(getattr(fetch, "__name__", ""), "lookup")
                return LookupResult(key, None, unexpected_error(error, function))
            return LookupResult(key, value)

        return ResultStream(
            keys,
            lookup,
            concurrency=workers,
            fail_fast=fail_fast,
            on_progress=on_progress,
            total=total,
        )

    async def _collect(
        self,
        keys: list[str],
        fetch: _Fetch[V],
        concurrency: int | None,
        rate_limit: float | None,
        fail_fast: bool,
        on_progress: Callable[[BatchProgress], None] | None,
        retry_budget: RetryBudget | NotGiven | None,
    ) -> list[LookupResult[V]]:
        results: dict[str, LookupResult[V]] = {}
        stream = self._stream(
            keys,
            _as_text,
            fetch,
            concurrency,
            rate_limit,
            fail_fast,
            on_progress,
            retry_budget,
            len(keys),
        )
        async with stream:
            async for result in stream:
                results[result.key] = result
        return [results[key] for key in keys]


def _as_text(key: object) -> str:
    assert isinstance(key, str)
    return key


def _key_text(key: object) -> str:
    # Ints are keyed by their digits; anything else is checked (and refused) per result.
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    return key if isinstance(key, str) else repr(key)


def _distinct(keys: Iterable[object]) -> int | None:
    return len({_key_text(key) for key in keys}) if isinstance(keys, Sequence) else None


def _checked_keys(keys: Iterable[Any], check: Callable[[object], str], what: str) -> list[str]:
    """Check every key before anything is sent; return the distinct wire keys in order."""
    checked: list[str] = []
    problems: list[str] = []
    for key in keys:
        try:
            checked.append(check(key))
        except QvicklyInputError as error:
            # Masked like in logs: a key may be a personal number.
            problems.append(f"{mask_customer_number(str(key))!r}: {error}")
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise QvicklyInputError(f"invalid {what}, nothing was sent: {shown}{more}")
    return list(dict.fromkeys(checked))
