"""Coverage-guided fuzzing of response handling with atheris (libFuzzer for Python).

Every input becomes a response body and goes through what the client does with one:

* the DEBUG log rendering (``_logging.redact_json``) and the retry log's ``scrub``;
* verification (``_response.verified_data``), then decoding (``_codec.structure_invoices``).

Only :class:`~qvickly_async.exceptions.QvicklyError` subclasses may come out; anything else is
a crash. The first byte of an input picks how the rest is used: as a raw body, or as the
``data`` text of a body signed with the fuzzing secret (so it passes verification and reaches
the codec), or as the message of an error object. A run is bounded by libFuzzer's options.

Run it with ``nox -s fuzz`` (10 minutes by default), or directly::

    python fuzz/fuzz_response.py --write-seeds CORPUS_DIR
    python fuzz/fuzz_response.py CORPUS_DIR -max_total_time=600 -timeout=1 -rss_limit_mb=4096

Without atheris (``pip install atheris``) ``one_input`` still works: the test suite runs it on
seeded random inputs (tests/robustness/test_fuzz_harness.py).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

SECRET = b"fuzzing-secret"
FUNCTION = "getInvoicesByCustomer"
_MODES = 4


class _Pipeline:
    """The SDK functions under test, imported on first use (inside atheris' instrumentation)."""

    loaded = False

    @classmethod
    def load(cls) -> None:
        from qvickly_async._codec import structure_invoices
        from qvickly_async._logging import redact_json, scrub
        from qvickly_async._response import verified_data
        from qvickly_async._signing import sign
        from qvickly_async.exceptions import QvicklyError

        cls.structure_invoices = staticmethod(structure_invoices)
        cls.redact_json = staticmethod(redact_json)
        cls.scrub = staticmethod(scrub)
        cls.verified_data = staticmethod(verified_data)
        cls.sign = staticmethod(sign)
        cls.error = QvicklyError
        cls.loaded = True

    structure_invoices: Any
    redact_json: Any
    scrub: Any
    verified_data: Any
    sign: Any
    error: type[Exception]


def make_body(data: bytes) -> bytes:
    """Turn one fuzzer input into a response body (see the module docstring)."""
    if not _Pipeline.loaded:
        _Pipeline.load()
    if not data:
        return b""
    mode, rest = data[0] % _MODES, data[1:]
    if mode == 0:
        return rest
    if mode == 3:  # an error object whose message (and logid) is the input
        text = rest.decode("utf-8", "surrogateescape")
        rest = ('{"code":"9008","message":' + json.dumps(text) + ',"logid":"1"}').encode(
            "utf-8", "surrogateescape"
        )
    digest = _Pipeline.sign(SECRET, rest) if mode != 2 else "0" * 128
    return b'{"credentials":{"hash":"' + digest.encode() + b'","logid":1},"data":' + rest + b"}"


def one_input(data: bytes) -> None:
    """Handle one input like the client handles a body; only ``QvicklyError`` may escape."""
    if not _Pipeline.loaded:
        _Pipeline.load()
    body = make_body(data)
    _Pipeline.redact_json(body)
    try:
        verified = _Pipeline.verified_data(body, secret=SECRET, function=FUNCTION)
        _Pipeline.structure_invoices(verified, function=FUNCTION)
    except _Pipeline.error as error:
        _Pipeline.scrub(str(error))


def write_seeds(directory: Path) -> int:
    """Write realistic bodies (both invoice shapes, errors) as a starting corpus."""
    from qvickly_async.sandbox import Sandbox

    directory.mkdir(parents=True, exist_ok=True)
    seeds: list[bytes] = []
    for shape in ("flat", "nested"):
        sandbox = Sandbox(invoice_shape=shape)
        for number in ("10001", "10003", "10005", "10006"):
            rows = json.dumps(sandbox.expected_invoices(number), separators=(",", ":"))
            seeds.append(b"\x01" + rows.encode())
    seeds.append(b"\x01" + b'{"code":"7020","message":"Kundnummer saknas","logid":"12"}')
    seeds.append(b"\x00" + b'{"code":"9013","message":"Invalid hash","logid":"13"}')
    seeds.append(b"\x03" + b"ada.lovelace@example.se 195501011018")
    for index, seed in enumerate(seeds):
        (directory / f"seed-{index:03d}").write_bytes(seed)
    return len(seeds)


def main(argv: list[str]) -> None:
    """Run atheris over :func:`one_input` with libFuzzer's command-line options."""
    if len(argv) == 3 and argv[1] == "--write-seeds":
        count = write_seeds(Path(argv[2]))
        sys.stdout.write(f"wrote {count} seeds to {argv[2]}\n")
        return
    atheris: Any = importlib.import_module("atheris")
    with atheris.instrument_imports(include=["qvickly_async", "cattrs", "json"]):
        _Pipeline.load()
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
