"""Helpers for testing applications that use :mod:`qvickly_async`.

The emulator itself lives in :mod:`qvickly_async.sandbox`; this module holds switches that
make a test suite fast and deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ._retry import is_testing, set_testing

__all__ = ["is_testing", "no_backoff", "set_testing"]


@contextmanager
def no_backoff() -> Iterator[None]:
    """Within the block, retries happen without sleeping (the previous setting is restored)."""
    previous = is_testing()
    set_testing(True)
    try:
        yield
    finally:
        set_testing(previous)
