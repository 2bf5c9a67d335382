"""Running a batch of keyed lookups from the command line, with its controls and outputs.

Shared by every batch command (``qvickly invoices`` today): the options
(:func:`batch_options`: ``--concurrency``, ``--rate-limit``, ``--max-retries``,
``--retry-budget``, ``--max-connection-failures``, ``--failed-file``) and :func:`run_batch`,
which drives the SDK's streaming batch, prints one line per failed key, stops at once on an
error that concerns every call or after a run of connection failures, and finishes the
outputs: the ``--output`` file only replaced by a good run (see :mod:`._output`), the
``--failed-file`` listing every key whose result is not in the output, so that
``--from-file FAILED`` re-runs just those.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Final, Protocol, TextIO, TypeVar

import attrs
import click
import httpx
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

from .._batch import BatchProgress
from .._client import AsyncQvickly
from .._options import NOT_GIVEN, NotGiven
from .._retry import RetryBudget
from ..exceptions import QvicklyError
from ._console import logging_to, say
from ._messages import Explanation, explain
from ._output import OutputFile, format_for_output
from ._settings import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_PIPE,
    STDIN,
    Connection,
    make_client,
    read_numbers,
)

__all__ = [
    "BatchControls",
    "BatchResult",
    "BatchWriter",
    "batch_keys",
    "batch_options",
    "parse_retry_budget",
    "run_batch",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_C = TypeVar("_C")


def batch_keys(
    given: tuple[str, ...],
    options: dict[str, Any],
    *,
    from_file: str | None,
    excel: bool,
    output_format: str | None,
    output: str | None,
    nothing_given: str,
    connect: Callable[[], _C],
) -> tuple[str, list[str], _C]:
    """Check a batch command's inputs; return its output format, keys and connection.

    The keys are the arguments, then those of ``--from-file`` (read only once ``connect``
    has resolved the credentials); usage errors say what clashes.
    """
    if from_file == STDIN and options["secret"] == STDIN:
        raise click.UsageError("--from-file - and --secret - cannot both read standard input")
    if excel and output_format not in (None, "csv"):
        raise click.UsageError("--excel applies to --format csv only")
    chosen = output_format or ("csv" if excel else format_for_output(output))
    if not given and from_file is None:
        raise click.UsageError(nothing_given)
    connection = connect()
    keys = list(given)
    if from_file is not None:
        keys.extend(read_numbers(from_file))
    if not keys:
        raise click.UsageError(nothing_given)
    return chosen, keys, connection


_R = TypeVar("_R", bound="BatchResult")
_R_co = TypeVar("_R_co", bound="BatchResult", covariant=True)
_R_contra = TypeVar("_R_contra", bound="BatchResult", contravariant=True)

#: Stopped by SIGTERM (128 + 15), which ends a batch like Ctrl-C does.
EXIT_TERMINATED: Final = 143
#: Consecutive connection failures after which a batch stops, unless told otherwise.
DEFAULT_MAX_CONNECTION_FAILURES: Final = 10
_BUDGET: Final = re.compile(
    r"(?P<minimum>\d+)(?:\s*\+\s*(?P<ratio>\d+(?:\.\d+)?)\s*%)?|(?P<only>\d+(?:\.\d+)?)\s*%"
)


class BatchResult(Protocol):
    """One key's outcome, as the SDK's batches yield them (``CustomerResult`` and alike)."""

    @property
    def error(self) -> QvicklyError | None:
        """The error the lookup ended with, ``None`` when it succeeded."""


class BatchWriter(Protocol[_R_contra]):
    """Receives every key's result and writes it out."""

    @property
    def written(self) -> int:
        """Records written so far."""

    def start(self) -> None:
        """Write whatever precedes the first result (a header, an opening bracket)."""

    def add(self, result: _R_contra) -> None:
        """Write (or remember) one result."""

    def finish(self) -> None:
        """Write whatever follows the last result and flush."""


class ResultStream(Protocol[_R_co]):
    """The SDK's streaming batch (:class:`~qvickly_async.InvoiceStream` and alike)."""

    def __aiter__(self) -> AsyncIterator[_R_co]:
        """Results in completion order."""

    async def aclose(self) -> None:
        """Cancel the lookups still in flight."""


def parse_retry_budget(text: str) -> RetryBudget | None:
    """Read ``--retry-budget``: ``N``, ``P%``, ``N+P%`` or ``none``.

    ``10+20%`` (the default) allows 10 retries plus 20 % of the lookups started; ``0`` no
    retry at all; ``none`` no shared cap (each lookup still has ``--max-retries``).

    Raises:
        click.BadParameter: any other text.
    """
    spec = text.strip().lower()
    if spec in ("none", "off", "unlimited"):
        return None
    match = _BUDGET.fullmatch(spec)
    if match is None:
        raise click.BadParameter(
            f"{text!r}: expected N, P%, N+P% (for example 10+20%) or none",
            param_hint="'--retry-budget'",
        )
    minimum = int(match["minimum"] or 0)
    ratio = float(match["ratio"] or match["only"] or 0) / 100
    return RetryBudget(ratio=ratio, minimum=minimum)


def _budget_option(
    context: click.Context, parameter: click.Parameter, value: str | None
) -> RetryBudget | NotGiven | None:
    return NOT_GIVEN if value is None else parse_retry_budget(value)


def batch_options(function: _F) -> _F:
    """Add the batch controls to a command (read back by :meth:`BatchControls.from_options`)."""
    options = [
        click.option(
            "--concurrency",
            type=click.IntRange(min=1),
            metavar="N",
            help="Lookups in flight at once; the connection pool is sized to match [default: 64].",
        ),
        click.option(
            "--rate-limit",
            type=click.FloatRange(min=0.0, min_open=True),
            metavar="R",
            help="At most R requests per second (retries included).",
        ),
        click.option(
            "--max-retries",
            type=click.IntRange(min=0, max=20),
            metavar="N",
            help="Retries of one lookup after its first attempt, where safe [default: 2].",
        ),
        click.option(
            "--retry-budget",
            metavar="N+P%",
            callback=_budget_option,
            help="Retries shared by the whole batch: N plus P % of the lookups started "
            "(10+20%), N, P%, or none for no shared cap [default: 10+20%].",
        ),
        click.option(
            "--max-connection-failures",
            type=click.IntRange(min=0),
            default=DEFAULT_MAX_CONNECTION_FAILURES,
            show_default=True,
            metavar="N",
            help="Stop the batch after N lookups in a row could not reach the endpoint "
            "(refused, reset, timed out); 0 never stops.",
        ),
        click.option(
            "--failed-file",
            metavar="PATH",
            help="Write the numbers whose results are not in the output (failed, or not "
            "looked up when the batch stopped), one a line; re-run them with --from-file PATH.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@attrs.frozen
class BatchControls:
    """How a batch runs: its options, as :func:`batch_options` collected them."""

    concurrency: int | None = None
    rate_limit: float | None = None
    max_retries: int | None = None
    retry_budget: RetryBudget | NotGiven | None = NOT_GIVEN
    max_connection_failures: int = DEFAULT_MAX_CONNECTION_FAILURES
    failed_file: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> BatchControls:
        """Take (and remove) the batch options from a command's keyword arguments."""
        return cls(
            concurrency=options.pop("concurrency"),
            rate_limit=options.pop("rate_limit"),
            max_retries=options.pop("max_retries"),
            retry_budget=options.pop("retry_budget"),
            max_connection_failures=options.pop("max_connection_failures"),
            failed_file=options.pop("failed_file"),
        )

    def client_options(self) -> dict[str, Any]:
        """Return the keyword arguments for :func:`~._settings.make_client`.

        ``max_retries``, and a connection pool that holds ``concurrency`` lookups in flight.
        """
        options: dict[str, Any] = {}
        if self.max_retries is not None:
            options["max_retries"] = self.max_retries
        if self.concurrency is not None:
            options["limits"] = httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            )
        return options

    def stream_options(self) -> dict[str, Any]:
        """Keyword arguments for the SDK's streaming batch (``iter_..._by_...``)."""
        extra: dict[str, Any] = {}
        if self.retry_budget is not NOT_GIVEN:
            extra["retry_budget"] = self.retry_budget
        return {"concurrency": self.concurrency, "rate_limit": self.rate_limit, **extra}


@attrs.define
class _Tally:
    """What a batch got, kept outside the event loop so Ctrl-C can report it."""

    ok: set[str] = attrs.Factory(set)
    failed: list[str] = attrs.Factory(list)
    fatal: Explanation | None = None
    stopped: Explanation | None = None
    interrupted: bool = False
    terminated: bool = False

    @property
    def done(self) -> int:
        return len(self.ok) + len(self.failed)

    @property
    def complete(self) -> bool:
        return self.fatal is None and self.stopped is None and not self.interrupted


def _progress(console: Console, *, total: int, noun: str, shown: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn(f"{noun}s"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not shown,
    )


async def _drive(
    client: AsyncQvickly,
    start: Callable[..., ResultStream[_R]],
    key_of: Callable[[_R], str],
    writer: BatchWriter[_R],
    tally: _Tally,
    *,
    keys: list[str],
    controls: BatchControls,
    where: str,
    console: Console,
    progress: Progress,
    noun: str,
) -> None:
    task: TaskID = progress.add_task(noun, total=len(keys), failed=0)

    def on_progress(state: BatchProgress) -> None:
        progress.update(task, completed=state.done, failed=state.failed)

    in_a_row = 0
    limit = controls.max_connection_failures
    loop, main = asyncio.get_running_loop(), asyncio.current_task()

    def terminate() -> None:  # SIGTERM (a job runner's timeout, kill): end like Ctrl-C
        tally.terminated = True
        if main is not None:
            main.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGTERM, terminate)
    with progress:
        async with client:
            stream = start(
                client, **controls.stream_options(), on_progress=on_progress, total=len(keys)
            )
            try:
                async for result in stream:
                    key = key_of(result)
                    if result.error is None:
                        in_a_row = 0
                        tally.ok.add(key)
                        writer.add(result)
                        continue
                    explanation = explain(result.error, where)
                    if explanation.every_call:
                        tally.fatal = explanation
                        return
                    tally.failed.append(key)
                    say(console, f"{noun} {key}: {explanation.detail}", style="red")
                    writer.add(result)
                    in_a_row = in_a_row + 1 if explanation.unreachable else 0
                    if limit and in_a_row >= limit:
                        tally.stopped = explanation
                        return
            finally:
                await stream.aclose()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _short_list(keys: list[str], shown: int = 20) -> str:
    text = ", ".join(keys[:shown])
    if len(keys) > shown:
        text += f" and {len(keys) - shown} more"
    return text


def _broken_pipe() -> None:
    # Python would complain again when it flushes stdout at exit.
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    raise click.exceptions.Exit(EXIT_PIPE)


def _write_failed_file(target: OutputFile, stream: TextIO, keys: list[str]) -> None:
    for key in keys:
        stream.write(key + "\n")
    target.commit()


def run_batch(
    *,
    connection: Connection,
    keys: list[str],
    start: Callable[..., ResultStream[_R]],
    key_of: Callable[[_R], str],
    make_writer: Callable[[TextIO], BatchWriter[_R]],
    output: OutputFile,
    controls: BatchControls,
    console: Console,
    quiet: bool,
    verbose: int,
    noun: str = "customer",
    record: str = "invoice",
) -> None:
    """Run a batch over ``keys`` (distinct, input order) and finish its outputs; exits.

    ``start(client, **stream_options)`` returns the SDK's streaming batch over ``keys``
    (for example ``lambda client, **options: client.iter_invoices_by_customers(keys,
    **options)``); ``key_of`` names a result's key. ``make_writer`` gets the output stream.
    ``noun`` names a key and ``record`` what the writer writes, in messages.

    Exit status (raised as :class:`click.exceptions.Exit` unless 0): 0 every key looked up,
    1 some failed or the endpoint could not be reached, 2 an error that concerns every call
    (credentials refused), 130 interrupted (Ctrl-C), 141 the reader of standard output went
    away, 143 terminated (SIGTERM).

    Raises:
        ConfigError: the client refused the settings, or an output cannot be written.
    """
    failed_path = controls.failed_file
    if failed_path is not None:
        if failed_path == STDIN and not output.is_file:
            raise click.UsageError("--failed-file - needs --output FILE: both would be stdout")
        if output.path is not None and os.path.abspath(failed_path) == os.path.abspath(output.path):
            raise click.UsageError("--failed-file and --output name the same file")
    client = make_client(connection, **controls.client_options())  # before any file is made
    failed_target = (
        OutputFile(controls.failed_file, output_format="text")
        if controls.failed_file is not None
        else None
    )
    failed_stream = failed_target.open() if failed_target is not None else None
    try:
        stream = output.open()
    except BaseException:
        if failed_target is not None:
            failed_target.abandon(keep_partial=False)
        raise
    writer = make_writer(stream)
    tally = _Tally()
    started = time.monotonic()
    shown = len(keys) > 1 and not quiet and console.is_terminal
    progress = _progress(console, total=len(keys), noun=noun, shown=shown)
    committed = False
    kept: str | None = None
    try:
        writer.start()
        with logging_to(console, verbose):
            try:
                asyncio.run(
                    _drive(
                        client, start, key_of, writer, tally, keys=keys, controls=controls,
                        where=connection.where, console=console, progress=progress, noun=noun,
                    )
                )  # fmt: skip
            except KeyboardInterrupt:
                tally.interrupted = True
            except asyncio.CancelledError:
                if not tally.terminated:
                    raise
                tally.interrupted = True
        writer.finish()  # also after a stop: a JSON array is closed, a table printed
        if tally.complete and (tally.ok or not output.existed):
            output.commit()
            committed = True
        else:
            kept = output.abandon(keep_partial=bool(tally.ok))
    except BrokenPipeError:
        output.abandon(keep_partial=False)
        if failed_target is not None:
            failed_target.abandon(keep_partial=False)
        _broken_pipe()
    finally:
        if not committed and kept is None:
            output.abandon(keep_partial=False)
    missing = [key for key in keys if key not in tally.ok]
    if failed_target is not None and failed_stream is not None:
        _write_failed_file(failed_target, failed_stream, missing)
    elapsed = time.monotonic() - started
    _report(
        console, tally, keys=keys, missing=missing, output=output, committed=committed,
        kept=kept, writer=writer, controls=controls, quiet=quiet, elapsed=elapsed,
        noun=noun, record=record,
    )  # fmt: skip


def _report(
    console: Console,
    tally: _Tally,
    *,
    keys: list[str],
    missing: list[str],
    output: OutputFile,
    committed: bool,
    kept: str | None,
    writer: BatchWriter[Any],
    controls: BatchControls,
    quiet: bool,
    elapsed: float,
    noun: str,
    record: str,
) -> None:
    total = len(keys)
    if tally.fatal is not None:
        say(console, f"Error: {tally.fatal.text}", style="red")
    elif tally.interrupted:
        how = "terminated" if tally.terminated else "interrupted"
        say(console, f"{how}: {tally.done} of {total} {noun}s done", style="yellow")
    elif tally.stopped is not None:
        say(
            console,
            f"stopped after {controls.max_connection_failures} {noun}s in a row could not "
            f"reach the endpoint ({tally.stopped.text}); "
            f"{total - tally.done} of {total} {noun}s not looked up",
            style="red",
        )
    if tally.failed:
        say(
            console,
            f"{len(tally.failed)} of {total} {noun}s failed: {_short_list(tally.failed)}",
            style="red",
        )
    if output.is_file and not committed:
        note = f"{output.name} {'left unchanged' if output.existed else 'not written'}"
        if kept is not None:
            note += f"; the {_plural(len(tally.ok), noun)} looked up are in {kept}"
        elif tally.complete and not tally.ok:
            note += f": no {noun} was looked up"
        say(console, note, style="yellow")
    if controls.failed_file is not None and missing and not quiet:
        say(
            console,
            f"{_plural(len(missing), noun)} to re-run written to {controls.failed_file} "
            f"(--from-file {controls.failed_file})",
        )
    if not quiet and tally.fatal is None:
        target = output.name if committed or not output.is_file else kept
        succeeded = len(tally.ok)
        looked_up = f"{succeeded} of {total} {noun}s" if total > 1 else _plural(succeeded, noun)
        written = (
            f"{_plural(writer.written, record)} written to {target}"
            if target is not None
            else "nothing written"
        )
        say(console, f"{looked_up} looked up, {written} in {elapsed:.1f} s")
    if tally.fatal is not None:
        raise click.exceptions.Exit(tally.fatal.exit_status)
    if tally.interrupted:
        raise click.exceptions.Exit(EXIT_TERMINATED if tally.terminated else EXIT_INTERRUPTED)
    if tally.failed or tally.stopped is not None or missing:
        raise click.exceptions.Exit(EXIT_FAILED)
