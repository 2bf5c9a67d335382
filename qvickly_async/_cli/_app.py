"""The ``qvickly`` command group and its ``invoices`` and ``ping`` commands.

Built from :mod:`._batch_run` (batch controls and the batch runner), :mod:`._output` (the
``--output`` file), :mod:`._messages` (what an error is called and its exit status),
:mod:`._console` (standard error) and :mod:`._writers` (the formats).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final, TextIO, TypeVar

import click
from rich.console import Console

from .._batch import CustomerResult
from ..exceptions import QvicklyError
from ._batch_run import BatchControls, batch_keys, batch_options, run_batch
from ._console import logging_to, say, stderr_console
from ._messages import explain
from ._output import OutputFile
from ._payments import payment_command
from ._sandbox import sandbox
from ._settings import (
    EXIT_INTERRUPTED,
    Connection,
    SandboxOptions,
    make_client,
    resolve_connection,
)
from ._writers import (
    FORMATS,
    CsvWriter,
    JsonLinesWriter,
    JsonWriter,
    TableWriter,
    Writer,
)

__all__ = ["cli", "run"]

_F = TypeVar("_F", bound=Callable[..., Any])

_NO_CUSTOMERS: Final = "no customers given: pass CUSTOMER numbers or --from-file FILE"
_CONTEXT: Final = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_EPILOG: Final = (
    "Exit status: 0 all fine; 1 some customers (or the ping) failed, or the endpoint could not "
    "be reached; 2 usage or configuration error (bad flags, missing or refused credentials, "
    "unreadable file); 130 interrupted."
)


def _version() -> str:
    from .. import __version__

    return str(__version__)


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


# -- the group ----------------------------------------------------------------------------------


@click.group(context_settings=_CONTEXT, epilog=_EPILOG)
@click.version_option(_version(), "-V", "--version", prog_name="qvickly")
def cli() -> None:
    """Look up Qvickly (formerly Billmate) invoices for one or thousands of customers.

    Try it without an account: qvickly invoices --sandbox 10001 10002 10003
    """


# -- invoices -----------------------------------------------------------------------------------


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


def _customer_number(result: CustomerResult) -> str:
    return result.customer_number


@cli.command(epilog=_EPILOG)
@click.argument("customers", nargs=-1, metavar="[CUSTOMER]...")
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
    help="Output format [default: from the --output suffix (.csv, .json, .jsonl, .ndjson; "
    ".txt or none: table), else table].",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write to FILE [default: standard output]. Replaced only when the run completes "
    "and looks up at least one customer; otherwise left as it was.",
)
@click.option(
    "--excel",
    is_flag=True,
    help="CSV for spreadsheets: UTF-8 byte order mark, and text that would run as a formula "
    "gets a leading '.",
)
@batch_options
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
    limit: int,
    **options: Any,
) -> None:
    """List the invoices of one or many customers.

    Give customer numbers as arguments and/or with --from-file. Each customer's failure is
    reported on standard error without stopping the others. json, jsonl and csv are written
    as results arrive (completion order); the table lists customers in input order.
    """
    controls = BatchControls.from_options(options)
    output_format, numbers, connection = batch_keys(
        customers,
        options,
        from_file=from_file,
        excel=excel,
        output_format=output_format,
        output=output,
        nothing_given=_NO_CUSTOMERS,
        connect=lambda: _connection(options),
    )
    order = list(dict.fromkeys(numbers))
    run_batch(
        connection=connection,
        keys=order,
        start=lambda client, **batch: client.iter_invoices_by_customers(order, **batch),
        key_of=_customer_number,
        make_writer=lambda stream: _make_writer(
            output_format, stream, excel=excel, order=order, limit=limit
        ),
        output=OutputFile(output, output_format=output_format, excel=excel),
        controls=controls,
        console=stderr_console(),
        quiet=options["quiet"],
        verbose=options["verbose"],
    )


# -- ping ---------------------------------------------------------------------------------------


@cli.command(epilog=_EPILOG)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.0, min_open=True),
    default=15.0,
    show_default=True,
    metavar="SECONDS",
    help="Give up on each of the two calls after this long.",
)
@_connection_options
def ping(timeout: float, **options: Any) -> None:
    """Check the endpoint and credentials with a cheap authenticated call, made twice.

    The latency shown is the second call's, on the connection the first one opened (what
    a running application sees); the first call's time, connection set-up included, is
    shown beside it. Exit status 0 when reachable and accepted, 1 when the endpoint cannot
    be reached or answers wrongly, 2 when credentials are missing or refused.
    """
    connection = _connection(options)
    console = stderr_console()

    async def go() -> tuple[str, float, float]:
        async with make_client(connection, timeout=timeout, deadline=timeout) as client:
            timings = []
            for _ in range(2):
                started = time.perf_counter()
                await client.ping()
                timings.append(time.perf_counter() - started)
            return str(client.options.merchant_id), timings[0], timings[1]

    with logging_to(console, options["verbose"]):
        try:
            merchant, cold, warm = asyncio.run(go())
        except KeyboardInterrupt:
            say(console, "interrupted", style="yellow")
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except QvicklyError as error:
            explanation = explain(error, connection.where)
            say(console, f"FAILED: {explanation.text}", style="red")
            raise click.exceptions.Exit(explanation.exit_status) from None
    click.echo(
        f"OK: merchant {merchant} reachable at {connection.where} "
        f"({warm * 1000:.0f} ms; first call {cold * 1000:.0f} ms with connection set-up)"
    )


cli.add_command(sandbox)
cli.add_command(payment_command(_connection_options, _connection, _EPILOG))


def run(argv: list[str] | None = None) -> None:
    """Run the ``qvickly`` command with ``argv`` (default: ``sys.argv[1:]``); exits."""
    cli.main(args=argv, prog_name="qvickly")
