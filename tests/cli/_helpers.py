"""Running the ``qvickly`` command as a real process, and what the sandbox says is there."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import qvickly_async
from qvickly_async import AsyncQvickly, Invoice
from qvickly_async.sandbox import Sandbox, ServerHandle

ROOT = Path(__file__).resolve().parents[2]
#: Where the package under test was imported from (the checkout, or site-packages in nox).
PACKAGE_HOME = Path(qvickly_async.__file__).resolve().parents[1]
COMMAND = (sys.executable, "-m", "qvickly_async.cli")


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI process: no QVICKLY_* from the caller, the package under test
    importable (the same copy this process imported)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("QVICKLY_")}
    env["PYTHONPATH"] = str(PACKAGE_HOME)
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("COLUMNS", None)
    env.update(extra or {})
    return env


def run_cli(
    *args: str,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m qvickly_async.cli ARGS`` and return its outcome (never raises on status)."""
    return subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [*COMMAND, *args],
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=cli_env(env),
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def _ctrl_c_as_from_a_terminal() -> None:
    # A test run started in the background (``cmd &`` in a script) ignores SIGINT, and a
    # child inherits that: Python then installs no KeyboardInterrupt handler and the Ctrl-C
    # tests would wait for nothing. The CLI gets the default, as from a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``python -m qvickly_async.cli ARGS`` with piped output (Ctrl-C as from a terminal)."""
    return subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [*COMMAND, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=cli_env(env),
        cwd=ROOT,
        preexec_fn=_ctrl_c_as_from_a_terminal if os.name == "posix" else None,
    )


def wire_numbers(rows: Iterable[Mapping[str, Any]]) -> set[str]:
    """Invoice numbers of decoded wire rows, flat (``invoiceid_real``) or nested."""
    numbers = set()
    for row in rows:
        payment = row.get("PaymentData")
        value = payment["number"] if isinstance(payment, Mapping) else row["invoiceid_real"]
        numbers.add(str(value))
    return numbers


def sdk_invoices(numbers: Iterable[str], sandbox: Sandbox) -> dict[str, tuple[Invoice, ...]]:
    """Every customer's invoices as the SDK decodes them from ``sandbox`` (in-process)."""

    async def fetch() -> dict[str, tuple[Invoice, ...]]:
        async with AsyncQvickly.for_sandbox(sandbox) as client:
            results = await client.get_invoices_by_customers(list(numbers))
        return {result.customer_number: result.unwrap() for result in results}

    return asyncio.run(fetch())


def closed_port_url() -> str:
    """A loopback URL where nothing listens (a port that was just free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def temporary_files(directory: Path) -> list[str]:
    """Files a run may have left behind beside its output (temporary or partial)."""
    return sorted(path.name for path in directory.iterdir() if path.name.startswith("."))


def wait_until(condition: Callable[[], bool], *, timeout: float = 20.0) -> None:
    """Poll ``condition`` until it holds (a bounded wait for a process to make progress)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:  # pragma: no cover - only when the process hangs
            raise AssertionError("timed out waiting for the command to make progress")
        time.sleep(0.02)


@contextlib.contextmanager
def slow_to_connect(upstream: ServerHandle, delay: float) -> Iterator[str]:
    """A loopback TCP proxy to ``upstream`` whose every new connection costs ``delay`` seconds.

    Like a far-away server or a TLS handshake: the first request on a connection pays it,
    the next ones on the same connection do not. Yields the proxy's base URL.
    """
    ready = threading.Event()
    stop: list[Callable[[], object]] = []
    address: list[int] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(delay)
        up_reader, up_writer = await asyncio.open_connection(upstream.host, upstream.port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        address.append(server.sockets[0].getsockname()[1])
        finished = asyncio.Event()
        loop = asyncio.get_running_loop()
        stop.append(lambda: loop.call_soon_threadsafe(finished.set))
        ready.set()
        async with server:
            await finished.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"http://127.0.0.1:{address[0]}/"
    finally:
        stop[0]()
        thread.join(10)
