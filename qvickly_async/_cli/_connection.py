"""The options shared by every command that talks to the API.

Credentials, endpoint, sandbox and verbosity: ``qvickly invoices`` and ``qvickly ping`` use
them, and so can any new command (with :func:`~._batch_run.batch_options` for batches).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ._settings import Connection, SandboxOptions, resolve_connection

__all__ = ["connection_from", "connection_options"]

_F = TypeVar("_F", bound=Callable[..., Any])


def connection_options(function: _F) -> _F:
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


def connection_from(options: dict[str, Any]) -> Connection:
    """Resolve the options :func:`connection_options` added (flags, then ``QVICKLY_*``)."""
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
