"""What the single-stage benches (``decode.py``, ``verify.py``) share: answers and options."""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from collections.abc import Callable
from typing import Any

from qvickly_async.sandbox._config import DEFAULT_SEED
from qvickly_async.sandbox._dataset import DemoDataset
from qvickly_async.sandbox._shapes import customer_row

FIRST_CUSTOMER = 10000
SHAPES = ("flat", "nested", "mixed")


def answer_rows(shape: str, customers: int) -> list[list[dict[str, Any]]]:
    """Return the rows of ``customers`` getInvoicesByCustomer answers from the demo dataset."""
    dataset = DemoDataset(seed=DEFAULT_SEED, size=customers + 16)
    return [
        [customer_row(record, shape) for record in dataset.records(FIRST_CUSTOMER + index)]
        for index in range(customers)
    ]


def parse_options(description: str) -> argparse.Namespace:
    """Parse ``--customers``, ``--repeat`` and ``--profile SHAPE``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", choices=SHAPES, default=None)
    return parser.parse_args()


def print_profile(run: Callable[[], object], lines: int) -> None:
    """Run ``run`` once under cProfile and print the ``lines`` costliest functions."""
    profile = cProfile.Profile()
    profile.enable()
    run()
    profile.disable()
    pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(lines)
