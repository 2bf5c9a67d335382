from __future__ import annotations

# The plugin is registered through the package's pytest11 entry point once installed; importing
# the fixtures here makes them available when the tests run from a source tree.
from qvickly_async.sandbox.pytest_plugin import qvickly_sandbox, qvickly_sandbox_server

__all__ = ["qvickly_sandbox", "qvickly_sandbox_server"]
