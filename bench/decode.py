"""Decode cost alone: ``structure_invoices`` over sandbox answers of each row shape.

``python bench/decode.py [--customers N] [--repeat N] [--profile SHAPE]`` prints the CPU
time per invoice and per answer (best of ``--repeat``) for flat, nested and mixed answers,
rendered from the sandbox's demo dataset and parsed from JSON beforehand, so only decoding is
timed. Run it with another interpreter (an older checkout's venv) to compare versions;
``--profile nested`` prints a cProfile of one pass instead.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from typing import Any

from qvickly_async._codec import structure_invoices
from qvickly_async.sandbox._config import DEFAULT_SEED
from qvickly_async.sandbox._dataset import DemoDataset
from qvickly_async.sandbox._shapes import customer_row

FIRST_CUSTOMER = 10000


def answers(shape: str, customers: int) -> list[Any]:
    """Return the decoded JSON ``data`` of ``customers`` getInvoicesByCustomer answers."""
    dataset = DemoDataset(seed=DEFAULT_SEED, size=customers + 16)
    rendered = [
        [customer_row(record, shape) for record in dataset.records(FIRST_CUSTOMER + index)]
        for index in range(customers)
    ]
    data: list[Any] = json.loads(json.dumps(rendered))
    return data


def best_time(data: list[Any], repeat: int) -> float:
    """Return the lowest process CPU time of decoding every answer once."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for answer in data:
            structure_invoices(answer)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    """Entry point; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", choices=("flat", "nested", "mixed"), default=None)
    options = parser.parse_args()
    if options.profile:
        data = answers(options.profile, options.customers)
        profile = cProfile.Profile()
        profile.enable()
        for answer in data:
            structure_invoices(answer)
        profile.disable()
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(25)
        return
    for shape in ("flat", "nested", "mixed"):
        data = answers(shape, options.customers)
        invoices = sum(map(len, data))
        structure_invoices(data[0])  # warm up
        spent = best_time(data, options.repeat)
        sys.stdout.write(
            f"{shape}: {1e6 * spent / invoices:.1f} us per invoice, "
            f"{1e3 * spent / len(data):.3f} ms per answer ({invoices / len(data):.1f} invoices)\n"
        )


if __name__ == "__main__":
    main()
