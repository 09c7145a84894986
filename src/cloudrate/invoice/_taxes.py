"""Tax methods: how the tax of an invoice's lines is computed, once each line has its rate.

Two methods, as configured:

- ``"total"`` (EN 16931, the EU e-invoicing norm): add up the rounded lines of each rate,
  then round the tax of that sum once per rate.
- ``"line"``: round each line's tax, then add up the rounded taxes per rate.

Either way the invoice shows one :class:`TaxLine` per rate, and tax is rounded through
the :class:`~cloudrate.RoundingPolicy` given. Which rate a line has: :mod:`._tax_rules`.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal, get_args

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy
from cloudrate.exceptions import InvoiceError

from ._model import InvoiceLine, TaxLine, TaxRate

__all__ = ["TAX_METHODS", "TaxMethod", "apply_taxes"]

#: How tax is computed: once per rate on the sum of its rounded lines (``"total"``,
#: EN 16931), or per line and then added up (``"line"``).
TaxMethod = Literal["total", "line"]
TAX_METHODS: tuple[TaxMethod, ...] = get_args(TaxMethod)


_Key = tuple[str, str, Decimal]


@attrs.define
class _Group:
    """The lines of one rate so far: their rounded amounts and, by line, their taxes."""

    rate: TaxRate
    amounts: list[Decimal] = attrs.Factory(list)
    line_tax: Decimal = Decimal(0)


def _taxed(
    line: InvoiceLine,
    groups: dict[_Key, _Group],
    method: TaxMethod,
    rounding: RoundingPolicy,
    currency: str,
) -> InvoiceLine:
    """Add *line* to its rate's group; by line, give it its own rounded tax."""
    rate = line.tax_rate
    if rate is None:
        return line
    group = groups.setdefault(rate.key, _Group(rate))
    group.amounts.append(line.amount.amount)
    if method != "line":
        return line
    tax = rounding.round(line.amount.amount * rate.percent / 100, currency)
    group.line_tax += tax
    return attrs.evolve(line, tax=Money(tax, currency))


def _tax_line(group: _Group, method: TaxMethod, rounding: RoundingPolicy, currency: str) -> TaxLine:
    base = sum(group.amounts, Decimal(0))
    exact = base * group.rate.percent / 100
    billed = group.line_tax if method == "line" else rounding.round(exact, currency)
    return TaxLine(
        rate=group.rate,
        base=Money(base, currency),
        amount=Money(billed, currency),
        exact_amount=Money(exact, currency),
    )


def apply_taxes(
    lines: Sequence[InvoiceLine], method: TaxMethod, rounding: RoundingPolicy, currency: str
) -> tuple[tuple[InvoiceLine, ...], tuple[TaxLine, ...]]:
    """Compute the tax of *lines* (each carrying its ``tax_rate``) by *method*.

    Returns the lines (with their own ``tax`` set when *method* is ``"line"``) and one
    :class:`TaxLine` per rate, in the order rates first appear. Lines without a rate are
    not taxed.

    >>> r = TaxRate(percent="19")
    >>> mk = lambda a: InvoiceLine(charge="c", description="c", quantity=Decimal(1), unit="h",
    ...     amount=Money(a, "EUR"), exact_amount=Money(a, "EUR"), tax_rate=r)
    >>> lines = [mk("0.03"), mk("0.03"), mk("0.03")]
    >>> [t.amount for t in apply_taxes(lines, "total", RoundingPolicy(), "EUR")[1]]
    [Money('0.02', 'EUR')]
    >>> [t.amount for t in apply_taxes(lines, "line", RoundingPolicy(), "EUR")[1]]
    [Money('0.03', 'EUR')]
    """
    if method not in TAX_METHODS:
        raise InvoiceError(f"tax_method: 'total' (per rate, EN 16931) or 'line' (got {method!r})")
    with decimal.localcontext(EXACT):
        groups: dict[_Key, _Group] = {}
        out = tuple(_taxed(line, groups, method, rounding, currency) for line in lines)
        taxes = tuple(_tax_line(g, method, rounding, currency) for g in groups.values())
    return out, taxes
