"""Invoices as output rows: nested JSON objects and flat CSV records with stable names.

Every value comes from :meth:`~qvickly_async.models.Model.to_dict`, the SDK's one
JSON-ready view of a model (no serializer of its own here): every field of
:class:`~qvickly_async.Invoice` under its snake_case attribute name, after a leading
``customer_number`` (the number that was looked up); ``raw`` (the wire row) left out.

Values: amounts as exact decimal text with at least two decimals (``"1249.50"``, never a float
or exponent notation), other decimals as exact text, dates and times in ISO 8601, enum members
as their wire value, read-only mappings and tuples as JSON objects and arrays. CSV flattens
nested blocks with dotted names (``cart.total.with_tax``) and writes ``articles`` and every
``extra`` mapping as JSON text.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Final

import attrs

from .._json import to_json_data
from ..models import Invoice

__all__ = [
    "CSV_COLUMNS",
    "JSON_TEXT_COLUMNS",
    "csv_record",
    "csv_text",
    "invoice_row",
    "json_value",
]

#: Invoice attributes that never appear in output.
_OMITTED: Final = frozenset({"raw"})

#: A model value as plain JSON data: the converter behind ``to_dict()``.
json_value: Final = to_json_data


def invoice_row(customer_number: str, invoice: Invoice) -> dict[str, Any]:
    """One invoice as a JSON object: ``customer_number`` first, then ``invoice.to_dict()``."""
    row: dict[str, Any] = {"customer_number": customer_number}
    row.update(invoice.to_dict())
    return row


# -- CSV ---------------------------------------------------------------------------------------


def _attrs_class(annotation: Any) -> type | None:
    """Return the attrs class inside ``annotation`` (``Cart | None`` -> ``Cart``), if any."""
    candidates = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and attrs.has(candidate):
            return candidate
    return None


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _columns(cls: type, prefix: str) -> list[tuple[str, tuple[str, ...]]]:
    """``(column name, attribute path)`` for every leaf of ``cls``, nested blocks flattened."""
    hints = typing.get_type_hints(cls)
    columns: list[tuple[str, tuple[str, ...]]] = []
    for field in attrs.fields(cls):
        if field.name in _OMITTED:
            continue
        nested = _attrs_class(hints[field.name])
        if nested is not None:
            for name, path in _columns(nested, f"{prefix}{field.name}."):
                columns.append((name, (field.name, *path)))
        else:
            columns.append((f"{prefix}{field.name}", (field.name,)))
    return columns


@functools.cache
def _invoice_columns() -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(_columns(Invoice, ""))


#: The CSV header: ``customer_number``, then every invoice leaf field in model order.
CSV_COLUMNS: Final[tuple[str, ...]] = (
    "customer_number",
    *(name for name, _ in _invoice_columns()),
)


def _is_json_text(cls: type, path: tuple[str, ...]) -> bool:
    hints = typing.get_type_hints(cls)
    annotation = hints[path[0]]
    if len(path) > 1:
        nested = _attrs_class(annotation)
        assert nested is not None
        return _is_json_text(nested, path[1:])
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, Mapping | tuple)


#: CSV columns whose cells hold JSON text (``articles`` and the ``extra`` mappings).
JSON_TEXT_COLUMNS: Final[frozenset[str]] = frozenset(
    name for name, path in _invoice_columns() if _is_json_text(Invoice, path)
)


def csv_text(value: Any) -> str:
    """One CSV cell from plain JSON data: ``""`` for ``None``, JSON text for containers."""
    if value is None:
        return ""
    if isinstance(value, Mapping | tuple | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_record(customer_number: str, invoice: Invoice) -> list[str]:
    """One invoice as a CSV record in :data:`CSV_COLUMNS` order, from ``invoice.to_dict()``.

    Cells of a nested block the invoice does not have (flat rows) are empty.
    """
    data = invoice.to_dict()
    record = [customer_number]
    for _, path in _invoice_columns():
        value: Any = data
        for name in path:
            value = value[name]
            if value is None:
                break
        record.append(csv_text(value))
    return record
