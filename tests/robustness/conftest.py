"""Fixtures of the robustness suite: loop guards, the soak switch, shared helpers.

Soak tests (``@pytest.mark.soak``) are long versions of the default tests. They are
deselected unless the marker expression names ``soak`` (``nox -s soak`` runs ``-m soak``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect ``soak`` tests unless ``-m`` mentions ``soak``."""
    if "soak" in (config.option.markexpr or ""):
        return
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (dropped if item.get_closest_marker("soak") else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


class _AsyncioErrors(logging.Handler):
    """Collects what asyncio's default exception handler logs (e.g. unretrieved task errors)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _asyncio_errors_fail_the_test() -> Iterator[None]:
    """Fail any test (sync or async) after which asyncio logged an error.

    Catches "Task exception was never retrieved", "Unclosed client session" and friends from
    every event loop without a custom handler (``asyncio.run`` inside sync tests too). The
    ``gc.collect()`` makes abandoned tasks and sessions report now, inside this test.
    """
    handler = _AsyncioErrors()
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.addHandler(handler)
    try:
        yield
        gc.collect()
    finally:
        asyncio_logger.removeHandler(handler)
    if handler.records:
        pytest.fail(
            "asyncio reported errors: "
            + "; ".join(record.getMessage()[:300] for record in handler.records)
        )


@pytest.fixture
async def loop_guard() -> AsyncIterator[list[dict[str, Any]]]:
    """An exception handler on the test's loop that fails the test on anything it receives.

    Yields the list of contexts so a test can prove the guard works (and then clear it).
    """
    loop = asyncio.get_running_loop()
    contexts: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: contexts.append(context))
    try:
        yield contexts
        gc.collect()
        await asyncio.sleep(0)  # let call_soon'd reports from finalizers run
    finally:
        loop.set_exception_handler(previous)
    if contexts:
        pytest.fail(
            "the event loop reported: "
            + "; ".join(str(context.get("message", context))[:300] for context in contexts)
        )
