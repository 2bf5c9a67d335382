"""The public exception tree of :mod:`qvickly_async`.

Every exception the SDK raises on purpose derives from :class:`QvicklyError`::

    QvicklyError
    ├── QvicklyInputError            bad input, refused before anything is sent
    ├── QvicklyTransportError        the exchange with the server did not complete
    │   ├── QvicklyConnectionError   connect/read/write failure, reset, protocol error
    │   └── QvicklyTimeoutError      a time limit ran out: one attempt's, or ...
    │       └── QvicklyDeadlineExceededError   ... the call's total deadline
    ├── QvicklyHTTPStatusError       a non-200 HTTP status (the API itself always answers 200)
    │   ├── QvicklyRateLimitError    429, with ``retry_after``
    │   └── QvicklyServerError       5xx
    ├── QvicklyResponseError         a 200 answer that cannot be trusted or understood
    │   ├── QvicklySignatureError    response hash missing or wrong
    │   └── QvicklyDecodeError       not JSON, wrong shape, or not structurable
    ├── QvicklyCallbackMismatchError a callback disagrees with getPaymentinfo
    └── QvicklyAPIError              the API answered with an error ``code``
        ├── QvicklyAuthenticationError
        ├── QvicklyAccountFeatureError   the merchant account lacks a feature or method
        ├── QvicklyValidationError
        ├── QvicklyNotFoundError
        ├── QvicklyStateError            business rule / state conflict
        └── QvicklyTransientError        a failure at Qvickly or a provider that may pass
                                         (retried only for 9008 on read-only calls)

A client that is configured wrongly (missing credentials, unsafe options) raises
:class:`QvicklyInputError` before anything is sent, never :class:`QvicklyAccountFeatureError`,
which reports what the server said about the merchant account.

Warnings: :class:`QvicklyPerformanceWarning` (a :class:`UserWarning`) when a setting makes
the client fall back to a slower path.

No exception message ever contains the merchant secret: messages are built only from
function names, codes, server messages and lengths, never from credentials.
"""

from __future__ import annotations

from typing import Any

from ._deprecation import deprecated_names

__all__ = [
    "QvicklyAPIError",
    "QvicklyAccountFeatureError",
    "QvicklyAuthenticationError",
    "QvicklyCallbackMismatchError",
    "QvicklyConnectionError",
    "QvicklyDeadlineExceededError",
    "QvicklyDecodeError",
    "QvicklyError",
    "QvicklyHTTPStatusError",
    "QvicklyInputError",
    "QvicklyNotFoundError",
    "QvicklyPerformanceWarning",
    "QvicklyRateLimitError",
    "QvicklyResponseError",
    "QvicklyServerError",
    "QvicklySignatureError",
    "QvicklyStateError",
    "QvicklyTimeoutError",
    "QvicklyTransientError",
    "QvicklyTransportError",
    "QvicklyValidationError",
]


class QvicklyError(Exception):
    """Base class of every error raised by :mod:`qvickly_async`.

    ``function`` is the Payment API function the error concerns, when there is one.
    """

    function: str | None

    def __init__(self, message: str, *, function: str | None = None) -> None:
        super().__init__(message)
        self.function = function

    @property
    def message(self) -> str:
        """The human-readable message (the first constructor argument)."""
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments defeat Exception's default pickling; rebuild
        # from args and attributes instead (errors cross process boundaries in worker pools).
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[QvicklyError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class QvicklyInputError(QvicklyError, ValueError):
    """Input was refused before any request was sent.

    Raised for blank or non-string customer numbers, text the API cannot carry (outside
    ISO-8859-1), values PHP cannot represent (NaN, integers beyond 64 bits), missing
    credentials and unsafe client configuration.
    """


class QvicklyTransportError(QvicklyError):
    """The HTTP exchange did not complete.

    ``request_sent`` is ``False`` only when the request provably never left this process
    (for example the TCP connection could not be opened); otherwise the server may have
    received and acted on it, which matters for state-changing functions.
    """

    request_sent: bool

    def __init__(self, message: str, *, function: str | None = None, request_sent: bool) -> None:
        super().__init__(message, function=function)
        self.request_sent = request_sent


class QvicklyConnectionError(QvicklyTransportError):
    """Connecting, writing or reading failed (refused, reset, closed early, protocol error)."""


class QvicklyTimeoutError(QvicklyTransportError):
    """A time limit ran out: one attempt's timeout, or the call's total deadline.

    Raised as this class when one attempt's connect, write, read or pool timeout expires
    (the attempt may then be retried); raised as the subclass
    :class:`QvicklyDeadlineExceededError` when the deadline across all attempts ran out.
    ``except QvicklyTimeoutError`` catches both.
    """


class QvicklyDeadlineExceededError(QvicklyTimeoutError):
    """The call's total deadline across all attempts and backoff sleeps ran out.

    Never retried. A subclass of :class:`QvicklyTimeoutError`, which also covers the timeout
    of a single attempt.
    """


class QvicklyHTTPStatusError(QvicklyError):
    """The server answered with an HTTP status other than 200.

    The Payment API itself always answers ``200 OK``; other statuses come from proxies,
    load balancers or an outage. ``body_excerpt`` holds at most the first 200 characters.
    """

    status_code: int
    body_excerpt: str

    def __init__(
        self, message: str, *, function: str | None = None, status_code: int, body_excerpt: str = ""
    ) -> None:
        super().__init__(message, function=function)
        self.status_code = status_code
        self.body_excerpt = body_excerpt


class QvicklyRateLimitError(QvicklyHTTPStatusError):
    """HTTP 429. ``retry_after`` is the server's Retry-After in seconds, if it sent one."""

    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        function: str | None = None,
        status_code: int = 429,
        body_excerpt: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, function=function, status_code=status_code, body_excerpt=body_excerpt
        )
        self.retry_after = retry_after


class QvicklyServerError(QvicklyHTTPStatusError):
    """HTTP 5xx from the server or something in front of it."""


class QvicklyResponseError(QvicklyError):
    """A ``200 OK`` answer that cannot be trusted or understood.

    ``transient`` is ``True`` when the body looks damaged on the way (not JSON, cut short,
    hash mismatch): repeating a read-only call may then succeed.
    """

    transient: bool

    def __init__(self, message: str, *, function: str | None = None, transient: bool = False):
        super().__init__(message, function=function)
        self.transient = transient


class QvicklySignatureError(QvicklyResponseError):
    """The response's ``credentials.hash`` is missing or does not match its ``data``.

    The data of such a response is never returned (Qvickly's client-side code 9511).
    """


class QvicklyDecodeError(QvicklyResponseError):
    """The response is not JSON, has an unexpected shape, or a field could not be decoded.

    ``path`` names the offending place when known, for example
    ``invoices[3].PaymentData.currency``.
    """

    path: str | None

    def __init__(
        self,
        message: str,
        *,
        function: str | None = None,
        path: str | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message, function=function, transient=transient)
        self.path = path


class QvicklyAPIError(QvicklyError):
    """The Payment API answered with an error code.

    Attributes mirror the wire: ``code`` (always an ``int``), ``message`` (in the language
    the account or request selected: never match on it), ``logid`` (the server's log
    reference, quote it to Qvickly support) and ``function``.
    """

    code: int
    api_message: str
    logid: str | None

    def __init__(
        self,
        message: str,
        *,
        code: int,
        logid: str | None = None,
        function: str | None = None,
    ) -> None:
        text = f"{function or 'request'} failed with Qvickly error {code}: {message}"
        if logid:
            text += f" (logid {logid})"
        super().__init__(text, function=function)
        self.code = code
        self.api_message = message
        self.logid = logid

    @property
    def message(self) -> str:
        """The server's own message text."""
        return self.api_message


class QvicklyAuthenticationError(QvicklyAPIError):
    """Credentials were refused (for example 9010, 9011, 9013): never retried."""


class QvicklyAccountFeatureError(QvicklyAPIError):
    """The merchant account lacks the feature, payment method or mode used (5001-5006, 6036, ...).

    The server's answer about the account (for example "Factoring not activated for this
    account"): ask Qvickly to enable it. Formerly ``QvicklyConfigurationError``, a name kept
    as a deprecated alias for one release. A wrongly configured *client* raises
    :class:`QvicklyInputError` instead.
    """


class QvicklyValidationError(QvicklyAPIError):
    """The server rejected the request's data (2xxx, 7020, 9102-9114, ...)."""


class QvicklyNotFoundError(QvicklyAPIError):
    """The object or function does not exist (5201, 8010, 9001, ...)."""


class QvicklyStateError(QvicklyAPIError):
    """A business rule or state conflict (5202, 5220, ...).

    After an ambiguous failure of a state-changing call, such a code on the repeated call
    often means the first attempt succeeded: reconcile with ``getPaymentinfo``.
    """


class QvicklyTransientError(QvicklyAPIError):
    """A failure at Qvickly or a payment provider that may pass (9008, card and Swish errors).

    Transient means the cause may go away, not that the SDK retries it: only code 9008
    ("Internal server error. Please try again!") is retried automatically, and only for
    read-only functions. The other codes answer state-changing calls (refunds, card debits,
    Swish) whose outcome must be reconciled before trying again.
    """


class QvicklyCallbackMismatchError(QvicklyError):
    """A callback or redirect disagrees with the payment as getPaymentinfo reports it.

    Raised by :meth:`~qvickly_async.AsyncQvickly.confirm_callback`. Callbacks are repeated
    for days, so an old one can arrive after the payment moved on (``created`` when the
    payment is already ``Paid``). Attributes: ``number`` (the payment the callback named),
    ``callback_status`` (what the callback claimed) and ``payment_status`` (the payment's
    status according to getPaymentinfo now: the server's word).
    """

    number: str
    callback_status: str
    payment_status: str

    def __init__(
        self, message: str, *, number: str, callback_status: str, payment_status: str
    ) -> None:
        super().__init__(message, function="getPaymentinfo")
        self.number = number
        self.callback_status = callback_status
        self.payment_status = payment_status


class QvicklyPerformanceWarning(UserWarning):
    """The client fell back to a slower path than its default, and why.

    Emitted when a proxy configured in the environment (``HTTP_PROXY``, ``HTTPS_PROXY``,
    ``ALL_PROXY``) makes the client send through httpx's own connection pool, which costs
    more CPU per request as the pool grows; batches then default to 16 lookups in flight.
    Silence it with ``warnings.filterwarnings("ignore", category=QvicklyPerformanceWarning)``.
    """


__getattr__ = deprecated_names(__name__)
