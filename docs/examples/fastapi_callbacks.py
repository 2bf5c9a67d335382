"""How-to: receive Qvickly's callbacks and redirects in FastAPI.

Run it with ``uvicorn --factory fastapi_callbacks:create_app`` (credentials in the
environment); point ``callbackurl`` at ``/qvickly/callback`` and ``accepturl`` and
``cancelurl`` at ``/qvickly/return``.
"""

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request

from qvickly_async import AsyncQvickly, InvoiceStatus, Payment, QvicklyError
from qvickly_async.callbacks import Callback, CallbackProcessor, parse_redirect
from qvickly_async.callbacks.starlette import callback_endpoint
from qvickly_async.exceptions import QvicklySignatureError

#: What the shop does once a payment is confirmed paid: ship, send a receipt, book it.
Fulfil = Callable[[Callback, Payment], Awaitable[None]]


async def mark_order_paid(callback: Callback, payment: Payment) -> None:
    """Stand-in for the shop's own code (it only prints here)."""
    print(f"order {callback.order_id}: payment {payment.number} is {payment.status}")


def create_app(
    make_client: Callable[[], AsyncQvickly] = AsyncQvickly.from_env,
    *,
    secret: str | None = None,
    fulfil: Fulfil = mark_order_paid,
) -> FastAPI:
    """Build the app; ``secret`` defaults to the ``QVICKLY_SECRET`` environment variable."""
    secret = secret or os.environ["QVICKLY_SECRET"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with make_client() as client:
            app.state.qvickly = client
            yield

    app = FastAPI(lifespan=lifespan)

    async def on_callback(callback: Callback) -> None:
        # Runs once per payment event, one payment number at a time. A callback is only a
        # notification: act on the payment as getPaymentinfo reports it now.
        client: AsyncQvickly = app.state.qvickly
        confirmation = await client.confirm_callback(callback, raise_on_mismatch=False)
        if confirmation.payment_status == InvoiceStatus.PAID:
            await fulfil(callback, confirmation.payment)  # if this raises: 503, Qvickly retries

    processor = CallbackProcessor(on_callback, secret=secret)
    app.add_api_route("/qvickly/callback", callback_endpoint(processor), methods=["POST"])

    @app.get("/qvickly/return")
    async def customer_returns(request: Request) -> dict[str, str]:
        # The accepturl/cancelurl redirect came through the customer's browser: verify it,
        # then show where the payment really stands.
        try:
            callback = parse_redirect(request.query_params, secret=secret)
        except QvicklySignatureError as error:
            raise HTTPException(403, "not signed by Qvickly") from error
        except QvicklyError as error:
            raise HTTPException(400, "not a Qvickly redirect") from error
        client: AsyncQvickly = request.app.state.qvickly
        confirmation = await client.confirm_callback(callback, raise_on_mismatch=False)
        return {"payment": callback.number, "status": str(confirmation.payment_status)}

    return app


def main() -> None:
    import uvicorn

    uvicorn.run(create_app, factory=True)


if __name__ == "__main__":
    main()
