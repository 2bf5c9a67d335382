"""The deterministic demo dataset and its wire shapes."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from qvickly_async._signing import php_json_encode
from qvickly_async.sandbox import Sandbox
from qvickly_async.sandbox._dataset import DemoDataset, luhn_digit
from qvickly_async.sandbox._store import Store

from ._handmade import envelope, verified

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def fetch(sandbox: Sandbox, customer: str) -> tuple[bytes, Any]:
    with httpx.Client(transport=httpx.MockTransport(sandbox.handler)) as client:
        body = client.post(
            "http://sandbox.invalid/",
            content=envelope("getInvoicesByCustomer", {"customerno": customer}),
        ).content
    data = json.loads(body)["data"]
    verified(body)
    return body[body.index(b'"data":') :], data


def test_same_seed_gives_the_same_bytes_whatever_was_asked_before() -> None:
    first, second = Sandbox(seed=7), Sandbox(seed=7)
    for customer in ("10003", "10001", "10500"):
        fetch(first, customer)
    for customer in ("10500", "10001", "10003", "10999"):
        assert fetch(first, customer)[0] == fetch(second, customer)[0]


def test_different_seed_gives_different_data() -> None:
    one, other = Sandbox(seed=1), Sandbox(seed=2)
    assert fetch(one, "10001")[1] != fetch(other, "10001")[1]
    assert [fetch(one, str(n))[1] for n in range(10010, 10040)] != [
        fetch(other, str(n))[1] for n in range(10010, 10040)
    ]


def test_fixed_points() -> None:
    sandbox = Sandbox()
    assert fetch(sandbox, "10000")[1] == []
    assert len(fetch(sandbox, "10001")[1]) == 3
    assert len(fetch(sandbox, "10007")[1]) == 250
    assert sandbox.invoice_count("10007") == 250
    assert fetch(sandbox, "9999")[1] == []
    assert fetch(sandbox, "11000")[1] == []  # default size is 1000
    assert fetch(sandbox, "010001")[1] == []  # exact match only


def test_distribution_of_invoice_counts() -> None:
    dataset = DemoDataset(seed=20240601, size=1000)
    counts = [dataset.invoice_count(n) for n in range(10000, 11000)]
    assert 30 < counts.count(0) < 160
    assert sum(1 <= count <= 5 for count in counts) > 800
    assert any(count >= 100 for count in counts)
    assert max(counts) <= 999


def test_generation_is_lazy_and_cached() -> None:
    dataset = DemoDataset(seed=1, size=20_000_000)
    assert dataset.records(10_000_123) is dataset.records(10_000_123)
    info = dataset._records.cache_info()
    assert info.currsize == 1


def test_rows_cover_the_awkward_cases() -> None:
    sandbox = Sandbox()
    rows = [row for n in range(10000, 10300) for row in sandbox.expected_invoices(n)]
    assert any(row["invoicetype"] == "K" and row["topay"].startswith("-") for row in rows)
    assert any("fileurl" not in row for row in rows)
    assert any(row.get("fileurl") == "" for row in rows)
    assert any("/" in row.get("fileurl", "") for row in rows)
    assert any(row["duedate"] == "0000-00-00" for row in rows)
    assert any(isinstance(row["invoiceid_real"], int) for row in rows)
    assert any(isinstance(row["invoiceid_real"], str) for row in rows)
    assert any(isinstance(row["balancedue"], float) for row in rows)
    assert any(re.search("[åäöÅÄÖ]", row["name"]) for row in rows)
    assert {row["status"] for row in rows} >= {"Paid", "Sent", "Cancelled", "Created"}
    for row in rows:
        assert re.fullmatch(r"-?\d+\.\d{2}", row["topay"])
        assert _DATE.match(row["invoicedate"])
        assert list(row)[:5] == ["status", "name", "invoicedate", "duedate", "topay"]


def test_nested_shape_is_all_strings_in_ore_with_zero_dates() -> None:
    sandbox = Sandbox(invoice_shape="nested")
    rows = [row for n in range(10001, 10060) for row in sandbox.expected_invoices(n)]

    def scalars(value: Any) -> list[Any]:
        if isinstance(value, dict):
            return [item for inner in value.values() for item in scalars(inner)]
        if isinstance(value, list):
            return [item for inner in value for item in scalars(inner)]
        return [value]

    assert all(isinstance(value, str) for row in rows for value in scalars(row))
    assert all(
        list(row) == ["Cart", "PaymentData", "Customer", "Articles", "PaymentInfo"] for row in rows
    )
    assert any(row["PaymentData"]["paiddate"] == "0000-00-00 00:00:00" for row in rows)
    for row in rows:
        total = row["Cart"]["Total"]
        assert int(total["withtax"]) == int(total["withouttax"]) + int(total["tax"]) + int(
            total["rounding"]
        )
        assert abs(int(total["rounding"])) <= 50


def test_mixed_shape_mixes_per_invoice_deterministically() -> None:
    rows = Sandbox(invoice_shape="mixed").expected_invoices(10007)
    nested = sum("PaymentData" in row for row in rows)
    assert 0 < nested < len(rows)
    assert rows == Sandbox(invoice_shape="mixed").expected_invoices(10007)


def test_shape_can_change_while_running() -> None:
    sandbox = Sandbox()
    flat = fetch(sandbox, "10001")[1]
    sandbox.configure(invoice_shape="nested")
    nested = fetch(sandbox, "10001")[1]
    assert "status" in flat[0] and "PaymentData" in nested[0]
    assert [str(row["invoiceid_real"]) for row in flat] == [
        row["PaymentData"]["number"] for row in nested
    ]


@pytest.mark.parametrize("shape", ["flat", "nested", "mixed"])
def test_expected_invoices_equal_the_wire(shape: Any) -> None:
    sandbox = Sandbox(invoice_shape=shape)
    for customer in ("10001", "10007", "10000", "424242"):
        assert fetch(sandbox, customer)[1] == sandbox.expected_invoices(customer)


def test_personal_numbers_map_back_to_customers() -> None:
    dataset = DemoDataset(seed=0, size=5000)
    for number in (10000, 10001, 10007, 12345, 14999):
        pno = dataset.pno_for(number)
        assert re.fullmatch(r"\d{6}-\d{4}", pno)
        assert luhn_digit(pno.replace("-", "")[:9]) == pno[-1]
        assert dataset.customer_for_pno(pno) == number
        assert dataset.customer_for_pno("19" + pno) == number
        assert dataset.customer_for_pno(pno.replace("-", "")) == number
    assert dataset.customer_for_pno(dataset.pno_for(15000)) is None  # outside the dataset
    assert dataset.customer_for_pno("550101-1017") is None  # bad check digit
    assert dataset.customer_for_pno("991399-0000") is None
    assert dataset.customer_for_pno("nonsense") is None
    assert luhn_digit("811218987") == "6"


def test_dataset_size_is_configurable() -> None:
    sandbox = Sandbox(customers=10)
    assert sandbox.customer_numbers == range(10000, 10010)
    assert sandbox.expected_invoices(10010) == []
    with pytest.raises(ValueError, match="size"):
        DemoDataset(seed=0, size=-1)


def test_fast_encoder_matches_php_json_encode_on_demo_data() -> None:
    sandbox = Sandbox(customers=400)
    store = Store(DemoDataset(seed=sandbox.seed, size=400))

    def php(value: object) -> bytes:
        return php_json_encode(value).encode("ascii")

    for shape in ("flat", "nested", "mixed"):
        for customer in range(10000, 10400, 7):
            rows = store.customer_rows(str(customer), shape, test=False)
            assert store.customer_json(str(customer), shape, test=False) == php(rows)
    for customer in (10001, 10007, 10123):
        pno = sandbox.pno_of(customer)
        for status in ("Sent", "Sent,Paid"):
            rows = store.pno_rows(pno, status, test=False)
            assert store.pno_json(pno, status, test=False) == php(rows)
        for row in sandbox.expected_invoices(customer):
            number = str(row["invoiceid_real"])
            info = store.payment(number, test=False)
            assert store.payment_json(number, test=False) == php(info)
