"""How-to: receive Qvickly's callbacks and redirects in an aiohttp.web app.

Run it with ``python aiohttp_callbacks.py`` (credentials in the environment); point
``callbackurl`` at ``/qvickly/callback`` and ``accepturl``/``cancelurl`` at ``/qvickly/return``.
"""

import os
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from qvickly_async import AsyncQvickly, InvoiceStatus, Payment, QvicklyError
from qvickly_async.callbacks import Callback, CallbackProcessor, parse_redirect
from qvickly_async.callbacks.aiohttp import callback_handler
from qvickly_async.exceptions import QvicklySignatureError

Fulfil = Callable[[Callback, Payment], Awaitable[None]]
QVICKLY = web.AppKey("qvickly", AsyncQvickly)


async def mark_order_paid(callback: Callback, payment: Payment) -> None:
    """Stand-in for the shop's own code (it only prints here)."""
    print(f"order {callback.order_id}: payment {payment.number} is {payment.status}")


def create_app(
    make_client: Callable[[], AsyncQvickly] = AsyncQvickly.from_env,
    *,
    secret: str | None = None,
    fulfil: Fulfil = mark_order_paid,
) -> web.Application:
    """Build the app; ``secret`` defaults to the ``QVICKLY_SECRET`` environment variable."""
    secret = secret or os.environ["QVICKLY_SECRET"]
    app = web.Application()

    async def qvickly_client(app: web.Application) -> AsyncIterator[None]:
        async with make_client() as client:  # one client, closed when the app stops
            app[QVICKLY] = client
            yield

    app.cleanup_ctx.append(qvickly_client)

    async def on_callback(callback: Callback) -> None:
        confirmation = await app[QVICKLY].confirm_callback(callback, raise_on_mismatch=False)
        if confirmation.payment_status == InvoiceStatus.PAID:
            await fulfil(callback, confirmation.payment)  # if this raises: 503, Qvickly retries

    processor = CallbackProcessor(on_callback, secret=secret)
    app.router.add_post("/qvickly/callback", callback_handler(processor))

    async def customer_returns(request: web.Request) -> web.Response:
        try:
            callback = parse_redirect(request.query, secret=secret)
        except QvicklySignatureError:
            return web.Response(status=403, text="not signed by Qvickly")
        except QvicklyError:
            return web.Response(status=400, text="not a Qvickly redirect")
        confirmation = await app[QVICKLY].confirm_callback(callback, raise_on_mismatch=False)
        status = str(confirmation.payment_status)
        return web.json_response({"payment": callback.number, "status": status})

    app.router.add_get("/qvickly/return", customer_returns)
    return app


def main() -> None:
    web.run_app(create_app(), host="127.0.0.1", port=8080)


if __name__ == "__main__":
    main()
