"""The Starlette, FastAPI and aiohttp.web glue, each under a real server on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Route

from qvickly_async.callbacks import Callback, CallbackProcessor
from qvickly_async.callbacks.aiohttp import callback_handler
from qvickly_async.callbacks.starlette import callback_endpoint
from qvickly_async.sandbox import callback_body, callback_data, redirect_form

from ._servers import aiohttp_server, uvicorn_server

pytestmark = [pytest.mark.anyio, pytest.mark.socket]

SECRET = "web-secret"
LIMIT = 4096


def starlette_app(processor: CallbackProcessor) -> Any:
    endpoint = callback_endpoint(processor)
    return Starlette(routes=[Route("/qvickly/callback", endpoint, methods=["POST"])])


def fastapi_app(processor: CallbackProcessor) -> Any:
    app = FastAPI()
    app.add_api_route("/qvickly/callback", callback_endpoint(processor), methods=["POST"])
    return app


@contextlib.asynccontextmanager
async def serve_starlette(processor: CallbackProcessor) -> AsyncIterator[str]:
    async with uvicorn_server(starlette_app(processor)) as url:
        yield url


@contextlib.asynccontextmanager
async def serve_fastapi(processor: CallbackProcessor) -> AsyncIterator[str]:
    async with uvicorn_server(fastapi_app(processor)) as url:
        yield url


@contextlib.asynccontextmanager
async def serve_aiohttp(processor: CallbackProcessor) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/qvickly/callback", callback_handler(processor))
    async with aiohttp_server(app) as url:
        yield url


SERVERS = {"starlette": serve_starlette, "fastapi": serve_fastapi, "aiohttp": serve_aiohttp}
Serve = Callable[[CallbackProcessor], contextlib.AbstractAsyncContextManager[str]]


@pytest.fixture(params=sorted(SERVERS))
def serve(request: pytest.FixtureRequest) -> Serve:
    return SERVERS[request.param]


def signed(number: str, status: str = "paid") -> bytes:
    return callback_body(callback_data(number, status), secret=SECRET)


async def test_answers_follow_the_handler_and_the_signature(serve: Serve) -> None:
    handled: list[str] = []

    async def handler(callback: Callback) -> None:
        if callback.number == "13":
            raise ValueError("unlucky number")
        handled.append(callback.dedupe_key)

    processor = CallbackProcessor(handler, secret=SECRET, max_body_bytes=LIMIT)
    async with serve(processor) as base, httpx.AsyncClient(base_url=base) as http:
        url = "/qvickly/callback"
        json_headers = {"Content-Type": "application/json"}
        ok = await http.post(url, content=signed("1"), headers=json_headers)
        repeat = await http.post(url, content=signed("1"), headers=json_headers)
        form = await http.post(
            url,
            content=redirect_form(callback_data("2", "paid"), secret=SECRET),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        failing = await http.post(url, content=signed("13"), headers=json_headers)
        forged = await http.post(
            url,
            content=callback_body(callback_data("3", "paid"), secret="guess"),
            headers=json_headers,
        )
        tampered = await http.post(url, content=signed("4").replace(b'"4"', b'"5"'))
        malformed = await http.post(url, content=b"{oops", headers=json_headers)
        empty = await http.post(url, content=b"")
        declared_big = await http.post(url, content=b"x" * (LIMIT + 1))

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(LIMIT // 100 + 2):
                yield b"y" * 100

        streamed_big = await http.post(url, content=chunks())
        wrong_method = await http.get(url)
    assert (ok.status_code, ok.text) == (200, "ok")
    assert (repeat.status_code, repeat.text) == (200, "already handled")
    assert form.status_code == 200
    assert (failing.status_code, failing.text) == (503, "handler failed")
    assert "Traceback" not in failing.text and "unlucky" not in failing.text
    assert forged.status_code == 403 and tampered.status_code == 403
    assert malformed.status_code == 400 and empty.status_code == 400
    assert declared_big.status_code == 413 and streamed_big.status_code == 413
    assert wrong_method.status_code == 405
    assert handled == ["1:paid", "2:paid"]
    for response in (ok, failing, forged, malformed, declared_big):
        assert SECRET not in response.text


async def test_a_failed_callback_is_handled_when_it_comes_again(serve: Serve) -> None:
    attempts = 0

    async def handler(callback: Callback) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("first try fails")

    processor = CallbackProcessor(handler, secret=SECRET)
    async with serve(processor) as base, httpx.AsyncClient(base_url=base) as http:
        statuses = [
            (await http.post("/qvickly/callback", content=signed("20"))).status_code
            for _ in range(3)
        ]
    assert statuses == [503, 200, 200]
    assert attempts == 2
