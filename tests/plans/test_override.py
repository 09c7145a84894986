"""Per-customer overrides (``cloudrate.plans._override``, ``_overridden``, ``_read_overrides``)."""

from __future__ import annotations

import pickle
import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate import (
    BillingPeriod,
    Charge,
    ConfigError,
    CurrencyMismatchError,
    FloatNotAllowedError,
    PerUnit,
    Plan,
    PlanError,
    RoundingPolicy,
    Tier,
    UsageRecord,
)
from cloudrate._documents import FieldReader, load_document
from cloudrate.plans import (
    ChargeOverride,
    Flat,
    Minimum,
    OtherCharges,
    Overridden,
    Percentage,
    Prorated,
    VectorPricing,
    dump_overrides,
    read_overrides,
)
from cloudrate.testing import quantities

D = Decimal
T0 = datetime(2026, 10, 1, tzinfo=UTC)

STANDARD = """
name: Standard
currency: EUR
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0125"}
  - name: storage
    metric: storage_gb_hours
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.10", flat_price: "1.00"}
      - {up_to: null, unit_price: "0.05"}
  - {name: backup, metric: backup_gb, model: package, block_size: 100, block_price: "5.00"}
  - {name: setup, metric: setup_events, model: one_off, unit_price: "25.00"}
  - {name: platform, model: flat, price: "5.00"}
"""


def euro(amount: str) -> Money:
    return Money(amount, "EUR")


def rec(account: str, metric: str, quantity: object, hour: int = 0) -> UsageRecord:
    start = T0 + timedelta(hours=hour)
    return UsageRecord(
        account=account,
        metric=metric,
        quantity=quantity,  # type: ignore[arg-type]
        start=start,
        end=start + timedelta(hours=1),
    )


@pytest.fixture(name="standard")
def _standard() -> Plan:
    return cloudrate.load_plan(STANDARD)


ACME = [
    ChargeOverride(charge="compute", unit_price=euro("0.010"), discount_percent=D("12.5")),
    ChargeOverride(charge="storage", discount_percent=D(20)),
    ChargeOverride(charge="backup", block_price=euro("4.00")),
    ChargeOverride(charge="setup", discount_percent=D(100)),
    ChargeOverride(charge="platform", discount_percent=D(10)),
]
USAGE = [
    rec("acme", "vcpu_hours", "720"),
    rec("acme", "storage_gb_hours", "150", 1),
    rec("acme", "backup_gb", "250", 2),
    rec("acme", "setup_events", "1", 3),
    rec("acme", "setup_events", "1", 4),
    rec("b", "vcpu_hours", "1000.5", 5),
]


class TestChargeOverride:
    def test_needs_something_to_change(self):
        """An override that changes nothing is refused, listing what it can change."""
        with pytest.raises(PlanError, match="nothing to change; give one of unit_price, tiers"):
            ChargeOverride(charge="compute")

    def test_floats_refused(self):
        """Floats are refused with what to pass instead."""
        with pytest.raises(FloatNotAllowedError, match=r"pass Decimal\('10.0'\)"):
            ChargeOverride(charge="compute", discount_percent=10.0)
        with pytest.raises(FloatNotAllowedError):
            ChargeOverride(charge="compute", unit_price=0.01)

    @pytest.mark.parametrize("percent", ["0", "-5", "100.01"])
    def test_discount_range(self, percent):
        """A discount is above 0 and at most 100."""
        with pytest.raises(PlanError, match="must be above 0 and at most 100"):
            ChargeOverride(charge="compute", discount_percent=percent)

    def test_negative_price_refused(self):
        with pytest.raises(PlanError, match="is negative"):
            ChargeOverride(charge="compute", unit_price=euro("-0.01"))

    def test_tiers_checked(self):
        """Override tiers obey the tier rules (the last is open)."""
        with pytest.raises(PlanError, match="last tier must have up_to=None"):
            ChargeOverride(charge="storage", tiers=[Tier(D(10), euro("1"))])

    def test_to_dict(self):
        """Plain data: amounts as decimal strings, tiers as in plans, no charge name."""
        override = ChargeOverride(
            charge="storage",
            tiers=[Tier(None, euro("0.08"))],
            free_units=D(5),
            discount_percent=D(3),
        )
        assert override.to_dict() == {
            "tiers": [{"up_to": None, "unit_price": "0.08"}],
            "free_units": "5",
            "discount_percent": "3",
        }


class TestWithOverrides:
    def test_unit_price(self, standard):
        """720 hours at the contract's 0.010 are 7.20, and the explanation says so."""
        plan = standard.with_overrides(
            [ChargeOverride(charge="compute", unit_price=euro("0.010"))], label="ACME contract"
        )
        priced = plan.charge("compute").model.price(D(720))
        assert priced.amount == euro("7.20")
        assert priced.explain() == (
            "override (ACME contract): unit price 0.010 EUR instead of 0.0125 EUR\n"
            "per unit: 720 x 0.010 EUR = 7.200 EUR"
        )
        assert standard.charge("compute").model.price(D(720)).amount == euro("9.00")  # unchanged

    def test_discount(self, standard):
        """20% off graduated storage: (10.00 + 1.00 + 2.50) x 0.8 = 10.80; the details add up."""
        plan = standard.with_overrides(
            [ChargeOverride(charge="storage", discount_percent=D(20))], label="ACME"
        )
        priced = plan.charge("storage").model.price(D(150))
        assert priced.amount.amount == D("10.80")
        assert priced.details[-1].label == "discount 20% (ACME)"
        assert priced.details[-1].amount.amount == D("-2.70")
        assert sum((d.amount.amount for d in priced.details), D(0)) == D("10.80")

    def test_wrapper_keeps_kind_basis_and_protocols(self, standard):
        """The overridden model has the wrapped model's kind, basis and protocols."""
        support = Charge(
            name="support", model=Percentage(percent=D(10), of=("compute",), currency="EUR")
        )
        plan = Plan(name="P", currency="EUR", charges=[*standard.charges, support])
        plan = plan.with_overrides(
            [ChargeOverride(charge=c.name, discount_percent=D(5)) for c in plan.charges],
            label="x",
        )
        models = {c.name: c.model for c in plan.charges}
        assert all(isinstance(m, Overridden) for m in models.values())
        assert [(m.kind, m.basis) for m in models.values()] == [
            ("per_unit", "usage"),
            ("graduated", "usage"),
            ("package", "usage"),
            ("one_off", "usage"),
            ("flat", "period"),
            ("percentage", "charges"),
        ]
        vector = {n for n, m in models.items() if isinstance(m, VectorPricing)}
        assert vector == {"compute", "storage", "backup", "setup"}
        assert {n for n, m in models.items() if isinstance(m, Prorated)} == {"platform"}
        assert {n for n, m in models.items() if isinstance(m, OtherCharges)} == {"support"}
        assert models["support"].of == ("compute",)
        assert models["compute"].base == standard.charge("compute").model

    def test_line_unit_price_is_what_the_customer_pays(self, standard):
        """A discounted per-unit line shows 0.0125 x 0.9 = 0.01125 per unit."""
        plan = standard.with_overrides(
            [ChargeOverride(charge="compute", discount_percent=D(10))], label="x"
        )
        assert plan.charge("compute").model.line_unit_price == euro("0.01125")
        assert plan.charge("storage").model.line_unit_price is None

    def test_free_units_and_tiers(self, standard):
        """New tiers and free units: 150 used, 50 free, 100 at 0.08 = 8.00."""
        plan = standard.with_overrides(
            [ChargeOverride(charge="storage", tiers=[Tier(None, euro("0.08"))], free_units=D(50))],
            label="ACME",
        )
        line = (
            cloudrate.rate(plan, [rec("acme", "storage_gb_hours", "150")])
            .bill("acme")
            .line("storage")
        )
        assert (line.free_quantity, line.quantity, line.rounded.amount) == (
            D(50),
            D(100),
            D("8.00"),
        )
        assert line.explain() == (
            "free units: 50 of 150 GB-hour\n"
            "override (ACME): tiers 0.08 EUR above 0 instead of 0.10 EUR to 100 "
            "(+1.00 EUR flat), 0.05 EUR above 100\n"
            "override (ACME): free units 50 instead of 0\n"
            "tier 1 (above 0): 100 x 0.08 EUR = 8.00 EUR"
        )

    def test_minimum_and_percentage(self):
        """A minimum of 30 instead of 25; support at 10% of the half-price compute."""
        plan = cloudrate.load_plan(
            "name: M\ncurrency: EUR\ncharges:\n"
            "  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: '0.0125'}\n"
            "  - {name: support, model: percentage, percent: 10, of: [compute]}\n"
            "  - {name: minimum, model: minimum, amount: '25.00'}\n"
        )
        plan = plan.with_overrides(
            [
                ChargeOverride(charge="compute", discount_percent=D(50)),
                ChargeOverride(charge="minimum", amount=euro("30.00")),
            ],
            label="ACME",
        )
        bill = cloudrate.rate(plan, [rec("acme", "vcpu_hours", "800")]).bill("acme")
        # compute 800 x 0.0125 = 10.00, less 50% = 5.00; support 0.50; minimum 30 - 5.50
        assert [(x.charge, x.rounded.amount) for x in bill.lines] == [
            ("compute", D("5.00")),
            ("support", D("0.50")),
            ("minimum", D("24.50")),
        ]
        assert bill.line("minimum").explain() == (
            "override (ACME): minimum 30.00 EUR instead of 25.00 EUR\n"
            "minimum 30.00 EUR, spent 5.50 EUR: 24.50 EUR"
        )

    def test_flat_fee_per_resource(self):
        """A per-VM licence at 12.00 prorated 11/31 days, less 25%: 12 x 11/31 x 0.75."""
        plan = Plan(
            name="L",
            currency="EUR",
            charges=[Charge(name="licence", metric="vm_running", model=Flat(euro("12.00")))],
        ).with_overrides([ChargeOverride(charge="licence", discount_percent=D(25))], label="x")
        start = datetime(2026, 10, 21, 9, tzinfo=UTC)
        record = UsageRecord(
            account="acme", metric="vm_running", quantity=1, start=start,
            end=datetime(2026, 11, 1, tzinfo=UTC), resource_id="vm-1",
        )  # fmt: skip
        line = cloudrate.rate(plan, [record]).bill("acme").line("licence")
        # 12 x 11 / 31 = 4.2580645..., x 0.75 = 3.1935483... -> 3.19
        assert line.rounded.amount == D("3.19")

    def test_no_discount_on_a_minimum(self):
        """A discount of a minimum's true-up is refused: override its amount instead."""
        plan = Plan(
            name="P", currency="EUR", charges=[Charge(name="m", model=Minimum(amount=euro("1")))]
        )
        with pytest.raises(
            PlanError, match="discount_percent does not apply to a minimum charge; override amount"
        ):
            plan.with_overrides([ChargeOverride(charge="m", discount_percent=D(5))], label="x")

    def test_unknown_charge(self, standard):
        with pytest.raises(PlanError, match="plan 'Standard' has no such charge; its charges are"):
            standard.with_overrides([ChargeOverride(charge="nope", free_units=D(1))], label="x")

    def test_key_that_does_not_fit(self, standard):
        """unit_price on a graduated charge: the error lists what does fit."""
        with pytest.raises(PlanError, match="override tiers, free_units, discount_percent"):
            standard.with_overrides(
                [ChargeOverride(charge="storage", unit_price=euro("1"))], label="x"
            )
        with pytest.raises(PlanError, match="free_units does not apply to a flat charge"):
            standard.with_overrides([ChargeOverride(charge="platform", free_units=D(1))], label="x")

    def test_one_override_per_charge_and_call(self, standard):
        once = [ChargeOverride(charge="compute", free_units=D(1))]
        with pytest.raises(PlanError, match="two overrides of charge 'compute'"):
            standard.with_overrides(once * 2, label="x")
        with pytest.raises(PlanError, match="already carries overrides"):
            standard.with_overrides(once, label="x").with_overrides(once, label="y")

    def test_currency_and_label(self, standard):
        with pytest.raises(CurrencyMismatchError, match="compute unit_price is in USD"):
            standard.with_overrides(
                [ChargeOverride(charge="compute", unit_price=Money("1", "USD"))], label="x"
            )
        with pytest.raises(PlanError, match="give a name such as 'ACME contract'"):
            standard.with_overrides([], label=" ")

    def test_every_version(self):
        """Overrides apply in every price version; a discount to the price in force."""
        berlin = ZoneInfo("Europe/Berlin")
        change = datetime(2026, 10, 10, tzinfo=berlin)
        plan = Plan(
            name="P", currency="EUR", timezone="Europe/Berlin",
            charges=[Charge(name="compute", metric="vcpu_hours", model=PerUnit(euro("0.0125")))],
        ).with_version(
            change,
            changes=[Charge(name="compute", metric="vcpu_hours", model=PerUnit(euro("0.015")))],
        )  # fmt: skip
        fixed = plan.with_overrides(
            [ChargeOverride(charge="compute", unit_price=euro("0.010"))], label="ACME"
        )
        later = fixed.at(change).charge("compute").model.price(D(100))
        assert later.amount == euro("1.000")
        assert str(later.details[0]) == "override (ACME): unit price 0.010 EUR instead of 0.015 EUR"
        off = plan.with_overrides(
            [ChargeOverride(charge="compute", discount_percent=D(20))], label="x"
        )
        assert off.at(change).charge("compute").model.price(D(100)).amount.amount == D("1.20")
        assert off.at(change - timedelta(1)).charge("compute").model.price(
            D(100)
        ).amount.amount == D(1)

    def test_key_that_does_not_fit_a_version(self):
        """A charge remodelled in a version must fit the override there too."""
        plan = Plan(
            name="P", currency="EUR",
            charges=[Charge(name="compute", metric="vcpu_hours", model=PerUnit(euro("0.0125")))],
        ).with_version(
            datetime(2026, 10, 10, tzinfo=UTC),
            changes=[Charge(name="compute", metric="vcpu_hours",
                            model=cloudrate.Graduated(tiers=[Tier(None, euro("0.01"))]))],
        )  # fmt: skip
        with pytest.raises(PlanError, match="'compute' in version 2026-10-10: unit_price does not"):
            plan.with_overrides([ChargeOverride(charge="compute", unit_price=euro("1"))], label="x")

    def test_pickle_equality_and_dump(self, standard):
        """Overridden plans pickle (the distributed engines ship them), compare by value and
        refuse to be dumped as plan files."""
        plan = standard.with_overrides(ACME, label="ACME")
        again = pickle.loads(pickle.dumps(plan))
        assert again == plan and hash(again) == hash(plan)
        assert standard.with_overrides(ACME, label="ACME") == plan
        assert standard.with_overrides(ACME, label="other") != plan
        with pytest.raises(PlanError, match="dump the plan before with_overrides"):
            cloudrate.dump_plan(plan)


class TestRated:
    def test_worked_example(self, standard):
        """Every override through rate(), hand-computed.

        acme: compute 720 x 0.010 = 7.20 less 12.5% = 6.30; storage 13.50 less 20% = 10.80;
        backup 3 blocks x 4.00 = 12.00; setup 2 x 25.00 less 100% = 0; platform 5.00 less
        10% = 4.50; total 33.60. b: 1000.5 x 0.010 = 10.005 less 12.5% = 8.754375 -> 8.75,
        platform 4.50; total 13.25.
        """
        plan = standard.with_overrides(ACME, label="ACME contract")
        result = cloudrate.rate(plan, USAGE)
        acme = result.bill("acme")
        assert [(x.charge, x.rounded.amount) for x in acme.lines] == [
            ("compute", D("6.30")),
            ("storage", D("10.80")),
            ("backup", D("12.00")),
            ("setup", D("0.00")),
            ("platform", D("4.50")),
        ]
        assert {a: m.amount for a, m in result.totals().items()} == {
            "acme": D("33.60"),
            "b": D("13.25"),
        }
        assert acme.line("compute").explain() == (
            "override (ACME contract): unit price 0.010 EUR instead of 0.0125 EUR\n"
            "per unit: 720 x 0.010 EUR = 7.200 EUR\n"
            "discount 12.5% (ACME contract): -0.9000 EUR"
        )
        assert acme.line("compute").unit_price == euro("0.00875")
        assert acme.line("platform").explain().endswith("discount 10% (ACME contract): -0.50 EUR")

    def test_json_carries_the_notes(self, standard):
        """The rated line's JSON details list the note (amount 0) and the discount."""
        plan = standard.with_overrides(ACME[:1], label="ACME")
        line = cloudrate.rate(plan, USAGE[:1]).bill("acme").line("compute")
        assert [d["label"] for d in line.to_dict()["details"]] == [
            "override (ACME): unit price 0.010 EUR instead of 0.0125 EUR",
            "per unit",
            "discount 12.5% (ACME)",
        ]
        assert [d["amount"] for d in line.to_dict()["details"]] == ["0", "7.200", "-0.9000"]

    @pytest.mark.parametrize("placement", ["line", "total"])
    def test_both_engines_agree(self, standard, placement):
        """rate_table() gives rate()'s JSON; account_totals() its totals (vectorised)."""
        pytest.importorskip("pyarrow")
        from cloudrate.rating.columnar import account_totals, rate_table, to_table

        plan = standard.with_overrides(ACME, label="ACME contract")
        policy = RoundingPolicy(placement=placement)
        expected = cloudrate.rate(plan, USAGE, rounding=policy)
        table = to_table(USAGE)
        assert rate_table(plan, table, rounding=policy).to_json() == expected.to_json()
        totals = account_totals(plan, table, rounding=policy)
        got = dict(zip(totals["account"].to_pylist(), totals["total"].to_pylist(), strict=True))
        assert got == {"acme": D("33.60"), "b": D("13.25")}  # see test_worked_example

    @given(
        st.lists(st.decimals(D("0.1"), D(100), places=1), min_size=5, max_size=5),
        st.lists(quantities(max_value=D(10**5)), min_size=4, max_size=4),
    )
    def test_engines_agree_on_any_discount(self, percents, amounts):
        """For any discounts and quantities, both engines and the fast totals agree."""
        pytest.importorskip("pyarrow")
        from cloudrate.rating.columnar import account_totals, rate_table, to_table

        plan = cloudrate.load_plan(STANDARD).with_overrides(
            [
                ChargeOverride(charge=name, discount_percent=p)
                for name, p in zip(
                    ["compute", "storage", "backup", "setup", "platform"], percents, strict=True
                )
            ],
            label="x",
        )
        metrics = ["vcpu_hours", "storage_gb_hours", "backup_gb", "setup_events"]
        records = [rec("a", m, q, i) for i, (m, q) in enumerate(zip(metrics, amounts, strict=True))]
        expected = cloudrate.rate(plan, records, BillingPeriod.month(2026, 10))
        table = to_table(records)
        assert rate_table(plan, table).to_json() == expected.to_json()
        totals = account_totals(plan, table)
        assert totals["total"].to_pylist() == [expected.bill("a").total.amount]

    @given(st.decimals(D("0.1"), D(100), places=2), quantities(max_value=D(10**6)))
    def test_price_scaled_is_price(self, percent, quantity):
        """The vectorised twin of a discounted model is its price() as integers."""
        np = pytest.importorskip("numpy")
        plan = cloudrate.load_plan(STANDARD).with_overrides(
            [ChargeOverride(charge="storage", discount_percent=percent)], label="x"
        )
        model = plan.charge("storage").model
        assert isinstance(model, VectorPricing)
        s = 6
        a = s + max(-p.normalize().as_tuple().exponent for p in model.prices())
        (got,) = model.price_scaled(np.array([int(quantity.scaleb(s))]), s, max(a, s)).tolist()
        assert D(got).scaleb(-max(a, s)) == model.price(quantity).amount.amount


class TestReadOverrides:
    def test_reads_every_key(self, standard):
        """Each key is read exactly into its type; dump_overrides writes it back."""
        overrides = read_overrides(
            {
                "compute": {"unit_price": "0.010", "free_units": 10},
                "storage": {"tiers": [{"up_to": None, "unit_price": "0.08"}]},
                "backup": {"block_price": "4.00"},
                "setup": {"unit_price": "20", "discount_percent": "12.5"},
                "platform": {"price": "0"},
            },
            standard,
        )
        assert overrides == (
            ChargeOverride(charge="compute", unit_price=euro("0.010"), free_units=D(10)),
            ChargeOverride(charge="storage", tiers=[Tier(None, euro("0.08"))]),
            ChargeOverride(charge="backup", block_price=euro("4.00")),
            ChargeOverride(charge="setup", unit_price=euro("20"), discount_percent=D("12.5")),
            ChargeOverride(charge="platform", price=euro("0")),
        )
        assert read_overrides(dump_overrides(overrides), standard) == overrides

    def test_every_problem_at_once(self, standard):
        """Unknown charges and keys, keys that do not fit, bad values: all, with lines."""
        text = textwrap.dedent(
            """\
            compute: {unit_prise: "0.010"}
            storage: {unit_price: "0.08", discount_percent: 120}
            backup: {discount_percent: 0}
            platform: {}
            computer: {discount_percent: 5}
            setup: {unit_price: "20 USD", free_units: -1}
            """
        )
        with pytest.raises(ConfigError) as info:
            read_overrides(text, standard)
        got = [(p.path, p.code, p.line) for p in info.value.problems]
        assert got == [
            ("overrides.compute.unit_prise", "unknown_key", 1),
            ("overrides.storage.unit_price", "not_applicable", 2),
            ("overrides.storage.discount_percent", "out_of_range", 2),
            ("overrides.backup.discount_percent", "out_of_range", 3),
            ("overrides.platform", "empty_override", 4),
            ("overrides.computer", "unknown_charge", 5),
            ("overrides.setup.unit_price", "currency_mismatch", 6),
            ("overrides.setup.free_units", "out_of_range", 6),
        ]
        assert "did you mean 'compute'?" in str(info.value)

    def test_float(self, standard):
        """A float in a mapping is refused with what to write instead."""
        with pytest.raises(ConfigError) as info:
            read_overrides({"compute": {"unit_price": 0.01}}, standard)
        (problem,) = info.value.problems
        assert (problem.path, problem.code) == ("overrides.compute.unit_price", "float")
        assert "write '0.01' as a string or Decimal" in problem.message

    def test_inside_a_larger_document(self, standard):
        """With the reader of a subscription document, problems carry its paths and lines
        and are left for the caller to raise with its own."""
        doc = load_document(
            textwrap.dedent(
                """\
                subscriptions:
                  - account: acme
                    plan: Standard
                    overrides:
                      compute: {unit_price: "0.010"}
                      storage: {unit_price: "0.08"}
                """
            )
        )
        reader = FieldReader(doc)
        path = "subscriptions[0].overrides"
        found = read_overrides(doc.data["subscriptions"][0]["overrides"], standard, path=path,
                               reader=reader)  # fmt: skip
        assert found == (ChargeOverride(charge="compute", unit_price=euro("0.010")),)
        assert [(p.path, p.code, p.line) for p in doc.problems] == [
            ("subscriptions[0].overrides.storage.unit_price", "not_applicable", 6)
        ]
        assert reader.currency is None  # the caller's reader is left as it was

    def test_not_a_mapping(self, standard):
        with pytest.raises(ConfigError, match="expected charge_name: "):
            read_overrides("- compute", standard)
        assert read_overrides(None, standard) == ()

    def test_versions_named(self):
        """A key that does not fit a charge's model in a later version says which."""
        plan = cloudrate.load_plan(
            "name: P\ncurrency: EUR\ncharges:\n"
            "  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: 1}\n"
            "versions:\n  - effective_from: 2026-10-10\n"
            "    charges: [{name: compute, model: volume, tiers: [{up_to: null, unit_price: 1}]}]\n"
        )
        with pytest.raises(ConfigError) as info:
            read_overrides({"compute": {"unit_price": "0.5"}}, plan)
        assert info.value.problems[0].message.endswith("(the charge in version 2026-10-10)")
