"""Issue 11, item 7: one strict environment parser, and network variables that cannot work.

``QVICKLY_TEST_MODE=maybe`` is a configuration error in ``from_env``, the ``qvickly`` CLI and
the sandbox's command line alike; proxy and CA variables that cannot work fail when the client
is created, naming the variable; plain-http loopback traffic never goes through a proxy.
"""

from __future__ import annotations

import pytest

from qvickly_async import AsyncQvickly, QvicklyInputError
from qvickly_async._cli._settings import ConfigError, SandboxOptions, resolve_connection
from qvickly_async.sandbox import Sandbox, sandbox_from_env
from qvickly_async.sandbox._cli import main as sandbox_main

from .._support import make_client
from ._hostile import PAYMENT, bound_unlistening_socket, register_add_payment

CREDENTIALS = {"QVICKLY_MERCHANT_ID": "12345", "QVICKLY_SECRET": "s3cret-value"}
_NETWORK_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("QVICKLY_TEST_MODE", "QVICKLY_BASE_URL", "QVICKLY_SANDBOX_STRICT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("word", ["maybe", "ture", "2", "enabled"])
def test_from_env_refuses_a_test_mode_that_is_not_a_flag(
    monkeypatch: pytest.MonkeyPatch, word: str
) -> None:
    monkeypatch.setenv("QVICKLY_TEST_MODE", word)
    with pytest.raises(QvicklyInputError, match="QVICKLY_TEST_MODE"):
        AsyncQvickly.from_env()


@pytest.mark.parametrize(("word", "expected"), [("YES", True), (" on ", True), ("off", False)])
def test_from_env_reads_the_flag_words(
    monkeypatch: pytest.MonkeyPatch, word: str, expected: bool
) -> None:
    monkeypatch.setenv("QVICKLY_TEST_MODE", word)
    assert AsyncQvickly.from_env().options.test_mode is expected


def test_the_cli_refuses_a_test_mode_that_is_not_a_flag() -> None:
    with pytest.raises(ConfigError, match="QVICKLY_TEST_MODE"):
        resolve_connection(
            sandbox=False,
            sandbox_options=SandboxOptions(),
            merchant_id=None,
            secret=None,
            secret_file=None,
            base_url=None,
            test_mode=False,
            environ={**CREDENTIALS, "QVICKLY_TEST_MODE": "maybe"},
        )


def test_the_sandbox_refuses_a_strict_flag_that_is_not_a_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(QvicklyInputError, match="QVICKLY_SANDBOX_STRICT"):
        sandbox_from_env({"QVICKLY_SANDBOX_STRICT": "maybe"})
    sandbox_from_env({"QVICKLY_SANDBOX_STRICT": "yes"})  # a flag word is fine
    monkeypatch.setenv("QVICKLY_SANDBOX_STRICT", "maybe")
    assert sandbox_main(["--port", "0"]) == 2
    assert "QVICKLY_SANDBOX_STRICT" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HTTPS_PROXY", "socks5://127.0.0.1:1080"),  # socksio is not installed
        ("https_proxy", "http://127.0.0.1:99999"),  # port out of range
        ("HTTP_PROXY", "ftp://proxy.example:21"),
        ("ALL_PROXY", "http://:8080"),  # no host
    ],
)
def test_a_proxy_variable_that_cannot_work_is_refused_at_construction(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(QvicklyInputError, match=name):
        AsyncQvickly(merchant_id="1", secret="k", base_url="https://api.qvickly.io/")
    with pytest.raises(QvicklyInputError, match=name):
        AsyncQvickly.from_env()


def test_proxy_credentials_never_appear_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "socks5://user:hunter2@127.0.0.1:1080")
    with pytest.raises(QvicklyInputError) as caught:
        AsyncQvickly(merchant_id="1", secret="k")
    assert "hunter2" not in str(caught.value)
    assert "HTTPS_PROXY" in str(caught.value)


@pytest.mark.parametrize("name", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_a_missing_ca_location_is_refused_at_construction(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, name: str
) -> None:
    monkeypatch.setenv(name, "/nonexistent/qvickly-ca.pem")
    with pytest.raises(QvicklyInputError, match=name):
        AsyncQvickly(merchant_id="1", secret="k", base_url="https://api.qvickly.io/")


def test_a_borrowed_transport_is_not_subject_to_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Control: the variables only matter for a pool the SDK builds itself."""
    monkeypatch.setenv("HTTPS_PROXY", "socks5://127.0.0.1:1080")
    client = AsyncQvickly.for_sandbox()
    assert client.sandbox is not None


@pytest.mark.anyio
@pytest.mark.socket
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
async def test_plain_http_loopback_traffic_never_goes_through_a_proxy(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    dead = bound_unlistening_socket()  # a "proxy" nobody listens on
    monkeypatch.setenv(variable, f"http://127.0.0.1:{dead.getsockname()[1]}")
    sandbox = Sandbox()
    received = register_add_payment(sandbox)
    try:
        async with sandbox.serve() as server, make_client(sandbox, server.url) as client:
            answer = await client.call("addPayment", PAYMENT)
    finally:
        dead.close()
    assert answer["status"] == "Created"
    assert len(received) == 1
