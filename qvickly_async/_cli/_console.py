"""Standard error for people: one-line messages and the SDK's log records, never raw.

Everything goes through :func:`~._printable.printable`, so text that came from the server
(a customer name, an API message quoted in an error or a log record) cannot drive the
terminal.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from rich.console import Console
from rich.text import Text

from ._printable import printable

__all__ = ["logging_to", "say", "stderr_console"]


def stderr_console() -> Console:
    """Return a console on the current standard error (looked up at print time)."""
    return Console(stderr=True, highlight=False)


def say(console: Console, text: str, *, style: str | None = None) -> None:
    """Print one unwrapped, markup-free line, control characters escaped."""
    console.print(Text(printable(text), style=style or ""), soft_wrap=True)


class _ConsoleHandler(logging.Handler):
    """Writes log records through a rich console, so they appear above a progress bar."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            say(self.console, self.format(record), style="dim")
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


@contextlib.contextmanager
def logging_to(console: Console, verbose: int) -> Iterator[None]:
    """Route the ``qvickly_async`` logger to ``console``: errors only, ``-v`` INFO, ``-vv`` DEBUG.

    The SDK masks personal data in what it logs; the command never logs bodies itself.
    """
    logger = logging.getLogger("qvickly_async")
    level = logging.ERROR if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = _ConsoleHandler(console)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    previous = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]
