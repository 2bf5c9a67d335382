"""Tests of the public models: enums, immutability, masking, derived summaries."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType

import attrs
import pytest

from qvickly_async.models import (
    Address,
    Article,
    Cart,
    CartTotal,
    CompanySigner,
    Customer,
    DistributorStatus,
    Invoice,
    InvoiceShape,
    InvoiceStatus,
    InvoiceType,
    PaymentData,
    PaymentInfo,
    PaymentMethod,
)

# -- enums ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "member"),
    [
        ("F", InvoiceType.INVOICE),
        ("f", InvoiceType.INVOICE),
        ("kn", InvoiceType.CASH_NOTE),
        ("RF", InvoiceType.INTEREST),
    ],
)
def test_invoice_type_is_case_insensitive(text: str, member: InvoiceType) -> None:
    assert InvoiceType(text) is member


@pytest.mark.parametrize(
    ("text", "member"),
    [
        ("Cancelled", InvoiceStatus.CANCELLED),
        ("Canceled", InvoiceStatus.CANCELLED),
        ("cancelled", InvoiceStatus.CANCELLED),
        ("CANCELED", InvoiceStatus.CANCELLED),
        ("Partpayment", InvoiceStatus.PART_PAYMENT),
        ("PartPayment", InvoiceStatus.PART_PAYMENT),
        ("Stage2Loaded", InvoiceStatus.STEP2_LOADED),
        ("factoringwithoutregress", InvoiceStatus.FACTORING_WITHOUT_REGRESS),
        ("WaitingForPurchase", InvoiceStatus.WAITING_FOR_PURCHASE),
    ],
)
def test_invoice_status_spellings(text: str, member: InvoiceStatus) -> None:
    assert InvoiceStatus(text) is member


def test_distributor_status_spellings() -> None:
    assert DistributorStatus("efakturasent") is DistributorStatus.EFAKTURA_SENT
    assert DistributorStatus("Canceled") is DistributorStatus.CANCELLED


def test_unknown_enum_text_still_raises_for_direct_calls() -> None:
    with pytest.raises(ValueError, match="Teleported"):
        InvoiceStatus("Teleported")
    with pytest.raises(ValueError, match="42"):
        InvoiceType(42)  # type: ignore[arg-type]


def test_payment_method_numbers() -> None:
    assert [member.value for member in PaymentMethod] == [
        1, 2, 4, 8, 16, 24, 32, 64, 128, 256, 266, 512, 1024, 2048
    ]  # fmt: skip
    assert PaymentMethod(8) is PaymentMethod.CARD
    assert int(PaymentMethod.SWISH) == 1024


def test_string_enums_compare_equal_to_their_text() -> None:
    assert str(InvoiceStatus.PAID) == "Paid"
    assert str(InvoiceShape.NESTED) == "nested"
    assert {"Paid": 1}[InvoiceStatus.PAID] == 1
    assert str(InvoiceType.CREDIT) == "K"


# -- construction and immutability ---------------------------------------------------------------


def test_invoice_needs_only_a_number() -> None:
    invoice = Invoice(number="1001")
    assert invoice.shape is InvoiceShape.FLAT
    assert invoice.status is None
    assert invoice.articles == ()
    assert invoice.extra == {}
    assert isinstance(invoice.extra, MappingProxyType)
    assert isinstance(invoice.raw, MappingProxyType)


def test_invoice_requires_number() -> None:
    with pytest.raises(TypeError):
        Invoice()  # type: ignore[call-arg]


def test_models_are_frozen() -> None:
    invoice = Invoice(number="1")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        invoice.number = "2"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Address(city="Testinge").city = "Other"  # type: ignore[misc]


def test_models_are_slotted() -> None:
    assert not hasattr(Invoice(number="1"), "__dict__")
    assert not hasattr(PaymentData(), "__dict__")


def test_mutable_inputs_are_frozen_deeply() -> None:
    source = {"list": [1, {"inner": [2]}], "map": {"a": 1}}
    article = Article(extra=source)
    source["list"].append(3)  # type: ignore[attr-defined]
    assert article.extra["list"] == (1, MappingProxyType({"inner": (2,)}))
    assert isinstance(article.extra["map"], MappingProxyType)
    with pytest.raises(TypeError):
        article.extra["new"] = 1  # type: ignore[index]
    invoice = Invoice(number="1", articles=[article], raw={"k": [1]})
    assert invoice.articles == (article,)
    assert type(invoice.articles) is tuple
    assert invoice.raw["k"] == (1,)


def test_raw_is_excluded_from_equality() -> None:
    assert Invoice(number="1", raw={"a": "1"}) == Invoice(number="1", raw={"b": "2"})
    assert Invoice(number="1", extra={"a": "1"}) != Invoice(number="1", extra={"b": "2"})


def test_hashable() -> None:
    assert hash(Invoice(number="1", to_pay=Decimal("1.00"))) == hash(
        Invoice(number="1", to_pay=Decimal("1"))
    )


# -- masking ---------------------------------------------------------------------------------------

SECRETS = {
    "pno": "197001011234",
    "signer": "198002023456",
    "email": "anna.person@example.org",
    "phone": "0701234567",
    "street": "Hemliga vägen 7",
    "zip": "98765",
    "first": "Annalena",
    "last": "Privatsson",
    "company": "Privatsson Konsult",
    "city": "Gömstad",
    "reference": "Bertil Referensson",
    "customer": "199901019999",
}


def _private_invoice() -> Invoice:
    billing = Address(
        first_name=SECRETS["first"],
        last_name=SECRETS["last"],
        company=SECRETS["company"],
        street=SECRETS["street"],
        street2=SECRETS["street"] + " c/o",
        zip_code=SECRETS["zip"],
        city=SECRETS["city"],
        country="SE",
        phone=SECRETS["phone"],
        email=SECRETS["email"],
        extra={"mobile": SECRETS["phone"]},
    )
    return Invoice.from_blocks(
        payment_data=PaymentData(
            number="5001",
            url="https://api.billmate.se/invoice/5001/secret-token",
            callback_url="https://shop.example/cb?token=abc",
        ),
        customer=Customer(
            number=SECRETS["customer"],
            pno=SECRETS["pno"],
            billing=billing,
            shipping=billing,
            company_signer=CompanySigner(pno=SECRETS["signer"]),
        ),
        payment_info=PaymentInfo(
            your_reference=SECRETS["reference"], our_reference=SECRETS["reference"]
        ),
        invoice_hash="abcdef0123456789",
        raw={"Customer": {"pno": SECRETS["pno"]}},
    )


def test_repr_hides_personal_data() -> None:
    text = repr(_private_invoice())
    for name, value in SECRETS.items():
        assert value not in text, name
    assert "secret-token" not in text
    assert "token=abc" not in text
    assert "abcdef0123456789" not in text


def test_repr_keeps_useful_parts() -> None:
    text = repr(_private_invoice())
    assert "number='5001'" in text
    assert "pno='19**********'" in text
    assert "first_name='***'" in text
    assert "url='https://api.billmate.se/***'" in text
    assert "country='SE'" in text
    assert "extra=<1 keys: 'mobile'>" in text
    assert "raw=" not in text


def test_repr_of_empty_personal_fields_shows_emptiness() -> None:
    text = repr(Address())
    assert "first_name=None" in text
    assert "email=None" in text


def test_repr_of_flat_invoice_masks_name_and_links() -> None:
    invoice = Invoice(
        number="1",
        customer_name=SECRETS["first"],
        file_url="/relative/invoice.pdf",
        invoice_hash="deadbeef",
    )
    text = repr(invoice)
    assert SECRETS["first"] not in text
    assert "relative" not in text
    assert "deadbeef" not in text


# -- derived summary ------------------------------------------------------------------------------


def test_from_blocks_derives_summary() -> None:
    invoice = Invoice.from_blocks(
        payment_data=PaymentData(
            number="77",
            status=InvoiceStatus.PAID,
            currency="EUR",
            url="https://x.example/77.pdf",
            due_date=date(2024, 5, 9),
            paid_date=datetime(2024, 5, 8, 12, 30),
            mexc_customer_invoices_id="900",
        ),
        cart=Cart(total=CartTotal(with_tax=Decimal("-12.50"))),
        customer=Customer(billing=Address(first_name="Tess", last_name="T")),
        payment_info=PaymentInfo(payment_date=date(2024, 5, 1), balance_due=Decimal("0.00")),
        invoice_type="X9",
    )
    assert invoice.shape is InvoiceShape.NESTED
    assert invoice.number == "77"
    assert invoice.status is InvoiceStatus.PAID
    assert invoice.currency == "EUR"
    assert invoice.file_url == "https://x.example/77.pdf"
    assert invoice.due_date == date(2024, 5, 9)
    assert invoice.paid_date == datetime(2024, 5, 8, 12, 30)
    assert invoice.to_pay == Decimal("-12.50")
    assert invoice.invoice_date == date(2024, 5, 1)
    assert invoice.balance_due == Decimal("0.00")
    assert invoice.customer_name == "Tess T"
    assert invoice.mexc_customer_invoices_id == "900"
    assert invoice.invoice_type == "X9"


def test_from_blocks_needs_a_number() -> None:
    with pytest.raises(ValueError, match="number"):
        Invoice.from_blocks(payment_data=PaymentData())


@pytest.mark.parametrize(
    ("address", "name"),
    [
        (Address(company="Acme AB", first_name="A", last_name="B"), "Acme AB"),
        (Address(first_name="Ada"), "Ada"),
        (Address(first_name="Ada", last_name="Lovelace"), "Ada Lovelace"),
        (Address(first_name="", last_name="Lovelace", company=""), "Lovelace"),
        (Address(last_name="Lovelace"), "Lovelace"),
        (Address(), None),
    ],
)
def test_display_name(address: Address, name: str | None) -> None:
    assert address.display_name == name


def test_company_signer_pno() -> None:
    assert Customer().company_signer_pno is None
    assert Customer(company_signer=CompanySigner(pno="5566")).company_signer_pno == "5566"
