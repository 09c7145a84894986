"""Hypothesis strategies for code that uses cloudrate.

Requires hypothesis: ``pip install cloudrate[testing]``. Every value is built through
cloudrate's public constructors, so every generated plan is valid; examples shrink
towards EUR, quantity 0 and one tier.

>>> import cloudrate
>>> from hypothesis import given
>>> @given(plans())
... def test_plans_load_back(plan):
...     assert cloudrate.load_plan(cloudrate.dump_plan(plan)) == plan
>>> test_plans_load_back()
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from typing import Any

try:
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
except ImportError as exc:  # pragma: no cover - depends on the environment
    from cloudrate.exceptions import MissingExtraError

    raise MissingExtraError("cloudrate.testing", "hypothesis", "testing") from exc

from moneyed import Money

from cloudrate._money import EXACT, RoundingPolicy, currency_digits, unlike_float
from cloudrate.invoice import Customer, Invoice, TaxRate, assemble
from cloudrate.period import BillingPeriod, zone
from cloudrate.plans import (
    PRORATIONS,
    ZERO_USAGE,
    Aggregation,
    All,
    Charge,
    Compare,
    Condition,
    Flat,
    Graduated,
    GraduatedTransactionPercentage,
    Match,
    Metric,
    Minimum,
    Package,
    Percentage,
    PercentTier,
    PerUnit,
    Plan,
    QuantityRounding,
    Tier,
    TransactionPercentage,
    Validity,
    Volume,
    ZeroUsage,
    prices_transactions,
)
from cloudrate.rating import rate
from cloudrate.rules import (
    FREE_IPS,
    DefaultIpCharge,
    FreeFirstIp,
    Policy,
    PromoCode,
    PromoDiscount,
    Rule,
    RuleContext,
    SecondaryIpBilling,
    chain,
)
from cloudrate.usage import UsageRecord

__all__ = [
    "amounts",
    "charge_points",
    "charge_quantities",
    "charges",
    "currencies",
    "graduated_transaction_percentages",
    "invoices",
    "money",
    "plans",
    "policies",
    "prices",
    "promo_codes",
    "quantities",
    "quantity_roundings",
    "readable_decimals",
    "rounding_policies",
    "tiers",
    "transaction_percentages",
    "transaction_points",
    "usage_for",
    "usage_records",
    "validities",
]

#: The characters of generated promo codes (as :func:`cloudrate.rules.generate_code`).
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_CURRENCIES = ("EUR", "USD", "GBP", "JPY", "CHF", "INR", "BHD")


def currencies() -> st.SearchStrategy[str]:
    """ISO 4217 codes with 0, 2 and 3 minor digits; shrinks to EUR."""
    return st.sampled_from(_CURRENCIES)


@st.composite
def readable_decimals(
    draw: st.DrawFn,
    *,
    min_value: Decimal | int | str = Decimal(0),
    max_value: Decimal | int | str = Decimal(10**6),
    places: int = 6,
) -> Decimal:
    """Decimals in ``[min_value, max_value]`` with at most *places* decimals, built from
    integers so that they shrink to readable values: the whole part towards 0 (or the
    bound nearest 0), then the number of decimals towards none, then the decimals
    towards 0 (``12.5`` rather than ``12.348213``). A value past a bound is the bound,
    so both bounds are drawn too.

    >>> from hypothesis import find
    >>> find(readable_decimals(), lambda d: d > 100 and d != d.to_integral_value())
    Decimal('100.1')
    """
    low, high = Decimal(min_value), Decimal(max_value)
    if low > high:
        raise InvalidArgument(f"min_value={low} is above max_value={high}")
    for name, bound in (("min_value", low), ("max_value", high)):
        exponent = bound.as_tuple().exponent
        if not isinstance(exponent, int) or -exponent > places:
            raise InvalidArgument(f"{name}={bound} has more than places={places} decimals")
    if high <= 0:
        return Decimal(0) - _magnitude(draw, -high, -low, places)
    if low < 0 and draw(st.booleans()):
        return Decimal(0) - _magnitude(draw, Decimal(0), -low, places)
    return _magnitude(draw, max(low, Decimal(0)), high, places)


def _magnitude(draw: st.DrawFn, low: Decimal, high: Decimal, places: int) -> Decimal:
    """A readable decimal in ``[low, high]`` (``0 <= low``): whole part, then decimals."""
    whole = draw(st.integers(min_value=int(low), max_value=int(high)))
    digits = draw(st.integers(min_value=0, max_value=places))
    fraction = draw(st.integers(min_value=0, max_value=10**digits - 1)) if digits else 0
    with localcontext(EXACT):
        value = Decimal(whole) + Decimal(fraction).scaleb(-digits)
    return min(high, max(low, value))


def quantities(
    *, min_value: Decimal = Decimal(0), max_value: Decimal = Decimal(10**6), places: int = 6
) -> st.SearchStrategy[Decimal]:
    """Usage quantities with at most *places* decimals; shrinks to 0, through readable
    values (:func:`readable_decimals`)."""
    if min_value < 0:
        raise InvalidArgument(f"min_value={min_value} must be >= 0; usage is never negative")
    return readable_decimals(min_value=min_value, max_value=max_value, places=places)


def prices(*, max_value: Decimal = Decimal(1000), places: int = 6) -> st.SearchStrategy[Decimal]:
    """Unit prices >= 0 with up to *places* decimals (cloud prices often have 4 to 6),
    never written like float noise (so ``Money(price, ...)`` always accepts them)."""
    return readable_decimals(min_value=Decimal(0), max_value=max_value, places=places).map(
        unlike_float
    )


@st.composite
def money(
    draw: st.DrawFn,
    currencies: st.SearchStrategy[str] | None = None,
    *,
    min_value: Decimal = Decimal(0),
    max_value: Decimal = Decimal(1000),
    places: int | None = None,
) -> Money:
    """Amounts of money in ``[min_value, max_value]`` in one of *currencies* (EUR by
    default), in whole minor units of the currency (0.01 EUR, 1 JPY, 0.001 BHD): what a
    customer can be billed or pay. *places* draws finer amounts (``places=6`` for the
    exact amounts charge models compute before rounding).

    >>> from hypothesis import find
    >>> find(money(st.just("JPY")), lambda m: m.amount > 0)
    Money('1', 'JPY')
    """
    code = draw(currencies if currencies is not None else st.just("EUR"))
    digits = currency_digits(code) if places is None else places
    low = min_value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_CEILING)
    high = max_value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_FLOOR)
    amount = draw(readable_decimals(min_value=low, max_value=high, places=digits))
    return Money(unlike_float(amount), code)


def amounts(
    *, max_magnitude: Decimal = Decimal(10**6), places: int = 6, signed: bool = True
) -> st.SearchStrategy[Decimal]:
    """Exact amounts as charge models return them (negative too when *signed*); shrinks to 0.

    >>> from hypothesis import find
    >>> find(amounts(), lambda a: a < 0) < 0
    True
    """
    low = -max_magnitude if signed else Decimal(0)
    return readable_decimals(min_value=low, max_value=max_magnitude, places=places)


def rounding_policies(
    *,
    modes: st.SearchStrategy[str] | None = None,
    placements: st.SearchStrategy[str] | None = None,
    digits: st.SearchStrategy[int | None] | None = None,
) -> st.SearchStrategy[RoundingPolicy]:
    """Valid :class:`~cloudrate.RoundingPolicy` objects; shrinks to the default policy."""
    return st.builds(
        RoundingPolicy,
        mode=modes if modes is not None else st.sampled_from(("half_up", "half_even")),
        placement=placements if placements is not None else st.sampled_from(("line", "total")),
        digits=digits if digits is not None else st.one_of(st.none(), st.integers(0, 4)),
    )


@st.composite
def tiers(
    draw: st.DrawFn,
    currency: str = "EUR",
    *,
    min_size: int = 1,
    max_size: int = 4,
    flat_prices: bool = True,
) -> list[Tier]:
    """Valid tier lists: ascending ``up_to`` bounds, the last open; shrinks to one tier."""
    if min_size < 1:
        raise InvalidArgument(f"min_size={min_size} must be >= 1; a tier list is never empty")
    bounds = draw(
        st.lists(
            quantities(min_value=Decimal("0.001"), max_value=Decimal(10**5), places=3),
            min_size=min_size - 1,
            max_size=max_size - 1,
            unique=True,
        )
    )
    ups: list[Decimal | None] = [*sorted(bounds), None]
    out = []
    for up_to in ups:
        price = Money(draw(prices(max_value=Decimal(100))), currency)
        flat = None
        if flat_prices and draw(st.booleans()):
            flat = Money(draw(prices(max_value=Decimal(100), places=2)), currency)
        out.append(Tier(up_to, price, flat))
    return out


#: The first day of the month :func:`usage_records` and :func:`usage_for` draw in.
_OCTOBER_1 = date(2026, 10, 1)


def validities(*, around: date = _OCTOBER_1, days: int = 45) -> st.SearchStrategy[Validity | None]:
    """Validity windows holding the day *around* (open on either side, or ending on it,
    or starting on it, or up to *days* days either side), or None; shrinks to None."""
    before = st.integers(min_value=0, max_value=days).map(
        lambda n: date.fromordinal(around.toordinal() - n)
    )
    after = st.integers(min_value=0, max_value=days).map(
        lambda n: date.fromordinal(around.toordinal() + n)
    )
    windows = st.builds(
        Validity, st.one_of(st.none(), st.just(around), before), st.one_of(st.just(around), after)
    ) | st.builds(Validity, st.one_of(st.just(around), before), st.none())
    return st.one_of(st.none(), windows)


def quantity_roundings(
    *,
    precisions: st.SearchStrategy[int] | None = None,
    per: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[QuantityRounding]:
    """Valid :class:`~cloudrate.plans.QuantityRounding` objects: every mode, precisions
    from -3 (thousands) to 12 decimals (the most the columnar engine keeps), of the
    aggregate or of each record; shrinks to rounding the aggregate to whole units."""
    return st.builds(
        QuantityRounding,
        st.sampled_from(("round", "half_even", "ceil", "floor")),
        precisions if precisions is not None else st.integers(-3, 12),
        per=per if per is not None else st.sampled_from(("aggregate", "record")),
    )


#: What a tiered model charges for no usage; shrinks to nothing.
_ZERO_USAGE: st.SearchStrategy[ZeroUsage] = st.sampled_from(ZERO_USAGE)


@st.composite
def charges(
    draw: st.DrawFn, currency: str = "EUR", metric: str = "vcpu_hours", name: str = "charge"
) -> Charge:
    """Usage charges of every tiered model (charging for no usage or not), with or
    without free units and a validity window holding October 1, 2026
    (:func:`validities`)."""
    kind = draw(st.sampled_from(("per_unit", "graduated", "volume", "package")))
    if kind == "per_unit":
        model: object = PerUnit(Money(draw(prices()), currency))
    elif kind == "graduated":
        model = Graduated(tiers=draw(tiers(currency)), zero_usage=draw(_ZERO_USAGE))
    elif kind == "volume":
        model = Volume(tiers=draw(tiers(currency)), zero_usage=draw(_ZERO_USAGE))
    else:
        model = Package(
            draw(quantities(min_value=Decimal(1), max_value=Decimal(1000), places=0)),
            Money(draw(prices()), currency),
        )
    free = draw(st.one_of(st.just(Decimal(0)), quantities(max_value=Decimal(100), places=2)))
    valid = draw(st.one_of(st.none(), st.none(), st.none(), validities()))
    return Charge(name=name, metric=metric, model=model, free_units=free, valid=valid)  # type: ignore[arg-type]


_METRICS = ("vcpu_hours", "memory_gb_hours", "storage_gb_hours", "bandwidth_gb", "public_ip_hours")


def _optional(draw: st.DrawFn, strategy: st.SearchStrategy[Decimal]) -> Decimal | None:
    return draw(st.one_of(st.none(), strategy))


@st.composite
def transaction_percentages(
    draw: st.DrawFn, currency: str = "EUR", *, max_value: Decimal = Decimal(1000)
) -> TransactionPercentage:
    """Transaction percentages with every option on or off: a percent (up to 100), a
    fixed fee, free transactions (0 to 5), a free amount, a minimum and a maximum per
    transaction (the minimum at most the maximum), fees up to *max_value*; shrinks to a
    percent of 0 and no option.

    >>> from hypothesis import find
    >>> find(transaction_percentages(), lambda m: m.min_per_transaction is not None)
    TransactionPercentage(percent=Decimal('0'), currency='EUR', fixed_fee=None, \
free_transactions=0, free_amount=Decimal('0'), min_per_transaction=Money('0', 'EUR'), \
max_per_transaction=None)
    """
    fee = prices(max_value=max_value, places=4)
    low, high = _optional(draw, fee), _optional(draw, fee)
    if low is not None and high is not None and low > high:
        low, high = high, low
    fixed = _optional(draw, fee)
    return TransactionPercentage(
        percent=draw(quantities(max_value=Decimal(100), places=3)),
        currency=currency,
        fixed_fee=None if fixed is None else Money(fixed, currency),
        free_transactions=draw(st.integers(min_value=0, max_value=5)),
        free_amount=draw(st.one_of(st.just(Decimal(0)), quantities(max_value=max_value * 10))),
        min_per_transaction=None if low is None else Money(low, currency),
        max_per_transaction=None if high is None else Money(high, currency),
    )


@st.composite
def graduated_transaction_percentages(
    draw: st.DrawFn, currency: str = "EUR", *, max_size: int = 4
) -> GraduatedTransactionPercentage:
    """Graduated transaction percentages of one to *max_size* ascending tiers, each with
    a percent up to 100 and perhaps a flat price; shrinks to one tier of 0%."""
    bounds = draw(
        st.lists(
            quantities(min_value=Decimal("0.01"), max_value=Decimal(10**5), places=2),
            max_size=max_size - 1,
            unique=True,
        )
    )
    out = []
    for up_to in [*sorted(bounds), None]:
        flat = _optional(draw, prices(max_value=Decimal(500), places=2))
        out.append(
            PercentTier(
                up_to,
                draw(quantities(max_value=Decimal(100), places=3)),
                None if flat is None else Money(flat, currency),
            )
        )
    return GraduatedTransactionPercentage(tiers=out, currency=currency)


@st.composite
def plans(
    draw: st.DrawFn, currencies: st.SearchStrategy[str] | None = None, *, full: bool = False
) -> Plan:
    """Valid plans with one to five usage charges, each on its own well-known metric,
    which may round its quantities.

    With ``full=True`` plans also use the rest of the plan format: declared metrics with
    unit conversion, aggregation and quantity rounding, selectors, charges priced per
    transaction (:func:`transaction_percentages`) and graduated on the transactions'
    total, flat fees with each proration, percentage (flat or graduated, with flat prices
    and a fee for no usage) and minimum charges, a rounding policy, a version with
    effective dates and descriptions.
    """
    currency = draw(currencies if currencies is not None else st.just("EUR"))
    count = draw(st.integers(min_value=1, max_value=len(_METRICS)))
    items = [draw(charges(currency, metric=_METRICS[i], name=f"c{i}")) for i in range(count)]
    if not full:
        plan = Plan(name="generated", currency=currency, charges=items)
        declared = []
        for name in _METRICS[:count]:  # some metrics round their quantities
            rounding = draw(st.one_of(st.none(), quantity_roundings()))
            if rounding is not None:
                known = plan.metric(name)
                declared.append(Metric(name=name, unit=known.unit, rounding=rounding))
        return Plan(name="generated", currency=currency, charges=items, metrics=declared)
    names = [c.name for c in items]
    if draw(st.booleans()):
        offering = {"offering": draw(st.sampled_from(("small", ["small", "large"])))}
        cpus = Compare("cpus", **{draw(st.sampled_from(("gt", "gte"))): Decimal(2)})
        items[0] = Charge(
            name=items[0].name,
            metric=items[0].metric,
            model=items[0].model,
            free_units=items[0].free_units,
            description="Selected by offering",
            service="Compute",
            where=draw(st.sampled_from((offering, All([Match(offering), cpus])))),
            valid=items[0].valid,
        )
    items.append(
        Charge(
            name="payments",
            metric="payments",
            model=draw(transaction_percentages(currency)),
            valid=draw(st.one_of(st.none(), validities())),
        )
    )
    items.append(
        Charge(
            name="payment_tiers",
            metric="payments",
            model=draw(graduated_transaction_percentages(currency)),
            free_units=draw(st.sampled_from((Decimal(0), Decimal(50)))),
            valid=draw(st.one_of(st.none(), validities())),
        )
    )
    fee = Flat(
        Money(draw(prices(places=2)), currency),
        proration=draw(st.sampled_from(PRORATIONS)),
        proration_digits=draw(st.one_of(st.none(), st.integers(0, 9))),
    )
    items.append(Charge(name="vm_fee", metric="vm_running", model=fee))
    items.append(Charge(name="platform", model=Flat(Money(draw(prices(places=2)), currency))))
    of = tuple(draw(st.lists(st.sampled_from(names), min_size=1, unique=True)))
    if draw(st.booleans()):
        support = Percentage(percent=draw(st.decimals(0, 100, places=2)), of=of, currency=currency)
    else:
        bound = draw(quantities(min_value=Decimal(1), max_value=Decimal(10**5), places=2))
        flats = [draw(st.one_of(st.none(), prices(max_value=Decimal(100), places=2))) for _ in "ab"]
        support = Percentage(
            tiers=[
                PercentTier(
                    bound,
                    draw(st.decimals(0, 100, places=2)),
                    None if flats[0] is None else Money(flats[0], currency),
                ),
                PercentTier(
                    None,
                    draw(st.decimals(0, 100, places=2)),
                    None if flats[1] is None else Money(flats[1], currency),
                ),
            ],
            of=of,
            currency=currency,
            zero_usage=draw(_ZERO_USAGE),
        )
    items.append(Charge(name="support", model=support))
    items.append(
        Charge(
            name="minimum",
            model=Minimum(
                amount=Money(draw(prices(places=2)), currency),
                of=draw(st.sampled_from(((), ("support",)))),
            ),
        )
    )
    roundings = st.one_of(st.none(), quantity_roundings())
    metrics = [
        Metric(
            name="public_ip_hours", unit="IP-hour", usage_unit="second", rounding=draw(roundings)
        ),
        Metric(
            name="bandwidth_gb",
            unit="GB",
            usage_unit=draw(st.sampled_from(("byte", "MB"))),
            rounding=draw(roundings),
        ),
        _storage_metric(draw, draw(roundings)),
    ]
    first = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
    last = draw(st.one_of(st.none(), st.dates(min_value=first, max_value=date(2031, 12, 31))))
    return Plan(
        name="generated",
        currency=currency,
        charges=items,
        metrics=metrics,
        timezone=draw(st.sampled_from(("UTC", "Europe/Berlin", "Asia/Kolkata"))),
        version=draw(st.sampled_from(("1", "2026.10", "1.10"))),
        effective_from=first,
        effective_to=last,
        rounding=draw(rounding_policies()),
        description="Generated with every plan feature",
    )


def _storage_metric(draw: st.DrawFn, rounding: QuantityRounding | None) -> Metric:
    """Storage priced per GB-month from GB-hours, each way of counting a month, with
    *rounding* (after the conversion: of the aggregate or of each record)."""
    aggregation: Aggregation = draw(st.sampled_from(("sum", "average", "max")))
    lengths = ("period", "fixed_720", "actual") if aggregation == "sum" else ("period", "fixed_720")
    return Metric(
        name="storage_gb_hours",
        unit="GB-month",
        usage_unit="GB-hour",
        aggregation=aggregation,
        description="Block storage",
        month_hours=draw(st.sampled_from(lengths)),
        rounding=rounding,
    )


_T0 = datetime(2026, 10, 1, tzinfo=UTC)


@st.composite
def usage_records(
    draw: st.DrawFn,
    *,
    accounts: st.SearchStrategy[str] | None = None,
    metrics: st.SearchStrategy[str] | None = None,
    max_quantity: Decimal = Decimal(10**6),
) -> UsageRecord:
    """Usage records inside October 2026 (UTC), one to 24 hours long."""
    hour = draw(st.integers(min_value=0, max_value=30 * 24 - 1))
    length = draw(st.integers(min_value=1, max_value=min(24, 31 * 24 - hour)))
    start = _T0 + timedelta(hours=hour)
    return UsageRecord(
        account=draw(accounts if accounts is not None else st.sampled_from(("a", "b", "c"))),
        metric=draw(metrics if metrics is not None else st.sampled_from(_METRICS)),
        quantity=draw(quantities(max_value=max_quantity)),
        start=start,
        end=start + timedelta(hours=length),
    )


# --- strategies that know a plan --------------------------------------------------------


def charge_points(charge: Charge) -> tuple[Decimal, ...]:
    """The quantities (in the charge's unit, before free units) where *charge*'s price
    changes: 0, its free units, and each tier bound or package size past them.

    >>> from moneyed import Money
    >>> charge = Charge(name="traffic", metric="bandwidth_gb", free_units=Decimal(50),
    ...     model=Graduated(tiers=[Tier(Decimal(1000), Money("0.02", "EUR")),
    ...                            Tier(None, Money("0.01", "EUR"))]))
    >>> charge_points(charge)
    (Decimal('0'), Decimal('50'), Decimal('1050'))
    """
    free = charge.free_units
    points = {Decimal(0), free}
    usage_tiers = isinstance(charge.model, GraduatedTransactionPercentage)
    for tier in getattr(charge.model, "tiers", ()):  # not a Percentage's (of amounts)
        if (isinstance(tier, Tier) or usage_tiers) and tier.up_to is not None:
            points.add(free + tier.up_to)
    free_amount = getattr(charge.model, "free_amount", None)
    if isinstance(free_amount, Decimal) and free_amount:
        points.add(free + free_amount)
    block = getattr(charge.model, "block_size", None)
    if isinstance(block, Decimal):
        points.update((free + block, free + 2 * block))
    return tuple(sorted(points))


def charge_quantities(charge: Charge, *, places: int = 3) -> st.SearchStrategy[Decimal]:
    """Quantities in *charge*'s own unit (GB for a charge priced per GB, whatever unit
    the usage is metered in) that span its free units and tiers: each point of
    :func:`charge_points` exactly, one step of ``10**-places`` either side, and values
    anywhere from 0 to twice the last point."""
    points = charge_points(charge)
    step = Decimal(1).scaleb(-places)
    near = [p + d for p in points for d in (-step, Decimal(0), step) if p + d >= 0]
    top = max(Decimal(10), points[-1] * 2)
    return st.one_of(
        st.sampled_from(sorted(set(near))),
        readable_decimals(min_value=0, max_value=top.quantize(step), places=places),
    )


def _in_usage_unit(plan: Plan, charge: Charge, quantity: Decimal, period: BillingPeriod) -> Decimal:
    """*quantity* in the charge's unit as a quantity in the unit its records carry
    (exact when the conversion allows, else rounded down to 12 decimals)."""
    assert charge.metric is not None, "only usage charges are drawn"
    metric = plan.metric(charge.metric)
    if metric.usage_unit is None:
        return quantity
    if metric.by_month:  # the records are drawn in the month the period starts in
        local = period.start.astimezone(zone(plan.timezone))
        num, den = metric.month_conversion(local.year, local.month)
    else:
        num, den = metric.conversion(period.seconds)
    raw = Fraction(quantity) * Fraction(den) / Fraction(num)
    with localcontext(EXACT):
        whole = Decimal(raw.numerator) / Decimal(raw.denominator)
        if Fraction(whole) != raw:
            whole = whole.quantize(Decimal("1e-12"), rounding=ROUND_FLOOR)
    return whole


def _split(draw: st.DrawFn, total: Decimal) -> list[Decimal]:
    """*total* as one to three parts that add up to it exactly."""
    count = draw(st.integers(min_value=1, max_value=3))
    exponent = total.as_tuple().exponent
    quantum = Decimal(1).scaleb(min(int(exponent), 0) if isinstance(exponent, int) else 0)
    with localcontext(EXACT):
        part = (total / count).quantize(quantum, rounding=ROUND_FLOOR)
        return [part] * (count - 1) + [total - part * (count - 1)]


def _selected(draw: st.DrawFn, where: Condition) -> dict[str, str]:
    """Attributes that *where* selects: the conditions :func:`plans` draws (plain ones,
    numeric comparisons and all of them)."""
    if isinstance(where, All):
        found: dict[str, str] = {}
        for part in where.conditions:
            found.update(_selected(draw, part))
        return found
    if isinstance(where, Compare):
        low = where.gte if where.gte is not None else where.gt
        base = Decimal(0) if low is None else low + (1 if where.gt is not None else 0)
        return {where.attribute: str(base + draw(st.integers(min_value=0, max_value=2)))}
    return {k: draw(st.sampled_from(v)) for k, v in where.items()}


@st.composite
def _charge_records(
    draw: st.DrawFn,
    plan: Plan,
    charge: Charge,
    account: str,
    period: BillingPeriod,
    places: int,
) -> list[UsageRecord]:
    """Records of *account* that give *charge* a quantity drawn across its tiers."""
    assert charge.metric is not None, "only charges with a metric are drawn"
    attributes = _selected(draw, charge.where)
    metric = plan.metric(charge.metric)
    start, hour = period.start, timedelta(hours=1)

    def record(i: int, quantity: Decimal, begin: datetime, end: datetime) -> UsageRecord:
        return UsageRecord(
            account=account,
            metric=charge.metric or "",
            quantity=quantity,
            start=begin,
            end=end,
            resource_id=f"{charge.name}-{i}",
            attributes=attributes,
        )

    if charge.model.basis != "usage":  # a flat fee priced by the time its records cover
        hours = draw(st.integers(min_value=1, max_value=72))
        return [record(0, Decimal(hours), start, start + hours * hour)]
    if prices_transactions(charge.model):
        return draw(_transactions(charge, record, start))
    target = draw(charge_quantities(charge, places=places))
    if metric.aggregation == "unique":
        count = min(int(target), 20)
        return [record(i, Decimal(1), start, start + hour) for i in range(count)]
    raw = _in_usage_unit(plan, charge, target, period)
    if metric.aggregation == "average":  # one level held all period averages to itself
        return [record(0, raw, period.start, period.end)]
    if metric.aggregation in ("max", "latest"):
        return [record(0, raw, start, start + hour)]
    minute = timedelta(minutes=1)
    return [
        record(i, part, start + i * minute, start + i * minute + hour)
        for i, part in enumerate(_split(draw, raw))
    ]


def transaction_points(model: TransactionPercentage) -> tuple[Decimal, ...]:
    """The amounts of one transaction where *model*'s price changes: 0, the free amount
    and the amounts whose cost is the minimum or the maximum.

    >>> model = TransactionPercentage(percent=Decimal(1), currency="USD",
    ...     fixed_fee=Money("0.50", "USD"), min_per_transaction=Money(1, "USD"))
    >>> transaction_points(model)
    (Decimal('0'), Decimal('50.00'))
    """
    points = {Decimal(0), model.free_amount}
    fixed = Decimal(0) if model.fixed_fee is None else model.fixed_fee.amount
    for bound in (model.min_per_transaction, model.max_per_transaction):
        if bound is not None and model.percent and bound.amount > fixed:
            with localcontext(EXACT):
                points.add((bound.amount - fixed) * 100 / model.percent)
    return tuple(sorted(p for p in points if p < 10**12))


@st.composite
def _transactions(
    draw: st.DrawFn, charge: Charge, record: Any, start: datetime
) -> list[UsageRecord]:
    """One to six transactions of *charge*: amounts on and around where a transaction's
    price changes, or anywhere up to twice the largest; some start together."""
    model = getattr(charge.model, "model", charge.model)  # a customer's override wraps it
    points = (
        transaction_points(model) if isinstance(model, TransactionPercentage) else (Decimal(0),)
    )
    step = Decimal("0.001")
    near = sorted({p + d for p in points for d in (-step, Decimal(0), step) if p + d >= 0})
    top = max(Decimal(10), points[-1] * 2).quantize(step, rounding=ROUND_FLOOR)
    amount = st.one_of(st.sampled_from(near), readable_decimals(max_value=top, places=3))
    amounts = draw(st.lists(amount, min_size=1, max_size=6))
    minute = timedelta(minutes=1)
    starts = draw(st.lists(st.integers(0, 3), min_size=len(amounts), max_size=len(amounts)))
    return [
        record(i, q, start + at * minute, start + at * minute + minute)
        for i, (q, at) in enumerate(zip(amounts, starts, strict=True))
    ]


@st.composite
def usage_for(
    draw: st.DrawFn,
    plan: Plan,
    *,
    accounts: st.SearchStrategy[str] | None = None,
    period: BillingPeriod | None = None,
    places: int = 3,
) -> list[UsageRecord]:
    """Usage records for *plan*: for each account and each charge with a metric,
    records whose quantity, converted into the charge's unit and aggregated as the plan
    says, lands on its free units and tier bounds (exactly and one ``10**-places`` step
    either side) or anywhere up to twice the last bound (:func:`charge_quantities`).

    Records are in *period* (by default October 2026 in the plan's timezone), carry the
    attributes the charge's ``where`` selects and a ``resource_id``; a ``sum`` metric's
    quantity is split over one to three records. A byte-metered charge priced per GB
    therefore gets usage in the billions of bytes, across its tiers.

    >>> from hypothesis import find
    >>> from moneyed import Money
    >>> plan = Plan(name="P", currency="EUR", metrics=[Metric(name="bandwidth_gb",
    ...     unit="GB", usage_unit="byte")], charges=[Charge(name="traffic",
    ...     metric="bandwidth_gb", model=PerUnit(Money("0.01", "EUR")))])
    >>> usage = find(usage_for(plan), lambda u: any(r.quantity >= 10**9 for r in u))
    >>> max(r.quantity for r in usage)
    Decimal('1000000000')
    """
    period = period if period is not None else BillingPeriod.month(2026, 10, plan.timezone)
    names = draw(
        st.lists(
            accounts if accounts is not None else st.sampled_from(("a", "b")),
            min_size=1,
            max_size=2,
            unique=True,
        )
    )
    metered = [c for c in plan.charges if c.metric is not None]
    records: list[UsageRecord] = []
    for account in names:
        for charge in metered:
            if draw(st.booleans()) or len(metered) == 1:
                records.extend(draw(_charge_records(plan, charge, account, period, places)))
    return records


# --- promo codes, policies, invoices ------------------------------------------------------


@st.composite
def promo_codes(
    draw: st.DrawFn,
    currency: str = "EUR",
    *,
    charges: Iterable[str] = (),
    metrics: Iterable[str] = (),
) -> PromoCode:
    """Valid promo codes: a percent (above 0, at most 100, up to 2 decimals) or a fixed
    amount in whole minor units of *currency*, limited to some of *charges* or *metrics*
    or to none, with redemption limits and an optional validity window around October
    2026. Shrinks to an unlimited 1% code."""
    prefix = draw(st.sampled_from(("PROMO", "NEWUSER", "SPRING-26")))
    suffix = draw(st.text(alphabet=_CODE_ALPHABET, min_size=4, max_size=8))
    if draw(st.booleans()):
        off: dict[str, object] = {
            "percent": draw(readable_decimals(min_value="0.01", max_value=100, places=2))
        }
        off["percent"] = max(Decimal(1), Decimal(str(off["percent"])))
    else:
        off = {"fixed": draw(money(st.just(currency), min_value=Decimal(1)))}
    valid_from = draw(st.one_of(st.none(), st.just(_T0 - timedelta(days=30))))
    valid_until = draw(st.one_of(st.none(), st.just(_T0 + timedelta(days=60))))
    return PromoCode(
        code=f"{prefix}-{suffix}",
        charges=draw(st.sets(st.sampled_from(tuple(charges)))) if charges else frozenset(),
        metrics=draw(st.sets(st.sampled_from(tuple(metrics)))) if metrics else frozenset(),
        max_redemptions=draw(st.one_of(st.none(), st.integers(min_value=1, max_value=100))),
        max_per_account=draw(st.integers(min_value=1, max_value=3)),
        valid_from=valid_from,
        valid_until=valid_until,
        first_time_only=draw(st.booleans()),
        **off,  # type: ignore[arg-type]
    )


@st.composite
def policies(draw: st.DrawFn, plan: Plan | None = None, *, ip_charge: str = "public_ip") -> Policy:
    """Policies as a portal composes them: the IP rules (default IP charged or not,
    first IP free in either reading, secondary IPs billed or not) on *ip_charge*, then
    up to two promo codes in the plan's currency limited to its charges. Shrinks to the
    empty policy."""
    rules: list[Rule] = []
    if draw(st.booleans()):
        rules.append(DefaultIpCharge(enabled=draw(st.booleans()), charge=ip_charge))
    if draw(st.booleans()):
        rules.append(
            FreeFirstIp(
                enabled=draw(st.booleans()),
                charge=ip_charge,
                free_ips=draw(st.sampled_from(FREE_IPS)),
            )
        )
    if draw(st.booleans()):
        rules.append(SecondaryIpBilling(enabled=draw(st.booleans()), charge=ip_charge))
    currency = "EUR" if plan is None else plan.currency
    names = () if plan is None else tuple(c.name for c in plan.charges)
    codes = draw(st.lists(promo_codes(currency, charges=names), max_size=2))
    rules.extend(PromoDiscount(code) for code in codes)
    return chain(*rules)


_plans = plans  # invoices() takes a strategy of that name


@st.composite
def invoices(
    draw: st.DrawFn,
    plans: st.SearchStrategy[Plan] | None = None,
    *,
    policy: bool = True,
    taxed: bool = True,
) -> Invoice:
    """Draft invoices assembled the way a portal does: a plan (by default
    :func:`plans`), usage for it (:func:`usage_for`), optionally a policy
    (:func:`policies`), then the first account's bill with a VAT rate of 0 to 27%
    (whole or half percents) on the total or per line."""
    plan = draw(plans if plans is not None else _plans())
    period = BillingPeriod.month(2026, 10, plan.timezone)
    usage = draw(usage_for(plan, accounts=st.just("acme"), period=period))
    result = rate(plan, usage, period, accounts=["acme"])
    if policy:
        rules = draw(policies(plan))
        result = rules.apply_result(result, RuleContext.for_result(result, usage))
    tax = None
    if taxed:
        tax = TaxRate(percent=draw(readable_decimals(min_value=0, max_value=27, places=1)))
    return assemble(
        result,
        Customer(id="acme", name="ACME GmbH", country="DE"),
        taxes=tax,
        tax_method=draw(st.sampled_from(("total", "line"))),
    )
