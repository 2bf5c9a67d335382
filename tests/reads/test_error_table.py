"""The error catalogue's by-function table agrees with the SDK's codes and the sandbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qvickly_async import AsyncQvickly, QvicklyAPIError, exceptions
from qvickly_async._error_codes import exception_class_for

ERRORS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
_ROW = re.compile(
    r"^\| (?P<function>get\w+)[^|]*\| (?P<codes>[\d, ]+) \| "
    r"\{class\}`~qvickly_async\.exceptions\.(?P<cls>\w+)` \| (?P<when>[^|]+) \|$",
    re.MULTILINE,
)

pytestmark = pytest.mark.anyio


def rows() -> list[tuple[str, int, str, str]]:
    text = ERRORS.read_text(encoding="utf-8").split("## By function", 1)[1].split("\n## ", 1)[0]
    found = []
    for match in _ROW.finditer(text):
        for code in match["codes"].split(","):
            found.append((match["function"], int(code), match["cls"], match["when"]))
    return found


def test_every_row_names_the_exception_the_code_raises() -> None:
    table = rows()
    assert len(table) >= 18
    for function, code, name, _ in table:
        assert exception_class_for(code) is getattr(exceptions, name), (function, code)


@pytest.mark.parametrize(
    ("coroutine", "args", "code"),
    [
        ("get_payment_info", ("999",), 5201),
        ("get_address", ("5501011019",), 8010),
        ("get_checkout", ("123456abc123456abc123456abc12345",), 50012),
    ],
)
async def test_codes_not_prevented_arrive_from_the_sandbox(
    coroutine: str, args: tuple[str, ...], code: int
) -> None:
    assert any(row[1] == code and "prevented" not in row[3] for row in rows())
    async with AsyncQvickly.for_sandbox() as client:
        with pytest.raises(QvicklyAPIError) as caught:
            await getattr(client, coroutine)(*args)
    assert caught.value.code == code
    assert isinstance(caught.value, exception_class_for(code))


async def test_plan_errors_arrive_from_the_sandbox() -> None:
    async with AsyncQvickly.for_sandbox() as client:
        with pytest.raises(QvicklyAPIError) as caught:
            await client.get_payment_plans(currency="EUR")
        assert caught.value.code == 6012
        with pytest.raises(QvicklyAPIError) as caught:
            await client.get_payment_plans(country="NO")
        assert caught.value.code == 5301
