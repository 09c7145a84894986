"""E-invoices: EN 16931 as UBL 2.1 and CII, XRechnung, Peppol BIS Billing 3.0, Factur-X.

Writing needs ``pip install 'cloudrate[einvoice]'`` (lxml; factur-x for Factur-X files);
both are imported only when a document is written. See docs/einvoices.md.
"""

from ._codes import CUSTOMIZATION, FORMATS, PROFILES, Format, Profile, Syntax, unit_code
from ._details import Contact, ElectronicAddress, PartyDetails, PaymentInstructions, PostalAddress
from ._edoc import EDocument
from ._lines import QUANTITY_DECIMALS
from ._options import VAT_MODES, EInvoiceOptions, VatMode
from ._write import (
    check_einvoice,
    einvoice_bytes,
    suffix,
    to_cii,
    to_facturx,
    to_ubl,
    write_einvoice,
)

__all__ = [
    "CUSTOMIZATION",
    "FORMATS",
    "PROFILES",
    "QUANTITY_DECIMALS",
    "VAT_MODES",
    "Contact",
    "EDocument",
    "EInvoiceOptions",
    "ElectronicAddress",
    "Format",
    "PartyDetails",
    "PaymentInstructions",
    "PostalAddress",
    "Profile",
    "Syntax",
    "VatMode",
    "check_einvoice",
    "einvoice_bytes",
    "suffix",
    "to_cii",
    "to_facturx",
    "to_ubl",
    "unit_code",
    "write_einvoice",
]
