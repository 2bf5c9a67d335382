"""Starlette and FastAPI glue: a callback endpoint around a :class:`CallbackProcessor`.

Needs the ``starlette`` extra (FastAPI brings Starlette along)::

    processor = CallbackProcessor(on_payment, secret=...)
    endpoint = callback_endpoint(processor)
    app.add_api_route("/qvickly/callback", endpoint, methods=["POST"])  # FastAPI
    Route("/qvickly/callback", endpoint, methods=["POST"])              # Starlette
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

from ._processing import CallbackOutcome, CallbackProcessor

__all__ = ["callback_endpoint"]


class _TooLargeError(Exception):
    pass


async def _read_body(request: Request, max_bytes: int) -> bytes:
    """Read the request body, refusing more than ``max_bytes`` without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _TooLargeError
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _TooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


def _response(outcome: CallbackOutcome) -> Response:
    return PlainTextResponse(outcome.reason, status_code=outcome.status_code)


def callback_endpoint(processor: CallbackProcessor) -> Callable[[Request], Awaitable[Response]]:
    """Return an endpoint (``async (request) -> Response``) for Qvickly's callback POSTs.

    It answers 200 only after the handler returned (or for an event handled before), 503
    when the handler failed (Qvickly retries), 403 for a bad signature, 400 for a malformed
    body, 413 for an oversized one. It never lets an exception become a 500.
    """

    async def qvickly_callback(request: Request) -> Response:
        try:
            body = await _read_body(request, processor.max_body_bytes)
        except _TooLargeError:
            return PlainTextResponse("callback body too large", status_code=413)
        except (ClientDisconnect, OSError, RuntimeError):
            return PlainTextResponse("client disconnected", status_code=400)
        outcome = await processor.process(body, request.headers.get("content-type"))
        return _response(outcome)

    return qvickly_callback
