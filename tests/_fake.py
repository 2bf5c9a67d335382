"""A tiny programmable Payment API double for client unit tests (MockTransport handler).

The sandbox is the faithful emulator; this double exists to script exact failure sequences
and to inspect every request the client sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from qvickly_async import AsyncQvickly

from ._support import signed_body

SECRET = "t0p-secret-key"
MERCHANT = "12345"

Reply = Callable[[dict[str, Any]], httpx.Response] | Exception


Handler = Callable[[dict[str, Any]], httpx.Response]


def respond(status: int = 200, content: bytes = b"", **headers: str) -> Handler:
    return lambda _: httpx.Response(status, content=content, headers=headers)


def ok(data: Any, *, secret: str = SECRET, logid: Any = 1) -> Handler:
    return respond(200, signed_body(data, secret=secret, logid=logid))


def bare_error(code: int, message: str = "error", logid: str = "99") -> Handler:
    body = json.dumps({"code": str(code), "message": message, "logid": logid}).encode()
    return respond(200, body)


class FakeQvickly:
    """Answers with scripted replies in order (the last one repeats) and records requests."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [ok([])]
        self.requests: list[dict[str, Any]] = []
        self.raw_requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.raw_requests.append(request)
        envelope = json.loads(request.content)
        self.requests.append(envelope)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply(envelope)

    @property
    def count(self) -> int:
        return len(self.requests)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def fake_client(fake: FakeQvickly, **kwargs: Any) -> AsyncQvickly:
    """A client of ``fake`` (in-process); ``kwargs`` override any constructor argument."""
    settings: dict[str, Any] = {
        "merchant_id": MERCHANT,
        "secret": SECRET,
        "transport": fake.transport(),
    }
    settings.update(kwargs)
    return AsyncQvickly(**settings)
