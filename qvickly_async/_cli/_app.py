"""The ``qvickly`` command: click commands, progress, logging and exit statuses."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import ssl
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, Final, TextIO, TypeVar

import attrs
import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from .._batch import BatchProgress
from .._client import AsyncQvickly
from ..exceptions import (
    QvicklyAccountFeatureError,
    QvicklyAPIError,
    QvicklyAuthenticationError,
    QvicklyConnectionError,
    QvicklyError,
    QvicklyHTTPStatusError,
    QvicklyResponseError,
    QvicklySignatureError,
    QvicklyTimeoutError,
)
from ._sandbox import sandbox
from ._settings import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_PIPE,
    STDIN,
    ConfigError,
    Connection,
    SandboxOptions,
    make_client,
    read_numbers,
    resolve_connection,
)
from ._writers import (
    FORMATS,
    CsvWriter,
    JsonLinesWriter,
    JsonWriter,
    TableWriter,
    Writer,
    describe_error,
)

__all__ = ["cli", "run"]

_F = TypeVar("_F", bound=Callable[..., Any])

_SUFFIX_FORMATS: Final = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_NO_CUSTOMERS: Final = "no customers given: pass CUSTOMER numbers or --from-file FILE"
_CONTEXT: Final = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_EPILOG: Final = (
    "Exit status: 0 all fine; 1 some customers (or the ping) failed; 2 usage or configuration "
    "error (bad flags, missing or refused credentials, unreadable file); 130 interrupted."
)


def _version() -> str:
    from .. import __version__

    return str(__version__)


def _stderr() -> Console:
    """Return a console on the current standard error (looked up at print time)."""
    return Console(stderr=True, highlight=False)


def _say(console: Console, text: str, *, style: str | None = None) -> None:
    """Print one unwrapped, markup-free line."""
    console.print(Text(text, style=style or ""), soft_wrap=True)


# -- logging ------------------------------------------------------------------------------------


class _ConsoleHandler(logging.Handler):
    """Writes log records through a rich console, so they appear above a progress bar."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _say(self.console, self.format(record), style="dim")
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


@contextlib.contextmanager
def _logging_to(console: Console, verbose: int) -> Iterator[None]:
    """Route the ``qvickly_async`` logger to ``console``: errors only, ``-v`` INFO, ``-vv`` DEBUG.

    The SDK masks personal data in what it logs; this command never logs bodies itself.
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


# -- shared options -----------------------------------------------------------------------------


def _connection_options(function: _F) -> _F:
    """Add the credential, endpoint, sandbox and verbosity options to a command."""
    options = [
        click.option(
            "--sandbox",
            is_flag=True,
            help="Use the embedded emulator with its demo data (customers from 10000): "
            "no credentials, no network.",
        ),
        click.option(
            "--sandbox-faults",
            type=click.FloatRange(0.0, 1.0),
            default=0.0,
            metavar="RATE",
            help="With --sandbox: share of requests that fail with a retryable error "
            "(HTTP 502/503/429, API 9008), for demos of retries and failure reports.",
        ),
        click.option(
            "--sandbox-latency",
            type=click.FloatRange(0.0, 60.0),
            default=0.0,
            metavar="SECONDS",
            help="With --sandbox: delay added to every answer.",
        ),
        click.option(
            "--merchant-id",
            metavar="ID",
            help="Merchant id [default: $QVICKLY_MERCHANT_ID].",
        ),
        click.option(
            "--secret-file",
            metavar="PATH",
            help="Read the secret key from this file (preferred) [default: $QVICKLY_SECRET].",
        ),
        click.option(
            "--secret",
            metavar="SECRET",
            help="The secret key itself (lands in your shell history: prefer --secret-file), "
            "or - to read it from standard input.",
        ),
        click.option(
            "--base-url",
            metavar="URL",
            help="API endpoint [default: $QVICKLY_BASE_URL or https://api.qvickly.io/].",
        ),
        click.option(
            "--test-mode",
            is_flag=True,
            help="Send requests in test mode [default: $QVICKLY_TEST_MODE].",
        ),
        click.option(
            "-v",
            "--verbose",
            count=True,
            help="Log the SDK to standard error: -v INFO, -vv DEBUG (personal data masked).",
        ),
        click.option(
            "-q",
            "--quiet",
            is_flag=True,
            help="No progress bar and no summary (failures are still reported).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _connection(options: dict[str, Any]) -> Connection:
    return resolve_connection(
        sandbox=options["sandbox"],
        sandbox_options=SandboxOptions(
            fault_rate=options["sandbox_faults"], latency=options["sandbox_latency"]
        ),
        merchant_id=options["merchant_id"],
        secret=options["secret"],
        secret_file=options["secret_file"],
        base_url=options["base_url"],
        test_mode=options["test_mode"],
    )


def _run_async(function: Callable[[], Any]) -> Any:
    """``asyncio.run`` the coroutine ``function`` returns."""
    return asyncio.run(function())


def _broken_pipe() -> None:
    # Python would complain again when it flushes stdout at exit.
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    raise click.exceptions.Exit(EXIT_PIPE)


# -- the group ----------------------------------------------------------------------------------


@click.group(context_settings=_CONTEXT, epilog=_EPILOG)
@click.version_option(_version(), "-V", "--version", prog_name="qvickly")
def cli() -> None:
    """Look up Qvickly (formerly Billmate) invoices for one or thousands of customers.

    Try it without an account: qvickly invoices --sandbox 10001 10002 10003
    """


# -- invoices -----------------------------------------------------------------------------------


@attrs.define
class _Tally:
    """Counts of a batch, kept outside the event loop so Ctrl-C can report them."""

    done: int = 0
    failed: int = 0
    failures: list[str] = attrs.Factory(list)


class _FatalError(Exception):
    """An error that concerns every customer (refused credentials): stop the batch."""


def _default_format(output: str | None) -> str:
    if output is not None and output != "-":
        return _SUFFIX_FORMATS.get(os.path.splitext(output)[1].lower(), "table")
    return "table"


@contextlib.contextmanager
def _open_output(output: str | None, output_format: str, excel: bool) -> Iterator[TextIO]:
    """Open the text stream to write to: the file (created or truncated) or stdout, UTF-8."""
    newline = "" if output_format == "csv" else None
    encoding = "utf-8-sig" if excel else "utf-8"
    if output is None or output == "-":
        if output_format == "table":
            yield sys.stdout
            return
        wrapper = io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline=newline)
        try:
            yield wrapper
        finally:
            with contextlib.suppress(ValueError, OSError):
                wrapper.flush()
            wrapper.detach()
        return
    try:
        handle = open(output, "w", encoding=encoding, newline=newline)  # noqa: SIM115
    except OSError as error:
        raise ConfigError(f"cannot write --output {output!r}: {error.strerror}") from None
    with handle:
        yield handle


def _make_writer(
    output_format: str, stream: TextIO, *, excel: bool, order: list[str], limit: int
) -> Writer:
    if output_format == "csv":
        return CsvWriter(stream, excel=excel)
    if output_format == "jsonl":
        return JsonLinesWriter(stream)
    if output_format == "json":
        return JsonWriter(stream)
    terminal = stream.isatty()
    console = Console(
        file=stream,
        highlight=False,
        # Piped or to a file: wide enough that no column is cut.
        width=None if terminal else 200,
        force_terminal=None if terminal else False,
    )
    return TableWriter(console, order, limit=limit)


@cli.command(epilog=_EPILOG)
@click.argument("customers", nargs=-1, metavar="CUSTOMER...")
@click.option(
    "--from-file",
    metavar="FILE",
    help="Read customer numbers from FILE, one a line; blank lines and # comments are "
    "skipped; - reads standard input.",
)
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    help="Output format [default: from the --output suffix (.csv, .json, .jsonl), else table].",
)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE [default: standard output].")
@click.option(
    "--excel",
    is_flag=True,
    help="CSV for spreadsheets: UTF-8 byte order mark, and text that would run as a formula "
    "gets a leading '.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    metavar="N",
    help="Lookups in flight at once; the connection pool is sized to match [default: 64].",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0.0, min_open=True),
    metavar="R",
    help="At most R requests per second (retries included).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    metavar="N",
    help="Table format: invoices listed per customer (newest first); 0 lists all. "
    "Totals always cover every invoice.",
)
@_connection_options
def invoices(
    customers: tuple[str, ...],
    from_file: str | None,
    output_format: str | None,
    output: str | None,
    excel: bool,
    concurrency: int | None,
    rate_limit: float | None,
    limit: int,
    **options: Any,
) -> None:
    """List the invoices of one or many customers.

    Give customer numbers as arguments and/or with --from-file. Each customer's failure is
    reported on standard error without stopping the others. json, jsonl and csv are written
    as results arrive (completion order); the table lists customers in input order.
    """
    if from_file == STDIN and options["secret"] == STDIN:
        raise click.UsageError("--from-file - and --secret - cannot both read standard input")
    if excel and output_format not in (None, "csv"):
        raise click.UsageError("--excel applies to --format csv only")
    output_format = output_format or ("csv" if excel else _default_format(output))
    if not customers and from_file is None:
        raise click.UsageError(_NO_CUSTOMERS)
    connection = _connection(options)
    numbers = list(customers)
    if from_file is not None:
        numbers.extend(read_numbers(from_file))
    if not numbers:
        raise click.UsageError(_NO_CUSTOMERS)
    order = list(dict.fromkeys(numbers))
    # Before --output is truncated: it may refuse settings. The pool holds --concurrency.
    client = make_client(connection, **_pool_for(concurrency))
    quiet: bool = options["quiet"]
    console = _stderr()
    tally = _Tally()
    started = time.monotonic()
    try:
        with (
            _logging_to(console, options["verbose"]),
            _open_output(output, output_format, excel) as stream,
        ):
            writer = _make_writer(output_format, stream, excel=excel, order=order, limit=limit)
            show_bar = len(order) > 1 and not quiet and console.is_terminal
            try:
                _run_async(
                    lambda: _invoices(
                        client,
                        connection,
                        order,
                        writer,
                        tally,
                        console,
                        show_bar=show_bar,
                        concurrency=concurrency,
                        rate_limit=rate_limit,
                    )
                )
            except KeyboardInterrupt:
                _say(
                    console,
                    f"interrupted: {tally.done} of {len(order)} customers done",
                    style="yellow",
                )
                raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
            except _FatalError as error:
                raise ConfigError(str(error)) from None
            writer.finish()
    except BrokenPipeError:
        _broken_pipe()
    elapsed = time.monotonic() - started
    if tally.failed:
        _say(
            console,
            f"{tally.failed} of {len(order)} customers failed: {_short_list(tally.failures)}",
            style="red",
        )
    if not quiet:
        target = output if output not in (None, "-") else "standard output"
        succeeded = len(order) - tally.failed
        looked_up = (
            f"{succeeded} of {len(order)} customers"
            if len(order) > 1
            else _plural(succeeded, "customer")
        )
        _say(
            console,
            f"{looked_up} looked up, {_plural(writer.invoices, 'invoice')} written to {target} "
            f"in {elapsed:.1f} s",
        )
    if tally.failed:
        raise click.exceptions.Exit(EXIT_FAILED)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _short_list(numbers: list[str], shown: int = 20) -> str:
    text = ", ".join(numbers[:shown])
    if len(numbers) > shown:
        text += f" and {len(numbers) - shown} more"
    return text


def _fatal_message(error: QvicklyError, connection: Connection) -> str | None:
    """Describe an error that every other customer would get too; ``None`` for others."""
    if isinstance(error, QvicklyAuthenticationError):
        return (
            f"authentication refused by {connection.where}: Qvickly error {error.code}: "
            f"{error.api_message}. Check the merchant id and secret (and --test-mode)."
        )
    if isinstance(error, QvicklyAccountFeatureError):
        return (
            f"the account cannot use this function: Qvickly error {error.code}: {error.api_message}"
        )
    return None


async def _invoices(
    client: AsyncQvickly,
    connection: Connection,
    numbers: list[str],
    writer: Writer,
    tally: _Tally,
    console: Console,
    *,
    show_bar: bool,
    concurrency: int | None,
    rate_limit: float | None,
) -> None:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not show_bar,
    )
    task: TaskID = progress.add_task("customers", total=len(numbers), failed=0)

    def on_progress(state: BatchProgress) -> None:
        progress.update(task, completed=state.done, failed=state.failed)

    writer.start()
    with progress:
        async with client:
            stream = client.iter_invoices_by_customers(
                numbers,
                concurrency=concurrency,
                rate_limit=rate_limit,
                on_progress=on_progress,
                total=len(numbers),
            )
            async with stream:
                async for result in stream:
                    tally.done += 1
                    if result.error is not None:
                        fatal = _fatal_message(result.error, connection)
                        if fatal is not None:
                            raise _FatalError(fatal)
                        tally.failed += 1
                        tally.failures.append(result.customer_number)
                        _say(
                            console,
                            f"customer {result.customer_number}: {describe_error(result.error)}",
                            style="red",
                        )
                    writer.add(result)


# -- ping ---------------------------------------------------------------------------------------


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _ping_failure(error: QvicklyError, connection: Connection) -> tuple[str, int]:
    """Say what went wrong, in words, and choose the exit status."""
    where = connection.where
    if isinstance(error, QvicklyAuthenticationError):
        return (
            f"authentication refused by {where}: Qvickly error {error.code}: "
            f"{error.api_message}. Check the merchant id and secret (and --test-mode).",
            2,
        )
    if isinstance(error, QvicklyAPIError):
        return (f"{where} answered with Qvickly error {error.code}: {error.api_message}", 1)
    if isinstance(error, QvicklyTimeoutError):
        return (f"timed out waiting for {where}: {error}", 1)
    if isinstance(error, QvicklyConnectionError):
        if any(isinstance(item, ssl.SSLError) for item in _chain(error)) or "SSL" in str(error):
            return (f"TLS failed with {where} (certificate or protocol problem): {error}", 1)
        return (f"network: cannot reach {where}: {error}", 1)
    if isinstance(error, QvicklyHTTPStatusError):
        return (f"{where} answered HTTP {error.status_code}: not the Payment API? {error}", 1)
    if isinstance(error, QvicklySignatureError):
        return (
            f"the answer from {where} is not signed with this secret (wrong secret or "
            f"endpoint?): {error}",
            1,
        )
    if isinstance(error, QvicklyResponseError):
        return (f"unexpected answer from {where}: {error}", 1)
    return (f"{type(error).__name__}: {error}", 1)


@cli.command(epilog=_EPILOG)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.0, min_open=True),
    default=15.0,
    show_default=True,
    metavar="SECONDS",
    help="Give up after this long.",
)
@_connection_options
def ping(timeout: float, **options: Any) -> None:
    """Check the endpoint and credentials with one cheap authenticated call.

    Exit status 0 when reachable and accepted, 1 when the endpoint cannot be reached or
    answers wrongly, 2 when credentials are missing or refused.
    """
    connection = _connection(options)
    console = _stderr()

    async def go() -> tuple[str, float]:
        async with make_client(connection, timeout=timeout, deadline=timeout) as client:
            started = time.perf_counter()
            await client.ping()
            return str(client.options.merchant_id), time.perf_counter() - started

    with _logging_to(console, options["verbose"]):
        try:
            merchant, elapsed = _run_async(go)
        except KeyboardInterrupt:
            _say(console, "interrupted", style="yellow")
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except QvicklyError as error:
            message, status = _ping_failure(error, connection)
            _say(console, f"FAILED: {message}", style="red")
            raise click.exceptions.Exit(status) from None
    click.echo(f"OK: merchant {merchant} reachable at {connection.where} ({elapsed * 1000:.0f} ms)")


cli.add_command(sandbox)


def run(argv: list[str] | None = None) -> None:
    """Run the ``qvickly`` command with ``argv`` (default: ``sys.argv[1:]``); exits."""
    cli.main(args=argv, prog_name="qvickly")


def _pool_for(concurrency: int | None) -> dict[str, Any]:
    """Client options whose connection pool holds ``concurrency`` lookups in flight."""
    if concurrency is None:
        return {}
    import httpx

    pool = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return {"limits": pool}
