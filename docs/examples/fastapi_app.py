"""How-to: a production FastAPI app: one client, SDK errors as 502/503/504, logs with context,
a deadline per route and one retry budget for all requests.

Run it with ``uvicorn fastapi_app:app`` (credentials in the environment).
"""

import contextvars
import logging
import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from qvickly_async import (
    AsyncQvickly,
    QvicklyAccountFeatureError,
    QvicklyAPIError,
    QvicklyAuthenticationError,
    QvicklyConnectionError,
    QvicklyError,
    QvicklyInputError,
    QvicklyRateLimitError,
    QvicklyServerError,
    QvicklyTimeoutError,
    QvicklyTransientError,
    RetryBudget,
)

logger = logging.getLogger("shop.web")

#: The longest an invoice lookup may hold a request, retries and backoff included.
LOOKUP_DEADLINE = 8.0
#: Seconds a caller is asked to wait after a 503 when Qvickly did not say (Retry-After).
RETRY_AFTER = 5
#: Retries all requests together may spend: 10 plus 10 % of the calls. Without it, each
#: request retries on its own, and an outage multiplies the load on Qvickly by max_retries + 1.
RETRY_RATIO, RETRY_MINIMUM = 0.1, 10

# -- logging with context -------------------------------------------------------------------

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdRecords:
    """A log record factory that stamps every record with the id of the request being served.

    Records of every logger get it, the SDK's ``qvickly_async`` logger (retries, failures)
    included, so a retry warning names the request it slowed down.
    """

    def __init__(self, factory: Callable[..., logging.LogRecord]) -> None:
        self.factory = factory

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.factory(*args, **kwargs)
        record.request_id = request_id.get()
        return record


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr as ``time level logger [request id] message``; safe to call twice."""
    if not isinstance(logging.getLogRecordFactory(), RequestIdRecords):
        logging.setLogRecordFactory(RequestIdRecords(logging.getLogRecordFactory()))
    logging.basicConfig(  # does nothing when the server (or a test) configured logging already
        level=level, format="%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    )


# -- SDK errors as HTTP answers ---------------------------------------------------------------


def upstream_status(error: QvicklyError) -> tuple[int, dict[str, str]]:
    """The status (and headers) that tell a caller what a failed Qvickly call means."""
    if isinstance(error, QvicklyInputError):
        return 400, {}  # refused before sending: the caller's input
    if isinstance(error, QvicklyTimeoutError):
        return 504, {}  # the deadline (or a per-attempt timeout) ran out
    if isinstance(error, QvicklyRateLimitError):
        wait = RETRY_AFTER if error.retry_after is None else math.ceil(error.retry_after)
        return 503, {"Retry-After": str(wait)}
    if isinstance(error, QvicklyAuthenticationError | QvicklyAccountFeatureError):
        return 503, {}  # our credentials or account: the caller cannot fix it, nor retry it soon
    if isinstance(error, QvicklyConnectionError | QvicklyServerError | QvicklyTransientError):
        return 503, {"Retry-After": str(RETRY_AFTER)}  # Qvickly down or overloaded
    return 502, {}  # a refusal or an answer we cannot use (bad hash, unexpected data, ...)


async def qvickly_error_handler(request: Request, error: Exception) -> Response:
    """Answer 400/502/503/504 with a short JSON body, and log once what the operator needs."""
    assert isinstance(error, QvicklyError)
    status, headers = upstream_status(error)
    if isinstance(error, QvicklyAuthenticationError | QvicklyAccountFeatureError):
        # Every request fails until someone fixes the configuration: say so loudly.
        logger.error("Qvickly refused this merchant account, check the credentials: %s", error)
    elif status >= 500:
        logger.warning("Qvickly call failed (%d): %s: %s", status, type(error).__name__, error)
    body: dict[str, Any] = {
        "error": "bad_request" if status == 400 else "upstream_unavailable",
        "detail": str(error) if status == 400 else type(error).__name__,
        "logid": error.logid if isinstance(error, QvicklyAPIError) else None,
        "request_id": request_id.get(),
    }
    return JSONResponse(body, status_code=status, headers=headers)


# -- the app ------------------------------------------------------------------------------------


def get_client(request: Request) -> AsyncQvickly:
    """Dependency: the app's one client, created by the lifespan."""
    client: AsyncQvickly = request.app.state.qvickly
    return client


def get_lookup_client(request: Request) -> AsyncQvickly:
    """Dependency: the same client (same connections) with this route's deadline."""
    client: AsyncQvickly = request.app.state.lookups
    return client


Qvickly = Annotated[AsyncQvickly, Depends(get_client)]
LookupClient = Annotated[AsyncQvickly, Depends(get_lookup_client)]


def create_app(make_client: Callable[[], AsyncQvickly] = AsyncQvickly.from_env) -> FastAPI:
    """Build the app; ``make_client`` is called once, at startup, inside the event loop."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging()
        async with make_client() as client:  # closed (connections and all) at shutdown
            app.state.qvickly = client
            budget = RetryBudget(ratio=RETRY_RATIO, minimum=RETRY_MINIMUM)
            app.state.lookups = client.with_options(  # same connections, shared by all requests
                deadline=LOOKUP_DEADLINE, max_retries=2, retry_budget=budget
            )
            yield

    app = FastAPI(lifespan=lifespan)
    app.add_exception_handler(QvicklyError, qvickly_error_handler)

    @app.middleware("http")
    async def with_request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        token = request_id.set(request.headers.get("x-request-id") or uuid.uuid4().hex[:12])
        try:
            response = await call_next(request)
            response.headers["X-Request-ID"] = request_id.get()
            return response
        finally:
            request_id.reset(token)

    @app.get("/health")
    async def health(client: Qvickly) -> JSONResponse:
        try:
            await client.with_options(deadline=5.0).ping()  # a cheap authenticated read
        except QvicklyError as error:
            body = {"status": "unavailable", "error": type(error).__name__}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/customers/{customer}/invoices")
    async def invoices(customer: str, client: LookupClient) -> list[dict[str, Any]]:
        found = await client.get_invoices_by_customer(customer)  # errors: the handler above
        return [invoice.to_dict() for invoice in found]

    return app


app = create_app()


def main() -> None:
    import uvicorn

    uvicorn.run(app)


if __name__ == "__main__":
    main()
