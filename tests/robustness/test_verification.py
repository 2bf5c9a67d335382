"""No single-byte change to a response's ``data`` or hash gets through verification.

Exhaustive over every byte position of the ``data`` value and of the hash in a few realistic
signed bodies from the sandbox (flat invoices, nested invoices, a signed error), with several
replacement bytes per position (every one of the 255 in the soak run). A changed body must be
refused with :class:`QvicklySignatureError`, or :class:`QvicklyDecodeError` when the change
broke the JSON; the (changed) data must never come back.

Two kinds of change leave the *meaning* intact and are accepted by design; the test checks
that every accepted change is one of them and that the data returned equals the original:

* the case of a hex letter in the hash (hashes compare case-insensitively);
* the case of a hex letter inside a ``\\uXXXX`` escape in ``data``: the raw bytes no longer
  match, but the decoded value is the same and its PHP re-encoding does (the verifier's
  fallback for servers that re-format).

Replacement bytes come from ``random.Random(seed)``; the seed is in the test id.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from qvickly_async import (
    AsyncQvickly,
    QvicklyDecodeError,
    QvicklyError,
    QvicklySignatureError,
)
from qvickly_async._response import parse_envelope, verified_data
from qvickly_async._signing import php_json_encode, sign
from qvickly_async.sandbox import Sandbox

from ._hostile import report

SEED = 7_2024
FUNCTION = "getInvoicesByCustomer"
_HASH_VALUE = re.compile(rb'"hash":"([0-9a-f]{128})"')


def sandbox_body(sandbox: Sandbox, function: str, data: dict[str, Any]) -> bytes:
    """A real signed answer of the sandbox to a correctly signed request."""
    payload = php_json_encode(data).encode("ascii")
    credentials = php_json_encode(
        {
            "id": sandbox.merchant_id,
            "hash": sign(sandbox.secret_bytes, payload),
            "version": "2.5.0",
            "client": "robustness",
            "language": "sv",
            "time": 1714933435.862255,
            "test": "false",
        }
    ).encode("ascii")
    body = (
        b'{"credentials":' + credentials + b',"data":' + payload + b',"function":'
        b'"' + function.encode("ascii") + b'"}'
    )
    response = sandbox.handler(httpx.Request("POST", "http://sandbox.invalid/", content=body))
    assert response.status_code == 200
    return response.content


def realistic_bodies() -> dict[str, tuple[bytes, bytes]]:
    """``name -> (body, secret)``: both invoice shapes and the signed error shape."""
    flat = Sandbox(invoice_shape="flat")
    nested = Sandbox(invoice_shape="nested")
    errors = Sandbox(error_shape="signed")
    bodies = {
        "flat-3-invoices": (sandbox_body(flat, FUNCTION, {"customerno": "10001"}), flat),
        "nested-1-invoice": (sandbox_body(nested, FUNCTION, {"customerno": "10005"}), nested),
        "nested-2-invoices": (sandbox_body(nested, FUNCTION, {"customerno": "10003"}), nested),
        "signed-error-7020": (sandbox_body(errors, FUNCTION, {"customerno": ""}), errors),
    }
    return {name: (body, box.secret_bytes) for name, (body, box) in bodies.items()}


BODIES = realistic_bodies()


def spans(body: bytes) -> Iterator[tuple[str, int]]:
    """``(region, offset)`` of every byte of the ``data`` value and of the hash value."""
    start, end = parse_envelope(body.decode("utf-8")).data_span or (0, 0)
    assert end > start
    for offset in range(start, end):
        yield "data", offset
    found = _HASH_VALUE.search(body)
    assert found is not None
    for offset in range(found.start(1), found.end(1)):
        yield "hash", offset


def _is_neutral(region: str, body: bytes, offset: int, new: int) -> bool:
    """Whether changing ``body[offset]`` to ``new`` keeps the meaning (see the docstring)."""
    old = body[offset]
    if old == new or chr(old).lower() != chr(new).lower() or chr(old).lower() not in "abcdef":
        return False
    if region == "hash":
        return True
    # Inside "\uXXXX": one of the four hex digits after a backslash-u.
    window = body[max(0, offset - 5) : offset + 1]
    return bool(re.search(rb"\\u[0-9a-fA-F]{0,3}.$", window, re.DOTALL))


def check_every_change(
    body: bytes, secret: bytes, replacements: Any, rng: random.Random
) -> tuple[int, int]:
    """Apply every single-byte change; return (rejected, accepted-as-neutral) counts."""
    original = (
        verified_data(body, secret=secret, function=FUNCTION) if b'"code"' not in body else None
    )
    rejected = neutral = 0
    mutable = bytearray(body)
    for region, offset in spans(body):
        old = body[offset]
        for new in replacements(old, rng):
            mutable[offset] = new
            changed = bytes(mutable)
            try:
                data = verified_data(changed, secret=secret, function=FUNCTION)
            except (QvicklySignatureError, QvicklyDecodeError):
                rejected += 1
            except QvicklyError:  # the signed error shape: raised only once verified
                accepted = _is_neutral(region, body, offset, new)
                assert accepted, (region, offset, new)
                neutral += 1
            else:
                assert _is_neutral(region, body, offset, new), (
                    f"a change at {region} offset {offset} ({old:#x} -> {new:#x}) was accepted"
                )
                assert data == original
                neutral += 1
        mutable[offset] = old
    return rejected, neutral


def _few(old: int, rng: random.Random) -> list[int]:
    picks = {old ^ 0x01, old ^ 0x20, old ^ 0x80, rng.randrange(256)}
    picks.discard(old)
    return sorted(picks)


def _all(old: int, _: random.Random) -> list[int]:
    return [new for new in range(256) if new != old]


@pytest.mark.parametrize("name", sorted(BODIES))
@pytest.mark.parametrize("seed", [SEED], ids=lambda seed: f"seed={seed}")
def test_every_single_byte_change_is_rejected(name: str, seed: int) -> None:
    body, secret = BODIES[name]
    rejected, neutral = check_every_change(body, secret, _few, random.Random(seed))
    report(f"\n{name}: {len(body)} bytes, {rejected} changes rejected, {neutral} neutral accepted")
    assert rejected > 3 * len(body) // 2


@pytest.mark.soak
@pytest.mark.parametrize("name", sorted(BODIES))
def test_every_single_byte_change_is_rejected_all_values(name: str) -> None:
    body, secret = BODIES[name]
    rejected, neutral = check_every_change(body, secret, _all, random.Random(SEED))
    report(f"\n{name}: {rejected} changes rejected, {neutral} neutral accepted")


def _without_hash(body: bytes) -> list[bytes]:
    found = _HASH_VALUE.search(body)
    assert found is not None
    digest = found.group(1)
    envelope = json.loads(body)
    no_credentials = {key: value for key, value in envelope.items() if key != "credentials"}
    return [
        body.replace(b'"hash":"' + digest + b'",', b""),  # hash member removed
        body.replace(digest, b""),  # empty hash
        body.replace(b'"' + digest + b'"', b"null"),
        body.replace(b'"' + digest + b'"', b"0"),
        body.replace(b'"' + digest + b'"', b'["' + digest + b'"]'),
        body.replace(digest, digest[:-1]),  # one character short
        body.replace(digest, digest + b"0"),  # one character long
        body.replace(digest, sign(b"another secret", b"x").encode()),
        json.dumps(no_credentials).encode(),  # no credentials at all
        body.replace(b'"credentials":{', b'"credentials":[{').replace(b'},"data"', b'}],"data"'),
    ]


@pytest.mark.parametrize("name", sorted(BODIES))
def test_missing_or_malformed_hash_is_rejected(name: str) -> None:
    body, secret = BODIES[name]
    variants = _without_hash(body)
    assert all(variant != body for variant in variants)
    for variant in variants:
        with pytest.raises(QvicklySignatureError):
            verified_data(variant, secret=secret, function=FUNCTION)


def test_a_second_data_member_is_what_gets_verified() -> None:
    # A body with two "data" members: JSON decoders keep the last one, so the verifier must
    # check the last one's bytes (and does), never the first's.
    body, secret = BODIES["flat-3-invoices"]
    evil = body[:-1] + b',"data":[]}'
    with pytest.raises(QvicklySignatureError):
        verified_data(evil, secret=secret, function=FUNCTION)


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["flat-3-invoices", "nested-1-invoice"])
async def test_client_never_returns_changed_data(name: str) -> None:
    """The same through the public client: every change ends in an exception, no data."""
    body, secret = BODIES[name]
    rng = random.Random(SEED)
    changed: list[bytes] = []
    for region, offset in spans(body):
        mutable = bytearray(body)
        candidates = [
            new
            for new in range(256)
            if new != body[offset] and not _is_neutral(region, body, offset, new)
        ]
        mutable[offset] = rng.choice(candidates)
        changed.append(bytes(mutable))
    replies = iter(changed)

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=next(replies))

    returned = 0
    async with AsyncQvickly(
        merchant_id="12345",
        secret=secret,
        base_url="http://sandbox.invalid/",
        allow_insecure_http=True,
        transport=httpx.MockTransport(handler),
        max_retries=0,
    ) as client:
        for _ in changed:
            try:
                await client.get_invoices_by_customer("10001")
            except (QvicklySignatureError, QvicklyDecodeError):
                continue
            returned += 1
    assert returned == 0
