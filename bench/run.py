"""Batch-lookup benchmark: the SDK against a hand-written aiohttp client, in one run.

``nox -s bench`` (or ``python bench/run.py``) starts one sandbox process per row shape
(``flat``, ``nested``, ``mixed``: ``--invoice-shape``) and latency on loopback ports, then
measures, for each shape and concurrency, every client in a process of its own (so the CPU
time is the client's alone):

* ``sdk``: :meth:`AsyncQvickly.iter_invoices_by_customers` as a new user would call it
  (default transport and options, only ``concurrency=``), typed models included;
* ``aiohttp``: a plain ``aiohttp.ClientSession`` that signs and verifies exactly like the SDK
  (``qvickly_async._signing``) but builds no models: the reference;
* ``sdk-payment`` (nested rows only): :meth:`AsyncQvickly.iter_payment_infos` over as many
  invoice numbers (found before the measured phase), one typed ``Payment`` per lookup, to
  compare with the ``sdk`` nested invoice lookups of the same run.

``--extra`` adds ``aiohttp-orjson`` (the reference parsing JSON with orjson, as the SDK's
verifier does, to show how much of the gap is the JSON parser), ``httpx`` (a plain
``httpx.AsyncClient``), ``requests`` (sequential,
concurrency 1 only) and the alternatives the transport was chosen among (``httpx-aiohttp``,
``httpx-ours``, ``httpx-sharded``, ``httpx2``, ``sdk-httpx``). Each measurement is repeated
(``--repeat``, interleaved: every repeat runs every shape, concurrency and client once, in
alternating order); the table shows the best of the repeats (highest lookups/s, lowest CPU
per lookup: on a shared machine interference only slows a run down), the spread between
repeats, the ratio of the SDK's best lookups/s to the reference's best, and the median of the
ratios computed within each repeat. The server's own CPU per lookup is shown too, so a
saturated server would be visible.

Then two memory checks: the growth of peak RSS while streaming ``--memory-lookups`` nested
lookups through ``iter_invoices_by_customers``, and the memory one kept nested ``Invoice``
holds (tracemalloc, averaged over many decoded rows, the JSON text parsed inside the traced
window and then dropped).

Targets are printed as PASS/FAIL; the exit status is 0 unless ``--strict``.
"""

from __future__ import annotations

import argparse
import contextlib
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
SHAPES = ("flat", "nested", "mixed")
CORE_CLIENTS = ("sdk", "aiohttp", "sdk-payment")
#: get_payment_info lookups (issue 12): one payment per lookup, measured on nested rows only.
PAYMENT_CLIENT = "sdk-payment"
TARGET_PAYMENT_RATIO = 0.9  # payments/s >= 0.9 x nested invoice lookups/s (sdk), same run
EXTRA_CLIENTS = (
    "aiohttp-orjson",
    "httpx",
    "requests",
    "httpx-aiohttp",
    "httpx-ours",
    "httpx-sharded",
    "httpx2",
    "sdk-httpx",
)
OPTIONAL_MODULES = {"httpx-aiohttp": "httpx_aiohttp", "httpx2": "httpx2", "requests": "requests"}
REFERENCE = "aiohttp"
# ``--baseline-python``: an interpreter whose ``qvickly_async`` is an older version; it runs
# the ``sdk-base`` client (and the baseline Invoice size), so old and new are compared in the
# same run.
BASELINE_CLIENTS = ("sdk-base", "invoice-size-base")
BASELINE_PYTHON = sys.executable

# Targets (issue 10), at 64 in flight unless stated: (min ratio to aiohttp, max CPU ms/lookup).
TARGET_AT = 64
TARGETS = {"flat": (0.95, 0.30), "nested": (0.9, 0.45), "mixed": (0.9, 0.45)}
WIDE = 256  # concurrency from which the wide latency applies
TARGET_WIDE_RATIO = 0.9  # at 256 in flight, 50 ms latency, every shape
TARGET_MEMORY_MIB = 30.0  # peak RSS growth streaming the nested memory check
# tracemalloc size of one kept nested Invoice on the code before issue 10 (wave2-base),
# measured with this bench (``invoice-size`` worker, 400 rows): the target is half of it.
OLD_NESTED_INVOICE_BYTES = 14556
TARGET_INVOICE_FRACTION = 0.5


def _write(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--shapes", default=",".join(SHAPES), help="row shapes (default flat,nested,mixed)")
    add("--latency-ms", type=float, default=20.0, help="added server latency (default 20)")
    add(
        "--wide-latency-ms",
        type=float,
        default=50.0,
        help=f"added latency at {WIDE} or more in flight (default 50)",
    )
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
    add("--extra", action="store_true", help="also measure httpx, requests and alternatives")
    add("--repeat", type=int, default=3, help="repeats of every measurement (default 3)")
    add("--max-seconds", type=float, default=15.0, help="cap of one measurement")
    add("--memory-lookups", type=int, default=20000, help="nested lookups of the RSS check")
    add("--memory-concurrency", type=int, default=64)
    add("--invoice-rows", type=int, default=400, help="rows of the kept-Invoice size check")
    add("--no-memory", action="store_true", help="skip the memory checks")
    add("--quick", action="store_true", help="a small run: fewer lookups, one repeat")
    add("--strict", action="store_true", help="exit 1 when a target fails")
    add(
        "--baseline-python",
        default=None,
        metavar="PYTHON",
        help="also measure the qvickly_async this interpreter imports (e.g. the previous "
        "release) as client sdk-base, in the same run",
    )
    add("--profile", default=None, metavar="DIR", help="cProfile every SDK measurement here")
    add("--json", default=None, metavar="PATH", help="also write every raw figure here")
    options = parser.parse_args(argv)
    if options.quick:
        options.lookups = min(options.lookups, 500)
        options.repeat = 1
        options.memory_lookups = min(options.memory_lookups, 3000)
        options.max_seconds = min(options.max_seconds, 6.0)
        options.per_connection = min(options.per_connection, 40)
    options.concurrency = [int(part) for part in _csv(options.concurrency)]
    options.shapes = _csv(options.shapes)
    unknown = [shape for shape in options.shapes if shape not in SHAPES]
    if unknown:
        parser.error(f"unknown shapes: {', '.join(unknown)}")
    clients = _csv(options.clients)
    if options.extra:
        clients += [name for name in EXTRA_CLIENTS if name not in clients]
    if REFERENCE not in clients:
        clients.append(REFERENCE)
    if options.baseline_python and "sdk-base" not in clients:
        clients.insert(1, "sdk-base")
    options.clients = clients
    return options


def _env() -> dict[str, str]:
    env = dict(os.environ)
    if importlib.util.find_spec("qvickly_async") is None:  # running from a source checkout
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def latency_for(options: argparse.Namespace, concurrency: int) -> float:
    """Return the added server latency (ms) of the measurements at ``concurrency``."""
    return float(options.wide_latency_ms if concurrency >= WIDE else options.latency_ms)


class Server:
    """One sandbox process: its URL and its CPU time so far."""

    def __init__(self, url: str, pid: int) -> None:
        self.url = url
        self.pid = pid

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process (``/proc``; NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def sandbox_server(shape: str, latency_ms: float, customers: int) -> Iterator[Server]:
    """Run ``python -m qvickly_async.sandbox`` on a free loopback port; yield it."""
    command = [
        sys.executable,
        "-m",
        "qvickly_async.sandbox",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--latency-ms",
        str(latency_ms),
        "--customers",
        str(customers),
        "--invoice-shape",
        shape,
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
        yield Server(line.split("listening on ", 1)[1].split()[0], process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh process and return its figures."""
    python = BASELINE_PYTHON if spec["client"] in BASELINE_CLIENTS else sys.executable
    completed = subprocess.run(  # noqa: S603 - our own interpreter and script
        [python, str(HERE / "workers.py"), json.dumps(spec)],
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


Key = tuple[str, str, int]  # (shape, client, concurrency)


def _spec(options: argparse.Namespace, url: str, client: str, concurrency: int) -> dict[str, Any]:
    return {
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


def run_matrix(
    options: argparse.Namespace, servers: dict[tuple[str, float], Server]
) -> dict[Key, list[dict[str, Any]]]:
    """Every (shape, client, concurrency) measurement, ``options.repeat`` times, interleaved."""
    clients = [client for client in options.clients if _available(client)]
    skipped = [client for client in options.clients if client not in clients]
    if skipped:
        _write(f"(not installed, skipped: {', '.join(skipped)})")
    results: dict[Key, list[dict[str, Any]]] = {}
    for repeat in range(options.repeat):
        load = os.getloadavg()[0]
        started = time.monotonic()
        # Alternate the order between repeats so no client always runs first.
        order = clients if repeat % 2 == 0 else list(reversed(clients))
        for shape in options.shapes:
            for concurrency in options.concurrency:
                server = servers[shape, latency_for(options, concurrency)]
                for client in order:
                    if client == "requests" and concurrency != 1:
                        continue  # sequential by nature
                    if client == PAYMENT_CLIENT and shape != "nested":
                        continue  # a payment has one shape: compared with nested rows
                    spec = _spec(options, server.url, client, concurrency)
                    if options.profile and client.startswith("sdk"):
                        Path(options.profile).mkdir(parents=True, exist_ok=True)
                        spec["profile"] = str(
                            Path(options.profile)
                            / f"{client}-{shape}-c{concurrency}-r{repeat}.prof"
                        )
                    server_cpu = server.cpu_seconds()
                    result = measure(spec)
                    result["server_cpu"] = server.cpu_seconds() - server_cpu
                    result["repeat"] = repeat
                    results.setdefault((shape, client, concurrency), []).append(result)
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


def _ratios(results: dict[Key, list[dict[str, Any]]], key: Key) -> list[float]:
    """``key``'s lookups/s over the reference's, per repeat (measured minutes apart at most)."""
    shape, _, concurrency = key
    mine = {run["repeat"]: run for run in results.get(key, []) if "rate" in run}
    theirs = {
        run["repeat"]: run
        for run in results.get((shape, REFERENCE, concurrency), [])
        if "rate" in run
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
    options: argparse.Namespace, results: dict[Key, list[dict[str, Any]]]
) -> dict[Key, dict[str, float]]:
    """Print the table; return the medians per (shape, client, concurrency)."""
    header = (
        "| rows | client | in flight | latency | lookups | lookups/s | spread | CPU ms/lookup "
        "| spread | server CPU ms/lookup | p50 ms | p99 ms | x latency bound | x aiohttp "
        "| median x aiohttp |"
    )
    _write(header)
    _write("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary: dict[Key, dict[str, float]] = {}
    for shape in options.shapes:
        for concurrency in options.concurrency:
            latency = latency_for(options, concurrency)
            for client in options.clients:
                key = (shape, client, concurrency)
                runs = results.get(key)
                if not runs:
                    continue
                good = [run for run in runs if "rate" in run]
                if not good:
                    _write(f"| {shape} | {client} | {concurrency} | failed: {runs[0]['failed']} |")
                    continue
                errors = sum(run["errors"] for run in good)
                # Best of the repeats: on a shared machine interference only slows a run down.
                rate = max(run["rate"] for run in good)
                cpu = min(run["cpu_ms"] for run in good)
                lookups = int(_median([run["lookups"] for run in good]))
                server = _median(
                    [1000 * run["server_cpu"] / run["lookups"] for run in good if run["lookups"]]
                )
                reference = [
                    run["rate"]
                    for run in results.get((shape, REFERENCE, concurrency), [])
                    if "rate" in run
                ]
                ratio = rate / max(reference) if reference and max(reference) else math.nan
                ratios = _ratios(results, key)
                bound = latency_bound(lookups, concurrency, latency / 1000)
                summary[key] = {
                    "rate": rate,
                    "cpu_ms": cpu,
                    "ratio": ratio,
                    "median_ratio": _median(ratios) if ratios else math.nan,
                }
                note = f" ({errors} errors: {good[0].get('first_error')})" if errors else ""
                _write(
                    f"| {shape} | {client}{note} | {concurrency} | {latency:g} ms "
                    f"| {lookups:,} | {_fmt(rate)} "
                    f"| {_fmt(100 * _spread([run['rate'] for run in good]), 0, '%')} "
                    f"| {_fmt(cpu, 3)} "
                    f"| {_fmt(100 * _spread([run['cpu_ms'] for run in good]), 0, '%')} "
                    f"| {_fmt(server, 3)} "
                    f"| {_fmt(_median([run['p50_ms'] for run in good]), 1)} "
                    f"| {_fmt(_median([run['p99_ms'] for run in good]), 1)} "
                    f"| {_fmt(rate / bound, 2)} "
                    f"| {_fmt(ratio, 2)} | {_fmt(summary[key]['median_ratio'], 2)} |"
                )
    return summary


def memory_check(options: argparse.Namespace, url: str) -> dict[str, Any]:
    """Stream ``--memory-lookups`` nested lookups through the SDK in a fresh process."""
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


def invoice_size_check(options: argparse.Namespace, client: str) -> dict[str, Any]:
    """Measure the tracemalloc size of one kept nested Invoice in a fresh process."""
    return measure(
        {
            "client": client,
            "rows": options.invoice_rows,
            "first_customer": FIRST_CUSTOMER,
            "max_seconds": 60,
        }
    )


Verdict = tuple[str, bool | None, str]


def _speed_verdicts(
    options: argparse.Namespace, summary: dict[Key, dict[str, float]]
) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for shape in options.shapes:
        least, most = TARGETS[shape]
        sdk = summary.get((shape, "sdk", TARGET_AT))
        if sdk is not None:
            ratio = sdk["ratio"]
            verdicts.append(
                (
                    f"{shape}: SDK lookups/s >= {least}x aiohttp at {TARGET_AT} in flight",
                    None if math.isnan(ratio) else ratio >= least,
                    f"{_fmt(ratio, 2)}x",
                )
            )
            verdicts.append(
                (
                    f"{shape}: SDK CPU <= {most} ms/lookup at {TARGET_AT} in flight",
                    None if math.isnan(sdk["cpu_ms"]) else sdk["cpu_ms"] <= most,
                    f"{_fmt(sdk['cpu_ms'], 3)} ms",
                )
            )
        wide = summary.get((shape, "sdk", WIDE))
        if wide is not None:
            ratio = wide["ratio"]
            verdicts.append(
                (
                    f"{shape}: SDK lookups/s >= {TARGET_WIDE_RATIO}x aiohttp at {WIDE} in flight "
                    f"({options.wide_latency_ms:g} ms latency)",
                    None if math.isnan(ratio) else ratio >= TARGET_WIDE_RATIO,
                    f"{_fmt(ratio, 2)}x",
                )
            )
    for concurrency in options.concurrency:
        payments = summary.get(("nested", PAYMENT_CLIENT, concurrency))
        invoices = summary.get(("nested", "sdk", concurrency))
        if payments is not None and invoices is not None and invoices["rate"]:
            ratio = payments["rate"] / invoices["rate"]
            verdicts.append(
                (
                    f"payments: get_payment_info lookups/s >= {TARGET_PAYMENT_RATIO}x nested "
                    f"invoice lookups/s at {concurrency} in flight",
                    ratio >= TARGET_PAYMENT_RATIO,
                    f"{_fmt(ratio, 2)}x",
                )
            )
    return verdicts


def _memory_verdicts(memory: dict[str, Any] | None, size: dict[str, Any] | None) -> list[Verdict]:
    verdicts: list[Verdict] = []
    if memory is not None:
        if "growth_mib" in memory:
            verdicts.append(
                (
                    f"peak RSS growth streaming {memory['lookups']:,} nested lookups "
                    f"< {TARGET_MEMORY_MIB:.0f} MiB",
                    memory["growth_mib"] < TARGET_MEMORY_MIB and not memory["errors"],
                    f"{memory['growth_mib']:.1f} MiB ({memory['errors']} errors)",
                )
            )
        else:
            verdicts.append(("memory check", False, f"failed: {memory.get('failed')}"))
    if size is not None:
        if "bytes_per_invoice" in size:
            got = size["bytes_per_invoice"]
            baseline = size.get("baseline", {}).get("bytes_per_invoice")
            old = baseline or OLD_NESTED_INVOICE_BYTES
            where = "the baseline, this run" if baseline else "before issue 10"
            if old:
                verdicts.append(
                    (
                        f"kept nested Invoice <= {TARGET_INVOICE_FRACTION:g} x "
                        f"{old:,.0f} bytes ({where})",
                        got <= TARGET_INVOICE_FRACTION * old,
                        f"{got:,.0f} bytes ({got / old:.2f}x)",
                    )
                )
            else:
                verdicts.append(("kept nested Invoice size", None, f"{got:,.0f} bytes"))
        else:
            verdicts.append(("kept Invoice size", False, f"failed: {size.get('failed')}"))
    return verdicts


def check_targets(
    options: argparse.Namespace,
    summary: dict[Key, dict[str, float]],
    memory: dict[str, Any] | None,
    size: dict[str, Any] | None,
) -> bool:
    """Print PASS/FAIL per target; return whether all that could be checked passed."""
    verdicts = _speed_verdicts(options, summary) + _memory_verdicts(memory, size)
    ok = True
    for text, passed, figure in verdicts:
        label = "n/a " if passed is None else ("PASS" if passed else "FAIL")
        ok = ok and passed is not False
        _write(f"{label}  {text}: {figure}")
    return ok


def _versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for name in ("qvickly-async", "httpx", "aiohttp", "attrs", "cattrs"):
        try:
            parts.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ", ".join(parts)


def _prime(options: argparse.Namespace, server: Server, largest: int) -> None:
    """Prime the server's answer cache, so no client pays for first-time rendering there."""
    spec = _spec(options, server.url, REFERENCE, 64)
    spec.update(lookups=min(options.customers, largest), max_seconds=120)
    measure(spec)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; see ``--help``."""
    options = parse_args(argv)
    global BASELINE_PYTHON  # set once, before any measurement
    BASELINE_PYTHON = options.baseline_python or sys.executable
    largest = max(lookups_for(options, c) + 2 * c for c in options.concurrency)
    memory_span = (
        0 if options.no_memory else options.memory_lookups + 2 * options.memory_concurrency
    )
    options.customers = max(largest, memory_span) + 16
    latencies = sorted({latency_for(options, c) for c in options.concurrency})
    _write(f"# qvickly-async batch benchmark ({time.strftime('%Y-%m-%d %H:%M')})")
    _write(f"{_versions()}; {os.cpu_count()} CPUs, {platform.machine()}")
    _write(
        f"servers: one sandbox process per row shape ({', '.join(options.shapes)}) and added "
        f"latency ({', '.join(f'{value:g} ms' for value in latencies)}; {options.wide_latency_ms:g}"
        f" ms from {WIDE} in flight), {options.customers:,} customers; {options.lookups:,} "
        f"lookups per measurement (at most {options.per_connection} per connection), "
        f"{options.repeat} repeat(s) interleaved"
    )
    memory = size = None
    with contextlib.ExitStack() as stack:
        servers = {
            (shape, latency): stack.enter_context(sandbox_server(shape, latency, options.customers))
            for shape in options.shapes
            for latency in latencies
        }
        for server in servers.values():
            _prime(options, server, largest)
        results = run_matrix(options, servers)
        _write()
        summary = summarize(options, results)
        if not options.no_memory:
            shape = "nested"
            with sandbox_server(shape, options.latency_ms, options.customers) as server:
                memory = memory_check(options, server.url)
            size = invoice_size_check(options, "invoice-size")
            if options.baseline_python:
                size["baseline"] = invoice_size_check(options, "invoice-size-base")
    _write()
    if memory is not None and "growth_mib" in memory:
        _write(
            f"memory: {memory['lookups']:,} nested lookups ({memory['invoices']:,} invoices) "
            f"streamed in {memory['wall']:.1f} s; VmHWM {memory['hwm_before_kib'] / 1024:.1f} -> "
            f"{memory['hwm_after_kib'] / 1024:.1f} MiB"
        )
    if size is not None and "bytes_per_invoice" in size:
        json_each = size["json_bytes"] / size["invoices"]
        _write(
            f"kept nested Invoice: {size['bytes_per_invoice']:,.0f} bytes each (tracemalloc, "
            f"{size['invoices']:,} invoices decoded from {json_each:,.0f} bytes of JSON each, "
            "the JSON parsed inside the traced window)"
        )
        baseline = size.get("baseline", {})
        if "bytes_per_invoice" in baseline:
            _write(
                f"kept nested Invoice, baseline: {baseline['bytes_per_invoice']:,.0f} bytes each"
            )
    ok = check_targets(options, summary, memory, size)
    _write(
        "(the machine may be shared: compare the same-run ratios and CPU per lookup, not "
        "absolute lookups/s across runs)"
    )
    if options.json:
        raw = {
            "options": dict(vars(options)),
            "results": [
                {"shape": shape, "client": client, "concurrency": concurrency, "runs": runs}
                for (shape, client, concurrency), runs in results.items()
            ],
            "memory": memory,
            "invoice_size": size,
        }
        Path(options.json).write_text(json.dumps(raw, indent=2, default=str))
    return 0 if ok or not options.strict else 1


if __name__ == "__main__":
    sys.exit(main())
