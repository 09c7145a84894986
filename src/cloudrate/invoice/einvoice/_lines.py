"""The invoice lines (BG-25): quantity, unit, price and VAT category of each line."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from cloudrate.invoice import CreditNote, Invoice, InvoiceLine

from ._codes import unit_code
from ._edoc import ELine, Problems

__all__ = ["QUANTITY_DECIMALS", "invoice_lines"]

#: Quantities are written with at most this many decimals (amounts are never changed).
QUANTITY_DECIMALS = 6


def _quantity(value: Decimal) -> Decimal:
    step = Decimal(1).scaleb(-QUANTITY_DECIMALS)
    return value.quantize(step, rounding=ROUND_HALF_UP).normalize() + Decimal(0)


def _price(line: InvoiceLine, quantity: Decimal, digits: int) -> tuple[Decimal, Decimal, Decimal]:
    """(quantity, price, base quantity) such that quantity * price / base = net amount.

    The line's unit price is kept when it gives the net amount once rounded; otherwise
    (tiers, free units, minimums) the price is the net amount for the whole quantity.
    """
    amount = line.amount.amount
    price = line.unit_price.amount if line.unit_price is not None else None
    if price is not None and price >= 0 and amount >= 0:
        step = Decimal(1).scaleb(-digits)
        if (quantity * price).quantize(step, rounding=ROUND_HALF_UP) == amount:
            return quantity, price, Decimal(1)
    base = abs(quantity) or Decimal(1)
    signed = -base if amount < 0 else base
    return signed, abs(amount), base


def invoice_lines(
    document: Invoice | CreditNote, digits: int, problems: Problems
) -> tuple[ELine, ...]:
    out = []
    for i, line in enumerate(document.lines, 1):
        rate = line.tax_rate
        if rate is None:
            problems.add(
                f"lines[{i - 1}].tax_rate",
                "einvoice_missing",
                f"line {line.charge!r} has no tax rate; EN 16931 gives every line a VAT "
                "category (BR-CO-04): assemble the invoice with taxes=...",
            )
            continue
        quantity, price, base = _price(line, _quantity(line.quantity), digits)
        code = unit_code(line.unit)
        out.append(
            ELine(
                id=str(i),
                quantity=quantity,
                unit_code=code,
                net_amount=line.amount.amount,
                price=price,
                base_quantity=None if base == 1 else base,
                name=line.description,
                description=f"Unit: {line.unit}" if code == "C62" and line.unit else None,
                category=rate.category,
                percent=None if rate.category == "O" else rate.percent,
            )
        )
    return tuple(out)
