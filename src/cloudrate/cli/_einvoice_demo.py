"""The demo's e-invoice details: what ``cloudrate demo --format ubl`` (and the others)
needs beyond the demo invoices, for every profile (XRechnung and Peppol included).

The seller's structured address, Peppol participant id (its German VAT number, EAS
``9930``) and contact; per demo customer a structured address, an electronic address and
a buyer reference (a Leitweg-ID for ACME, order references for the others); and the
credit note the demo writes beside its invoices. The e-invoice tests validate exactly
these against the official artefacts.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from cloudrate.invoice import CreditNote, InMemorySequenceStore, Invoice, Numbering
from cloudrate.invoice.einvoice import (
    Contact,
    EInvoiceOptions,
    ElectronicAddress,
    Format,
    PartyDetails,
    PostalAddress,
)
from cloudrate.rating import RatingResult

from ._einvoice import EINVOICE_FORMATS, EInvoiceSettings, einvoice_file
from ._einvoice_files import BuyerDetails
from ._files import write_atomic
from ._render_demo import DEMO_LOCALES, DEMO_SELLER, demo_invoices

__all__ = [
    "BUYER_DETAILS",
    "BUYER_REFERENCES",
    "DEMO_FORMATS",
    "SELLER_DETAILS",
    "demo_credit_note",
    "demo_format",
    "demo_format_option",
    "demo_settings",
    "gln",
    "options_for",
    "write_demo_einvoices",
]

#: What ``cloudrate demo --format`` writes into ``--out``: the PDFs, or an e-invoice format.
DEMO_FORMATS: tuple[str, ...] = ("pdf", *EINVOICE_FORMATS)
_META = "cloudrate.demo_format"


def gln(stem: str) -> str:
    """A GLN (EAS 0088) with its GS1 check digit appended to the 12 digits of *stem*.

    >>> gln("491234500000")
    '4912345000002'
    """
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(stem))
    return stem + str((10 - total % 10) % 10)


SELLER_DETAILS = PartyDetails(
    address=PostalAddress(street="Wolkenweg 12", postcode="10115", city="Berlin", country="DE"),
    electronic_address=ElectronicAddress(scheme="9930", value="DE123456789"),
    contact=Contact(name="Billing team", phone="+49 30 1234567", email="billing@cloud.example"),
)

BUYER_DETAILS = {
    "acme": PartyDetails(
        address=PostalAddress(
            street="Hauptstraße 5", postcode="80331", city="München", country="DE"
        ),
        electronic_address=ElectronicAddress(scheme="9930", value="DE811128135"),
    ),
    "globex": PartyDetails(
        address=PostalAddress(
            street="12 rue de la Paix", postcode="75002", city="Paris", country="FR"
        ),
        electronic_address=ElectronicAddress(scheme="9957", value="FR40303265045"),
    ),
    "initech": PartyDetails(
        address=PostalAddress(
            street="東京都千代田区丸の内1-1-1", postcode="100-0005", city="千代田区", country="JP"
        ),
        electronic_address=ElectronicAddress(scheme="0088", value=gln("491234500000")),
    ),
}

BUYER_REFERENCES = {"acme": "04011000-12345-34", "globex": "PO-2026-117", "initech": "IT-7781"}


def options_for(customer_id: str) -> EInvoiceOptions:
    """The full e-invoice options of a demo customer (every profile's needs met)."""
    return EInvoiceOptions(
        seller=DEMO_SELLER,
        seller_details=SELLER_DETAILS,
        buyer_details=BUYER_DETAILS[customer_id],
        buyer_reference=BUYER_REFERENCES[customer_id],
    )


def demo_credit_note(invoice: Invoice) -> CreditNote:
    """A partial credit note on the demo's *invoice* (ACME's): 10.00 of compute and 5.00
    of the platform fee, for an outage, issued on 2026-11-20 as ``CN-2026-0001``."""
    note, _ = invoice.credit(
        Numbering("CN-{year}-{seq:04}"),
        InMemorySequenceStore(),
        issued_on=date(2026, 11, 20),
        amounts={"compute": "10.00", "platform": "5.00"},
        reason="Service outage on 2026-10-14",
    )
    return note


def demo_settings(fmt: Format) -> EInvoiceSettings:
    """The demo's e-invoice settings for *fmt*: the demo seller and customers' details."""
    buyers = {a: BuyerDetails(BUYER_DETAILS[a], BUYER_REFERENCES[a]) for a in BUYER_DETAILS}
    return EInvoiceSettings(
        fmt=fmt,
        seller=DEMO_SELLER,
        seller_details=SELLER_DETAILS,
        buyers=buyers,
        seller_source="the demo seller",
        customers_source="the demo customers",
    )


def write_demo_einvoices(
    result: RatingResult, out_dir: Path, fmt: Format, *, err: bool = False
) -> list[Path]:
    """Write the demo's three invoices and the credit note on ACME's in format *fmt* into
    *out_dir* (each Factur-X PDF in its customer's demo locale); return the paths."""
    settings = demo_settings(fmt)
    invoices = demo_invoices(result)
    documents: list[tuple[str, Invoice | CreditNote]] = list(invoices.items())
    if "acme" in invoices:
        documents.append(("acme", demo_credit_note(invoices["acme"])))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for account, document in documents:
        suffix, data, note = einvoice_file(document, settings, DEMO_LOCALES.get(account))
        path = out_dir / f"{document.number}{suffix}"
        write_atomic(path, data)
        written.append(path)
        kind = "credit note" if isinstance(document, CreditNote) else fmt
        click.echo(f"wrote {path} ({document.customer.name}, {kind} {document.number})", err=err)
        if note is not None:
            click.echo(note, err=True)
    return written


def _remember(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    ctx.meta[_META] = value
    return value


def demo_format() -> str:
    """The ``--format`` of the running ``cloudrate demo`` (``"pdf"`` outside one)."""
    ctx = click.get_current_context(silent=True)
    return "pdf" if ctx is None else str(ctx.meta.get(_META, "pdf"))


#: ``cloudrate demo --format``: the PDFs (default) or the e-invoices in one format.
demo_format_option = click.option(
    "--format",
    "demo_fmt",
    type=click.Choice(DEMO_FORMATS),
    default="pdf",
    show_default=True,
    expose_value=False,
    callback=_remember,
    help="What to write into --out: the PDFs, or the three invoices and a credit note as "
    "e-invoices (ubl, cii, xrechnung, xrechnung-cii, peppol, facturx).",
)
