"""Verification cost alone: ``verified_data`` over signed sandbox answers of each row shape.

``python bench/verify.py [--customers N] [--repeat N] [--profile SHAPE]`` prints the CPU time
per ``verified_data`` call (best of ``--repeat`` calls, per answer) for flat, nested
and mixed getInvoicesByCustomer answers, rendered from the sandbox's demo dataset, encoded as
PHP does and signed as the server signs them (``{"credentials":{...},"data":...}``), so only
verification is timed. Run it with another interpreter (an older checkout's venv) to compare
versions; ``--profile nested`` prints a cProfile of one pass instead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time

from qvickly_async._response import verified_data
from qvickly_async._signing import php_json_encode, sign
from qvickly_async.sandbox._config import DEFAULT_SEED
from qvickly_async.sandbox._dataset import DemoDataset
from qvickly_async.sandbox._shapes import customer_row

FIRST_CUSTOMER = 10000
SECRET = b"bench-secret"
FUNCTION = "getInvoicesByCustomer"


def bodies(shape: str, customers: int) -> list[bytes]:
    """Return ``customers`` signed getInvoicesByCustomer answers as the server sends them."""
    dataset = DemoDataset(seed=DEFAULT_SEED, size=customers + 16)
    answers = []
    for index in range(customers):
        rows = [customer_row(record, shape) for record in dataset.records(FIRST_CUSTOMER + index)]
        data = php_json_encode(rows).encode("ascii")
        credentials = php_json_encode({"hash": sign(SECRET, data), "logid": 1234567})
        answers.append(b'{"credentials":' + credentials.encode("ascii") + b',"data":' + data + b"}")
    return answers


def verify_all(answers: list[bytes]) -> None:
    """Verify every answer once."""
    for body in answers:
        verified_data(body, secret=SECRET, function=FUNCTION)


def best_time(answers: list[bytes], repeat: int) -> float:
    """Return the sum over the answers of the lowest CPU time of verifying each one.

    The minimum is taken per answer (not per pass), so a burst of load on a shared machine
    spoils one sample of one answer rather than a whole pass.
    """
    clock = time.process_time
    total = 0.0
    for body in answers:
        best = float("inf")
        for _ in range(repeat):
            started = clock()
            verified_data(body, secret=SECRET, function=FUNCTION)
            best = min(best, clock() - started)
        total += best
    return total


def main() -> None:
    """Entry point; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", choices=("flat", "nested", "mixed"), default=None)
    options = parser.parse_args()
    if options.profile:
        answers = bodies(options.profile, options.customers)
        profile = cProfile.Profile()
        profile.enable()
        verify_all(answers)
        profile.disable()
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(15)
        return
    for shape in ("flat", "nested", "mixed"):
        answers = bodies(shape, options.customers)
        size = sum(map(len, answers)) / len(answers)
        verify_all(answers[:10])  # warm up
        spent = best_time(answers, options.repeat)
        sys.stdout.write(
            f"{shape}: {1e6 * spent / len(answers):.1f} us per answer "
            f"({size / 1024:.1f} KiB on average, {1e9 * spent / (size * len(answers)):.2f} "
            "ns per byte)\n"
        )


if __name__ == "__main__":
    main()
