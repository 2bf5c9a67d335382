"""Running the ``qvickly`` command as a real process, and what the sandbox says is there."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import qvickly_async
from qvickly_async import AsyncQvickly, Invoice
from qvickly_async.sandbox import Sandbox

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


def start_cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``python -m qvickly_async.cli ARGS`` with piped output."""
    return subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [*COMMAND, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=cli_env(env),
        cwd=ROOT,
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
