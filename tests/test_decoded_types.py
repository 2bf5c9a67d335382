"""What decoding hands out is exactly the public, frozen model classes, whichever read made it.

The fast decoding path assembles models on private twin classes (qvickly_async/_codec.py,
``_assembler``) and hands them back as the public class; nothing of that may show.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import pytest

import qvickly_async.models
from qvickly_async import AsyncQvickly
from qvickly_async.sandbox import Sandbox

from .test_codec import walk

pytestmark = pytest.mark.anyio


def models_in(value: Any) -> Iterator[Any]:
    """Yield every model object inside ``value`` (itself included)."""
    return (item for item in walk(value) if attrs.has(type(item)))


async def every_read(shape: str) -> list[Any]:
    """Call every typed read of the sandbox whose rows are ``shape``; return what came back."""
    sandbox = Sandbox()
    sandbox.configure(invoice_shape=shape)
    async with AsyncQvickly.for_sandbox(sandbox) as client:
        invoices = await client.get_invoices_by_customer("10007")
        return [
            invoices,
            await client.get_invoices_by_pno(sandbox.pno_of(10001)),
            await client.get_payment_info(invoices[0].number),
            await client.get_account_info(),
            await client.get_address(sandbox.pno_of(10001)),
            await client.get_payment_plans(total_with_tax=Decimal("300")),
            await client.get_checkout(sandbox.checkout_url(invoices[0].number)),
        ]


@pytest.mark.parametrize("shape", ["flat", "nested", "mixed"])
async def test_decoded_models_are_the_public_frozen_classes(shape: str) -> None:
    found = list(models_in(await every_read(shape)))
    kinds = {type(model) for model in found}
    # Every block kind of the answers showed up (nested rows: invoice, cart, customer, ...).
    assert len(kinds) >= (18 if shape == "flat" else 20)
    for kind in kinds:
        assert kind.__module__ == "qvickly_async.models"
        assert getattr(qvickly_async.models, kind.__name__) is kind
    for model in found:
        first = attrs.fields(type(model))[0].name
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(model, first, None)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            delattr(model, first)
        assert copy.copy(model) == model
        assert attrs.evolve(model) == model
        assert type(attrs.evolve(model)) is type(model)
