"""``--sandbox`` (the in-process emulator) and ``qvickly sandbox serve`` (a loopback server).

Both delegate to :mod:`qvickly_async.sandbox`: the in-process sandbox is the one
:func:`~qvickly_async.sandbox.sandbox_from_env` builds (so ``QVICKLY_SANDBOX_CUSTOMERS``,
``QVICKLY_SANDBOX_INVOICE_SHAPE``, ... apply), and ``serve`` runs the sandbox package's own
``python -m qvickly_async.sandbox`` with the options as given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ._settings import ConfigError, SandboxOptions

if TYPE_CHECKING:
    from ..sandbox import Sandbox

__all__ = ["make_sandbox", "sandbox"]


def make_sandbox(options: SandboxOptions) -> Sandbox:
    """Build the sandbox behind ``--sandbox``: demo data, configured by ``QVICKLY_SANDBOX_*``.

    Raises:
        ConfigError: a ``QVICKLY_SANDBOX_*`` variable has an invalid value.
    """
    from ..sandbox import FaultPlan, sandbox_from_env

    try:
        box = sandbox_from_env()
    except (ValueError, TypeError, OSError) as error:
        raise ConfigError(f"invalid QVICKLY_SANDBOX_* setting: {error}") from None
    if options.fault_rate or options.latency:
        box.set_faults(FaultPlan.flaky(options.fault_rate, latency=options.latency))
    return box


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def sandbox() -> None:
    """Run the Payment API emulator (the one --sandbox uses) for other programs."""


@sandbox.command(
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED, metavar="[OPTIONS]")
def serve(arguments: tuple[str, ...]) -> None:
    """Serve the emulator on a loopback port until Ctrl-C (--help lists every option).

    Every option goes to the sandbox package's server (python -m qvickly_async.sandbox):
    --host, --port, --merchant-id, --secret-file, --secret, --customers, --seed, --data,
    --invoice-shape, --error-shape, --strict, --logid, --latency-ms, --jitter-ms,
    --fault-rate, --fault KIND=P, --retry-after, --fault-seed, --log-level.
    """
    from ..sandbox._cli import main as serve_main

    status = serve_main(["serve", *arguments], prog="qvickly sandbox serve")
    raise click.exceptions.Exit(status)
