"""Plain http only to loopback, TLS verified by default, redirects never followed.

``tests/test_batch_transport.py`` already covers: a default client refusing an unknown CA, the
CA given through ``http_client=httpx.AsyncClient(verify=ctx)`` and through ``SSL_CERT_FILE``,
and a 302 answer to ``addPayment``. This module covers the rest: the http rule through the
public constructor, ``with_options`` and ``from_env`` (with hostile URL spellings); a wrong CA,
a certificate for another host and an expired one (each refused before anything is sent, even
for a retried read); every redirect status on reads and writes, with a second server proving
the ``Location`` is never contacted.
"""

from __future__ import annotations

import contextlib
import datetime
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from qvickly_async import (
    AsyncQvickly,
    QvicklyConnectionError,
    QvicklyHTTPStatusError,
    QvicklyInputError,
)
from qvickly_async.sandbox import Sandbox

from .._support import make_client, trust_through_ssl_cert_file
from ._hostile import PAYMENT, Loopback, tls_front

# -- plain http ------------------------------------------------------------------------------

REFUSED_HTTP = [
    "http://api.qvickly.io/",
    "HTTP://API.QVICKLY.IO/",
    "http://127.0.0.1.evil.example/",
    "http://localhost.evil.example/",
    "http://127.0.0.1@evil.example/",
    "http://evil.example#@127.0.0.1/",
    "http://0.0.0.0/",
    "http://2130706433/",  # 127.0.0.1 as one number: not an address Python's check accepts
    "http://10.0.0.1:8080/",
    "http://[::ffff:10.0.0.1]/",
]
LOOPBACK_HTTP = [
    "http://127.0.0.1:8080/",
    "http://127.1.2.3/",
    "http://localhost/",
    "http://[::1]:8080/",
    # IPv4-mapped loopback connects to 127.0.0.1: loopback on every Python (3.13 says so
    # itself; the SDK unwraps the mapping so 3.11 and 3.12 agree).
    "http://[::ffff:127.0.0.1]/",
]


@pytest.mark.parametrize("url", REFUSED_HTTP)
def test_plain_http_to_other_hosts_is_refused(url: str) -> None:
    with pytest.raises(QvicklyInputError, match="plain http://"):
        AsyncQvickly(merchant_id="1", secret="s", base_url=url)
    # ... unless explicitly allowed (then it is the caller's decision).
    allowed = AsyncQvickly(merchant_id="1", secret="s", base_url=url, allow_insecure_http=True)
    assert allowed.options.base_url == url
    # Taking the permission back on a derived client is refused too.
    with pytest.raises(QvicklyInputError, match="plain http://"):
        allowed.with_options(allow_insecure_http=False)


@pytest.mark.parametrize("url", LOOPBACK_HTTP)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    client = AsyncQvickly(merchant_id="1", secret="s", base_url=url)
    assert client.with_options(max_retries=0).options.base_url == url


def test_with_options_cannot_move_the_client_to_another_url() -> None:
    client = AsyncQvickly(merchant_id="1", secret="s")
    with pytest.raises(QvicklyInputError, match="base_url"):
        client.with_options(base_url="http://api.qvickly.io/")  # type: ignore[call-arg]
    with pytest.raises(QvicklyInputError, match="http_client"):
        client.with_options(http_client=httpx.AsyncClient())  # type: ignore[call-arg]


def test_from_env_applies_the_same_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QVICKLY_MERCHANT_ID", "1")
    monkeypatch.setenv("QVICKLY_SECRET", "s")
    monkeypatch.setenv("QVICKLY_BASE_URL", "http://api.qvickly.io/")
    with pytest.raises(QvicklyInputError, match="plain http://"):
        AsyncQvickly.from_env()


@pytest.mark.parametrize("url", ["ftp://api.qvickly.io/", "file:///etc/passwd", "api.qvickly.io"])
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(QvicklyInputError, match="http"):
        AsyncQvickly(merchant_id="1", secret="s", base_url=url, allow_insecure_http=True)


# -- TLS -------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def tls_sandbox(sandbox: Sandbox, cert: trustme.LeafCert) -> AsyncIterator[str]:
    """The sandbox behind a TLS terminator on loopback presenting ``cert``; yields its URL."""
    async with sandbox.serve() as target, tls_front(target, cert) as url:
        yield url


def _trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.mark.anyio
@pytest.mark.socket
@pytest.mark.parametrize(
    "case", ["wrong-ca", "other-host", "expired", "wrong-ca-default-transport"]
)
async def test_untrusted_certificates_are_refused_before_sending(
    ca: trustme.CA, case: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sandbox = Sandbox()
    other_ca = trustme.CA()
    if case in ("wrong-ca", "wrong-ca-default-transport"):
        cert = other_ca.issue_cert("127.0.0.1")
    elif case == "other-host":
        cert = ca.issue_cert("api.qvickly.io")
    else:
        cert = ca.issue_cert(
            "127.0.0.1",
            not_before=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
            not_after=datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC),
        )
    retries: list[Any] = []
    async with tls_sandbox(sandbox, cert) as url:
        if case == "wrong-ca-default-transport":
            # The SDK's own transport, told to trust only our CA (not the server's).
            trust_through_ssl_cert_file(ca, tmp_path, monkeypatch)
            client = make_client(sandbox, url, max_retries=2, on_retry=retries.append)
            async with client:
                with pytest.raises(QvicklyConnectionError) as caught:
                    await client.get_invoices_by_customer("10001")
        else:
            async with httpx.AsyncClient(verify=_trusting(ca)) as http_client:
                client = make_client(
                    sandbox, url, http_client=http_client, max_retries=2, on_retry=retries.append
                )
                async with client:
                    with pytest.raises(QvicklyConnectionError) as caught:
                        await client.get_invoices_by_customer("10001")
                    with pytest.raises(QvicklyConnectionError):
                        await client.call("addPayment", PAYMENT)
    assert caught.value.request_sent is False
    assert "certificate" in str(caught.value).lower() or "ssl" in str(caught.value).lower()
    assert sandbox.counters.total() == 0  # nothing ever reached the server
    assert len(retries) >= 2  # a handshake failure is "never sent": retrying is safe


@pytest.mark.anyio
@pytest.mark.socket
async def test_the_right_ca_and_host_work_through_the_same_terminator(ca: trustme.CA) -> None:
    """The control for the test above: only the certificate differs."""
    sandbox = Sandbox()
    async with (
        tls_sandbox(sandbox, ca.issue_cert("127.0.0.1")) as url,
        httpx.AsyncClient(verify=_trusting(ca)) as http_client,
        make_client(sandbox, url, http_client=http_client) as client,
    ):
        invoices = await client.get_invoices_by_customer("10001")
    assert len(invoices) == sandbox.invoice_count("10001")


# -- redirects -------------------------------------------------------------------------------


def _redirect(status: int, location: str) -> bytes:
    return (
        f"HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


@pytest.mark.anyio
@pytest.mark.socket
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("function", ["getInvoicesByCustomer", "addPayment"])
async def test_redirects_are_status_errors_and_never_followed(status: int, function: str) -> None:
    sandbox = Sandbox()
    data = PAYMENT if function == "addPayment" else {"customerno": "10001"}
    async with (
        Loopback(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}") as elsewhere,
        Loopback(_redirect(status, elsewhere.url + "stolen")) as redirecting,
        make_client(sandbox, redirecting.url, max_retries=3) as client,
    ):
        with pytest.raises(QvicklyHTTPStatusError) as caught:
            await client.call(function, data)
    assert caught.value.status_code == status
    assert len(redirecting.requests) == 1  # a redirect is not retried either
    assert elsewhere.requests == []  # and its target never hears of the request


@pytest.mark.anyio
@pytest.mark.socket
async def test_a_borrowed_client_that_follows_redirects_does_not_make_the_sdk_follow() -> None:
    sandbox = Sandbox()
    async with (
        Loopback(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}") as elsewhere,
        Loopback(_redirect(307, elsewhere.url + "stolen")) as redirecting,
        httpx.AsyncClient(follow_redirects=True) as http_client,
        make_client(sandbox, redirecting.url, http_client=http_client) as client,
    ):
        with pytest.raises(QvicklyHTTPStatusError):
            await client.call("addPayment", PAYMENT)
    assert elsewhere.requests == []


@pytest.mark.anyio
@pytest.mark.socket
async def test_a_loopback_sandbox_url_is_accepted() -> None:
    """``ServerHandle.url`` of a loopback sandbox is plain http and passes the rule."""
    sandbox = Sandbox()
    async with sandbox.serve() as server:
        assert server.url.startswith("http://127.0.0.1:")
        async with make_client(sandbox, server.url) as client:
            assert await client.get_invoices_by_customer("10002") == []
