"""Models as plain JSON data: the one mechanism behind every ``to_dict()`` and the CLI rows.

A cattrs unstructure converter with attribute names as keys (not the wire names of
:mod:`._codec`, whose converter writes what Qvickly sends). What it produces is accepted
as-is by :func:`json.dumps`, FastAPI and Starlette:

* :class:`~decimal.Decimal` becomes exact decimal text without exponent notation
  (``Decimal("1E+2")`` -> ``"100"``); a field marked as money (metadata :data:`MONEY`) gets at
  least two decimals, only zeros added, never rounded (``"1752.00"``, ``"-300.00"``,
  ``"0.125"``);
* dates and date-times become ISO 8601 text (``"2024-05-31"``, ``"2024-05-04T12:30:00"``);
* enum members become their value (``"Paid"``, ``"F"``, ``8``); unknown values kept as text
  stay that text;
* read-only mappings become ``dict``, tuples become ``list``, nested models nested objects;
* ``extra`` is kept (its keys and values as sent); ``raw`` (the wire row an
  :class:`~qvickly_async.Invoice` was decoded from) is left out: its content is already in the
  typed fields and ``extra``.

Hooks are generated per class on first use, so a model added later needs nothing here but
:class:`~qvickly_async.models.Model` as its base (and the :data:`MONEY` field metadata for amounts).
"""

import enum
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any, Final

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

__all__ = [
    "MONEY",
    "decimal_text",
    "json_converter",
    "money_text",
    "to_json_data",
]

#: Field metadata key that marks an amount of money (currency units).
MONEY: Final = "qvickly_async.money"
# Enough precision that padding with zeros never rounds, whatever the ambient context.
_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_CENT: Final = Decimal("0.01")
#: Attributes never written: the decoded wire row is not part of the data.
_OMITTED: Final = frozenset({"raw"})

#: The converter behind :meth:`~qvickly_async.models.Model.to_dict`.
json_converter: Final = cattrs.Converter()


def decimal_text(value: Decimal) -> str:
    """Exact decimal text without exponent notation: ``Decimal("1E+2")`` -> ``"100"``."""
    return format(value, "f")


def money_text(value: Decimal | None) -> str | None:
    """Write an amount with at least two decimals: ``Decimal("1752")`` -> ``"1752.00"``.

    Only zeros are added (``Decimal("0.125")`` stays ``"0.125"``); ``None`` stays ``None``.
    """
    if value is None:
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(_CENT, context=_EXACT)
    return format(value, "f")


def _origin(annotation: Any) -> Any:
    return typing.get_origin(annotation) or annotation


def _is_mapping(annotation: Any) -> bool:
    origin = _origin(annotation)
    return isinstance(origin, type) and issubclass(origin, Mapping)


def _is_sequence(annotation: Any) -> bool:
    origin = _origin(annotation)
    return isinstance(origin, type) and issubclass(origin, tuple | list | frozenset | set)


def _mapping_out(value: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(key): json_converter.unstructure(item) for key, item in value.items()}


def _sequence_out(value: Any) -> list[Any]:
    return [json_converter.unstructure(item) for item in value]


def _enum_out(value: enum.Enum) -> Any:
    return json_converter.unstructure(value.value)


def _model_hook(cls: type) -> Any:
    overrides: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name in _OMITTED:
            overrides[field.name] = override(omit=True)
        elif field.metadata.get(MONEY):
            overrides[field.name] = override(unstruct_hook=money_text)
    return make_dict_unstructure_fn(cls, json_converter, **overrides)


def _register() -> None:
    json_converter.register_unstructure_hook(Decimal, decimal_text)
    json_converter.register_unstructure_hook(datetime, datetime.isoformat)
    json_converter.register_unstructure_hook(date, date.isoformat)
    json_converter.register_unstructure_hook_func(
        lambda cls: isinstance(cls, type) and issubclass(cls, enum.Enum), _enum_out
    )
    json_converter.register_unstructure_hook_func(_is_mapping, _mapping_out)
    json_converter.register_unstructure_hook_func(_is_sequence, _sequence_out)
    json_converter.register_unstructure_hook_factory(attrs.has, _model_hook)


_register()


def to_json_data(value: Any) -> Any:
    """Return ``value`` (a model, or any value a model holds) as plain JSON data."""
    return json_converter.unstructure(value)
