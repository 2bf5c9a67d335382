from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from qvickly_async.testing import no_backoff


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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
