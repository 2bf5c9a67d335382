"""The deterministic demo dataset: customers and their invoices, derived lazily from a seed.

Nothing is materialised up front. A customer's details come from ``(seed, customer)`` and each
invoice from ``(seed, customer, index)``, so the same customer always gets the same invoices
whatever else was asked before; results are cached per customer.

Customers are numbered from 10000 (``10000 .. 10000 + size - 1``). Fixed points that tests and
examples may rely on: 10000 has no invoices, 10001 has exactly three, 10007 has 250. Of the
others about 8 % have none, most have 1-5, a few dozen per thousand 6-20 and a handful hundreds.
Invoice numbers are ``customer * 1000 + index``; personal numbers (``YYMMDD-NNNC``, valid Luhn
check digit) map back to their customer without a lookup table.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import random
from collections.abc import Sequence
from typing import Final, TypeVar

import attrs

__all__ = ["DemoArticle", "DemoCustomer", "DemoDataset", "InvoiceRecord", "luhn_digit"]

FIRST_CUSTOMER: Final = 10000
MAX_INVOICES: Final = 999
_FIXED_COUNTS: Final = {10000: 0, 10001: 3, 10007: 250}
_PNO_SPACE: Final = 20_000_000  # 20 000 birth dates x 1 000 serials
_PNO_MULTIPLIER: Final = 7919
_PNO_OFFSET: Final = 12345
_PNO_INVERSE: Final = pow(_PNO_MULTIPLIER, -1, _PNO_SPACE)
_BIRTH_EPOCH: Final = dt.date(1940, 1, 1)
_INVOICE_EPOCH: Final = dt.date(2022, 1, 3)
ZERO_DATE: Final = "0000-00-00"
ZERO_DATETIME: Final = "0000-00-00 00:00:00"

_FIRST_NAMES: Final = (
    "Åsa", "Björn", "Göran", "Märta", "Sören", "Åke", "Örjan", "Kjell", "Ingrid", "Lärke",
    "Agneta", "Håkan", "Maja", "Elsa", "Östen", "Birgitta", "Jörgen", "Tove", "Ulla", "Mårten",
)  # fmt: skip
_LAST_NAMES: Final = (
    "Åberg", "Öberg", "Ström", "Björk", "Sjögren", "Lindqvist", "Nordström", "Hägg", "Källström",
    "Ekström", "Söderberg", "Bäckström", "Johansson", "Andersson", "Karlsson", "Nilsson",
    "Lövgren", "Åström", "Wählin", "Fältskog",
)  # fmt: skip
_COMPANIES: Final = (
    "Åkessons Bygg AB", "Fjällräv & Söner HB", "Östgöta Kök AB", "Mälardalens Måleri AB",
    "Björkö Fiske & Rökeri", "Västkustens Glass AB", "Norrländsk Timmer AB", "Skånes Ölfabrik AB",
)  # fmt: skip
_STREETS: Final = (
    "Storgatan", "Drottninggatan", "Kungsvägen", "Ängsvägen", "Björkallén", "Sjövägen",
    "Östra Hamngatan", "Järnvägsgatan", "Götgatan", "Skärgårdsvägen",
)  # fmt: skip
_CITIES: Final = (
    ("Göteborg", "411"), ("Malmö", "211"), ("Västerås", "722"), ("Örebro", "702"),
    ("Linköping", "582"), ("Jönköping", "553"), ("Umeå", "903"), ("Luleå", "972"),
    ("Norrköping", "602"), ("Gävle", "802"), ("Borås", "503"), ("Växjö", "352"),
    ("Södertälje", "151"), ("Täby", "183"), ("Skövde", "541"), ("Stockholm", "114"),
)  # fmt: skip
_PRODUCTS: Final = (
    ("Kaffebryggare", 49900), ("Vävd matta 160x230", 129900), ("Ölglas 6-pack", 24900),
    ("Skötväska", 59900), ("Höjdhoppsribba", 89900), ("Fågelholk", 19900),
    ("Strömbrytare", 7900), ("Sängkläder, bomull", 39900), ("Gräsklippare", 349900),
    ("Tändstickor 10-pack", 2900), ("Ljusstake mässing", 34900), ("Serviceavgift", 15000),
)  # fmt: skip
_ASCII: Final = str.maketrans(
    {"å": "a", "ä": "a", "ö": "o", "é": "e", "Å": "A", "Ä": "A", "Ö": "O"}
)


_T = TypeVar("_T")


def _weighted(rng: random.Random, options: Sequence[tuple[_T, int]]) -> _T:
    """Pick one of ``(value, weight)`` pairs (weights add up to 100) with one draw."""
    point = rng.random() * 100
    for value, weight in options:
        point -= weight
        if point < 0:
            return value
    return options[-1][0]


_KINDS: Final = (("F", 82), ("K", 10), ("KN", 4), ("RF", 4))
_TAX_RATES: Final = ((25, 80), (12, 15), (6, 5))
_CURRENCIES: Final = (("SEK", 90), ("EUR", 4), ("NOK", 3), ("DKK", 3))
_STATUSES: Final = (
    (("Paid", "Paid"), 45),
    (("Sent", "Sent"), 25),
    (("Created", "Created"), 8),
    (("Cancelled", "Cancelled"), 8),
    (("Factoring", "Sent"), 9),
    (("Handling", "eFakturaSent"), 5),
)


def luhn_digit(digits: str) -> str:
    """Return the Luhn check digit for ``digits`` (as in Swedish personal numbers)."""
    total = 0
    for position, char in enumerate(digits):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def _ascii(text: str) -> str:
    return text.translate(_ASCII).lower().replace(" ", "")


@attrs.frozen
class DemoCustomer:
    """One demo customer (a person, or a company when ``company`` is set)."""

    number: int
    pno: str
    firstname: str
    lastname: str
    company: str
    street: str
    zip: str
    city: str
    phone: str
    email: str

    @property
    def name(self) -> str:
        """Return the display name: the company or ``"First Last"``."""
        return self.company or f"{self.firstname} {self.lastname}"


@attrs.frozen
class DemoArticle:
    """One invoice line; amounts in öre."""

    artnr: str
    title: str
    quantity: str
    aprice: int
    discount: str
    withouttax: int
    taxrate: int


@attrs.frozen
class InvoiceRecord:
    """Everything any response shape shows about one invoice; amounts in öre."""

    customer: DemoCustomer
    index: int
    number: int
    invoicetype: str
    status: str
    distributor_status: str
    invoicedate: str
    duedate: str
    paiddate: str
    paymentterms: int
    method: str
    currency: str
    orderid: str
    articles: tuple[DemoArticle, ...]
    handling: int
    shipping: int
    taxrate: int
    withouttax: int
    tax: int
    rounding: int
    withtax: int
    topay: int
    balancedue: int
    fileurl: str | None
    hash: str
    creditinvoiceid: int
    customerinvoicesid: int
    #: In flat getInvoicesByCustomer rows, send every number as a string (as getInvoicesByPno
    #: does) instead of the reference page's JSON numbers.
    numbers_as_strings: bool
    #: In the "mixed" shape, render this invoice nested rather than flat.
    nested_in_mixed: bool


class DemoDataset:
    """Customers ``10000 .. 10000 + size - 1`` and their invoices, generated on demand."""

    def __init__(self, *, seed: int, size: int, cache_size: int = 8192) -> None:
        if size < 0 or size > _PNO_SPACE:
            raise ValueError(f"size must be between 0 and {_PNO_SPACE}, got {size}")
        self.seed = seed
        self.size = size
        self._records = functools.lru_cache(maxsize=cache_size)(self._make_records)
        self._customer = functools.lru_cache(maxsize=cache_size)(self._make_customer)

    def __repr__(self) -> str:
        return f"DemoDataset(seed={self.seed}, size={self.size})"

    # -- customers ------------------------------------------------------------------------

    def has_customer(self, number: int) -> bool:
        """Tell whether ``number`` is a demo customer."""
        return FIRST_CUSTOMER <= number < FIRST_CUSTOMER + self.size

    def customer(self, number: int) -> DemoCustomer:
        """Return customer ``number`` (which must exist)."""
        return self._customer(number)

    def customer_for_pno(self, pno: str) -> int | None:
        """Return the customer whose personal number is ``pno`` (century/dash optional)."""
        digits = pno.replace("-", "").replace("+", "")
        if len(digits) == 12 and digits[:2] in ("19", "20"):
            digits = digits[2:]
        if len(digits) != 10 or not digits.isdigit() or luhn_digit(digits[:9]) != digits[9]:
            return None
        try:
            born = dt.date(1900 + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
        except ValueError:
            return None
        day = (born - _BIRTH_EPOCH).days
        if not 0 <= day < _PNO_SPACE // 1000:
            return None
        mixed = day * 1000 + int(digits[6:9])
        number = FIRST_CUSTOMER + (mixed - _PNO_OFFSET) * _PNO_INVERSE % _PNO_SPACE
        return number if self.has_customer(number) else None

    @staticmethod
    def pno_for(number: int) -> str:
        """Return the personal number of customer ``number`` (``YYMMDD-NNNC``)."""
        mixed = ((number - FIRST_CUSTOMER) * _PNO_MULTIPLIER + _PNO_OFFSET) % _PNO_SPACE
        born = _BIRTH_EPOCH + dt.timedelta(days=mixed // 1000)
        head = f"{born:%y%m%d}{mixed % 1000:03d}"
        return f"{head[:6]}-{head[6:]}{luhn_digit(head)}"

    def _make_customer(self, number: int) -> DemoCustomer:
        rng = random.Random(f"{self.seed}:customer:{number}")  # noqa: S311 - demo data
        firstname = rng.choice(_FIRST_NAMES)
        lastname = rng.choice(_LAST_NAMES)
        company = rng.choice(_COMPANIES) if rng.random() < 0.12 else ""
        city, zip_prefix = rng.choice(_CITIES)
        domain = "example.se" if not company else f"{_ascii(company.split()[0])}.example.se"
        return DemoCustomer(
            number=number,
            pno=self.pno_for(number),
            firstname=firstname,
            lastname=lastname,
            company=company,
            street=f"{rng.choice(_STREETS)} {rng.randint(1, 120)}",
            zip=f"{zip_prefix}{rng.randint(10, 99)}",
            city=city,
            phone=f"07{rng.randint(0, 9)}{rng.randint(1000000, 9999999)}",
            email=f"{_ascii(firstname)}.{_ascii(lastname)}@{domain}",
        )

    # -- invoices -------------------------------------------------------------------------

    def invoice_count(self, number: int) -> int:
        """Return how many invoices customer ``number`` has (0 for unknown customers)."""
        if not self.has_customer(number):
            return 0
        fixed = _FIXED_COUNTS.get(number)
        if fixed is not None:
            return fixed
        rng = random.Random(f"{self.seed}:count:{number}")  # noqa: S311 - demo data
        draw = rng.random()
        if draw < 0.08:
            return 0
        if draw < 0.95:
            return rng.randint(1, 5)
        if draw < 0.995:
            return rng.randint(6, 20)
        return rng.randint(100, 400)

    def records(self, number: int) -> Sequence[InvoiceRecord]:
        """Return the invoices of customer ``number`` by index (empty if unknown)."""
        return self._records(number)

    def record(self, invoice_number: int) -> InvoiceRecord | None:
        """Return the invoice numbered ``invoice_number``, if it exists."""
        customer, index = divmod(invoice_number, 1000)
        if index >= self.invoice_count(customer):
            return None
        return self.records(customer)[index]

    def _make_records(self, number: int) -> tuple[InvoiceRecord, ...]:
        count = self.invoice_count(number)
        if not count:
            return ()
        customer = self.customer(number)
        return tuple(self._make_record(customer, index) for index in range(count))

    def _make_record(self, customer: DemoCustomer, index: int) -> InvoiceRecord:
        seed_text = f"{self.seed}:{customer.number}:{index}"
        rng = random.Random(seed_text)  # noqa: S311 - demo data
        number = customer.number * 1000 + index
        kind = _weighted(rng, _KINDS)
        credit = kind == "K"
        sign = -1 if credit else 1

        taxrate = 0 if kind == "RF" else _weighted(rng, _TAX_RATES)
        articles = _articles(rng, number, kind, taxrate)
        handling = 0 if credit or rng.random() < 0.7 else 2900
        shipping = 0 if credit or rng.random() < 0.5 else 4900
        withouttax = sum(article.withouttax for article in articles) + sign * (handling + shipping)
        tax = round(withouttax * taxrate / 100)
        gross = withouttax + tax
        rounding = -(gross % 100) if gross % 100 < 50 else 100 - gross % 100
        withtax = gross + rounding

        invoiced = _INVOICE_EPOCH + dt.timedelta(days=rng.randint(0, 960))
        terms = rng.choice((10, 14, 20, 30))
        due = invoiced + dt.timedelta(days=terms)
        status, distributor = _weighted(rng, _STATUSES)
        if kind == "KN":
            status, distributor = "Paid", "Paid"
        paid = status == "Paid"
        if paid:
            paid_at = invoiced + dt.timedelta(days=rng.randint(1, terms + 5))
            paiddate = f"{paid_at.isoformat()} {rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}:00"
        else:
            paiddate = ZERO_DATETIME
        if status == "Cancelled":
            topay = balancedue = 0
        elif paid:
            topay, balancedue = withtax, 0
        else:
            topay = withtax
            balancedue = withtax if rng.random() < 0.8 else withtax // 2
        digest = hashlib.sha256(seed_text.encode()).hexdigest()[:32]
        if rng.random() < 0.12:
            fileurl: str | None = None
        elif rng.random() < 0.04:
            fileurl = ""
        else:
            stamp = invoiced.isoformat().replace("-", "")
            fileurl = f"https://api.billmate.se/invoice/{number}/{stamp}{digest[:10]}.pdf"
        related = 0
        if credit and index and rng.random() < 0.8:
            related = customer.number * 1000 + rng.randrange(index)
        return InvoiceRecord(
            customer=customer,
            index=index,
            number=number,
            invoicetype=kind,
            status=status,
            distributor_status=distributor,
            invoicedate=invoiced.isoformat(),
            duedate=ZERO_DATE if credit else due.isoformat(),
            paiddate=paiddate,
            paymentterms=terms,
            method=rng.choice(("1", "1", "2")),
            currency=_weighted(rng, _CURRENCIES),
            orderid=f"P{customer.number}-{index + 1:03d}",
            articles=articles,
            handling=handling,
            shipping=shipping,
            taxrate=taxrate,
            withouttax=withouttax,
            tax=tax,
            rounding=rounding,
            withtax=withtax,
            topay=topay,
            balancedue=balancedue,
            fileurl=fileurl,
            hash=digest,
            creditinvoiceid=related,
            customerinvoicesid=40_000_000 + number,
            numbers_as_strings=rng.random() < 0.2,
            nested_in_mixed=rng.random() < 0.5,
        )


def _articles(rng: random.Random, number: int, kind: str, taxrate: int) -> tuple[DemoArticle, ...]:
    sign = -1 if kind == "K" else 1
    if kind == "RF":
        interest = rng.randint(1500, 9900)
        return (DemoArticle(f"RF{number}", "Dröjsmålsränta", "1", interest, "0", interest, 0),)
    lines = []
    for line in range(rng.randint(1, 4)):
        title, price = rng.choice(_PRODUCTS)
        quantity = rng.choice(("1", "1", "2", "3", "1.5"))
        discount = rng.choice(("0", "0", "0", "10", "25"))
        total = round(price * float(quantity) * (100 - int(discount)) / 100)
        lines.append(
            DemoArticle(
                artnr=f"A{number % 97:02d}{line}",
                title=title,
                quantity=quantity,
                aprice=sign * price,
                discount=discount,
                withouttax=sign * total,
                taxrate=taxrate,
            )
        )
    return tuple(lines)
