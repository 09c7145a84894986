"""The shared suite: every case runs through rate() and the batch path, results must be equal.

"Equal" is the strongest comparison there is: the RatingResult objects compare equal and
their JSON documents are identical byte for byte (every exact and rounded amount, every
quantity as rate() writes it), and splitting the usage into partitions, aggregating each
and combining gives the same again.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("pyarrow")

import pyarrow as pa
import pyarrow.compute as pc

import cloudrate
from cloudrate import BillingPeriod, RatingError, RoundingPolicy, UsageRecord, load_plan
from cloudrate._money import EXACT
from cloudrate.plans import PRORATIONS
from cloudrate.rating.columnar import (
    account_totals,
    combine_partials,
    finish,
    partial_aggregate,
    rate_table,
    to_table,
)
from cloudrate.testing import plans, usage_records

T0 = datetime(2026, 10, 1, tzinfo=UTC)
OCT = BillingPeriod.month(2026, 10, "UTC")


def rec(
    account: str, metric: str, quantity: str, hour: int = 0, hours: int = 1, **extra: object
) -> UsageRecord:
    start = T0 + timedelta(hours=hour)
    attributes = extra.pop("attributes", {})
    return UsageRecord(
        account=account,
        metric=metric,
        quantity=quantity,
        start=start,
        end=start + timedelta(hours=hours),
        attributes=attributes,
        **extra,
    )  # type: ignore[arg-type]


def assert_same(plan, records, period=None, *, parts: int = 3, seed: int = 0, **kw):
    """rate() and rate_table() agree; so do partials of a random partitioning."""
    expected = cloudrate.rate(plan, records, period, **kw)
    table = to_table(records)
    got = rate_table(plan, table, period, **kw)
    assert got == expected
    assert got.to_json() == expected.to_json()
    fast = account_totals(
        plan, table, period, accounts=kw.get("accounts", ()), rounding=kw.get("rounding")
    )
    assert dict(zip(fast["account"].to_pylist(), fast["total"].to_pylist(), strict=True)) == {
        a: m.amount for a, m in expected.totals().items()
    }
    if table.num_rows:
        # many small batches: a dictionary per batch, codes mapped to the global ones
        chunked = rate_table(plan, table.to_batches(max_chunksize=1 + seed % 7), period, **kw)
        assert chunked.to_json() == expected.to_json()
        # partitions by account, as docs/batch.md asks, so every copy of a record meets
        # its other copies in one partition; any assignment of accounts to partitions
        rng = random.Random(seed)
        names = sorted(set(table.column("account").to_pylist()))
        home = {name: rng.randrange(parts + 1) for name in names}
        of_row = pa.array([home[a] for a in table.column("account").to_pylist()])
        pieces = [table.filter(pc.equal(of_row, i)) for i in range(parts + 1)]
        used = expected.period
        partials = [partial_aggregate(plan, p, used) for p in pieces]
        # combine in two levels, as a cluster would
        half = len(partials) // 2
        combined = combine_partials(
            [combine_partials(partials[:half]), combine_partials(partials[half:])]
        )
        split = finish(
            plan, combined, used, rounding=kw.get("rounding"), accounts=kw.get("accounts", ())
        )
        assert split.to_json() == expected.to_json()
    return got


def plan_of(text: str):
    return load_plan(text)


PER_UNIT = """
name: P
currency: EUR
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.005"}
"""


class TestRounding:
    @pytest.mark.parametrize("mode", ["half_up", "half_even", "down", "up", "ceiling", "floor"])
    @pytest.mark.parametrize("placement", ["line", "total"])
    def test_half_cent_ties(self, mode, placement):
        """0.005 EUR lines round the same way in both paths, under every mode and placement."""
        plan = plan_of(PER_UNIT)
        records = [
            rec("a", "vcpu_hours", "1"),
            rec("b", "vcpu_hours", "3"),
            rec("c", "vcpu_hours", "0.5"),
            rec("c", "vcpu_hours", "2.50"),
        ]
        policy = RoundingPolicy(mode=mode, placement=placement)
        assert_same(plan, records, rounding=policy)

    def test_tie_values_are_what_rate_gives(self):
        """A worked example: 1 x 0.005 is 0.01 half-up and 0.00 half-even."""
        plan = plan_of(PER_UNIT)
        up = assert_same(plan, [rec("a", "vcpu_hours", "1")])
        even = assert_same(
            plan, [rec("a", "vcpu_hours", "1")], rounding=RoundingPolicy(mode="half_even")
        )
        assert up.total.amount == Decimal("0.01")
        assert even.total.amount == Decimal("0.00")


class TestHugeQuantities:
    def test_one_quantity_beyond_int64(self):
        """A quantity of 10**20 (10**26 micro-units) takes the exact fallback."""
        plan = plan_of(PER_UNIT)
        records = [
            rec("a", "vcpu_hours", "100000000000000000000.000001"),
            rec("a", "vcpu_hours", "1.5"),
        ]
        got = assert_same(plan, records)
        assert got.bill("a").line("compute").quantity == Decimal("100000000000000000001.500001")

    def test_sum_beyond_int64(self):
        """Quantities that fit int64 one by one but not summed are added exactly."""
        plan = plan_of(PER_UNIT)
        q = "4000000000000.123456"  # 4e18 micro-units: three of them pass 2**63
        records = [rec("a", "vcpu_hours", q, hour=i) for i in range(5)]
        got = assert_same(plan, records)
        assert got.bill("a").line("compute").quantity == 5 * Decimal(q)

    def test_many_chunks_flush(self):
        """Across record batches the running bound moves sums to Python ints in time."""
        plan = plan_of(PER_UNIT)
        q = "3000000000000"
        records = [rec("a", "vcpu_hours", q, hour=i) for i in range(8)]
        expected = cloudrate.rate(plan, records)
        table = to_table(records)
        got = rate_table(plan, table.to_batches(max_chunksize=2), OCT)
        assert got == expected

    def test_twelve_decimals(self):
        """Quantities with up to 12 decimals are exact; a later batch may add decimals."""
        plan = plan_of(PER_UNIT)
        records = [rec("a", "vcpu_hours", "1.5"), rec("a", "vcpu_hours", "0.000000000001")]
        expected = cloudrate.rate(plan, records)
        got = rate_table(plan, to_table(records).to_batches(max_chunksize=1), OCT)
        assert got == expected
        assert got.to_json() == expected.to_json()


TIERED = """
name: T
currency: EUR
charges:
  - name: storage
    metric: storage_gb_hours
    model: graduated
    free_units: "10.5"
    tiers:
      - {up_to: 100, unit_price: "0.10", flat_price: "1.00"}
      - {up_to: 1000, unit_price: "0.0815"}
      - {up_to: null, unit_price: "0.051234"}
  - name: bandwidth
    metric: bandwidth_gb
    model: volume
    tiers:
      - {up_to: 50, unit_price: "0.02"}
      - {up_to: 500, unit_price: "0.015", flat_price: "2"}
      - {up_to: null, unit_price: "0.0105"}
  - name: ips
    metric: public_ip_hours
    model: package
    block_size: 100
    block_price: "0.75"
"""


class TestModels:
    @pytest.mark.parametrize(
        "quantity", ["0", "10.5", "50", "100", "110.5", "110.500001", "1010.5", "123456.789012"]
    )
    def test_tiers_package_free_units(self, quantity):
        """Graduated (with free units), volume and package agree at and around the bounds."""
        plan = plan_of(TIERED)
        records = [
            rec("a", m, quantity) for m in ("storage_gb_hours", "bandwidth_gb", "public_ip_hours")
        ]
        records.append(rec("b", "bandwidth_gb", quantity, hour=3))
        assert_same(plan, records)

    def test_sample_month(self):
        """The shipped sample: flat fees with days proration, where, percentage, minimum."""
        plan = load_plan(cloudrate.sample_plan_path())
        usage = cloudrate.read_usage(cloudrate.sample_usage_path())
        assert_same(plan, usage, parts=5)
        assert_same(plan, usage, rounding=RoundingPolicy(placement="total"), parts=4)

    @pytest.mark.parametrize("proration", PRORATIONS)
    def test_flat_per_resource(self, proration):
        """Per-resource flat fees prorate the same from the resources' spans."""
        plan = plan_of(f"""
name: F
currency: EUR
charges:
  - {{name: vm, metric: vm_hours, model: flat, price: "12.34", proration: {proration}}}
  - {{name: base, model: flat, price: "5"}}
""")
        records = [
            rec("a", "vm_hours", "1", hour=h, hours=5, resource_id=f"vm{h % 3}")
            for h in range(0, 200, 7)
        ]
        records += [rec("b", "vm_hours", "1", hour=400, hours=30, resource_id="x")]
        assert_same(plan, records)

    def test_percentage_and_minimum(self):
        """Percentage of exact amounts and minimum spend, in both placements."""
        plan = plan_of("""
name: M
currency: EUR
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0133"}
  - name: support
    model: percentage
    tiers:
      - {up_to: 1, percent: 10}
      - {up_to: null, percent: "7.5"}
    of: [compute]
  - {name: minimum, model: minimum, amount: "2.50"}
""")
        records = [
            rec(a, "vcpu_hours", q)
            for a, q in (("a", "10"), ("b", "100.37"), ("c", "1000"), ("c", "0.005"))
        ]
        assert_same(plan, records, accounts=["idle"])
        assert_same(plan, records, rounding=RoundingPolicy(placement="total"))

    def test_unit_conversion(self):
        """Bytes priced per GB, seconds per hour: the conversion is exact in both."""
        plan = plan_of("""
name: U
currency: USD
metrics:
  bandwidth_gb: {unit: GB, usage_unit: byte}
  public_ip_hours: {unit: IP-hour, usage_unit: second}
charges:
  - {name: bw, metric: bandwidth_gb, model: per_unit, unit_price: "0.09"}
  - {name: ip, metric: public_ip_hours, model: per_unit, unit_price: "0.005"}
""")
        records = [
            rec("a", "bandwidth_gb", "123456789"),
            rec("a", "public_ip_hours", "3599"),
            rec("b", "bandwidth_gb", "1000000000000"),
        ]
        assert_same(plan, records)


AGGREGATIONS = """
name: A
currency: EUR
metrics:
  peak: {{unit: GB, aggregation: max}}
  avg: {{unit: GB, aggregation: average}}
  ips: {{unit: IP, aggregation: unique}}
  last: {{unit: GB, aggregation: latest}}
  total: {{unit: GB, aggregation: sum}}
charges:
  - {{name: peak, metric: peak, model: per_unit, unit_price: "0.11"}}
  - {{name: avg, metric: avg, model: per_unit, unit_price: "2.5"}}
  - {{name: ips, metric: ips, model: per_unit, unit_price: "3"}}
  - {{name: last, metric: last, model: per_unit, unit_price: "0.5"}}
  - {{name: total, metric: total, model: per_unit, unit_price: "0.0001"}}
rounding: {{placement: {placement}}}
"""


class TestAggregations:
    @pytest.mark.parametrize("placement", ["line", "total"])
    def test_every_aggregation(self, placement):
        """sum, max, average, unique and latest give the same quantities and amounts."""
        plan = plan_of(AGGREGATIONS.format(placement=placement))
        records = []
        for i in range(40):
            account = "ab"[i % 2]
            q = f"{(i * 37) % 11}.{i % 7}0"
            records += [
                rec(account, "peak", q, hour=i),
                rec(account, "avg", q, hour=i, hours=1 + i % 5),
                rec(account, "ips", "1", hour=i, resource_id=f"ip{i % 4}"),
                rec(account, "last", q, hour=i % 9, hours=1 + i % 3, record_id=f"r{i}"),
                rec(account, "total", q, hour=i),
            ]
        assert_same(plan, records, parts=4, seed=1)

    def test_max_of_zeros(self):
        """A max over zeros is the Decimal 0 rate() starts from."""
        plan = plan_of(AGGREGATIONS.format(placement="line"))
        assert_same(plan, [rec("a", "peak", "0.00"), rec("a", "peak", "0.000", hour=2)])


class TestSelectors:
    def test_where_splits_a_metric(self):
        """Records go to the charges whose 'where' selects them; the rest are unpriced."""
        plan = plan_of("""
name: W
currency: EUR
charges:
  - {name: small, metric: vcpu_hours, model: per_unit, unit_price: "0.01",
     where: {offering: small}}
  - {name: big, metric: vcpu_hours, model: per_unit, unit_price: "0.03",
     where: {offering: [large, xlarge], zone: eu}}
  - {name: all_gb, metric: storage_gb_hours, model: per_unit, unit_price: "0.001"}
  - {name: eu_gb, metric: storage_gb_hours, model: per_unit, unit_price: "0.002",
     where: {zone: eu}}
""")
        records = [
            rec("a", "vcpu_hours", "10", attributes={"offering": "small"}),
            rec("a", "vcpu_hours", "20", attributes={"offering": "large", "zone": "eu"}),
            rec("a", "vcpu_hours", "40", attributes={"offering": "large", "zone": "us"}),
            rec("b", "vcpu_hours", "7", attributes={"offering": "xlarge", "zone": "eu"}),
            rec("b", "vcpu_hours", "1"),
            rec("b", "storage_gb_hours", "100", attributes={"zone": "eu"}),
            rec("c", "storage_gb_hours", "5"),
            rec("c", "unknown_metric", "5"),
        ]
        got = assert_same(plan, records)
        assert [u.reason for u in got.unpriced] == [
            "no charge prices this metric",
            "no charge's 'where' selects these records",
        ]


class TestErrors:
    def test_outside_period_same_message(self):
        """Records outside the period raise the same error in both paths."""
        plan = plan_of(PER_UNIT)
        records = [rec("a", "vcpu_hours", "1"), rec("b", "vcpu_hours", "1", hour=24 * 31)]
        with pytest.raises(RatingError) as one:
            cloudrate.rate(plan, records, OCT)
        with pytest.raises(RatingError) as two:
            rate_table(plan, to_table(records), OCT)
        assert str(one.value) == str(two.value)

    def test_unpriced_error(self):
        """on_unpriced='error' refuses unpriced usage in both paths alike."""
        plan = plan_of(PER_UNIT)
        records = [rec("a", "other", "1")]
        with pytest.raises(cloudrate.UnpricedUsageError) as one:
            cloudrate.rate(plan, records, on_unpriced="error")
        with pytest.raises(cloudrate.UnpricedUsageError) as two:
            rate_table(plan, to_table(records), on_unpriced="error")
        assert str(one.value) == str(two.value)

    def test_empty_needs_period(self):
        """No usage and no period is refused; with a period, listed accounts get bills."""
        plan = plan_of(PER_UNIT)
        with pytest.raises(RatingError, match="no usage and no period"):
            rate_table(plan, to_table([]))
        assert_same(plan, [], OCT, accounts=["x"])


@settings(max_examples=40, deadline=None)
@given(
    plan=plans(currencies=st.sampled_from(["EUR", "JPY", "BHD"])),
    records=st.lists(usage_records(), max_size=30),
    policy=st.builds(
        RoundingPolicy,
        mode=st.sampled_from(["half_up", "half_even", "down"]),
        placement=st.sampled_from(["line", "total"]),
    ),
    seed=st.integers(0, 100),
)
def test_generated_plans_and_usage(plan, records, policy, seed):
    """Hypothesis: any valid plan and usage rate the same through both paths."""
    assert_same(plan, records, OCT, rounding=policy, seed=seed)


@settings(max_examples=25, deadline=None)
@given(records=st.lists(usage_records(max_quantity=Decimal(10**14)), min_size=1, max_size=20))
def test_generated_large_quantities(records):
    """Hypothesis: quantities up to 10**14 with 6 decimals (sums past int64) agree."""
    plan = plan_of(PER_UNIT.replace("vcpu_hours", "vcpu_hours"))
    assert_same(plan, records, OCT)


def test_widest_quantities():
    """35 significant digits (23 before the point, 12 after) stay exact in both paths."""
    plan = plan_of(PER_UNIT)
    q = "12345678901234567890123.123456789012"
    got = assert_same(
        plan,
        [
            rec("a", "vcpu_hours", q),
            rec("a", "vcpu_hours", q, hour=1),
            rec("b", "vcpu_hours", "1.000000000001"),
        ],
    )
    assert got.bill("a").line("compute").quantity == Decimal(q).fma(2, 0, context=EXACT)


@pytest.mark.parametrize("placement", ["line", "total"])
@pytest.mark.parametrize("mode", ["half_up", "half_even", "up"])
def test_account_fee_on_the_vectorised_path(placement, mode):
    """Usage charges plus a flat account fee: priced on integers, same totals as rate()."""
    plan = plan_of(TIERED + '  - {name: base, model: flat, price: "4.995"}\n')
    records = [
        rec(a, m, q)
        for a, m, q in (
            ("a", "storage_gb_hours", "10.5"),
            ("a", "bandwidth_gb", "50.005"),
            ("b", "public_ip_hours", "100.000001"),
            ("c", "other", "1"),
        )
    ]
    assert_same(
        plan, records, rounding=RoundingPolicy(mode=mode, placement=placement), accounts=["idle"]
    )


@pytest.mark.parametrize(
    "quantity",
    [
        "9223372036854.775807",
        "9223372036854.775808",
        "50000000000000.000001",
        "123456789012345678.9",
    ],
)
def test_tiers_beyond_int64(quantity):
    """Tiered, volume and package amounts past int64 take the Python-int path, exactly."""
    plan = plan_of(TIERED)
    records = [
        rec("a", m, quantity, hour=h)
        for h, m in enumerate(
            ("storage_gb_hours", "bandwidth_gb", "public_ip_hours", "storage_gb_hours")
        )
    ]
    assert_same(plan, records)
