"""The usage page: metric cards, a per-service summary and the Total Estimated Bill.

With cost decimals (:class:`~cloudrate.rules.CostDecimals`) every cost also has the
figure the page shows, ``shown_cost``: for decimals that are only displayed, the exact
cost rounded to them (rows add up their items, the total its rows); for billed
decimals, the billed cost, rated with them. The billed ``cost`` fields never change
with display decimals.
"""

from __future__ import annotations

import decimal
import html
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from operator import attrgetter
from typing import Any, Literal, cast, get_args

import attrs
from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy, zero
from cloudrate.exceptions import NotFoundError, PlanError
from cloudrate.invoice.render import Formatter
from cloudrate.plans import Metric, Plan, conversion
from cloudrate.rating import RatedLine, RatingResult, UnpricedUsage, rate
from cloudrate.rules import CostDecimals
from cloudrate.usage import UsageRecord, dedupe

from ._aggregate import unit_conversion
from ._clip import clip_records
from ._frames import ViewTable, view_frame
from ._ranges import DateRange, UsageViewError
from ._resources import ResourceRow, Tally, month_resources, resource_rows

__all__ = [
    "CARD_KINDS",
    "CLOUDSTACK_STORAGE",
    "CLOUDSTACK_TRAFFIC",
    "DEFAULT_CARDS",
    "Adjust",
    "CardKind",
    "CardSpec",
    "MetricCard",
    "ServiceRow",
    "UsageView",
    "usage_view",
]

#: How a card adds its metrics up: a ``sum`` of quantities, or the time-weighted
#: ``average`` level over the range.
CardKind = Literal["sum", "average"]
CARD_KINDS: tuple[CardKind, ...] = get_args(CardKind)


#: Card keys the billing overview's daily entries already use for other fields.
_RESERVED_KEYS = frozenset({"day", "cost", "card_costs"})


def _record_units(
    value: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    pairs = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(m), str(u)) for m, u in pairs))


def _metric_names(value: Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen
class CardSpec:
    """What one metric card shows: the plan metrics it adds up and the unit it shows.

    *kind* ``sum`` adds the metrics' quantities up in *unit* (vCPU-hours, GB);
    ``average`` shows the time-weighted average level over the range in *unit* (GB
    stored), from metrics measured as level x time (GB-hours) or as levels.

    *record_units* name the unit that records of a metric carry when the plan does not
    declare that metric (``{"volume_gb_hours": "GB-hour"}``): a card can then read
    usage that no charge prices, such as a CloudStack import rated with some tariffs
    only. A metric the plan declares is read in the plan's units.

    >>> CardSpec("disk", "Disk", "GB", ("volume_gb_hours",), "average",
    ...          record_units={"volume_gb_hours": "GB-hour"}).record_units
    (('volume_gb_hours', 'GB-hour'),)
    """

    key: str
    label: str
    unit: str
    metrics: tuple[str, ...] = attrs.field(converter=_metric_names)
    kind: CardKind = "sum"
    record_units: tuple[tuple[str, str], ...] = attrs.field(
        default=(), converter=_record_units, kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        if self.kind not in CARD_KINDS:
            raise UsageViewError(
                f"card {self.key!r}: kind must be 'sum' or 'average' (got {self.kind!r})"
            )
        if self.key in _RESERVED_KEYS:
            raise UsageViewError(
                f"card {self.key!r}: the key names a field of the overview's daily entries "
                f"({', '.join(sorted(_RESERVED_KEYS))}); choose another key"
            )
        target = self.unit if self.kind == "sum" else f"{self.unit}-second"
        for metric, unit in self.record_units:
            try:
                conversion(unit, target, Decimal(2592000))
            except PlanError:
                raise UsageViewError(
                    f"card {self.key!r}: record_units[{metric!r}] is {unit!r}, which does "
                    f"not convert to the card's {self.unit!r}"
                    + (" x time" if self.kind == "average" else "")
                    + f"; give a unit such as {_example_unit(self)!r}"
                ) from None

    def record_unit(self, metric: str) -> str | None:
        """The unit records of *metric* carry when the plan does not declare it."""
        return dict(self.record_units).get(metric)


def _example_unit(spec: CardSpec) -> str:
    return f"{spec.unit}-hour" if spec.kind == "average" else spec.unit


#: CloudStack's stored-size usage types, as the CloudStack import names them (GB-hours
#: of volumes, snapshots, templates, ISOs, VM snapshots, volumes on secondary storage,
#: backups); tests/integrations/cloudstack/test_cards.py holds them to the importer.
CLOUDSTACK_STORAGE = (
    "volume_gb_hours",
    "snapshot_gb_hours",
    "template_gb_hours",
    "iso_gb_hours",
    "vm_snapshot_gb_hours",
    "vm_snapshot_primary_gb_hours",
    "volume_secondary_gb_hours",
    "backup_gb_hours",
)
#: CloudStack's traffic usage types (bytes sent and received), as the import names them.
CLOUDSTACK_TRAFFIC = ("network_sent_gb", "network_received_gb")

#: The four cards of the usage page. Each reads the portal's usual metric names and
#: those of the CloudStack import (``cloudrate.integrations.cloudstack``): CPU and
#: memory from ``vcpu_hours`` and ``memory_gb_hours`` (the import's
#: ``compute_metrics=True``), storage from the stored-size types, bandwidth from
#: traffic sent and received.
DEFAULT_CARDS = (
    CardSpec("cpu", "CPU Hours", "vCPU-hour", ("vcpu_hours",)),
    CardSpec("memory", "Memory", "GB-hour", ("memory_gb_hours",)),
    CardSpec(
        "storage",
        "Storage",
        "GB",
        ("volume_gb", "snapshot_gb", "storage_gb_hours", *CLOUDSTACK_STORAGE),
        "average",
        record_units=dict.fromkeys(CLOUDSTACK_STORAGE, "GB-hour"),
    ),
    CardSpec(
        "bandwidth",
        "Bandwidth",
        "GB",
        ("bandwidth_gb", *CLOUDSTACK_TRAFFIC),
        record_units=dict.fromkeys(CLOUDSTACK_TRAFFIC, "GB"),
    ),
)


def _shown(cost: Money, shown: Decimal | None) -> Decimal:
    return cost.amount if shown is None else shown


@attrs.frozen(kw_only=True)
class MetricCard:
    """One card: the consumption in *unit* and the estimated cost of the metrics' charges.

    *cost* is the sum of the rounded lines; *shown_cost* the cost as shown with the view's
    cost decimals (None without them: the page shows *cost*).
    """

    key: str
    label: str
    quantity: Decimal
    unit: str
    cost: Money
    metrics: tuple[str, ...]
    shown_cost: Decimal | None = None

    @property
    def shown(self) -> Decimal:
        """The cost the page shows."""
        return _shown(self.cost, self.shown_cost)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "quantity": str(self.quantity),
            "unit": self.unit,
            "cost": str(self.shown),
            "currency": str(self.cost.currency.code),
            "metrics": list(self.metrics),
        }


@attrs.frozen(kw_only=True)
class ServiceQuantity:
    """How much of one charge a service used in the range (*shown_cost*: as
    :class:`MetricCard`)."""

    charge: str
    description: str
    quantity: Decimal
    unit: str
    cost: Money
    shown_cost: Decimal | None = None

    @property
    def shown(self) -> Decimal:
        """The cost the page shows."""
        return _shown(self.cost, self.shown_cost)


@attrs.frozen(kw_only=True)
class ServiceRow:
    """One row of the usage summary: a service, what it consumed, and its estimated cost
    (*shown_cost*: the sum of its items' shown costs, with cost decimals)."""

    service: str
    items: tuple[ServiceQuantity, ...]
    cost: Money
    shown_cost: Decimal | None = None

    @property
    def shown(self) -> Decimal:
        """The cost the page shows."""
        return _shown(self.cost, self.shown_cost)

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "cost": str(self.shown),
            "items": [
                {
                    "charge": i.charge,
                    "description": i.description,
                    "quantity": str(i.quantity),
                    "unit": i.unit,
                    "cost": str(i.shown),
                }
                for i in self.items
            ],
        }


@attrs.frozen(kw_only=True)
class UsageView:
    """Everything the usage page shows for one account and date range.

    *total* (the Total Estimated Bill) is the sum of the service rows, each the sum of
    rounded rated lines; *lines* are those lines, *records* the usage inside the range.
    With *decimals*, *shown_total* is the total as shown: the sum of the rows' shown
    costs. *resources* are the same metered lines per resource (``resource_id``) within
    each service: the resources of a charge add up to its cost in *services*.
    """

    account: str
    date_range: DateRange
    plan: Plan
    cards: tuple[MetricCard, ...]
    services: tuple[ServiceRow, ...]
    total: Money
    lines: tuple[RatedLine, ...]
    records: tuple[UsageRecord, ...]
    unpriced: tuple[UnpricedUsage, ...]
    include_fixed: bool
    decimals: CostDecimals | None = None
    shown_total: Decimal | None = None
    resources: tuple[ResourceRow, ...] = ()

    @property
    def currency(self) -> str:
        return self.plan.currency

    @property
    def shown(self) -> Decimal:
        """The Total Estimated Bill the page shows."""
        return _shown(self.total, self.shown_total)

    def resource(self, resource_id: str | None, service: str | None = None) -> ResourceRow:
        """The row of *resource_id* (in *service*, when it has rows in several).

        Raises:
            KeyError: no row, or rows in several services and no *service* given.
        """
        rows = [
            r
            for r in self.resources
            if r.resource_id == resource_id and (service is None or r.service == service)
        ]
        if len(rows) != 1:
            where = "" if service is None else f" in {service!r}"
            found = ", ".join(sorted({r.service for r in rows}))
            raise NotFoundError(
                f"no resource {resource_id!r}{where}"
                if not rows
                else f"resource {resource_id!r} has rows in {found}; pass service="
            )
        return rows[0]

    def card(self, key: str) -> MetricCard:
        for card in self.cards:
            if card.key == key:
                return card
        raise NotFoundError(f"no card {key!r}; cards are {', '.join(c.key for c in self.cards)}")

    def to_pandas(self, table: ViewTable = "services") -> Any:
        """One table of the view as a pandas DataFrame: ``"services"`` (a row per charge
        of each service), ``"cards"`` or ``"resources"``; numbers as floats to plot, with
        the exact Decimals in ``<name>_exact`` columns (``pip install 'cloudrate[pandas]'``).
        """
        return view_frame(self, table)

    def _repr_html_(self) -> str:
        """Cards and the service summary as two tables, for notebooks (text escaped).

        Quantities are rounded for display as the invoice rounds them
        (:meth:`~cloudrate.invoice.render.Formatter.number`, with the plan's rounding
        mode, without grouping, as the costs are written); the exact value is the cell's
        ``title``."""
        esc = html.escape
        cur = esc(self.currency)
        number = Formatter(_PLAIN_LOCALE, self.currency, rounding=self.plan.rounding).number
        cards = "".join(
            f'<tr><td>{esc(c.label)}</td><td title="{c.quantity:f}">'
            f"{esc(number(c.quantity))}</td><td>{esc(c.unit)}</td><td>{c.shown}</td></tr>"
            for c in self.cards
        )
        rows = "".join(
            f"<tr><td>{esc(r.service)}</td><td>{r.shown}</td></tr>" for r in self.services
        )
        return (
            f"<table><caption>{esc(self.account)} {esc(self.date_range.label)} "
            f"({esc(self.date_range.timezone)})</caption><thead><tr><th>Metric</th>"
            f"<th>Quantity</th><th>Unit</th><th>Estimated cost ({cur})</th></tr>"
            f"</thead><tbody>{cards}</tbody></table><table><thead><tr><th>Service</th>"
            f"<th>Estimated cost ({cur})</th></tr></thead><tbody>{rows}</tbody>"
            f"<tfoot><tr><th>Total Estimated Bill</th><th>{self.shown}</th></tr>"
            "</tfoot></table>"
        )

    def to_dict(self) -> dict[str, Any]:
        """The page as plain data; costs are the costs shown. With cost decimals,
        ``cost_decimals`` comes last; a view without them is unchanged by it."""
        out: dict[str, Any] = {
            "schema": "cloudrate.usage_view/1",
            "account": self.account,
            "range": self.date_range.to_dict(),
            "currency": self.currency,
            "include_fixed": self.include_fixed,
            "cards": [c.to_dict() for c in self.cards],
            "services": [s.to_dict() for s in self.services],
            "resources": [r.to_dict() for r in self.resources],
            "total": str(self.shown),
        }
        if self.decimals is not None:
            out["cost_decimals"] = self.decimals.to_dict()
        return out


#: The notebook table's numbers are written without grouping, ``.`` for decimals, as its
#: costs are: CLDR's POSIX locale, named here (the view has no locale of its own).
_PLAIN_LOCALE = "en_US_POSIX"


def _fixed(plan: Plan) -> set[str]:
    """Charges that do not depend on usage: flat fees without a metric, minimum spend."""
    return {
        c.name
        for c in plan.charges
        if c.model.basis == "spend" or (c.model.basis == "period" and c.metric is None)
    }


def _card_metric(spec: CardSpec, plan: Plan, name: str) -> Metric:
    """The plan's metric *name*, or, undeclared, one in the card's record unit for it."""
    declared = plan.metrics.get(name)
    unit = spec.record_unit(name)
    if declared is not None or unit is None:
        return plan.metric(name)
    return Metric(name=name, unit=unit)


def _by_metric(records: Iterable[UsageRecord]) -> dict[str, list[UsageRecord]]:
    """*records* per metric, each list in record order."""
    out: dict[str, list[UsageRecord]] = {}
    for r in records:
        out.setdefault(r.metric, []).append(r)
    return out


_QUANTITY = attrgetter("quantity")


def _card_quantity(
    spec: CardSpec,
    plan: Plan,
    by_metric: Mapping[str, Sequence[UsageRecord]],
    date_range: DateRange,
) -> tuple[Decimal, tuple[str, ...]]:
    """The card's quantity over *date_range* from the records per metric (*by_metric*)."""
    seconds = date_range.seconds
    total, found = Decimal(0), []
    for name in spec.metrics:
        mine = by_metric.get(name, ())
        if not mine and name not in plan.metrics:
            continue
        found.append(name)
        metric = _card_metric(spec, plan, name)
        source = metric.usage_unit or metric.unit
        if spec.kind == "sum":
            num, den = unit_conversion(source, spec.unit, seconds)
            total += sum(map(_QUANTITY, mine), Decimal(0)) * num / den
        elif metric.aggregation == "average":  # levels: weight each by its time
            num, den = unit_conversion(source, spec.unit, seconds)
            weighted = sum((r.quantity * r.seconds for r in mine), Decimal(0))
            total += weighted * num / den / seconds
        else:  # level x time (GB-hours): divide by the range's length
            num, den = unit_conversion(source, f"{spec.unit}-second", seconds)
            total += sum(map(_QUANTITY, mine), Decimal(0)) * num / den / seconds
    return total, tuple(found)


#: A billing policy for :func:`usage_view`: ``adjust(result)`` gets each month's
#: :class:`~cloudrate.rating.RatingResult`; ``adjust(result, usage)`` also gets the usage
#: records that month's result rated (cut to the range), which a
#: :class:`~cloudrate.rules.RuleContext` needs: ``RuleContext.for_result(result, usage)``.
Adjust = (
    Callable[[RatingResult], RatingResult]
    | Callable[[RatingResult, Sequence[UsageRecord]], RatingResult]
)


def _takes_usage(adjust: Adjust) -> bool:
    """Whether *adjust* takes a second positional argument (the usage rated)."""
    if not callable(adjust):
        raise UsageViewError(
            f"adjust: {adjust!r} is not callable; pass a function of the month's result "
            "(and, optionally, of the usage it rated) that returns the adjusted result"
        )
    try:
        signature = inspect.signature(adjust)
    except (TypeError, ValueError):  # a builtin without a signature: the one-argument form
        return False
    try:
        signature.bind(None, None)
    except TypeError:
        return False
    return True


def _adjuster(
    adjust: Adjust | None,
) -> Callable[[RatingResult, Sequence[UsageRecord]], RatingResult] | None:
    """*adjust* as a function of the month's result and the usage it rated."""
    if adjust is None:
        return None
    if _takes_usage(adjust):
        return cast("Callable[[RatingResult, Sequence[UsageRecord]], RatingResult]", adjust)
    one = cast("Callable[[RatingResult], RatingResult]", adjust)
    return lambda result, _usage: one(result)


def usage_view(
    plan: Plan,
    usage: Iterable[UsageRecord],
    *,
    account: str,
    date_range: DateRange,
    cards: Sequence[CardSpec] = DEFAULT_CARDS,
    include_fixed: bool = False,
    rounding: RoundingPolicy | None = None,
    adjust: Adjust | None = None,
    decimals: CostDecimals | None = None,
) -> UsageView:
    """The usage page of *account* for *date_range*, priced under *plan*.

    Usage is cut to the range (see :func:`clip_records`) and rated one calendar month
    at a time with :func:`cloudrate.rate`, so monthly units (GB-month) and tiers mean
    what they mean on the bill. With *include_fixed* false (the default) the estimate
    covers what usage costs: flat fees without a metric and minimum-spend true-ups are
    left out; set it to get exactly the bill of a whole month. *adjust* applies the
    account's billing policies to each month's result (discounts, credits: a function
    returning ``result.with_bills(...)``); the lines it adds count in the service rows
    (under "Adjustments" when they name no service) and in the total. A function of two
    arguments also gets the usage records the month's result rated (cut to the range,
    :data:`Adjust`), so rules that read the usage work on partial months too:
    ``adjust=lambda result, usage: policy.apply_result(result,
    RuleContext.for_result(result, usage))``. *decimals* are the
    tenant's cost decimals: displayed, each cost is also shown as its exact amount
    rounded to them (``shown_cost``); billed, the usage is rated with them (*rounding*,
    or the plan's policy, with their digits), as the invoice is.

    Each metered line is also split among the resources whose records it priced
    (``resources``; see :mod:`cloudrate.portal.usage_view._resources`): a resource's
    quantity is what its records alone aggregate to, its cost the line's rounded cost
    shared in proportion to those quantities, so a charge's resources add up to its
    cost. Copies of a record (the same ``record_id``) count once, as on the bill.

    >>> import cloudrate
    >>> from datetime import date
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    >>> view = usage_view(plan, usage, account="globex",
    ...     date_range=DateRange.last_7_days(today=date(2026, 10, 31), timezone="Europe/Berlin"))
    >>> view.card("cpu").unit, view.total == sum((s.cost for s in view.services), view.total * 0)
    ('vCPU-hour', True)
    """
    records = tuple(
        dedupe(clip_records(plan, usage, date_range.start, date_range.end, account)).records
    )
    return build_view(
        plan,
        records,
        account=account,
        date_range=date_range,
        cards=cards,
        include_fixed=include_fixed,
        rounding=rounding,
        adjust=adjust,
        decimals=decimals,
    )


def build_view(
    plan: Plan,
    records: tuple[UsageRecord, ...],
    *,
    account: str,
    date_range: DateRange,
    cards: Sequence[CardSpec] = DEFAULT_CARDS,
    include_fixed: bool = False,
    rounding: RoundingPolicy | None = None,
    adjust: Adjust | None = None,
    decimals: CostDecimals | None = None,
    by_metric: Mapping[str, Sequence[UsageRecord]] | None = None,
    per_resource: bool = True,
) -> UsageView:
    """:func:`usage_view` of *records*: those of *account* already cut to *date_range*
    and deduplicated. *by_metric* are the records per metric in record order, already
    sorted out (as ``_by_metric`` gives them); without *per_resource*, the view has no
    ``resources`` (the billing overview shows none)."""
    adjusted = _adjuster(adjust)
    fixed = set() if include_fixed else _fixed(plan)
    cells: dict[tuple[str, str | None, str], Tally] = {}
    if decimals is not None:
        rounding = decimals.rounding(rounding or plan.rounding)
    currency = plan.currency
    lines: list[RatedLine] = []
    unpriced: list[UnpricedUsage] = []
    with decimal.localcontext(EXACT):
        months = date_range.months()
        for period in months:
            if len(months) == 1:  # the records are cut to the range, inside the month
                part = list(records)
            else:
                lo, hi = max(period.start, date_range.start), min(period.end, date_range.end)
                part = clip_records(plan, records, lo, hi)
            result = rate(plan, part, period, accounts=[account], rounding=rounding)
            if adjusted is not None:
                result = adjusted(result, tuple(part))
            month = [x for x in result.bill(account).lines if x.charge not in fixed]
            lines.extend(month)
            unpriced.extend(result.unpriced)
            if per_resource:
                month_resources(
                    plan,
                    part,
                    period,
                    month,
                    fixed=fixed,
                    rounding=rounding,
                    decimals=decimals,
                    into=cells,
                )
        built = []
        if by_metric is None:
            by_metric = _by_metric(records)
        for spec in cards:
            quantity, found = _card_quantity(spec, plan, by_metric, date_range)
            mine = [x for x in lines if x.metric in found]
            cost = sum((x.rounded for x in mine), zero(currency))
            built.append(
                MetricCard(
                    key=spec.key,
                    label=spec.label,
                    quantity=quantity,
                    unit=spec.unit,
                    cost=cost,
                    metrics=found,
                    shown_cost=_cost_shown(decimals, mine, cost),
                )
            )
        services = _services(lines, currency, decimals)
        shown_total = _sum_shown(decimals, (s.shown for s in services), currency)
    return UsageView(
        account=account,
        date_range=date_range,
        plan=plan,
        cards=tuple(built),
        services=services,
        total=sum((s.cost for s in services), zero(currency)),
        lines=tuple(lines),
        records=records,
        unpriced=tuple(unpriced),
        include_fixed=include_fixed,
        decimals=decimals,
        shown_total=shown_total,
        resources=resource_rows(cells, currency, [s.service for s in services]),
    )


def _cost_shown(
    decimals: CostDecimals | None, lines: Sequence[RatedLine], cost: Money
) -> Decimal | None:
    """The shown cost of *lines* (billed together as *cost*), or None without decimals."""
    if decimals is None:
        return None
    exact = sum((x.amount for x in lines), zero(str(cost.currency.code)))
    return decimals.cost(exact, cost)


def _sum_shown(
    decimals: CostDecimals | None, shown: Iterable[Decimal], currency: str
) -> Decimal | None:
    """The sum of shown costs, from a zero with the cost decimals; None without them."""
    if decimals is None:
        return None
    start = decimals.cost(zero(currency), zero(currency))
    return sum(shown, start)


def _services(
    lines: Sequence[RatedLine], currency: str, decimals: CostDecimals | None = None
) -> tuple[ServiceRow, ...]:
    by_service: dict[str, dict[str, list[RatedLine]]] = {}
    for line in lines:
        default = "Other" if line.kind == "charge" else "Adjustments"
        by_service.setdefault(line.service or default, {}).setdefault(line.charge, []).append(line)
    rows = []
    for service, charges in by_service.items():
        items = []
        for charge, group in charges.items():
            cost = sum((x.rounded for x in group), zero(currency))
            items.append(
                ServiceQuantity(
                    charge=charge,
                    description=group[0].description,
                    quantity=sum((x.usage_quantity for x in group), Decimal(0)),
                    unit=group[0].unit,
                    cost=cost,
                    shown_cost=_cost_shown(decimals, group, cost),
                )
            )
        rows.append(
            ServiceRow(
                service=service,
                items=tuple(items),
                cost=sum((i.cost for i in items), zero(currency)),
                shown_cost=_sum_shown(decimals, (i.shown for i in items), currency),
            )
        )
    return tuple(rows)
