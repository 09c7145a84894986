"""The public writers: UBL and CII bytes, a Factur-X PDF, and one function by format name."""

from __future__ import annotations

from pathlib import Path

from cloudrate.exceptions import InvoiceError
from cloudrate.invoice import CreditNote, Invoice
from cloudrate.invoice.render import render_credit_note_pdf, render_pdf

from ._cii import cii_xml
from ._codes import FORMATS, PROFILES, Format, Profile
from ._document import build
from ._edoc import EDocument
from ._facturx import facturx_pdf
from ._options import EInvoiceOptions
from ._ubl import ubl_xml

__all__ = ["check_einvoice", "einvoice_bytes", "to_cii", "to_facturx", "to_ubl", "write_einvoice"]


def _profile(profile: str, allowed: tuple[str, ...]) -> Profile:
    if profile not in allowed:
        raise InvoiceError(f"e-invoice profile: one of {', '.join(allowed)} (got {profile!r})")
    return profile  # type: ignore[return-value]


def check_einvoice(
    document: Invoice | CreditNote, options: EInvoiceOptions, profile: Profile = "en16931"
) -> EDocument:
    """Map *document* onto EN 16931 for *profile* without writing it; raises
    :class:`~cloudrate.exceptions.ConfigError` listing everything missing or refused."""
    return build(document, options, _profile(profile, PROFILES))


def to_ubl(
    document: Invoice | CreditNote, options: EInvoiceOptions, profile: Profile = "en16931"
) -> bytes:
    """*document* as a UBL 2.1 Invoice (or CreditNote) for *profile*: ``en16931``,
    ``xrechnung`` or ``peppol``."""
    profile = _profile(profile, ("en16931", "xrechnung", "peppol"))
    return ubl_xml(build(document, options, profile))


def to_cii(
    document: Invoice | CreditNote, options: EInvoiceOptions, profile: Profile = "en16931"
) -> bytes:
    """*document* as a UN/CEFACT CII D16B CrossIndustryInvoice for *profile*: ``en16931``,
    ``xrechnung`` or ``facturx`` (Factur-X / ZUGFeRD EN 16931)."""
    profile = _profile(profile, ("en16931", "xrechnung", "facturx"))
    return cii_xml(build(document, options, profile))


def to_facturx(
    document: Invoice | CreditNote,
    options: EInvoiceOptions,
    *,
    pdf: bytes | None = None,
    locale: str | None = None,
) -> bytes:
    """A Factur-X / ZUGFeRD PDF: *pdf* (by default the PDF/A-3b
    :func:`cloudrate.invoice.render.render_pdf` renders of an invoice, or
    :func:`cloudrate.invoice.render.render_credit_note_pdf` of a credit note, in *locale*)
    with the EN 16931 CII XML attached as ``factur-x.xml`` (type code 380 for an invoice,
    381 for a credit note). Needs ``pip install 'cloudrate[einvoice,pdf]'``."""
    doc = build(document, options, "facturx")
    xml = cii_xml(doc)
    if pdf is None:
        if isinstance(document, Invoice):
            pdf = render_pdf(document, locale, seller=options.seller, pdf_standard="a-3b")
        else:
            pdf = render_credit_note_pdf(
                document, locale, seller=options.seller, pdf_standard="a-3b"
            )
    return facturx_pdf(pdf, xml, doc, seller=options.seller.name, lang=locale)


def einvoice_bytes(
    document: Invoice | CreditNote,
    fmt: Format,
    options: EInvoiceOptions,
    *,
    pdf: bytes | None = None,
    locale: str | None = None,
) -> bytes:
    """*document* in the format named *fmt* (a key of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise InvoiceError(f"e-invoice format: one of {', '.join(FORMATS)} (got {fmt!r})")
    syntax, profile = FORMATS[fmt]
    if fmt == "facturx":
        return to_facturx(document, options, pdf=pdf, locale=locale)
    return (to_ubl if syntax == "ubl" else to_cii)(document, options, profile)


def suffix(fmt: Format) -> str:
    """The file suffix a format is written with (``.pdf`` for Factur-X, else ``.xml``)."""
    return ".pdf" if fmt == "facturx" else ".xml"


def write_einvoice(
    document: Invoice | CreditNote,
    fmt: Format,
    path: str | Path,
    options: EInvoiceOptions,
    *,
    pdf: bytes | None = None,
    locale: str | None = None,
) -> Path:
    """Write *document* in format *fmt* to *path* and return the path.

    A directory *path* gets ``<number>.xml`` (``.pdf`` for Factur-X) inside it. Every
    problem is raised before the file is opened, so a refused document writes nothing;
    the file is written to a temporary name first and renamed, so a reader never sees
    half of it.
    """
    data = einvoice_bytes(document, fmt, options, pdf=pdf, locale=locale)
    target = Path(path)
    if target.is_dir():
        number = (document.number or "draft").replace("/", "_").replace("\\", "_")
        target = target / f"{number}{suffix(fmt)}"
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    partial.replace(target)
    return target
