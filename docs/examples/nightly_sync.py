"""How-to: a nightly sync of every customer of every merchant, one job per merchant.

``sync_merchant`` is the whole job: it looks every customer up at the rate Qvickly tolerates,
writes the invoices as JSON Lines (atomically: a failed run leaves yesterday's file), and
writes the customers that failed to a file of their own, so the next run can take just those.
``arq_sync_merchant`` and ``celery_sync_merchant`` run it on a job runner.

Usage: ``python nightly_sync.py OUT_DIR`` (the sandbox, with faults, stands in for Qvickly).
"""

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qvickly_async import AsyncQvickly, QvicklyAuthenticationError
from qvickly_async.sandbox import FaultPlan, Sandbox

#: Requests per second per merchant id: what Qvickly tolerates sets the wall time, not CPU.
RATE_LIMIT = 20.0
#: Lookups in flight: enough to reach RATE_LIMIT at ~200 ms per call, far below the pool.
CONCURRENCY = 16


@dataclass
class SyncSummary:
    """What one run of :func:`sync_merchant` did (returned to the job runner as a dict)."""

    merchant: str
    customers: int = 0
    invoices: int = 0
    failed: int = 0
    seconds: float = 0.0


def read_numbers(path: Path) -> Iterator[str]:
    """Customer numbers from a text file, one a line, lazily (blank lines skipped)."""
    with path.open(encoding="utf-8") as lines:
        yield from (line.strip() for line in lines if line.strip())


async def sync_merchant(
    client: AsyncQvickly,
    merchant: str,
    customers: Iterable[str],
    out_dir: Path,
    *,
    rate_limit: float = RATE_LIMIT,
) -> SyncSummary:
    """Look up every customer of one merchant; write ``<merchant>.jsonl`` and its failures.

    Results go to ``<merchant>.jsonl.part`` first and replace ``<merchant>.jsonl`` only when
    the run completes. ``<merchant>.failed`` lists the customers to run again (empty: none).
    Refused credentials stop the run at once (every other lookup would fail the same way)
    and leave both files as they were.
    """
    summary = SyncSummary(merchant)
    started = time.monotonic()
    target = out_dir / f"{merchant}.jsonl"
    partial = target.with_name(target.name + ".part")
    failed: list[str] = []
    stream = client.iter_invoices_by_customers(
        customers, concurrency=CONCURRENCY, rate_limit=rate_limit
    )
    with partial.open("w", encoding="utf-8") as out:
        async with stream as results:
            async for result in results:
                summary.customers += 1
                if isinstance(result.error, QvicklyAuthenticationError):
                    out.close()
                    partial.unlink()
                    raise result.error  # leaving the block cancels the lookups in flight
                if result.error is not None:
                    failed.append(result.customer_number)
                    continue
                line = {
                    "customer_number": result.customer_number,
                    "invoices": [invoice.to_dict() for invoice in result.invoices],
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                summary.invoices += len(result.invoices)
    os.replace(partial, target)
    (out_dir / f"{merchant}.failed").write_text("".join(f"{n}\n" for n in failed), "utf-8")
    summary.failed = len(failed)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


async def rerun_failures(
    client: AsyncQvickly, merchant: str, out_dir: Path, *, rate_limit: float = RATE_LIMIT
) -> SyncSummary:
    """Look up only the customers the last run of ``merchant`` failed on; merge the results."""
    failed = list(read_numbers(out_dir / f"{merchant}.failed"))
    retry_dir = out_dir / "retry"
    retry_dir.mkdir(exist_ok=True)
    summary = await sync_merchant(client, merchant, failed, retry_dir, rate_limit=rate_limit)
    target = out_dir / f"{merchant}.jsonl"
    merged = target.read_text("utf-8") + (retry_dir / f"{merchant}.jsonl").read_text("utf-8")
    target.with_name(target.name + ".part").write_text(merged, "utf-8")
    os.replace(target.with_name(target.name + ".part"), target)
    os.replace(retry_dir / f"{merchant}.failed", out_dir / f"{merchant}.failed")
    return summary


# -- on a job runner: one task per merchant ------------------------------------------------------

#: Builds the client of one merchant (its own credentials); replace with your secret store.
MakeClient = Callable[[str], AsyncQvickly]


def client_from_env(merchant: str) -> AsyncQvickly:
    """Credentials of ``merchant`` from ``QVICKLY_<MERCHANT>_ID`` / ``_SECRET``."""
    prefix = f"QVICKLY_{merchant.upper()}"
    return AsyncQvickly(
        merchant_id=os.environ[f"{prefix}_ID"], secret=os.environ[f"{prefix}_SECRET"]
    )


async def arq_sync_merchant(
    ctx: dict[str, Any], merchant: str, *, only_failed: bool = False
) -> dict[str, Any]:
    """An arq task: ``await redis.enqueue_job("arq_sync_merchant", "shop-a")``.

    Reads ``<out_dir>/<merchant>.customers``; with ``only_failed`` takes just the customers
    of ``<merchant>.failed`` instead. ``ctx`` may set ``make_client``, ``out_dir`` and
    ``rate_limit``.
    """
    make_client: MakeClient = ctx.get("make_client", client_from_env)
    out_dir = Path(ctx.get("out_dir", "sync"))
    rate_limit: float = ctx.get("rate_limit", RATE_LIMIT)
    async with make_client(merchant) as client:
        if only_failed:
            summary = await rerun_failures(client, merchant, out_dir, rate_limit=rate_limit)
        else:
            customers = read_numbers(out_dir / f"{merchant}.customers")
            summary = await sync_merchant(
                client, merchant, customers, out_dir, rate_limit=rate_limit
            )
    return asdict(summary)


class WorkerSettings:
    """``arq nightly_sync.WorkerSettings``: one merchant at a time per worker process."""

    functions = (arq_sync_merchant,)
    max_jobs = 4  # merchants in parallel: each has its own merchant id, so its own limit
    job_timeout = 24 * 3600  # 1M lookups at 20/s take 13.9 h
    max_tries = 1  # re-run failures with only_failed=True, not the whole merchant


def celery_sync_merchant(
    merchant: str, out_dir: str, *, only_failed: bool = False, **ctx: Any
) -> dict[str, Any]:
    """A Celery task body: decorate it with ``@app.task(acks_late=True)`` (sync workers)."""
    job = arq_sync_merchant({**ctx, "out_dir": out_dir}, merchant, only_failed=only_failed)
    return asyncio.run(job)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0] if args else "sync")
    out_dir.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox()
    sandbox.set_faults(FaultPlan(seed=7, http_503=0.5))  # a bad night: half the calls fail
    customers = "".join(f"{number}\n" for number in range(10000, 10200))
    (out_dir / "demo.customers").write_text(customers, "utf-8")

    def make_client(merchant: str) -> AsyncQvickly:
        return AsyncQvickly.for_sandbox(sandbox)

    # A fast rate: the sandbox is in-process (for Qvickly keep RATE_LIMIT).
    ctx = {"make_client": make_client, "out_dir": out_dir, "rate_limit": 2000.0}
    first = asyncio.run(arq_sync_merchant(ctx, "demo"))
    print(f"first run: {first}")
    sandbox.set_faults(FaultPlan())  # the next morning Qvickly is fine again
    again = asyncio.run(arq_sync_merchant(ctx, "demo", only_failed=True))
    print(f"re-run of the failures: {again}")
    return 0 if again["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
