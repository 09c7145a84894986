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

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

try:
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
except ImportError as exc:  # pragma: no cover - depends on the environment
    from cloudrate.exceptions import MissingExtraError

    raise MissingExtraError("cloudrate.testing", "hypothesis", "testing") from exc

from moneyed import Money

from cloudrate._money import RoundingPolicy
from cloudrate.plans import (
    Charge,
    Flat,
    Graduated,
    Metric,
    Minimum,
    Package,
    Percentage,
    PercentTier,
    PerUnit,
    Plan,
    Tier,
    Volume,
)
from cloudrate.usage import UsageRecord

__all__ = [
    "amounts",
    "charges",
    "currencies",
    "money",
    "plans",
    "prices",
    "quantities",
    "rounding_policies",
    "tiers",
    "usage_records",
]

_CURRENCIES = ("EUR", "USD", "GBP", "JPY", "CHF", "INR", "BHD")


def currencies() -> st.SearchStrategy[str]:
    """ISO 4217 codes with 0, 2 and 3 minor digits; shrinks to EUR."""
    return st.sampled_from(_CURRENCIES)


def quantities(
    *, min_value: Decimal = Decimal(0), max_value: Decimal = Decimal(10**6), places: int = 6
) -> st.SearchStrategy[Decimal]:
    """Usage quantities with at most *places* decimals; shrinks to 0."""
    if min_value < 0:
        raise InvalidArgument(f"min_value={min_value} must be >= 0; usage is never negative")
    return st.decimals(min_value=min_value, max_value=max_value, places=places)


def prices(*, max_value: Decimal = Decimal(1000), places: int = 6) -> st.SearchStrategy[Decimal]:
    """Unit prices >= 0 with up to *places* decimals (cloud prices often have 4 to 6)."""
    return st.decimals(min_value=Decimal(0), max_value=max_value, places=places)


def money(
    currencies: st.SearchStrategy[str] | None = None, *, max_value: Decimal = Decimal(1000)
) -> st.SearchStrategy[Money]:
    """Amounts of money >= 0 in one of *currencies*."""
    codes = currencies if currencies is not None else st.just("EUR")
    return st.builds(Money, prices(max_value=max_value), codes)


def amounts(
    *, max_magnitude: Decimal = Decimal(10**6), places: int = 6, signed: bool = True
) -> st.SearchStrategy[Decimal]:
    """Exact amounts as charge models return them (negative too when *signed*); shrinks to 0.

    >>> from hypothesis import find
    >>> find(amounts(), lambda a: a < 0) < 0
    True
    """
    low = -max_magnitude if signed else Decimal(0)
    return st.decimals(min_value=low, max_value=max_magnitude, places=places)


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


@st.composite
def charges(
    draw: st.DrawFn, currency: str = "EUR", metric: str = "vcpu_hours", name: str = "charge"
) -> Charge:
    """Usage charges of every tiered model, with or without free units."""
    kind = draw(st.sampled_from(("per_unit", "graduated", "volume", "package")))
    if kind == "per_unit":
        model: object = PerUnit(Money(draw(prices()), currency))
    elif kind == "graduated":
        model = Graduated(tiers=draw(tiers(currency)))
    elif kind == "volume":
        model = Volume(tiers=draw(tiers(currency)))
    else:
        model = Package(
            draw(quantities(min_value=Decimal(1), max_value=Decimal(1000), places=0)),
            Money(draw(prices()), currency),
        )
    free = draw(st.one_of(st.just(Decimal(0)), quantities(max_value=Decimal(100), places=2)))
    return Charge(name=name, metric=metric, model=model, free_units=free)  # type: ignore[arg-type]


_METRICS = ("vcpu_hours", "memory_gb_hours", "storage_gb_hours", "bandwidth_gb", "public_ip_hours")


@st.composite
def plans(
    draw: st.DrawFn, currencies: st.SearchStrategy[str] | None = None, *, full: bool = False
) -> Plan:
    """Valid plans with one to five usage charges, each on its own well-known metric.

    With ``full=True`` plans also use the rest of the plan format: declared metrics with
    unit conversion and aggregation, selectors, flat fees with each proration, percentage
    (flat or graduated) and minimum charges, a rounding policy, a version with effective
    dates and descriptions.
    """
    currency = draw(currencies if currencies is not None else st.just("EUR"))
    count = draw(st.integers(min_value=1, max_value=len(_METRICS)))
    items = [draw(charges(currency, metric=_METRICS[i], name=f"c{i}")) for i in range(count)]
    if not full:
        return Plan(name="generated", currency=currency, charges=items)
    names = [c.name for c in items]
    if draw(st.booleans()):
        items[0] = Charge(
            name=items[0].name,
            metric=items[0].metric,
            model=items[0].model,
            free_units=items[0].free_units,
            description="Selected by offering",
            service="Compute",
            where={"offering": draw(st.sampled_from(("small", ["small", "large"])))},
        )
    fee = Flat(
        Money(draw(prices(places=2)), currency),
        proration=draw(st.sampled_from(("days", "seconds", "days30", "none"))),
        proration_digits=draw(st.one_of(st.none(), st.integers(0, 6))),
    )
    items.append(Charge(name="vm_fee", metric="vm_running", model=fee))
    items.append(Charge(name="platform", model=Flat(Money(draw(prices(places=2)), currency))))
    of = tuple(draw(st.lists(st.sampled_from(names), min_size=1, unique=True)))
    if draw(st.booleans()):
        support = Percentage(percent=draw(st.decimals(0, 100, places=2)), of=of, currency=currency)
    else:
        bound = draw(quantities(min_value=Decimal(1), max_value=Decimal(10**5), places=2))
        support = Percentage(
            tiers=[
                PercentTier(bound, draw(st.decimals(0, 100, places=2))),
                PercentTier(None, draw(st.decimals(0, 100, places=2))),
            ],
            of=of,
            currency=currency,
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
    metrics = [
        Metric(name="public_ip_hours", unit="IP-hour", usage_unit="second"),
        Metric(name="bandwidth_gb", unit="GB", usage_unit=draw(st.sampled_from(("byte", "MB")))),
        Metric(
            name="storage_gb_hours",
            unit="GB-month",
            usage_unit="GB-hour",
            aggregation=draw(st.sampled_from(("sum", "average", "max"))),
            description="Block storage",
        ),
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
