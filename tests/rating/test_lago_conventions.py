"""Rating with Lago's conventions: the first tier's flat fee for no usage (``zero_usage``)
and a metric's quantity rounded before pricing (``Metric.rounding``), through
:func:`cloudrate.rate`; tests/rating/test_engine_parity.py holds the columnar engine to
the same results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import cloudrate
from cloudrate import BillingPeriod, UsageRecord

D = Decimal
OCTOBER = BillingPeriod.month(2026, 10, "UTC")
T0 = datetime(2026, 10, 1, tzinfo=UTC)


def record(account: str, metric: str, quantity: str, hour: int = 0, **extra: object):
    start = T0 + timedelta(hours=hour)
    return UsageRecord(
        account=account,
        metric=metric,
        quantity=quantity,
        start=start,
        end=start + timedelta(hours=1),
        **extra,  # type: ignore[arg-type]
    )


ZERO_USAGE_PLAN = """
name: Lago zero usage
currency: USD
charges:
  - name: calls
    metric: api_calls
    model: volume
    zero_usage: {setting}
    tiers:
      - {{up_to: 100, unit_price: 2, flat_price: 1}}
      - {{up_to: null, unit_price: 1}}
  - name: seats
    metric: seats
    model: graduated
    zero_usage: {setting}
    where: {{plan: pro}}
    tiers:
      - {{up_to: 10, unit_price: 2, flat_price: 100}}
      - {{up_to: null, unit_price: 1, flat_price: 50}}
  - name: processing
    model: percentage
    of: [seats]
    zero_usage: {setting}
    tiers:
      - {{up_to: 10, percent: 1, flat_price: 100}}
      - {{up_to: null, percent: 0.5, flat_price: 50}}
"""


def _amounts(result, account):
    return {line.charge: line.amount.amount for line in result.bill(account).lines}


class TestZeroUsage:
    """Lago bills a subscription's charges whether or not events arrived
    (getlago/lago-api spec/services/fees/charge_service_spec.rb, "when units are zero but
    a flat fee applies": fees with ``units: 0`` and ``events_count: 0``; and
    https://github.com/getlago/lago/issues/648, "the flat fee of a volume pricing metered
    charge should be charged without any usages being send"). cloudrate bills an account
    it knows of: one with records of any metric in the period, or named in ``accounts``."""

    def test_absent_usage_and_zero_usage_pay_the_first_flat_fee(self):
        """An account with no record of a charge, one with a record of quantity 0, and
        one named in ``accounts`` only: each pays the charges' first-tier flat prices
        (volume 1, graduated 100) and the graduated percentage's first flat price (100)
        on its base of 100 + 50 (the seats line, 100, reaches its second tier: +50)."""
        plan = cloudrate.load_plan(ZERO_USAGE_PLAN.format(setting="first_flat_fee"))
        usage = [
            record("calls_only", "api_calls", "150"),
            record("zero", "api_calls", "0"),
            record("zero", "seats", "0", attributes={"plan": "pro"}),
        ]
        result = cloudrate.rate(plan, usage, OCTOBER, accounts=["idle"])
        # a base of 100: 10 at 1% + 100 flat, then 90 at 0.5% + 50 flat
        processing = D(10) * D("0.01") + 100 + (D(100) - 10) * D("0.005") + 50
        for account in ("zero", "idle"):
            assert _amounts(result, account) == {
                "calls": D(1),
                "seats": D(100),
                "processing": processing,
            }
        assert _amounts(result, "calls_only") == {
            "calls": D(150),  # 150 x 1, the second tier has no flat price
            "seats": D(100),
            "processing": processing,
        }
        idle = result.bill("idle").line("seats")
        assert (idle.usage_quantity, idle.quantity, idle.records) == (0, 0, 0)
        assert idle.explain() == "tier 1 (0 to 10) flat price: 100 USD"

    def test_free_bills_no_line_without_usage_and_a_zero_line_at_zero(self):
        """The default: an account without records of a charge has no line for it, one
        whose records add up to 0 a line of 0; a percentage of a base of 0 has no line."""
        plan = cloudrate.load_plan(ZERO_USAGE_PLAN.format(setting="free"))
        usage = [record("zero", "api_calls", "0")]
        result = cloudrate.rate(plan, usage, OCTOBER, accounts=["idle"])
        assert _amounts(result, "zero") == {"calls": D(0)}
        assert _amounts(result, "idle") == {}

    def test_records_the_charge_does_not_select_are_no_usage(self):
        """Records of the metric that the charge's where leaves out are no usage of it."""
        plan = cloudrate.load_plan(ZERO_USAGE_PLAN.format(setting="first_flat_fee"))
        usage = [record("basic", "seats", "5", attributes={"plan": "basic"})]
        result = cloudrate.rate(plan, usage, OCTOBER, on_unpriced="report")
        assert result.bill("basic").line("seats").amount.amount == 100
        assert result.unpriced

    def test_free_units_that_cover_the_usage_leave_the_first_flat_fee(self):
        """Usage within the free units is priced at 0, which costs the first flat fee."""
        plan = cloudrate.load_plan(
            """
name: P
currency: USD
charges:
  - name: calls
    metric: api_calls
    model: graduated
    free_units: 1000
    zero_usage: first_flat_fee
    tiers: [{up_to: 100, unit_price: 2, flat_price: 5}, {up_to: null, unit_price: 1}]
"""
        )
        line = cloudrate.rate(plan, [record("a", "api_calls", "700")], OCTOBER).bill("a").lines[0]
        assert (line.usage_quantity, line.free_quantity, line.quantity) == (700, 700, 0)
        assert line.amount.amount == 5


ROUNDING_PLAN = """
name: Lago rounding
currency: USD
metrics:
  api_calls: {{rounding: {{mode: {mode}, precision: {precision}}}}}
  traffic: {{unit: GB, usage_unit: byte, rounding: {{mode: ceil}}}}
  disk: {{unit: GiB, usage_unit: byte, rounding: {{mode: half_even, precision: 8, per: {per}}}}}
  ips: {{aggregation: unique, rounding: {{mode: ceil, precision: -1}}}}
  level: {{aggregation: average, rounding: {{mode: floor, precision: 1, per: {per}}}}}
charges:
  - {{name: calls, metric: api_calls, model: per_unit, unit_price: 1}}
  - {{name: traffic, metric: traffic, model: per_unit, unit_price: 1, free_units: 1}}
  - {{name: disk, metric: disk, model: per_unit, unit_price: 1}}
  - {{name: ips, metric: ips, model: per_unit, unit_price: 1}}
  - {{name: level, metric: level, model: per_unit, unit_price: 1}}
"""


def _rounding_plan(mode="round", precision=2, per="aggregate"):
    return cloudrate.load_plan(ROUNDING_PLAN.format(mode=mode, precision=precision, per=per))


class TestRounding:
    @pytest.mark.parametrize(
        ("mode", "precision", "expected"),
        [("round", 0, "123"), ("round", 2, "123.46"), ("round", -1, "120"), ("ceil", -2, "200")],
    )
    def test_the_aggregated_quantity_is_rounded(self, mode, precision, expected):
        """https://getlago.com/docs/guide/billable-metrics/rounding applies the rounding to
        the final aggregated value: records of 100, 20 and 3.4567 add up to 123.4567,
        billed as 123, 123.46 or 120 (and 200 with ceil to hundreds)."""
        plan = _rounding_plan(mode, precision)
        usage = [record("a", "api_calls", q, hour=h) for h, q in enumerate(("100", "20", "3.4567"))]
        line = cloudrate.rate(plan, usage, OCTOBER).bill("a").line("calls")
        assert str(line.usage_quantity) == expected
        assert str(line.quantity) == expected
        assert line.amount.amount == D(expected)

    def test_rounding_comes_after_conversion_and_before_free_units(self):
        """Lago rounds the aggregation result (getlago/lago-api
        app/services/billable_metrics/aggregations/base_service.rb, apply_rounding) before
        the charge model prices it and takes its free units: 1.5 GB (in bytes) is
        rounded up to 2 GB, then 1 GB is free."""
        plan = _rounding_plan()
        line = (
            cloudrate.rate(plan, [record("a", "traffic", "1500000000")], OCTOBER)
            .bill("a")
            .line("traffic")
        )
        assert (line.usage_quantity, line.free_quantity, line.quantity) == (2, 1, 1)

    def test_each_record_or_the_aggregate(self):
        """CloudStack's quota rounds each record's bytes to GiB at 8 decimals, half even
        (apache/cloudstack QuotaManagerImpl.getUsageValueAccordingToUsageUnitType): ten
        records of 1 byte are 0.00000000 GiB each, so 0 in all; rounded once, the 10 bytes
        are 10 / 2**30 = 0.0000000093... GiB, 0.00000001."""
        usage = [record("a", "disk", "1", hour=h) for h in range(10)]
        per_record = cloudrate.rate(_rounding_plan(per="record"), usage, OCTOBER)
        per_aggregate = cloudrate.rate(_rounding_plan(per="aggregate"), usage, OCTOBER)
        assert per_record.bill("a").line("disk").quantity == 0
        assert str(per_aggregate.bill("a").line("disk").quantity) == "1E-8"

    def test_each_record_of_an_average_is_rounded_before_weighting(self):
        """A time-weighted average of levels rounded one by one (floor to 0.1): 1.19 and
        2.99 held half the month each average to (1.1 + 2.9) / 2 = 2.0; rounded once,
        (1.19 + 2.99) / 2 = 2.09 floors to 2.0 too, and 2.08 + 2.12 average to 2.1."""
        half = OCTOBER.start + (OCTOBER.end - OCTOBER.start) / 2

        def levels(a, b):
            return [
                UsageRecord(account="a", metric="level", quantity=a, start=OCTOBER.start, end=half),
                UsageRecord(account="a", metric="level", quantity=b, start=half, end=OCTOBER.end),
            ]

        by_record = _rounding_plan(per="record")
        by_total = _rounding_plan(per="aggregate")
        assert cloudrate.rate(by_record, levels("1.19", "2.99"), OCTOBER).bill("a").line(
            "level"
        ).quantity == D("2.0")
        assert cloudrate.rate(by_record, levels("2.08", "2.12"), OCTOBER).bill("a").line(
            "level"
        ).quantity == D("2.05")  # (2.0 + 2.1) / 2, not rounded again
        assert cloudrate.rate(by_total, levels("2.08", "2.12"), OCTOBER).bill("a").line(
            "level"
        ).quantity == D("2.1")

    def test_unique_counts_are_rounded_too(self):
        """Lago rounds every aggregation's result, a unique count included: 3 IPs ceil to
        tens bill 10."""
        usage = [record("a", "ips", "1", resource_id=f"ip{i}") for i in range(3)]
        line = cloudrate.rate(_rounding_plan(), usage, OCTOBER).bill("a").line("ips")
        assert line.quantity == 10

    def test_without_rounding_nothing_changes(self):
        """Off (no rounding on the metric): the quantity is the exact aggregate."""
        plan = cloudrate.load_plan(
            {
                "name": "P",
                "currency": "USD",
                "charges": [
                    {"name": "calls", "metric": "api_calls", "model": "per_unit", "unit_price": "1"}
                ],
            }
        )
        usage = [record("a", "api_calls", "123.4567")]
        assert cloudrate.rate(plan, usage, OCTOBER).bill("a").lines[0].quantity == D("123.4567")
