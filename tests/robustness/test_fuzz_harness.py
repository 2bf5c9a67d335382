"""The atheris harness ``fuzz/fuzz_response.py`` works (its long run is ``nox -s fuzz``).

Its ``one_input`` runs here on its seed corpus plus seeded random mutations of it (the seed is in
the test id), so a harness that rots, or an input class it would crash on, fails the default
suite. With atheris installed, a short real libFuzzer run checks the wiring too.
"""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from ._hostile import report

HARNESS = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_response.py"
SEED = 424242


def load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_response", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        if not buffer:
            buffer.append(rng.randrange(256))
        offset = rng.randrange(len(buffer))
        action = rng.randrange(4)
        if action == 0:
            buffer[offset] = rng.randrange(256)
        elif action == 1:
            buffer[offset:offset] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
        elif action == 2:
            del buffer[offset : offset + rng.randrange(1, 17)]
        else:
            buffer[offset:offset] = rng.choice(
                [b"[" * 2000, b"{", b'"', b"1e999", b"\\u", b"9" * 5000]
            )
    return bytes(buffer)


@pytest.mark.parametrize("seed", [SEED], ids=lambda seed: f"seed={seed}")
def test_harness_on_seeds_and_mutations(tmp_path: Path, seed: int) -> None:
    harness = load_harness()
    corpus = tmp_path / "corpus"
    assert harness.write_seeds(corpus) > 5
    seeds = [path.read_bytes() for path in sorted(corpus.iterdir())]
    rng = random.Random(seed)
    inputs = seeds + [_mutate(rng.choice(seeds), rng) for _ in range(3000)]
    started = time.perf_counter()
    for data in inputs:
        harness.one_input(data)
    elapsed = time.perf_counter() - started
    report(
        f"\nharness: {len(inputs)} inputs, {len(inputs) / elapsed:,.0f} inputs/s (uninstrumented)"
    )


def test_harness_runs_under_atheris(tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    subprocess.run(  # noqa: S603 - our own harness
        [sys.executable, str(HARNESS), "--write-seeds", str(corpus)], check=True, timeout=60
    )
    done = subprocess.run(  # noqa: S603 - our own harness
        [sys.executable, str(HARNESS), str(corpus), "-runs=3000", "-timeout=1", "-seed=1"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert b"Done 3000 runs" in done.stderr
