"""Verification cost alone: ``verified_data`` over signed sandbox answers of each row shape.

``python bench/verify.py [--customers N] [--repeat N] [--profile SHAPE]`` prints the CPU time
per ``verified_data`` call (best of ``--repeat`` calls, per answer) for flat, nested
and mixed getInvoicesByCustomer answers, rendered from the sandbox's demo dataset, encoded as
PHP does and signed as the server signs them (``{"credentials":{...},"data":...}``), so only
verification is timed. Run it with another interpreter (an older checkout's venv) to compare
versions. Where the module has a careful path (``_careful_verified_data``, the parser every
body took before the fast path), it is timed too, alternating with ``verified_data`` on every
answer, and the ratio printed. ``--profile nested`` prints a cProfile of one pass instead.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from _answers import SHAPES, answer_rows, parse_options, print_profile

from qvickly_async import _response
from qvickly_async._response import verified_data
from qvickly_async._signing import php_json_encode, sign

SECRET = b"bench-secret"
FUNCTION = "getInvoicesByCustomer"
Verify = Callable[..., Any]


def bodies(shape: str, customers: int) -> list[bytes]:
    """Return ``customers`` signed getInvoicesByCustomer answers as the server sends them."""
    answers = []
    for rows in answer_rows(shape, customers):
        data = php_json_encode(rows).encode("ascii")
        credentials = php_json_encode({"hash": sign(SECRET, data), "logid": 1234567})
        answers.append(b'{"credentials":' + credentials.encode("ascii") + b',"data":' + data + b"}")
    return answers


def verify_all(answers: list[bytes]) -> None:
    """Verify every answer once."""
    for body in answers:
        verified_data(body, secret=SECRET, function=FUNCTION)


def best_times(answers: list[bytes], repeat: int, verifiers: list[Verify]) -> list[float]:
    """Return, per verifier, the sum over the answers of its lowest CPU time on each one.

    The minimum is taken per answer (not per pass) and the verifiers alternate on every
    answer, so a burst of load on a shared machine spoils one sample rather than a whole pass
    or one side of the comparison.
    """
    clock = time.process_time
    totals = [0.0] * len(verifiers)
    for body in answers:
        best = [float("inf")] * len(verifiers)
        for _ in range(repeat):
            for index, verify in enumerate(verifiers):
                started = clock()
                verify(body, secret=SECRET, function=FUNCTION)
                best[index] = min(best[index], clock() - started)
        totals = [total + one for total, one in zip(totals, best, strict=True)]
    return totals


def main() -> None:
    """Entry point; see ``--help``."""
    options = parse_options(__doc__.split("\n")[0])
    if options.profile:
        answers = bodies(options.profile, options.customers)
        print_profile(lambda: verify_all(answers), 15)
        return
    careful = getattr(_response, "_careful_verified_data", None)
    verifiers: list[Verify] = [verified_data] + ([careful] if careful else [])
    for shape in SHAPES:
        answers = bodies(shape, options.customers)
        size = sum(map(len, answers)) / len(answers)
        verify_all(answers[:10])  # warm up
        spent = best_times(answers, options.repeat, verifiers)
        line = (
            f"{shape}: {1e6 * spent[0] / len(answers):.1f} us per answer "
            f"({size / 1024:.1f} KiB on average)"
        )
        if careful:
            line += (
                f"; careful path alone {1e6 * spent[1] / len(answers):.1f} us "
                f"({spent[0] / spent[1]:.2f}x)"
            )
        sys.stdout.write(line + "\n")


if __name__ == "__main__":
    main()
