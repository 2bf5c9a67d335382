"""Batch-lookup benchmark: the SDK against hand-written reference clients, in one run.

``nox -s bench`` (or ``python bench/run.py``) starts the sandbox as a separate process on a
loopback port with a fixed added latency (default 20 ms), then measures, for each
concurrency, every client in a process of its own (so the CPU time is the client's alone):

* ``sdk``: :meth:`AsyncQvickly.iter_invoices_by_customers` with the default transport,
  typed models included;
* ``aiohttp``: a plain ``aiohttp.ClientSession``;
* ``httpx``: a plain ``httpx.AsyncClient`` (httpx's own connection pool);
* ``requests``: a sequential ``requests.Session`` (concurrency 1 only);

every reference client signing and verifying by hand with ``qvickly_async._signing``.
``--extra`` adds the alternatives the transport was chosen among (``httpx-aiohttp``,
``httpx-ours``, ``httpx-sharded``, ``httpx2``, ``sdk-httpx``). Each measurement is repeated
(``--repeat``); the table shows medians, the spread between repeats, and ratios computed
within each repeat. Then a memory check streams ``--memory-lookups`` lookups through
``iter_invoices_by_customers`` and reports the growth of peak RSS.

Targets are printed as PASS/FAIL; the exit status is 0 unless ``--strict``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MERCHANT_ID = "12345"
SECRET = "sandbox-secret"  # noqa: S105 - the sandbox's published test key
FIRST_CUSTOMER = 10000
CORE_CLIENTS = ("sdk", "aiohttp", "httpx", "requests")
EXTRA_CLIENTS = ("httpx-aiohttp", "httpx-ours", "httpx-sharded", "httpx2", "sdk-httpx")
OPTIONAL_MODULES = {"httpx-aiohttp": "httpx_aiohttp", "httpx2": "httpx2"}

# The targets the benchmark checks, all at the reference point unless stated.
TARGET_RATIO = 0.7  # SDK lookups/s >= 0.7 x plain aiohttp
AIM_RATIO = 0.9
TARGET_CPU_MS = 1.0  # SDK CPU per lookup
AIM_CPU_MS = 0.5
TARGET_CPU_GROWTH = 1.5  # CPU/lookup at 256 in flight within 1.5 x its value at 16
TARGET_MEMORY_MIB = 50.0


def _write(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--latency-ms", type=float, default=20.0, help="added server latency (default 20)")
    add("--lookups", type=int, default=2000, help="lookups per measurement (default 2000)")
    add(
        "--concurrency",
        default="1,16,64,256",
        help="comma-separated lookups in flight (default 1,16,64,256)",
    )
    add(
        "--per-connection",
        type=int,
        default=100,
        help="cap lookups at this many per connection, so concurrency 1 stays short",
    )
    add("--clients", default=",".join(CORE_CLIENTS), help="comma-separated clients")
    add("--extra", action="store_true", help="also measure the alternative transports")
    add("--repeat", type=int, default=3, help="repeats of every measurement (default 3)")
    add("--max-seconds", type=float, default=15.0, help="cap of one measurement")
    add("--memory-lookups", type=int, default=20000, help="lookups of the memory check")
    add("--memory-concurrency", type=int, default=64)
    add("--no-memory", action="store_true", help="skip the memory check")
    add("--quick", action="store_true", help="a small run: fewer lookups, one repeat")
    add("--strict", action="store_true", help="exit 1 when a target fails")
    add("--server-url", default=None, help="use a running sandbox instead of starting one")
    add("--profile", default=None, metavar="DIR", help="cProfile every SDK measurement here")
    add("--json", default=None, metavar="PATH", help="also write every raw figure here")
    options = parser.parse_args(argv)
    if options.quick:
        options.lookups = min(options.lookups, 500)
        options.repeat = 1
        options.memory_lookups = min(options.memory_lookups, 3000)
        options.max_seconds = min(options.max_seconds, 6.0)
        options.per_connection = min(options.per_connection, 40)
    options.concurrency = [int(part) for part in options.concurrency.split(",") if part]
    clients = [part for part in options.clients.split(",") if part]
    if options.extra:
        clients += [name for name in EXTRA_CLIENTS if name not in clients]
    options.clients = clients
    return options


def _env() -> dict[str, str]:
    env = dict(os.environ)
    if importlib.util.find_spec("qvickly_async") is None:  # running from a source checkout
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@contextmanager
def sandbox_server(options: argparse.Namespace, customers: int) -> Iterator[str]:
    """Run ``python -m qvickly_async.sandbox`` on a free loopback port; yield its URL."""
    if options.server_url:
        yield options.server_url
        return
    command = [
        sys.executable,
        "-m",
        "qvickly_async.sandbox",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--latency-ms",
        str(options.latency_ms),
        "--customers",
        str(customers),
    ]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening on " not in line:
            _, errors = process.communicate(timeout=10)
            raise RuntimeError(f"the sandbox did not start: {line}{errors}")
        yield line.split("listening on ", 1)[1].split()[0]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh process and return its figures."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(HERE / "workers.py"), json.dumps(spec)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=spec.get("max_seconds", 60) * 4 + 120,
        check=False,
    )
    if completed.returncode != 0:
        return {"failed": completed.stderr.strip().splitlines()[-1:] or ["(no output)"]}
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def lookups_for(options: argparse.Namespace, concurrency: int) -> int:
    """Lookups of one measurement at ``concurrency``."""
    return max(1, min(int(options.lookups), int(options.per_connection) * concurrency))


def latency_bound(lookups: int, concurrency: int, latency: float) -> float:
    """Lookups/s if every lookup took exactly the added latency: N / (ceil(N/c) x latency)."""
    if latency <= 0:
        return math.inf
    return lookups / (math.ceil(lookups / concurrency) * latency)


def _available(client: str) -> bool:
    module = OPTIONAL_MODULES.get(client)
    return module is None or importlib.util.find_spec(module) is not None


def run_matrix(
    options: argparse.Namespace, url: str
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Every (client, concurrency) measurement, ``options.repeat`` times, interleaved."""
    clients = [client for client in options.clients if _available(client)]
    skipped = [client for client in options.clients if client not in clients]
    if skipped:
        _write(f"(not installed, skipped: {', '.join(skipped)})")
    results: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for repeat in range(options.repeat):
        load = os.getloadavg()[0]
        started = time.monotonic()
        # Alternate the order between repeats so no client always runs first.
        order = clients if repeat % 2 == 0 else list(reversed(clients))
        for concurrency in options.concurrency:
            for client in order:
                if client == "requests" and concurrency != 1:
                    continue  # sequential by nature
                spec = {
                    "client": client,
                    "url": url,
                    "merchant_id": MERCHANT_ID,
                    "secret": SECRET,
                    "concurrency": concurrency,
                    "lookups": lookups_for(options, concurrency),
                    "first_customer": FIRST_CUSTOMER,
                    "customers": options.customers,
                    "max_seconds": options.max_seconds,
                }
                if options.profile and client.startswith("sdk"):
                    Path(options.profile).mkdir(parents=True, exist_ok=True)
                    spec["profile"] = str(
                        Path(options.profile) / f"{client}-c{concurrency}-r{repeat}.prof"
                    )
                result = measure(spec)
                result["repeat"] = repeat
                results.setdefault((client, concurrency), []).append(result)
        _write(
            f"repeat {repeat + 1}/{options.repeat}: {time.monotonic() - started:.0f} s, "
            f"load average {load:.2f} -> {os.getloadavg()[0]:.2f}"
        )
    return results


def _median(values: Sequence[float]) -> float:
    finite = [value for value in values if not math.isnan(value)]
    return statistics.median(finite) if finite else math.nan


def _spread(values: Sequence[float]) -> float:
    finite = [value for value in values if not math.isnan(value)]
    if len(finite) < 2:
        return math.nan
    middle = statistics.median(finite)
    return (max(finite) - min(finite)) / middle if middle else math.nan


def _ratios(
    results: dict[tuple[str, int], list[dict[str, Any]]], client: str, concurrency: int
) -> list[float]:
    """``client``'s lookups/s over aiohttp's, per repeat (measured minutes apart at most)."""
    mine = {run["repeat"]: run for run in results.get((client, concurrency), []) if "rate" in run}
    theirs = {
        run["repeat"]: run for run in results.get(("aiohttp", concurrency), []) if "rate" in run
    }
    return [
        mine[repeat]["rate"] / theirs[repeat]["rate"]
        for repeat in sorted(mine.keys() & theirs.keys())
        if theirs[repeat]["rate"]
    ]


def _fmt(value: float, digits: int = 0, suffix: str = "") -> str:
    if math.isnan(value) or math.isinf(value):
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def summarize(
    options: argparse.Namespace, results: dict[tuple[str, int], list[dict[str, Any]]]
) -> dict[tuple[str, int], dict[str, float]]:
    """Print the table; return the medians per (client, concurrency)."""
    latency = options.latency_ms / 1000
    header = (
        "| client | in flight | lookups | lookups/s | spread | CPU ms/lookup | spread "
        "| p50 ms | p99 ms | x latency bound | x aiohttp |"
    )
    _write(header)
    _write("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary: dict[tuple[str, int], dict[str, float]] = {}
    for concurrency in options.concurrency:
        for client in options.clients:
            runs = results.get((client, concurrency))
            if not runs:
                continue
            good = [run for run in runs if "rate" in run]
            if not good:
                _write(f"| {client} | {concurrency} | failed: {runs[0].get('failed')} |")
                continue
            errors = sum(run["errors"] for run in good)
            rate = _median([run["rate"] for run in good])
            cpu = _median([run["cpu_ms"] for run in good])
            lookups = int(_median([run["lookups"] for run in good]))
            ratios = _ratios(results, client, concurrency)
            ratio = _median(ratios) if ratios else math.nan
            bound = latency_bound(lookups, concurrency, latency)
            summary[client, concurrency] = {"rate": rate, "cpu_ms": cpu, "ratio": ratio}
            note = f" ({errors} errors: {good[0].get('first_error')})" if errors else ""
            rate_spread = _spread([run["rate"] for run in good])
            cpu_spread = _spread([run["cpu_ms"] for run in good])
            _write(
                f"| {client}{note} | {concurrency} | {lookups:,} | {_fmt(rate)} "
                f"| {_fmt(100 * rate_spread, 0, '%')} "
                f"| {_fmt(cpu, 3)} | {_fmt(100 * cpu_spread, 0, '%')} "
                f"| {_fmt(_median([run['p50_ms'] for run in good]), 1)} "
                f"| {_fmt(_median([run['p99_ms'] for run in good]), 1)} "
                f"| {_fmt(rate / bound, 2)} "
                f"| {_fmt(ratio, 2)} |"
            )
    return summary


def memory_check(options: argparse.Namespace, url: str) -> dict[str, Any]:
    """Stream ``--memory-lookups`` lookups through the SDK in a fresh process."""
    spec = {
        "client": "memory",
        "url": url,
        "merchant_id": MERCHANT_ID,
        "secret": SECRET,
        "concurrency": options.memory_concurrency,
        "lookups": options.memory_lookups,
        "first_customer": FIRST_CUSTOMER,
        "customers": options.customers,
        "max_seconds": 600,
    }
    return measure(spec)


def check_targets(
    options: argparse.Namespace,
    summary: dict[tuple[str, int], dict[str, float]],
    memory: dict[str, Any] | None,
) -> bool:
    """Print PASS/FAIL per target; return whether all that could be checked passed."""
    verdicts: list[tuple[str, bool | None, str]] = []
    reference = 64 if 64 in options.concurrency else max(options.concurrency)
    sdk = summary.get(("sdk", reference))
    if sdk is not None:
        ratio = sdk["ratio"]
        verdicts.append(
            (
                f"SDK lookups/s >= {TARGET_RATIO}x plain aiohttp at {reference} in flight "
                f"(aim {AIM_RATIO}x)",
                None if math.isnan(ratio) else ratio >= TARGET_RATIO,
                f"{_fmt(ratio, 2)}x",
            )
        )
        verdicts.append(
            (
                f"SDK CPU <= {TARGET_CPU_MS} ms/lookup at {reference} in flight "
                f"(aim {AIM_CPU_MS} ms)",
                sdk["cpu_ms"] <= TARGET_CPU_MS,
                f"{_fmt(sdk['cpu_ms'], 3)} ms",
            )
        )
    low, high = summary.get(("sdk", 16)), summary.get(("sdk", 256))
    if low is not None and high is not None:
        growth = high["cpu_ms"] / low["cpu_ms"]
        verdicts.append(
            (
                f"SDK CPU/lookup at 256 in flight <= {TARGET_CPU_GROWTH}x its value at 16",
                growth <= TARGET_CPU_GROWTH,
                f"{_fmt(growth, 2)}x ({_fmt(low['cpu_ms'], 3)} -> {_fmt(high['cpu_ms'], 3)} ms)",
            )
        )
    if memory is not None:
        if "growth_mib" in memory:
            verdicts.append(
                (
                    f"peak RSS growth over {memory['lookups']:,} streamed lookups "
                    f"< {TARGET_MEMORY_MIB:.0f} MiB",
                    memory["growth_mib"] < TARGET_MEMORY_MIB and not memory["errors"],
                    f"{memory['growth_mib']:.1f} MiB ({memory['errors']} errors)",
                )
            )
        else:
            verdicts.append(("memory check", False, f"failed: {memory.get('failed')}"))
    ok = True
    for text, passed, figure in verdicts:
        label = "n/a " if passed is None else ("PASS" if passed else "FAIL")
        ok = ok and passed is not False
        _write(f"{label}  {text}: {figure}")
    return ok


def _versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for name in ("httpx", "httpcore", "aiohttp", "requests", "httpx-aiohttp", "httpx2"):
        try:
            parts.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    parts.append(f"sniffio {'present' if importlib.util.find_spec('sniffio') else 'missing'}")
    return ", ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; see ``--help``."""
    options = parse_args(argv)
    widest = max(options.concurrency)
    largest = max(lookups_for(options, c) + 2 * c for c in options.concurrency)
    memory_span = (
        0 if options.no_memory else options.memory_lookups + 2 * options.memory_concurrency
    )
    options.customers = max(largest, memory_span) + 16
    _write(f"# qvickly-async batch benchmark ({time.strftime('%Y-%m-%d %H:%M')})")
    _write(f"{_versions()}; {os.cpu_count()} CPUs, {platform.machine()}")
    _write(
        f"server: sandbox process on loopback, +{options.latency_ms:g} ms per answer, "
        f"{options.customers:,} customers; {options.lookups:,} lookups per measurement "
        f"(at most {options.per_connection} per connection), {options.repeat} repeat(s), "
        f"widest {widest} in flight"
    )
    with sandbox_server(options, options.customers) as url:
        # Prime the server's answer cache for the customers the measurements use, so no
        # client pays for first-time rendering on the server.
        measure(
            {
                "client": "aiohttp",
                "url": url,
                "merchant_id": MERCHANT_ID,
                "secret": SECRET,
                "concurrency": 64,
                "lookups": min(options.customers, largest),
                "first_customer": FIRST_CUSTOMER,
                "customers": options.customers,
                "max_seconds": 120,
            }
        )
        results = run_matrix(options, url)
        _write()
        summary = summarize(options, results)
        memory = None if options.no_memory else memory_check(options, url)
    _write()
    if memory is not None and "growth_mib" in memory:
        _write(
            f"memory: {memory['lookups']:,} lookups ({memory['invoices']:,} invoices) streamed "
            f"in {memory['wall']:.1f} s; VmHWM {memory['hwm_before_kib'] / 1024:.1f} -> "
            f"{memory['hwm_after_kib'] / 1024:.1f} MiB"
        )
    ok = check_targets(options, summary, memory)
    if options.json:
        raw = {
            "options": dict(vars(options)),
            "results": [
                {"client": client, "concurrency": concurrency, "runs": runs}
                for (client, concurrency), runs in results.items()
            ],
            "memory": memory,
        }
        Path(options.json).write_text(json.dumps(raw, indent=2, default=str))
    return 0 if ok or not options.strict else 1


if __name__ == "__main__":
    sys.exit(main())
