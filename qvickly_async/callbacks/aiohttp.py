"""``aiohttp.web`` glue: a callback handler around a :class:`CallbackProcessor`.

::

    processor = CallbackProcessor(on_payment, secret=...)
    app.router.add_post("/qvickly/callback", callback_handler(processor))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ._processing import CallbackProcessor

__all__ = ["callback_handler"]


def callback_handler(
    processor: CallbackProcessor,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Return an ``aiohttp.web`` handler for Qvickly's callback POSTs.

    Same answers as :func:`qvickly_async.callbacks.starlette.callback_endpoint`: 200 after
    the handler returned (or for an event handled before), 503 when it failed, 403 for a
    bad signature, 400 for a malformed body, 413 for an oversized one; never a 500.
    """
    limit = processor.max_body_bytes

    async def qvickly_callback(request: web.Request) -> web.StreamResponse:
        declared = request.content_length
        if declared is not None and declared > limit:
            return web.Response(status=413, text="callback body too large")
        try:
            body = await request.content.read(limit + 1)
            while len(body) <= limit and not request.content.at_eof():
                more = await request.content.read(limit + 1 - len(body))
                if not more:
                    break
                body += more
        except Exception:  # a broken or cut body: never a 500
            return web.Response(status=400, text="body could not be read")
        if len(body) > limit:
            return web.Response(status=413, text="callback body too large")
        outcome = await processor.process(body, request.headers.get("Content-Type"))
        return web.Response(status=outcome.status_code, text=outcome.reason)

    return qvickly_callback
