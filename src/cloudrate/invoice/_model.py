"""The invoice value objects: customer, lines, taxes, payments and the invoice itself.

Every object here is frozen. Steps of the lifecycle (finalise, pay, void, credit) return a
new :class:`Invoice`; nothing is edited in place. Amounts are :class:`moneyed.Money` in the
invoice currency, rounded to the settlement precision of the invoice's rounding policy;
*display_decimals* only says how many decimals a renderer shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
from babel import Locale, UnknownLocaleError
from moneyed import Money

from cloudrate._money import exact_class, to_decimal
from cloudrate.exceptions import InvoiceError

__all__ = ["Customer", "InvoiceLine", "Payment", "TaxLine", "TaxRate", "TimelineEvent"]


def _country(value: str | None) -> str | None:
    return None if value is None else str(value).strip().upper()


def _check_locale(_inst: object, _attr: object, value: str | None) -> None:
    if value is None:
        return
    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError, TypeError):
        raise InvoiceError(
            f"customer locale: {value!r} is not a locale Babel knows; write a "
            "code such as 'de_DE', 'en_US', 'fr_FR' or 'ja_JP'"
        ) from None


def _address(value: Sequence[str] | str) -> tuple[str, ...]:
    """The postal lines of *value*: a list of lines, or one text split at its line breaks.

    A mapping (``{street: ..., city: ...}``) or a line that is not text is refused: the
    order of postal lines differs by country, so cloudrate does not guess it.
    """
    if isinstance(value, str):
        return tuple(value.splitlines())
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise InvoiceError(
            f"customer address: must be a list of postal lines in print order, such as "
            f'["Hauptstr. 1", "10115 Berlin"], not a {type(value).__name__} '
            f"(got {value!r}); list the lines, e.g. street, then postcode and city"
        )
    lines = tuple(value)
    for i, line in enumerate(lines, 1):
        if not isinstance(line, (str, int)) or isinstance(line, bool):
            raise InvoiceError(
                f"customer address line {i}: must be text (got {line!r}); give each postal "
                'line as one string, such as "10115 Berlin"'
            )
    return tuple(str(line) for line in lines)


def _nonempty(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvoiceError(f"customer {attribute.name}: must be a non-empty string (got {value!r})")


@attrs.frozen(kw_only=True)
class Customer:
    """Who an invoice is addressed to. *id* is the account the usage was rated for.

    *address* holds the postal lines in order; *country* is an ISO 3166 alpha-2 code
    ("DE"), used by tax rules; *locale* ("de_DE") is what renderers format with.

    >>> c = Customer(id="acme", name="ACME GmbH", address=["Hauptstr. 1", "10115 Berlin"],
    ...              tax_id="DE123456789", country="de", locale="de_DE")
    >>> c.country, c.address
    ('DE', ('Hauptstr. 1', '10115 Berlin'))
    """

    id: str = attrs.field(validator=_nonempty)
    name: str = attrs.field(validator=_nonempty)
    address: tuple[str, ...] = attrs.field(default=(), converter=_address)
    tax_id: str | None = None
    country: str | None = attrs.field(default=None, converter=_country)
    locale: str | None = attrs.field(default=None, validator=_check_locale)
    email: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "address": list(self.address),
            "tax_id": self.tax_id,
            "country": self.country,
            "locale": self.locale,
            "email": self.email,
        }


def _percent(value: object) -> Decimal:
    percent = to_decimal(value, "tax rate percent")
    if not Decimal(0) <= percent <= Decimal(100):
        raise InvoiceError(f"tax rate percent: must be between 0 and 100 (got {percent})")
    return percent


@exact_class
@attrs.frozen(kw_only=True)
class TaxRate:
    """A tax rate: *name* and *percent*, with its EN 16931 VAT *category* code.

    Categories: ``S`` standard, ``Z`` zero rated, ``E`` exempt, ``AE`` reverse charge,
    ``K`` intra-community supply, ``G`` export, ``O`` outside the scope. A rate with a
    *note* puts that note on every invoice that uses it (the reverse-charge wording).

    >>> TaxRate(name="VAT", percent="19").label
    'VAT 19%'
    """

    name: str = "VAT"
    percent: Decimal = attrs.field(converter=_percent)
    category: str = "S"
    note: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} {self.percent.normalize():f}%"

    @property
    def key(self) -> tuple[str, str, Decimal]:
        """What tax lines are grouped by: name, category and percent."""
        return (self.name, self.category, self.percent)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "percent": str(self.percent),
            "category": self.category,
            "note": self.note,
        }


@exact_class
@attrs.frozen(kw_only=True)
class InvoiceLine:
    """One line of an invoice, taken from a rated line.

    *amount* is the billed (rounded) amount and *exact_amount* the unrounded one; *kind*
    is ``"charge"`` for usage and fees, or the kind of an adjustment a rule added
    (``"discount"``, ``"credit"``, ``"fee"``...). *explanation* says how the amount came
    about, one step a line. *tax_rate* is the rate that applies; *tax* the line's own tax
    when taxes are computed per line (``None`` when they are computed on the total).
    """

    charge: str
    kind: str = "charge"
    description: str
    service: str | None = None
    metric: str | None = None
    quantity: Decimal
    unit: str
    unit_price: Money | None = None
    amount: Money
    exact_amount: Money
    explanation: str = ""
    tax_rate: TaxRate | None = None
    tax: Money | None = None

    @property
    def is_adjustment(self) -> bool:
        return self.kind != "charge"

    def to_dict(self) -> dict[str, Any]:
        return {
            "charge": self.charge,
            "kind": self.kind,
            "description": self.description,
            "service": self.service,
            "metric": self.metric,
            "quantity": str(self.quantity),
            "unit": self.unit,
            "unit_price": None if self.unit_price is None else str(self.unit_price.amount),
            "amount": str(self.amount.amount),
            "exact_amount": str(self.exact_amount.amount),
            "explanation": self.explanation,
            "tax_rate": None if self.tax_rate is None else self.tax_rate.to_dict(),
            "tax": None if self.tax is None else str(self.tax.amount),
        }


@exact_class
@attrs.frozen(kw_only=True)
class TaxLine:
    """The tax of one rate: *base* is the sum of the rounded lines at that rate, *amount*
    the tax billed and *exact_amount* the unrounded tax (``base * percent / 100``).

    With ``method='total'`` *amount* is the rounded *exact_amount*; with ``method='line'``
    it is the sum of the lines' rounded taxes, which may differ by a few minor units. On a
    credit note against an invoice taxed on the total, *amount* is the tax of the base
    credited at the rate so far less what earlier notes gave back (within one minor unit
    of the rounded *exact_amount* when the earlier notes were taxed so too).
    """

    rate: TaxRate
    base: Money
    amount: Money
    exact_amount: Money

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate.to_dict(),
            "base": str(self.base.amount),
            "amount": str(self.amount.amount),
            "exact_amount": str(self.exact_amount.amount),
        }


@exact_class
@attrs.frozen(kw_only=True)
class Payment:
    """Money received for an invoice on *on*; *reference* is the payment provider's id."""

    amount: Money
    on: date
    reference: str | None = None
    method: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "amount": str(self.amount.amount),
            "on": self.on.isoformat(),
            "reference": self.reference,
            "method": self.method,
        }


@attrs.frozen(kw_only=True)
class TimelineEvent:
    """A dated event on an invoice's timeline: ``issued``, ``due``, ``payment``,
    ``credit_note``, ``paid`` or ``voided``; *amount* and *reference* when they apply."""

    kind: str
    on: date
    amount: Money | None = None
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "on": self.on.isoformat(),
            "amount": None if self.amount is None else str(self.amount.amount),
            "reference": self.reference,
        }
