"""The options an e-invoice is written with: who sells, the parties' details, the VAT mode."""

from __future__ import annotations

from typing import Literal, get_args

import attrs

from cloudrate.exceptions import InvoiceError
from cloudrate.invoice.render import Seller

from ._details import PartyDetails, PaymentInstructions

__all__ = ["VAT_MODES", "EInvoiceOptions", "VatMode"]

#: How the VAT breakdown is written: the invoice's own figures, checked against EN 16931's
#: per-category rule (``"as_issued"``), or recomputed from each category's taxable amount
#: (``"per_category"``, the norm's way, which may differ from the issued invoice).
VatMode = Literal["as_issued", "per_category"]
VAT_MODES: tuple[VatMode, ...] = get_args(VatMode)


def _vat_mode(_inst: object, _attr: object, value: str) -> None:
    if value not in VAT_MODES:
        raise InvoiceError(
            f"e-invoice vat: 'as_issued' (the invoice's own VAT, checked) or 'per_category' "
            f"(recomputed per category, EN 16931) (got {value!r})"
        )


@attrs.frozen(kw_only=True)
class EInvoiceOptions:
    """Everything an e-invoice needs besides the invoice or credit note itself.

    *seller* is the issuer (the one the PDF prints); *seller_details* and *buyer_details*
    add what the invoice model does not hold (structured postal address, electronic
    address, contact). *buyer_reference* is BT-10 (the Leitweg-ID for German public
    buyers). *payment* defaults to the ``IBAN``/``BIC`` lines of the seller's
    *payment_details*. *vat* chooses how the VAT breakdown is written (:data:`VatMode`).

    >>> EInvoiceOptions(seller=Seller(name="Example Cloud GmbH")).vat
    'as_issued'
    """

    seller: Seller
    seller_details: PartyDetails = attrs.field(factory=PartyDetails)
    buyer_details: PartyDetails = attrs.field(factory=PartyDetails)
    buyer_reference: str | None = None
    payment: PaymentInstructions | None = None
    vat: VatMode = attrs.field(default="as_issued", validator=_vat_mode)

    @property
    def payment_instructions(self) -> PaymentInstructions | None:
        """*payment*, or the instructions read from the seller's payment details."""
        if self.payment is not None:
            return self.payment
        return PaymentInstructions.from_lines(self.seller.payment_details)
