"""Helpers shared by the robustness tests."""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import httpx

from qvickly_async.sandbox import FunctionCall, Sandbox

from .._support import read_request

#: A realistic addPayment ``data`` (personal data included).
PAYMENT: dict[str, Any] = {
    "PaymentData": {"method": "1", "currency": "SEK", "language": "sv", "country": "SE"},
    "PaymentInfo": {"paymentdate": "2024-06-01"},
    "Customer": {
        "nr": "10001",
        "pno": "195501011018",
        "Billing": {"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.se"},
    },
    "Articles": [{"artnr": "A1", "title": "Book", "quantity": "1", "aprice": "10000"}],
    "Cart": {"Total": {"withouttax": "10000", "tax": "2500", "withtax": "12500"}},
}


def register_add_payment(sandbox: Sandbox) -> list[str]:
    """Make the sandbox answer addPayment; returns the list of order ids it received."""
    received: list[str] = []

    def add_payment(call: FunctionCall) -> dict[str, str]:
        info = call.data.get("PaymentInfo") if isinstance(call.data, dict) else None
        orderid = str(info.get("orderid", "")) if isinstance(info, dict) else ""
        received.append(orderid)
        number = str(500000 + len(received))
        return {
            "number": number,
            "status": "Created",
            "orderid": orderid,
            "url": f"https://api.billmate.se/invoice/{number}",
        }

    sandbox.register_function("addPayment", add_payment)
    return received


def bound_unlistening_socket() -> socket.socket:
    """A loopback socket bound to a free port but not listening: connecting is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve_on_socket(sandbox: Sandbox, sock: socket.socket) -> asyncio.Server:
    """Serve ``sandbox`` on an already listening ``sock`` (one answer per connection)."""

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            _, body = await read_request(reader)
            reply = sandbox.handler(httpx.Request("POST", "http://sandbox/", content=body))
            headers = "".join(
                f"{name}: {value}\r\n"
                for name, value in reply.headers.items()
                if name not in ("content-length", "connection")
            )
            writer.write(
                f"HTTP/1.1 {reply.status_code} OK\r\n{headers}"
                f"Content-Length: {len(reply.content)}\r\nConnection: close\r\n\r\n".encode(
                    "latin-1"
                )
                + reply.content
            )
            await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(on_connection, sock=sock)


def report(text: str) -> None:
    """Print a figure of the run (visible with ``pytest -s`` or ``-rP``)."""
    sys.stdout.write(text + "\n")
