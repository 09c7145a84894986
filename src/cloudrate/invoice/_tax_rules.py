"""Tax rules: which :class:`TaxRate` applies to each line of a customer's invoice.

:class:`FlatTax` gives every line one rate; :class:`RegionalTax` chooses by customer, then
by country, with the EU reverse charge for business customers in another member state.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

from cloudrate.exceptions import InvoiceError
from cloudrate.rating import RatedLine

from ._model import Customer, TaxRate

__all__ = ["EU_COUNTRIES", "REVERSE_CHARGE", "FlatTax", "RegionalTax", "TaxRule"]

#: The EU member states (ISO 3166 alpha-2; Greece as "GR", as in ISO, not VIES's "EL").
EU_COUNTRIES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)

#: The rate for intra-EU business customers: no VAT charged, the buyer accounts for it.
REVERSE_CHARGE = TaxRate(
    name="VAT",
    percent=Decimal(0),
    category="AE",
    note="Reverse charge: VAT to be accounted for by the recipient "
    "(Article 196, Council Directive 2006/112/EC).",
)


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

    # The TaxRule signature: a flat rate depends on neither the customer nor the line.
    def rate_for(self, customer: Customer, line: RatedLine) -> TaxRate | None:  # noqa: ARG002
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

    def _reverse_charged(self, customer: Customer) -> bool:
        """An EU business customer in another member state than the seller."""
        seller = (self.seller_country or "").upper()
        return bool(
            self.reverse_charge
            and seller
            and customer.tax_id
            and customer.country in EU_COUNTRIES
            and seller in EU_COUNTRIES
            and customer.country != seller
        )

    # The TaxRule signature: regional rates depend on the customer, not on the line.
    def rate_for(self, customer: Customer, line: RatedLine | None) -> TaxRate | None:  # noqa: ARG002
        if customer.id in self.customers:
            return self.customers[customer.id]
        if self._reverse_charged(customer):
            return REVERSE_CHARGE
        country = customer.country
        if country is not None and country in self.countries:
            return self.countries[country]
        if self.default is not None:
            return self.default
        raise InvoiceError(
            f"customer {customer.id!r}: no tax rate for country {country!r}; add it to "
            f"countries (known: {', '.join(sorted(self.countries)) or 'none'}) or set default"
        )
