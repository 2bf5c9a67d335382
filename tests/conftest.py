from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
import trustme

from qvickly_async.sandbox import Sandbox
from qvickly_async.testing import no_backoff


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sandbox() -> Sandbox:
    """A fresh sandbox with the demo data and the default credentials."""
    return Sandbox()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A throwaway certificate authority for TLS tests on loopback."""
    return trustme.CA()


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variables: the client then uses its default (aiohttp) transport."""
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with no_backoff():
        yield


@pytest.fixture(scope="session")
def php() -> str:
    """Path of the php binary; CI sets QVICKLY_REQUIRE_PHP=1 so a missing php fails."""
    path = shutil.which("php")
    if path is None:
        if os.environ.get("QVICKLY_REQUIRE_PHP"):
            pytest.fail("php-cli is required (QVICKLY_REQUIRE_PHP is set) but not on PATH")
        pytest.skip("php-cli not installed")
    return path
