"""CPU cost of verifying a large answer whose ``data`` holds floats: signed, reformatted, forged.

Verification (``qvickly_async._response.verified_data``) first hashes the raw ``data`` bytes;
only when that does not match does it hash PHP's re-encoding of the decoded value (a server
that reformats its answer still verifies). A forged body takes that second path too, so its
cost is what an attacker can make the event loop spend per answer. For each row shape (``flat``,
``nested``, ``mixed``) and float spelling (``fixed`` such as ``12.5``, ``exponent`` such as
``2.5e-07``, the spelling that needs rewriting for PHP) it prints the median CPU seconds of:

* ``json``: ``json.loads`` of the body (the floor: any verifier decodes it once);
* ``signed``: a correctly signed body (the raw-bytes hash matches: the first path);
* ``reformatted``: the same data pretty-printed, signed over PHP's canonical text (the
  fallback's re-encoding matches);
* ``forged``: the compact body with a wrong hash (decode, both hashes, rejection).

::

    python bench/forged_floats.py --megabytes 38 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from qvickly_async import QvicklySignatureError

try:
    from qvickly_async._reencoding import php_json_reencode
except ImportError:  # the code before the fast re-encoding, for a before/after run
    from qvickly_async._signing import php_json_reencode  # type: ignore[attr-defined,no-redef]
from qvickly_async._response import verified_data
from qvickly_async._signing import sign

SECRET = b"bench-secret"
SHAPES = ("flat", "nested", "mixed")
SPELLINGS = ("fixed", "exponent")


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def row(index: int, shape: str, spelling: str) -> dict[str, Any]:
    """One row with a handful of floats (every one non-integral, so PHP keeps it a float)."""
    scale = 1e-7 if spelling == "exponent" else 1.0
    amounts = {
        "price": (index % 9973 + 0.5) * scale,
        "vat": 0.25 * scale,
        "discount": (index % 101 + 0.125) * scale,
    }
    flat = {"id": index, "name": f'row {index} 1.5e-07 "q"', **amounts}
    if shape == "flat":
        return flat
    nested = {
        "id": index,
        "Customer": {"nr": str(index), "rate": 0.75 * scale},
        "Articles": [{"title": "a/b", **amounts} for _ in range(2)],
    }
    return nested if shape == "nested" or index % 2 else flat


def bodies(megabytes: float, shape: str, spelling: str) -> dict[str, bytes]:
    """Build the three bodies of one shape and spelling, ``data`` about ``megabytes`` MB."""
    rows: list[dict[str, Any]] = []
    size = 0
    while size < megabytes * 1e6:
        rows.append(row(len(rows), shape, spelling))
        size += len(json.dumps(rows[-1], separators=(",", ":"))) + 1
    data = {"rows": rows}
    canonical = php_json_reencode(data)
    assert canonical is not None, "every float of the bench rows is non-integral"
    compact = canonical.encode("ascii")
    pretty = json.dumps(data, indent=1).encode("ascii")
    digest = sign(SECRET, compact).encode("ascii")

    def envelope(data_text: bytes, hash_text: bytes) -> bytes:
        return b'{"credentials":{"hash":"' + hash_text + b'"},"data":' + data_text + b"}"

    return {
        "signed": envelope(compact, digest),
        "reformatted": envelope(pretty, digest),
        "forged": envelope(compact, b"0" * 128),
    }


def cpu_seconds(action: Callable[[], object]) -> float:
    """CPU seconds one call of ``action`` takes."""
    started = time.process_time()
    action()
    return time.process_time() - started


def verify(body: bytes, *, expect_forged: bool) -> Callable[[], object]:
    """Return a call of the verifier on ``body`` that checks its outcome."""

    def run() -> object:
        try:
            result = verified_data(body, secret=SECRET, function="getX")
        except QvicklySignatureError:
            assert expect_forged, "a faithful body was refused"
            return None
        assert not expect_forged, "a forged body was accepted"
        return result

    return run


def main(megabytes: float, rounds: int, shapes: list[str], spellings: list[str]) -> None:
    """Measure every shape and spelling; print the medians."""
    _say(f"data of about {megabytes} MB, median CPU seconds of {rounds} rounds")
    _say(f"{'shape':>7} {'floats':>9} {'json':>7} {'signed':>7} {'reformatted':>12} {'forged':>7}")
    for shape in shapes:
        for spelling in spellings:
            made = bodies(megabytes, shape, spelling)
            actions: dict[str, Callable[[], object]] = {
                "json": lambda made=made: json.loads(made["signed"]),
                "signed": verify(made["signed"], expect_forged=False),
                "reformatted": verify(made["reformatted"], expect_forged=False),
                "forged": verify(made["forged"], expect_forged=True),
            }
            times: dict[str, list[float]] = {name: [] for name in actions}
            for _ in range(rounds):
                for name, action in actions.items():
                    times[name].append(cpu_seconds(action))
            medians = {name: statistics.median(values) for name, values in times.items()}
            _say(
                f"{shape:>7} {spelling:>9} {medians['json']:7.2f} {medians['signed']:7.2f} "
                f"{medians['reformatted']:12.2f} {medians['forged']:7.2f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=38.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shape", choices=SHAPES, action="append")
    parser.add_argument("--spelling", choices=SPELLINGS, action="append")
    arguments = parser.parse_args()
    main(
        arguments.megabytes,
        arguments.rounds,
        arguments.shape or list(SHAPES),
        arguments.spelling or list(SPELLINGS),
    )
