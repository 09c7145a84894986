"""What if: the same usage rated under several plans or billing policies, compared.

:func:`compare` rates one set of usage records once per scenario (a plan, or a plan and
the rules a portal applies after rating, such as "first IP free") over one billing
period, and returns a :class:`Comparison`: each account's total per scenario and its
difference from the baseline scenario (the first, unless named), and the same over all
accounts. Totals are the billed totals (sums of rounded lines), exact Decimals in
:class:`moneyed.Money`; :meth:`Comparison.to_pandas` and :meth:`Comparison.chart` turn
them into floats for tables and pictures only.

>>> import cloudrate
>>> from cloudrate.rules import FreeFirstIp, chain
>>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
>>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
>>> c = compare(usage, {"IPs billed": plan, "first IP free": (plan, chain(FreeFirstIp()))})
>>> c.difference("first IP free")
Money('-7.82', 'EUR')
>>> c.difference("first IP free", account="acme")
Money('-3.73', 'EUR')
"""

from __future__ import annotations

import decimal
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, get_args

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy
from cloudrate.exceptions import (
    CurrencyMismatchError,
    MissingExtraError,
    NotFoundError,
    OptionError,
    WrongTypeError,
)
from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan
from cloudrate.rating import AccountBill, RatingResult, rate
from cloudrate.rules import Rule, RuleContext
from cloudrate.usage import UsageRecord

from .charts import _BAR, Chart, _base, _number

__all__ = [
    "COMPARE_MEASURES",
    "AccountComparison",
    "CompareMeasure",
    "Comparison",
    "Scenario",
    "compare",
]

#: A scenario: a plan, or a plan and the rule (or :class:`~cloudrate.rules.Policy`)
#: applied to every account's bill after rating it.
Scenario = Plan | tuple[Plan, Rule]
#: What :meth:`Comparison.chart` draws: each scenario's totals, or their differences
#: from the baseline.
CompareMeasure = Literal["total", "difference"]
COMPARE_MEASURES: tuple[CompareMeasure, ...] = get_args(CompareMeasure)

_PALETTE = (_BAR, "#e08a2c", "#2e9e5b", "#8e5bb5", "#d64545", "#6b7785")


def _sub(a: Money, b: Money) -> Money:
    with decimal.localcontext(EXACT):
        return Money(a.amount - b.amount, str(a.currency.code))


@attrs.frozen(kw_only=True)
class AccountComparison:
    """One account under every scenario: its *totals* (billed, per scenario, in scenario
    order) and their *differences* from the baseline's total."""

    account: str
    totals: Mapping[str, Money]
    differences: Mapping[str, Money]


@attrs.frozen(kw_only=True)
class Comparison:
    """The result of :func:`compare`: per-account and overall totals of every scenario.

    *results* are the rating results, with each scenario's rules applied; *totals* and
    *differences* are over all accounts (an account a scenario bills nothing counts 0).
    """

    baseline: str
    period: BillingPeriod
    currency: str
    results: Mapping[str, RatingResult]
    accounts: tuple[AccountComparison, ...]
    totals: Mapping[str, Money]
    differences: Mapping[str, Money]

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(self.results)

    def account(self, name: str) -> AccountComparison:
        """The comparison of account *name*."""
        for row in self.accounts:
            if row.account == name:
                return row
        raise NotFoundError(
            f"no account {name!r} in the comparison; accounts are "
            f"{', '.join(r.account for r in self.accounts) or '(none)'}"
        )

    def difference(self, scenario: str, account: str | None = None) -> Money:
        """*scenario*'s total minus the baseline's, over all accounts or for *account*."""
        self._check(scenario)
        source = self.differences if account is None else self.account(account).differences
        return source[scenario]

    def _check(self, scenario: str) -> None:
        if scenario not in self.results:
            raise NotFoundError(
                f"no scenario {scenario!r}; scenarios are {', '.join(self.results)}"
            )

    def rows(self) -> list[tuple[str, str, Money, Money]]:
        """``(account, scenario, total, difference)`` for every account and scenario."""
        return [
            (a.account, s, a.totals[s], a.differences[s]) for a in self.accounts for s in a.totals
        ]

    def to_pandas(self) -> Any:
        """One row per account and scenario (tidy, for ``pivot`` and plotting): columns
        ``account``, ``scenario``, ``currency``, ``total`` and ``difference`` as floats,
        and ``total_exact`` and ``difference_exact`` as Decimals. Needs
        ``pip install 'cloudrate[pandas]'``.
        """
        try:
            import pandas  # type: ignore[import-untyped,unused-ignore]
        except ImportError:  # pragma: no cover - depends on the environment
            raise MissingExtraError("DataFrames", "pandas", "pandas") from None
        rows = self.rows()
        frame = pandas.DataFrame(
            {
                "account": [r[0] for r in rows],
                "scenario": [r[1] for r in rows],
                "currency": [self.currency] * len(rows),
                "total": pandas.Series([float(r[2].amount) for r in rows], dtype="float64"),
                "difference": pandas.Series([float(r[3].amount) for r in rows], dtype="float64"),
                "total_exact": pandas.Series([r[2].amount for r in rows], dtype="object"),
                "difference_exact": pandas.Series([r[3].amount for r in rows], dtype="object"),
            }
        )
        return frame

    def chart(self, *, measure: CompareMeasure = "total", title: str | None = None) -> Chart:
        """Bars per account, one colour per scenario: the totals, or (*measure*
        ``"difference"``) each scenario's difference from the baseline. Needs the
        ``charts`` extra to render.
        """
        if measure not in COMPARE_MEASURES:
            raise OptionError(
                f"measure must be 'total' or 'difference' (got {measure!r})", path="measure"
            )
        title = title or (
            f"Totals per account, {self.period.label}"
            if measure == "total"
            else f"Difference from {self.baseline}, {self.period.label}"
        )
        scenarios = [s for s in self.scenarios if measure == "total" or s != self.baseline]
        values = [
            {"account": a, "scenario": s, "value": _number((t if measure == "total" else d).amount)}
            for a, s, t, d in self.rows()
            if s in scenarios
        ]
        axis = f"{'Total' if measure == 'total' else 'Difference'} ({self.currency})"
        spec = _base(title, 420, max(120, 28 * len(self.accounts) * len(scenarios))) | {
            "data": {"values": values},
            "mark": {"type": "bar", "cornerRadiusEnd": 2},
            "encoding": {
                "y": {"field": "account", "type": "nominal", "sort": None, "title": None},
                "yOffset": {"field": "scenario", "sort": scenarios},
                "x": {"field": "value", "type": "quantitative", "title": axis},
                "color": {
                    "field": "scenario",
                    "type": "nominal",
                    "title": None,
                    "scale": {
                        "domain": scenarios,
                        "range": [_PALETTE[i % len(_PALETTE)] for i in range(len(scenarios))],
                    },
                },
                "tooltip": [
                    {"field": "account"},
                    {"field": "scenario"},
                    {"field": "value", "type": "quantitative"},
                ],
            },
        }
        return Chart(json.dumps(spec, sort_keys=True), title)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: amounts as decimal strings."""
        return {
            "baseline": self.baseline,
            "period": self.period.to_dict(),
            "currency": self.currency,
            "scenarios": list(self.scenarios),
            "totals": {s: str(m.amount) for s, m in self.totals.items()},
            "differences": {s: str(m.amount) for s, m in self.differences.items()},
            "accounts": [
                {
                    "account": a.account,
                    "totals": {s: str(m.amount) for s, m in a.totals.items()},
                    "differences": {s: str(m.amount) for s, m in a.differences.items()},
                }
                for a in self.accounts
            ],
        }

    def _repr_html_(self) -> str:
        e = html.escape
        names = self.scenarios
        head = "".join(f"<th>{e(s)}</th>" for s in names)
        head += "".join(f"<th>Δ {e(s)}</th>" for s in names if s != self.baseline)

        def cells(totals: Mapping[str, Money], differences: Mapping[str, Money]) -> str:
            out = "".join(f"<td>{totals[s].amount}</td>" for s in names)
            return out + "".join(
                f"<td>{differences[s].amount:+}</td>" for s in names if s != self.baseline
            )

        body = "".join(
            f"<tr><td>{e(a.account)}</td>{cells(a.totals, a.differences)}</tr>"
            for a in self.accounts
        )
        foot = f"<tr><th>Total</th>{cells(self.totals, self.differences)}</tr>"
        return (
            f"<table><caption>{e(self.period.label)} ({e(self.currency)}), baseline "
            f"{e(self.baseline)}</caption><thead><tr><th>Account</th>{head}</tr></thead>"
            f"<tbody>{body}</tbody><tfoot>{foot}</tfoot></table>"
        )


def _scenario(name: str, value: object) -> tuple[Plan, Rule | None]:
    if isinstance(value, Plan):
        return value, None
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], Plan)
        and isinstance(value[1], Rule)
    ):
        return value[0], value[1]
    raise WrongTypeError(
        f"scenarios[{name!r}]: expected a Plan or a (Plan, Policy) pair, got "
        f"{type(value).__name__}; pass plan or (plan, chain(rule, ...))"
    )


def _compared(
    results: Mapping[str, RatingResult], baseline: str, currency: str
) -> tuple[tuple[AccountComparison, ...], dict[str, Money], dict[str, Money]]:
    zero = Money(Decimal(0), currency)
    accounts = sorted({b.account for r in results.values() for b in r.bills})
    rows = []
    for account in accounts:
        totals = {s: r.totals().get(account, zero) for s, r in results.items()}
        diffs = {s: _sub(t, totals[baseline]) for s, t in totals.items()}
        rows.append(AccountComparison(account=account, totals=totals, differences=diffs))
    totals = {s: r.total for s, r in results.items()}
    diffs = {s: _sub(t, totals[baseline]) for s, t in totals.items()}
    return tuple(rows), totals, diffs


def compare(
    usage: Iterable[UsageRecord],
    scenarios: Mapping[str, Scenario],
    period: BillingPeriod | None = None,
    *,
    baseline: str | None = None,
    rounding: RoundingPolicy | None = None,
    accounts: Sequence[str] = (),
    ip_history: Iterable[object] = (),
) -> Comparison:
    """Rate *usage* under every scenario over one *period* and compare the totals.

    Args:
        usage: the records, read once (any iterable).
        scenarios: name to a :class:`~cloudrate.plans.Plan`, or to a ``(plan, rule)``
            pair whose rule (a :class:`~cloudrate.rules.Policy` from ``chain(...)``)
            is applied to every bill after rating, with a
            :class:`~cloudrate.rules.RuleContext` of the usage (and *ip_history*).
        period: the billing period; by default the one the first scenario's plan rates
            the usage in (its month of the earliest record), used for every scenario.
        baseline: the scenario differences are taken from; by default the first.
        rounding: a rounding policy for every scenario; by default each plan's own.
        accounts: bill only these accounts (every scenario alike).
        ip_history: :class:`~cloudrate.rules.IpAcquisition` entries for the IP rules.

    Every plan must be in one currency: totals in different currencies do not subtract.
    """
    if not scenarios:
        raise OptionError(
            "scenarios: give at least one, such as {'today': plan, 'proposed': other}",
            path="scenarios",
        )
    chosen = {name: _scenario(name, value) for name, value in scenarios.items()}
    first = next(iter(chosen))
    baseline = first if baseline is None else baseline
    if baseline not in chosen:
        raise OptionError(
            f"baseline: {baseline!r} is not a scenario; scenarios are {', '.join(chosen)}",
            path="baseline",
            value=baseline,
        )
    currency = chosen[first][0].currency
    for name, (plan, _rule) in chosen.items():
        if plan.currency != currency:
            raise CurrencyMismatchError(
                currency,
                plan.currency,
                f"scenarios[{name!r}] plan",
                fix="compare plans that bill in one currency",
            )
    records = list(usage)
    history = tuple(ip_history)
    results: dict[str, RatingResult] = {}
    for name, (plan, rule) in chosen.items():
        result = rate(plan, records, period, rounding=rounding, accounts=accounts)
        period = result.period
        if rule is not None:
            context = RuleContext.for_result(result, records, ip_history=history)
            result = result.with_bills(_apply(rule, b, context) for b in result.bills)
        results[name] = result
    assert period is not None, "rating gave every result a period"
    rows, totals, diffs = _compared(results, baseline, currency)
    return Comparison(
        baseline=baseline,
        period=period,
        currency=currency,
        results=results,
        accounts=rows,
        totals=totals,
        differences=diffs,
    )


def _apply(rule: Rule, bill: AccountBill, context: RuleContext) -> AccountBill:
    """*bill* with *rule*'s lines appended (a Policy applies its rules in order)."""
    with decimal.localcontext(EXACT):
        extra = tuple(rule.lines(bill, context))
        return bill.with_lines(extra) if extra else bill
