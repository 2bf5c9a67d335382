"""The ``qvickly`` command line (needs the ``cli`` extra: ``pip install "qvickly-async[cli]"``).

The console script ``qvickly`` calls :func:`main`; ``python -m qvickly_async.cli`` does the
same. The commands live in :mod:`qvickly_async._cli` (the only modules that import click and
rich). See ``docs/cli.md`` for the commands, options, exit statuses and output columns.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_EXTRA_HINT = (
    "qvickly: the command line needs the 'cli' extra ({missing} is not installed): "
    'pip install "qvickly-async[cli]"\n'
)


def main(argv: list[str] | None = None) -> None:
    """Run the ``qvickly`` command with ``argv`` (default: ``sys.argv[1:]``); exits."""
    try:
        from ._cli import run
    except ModuleNotFoundError as error:
        missing = (error.name or "").split(".")[0]
        if missing not in ("click", "rich"):
            raise
        sys.stderr.write(_EXTRA_HINT.format(missing=missing))
        raise SystemExit(2) from None
    run(argv)


if __name__ == "__main__":
    main()
