"""E-invoices on the command line: ``--format ubl|cii|xrechnung|xrechnung-cii|peppol|facturx``.

What an e-invoice needs beyond the invoice comes from two files: ``--seller`` (the issuer
the PDF prints, with an ``einvoice:`` section for its structured address, electronic
address, contact and payment account) and the ``einvoice:`` section of each customer in
``--customers`` (buyer reference, structured address, electronic address, contact). Both
are read with every scalar as the text written (``scheme: 0204`` stays ``"0204"``, a
postcode keeps its leading zero). Every document is checked before the first file is
written; what is missing is one :class:`~cloudrate.exceptions.ConfigError` naming each
field by its place in those files. See docs/einvoices.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import attrs
import click

from cloudrate.exceptions import ConfigError, InvoiceError, Problem
from cloudrate.invoice import CreditNote, Invoice
from cloudrate.invoice.einvoice import (
    FORMATS,
    EInvoiceOptions,
    Format,
    PartyDetails,
    PaymentInstructions,
    check_einvoice,
    einvoice_bytes,
    suffix,
)
from cloudrate.invoice.render import Seller

from ._einvoice_files import BuyerDetails, load_seller, read_buyer_details
from ._files import DocumentFiles, document_filename

__all__ = [
    "EINVOICE_FORMATS",
    "BuyerDetails",
    "EInvoiceSettings",
    "check_documents",
    "check_one",
    "einvoice_file",
    "load_seller",
    "load_settings",
    "read_buyer_details",
    "write_einvoices",
]

#: The e-invoice formats ``--format`` takes (docs/einvoices.md).
EINVOICE_FORMATS: tuple[Format, ...] = tuple(FORMATS)

_NOT_GIVEN = "--customers (not given)"


@attrs.frozen(kw_only=True)
class EInvoiceSettings:
    """What the command line gives every e-invoice of a run, and where it was read."""

    fmt: Format
    seller: Seller
    seller_details: PartyDetails = attrs.field(factory=PartyDetails)
    payment: PaymentInstructions | None = None
    buyers: Mapping[str, BuyerDetails] = attrs.field(factory=dict)
    seller_source: str = "--seller"
    customers_source: str = _NOT_GIVEN

    def options(self, account: str) -> EInvoiceOptions:
        """The options of *account*'s documents."""
        buyer = self.buyers.get(account, BuyerDetails())
        return EInvoiceOptions(
            seller=self.seller,
            seller_details=self.seller_details,
            buyer_details=buyer.details,
            buyer_reference=buyer.reference,
            payment=self.payment,
        )


def load_settings(
    fmt: Format, seller_path: Path | None, customers_path: Path | None
) -> EInvoiceSettings:
    """The settings of an e-invoice run, or an error saying ``--seller`` is needed."""
    if seller_path is None:
        raise InvoiceError(
            f"--format {fmt} writes e-invoices, which name their seller: give --seller "
            "seller.yaml (name, address, tax_id, email, payment_details and an einvoice: "
            "section; docs/einvoices.md)"
        )
    seller, details, payment = load_seller(seller_path)
    return EInvoiceSettings(
        fmt=fmt,
        seller=seller,
        seller_details=details,
        payment=payment,
        buyers=read_buyer_details(customers_path) if customers_path else {},
        seller_source=str(seller_path),
        customers_source=str(customers_path) if customers_path else _NOT_GIVEN,
    )


def _placed(problem: Problem, name: str, account: str, settings: EInvoiceSettings) -> Problem:
    """*problem* (a path in EInvoiceOptions' terms) at its place in the CLI's files."""
    head, _, rest = problem.path.partition(".")
    customer = settings.customers_source
    places = {
        "seller_details": (f"einvoice.{rest}", settings.seller_source),
        "payment": (f"einvoice.{problem.path}", settings.seller_source),
        "buyer_details": (f"{account}.einvoice.{rest}", customer),
        "buyer_reference": (f"{account}.einvoice.buyer_reference", customer),
    }
    path, source = places.get(head, (f"{name}: {problem.path}", f"e-invoice {name}"))
    return Problem(path, problem.code, problem.message, problem.value, source=source)


def check_documents(
    documents: Iterable[Invoice | CreditNote],
    settings: EInvoiceSettings,
    *,
    drafts: bool = False,
    locale: str | None = None,
) -> None:
    """Check every document for ``settings.fmt`` before any is written; raise one
    :class:`ConfigError` with every problem, each placed in the file it is fixed in.
    *drafts*: the documents are numbered later, so being a draft is not a problem."""
    profile = FORMATS[settings.fmt][1]
    problems: list[Problem] = []
    for document in documents:
        account = document.customer.id
        name = document.number or account
        try:
            check_einvoice(document, settings.options(account), profile)
        except ConfigError as exc:
            problems.extend(
                _placed(p, name, account, settings)
                for p in exc.problems
                if not (drafts and p.code == "einvoice_not_issued")
            )
        pdf_locale = locale or document.customer.locale
        if settings.fmt == "facturx" and not pdf_locale:
            problems.append(
                Problem(
                    f"{account}.locale",
                    "einvoice_missing",
                    "a Factur-X file holds the document's PDF, rendered in a locale: "
                    "give --locale or the customer's locale",
                    source=settings.customers_source,
                )
            )
    # The seller's problems are the same for every document: each is listed once.
    unique = {(p.path, p.code, p.message, p.source): p for p in problems}
    if unique:
        raise ConfigError(list(unique.values()), source=f"the e-invoices ({settings.fmt})")


def einvoice_file(
    document: Invoice | CreditNote, settings: EInvoiceSettings, locale: str | None
) -> tuple[str, bytes, str | None]:
    """The suffix and bytes of *document*'s e-invoice file, and a note to show, if any
    (none today: a credit note in ``facturx`` is its own PDF with the CII inside, as an
    invoice is)."""
    options = settings.options(document.customer.id)
    data = einvoice_bytes(document, settings.fmt, options, locale=locale)
    return suffix(settings.fmt), data, None


def check_one(fmt: Format, count: int) -> None:
    """Refuse ``--out -`` for an e-invoice run of *count* documents other than one."""
    if count != 1:
        raise click.BadParameter(
            f"--format {fmt} writes one file per invoice and this run has {count} invoices: "
            "write them to a directory, or choose one with --customer",
            param_hint="'--out'",
        )


def write_einvoices(
    drafts: Sequence[Invoice],
    out: Path,
    settings: EInvoiceSettings,
    locale: str | None,
    finalise: Callable[[Invoice], Invoice],
) -> list[Path]:
    """Write each draft's e-invoice into *out*, named by its number, finalising each just
    before its file is written (as the other formats do)."""
    out.mkdir(parents=True, exist_ok=True)
    files = DocumentFiles(out)
    for draft in drafts:
        invoice = finalise(draft)
        number = invoice.number or invoice.id
        file_suffix, data, _ = einvoice_file(invoice, settings, locale)
        files.put(document_filename(number, file_suffix), data, issued=invoice.number)
    return files.written
