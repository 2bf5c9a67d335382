"""Invoice -> JSON object / CSV record conversion: names, values, exactness."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal

import attrs

from qvickly_async._batch import CustomerResult
from qvickly_async._cli._rows import (
    CSV_COLUMNS,
    JSON_TEXT_COLUMNS,
    csv_record,
    invoice_row,
    json_value,
)
from qvickly_async._cli._writers import CsvWriter, JsonLinesWriter, JsonWriter
from qvickly_async.exceptions import QvicklyNotFoundError
from qvickly_async.models import (
    Address,
    Article,
    Cart,
    CartCharge,
    CartTotal,
    CompanySigner,
    Customer,
    Invoice,
    InvoiceStatus,
    InvoiceType,
    PaymentData,
    PaymentInfo,
    PaymentMethod,
)

# The documented CSV header (docs/cli.md). Changing it breaks users' spreadsheets and scripts:
# if this test fails, the change must be deliberate, documented and in the changelog.
EXPECTED_HEADER = [
    "customer_number",
    "number",
    "shape",
    "invoice_type",
    "status",
    "distributor_status",
    "customer_name",
    "invoice_date",
    "due_date",
    "paid_date",
    "to_pay",
    "balance_due",
    "currency",
    "file_url",
    "invoice_hash",
    "credit_invoice_id",
    "mm3_services_id",
    "mexc_modules_id",
    "mexc_customer_invoices_id",
    "cart.handling.without_tax",
    "cart.handling.tax_rate",
    "cart.handling.extra",
    "cart.shipping.without_tax",
    "cart.shipping.tax_rate",
    "cart.shipping.extra",
    "cart.total.rounding",
    "cart.total.without_tax",
    "cart.total.tax",
    "cart.total.with_tax",
    "cart.total.extra",
    "cart.extra",
    "payment_data.method",
    "payment_data.payment_plan_id",
    "payment_data.currency",
    "payment_data.country",
    "payment_data.language",
    "payment_data.auto_activate",
    "payment_data.order_id",
    "payment_data.status",
    "payment_data.related_payment_id",
    "payment_data.accept_url",
    "payment_data.cancel_url",
    "payment_data.return_method",
    "payment_data.callback_url",
    "payment_data.all_addresses",
    "payment_data.url",
    "payment_data.mexc_customer_invoices_id",
    "payment_data.number",
    "payment_data.due_date",
    "payment_data.paid_date",
    "payment_data.extra",
    "customer.number",
    "customer.pno",
    "customer.billing.first_name",
    "customer.billing.last_name",
    "customer.billing.company",
    "customer.billing.customer_type",
    "customer.billing.street",
    "customer.billing.street2",
    "customer.billing.zip_code",
    "customer.billing.city",
    "customer.billing.country",
    "customer.billing.phone",
    "customer.billing.email",
    "customer.billing.extra",
    "customer.shipping.first_name",
    "customer.shipping.last_name",
    "customer.shipping.company",
    "customer.shipping.customer_type",
    "customer.shipping.street",
    "customer.shipping.street2",
    "customer.shipping.zip_code",
    "customer.shipping.city",
    "customer.shipping.country",
    "customer.shipping.phone",
    "customer.shipping.email",
    "customer.shipping.extra",
    "customer.company_signer.pno",
    "customer.company_signer.extra",
    "customer.extra",
    "articles",
    "payment_info.payment_date",
    "payment_info.payment_terms",
    "payment_info.your_reference",
    "payment_info.our_reference",
    "payment_info.project_name",
    "payment_info.delivery_method",
    "payment_info.delivery_terms",
    "payment_info.invoice_status",
    "payment_info.balance_due",
    "payment_info.extra",
    "extra",
]


def _flat() -> Invoice:
    return Invoice(
        number="10001000",
        invoice_type=InvoiceType.CREDIT,
        status="SomeNewStatus",
        customer_name="Åsa Öberg",
        invoice_date=date(2024, 5, 1),
        due_date=date(2024, 5, 31),
        to_pay=Decimal("-1249.50"),
        balance_due=Decimal("0.00"),
        extra={"mexcNew": [1, {"a": "b"}], "weird": "=1+1"},
        raw={"invoiceid_real": 10001000, "secret_marker": "RAW-ONLY"},
    )


def _nested() -> Invoice:
    return Invoice.from_blocks(
        payment_data=PaymentData(
            number="77",
            method=PaymentMethod.FACTORING,
            currency="EUR",
            status=InvoiceStatus.PAID,
            paid_date=datetime(2024, 5, 4, 12, 30),
        ),
        cart=Cart(total=CartTotal(with_tax=Decimal("1E+2"), tax=Decimal("20.00"))),
        customer=Customer(number="10002", billing=Address(first_name="Tess", last_name="T")),
        articles=[Article(title='Kaffe, "bryggt"', unit_price=Decimal("12.345"))],
        payment_info=PaymentInfo(payment_terms=30, balance_due=Decimal("100.00")),
    )


def test_header_is_stable() -> None:
    assert list(CSV_COLUMNS) == EXPECTED_HEADER
    assert len(set(CSV_COLUMNS)) == len(CSV_COLUMNS)
    assert CSV_COLUMNS[0] == "customer_number"
    assert "raw" not in CSV_COLUMNS


_BLOCKS: dict[type, dict[str, type]] = {
    Invoice: {
        "cart": Cart,
        "payment_data": PaymentData,
        "customer": Customer,
        "payment_info": PaymentInfo,
    },
    Cart: {"handling": CartCharge, "shipping": CartCharge, "total": CartTotal},
    Customer: {"billing": Address, "shipping": Address, "company_signer": CompanySigner},
}


def _expected_columns(cls: type, prefix: str) -> list[str]:
    names: list[str] = []
    for field in attrs.fields(cls):
        if field.name == "raw":
            continue
        block = _BLOCKS.get(cls, {}).get(field.name)
        if block is not None:
            names += _expected_columns(block, f"{prefix}{field.name}.")
        else:
            names.append(f"{prefix}{field.name}")
    return names


def test_every_model_field_has_a_column() -> None:
    assert list(CSV_COLUMNS) == ["customer_number", *_expected_columns(Invoice, "")]
    assert {"articles", "extra", "payment_data.extra", "customer.billing.extra"} <= (
        JSON_TEXT_COLUMNS
    )
    assert "to_pay" not in JSON_TEXT_COLUMNS


def test_json_row_values() -> None:
    row = invoice_row("10001", _flat())
    assert next(iter(row)) == "customer_number"
    assert row["customer_number"] == "10001"
    assert row["invoice_type"] == "K"
    assert row["status"] == "SomeNewStatus"
    assert row["shape"] == "flat"
    assert row["to_pay"] == "-1249.50"
    assert row["balance_due"] == "0.00"
    assert row["invoice_date"] == "2024-05-01"
    assert row["currency"] is None
    assert row["cart"] is None
    assert row["articles"] == []
    assert row["extra"] == {"mexcNew": [1, {"a": "b"}], "weird": "=1+1"}
    assert "raw" not in row
    assert "RAW-ONLY" not in json.dumps(row)
    # Decimals survive a round trip exactly.
    assert Decimal(row["to_pay"]) == Decimal("-1249.50")


def test_json_nested_blocks_stay_nested() -> None:
    row = invoice_row("10002", _nested())
    assert row["payment_data"]["method"] == 1
    assert row["payment_data"]["status"] == "Paid"
    assert row["payment_data"]["paid_date"] == "2024-05-04T12:30:00"
    assert row["cart"]["total"]["with_tax"] == "100.00"  # no exponent notation, two decimals
    assert row["to_pay"] == "100.00"
    assert row["articles"][0]["unit_price"] == "12.345"
    assert row["customer"]["billing"]["first_name"] == "Tess"
    assert row["payment_info"]["payment_terms"] == 30
    assert json_value(Decimal("0.1")) == "0.1"


def test_csv_record_flattens() -> None:
    record = dict(zip(CSV_COLUMNS, csv_record("10002", _nested()), strict=True))
    assert record["customer_number"] == "10002"
    assert record["cart.total.with_tax"] == "100.00"
    assert record["cart.total.tax"] == "20.00"
    assert record["cart.handling.without_tax"] == ""
    assert record["cart.handling.extra"] == ""  # the block is absent
    assert record["cart.total.extra"] == "{}"
    assert record["payment_data.method"] == "1"
    assert record["payment_data.paid_date"] == "2024-05-04T12:30:00"
    assert json.loads(record["articles"])[0]["title"] == 'Kaffe, "bryggt"'
    assert record["customer.billing.first_name"] == "Tess"
    flat = dict(zip(CSV_COLUMNS, csv_record("10001", _flat()), strict=True))
    assert flat["to_pay"] == "-1249.50"
    assert flat["payment_data.currency"] == ""
    assert json.loads(flat["extra"]) == {"mexcNew": [1, {"a": "b"}], "weird": "=1+1"}


def test_amounts_have_two_decimals_as_documented() -> None:
    # The sandbox (and Qvickly) send flat balancedue as "0" and "1752": docs/cli.md says "1249.50".
    invoice = Invoice(
        number="1",
        to_pay=Decimal("1752"),
        balance_due=Decimal("0"),
        articles=[Article(quantity=Decimal("2"), tax_rate=Decimal("25"), tax=Decimal("0.125"))],
    )
    row = invoice_row("10001", invoice)
    assert (row["to_pay"], row["balance_due"]) == ("1752.00", "0.00")
    # Only zeros are added, never rounded; quantities and rates are not money.
    assert row["articles"][0]["tax"] == "0.125"
    assert (row["articles"][0]["quantity"], row["articles"][0]["tax_rate"]) == ("2", "25")
    record = dict(zip(CSV_COLUMNS, csv_record("10001", invoice), strict=True))
    assert (record["to_pay"], record["balance_due"]) == ("1752.00", "0.00")
    assert row == {"customer_number": "10001", **invoice.to_dict()}


def _results() -> list[CustomerResult]:
    return [
        CustomerResult("10001", (_flat(),)),
        CustomerResult("10000", ()),
        CustomerResult("10002", (_nested(),)),
        CustomerResult("10042", (), QvicklyNotFoundError("No such customer", code=5201, logid="9")),
    ]


def test_csv_writer_round_trip() -> None:
    stream = io.StringIO(newline="")
    writer = CsvWriter(stream)
    writer.start()
    for result in _results():
        writer.add(result)
    writer.finish()
    rows = list(csv.DictReader(io.StringIO(stream.getvalue(), newline="")))
    assert [row["customer_number"] for row in rows] == ["10001", "10002"]
    assert rows[0]["customer_name"] == "Åsa Öberg"
    assert json.loads(rows[0]["extra"])["weird"] == "=1+1"
    assert writer.invoices == 2


def test_excel_csv_neutralises_formulas_but_not_negative_numbers() -> None:
    stream = io.StringIO(newline="")
    writer = CsvWriter(stream, excel=True)
    writer.start()
    writer.add(CustomerResult("10001", (attrs.evolve(_flat(), customer_name='=HYPERLINK("x")'),)))
    rows = list(csv.DictReader(io.StringIO(stream.getvalue(), newline="")))
    assert rows[0]["customer_name"] == '\'=HYPERLINK("x")'
    assert rows[0]["to_pay"] == "-1249.50"


def test_json_writers_parse_back() -> None:
    stream = io.StringIO()
    writer = JsonWriter(stream)
    writer.start()
    for result in _results():
        writer.add(result)
    writer.finish()
    customers = json.loads(stream.getvalue())
    assert [c["customer_number"] for c in customers] == ["10001", "10000", "10002", "10042"]
    assert customers[1] == {
        "customer_number": "10000",
        "ok": True,
        "error": None,
        "invoice_count": 0,
        "invoices": [],
    }
    assert customers[3]["ok"] is False
    assert customers[3]["error"] == {
        "type": "QvicklyNotFoundError",
        "code": 5201,
        "message": "No such customer",
        "logid": "9",
    }
    lines = io.StringIO()
    jsonl = JsonLinesWriter(lines)
    jsonl.start()
    for result in _results():
        jsonl.add(result)
    jsonl.finish()
    parsed = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [row["number"] for row in parsed] == ["10001000", "77"]
    assert parsed == [invoice["invoices"][0] for invoice in (customers[0], customers[2])]
