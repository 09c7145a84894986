"""The sample invoices ``cloudrate demo`` writes: the sample month, three customers.

ACME (Berlin, German VAT, de_DE), Globex (Paris, EU reverse charge, fr_FR) and a
Japanese customer whose name is in kanji and katakana (ja_JP, outside EU VAT), issued by
an example seller. Dates are fixed: the demo is the same every time it runs.
"""

from __future__ import annotations

from datetime import date

from cloudrate.invoice import (
    Customer,
    InMemorySequenceStore,
    Invoice,
    Net,
    Numbering,
    RegionalTax,
    TaxRate,
    assemble,
)
from cloudrate.invoice.render import Seller
from cloudrate.rating import RatingResult

__all__ = ["DEMO_LOCALES", "DEMO_SELLER", "demo_customers", "demo_invoices"]

DEMO_SELLER = Seller(
    name="Example Cloud GmbH",
    address=("Wolkenweg 12", "10115 Berlin", "Germany"),
    tax_id="DE123456789",
    email="billing@cloud.example",
    website="cloud.example",
    payment_details=("IBAN DE89 3704 0044 0532 0130 00", "BIC COBADEFFXXX"),
)

#: The locale each demo customer's invoice is rendered in.
DEMO_LOCALES = {"acme": "de_DE", "globex": "fr_FR", "initech": "ja_JP"}

_TAXES = RegionalTax(
    countries={"DE": TaxRate(percent="19"), "FR": TaxRate(percent="20")},
    default=TaxRate(
        name="VAT",
        percent="0",
        category="G",
        note="Export of services outside the EU: not subject to German VAT.",
    ),
    seller_country="DE",
    reverse_charge=True,
)


def demo_customers() -> dict[str, Customer]:
    """The three customers of the sample usage, by account."""
    return {
        "acme": Customer(
            id="acme",
            name="ACME Cloud Services GmbH",
            address=("Hauptstraße 5", "80331 München"),
            country="DE",
            tax_id="DE811128135",
            locale="de_DE",
        ),
        "globex": Customer(
            id="globex",
            name="Globex Société Anonyme",
            address=("12 rue de la Paix", "75002 Paris"),
            country="FR",
            tax_id="FR40303265045",
            locale="fr_FR",
        ),
        "initech": Customer(
            id="initech",
            name="株式会社イニテック (Initech K.K.)",
            address=("東京都千代田区丸の内1-1-1", "100-0005"),
            country="JP",
            locale="ja_JP",
        ),
    }


def demo_invoices(
    result: RatingResult, *, issued_on: date = date(2026, 11, 1), first_number: int = 42
) -> dict[str, Invoice]:
    """One issued invoice per account of *result*, finalised from an in-memory sequence
    in which *first_number* - 1 invoices were already issued that year (so the first is
    ``INV-2026-0042``), due 14 days after issue.

    >>> import cloudrate
    >>> result = cloudrate.rate(cloudrate.load_plan(cloudrate.sample_plan_path()),
    ...                         cloudrate.read_usage(cloudrate.sample_usage_path()))
    >>> [(i.number, i.due_on.isoformat()) for i in demo_invoices(result).values()]
    [('INV-2026-0042', '2026-11-15'), ('INV-2026-0043', '2026-11-15'), \
('INV-2026-0044', '2026-11-15')]
    """
    customers = demo_customers()
    numbering, store = Numbering("INV-{year}-{seq:04}"), InMemorySequenceStore()
    for earlier in range(1, first_number):
        store.allocate(numbering.key("default", issued_on), f"earlier-{earlier}")
    out = {}
    for bill in result.bills:
        customer = customers.get(bill.account) or Customer(id=bill.account, name=bill.account)
        draft = assemble(result, customer, taxes=_TAXES)
        out[bill.account] = draft.finalise(numbering, store, issued_on=issued_on, terms=Net(14))
    return out
