"""The syntax-neutral e-invoice: EN 16931's business terms (BT-n) and groups (BG-n)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from cloudrate.exceptions import Problem

from ._codes import Profile
from ._details import Contact, ElectronicAddress, PaymentInstructions, PostalAddress

__all__ = ["EDocument", "ELine", "EParty", "EVat", "Problems", "decimal_text"]


@attrs.frozen(kw_only=True)
class EParty:
    """A seller (BG-4) or buyer (BG-7)."""

    name: str
    vat_id: str | None
    legal_id: str | None
    address: PostalAddress
    electronic_address: ElectronicAddress | None
    contact: Contact | None


@attrs.frozen(kw_only=True)
class ELine:
    """An invoice line (BG-25): BT-126 id, BT-129 quantity, BT-130 unit, BT-131 net
    amount, BT-146 price per BT-149 base quantity, BT-153 name, BT-151/152 VAT."""

    id: str
    quantity: Decimal
    unit_code: str
    net_amount: Decimal
    price: Decimal
    base_quantity: Decimal | None
    name: str
    description: str | None
    category: str
    percent: Decimal | None


@attrs.frozen(kw_only=True)
class EVat:
    """One VAT breakdown (BG-23): BT-116 taxable amount, BT-117 tax, BT-118 category,
    BT-119 rate, BT-120/121 exemption reason."""

    category: str
    percent: Decimal | None
    base: Decimal
    tax: Decimal
    reason: str | None
    reason_code: str | None


@attrs.frozen(kw_only=True)
class EDocument:
    """An invoice or credit note as EN 16931 business terms, ready to serialise."""

    kind: str  # "invoice" or "credit_note"
    profile: Profile
    customization: str
    process: str | None
    number: str
    type_code: str
    issued_on: date
    due_on: date | None
    currency: str
    digits: int
    notes: tuple[str, ...]
    buyer_reference: str | None
    period: tuple[date, date]  # BG-14; its last day is also written as BT-72, the supply date
    preceding: str | None
    seller: EParty
    buyer: EParty
    delivery_country: str | None
    payment: PaymentInstructions | None
    terms: str | None
    lines: tuple[ELine, ...]
    vat: tuple[EVat, ...]
    line_total: Decimal
    tax_exclusive: Decimal
    tax_total: Decimal
    tax_inclusive: Decimal
    payable: Decimal

    def amount(self, value: Decimal) -> str:
        """*value* written with the currency's minor units (``235.89``, ``1000``)."""
        return f"{value.quantize(Decimal(1).scaleb(-self.digits)):f}"


def decimal_text(value: Decimal) -> str:
    """The xs:decimal text of a quantity, rate or price: no exponent, no trailing zeros.

    >>> decimal_text(Decimal("0E-59")), decimal_text(Decimal("19.00")), decimal_text(Decimal("-0"))
    ('0', '19', '0')
    """
    text = f"{value.normalize():f}"
    return "0" if text in {"-0", "0"} else text


class Problems:
    """Every problem found while mapping a document, collected before raising."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: str, code: str, message: str, value: object = None) -> None:
        self.items.append(Problem(path, code, message, value))

    def missing(self, path: str, message: str) -> None:
        self.add(path, "einvoice_missing", message)
