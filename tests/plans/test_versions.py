"""Price versions of a plan (``cloudrate.plans._versions``, ``_read_versions``, ``Plan.at``)."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate import BillingPeriod, Charge, ConfigError, PerUnit, Plan, PlanError, UsageRecord
from cloudrate.plans import (
    Flat,
    Graduated,
    Minimum,
    OneOff,
    Package,
    Percentage,
    PriceVersion,
    TransactionPercentage,
    Volume,
    prices_transactions,
)
from cloudrate.testing import plans, prices

D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")
OCTOBER = BillingPeriod.month(2026, 10, "Europe/Berlin")
CHANGE = datetime(2026, 10, 10, tzinfo=BERLIN)  # 2026-10-09T22:00Z

BASIC = """
name: Basic
currency: EUR
version: "2026.1"
timezone: Europe/Berlin
effective_from: 2026-01-01
effective_to: 2027-12-31
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0125"}
  - name: storage
    metric: storage_gb_hours
    description: Block storage
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.10"}
      - {up_to: null, unit_price: "0.05"}
  - {name: support, model: percentage, percent: 10, of: [compute]}
versions:
  - effective_from: 2026-10-10
    charges:
      - {name: compute, unit_price: "0.015"}
  - effective_from: "2026-11-15T12:00:00+01:00"
    version: winter
    charges:
      - {name: storage, model: volume, description: null}
    add:
      - {name: setup, metric: setup_events, model: one_off, unit_price: "25.00"}
    remove: [support]
"""


def euro(amount: str) -> Money:
    return Money(amount, "EUR")


def compute(price: str) -> Charge:
    return Charge(name="compute", metric="vcpu_hours", model=PerUnit(euro(price)))


def base_plan(**kwargs: object) -> Plan:
    return Plan(
        name="Basic", currency="EUR", timezone="Europe/Berlin", charges=[compute("0.0125")],
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def hours(quantity: str, start: datetime, end: datetime, metric: str = "vcpu_hours"):
    return [UsageRecord(account="acme", metric=metric, quantity=quantity, start=start, end=end)]


class TestPriceVersion:
    def test_needs_an_instant(self):
        """A naive effective_from is refused with how to give a timezone."""
        with pytest.raises(PlanError, match=r"pass an aware datetime such as datetime\(2026"):
            PriceVersion(effective_from=datetime(2026, 10, 10), charges=[])

    def test_versions_must_ascend(self):
        """Versions out of order are refused, naming both instants."""
        late = PriceVersion(effective_from=datetime(2026, 11, 1, tzinfo=BERLIN), charges=[])
        early = PriceVersion(effective_from=datetime(2026, 10, 1, tzinfo=BERLIN), charges=[])
        with pytest.raises(
            PlanError, match=r"versions\[1\] effective_from 2026-10-01 is not after"
        ):
            base_plan(versions=[late, early])

    def test_version_after_the_plan_starts(self):
        """A version at or before the plan's effective_from is refused."""
        at_start = PriceVersion(effective_from=datetime(2026, 1, 1, tzinfo=BERLIN), charges=[])
        with pytest.raises(PlanError, match=r"not after the plan takes effect \(2026-01-01\)"):
            base_plan(effective_from=date(2026, 1, 1), versions=[at_start])
        # one microsecond later is a version of its own
        later = attrs.evolve(at_start, effective_from=at_start.effective_from + timedelta(1e-6))
        assert base_plan(effective_from=date(2026, 1, 1), versions=[later]).versions

    def test_version_before_the_plan_ends(self):
        """effective_to is inclusive: a version on the next day is refused."""
        last_day = PriceVersion(effective_from=datetime(2026, 12, 31, tzinfo=BERLIN), charges=[])
        next_day = PriceVersion(effective_from=datetime(2027, 1, 1, tzinfo=BERLIN), charges=[])
        assert base_plan(effective_to=date(2026, 12, 31), versions=[last_day]).versions
        with pytest.raises(PlanError, match=r"after the plan ends \(2026-12-31\)"):
            base_plan(effective_to=date(2026, 12, 31), versions=[next_day])

    def test_version_charges_are_checked(self):
        """A version's charges meet the plan's rules: currency, unique names, 'of' order."""
        wrong = Charge(name="compute", metric="vcpu_hours", model=PerUnit(Money("0.02", "USD")))
        with pytest.raises(cloudrate.CurrencyMismatchError, match=r"versions\[0\]\.charges\[0\]"):
            base_plan(versions=[PriceVersion(effective_from=CHANGE, charges=[wrong])])
        support = Charge(
            name="support", model=Percentage(percent=D(5), of=("compute",), currency="EUR")
        )
        with pytest.raises(PlanError, match="not a charge declared before this one"):
            base_plan(versions=[PriceVersion(effective_from=CHANGE, charges=[support])])


class TestAt:
    @pytest.fixture(name="plan")
    def _plan(self) -> Plan:
        return cloudrate.load_plan(BASIC)

    def test_before_the_first_version(self, plan):
        """Before the first version, the plan's own charges and version label are in force."""
        first = plan.at(datetime(2026, 10, 9, 23, 59, tzinfo=BERLIN))
        assert first.version == "2026.1"
        assert first.charge("compute").model.unit_price == euro("0.0125")
        assert first.versions == ()
        assert first == attrs.evolve(plan, versions=())

    def test_a_version_starts_at_its_instant(self, plan):
        """The version is in force from its effective_from on, labelled by its date."""
        second = plan.at(CHANGE)
        assert second.version == "2026-10-10"
        assert second.charge("compute").model.unit_price == euro("0.015")
        assert [c.name for c in second.charges] == ["compute", "storage", "support"]

    def test_a_later_version(self, plan):
        """The winter version: storage is priced by volume, support is gone, setup added."""
        winter = plan.at(datetime(2026, 11, 15, 11, tzinfo=UTC))  # 12:00 at +01:00
        assert winter.version == "winter"
        assert [c.name for c in winter.charges] == ["compute", "storage", "setup"]
        storage = winter.charge("storage")
        assert isinstance(storage.model, Volume) and storage.description is None
        assert storage.model.tiers == plan.charge("storage").model.tiers
        assert winter.charge("compute").model.unit_price == euro("0.015")  # carried over
        just_before = plan.at(datetime(2026, 11, 15, 10, 59, tzinfo=UTC))
        assert just_before.version == "2026-10-10"

    def test_label_of_an_instant(self):
        """A version that does not start at local midnight is labelled by its instant."""
        noon = datetime(2026, 10, 10, 12, tzinfo=BERLIN)
        plan = base_plan().with_version(noon, changes=[compute("0.02")])
        assert plan.at(noon).version == "2026-10-10T12:00:00+02:00"

    def test_naive_instant_refused(self, plan):
        """at() needs an aware datetime."""
        with pytest.raises(PlanError, match=r"instant: .* is not an instant"):
            plan.at(datetime(2026, 10, 10))

    def test_plan_without_versions(self):
        """at() of a plain plan is the plan."""
        assert base_plan().at(CHANGE) == base_plan()


class TestChangesWithin:
    def test_boundaries_strictly_inside(self):
        """Only instants strictly between start and end are listed, in the plan's timezone."""
        plan = cloudrate.load_plan(BASIC)
        november = BillingPeriod.month(2026, 11, "Europe/Berlin")
        assert plan.changes_within(OCTOBER.start, OCTOBER.end) == (CHANGE,)
        assert plan.changes_within(OCTOBER.start, november.end) == (
            CHANGE,
            datetime(2026, 11, 15, 12, tzinfo=BERLIN),
        )
        assert plan.changes_within(CHANGE, november.start) == ()  # at the start: no split
        assert plan.changes_within(OCTOBER.start, CHANGE) == ()  # at the end: no split
        assert plan.changes_within(OCTOBER.start, OCTOBER.end)[0].tzinfo == BERLIN

    def test_naive_bounds_refused(self):
        with pytest.raises(PlanError, match=r"start: .* is not an instant"):
            base_plan().changes_within(datetime(2026, 10, 1), OCTOBER.end)


class TestWithVersion:
    def test_changes_add_remove(self):
        """A version from the last: changes replace by name, adds append, removes drop."""
        setup = Charge(name="setup", metric="setup_events", model=OneOff(euro("25")))
        fee = Charge(name="fee", model=Flat(euro("5")))
        plan = base_plan().with_version(CHANGE, add=[setup, fee])
        plan = plan.with_version(
            CHANGE + timedelta(days=5), changes=[compute("0.02")], remove=["fee"]
        )
        assert [c.name for c in plan.versions[0].charges] == ["compute", "setup", "fee"]
        assert plan.versions[1].charges == (compute("0.02"), setup)

    def test_unknown_names_refused(self):
        """Changing or removing a charge the plan does not have says to add it instead."""
        with pytest.raises(PlanError, match="no charge 'compte' to change or remove"):
            base_plan().with_version(CHANGE, remove=["compte"])
        with pytest.raises(PlanError, match="'compute' is already a charge"):
            base_plan().with_version(CHANGE, add=[compute("0.02")])


class TestRating:
    @pytest.fixture(name="plan")
    def _plan(self) -> Plan:
        return cloudrate.load_plan(BASIC)

    def test_period_before_the_first_version(self, plan):
        """September is rated as is: 720 x 0.0125 = 9.00, support 0.90."""
        september = BillingPeriod.month(2026, 9, "Europe/Berlin")
        bill = cloudrate.rate(plan, hours("720", september.start, september.end), september)
        assert bill.bill("acme").total.amount == D("9.90")

    def test_period_with_a_change_refused(self, plan):
        """A period a version starts in is refused, saying to rate each part with at()."""
        with pytest.raises(
            PlanError, match=r"changes prices within the period 2026-10 \(at 2026-10-10\)"
        ):
            cloudrate.rate(plan, hours("1", OCTOBER.start, CHANGE), OCTOBER)

    def test_period_in_a_later_version_refused(self, plan):
        """A period priced by a later version is refused, naming the version and at()."""
        december = BillingPeriod.month(2026, 12, "Europe/Berlin")
        with pytest.raises(PlanError, match=r"priced by version winter .* rate plan\.at"):
            cloudrate.rate(plan, [], december)

    def test_the_columnar_engine_refuses_too(self, plan):
        """Both engines go through the same check."""
        pytest.importorskip("pyarrow")
        from cloudrate.rating.columnar import account_totals, rate_table, to_table

        table = to_table(hours("1", OCTOBER.start, CHANGE))
        with pytest.raises(PlanError, match="changes prices within the period"):
            rate_table(plan, table, OCTOBER)
        with pytest.raises(PlanError, match="changes prices within the period"):
            account_totals(plan, table, OCTOBER)

    def test_parts_rated_with_at(self, plan):
        """240 hours before the change at 0.0125 (3.00 + 10% = 3.30) and 480 after it at
        0.015 (7.20 + 10% = 7.92)."""
        before = BillingPeriod(OCTOBER.start, CHANGE, "Europe/Berlin")
        after = BillingPeriod(CHANGE, OCTOBER.end, "Europe/Berlin")
        first = cloudrate.rate(plan.at(before.start), hours("240", before.start, CHANGE), before)
        second = cloudrate.rate(plan.at(after.start), hours("480", CHANGE, after.end), after)
        assert first.bill("acme").total.amount == D("3.30")
        assert second.bill("acme").total.amount == D("7.92")
        assert second.to_dict()["plan"] == {"name": "Basic", "version": "2026-10-10"}

    def test_effective_dates_still_refuse(self):
        """effective_from and effective_to keep refusing periods outside them."""
        plan = base_plan(effective_from=date(2026, 10, 5))
        with pytest.raises(PlanError, match="takes effect on 2026-10-05, after the period starts"):
            cloudrate.rate(plan, [], OCTOBER)


def _problems(text: str) -> list[tuple[str, str, int | None]]:
    with pytest.raises(ConfigError) as info:
        cloudrate.load_plan(textwrap.dedent(text))
    return [(p.path, p.code, p.line) for p in info.value.problems]


HEAD = """\
name: Basic
currency: EUR
timezone: Europe/Berlin
effective_from: 2026-01-01
effective_to: 2027-06-30
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: 0.0125}
  - {name: support, model: percentage, percent: 10, of: [compute]}
versions:
"""


class TestLoad:
    def test_the_document(self):
        """Dates are local midnights, instants keep their offset, labels are kept."""
        plan = cloudrate.load_plan(BASIC)
        first, winter = plan.versions
        assert first.effective_from == datetime(2026, 10, 9, 22, tzinfo=UTC)
        assert first.version is None
        assert winter.effective_from == datetime(2026, 11, 15, 11, tzinfo=UTC)
        assert winter.version == "winter"

    def test_every_problem_at_once(self):
        """Order, plan bounds, unknown names, duplicates: all reported, with lines."""
        got = _problems(
            HEAD
            + """\
  - effective_from: 2026-11-01
    charges:
      - {name: compte, unit_price: "0.015"}
      - {name: compute, unit_prise: "0.015"}
  - effective_from: 2026-10-01
    remove: [compute, nope]
  - effective_from: 2025-12-01
    add:
      - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: 1}
  - effective_from: 2027-07-01
    charges:
      - {name: compute, unit_price: 1}
    remove: [compute]
"""
        )
        # HEAD is 9 lines: the first version starts on line 10
        assert got == [
            ("versions[0].charges[0].name", "unknown_charge", 12),
            ("versions[0].charges[1].unit_prise", "unknown_key", 13),
            ("versions[1].effective_from", "versions_not_ascending", 14),
            ("versions[1].remove", "unknown_charge", 15),
            ("versions[1].remove", "still_named", 15),
            ("versions[2].effective_from", "versions_not_ascending", 16),
            ("versions[2].effective_from", "version_before_plan", 16),
            ("versions[3].effective_from", "version_after_plan", 19),
            ("versions[3].charges[0].name", "duplicate_change", 21),
        ]

    def test_messages_say_the_fix(self):
        """An unknown name suggests the nearest; a removed 'of' says to change the charge."""
        with pytest.raises(ConfigError) as info:
            cloudrate.load_plan(
                HEAD + "  - effective_from: 2026-11-01\n    charges: [{name: compte}]\n"
                "    remove: [compute]\n"
            )
        text = str(info.value)
        assert "did you mean 'compute'? (got 'compte') [unknown_charge]" in text
        assert "charge 'support' is priced from it (its 'of'); change support's of" in text

    def test_instants(self):
        """A naive instant or an unreadable one is a problem saying what to write."""
        got = _problems(
            HEAD
            + """\
  - effective_from: "2026-11-01T00:00:00"
  - effective_from: "next week"
  - version: v3
"""
        )
        assert got == [
            ("versions[0].effective_from", "no_offset", 10),
            ("versions[1].effective_from", "bad_instant", 11),
            ("versions[2].effective_from", "missing", 12),
        ]

    def test_float_price_in_a_version(self):
        """A float in a version's change is refused like any price."""
        data = cloudrate.dump_plan(cloudrate.load_plan(BASIC))
        data["versions"][0]["charges"][0]["unit_price"] = 0.015
        with pytest.raises(ConfigError) as info:
            cloudrate.load_plan(data)
        (problem,) = info.value.problems
        assert (problem.path, problem.code) == ("versions[0].charges[0].unit_price", "float")
        assert "write '0.015' as a string or Decimal" in problem.message

    def test_added_charge_problems(self):
        """An added charge is read like a plan's: its own problems, at its path."""
        got = _problems(
            HEAD
            + """\
  - effective_from: 2026-11-01
    add:
      - {name: setup, metric: setup_events, model: one_of, unit_price: 25}
      - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: 1}
"""
        )
        assert got == [
            ("versions[0].add[0].model", "unknown_model", 12),
            ("versions[0].add[1].name", "duplicate_charge", 13),
        ]

    def test_problems_of_the_plan_are_not_repeated(self):
        """A version changing a charge that has problems of its own adds none."""
        got = _problems(
            """\
            name: Basic
            currency: EUR
            charges:
              - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: -1}
            versions:
              - effective_from: 2026-11-01
                charges: [{name: compute, unit_price: 2}]
            """
        )
        assert got == [("charges[0].unit_price", "negative_price", 4)]

    def test_null_drops_a_key_and_a_new_model_its_keys(self):
        """null gives a key its default back; a new model keeps only the keys it reads."""
        plan = cloudrate.load_plan(
            HEAD
            + """\
  - effective_from: 2026-11-01
    charges:
      - {name: compute, model: package, block_size: 100, block_price: 1, description: CPU}
  - effective_from: 2026-12-01
    charges:
      - {name: compute, description: null, model: one_off, unit_price: 2}
"""
        )
        first, second = plan.versions
        assert first.charges[0] == Charge(
            name="compute", metric="vcpu_hours", description="CPU",
            model=Package(D(100), euro("1")),
        )  # fmt: skip
        assert second.charges[0] == Charge(
            name="compute", metric="vcpu_hours", model=OneOff(euro("2"))
        )


class TestDump:
    def test_versions_are_written_as_changes(self):
        """The dump gives each version's changes from the one before (hand-written)."""
        data = cloudrate.dump_plan(cloudrate.load_plan(BASIC))
        assert data["versions"] == [
            {
                "effective_from": "2026-10-10",
                "charges": [{"name": "compute", "unit_price": "0.015"}],
            },
            {
                "effective_from": "2026-11-15T12:00:00+01:00",
                "version": "winter",
                "charges": [{"name": "storage", "description": None, "model": "volume"}],
                "add": [
                    {
                        "name": "setup",
                        "metric": "setup_events",
                        "model": "one_off",
                        "unit_price": "25.00",
                    }
                ],
                "remove": ["support"],
            },
        ]

    def test_reordered_charges_are_re_added(self):
        """A version that reorders charges is written as remove + add, and loads back."""
        storage = Charge(name="storage", metric="storage_gb_hours", model=PerUnit(euro("0.1")))
        plan = Plan(name="P", currency="EUR", charges=[compute("1"), storage])
        swapped = attrs.evolve(
            plan, versions=[PriceVersion(effective_from=CHANGE, charges=[storage, compute("1")])]
        )
        data = cloudrate.dump_plan(swapped)
        assert data["versions"][0]["remove"] == ["compute"]
        assert [c["name"] for c in data["versions"][0]["add"]] == ["compute"]
        assert cloudrate.load_plan(data) == swapped

    @pytest.mark.parametrize("fold", [0, 1])
    def test_a_version_in_the_repeated_hour_loads_back_equal(self, fold: int) -> None:
        """02:30 in Berlin on the day clocks go back happens twice; either one is written
        with its offset and read back as the same instant, and the plans are equal."""
        repeated = datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN, fold=fold)
        plan = Plan(name="P", currency="EUR", timezone="Europe/Berlin", charges=[compute("1")])
        changed = plan.with_version(repeated, changes=[compute("2")])
        back = cloudrate.load_plan(cloudrate.dump_plan(changed))
        assert back.versions[0].effective_from.utcoffset() == repeated.utcoffset()
        assert back == changed
        assert cloudrate.load_plan(cloudrate.plan_to_yaml(changed)) == changed
        other = plan.with_version(datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN, fold=1 - fold),
                                  changes=[compute("2")])  # fmt: skip
        assert back != other  # the other 02:30 is another instant

    @given(st.data())
    def test_round_trip(self, data):
        """dump_plan / plan_to_yaml then load_plan give an equal plan, versions included."""
        plan = data.draw(versioned_plans())
        assert cloudrate.load_plan(cloudrate.dump_plan(plan)) == plan
        text = cloudrate.plan_to_yaml(plan)
        assert cloudrate.load_plan(text) == plan


def _changed(draw: st.DrawFn, charge: Charge, currency: str) -> Charge:
    """*charge* with a new price, model or common field, as a later version might have."""
    model = charge.model
    price = Money(draw(prices(places=4)), currency)
    if isinstance(model, PerUnit | OneOff):
        kind = draw(st.sampled_from((PerUnit, OneOff)))
        new: object = kind(draw(st.sampled_from((price, model.unit_price))))
    elif isinstance(model, Graduated | Volume):
        new = draw(st.sampled_from((Graduated, Volume)))(tiers=model.tiers)
    elif isinstance(model, Package):
        new = attrs.evolve(model, block_price=price)
    elif isinstance(model, Flat):
        new = attrs.evolve(model, proration=draw(st.sampled_from(("days", "seconds", "none"))))
    elif isinstance(model, Percentage) and model.percent is not None:
        new = attrs.evolve(model, percent=draw(st.decimals(0, 100, places=1)))
    elif isinstance(model, Minimum):
        new = attrs.evolve(model, amount=price)
    elif isinstance(model, TransactionPercentage):
        new = attrs.evolve(model, percent=draw(st.decimals(0, 100, places=1)), fixed_fee=price)
    else:
        new = model
    changes: dict[str, object] = {"model": new}
    changes["description"] = draw(st.sampled_from((None, charge.description, "Changed")))
    if model.basis == "usage" and not prices_transactions(model):
        changes["free_units"] = draw(st.sampled_from((charge.free_units, D(0), D("2.5"))))
    return attrs.evolve(charge, **changes)


def _removable(charges: list[Charge]) -> list[str]:
    """Charges no percentage or minimum names."""
    named = {n for c in charges for n in getattr(c.model, "of", ())}
    return [c.name for c in charges if c.name not in named]


@st.composite
def versioned_plans(draw: st.DrawFn) -> Plan:
    """A generated plan with one to three versions that change, add, remove and reorder
    charges, at local midnights and at instants in other offsets."""
    plan = draw(plans(full=True))
    tz = ZoneInfo(plan.timezone)
    start = datetime.combine(plan.effective_from, datetime.min.time(), tzinfo=tz)
    last = plan.effective_to or plan.effective_from + timedelta(days=900)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    span = int((end - start).total_seconds() // 3600)
    offsets = sorted(draw(st.sets(st.integers(1, span - 1), min_size=1, max_size=3)))
    versions, previous = [], list(plan.charges)
    for number, hours_in in enumerate(offsets):
        instant = (start.astimezone(UTC) + timedelta(hours=hours_in)).astimezone(
            draw(st.sampled_from((tz, UTC, ZoneInfo("Asia/Kolkata"))))
        )
        if draw(st.booleans()):  # a local midnight, written as a date
            day = instant.astimezone(tz).date()
            midnight = datetime.combine(day, datetime.min.time(), tzinfo=tz)
            if midnight > start and midnight > (versions[-1].effective_from if versions else start):
                instant = midnight
        if versions and instant <= versions[-1].effective_from:
            continue
        charges = [_changed(draw, c, plan.currency) if draw(st.booleans()) else c for c in previous]
        for name in draw(st.lists(st.sampled_from(_removable(charges)), unique=True, max_size=2)):
            charges = [c for c in charges if c.name != name]
        if draw(st.booleans()) and (movable := _removable(charges)):
            moved = draw(st.sampled_from(movable))
            charges = [c for c in charges if c.name != moved] + [
                c for c in charges if c.name == moved
            ]
        if draw(st.booleans()):
            charges.append(
                Charge(
                    name=f"extra{number}",
                    metric="setup_events",
                    model=OneOff(Money(draw(prices(places=2)), plan.currency)),
                )
            )
        versions.append(
            PriceVersion(
                effective_from=instant,
                charges=charges,
                version=draw(st.sampled_from((None, f"v{number + 2}", "2027.1"))),
            )
        )
        previous = charges
    return attrs.evolve(plan, versions=versions)
