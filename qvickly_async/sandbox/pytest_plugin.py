"""pytest fixtures for the Qvickly sandbox (registered as the ``qvickly_sandbox`` plugin).

``qvickly_sandbox``
    A fresh :class:`~qvickly_async.sandbox.Sandbox` with the demo data, merchant id
    :data:`~qvickly_async.sandbox.DEFAULT_MERCHANT_ID` and secret
    :data:`~qvickly_async.sandbox.DEFAULT_SECRET`. In-process:
    ``httpx.AsyncClient(transport=qvickly_sandbox.transport())``.
``qvickly_sandbox_server``
    That sandbox served on a loopback port from a background thread; use ``.url``.
    Socket-level faults (resets, drips) work here.

The plugin imports only the sandbox, never the client.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import Sandbox, ServerHandle

__all__ = ["qvickly_sandbox", "qvickly_sandbox_server"]


@pytest.fixture
def qvickly_sandbox() -> Sandbox:
    """Provide a fresh sandbox with the demo dataset and the default credentials."""
    return Sandbox()


@pytest.fixture
def qvickly_sandbox_server(qvickly_sandbox: Sandbox) -> Iterator[ServerHandle]:
    """Serve ``qvickly_sandbox`` on ``127.0.0.1`` (a free port) for the test's duration."""
    with qvickly_sandbox.serve_in_thread() as server:
        yield server
