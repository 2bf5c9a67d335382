"""Decode cost alone: ``structure_invoices`` over sandbox answers of each row shape.

``python bench/decode.py [--customers N] [--repeat N] [--profile SHAPE]`` prints the CPU
time per invoice and per answer (best of ``--repeat``) for flat, nested and mixed answers,
rendered from the sandbox's demo dataset and parsed from JSON beforehand, so only decoding is
timed. Run it with another interpreter (an older checkout's venv) to compare versions;
``--profile nested`` prints a cProfile of one pass instead.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from _answers import SHAPES, answer_rows, parse_options, print_profile

from qvickly_async._codec import structure_invoices


def answers(shape: str, customers: int) -> list[Any]:
    """Return the decoded JSON ``data`` of ``customers`` getInvoicesByCustomer answers."""
    data: list[Any] = json.loads(json.dumps(answer_rows(shape, customers)))
    return data


def decode_all(data: list[Any]) -> None:
    """Decode every answer once."""
    for answer in data:
        structure_invoices(answer)


def best_time(data: list[Any], repeat: int) -> float:
    """Return the lowest process CPU time of decoding every answer once."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        decode_all(data)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    """Entry point; see ``--help``."""
    options = parse_options(__doc__.split("\n")[0])
    if options.profile:
        data = answers(options.profile, options.customers)
        print_profile(lambda: decode_all(data), 25)
        return
    for shape in SHAPES:
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
