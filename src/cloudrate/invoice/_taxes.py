"""Taxes: which rate applies to a line (:class:`TaxRule`) and how the tax is computed.

Two methods, as configured:

- ``"total"`` (EN 16931, the EU e-invoicing norm): add up the rounded lines of each rate,
  then round the tax of that sum once per rate.
- ``"line"``: round each line's tax, then add up the rounded taxes per rate.

Either way the invoice shows one :class:`TaxLine` per rate, and tax is rounded through
the :class:`~cloudrate.RoundingPolicy` given.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy
from cloudrate.exceptions import InvoiceError
from cloudrate.rating import RatedLine

from ._model import Customer, InvoiceLine, TaxLine, TaxRate

__all__ = ["EU_COUNTRIES", "REVERSE_CHARGE", "FlatTax", "RegionalTax", "TaxRule", "apply_taxes"]

#: The EU member states (ISO 3166 alpha-2; Greece as "GR", as in ISO, not VIES's "EL").
EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)

#: The rate for intra-EU business customers: no VAT charged, the buyer accounts for it.
REVERSE_CHARGE = TaxRate(
    name="VAT",
    percent=Decimal(0),
    category="AE",
    note="Reverse charge: VAT to be accounted for by the recipient "
    "(Article 196, Council Directive 2006/112/EC).",
)

TAX_METHODS = ("total", "line")


@runtime_checkable
class TaxRule(Protocol):
    """Chooses the tax rate of each line of a customer's invoice (None: not taxed)."""

    def rate_for(self, customer: Customer, line: RatedLine) -> TaxRate | None: ...


@attrs.frozen
class FlatTax:
    """The same *rate* for every line of every customer.

    >>> FlatTax(TaxRate(percent="19")).rate.label
    'VAT 19%'
    """

    rate: TaxRate

    def rate_for(self, customer: Customer, line: RatedLine) -> TaxRate | None:
        return self.rate


def _rates(value: Mapping[str, TaxRate]) -> dict[str, TaxRate]:
    return {str(k).upper(): v for k, v in value.items()}


@attrs.frozen(kw_only=True)
class RegionalTax:
    """Rates by customer, then by country, then *default*.

    With *seller_country* set and *reverse_charge* on, an EU business customer (one with a
    *tax_id*) in another EU country than the seller gets :data:`REVERSE_CHARGE`. A customer
    whose country has no rate and with no *default* is an error naming the customer.

    >>> vat = RegionalTax(countries={"DE": TaxRate(percent="19"), "FR": TaxRate(percent="20")},
    ...                   seller_country="DE", reverse_charge=True)
    >>> fr = Customer(id="c1", name="Client SARL", country="FR")
    >>> vat.rate_for(fr, None).label
    'VAT 20%'
    >>> vat.rate_for(attrs.evolve(fr, tax_id="FR40303265045"), None).category
    'AE'
    """

    countries: Mapping[str, TaxRate] = attrs.field(factory=dict, converter=_rates)
    customers: Mapping[str, TaxRate] = attrs.field(factory=dict, converter=dict)
    default: TaxRate | None = None
    seller_country: str | None = None
    reverse_charge: bool = False

    def rate_for(self, customer: Customer, line: RatedLine | None) -> TaxRate | None:
        if customer.id in self.customers:
            return self.customers[customer.id]
        country = customer.country
        if (
            self.reverse_charge
            and self.seller_country
            and customer.tax_id
            and country in EU_COUNTRIES
            and self.seller_country.upper() in EU_COUNTRIES
            and country != self.seller_country.upper()
        ):
            return REVERSE_CHARGE
        if country is not None and country in self.countries:
            return self.countries[country]
        if self.default is not None:
            return self.default
        raise InvoiceError(
            f"customer {customer.id!r}: no tax rate for country {country!r}; add it to "
            f"countries (known: {', '.join(sorted(self.countries)) or 'none'}) or set default"
        )


def apply_taxes(
    lines: Sequence[InvoiceLine], method: str, rounding: RoundingPolicy, currency: str
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
        groups: dict[tuple[str, str, Decimal], list[Decimal]] = {}
        rates: dict[tuple[str, str, Decimal], TaxRate] = {}
        taxed: dict[tuple[str, str, Decimal], Decimal] = {}
        out: list[InvoiceLine] = []
        for line in lines:
            rate = line.tax_rate
            if rate is None:
                out.append(line)
                continue
            groups.setdefault(rate.key, []).append(line.amount.amount)
            rates.setdefault(rate.key, rate)
            if method == "line":
                tax = rounding.round(line.amount.amount * rate.percent / 100, currency)
                taxed[rate.key] = taxed.get(rate.key, Decimal(0)) + tax
                line = attrs.evolve(line, tax=Money(tax, currency))
            out.append(line)
        tax_lines = []
        for key, amounts in groups.items():
            base = sum(amounts, Decimal(0))
            exact = base * rates[key].percent / 100
            billed = taxed[key] if method == "line" else rounding.round(exact, currency)
            tax_lines.append(
                TaxLine(
                    rate=rates[key],
                    base=Money(base, currency),
                    amount=Money(billed, currency),
                    exact_amount=Money(exact, currency),
                )
            )
    return tuple(out), tuple(tax_lines)
