"""The results of rating: lines, account bills, unpriced usage and the rating result."""

from __future__ import annotations

import decimal
import functools
import html
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy
from cloudrate.exceptions import NotFoundError, RatingError
from cloudrate.period import BillingPeriod
from cloudrate.plans import Detail, Plan

from ._frames import rating_frame

__all__ = ["AccountBill", "RatedLine", "RatingResult", "UnpricedUsage"]


@attrs.frozen(kw_only=True)
class RatedLine:
    """One charge for one account in one period.

    *quantity* is what was priced (after unit conversion and free units), *free_quantity*
    the free units used, *amount* the exact amount and *rounded* the billed amount.
    *details* explain the amount step by step; *proration* is the factor of a flat fee.
    """

    account: str
    charge: str
    description: str
    service: str | None
    metric: str | None
    unit: str
    usage_quantity: Decimal
    free_quantity: Decimal
    quantity: Decimal
    unit_price: Money | None
    amount: Money
    rounded: Money
    details: tuple[Detail, ...]
    proration: Decimal | None = None
    records: int = 0
    kind: str = "charge"

    @classmethod
    def adjustment(
        cls,
        *,
        account: str,
        charge: str,
        description: str,
        amount: Money,
        rounded: Money,
        details: tuple[Detail, ...] = (),
        kind: str = "adjustment",
        service: str | None = None,
        metric: str | None = None,
        quantity: Decimal = Decimal(1),
    ) -> RatedLine:
        """A line added by a billing rule (discount, credit, free item, fee); *amount* may
        be negative and *details* say why.

        >>> line = RatedLine.adjustment(account="acme", charge="promo:NEWUSER-7F3K9Q",
        ...     description="10% off compute", amount=Money("-1.2345", "EUR"),
        ...     rounded=Money("-1.23", "EUR"), kind="discount")
        >>> line.rounded, line.kind
        (Money('-1.23', 'EUR'), 'discount')
        """
        return cls(
            account=account,
            charge=charge,
            description=description,
            service=service,
            metric=metric,
            unit=str(amount.currency.code),
            usage_quantity=quantity,
            free_quantity=Decimal(0),
            quantity=quantity,
            unit_price=None,
            amount=amount,
            rounded=rounded,
            details=details,
            kind=kind,
        )

    @property
    def currency(self) -> str:
        return str(self.amount.currency.code)

    def explain(self) -> str:
        """How the amount came about, one step a line."""
        steps = []
        if self.free_quantity:
            steps.append(f"free units: {self.free_quantity} of {self.usage_quantity} {self.unit}")
        steps.extend(str(d) for d in self.details)
        if self.rounded.amount != self.amount.amount:
            steps.append(f"rounded {self.amount.amount} to {self.rounded.amount}")
        return "\n".join(steps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; every number is a decimal string."""
        return {
            "account": self.account,
            "charge": self.charge,
            "description": self.description,
            "service": self.service,
            "metric": self.metric,
            "unit": self.unit,
            "usage_quantity": str(self.usage_quantity),
            "free_quantity": str(self.free_quantity),
            "quantity": str(self.quantity),
            "unit_price": None if self.unit_price is None else str(self.unit_price.amount),
            "amount": str(self.amount.amount),
            "rounded": str(self.rounded.amount),
            "currency": self.currency,
            "proration": None if self.proration is None else str(self.proration),
            "records": self.records,
            "kind": self.kind,
            "details": [d.to_dict() for d in self.details],
        }


@attrs.frozen(kw_only=True)
class AccountBill:
    """The lines of one account and their totals: *total* is the sum of the rounded lines."""

    account: str
    lines: tuple[RatedLine, ...]
    total: Money
    exact_total: Money

    def with_lines(self, extra: Iterable[RatedLine]) -> AccountBill:
        """A new bill with *extra* lines appended and the totals recomputed from all lines.

        Rules use it to add adjustment lines; existing lines are never changed.
        """
        lines = (*self.lines, *extra)
        currency = str(self.total.currency.code)
        for line in lines:
            if line.currency != currency or line.account != self.account:
                raise RatingError(
                    f"line {line.charge!r} is for {line.account!r} in {line.currency}; "
                    f"this bill is {self.account!r} in {currency}"
                )
        with decimal.localcontext(EXACT):
            return AccountBill(
                account=self.account,
                lines=lines,
                total=Money(sum((x.rounded.amount for x in lines), Decimal(0)), currency),
                exact_total=Money(sum((x.amount.amount for x in lines), Decimal(0)), currency),
            )

    def line(self, charge: str) -> RatedLine:
        """The line of *charge* (KeyError if the account has none)."""
        for line in self.lines:
            if line.charge == charge:
                return line
        raise NotFoundError(f"account {self.account!r} has no line for charge {charge!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "total": str(self.total.amount),
            "exact_total": str(self.exact_total.amount),
            "currency": str(self.total.currency.code),
            "lines": [line.to_dict() for line in self.lines],
        }


@attrs.frozen
class UnpricedUsage:
    """Records that no charge priced: the metric, why, and how many."""

    metric: str
    reason: str
    records: int
    accounts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "reason": self.reason,
            "records": self.records,
            "accounts": list(self.accounts),
        }


@attrs.frozen(kw_only=True)
class RatingResult:
    """Everything :func:`rate` found: a bill per account, the usage nothing priced, and
    the copies of records not billed (see :func:`cloudrate.usage.dedupe`):
    *duplicates_dropped* copies identical to a billed record, *corrections* copies
    superseded by a higher revision of their ``record_id``.
    """

    plan: Plan
    period: BillingPeriod
    rounding: RoundingPolicy
    bills: tuple[AccountBill, ...]
    unpriced: tuple[UnpricedUsage, ...] = ()
    duplicates_dropped: int = 0
    corrections: int = 0

    @property
    def currency(self) -> str:
        return self.plan.currency

    @property
    def total(self) -> Money:
        """The sum of every account's total (each the sum of its rounded lines)."""
        with decimal.localcontext(EXACT):
            return Money(sum((b.total.amount for b in self.bills), Decimal(0)), self.currency)

    @property
    def lines(self) -> tuple[RatedLine, ...]:
        return tuple(line for bill in self.bills for line in bill.lines)

    @functools.cached_property
    def _by_account(self) -> dict[str, AccountBill]:
        """The bills by account, built on the first lookup (a result is never changed)."""
        return {bill.account: bill for bill in self.bills}

    def bill(self, account: str) -> AccountBill:
        """The bill of *account*."""
        found = self._by_account.get(account)
        if found is not None:
            return found
        raise NotFoundError(
            f"no bill for account {account!r}; accounts are "
            f"{', '.join(b.account for b in self.bills) or '(none)'}"
        )

    def with_bills(self, bills: Iterable[AccountBill]) -> RatingResult:
        """The same result with *bills* in place of the current ones (after rules ran)."""
        return attrs.evolve(self, bills=tuple(bills))

    def totals(self) -> dict[str, Money]:
        """Total per account."""
        return {b.account: b.total for b in self.bills}

    def to_pandas(self) -> Any:
        """One row per line as a pandas DataFrame: float columns to plot and aggregate,
        the exact Decimals in ``*_exact`` columns (docs/notebooks.md). Needs pandas."""
        return rating_frame(self)

    def to_dict(self) -> dict[str, Any]:
        """The stable machine-readable form (schema ``cloudrate.rating/1``).

        ``duplicates_dropped`` and ``corrections`` (counts) come last, both, when either
        is not zero; a document of usage without copies is unchanged by them.
        """
        out: dict[str, Any] = {
            "schema": "cloudrate.rating/1",
            "plan": {"name": self.plan.name, "version": self.plan.version},
            "currency": self.currency,
            "period": self.period.to_dict(),
            "rounding": self.rounding.to_dict(),
            "total": str(self.total.amount),
            "accounts": [b.to_dict() for b in self.bills],
            "unpriced": [u.to_dict() for u in self.unpriced],
        }
        if self.duplicates_dropped or self.corrections:
            out["duplicates_dropped"] = self.duplicates_dropped
            out["corrections"] = self.corrections
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (keys in a fixed order, amounts as strings)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def _repr_html_(self) -> str:
        rows = [_html_row(line) for line in self.lines]
        head = "".join(
            f"<th>{h}</th>"
            for h in (
                "Account",
                "Charge",
                "Quantity",
                "Unit",
                "Unit price",
                f"Amount ({self.currency})",
            )
        )
        foot = f"<tr><th colspan='5'>Total</th><th>{self.total.amount}</th></tr>"
        return (
            f"<table><caption>{html.escape(self.plan.name)} {self.period.label}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
            f"<tfoot>{foot}</tfoot></table>"
        )


def _html_row(line: RatedLine) -> str:
    """One table row of a line for notebooks; every value is escaped."""
    unit_price = "" if line.unit_price is None else line.unit_price.amount
    values = (
        line.account,
        line.description,
        line.quantity,
        line.unit,
        unit_price,
        line.rounded.amount,
    )
    return "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in values) + "</tr>"
