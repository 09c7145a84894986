"""A percentage of each transaction and a fixed fee per transaction, as Lago's percentage model.

Each usage record of the charge's metric is a transaction whose quantity is its amount
(in the plan's currency). The rules, and their Lago names, are in the docstring of
:class:`TransactionPercentage`; :mod:`._transactions` prices them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from moneyed import Money

from cloudrate._documents import join_path
from cloudrate._money import bound_problem, check_amount, check_currency, exact, to_decimal
from cloudrate.exceptions import CurrencyMismatchError, PlanError

from ._fields import as_money, as_quantity, non_negative_money
from ._model import Basis
from ._priced import Priced
from ._transactions import Fees, explain, in_total, one_by_one

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._documents import FieldReader

__all__ = ["TransactionPercentage", "read_percent"]


def _percent(value: Any) -> Decimal:
    p = check_amount(to_decimal(value, "percent"), "percent")
    if p < 0:
        raise PlanError(f"percent: must be >= 0 (got {p}); 1.2 takes 1.2% of each transaction")
    return p


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise PlanError(f"free_transactions: expected a whole number >= 0 (got {value!r})")
    if value != int(value) or value < 0:
        raise PlanError(f"free_transactions: expected a whole number >= 0 (got {value})")
    return int(value)


def _optional_money(value: Any) -> Money | None:
    return None if value is None else as_money(value)


@attrs.frozen(kw_only=True)
class TransactionPercentage:
    """*percent* of every transaction, a *fixed_fee* per transaction, free transactions
    and a free amount, and a minimum and maximum per transaction: Lago's ``percentage``.

    Each record of the charge's metric (aggregated by ``sum``) is one transaction, its
    quantity the transaction's amount. Transactions are taken in one order, whatever
    order the records came in: by start, then record id, then amount. The rules are
    those of Lago's ``ChargeModels::PercentageService`` (getlago/lago-api,
    ``app/services/charge_models/percentage_service.rb`` and the running totals of
    ``app/services/billable_metrics/aggregations/sum_service.rb``), with Lago's property
    names in brackets: *percent* (``rate``), *fixed_fee* (``fixed_amount``),
    *free_transactions* (``free_units_per_events``), *free_amount*
    (``free_units_per_total_aggregation``), *min_per_transaction* and
    *max_per_transaction* (``per_transaction_min_amount``, ``per_transaction_max_amount``).

    Without a minimum or a maximum, the charge is priced on the period's totals. With
    *S_k* the sum of the first *k* transactions, *T* the total and *n* their number:

    1. the free amount *F* is 0 when neither free setting is given. With
       *free_transactions* N, it is *S_N* (*T* when N >= n), no more than *free_amount*
       when that is given too; with *free_amount* X alone, it is ``min(T, X)``;
    2. the rate part is ``(T - F) x percent / 100``;
    3. the free transactions *C* (no fixed fee): N, when *free_transactions* is given
       alone; with *free_amount* alone, the number of transactions whose running total
       *S_k* stays below X (strictly); with both, that number among the first N, or N
       itself when it is 0 (Lago drops a zero count: a first transaction of X or more
       leaves N transactions without a fixed fee);
    4. the fixed fees are ``(n - C) x fixed_fee``, none when C >= n, and none when the
       total *T* is 0.

    With a minimum or a maximum (either, or both), Lago prices transaction by
    transaction instead, and the free settings work differently (these rules hold):

    5. while free transactions or free amount remain, each transaction uses one free
       transaction; when no free amount is given, it is free. Otherwise a transaction
       below the free amount left (strictly) is free and uses up that much of it; the
       first that reaches it pays on the part above it, and from then on nothing is
       free. So when *free_amount* is given, *free_transactions* has no effect;
    6. a paying transaction costs ``amount x percent / 100 + fixed_fee`` (a transaction
       of 0 too), raised to *min_per_transaction* when below it, else lowered to
       *max_per_transaction* when above it; free transactions cost nothing;
    7. the charge is the sum of the transactions' costs.

    A charge with a minimum of 0 is therefore priced by rule 5 to 7, not 1 to 4. Lago
    applies the minimum and maximum only with its premium licence; cloudrate always
    does. The free settings hold for the whole period (they are not prorated when a
    plan changes within it), and the charge's own ``free_units`` do not apply.
    ``price(quantity)`` prices one transaction of *quantity*. The line's quantity
    is the total *T*; its details count the transactions and say the rate part, the
    fixed fees, what was free and how many transactions the minimum raised or the
    maximum lowered.

    Lago's documentation example (getlago.com/docs/guide/plans/charges/charge-models/percentage):
    1.2% and 0.10 per transaction, the first 3 transactions or 500 free; four
    transactions of 200, 100, 100 and 50 cost 0.10 + 1.2% of 50:

    >>> fees = TransactionPercentage(percent=Decimal("1.2"), currency="USD",
    ...                              fixed_fee=Money("0.10", "USD"), free_transactions=3,
    ...                              free_amount=Decimal(500))
    >>> priced = fees.price_transactions([Decimal(a) for a in (200, 100, 100, 50)])
    >>> priced.amount
    Money('0.70', 'USD')
    >>> print(priced.explain())
    4 transactions, 450 USD in all
    free: 3 transactions without the fixed fee, 400 USD without the percentage
    1.2% of 50 USD: 0.6 USD
    fixed fee per transaction: 1 x 0.10 USD = 0.10 USD

    A minimum of 1 and a maximum of 5 with 1% and 0.50 per transaction: 20 costs the
    minimum, 600 the maximum (Lago's product update of the feature):

    >>> capped = TransactionPercentage(percent=Decimal(1), currency="USD",
    ...     fixed_fee=Money("0.50", "USD"), min_per_transaction=Money(1, "USD"),
    ...     max_per_transaction=Money(5, "USD"))
    >>> capped.price(Decimal(20)).amount, capped.price(Decimal(600)).amount
    (Money('1.00', 'USD'), Money('5.00', 'USD'))

    .. versionadded:: 0.3
    """

    kind: ClassVar[str] = "transaction_percentage"
    basis: ClassVar[Basis] = "usage"
    keys: ClassVar[tuple[str, ...]] = (
        "percent",
        "fixed_fee",
        "free_transactions",
        "free_amount",
        "min_per_transaction",
        "max_per_transaction",
    )

    percent: Decimal = attrs.field(converter=_percent)
    currency: str = attrs.field(validator=lambda _i, _a, v: check_currency(v))
    fixed_fee: Money | None = attrs.field(
        default=None, converter=_optional_money, validator=non_negative_money
    )
    free_transactions: int = attrs.field(default=0, converter=_count)
    free_amount: Decimal = attrs.field(default=Decimal(0), converter=as_quantity)
    min_per_transaction: Money | None = attrs.field(
        default=None, converter=_optional_money, validator=non_negative_money
    )
    max_per_transaction: Money | None = attrs.field(
        default=None, converter=_optional_money, validator=non_negative_money
    )

    def __attrs_post_init__(self) -> None:
        for name in ("fixed_fee", "min_per_transaction", "max_per_transaction"):
            value = getattr(self, name)
            if value is not None and value.currency.code != self.currency:
                raise CurrencyMismatchError(self.currency, value.currency.code, name)
        low, high = self.min_per_transaction, self.max_per_transaction
        if low is not None and high is not None and low.amount > high.amount:
            raise PlanError(
                f"min_per_transaction {low.amount} is above max_per_transaction "
                f"{high.amount}; give a minimum at most the maximum"
            )

    @property
    def line_unit_price(self) -> Money | None:
        return None

    def _fees(self) -> Fees:
        return Fees(
            percent=self.percent,
            fixed=None if self.fixed_fee is None else self.fixed_fee.amount,
            free_count=self.free_transactions,
            free_amount=self.free_amount,
            low=None if self.min_per_transaction is None else self.min_per_transaction.amount,
            high=None if self.max_per_transaction is None else self.max_per_transaction.amount,
        )

    @exact
    def price(self, quantity: Decimal) -> Priced:
        """The price of one transaction of *quantity*."""
        return self.price_transactions((quantity,))

    @exact
    def price_transactions(self, amounts: Sequence[Decimal]) -> Priced:
        """The price of the period's *amounts*, in the order they are given (rating
        gives them by start, then record id, then amount)."""
        fees = self._fees()
        if fees.low is None and fees.high is None:
            outcome = in_total(fees, amounts)
        else:
            outcome = one_by_one(fees, amounts)
        details = explain(fees, outcome, self.currency)
        total = sum((d.amount.amount for d in details), Decimal(0))
        return Priced(Money(total, self.currency), details)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.kind, "percent": str(self.percent)}
        if self.fixed_fee is not None:
            out["fixed_fee"] = str(self.fixed_fee.amount)
        if self.free_transactions:
            out["free_transactions"] = self.free_transactions
        if self.free_amount:
            out["free_amount"] = str(self.free_amount)
        for name in ("min_per_transaction", "max_per_transaction"):
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value.amount)
        return out

    @classmethod
    def read(
        cls, r: FieldReader, data: Mapping[str, Any], path: str
    ) -> TransactionPercentage | None:
        count = len(r.doc.problems)
        percent = read_percent(r, data, path)
        fixed = r.price(data, "fixed_fee", path, required=False)
        free = r.whole(data, "free_transactions", path)
        free_amount = r.number(data, "free_amount", path)
        low = r.price(data, "min_per_transaction", path, required=False)
        high = r.price(data, "max_per_transaction", path, required=False)
        if low is not None and high is not None and low.amount > high.amount:
            r.doc.problem(
                join_path(path, "max_per_transaction"),
                "invalid_settings",
                f"must be at least min_per_transaction ({low.amount}); give a minimum at "
                "most the maximum",
                str(high.amount),
            )
        if percent is None or len(r.doc.problems) > count:
            return None
        assert r.currency is not None, "the plan's currency is read before its charges"
        return cls(
            percent=percent,
            currency=r.currency,
            fixed_fee=fixed,
            free_transactions=free or 0,
            free_amount=free_amount or Decimal(0),
            min_per_transaction=low,
            max_per_transaction=high,
        )


def read_percent(
    r: FieldReader, data: Mapping[str, Any], path: str, *, required: bool = True
) -> Decimal | None:
    """A percent of a plan file: a number >= 0 within the bounds of an amount (Lago takes
    any rate >= 0, above 100 too)."""
    percent = r.number(data, "percent", path, required=required)
    if percent is None:
        return None
    problem = bound_problem(percent, "amount")
    if problem is not None:
        r.doc.problem(join_path(path, "percent"), "out_of_bounds", problem, str(percent))
        return None
    return percent
