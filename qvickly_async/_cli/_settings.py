"""What the command connects to: credentials, endpoint or the sandbox; customer number input.

Nothing here prints the secret: errors name the option or variable, never its value.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, Final

import attrs
import click

from .._client import AsyncQvickly
from .._environment import env_flag
from .._options import DEFAULT_BASE_URL
from ..exceptions import QvicklyInputError

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PIPE",
    "EXIT_USAGE",
    "STDIN",
    "ConfigError",
    "Connection",
    "SandboxOptions",
    "make_client",
    "parse_numbers",
    "read_numbers",
    "read_secret_file",
    "resolve_connection",
]

#: Everything went fine.
EXIT_OK: Final = 0
#: Some customers (or the ping) failed; the rest of the output was written.
EXIT_FAILED: Final = 1
#: Usage or configuration error: bad flags, missing or refused credentials, unreadable file.
EXIT_USAGE: Final = 2
#: Interrupted with Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED: Final = 130
#: The reader of the output went away (128 + SIGPIPE), e.g. ``qvickly ... | head``.
EXIT_PIPE: Final = 141

#: The file name meaning standard input.
STDIN: Final = "-"
_HISTORY_WARNING: Final = (
    "warning: --secret puts the key in your shell history and the process list; "
    "prefer --secret-file PATH, the QVICKLY_SECRET variable or --secret - (stdin)"
)


class ConfigError(click.ClickException):
    """A configuration problem (missing credentials, unreadable file): exit status 2."""

    exit_code = EXIT_USAGE


@attrs.frozen
class SandboxOptions:
    """How the in-process sandbox misbehaves (for demos): fault rate and added latency."""

    fault_rate: float = 0.0
    latency: float = 0.0


@attrs.frozen
class Connection:
    """Resolved connection settings. ``secret`` is hidden from ``repr``."""

    merchant_id: str | None
    secret: str | None = attrs.field(repr=False)
    base_url: str
    test_mode: bool
    sandbox: SandboxOptions | None = None

    @property
    def where(self) -> str:
        """A human description of the endpoint."""
        return "the in-process sandbox" if self.sandbox is not None else self.base_url


def read_secret_file(path: str, *, option: str = "--secret-file") -> str:
    """Return the secret key in the file at ``path``: its one line, without surrounding blanks.

    Raises:
        ConfigError: the file cannot be read, is empty or has more than one line.
    """
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read {option} {path!r}: {reason}") from None
    secret = text.strip()
    if not secret:
        raise ConfigError(f"{option} {path!r} is empty")
    if "\n" in secret:
        raise ConfigError(
            f"{option} {path!r} has more than one line; it must hold only the secret key"
        )
    return secret


def _read_secret_stdin() -> str:
    if sys.stdin.isatty():
        value: str = click.prompt("Qvickly secret", hide_input=True, err=True)
        return value.strip()
    return sys.stdin.readline().strip()


def resolve_connection(
    *,
    sandbox: bool,
    sandbox_options: SandboxOptions,
    merchant_id: str | None,
    secret: str | None,
    secret_file: str | None,
    base_url: str | None,
    test_mode: bool,
    environ: dict[str, str] | None = None,
) -> Connection:
    """Combine flags and ``QVICKLY_*`` variables (flags win) into a :class:`Connection`.

    Raises:
        click.UsageError: contradictory flags (exit 2).
        ConfigError: missing credentials or an unreadable secret file (exit 2).
    """
    env = dict(os.environ) if environ is None else environ
    if sandbox:
        given = [
            name
            for name, value in (
                ("--merchant-id", merchant_id),
                ("--secret", secret),
                ("--secret-file", secret_file),
                ("--base-url", base_url),
            )
            if value is not None
        ]
        if given:
            raise click.UsageError(
                f"--sandbox uses the emulator's own credentials; drop {', '.join(given)}"
            )
        return Connection(
            merchant_id=None,
            secret=None,
            base_url="http://sandbox.invalid/",
            test_mode=test_mode,
            sandbox=sandbox_options,
        )
    if sandbox_options != SandboxOptions():
        raise click.UsageError("--sandbox-faults and --sandbox-latency need --sandbox")
    if secret is not None and secret_file is not None:
        raise click.UsageError("give either --secret or --secret-file, not both")
    if secret_file is not None:
        secret = read_secret_file(secret_file)
    elif secret == STDIN:
        secret = _read_secret_stdin()
        if not secret:
            raise ConfigError("--secret -: no secret on standard input")
    elif secret is not None:
        click.echo(_HISTORY_WARNING, err=True)
        if not secret.strip():
            raise ConfigError("--secret is empty")
    else:
        secret = env.get("QVICKLY_SECRET") or None
    merchant_id = merchant_id if merchant_id is not None else env.get("QVICKLY_MERCHANT_ID")
    missing = []
    if not merchant_id:
        missing.append("the merchant id (--merchant-id or QVICKLY_MERCHANT_ID)")
    if not secret:
        missing.append("the secret (--secret-file PATH, QVICKLY_SECRET or --secret -)")
    if missing:
        raise ConfigError(
            f"missing credentials: {' and '.join(missing)}. "
            "To try the command without an account, add --sandbox."
        )
    try:
        test_env = env_flag("QVICKLY_TEST_MODE", env.get("QVICKLY_TEST_MODE"))
    except QvicklyInputError as error:
        raise ConfigError(str(error)) from None
    return Connection(
        merchant_id=merchant_id,
        secret=secret,
        base_url=base_url or env.get("QVICKLY_BASE_URL") or DEFAULT_BASE_URL,
        test_mode=test_mode or test_env,
    )


def make_client(connection: Connection, **overrides: Any) -> AsyncQvickly:
    """Build the :class:`~qvickly_async.AsyncQvickly` for ``connection``.

    Raises:
        ConfigError: the SDK refused the settings (for example a plain-http base URL).
    """
    try:
        if connection.sandbox is not None:
            from ._sandbox import make_sandbox

            box = make_sandbox(connection.sandbox)
            return AsyncQvickly.for_sandbox(box, test_mode=connection.test_mode, **overrides)
        return AsyncQvickly(
            merchant_id=connection.merchant_id or "",
            secret=connection.secret or "",
            base_url=connection.base_url,
            test_mode=connection.test_mode,
            **overrides,
        )
    except QvicklyInputError as error:
        raise ConfigError(str(error)) from None


# -- customer numbers ---------------------------------------------------------------------------


def parse_numbers(lines: Iterable[str]) -> Iterator[str]:
    """Yield the customer numbers in ``lines``, skipping blank lines and ``#`` comments.

    A ``#`` starts a comment anywhere on a line (``10042  # VIP`` is ``10042``).
    """
    for line in lines:
        number = line.split("#", 1)[0].strip()
        if number:
            yield number


def read_numbers(path: str) -> list[str]:
    """Read customer numbers from ``path`` (``-`` for stdin), one per line, UTF-8.

    The first line may start with a byte order mark; see :func:`parse_numbers` for comments.

    Raises:
        ConfigError: the file cannot be opened or is not UTF-8 text.
    """
    try:
        if path == STDIN:
            stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")
            try:
                return list(parse_numbers(stream))
            finally:
                stream.detach()
        with open(path, encoding="utf-8-sig") as handle:
            return list(parse_numbers(handle))
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read --from-file {path!r}: not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"cannot read --from-file {path!r}: {error.strerror}") from None
