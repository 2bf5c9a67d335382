"""Running the sandbox as a process: ``main(argv)``, ``serve_forever`` and ``app_factory``.

The main options also have an environment variable (``QVICKLY_SANDBOX_<NAME>``), and the
secret can come from ``--secret-file``, so it need not appear on a command line; the secret
is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from .._environment import env_flag
from ..exceptions import QvicklyInputError
from ._config import DEFAULT_MERCHANT_ID, DEFAULT_SECRET, DEFAULT_SEED, DEFAULT_SIZE
from ._faults import FAULT_KINDS, FaultPlan
from ._inprocess import AsgiApp
from ._sandbox import Sandbox

__all__ = ["app_factory", "build_parser", "main", "sandbox_from_env", "serve_forever"]

DEFAULT_PORT: Final = 8080
_ENV: Final = "QVICKLY_SANDBOX_"


def _env(name: str, default: str) -> str:
    return os.environ.get(_ENV + name, default)


def _fault_option(text: str) -> tuple[str, float]:
    kind, _, rate = text.partition("=")
    if kind not in FAULT_KINDS or not rate:
        raise argparse.ArgumentTypeError(
            f"expected KIND=PROBABILITY with KIND one of {', '.join(FAULT_KINDS)}"
        )
    try:
        return kind, float(rate)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a probability: {rate!r}") from None


def build_parser(prog: str = "python -m qvickly_async.sandbox") -> argparse.ArgumentParser:
    """Build the parser of ``qvickly sandbox serve`` / ``python -m qvickly_async.sandbox``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve the Qvickly Payment API sandbox on a loopback port. These options "
        f"default from environment variables {_ENV}<NAME>: HOST, PORT, MERCHANT_ID, SECRET, "
        "SEED, CUSTOMERS, DATA, STRICT, ERROR_SHAPE, INVOICE_SHAPE, LOGID.",
        epilog="The admin endpoints under /__sandbox__/ (faults, counters, settings) have no "
        "authentication: serve on loopback only.",
    )
    add = parser.add_argument
    add(
        "--host",
        default=_env("HOST", "127.0.0.1"),
        help="address to bind (default 127.0.0.1; any other address gets a warning: the "
        "admin endpoints have no authentication)",
    )
    add(
        "--port",
        metavar="PORT",
        type=int,
        default=int(_env("PORT", str(DEFAULT_PORT))),
        help=f"port to bind (default {DEFAULT_PORT}); 0 picks a free port, read it from the "
        "printed URL",
    )
    add(
        "--merchant-id",
        metavar="ID",
        default=_env("MERCHANT_ID", DEFAULT_MERCHANT_ID),
        help=f"merchant id the server accepts (default {DEFAULT_MERCHANT_ID})",
    )
    add(
        "--secret",
        metavar="SECRET",
        default=None,
        help=f"merchant secret the server accepts (default ${_ENV}SECRET, else "
        f"{DEFAULT_SECRET!r}); lands in the process list: prefer --secret-file",
    )
    add(
        "--secret-file",
        metavar="PATH",
        default=None,
        help="read the merchant secret from this file (its one line)",
    )
    add(
        "--seed",
        metavar="N",
        type=int,
        default=int(_env("SEED", str(DEFAULT_SEED))),
        help=f"seed of the generated demo data (default {DEFAULT_SEED})",
    )
    add(
        "--customers",
        metavar="N",
        type=int,
        default=int(_env("CUSTOMERS", str(DEFAULT_SIZE))),
        help=f"number of demo customers, numbered from 10000 (default {DEFAULT_SIZE})",
    )
    add(
        "--data",
        metavar="FILE",
        default=_env("DATA", "") or None,
        help="JSON file of extra customers",
    )
    add(
        "--strict",
        action="store_true",
        default=env_flag(_ENV + "STRICT", os.environ.get(_ENV + "STRICT")),
        help="accept only PHP-default hashing (refuse requests a real server would refuse)",
    )
    add(
        "--error-shape",
        choices=("bare", "signed"),
        default=_env("ERROR_SHAPE", "bare"),
        help="error answers without (bare, the default) or with credentials and a hash",
    )
    add(
        "--invoice-shape",
        choices=("flat", "nested", "mixed"),
        default=_env("INVOICE_SHAPE", "flat"),
        help="invoice rows of getInvoicesByCustomer: flat summaries (default), nested, or both",
    )
    add(
        "--logid",
        choices=("auto", "int", "str"),
        default=_env("LOGID", "auto"),
        help="type of the logid in error answers (default auto)",
    )
    add(
        "--latency-ms",
        metavar="MS",
        type=float,
        default=0.0,
        help="milliseconds added to every answer",
    )
    add(
        "--jitter-ms",
        metavar="MS",
        type=float,
        default=0.0,
        help="uniform extra latency of 0..N ms",
    )
    add(
        "--fault-rate",
        metavar="P",
        type=float,
        default=0.0,
        help="probability of a retryable failure (HTTP 502/503/429, API 9008 evenly)",
    )
    add(
        "--fault",
        type=_fault_option,
        action="append",
        default=[],
        metavar="KIND=P",
        help=f"probability P of one fault kind ({', '.join(FAULT_KINDS)}); repeatable",
    )
    add(
        "--retry-after", metavar="S", type=int, default=1, help="Retry-After seconds of 429 answers"
    )
    add(
        "--fault-seed", metavar="N", type=int, default=0, help="seed of the fault draws (default 0)"
    )
    add(
        "--log-level",
        metavar="LEVEL",
        default=None,
        help="e.g. DEBUG to log every request (never secrets)",
    )
    return parser


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _read_secret_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            secret = handle.read().strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ValueError(f"cannot read --secret-file {path!r}: {reason}") from None
    if not secret or "\n" in secret:
        raise ValueError(f"--secret-file {path!r} must hold the secret on one line")
    return secret


def _fault_plan(options: argparse.Namespace) -> FaultPlan | None:
    fields: dict[str, Any] = {
        "seed": options.fault_seed,
        "latency": options.latency_ms / 1000,
        "jitter": options.jitter_ms / 1000,
        "retry_after": options.retry_after,
    }
    if options.fault_rate:
        share = options.fault_rate / 4
        fields.update(http_502=share, http_503=share, rate_limit=share, api_9008=share)
    for kind, rate in options.fault:
        fields[kind] = rate
    plan = FaultPlan(**fields)
    return None if plan.quiet else plan


def _sandbox(options: argparse.Namespace) -> Sandbox:
    return Sandbox(
        merchant_id=options.merchant_id,
        secret=options.secret or _env("SECRET", DEFAULT_SECRET),
        seed=options.seed,
        customers=options.customers,
        strict=options.strict,
        error_shape=options.error_shape,
        invoice_shape=options.invoice_shape,
        logid=options.logid,
        faults=_fault_plan(options),
        data_file=options.data,
    )


def _announce(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _watch(event: threading.Event, stop: asyncio.Event) -> None:
    while not event.is_set():  # noqa: ASYNC110 - a threading.Event cannot be awaited
        await asyncio.sleep(0.05)
    stop.set()


async def _serve_until_signalled(
    sandbox: Sandbox,
    host: str,
    port: int,
    announce: Callable[[str], None],
    stop_event: threading.Event | None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not main thread
            continue
        installed.append(signum)
    try:
        async with sandbox.serve(host, port) as server:
            announce(
                f"Qvickly sandbox listening on {server.url} (merchant id {sandbox.merchant_id})"
            )
            watcher = asyncio.create_task(_watch(stop_event, stop)) if stop_event else None
            await stop.wait()
            if watcher is not None:
                watcher.cancel()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def serve_forever(
    sandbox: Sandbox | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    announce: Callable[[str], None] = _announce,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve ``sandbox`` (default: a fresh one) on ``host:port`` until SIGINT or SIGTERM.

    ``announce`` receives ``"Qvickly sandbox listening on http://HOST:PORT/ (merchant id
    ID)"`` once the socket is bound (default: printed to stdout). Setting ``stop_event``
    also stops it (signal handlers work only in the main thread).
    """
    box = sandbox if sandbox is not None else Sandbox()
    # KeyboardInterrupt: a second Ctrl-C, or platforms without signal handlers.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signalled(box, host, port, announce, stop_event))


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Entry point of ``python -m qvickly_async.sandbox`` and ``qvickly sandbox serve``.

    ``argv`` excludes the program name; a leading ``serve`` is accepted and ignored.
    ``prog`` is the command name shown in usage messages. Returns the process exit status.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["serve"]:
        args = args[1:]
    try:
        parser = build_parser() if prog is None else build_parser(prog)
    except (QvicklyInputError, ValueError) as error:  # a QVICKLY_SANDBOX_* default is invalid
        sys.stderr.write(f"{prog or 'python -m qvickly_async.sandbox'}: error: {error}\n")
        return 2
    options = parser.parse_args(args)
    if options.secret_file is not None:
        if options.secret is not None:
            parser.error("give either --secret or --secret-file, not both")
        try:
            options.secret = _read_secret_file(options.secret_file)
        except ValueError as error:
            parser.error(str(error))
    if not _is_loopback(options.host):
        sys.stderr.write(
            f"warning: serving on {options.host!r}, not a loopback address: the admin "
            "endpoints under /__sandbox__/ (faults, counters, settings) have no "
            "authentication, so anyone who can reach this port can change what it answers\n"
        )
    if options.log_level:
        logging.basicConfig(level=options.log_level.upper(), format="%(asctime)s %(message)s")
    try:
        sandbox = _sandbox(options)
    except (ValueError, TypeError, OSError) as error:
        parser.error(str(error))
    try:
        serve_forever(sandbox, host=options.host, port=options.port)
    except OSError as error:
        sys.stderr.write(f"cannot listen on {options.host}:{options.port}: {error}\n")
        return 1
    return 0


def sandbox_from_env(environ: Mapping[str, str] | None = None) -> Sandbox:
    """Build a sandbox configured from ``QVICKLY_SANDBOX_*`` environment variables."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str) -> str:
        return env.get(_ENV + name, default)

    return Sandbox(
        merchant_id=get("MERCHANT_ID", DEFAULT_MERCHANT_ID),
        secret=get("SECRET", DEFAULT_SECRET),
        seed=int(get("SEED", str(DEFAULT_SEED))),
        customers=int(get("CUSTOMERS", str(DEFAULT_SIZE))),
        strict=env_flag(_ENV + "STRICT", env.get(_ENV + "STRICT")),
        error_shape=get("ERROR_SHAPE", "bare"),  # type: ignore[arg-type]
        invoice_shape=get("INVOICE_SHAPE", "flat"),  # type: ignore[arg-type]
        logid=get("LOGID", "auto"),  # type: ignore[arg-type]
        data_file=get("DATA", "") or None,
    )


def app_factory() -> AsgiApp:
    """Build an ASGI app for ``uvicorn qvickly_async.sandbox:app_factory --factory``.

    Configured from ``QVICKLY_SANDBOX_*`` environment variables (see :func:`sandbox_from_env`).
    Socket-level faults need :meth:`Sandbox.serve` instead.
    """
    return sandbox_from_env().asgi_app
