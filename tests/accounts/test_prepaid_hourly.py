"""Prepaid hourly billing: deductions per hour (setting on) or per day/month (off)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import (
    BillingPeriod,
    PlanError,
    RatingError,
    RoundingPolicy,
    UsageRecord,
    load_plan,
    rate,
)
from cloudrate.accounts import Ledger, NegativeBalance, PrepaidHourly
from cloudrate.exceptions import InsufficientFundsError, UnknownAccountError

T0 = datetime(2026, 11, 1, tzinfo=UTC)
HOURLY, DAILY = PrepaidHourly(enabled=True), PrepaidHourly(enabled=False)

PLAN = load_plan("""
name: Prepaid
version: "3"
currency: EUR
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0125"}
  - name: storage
    metric: volume_gb_hours
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.0002"}
      - {up_to: null, unit_price: "0.0001"}
""")


def hour(h: int) -> datetime:
    return T0 + timedelta(hours=h)


def usage(hours: int, accounts=("acme", "globex"), vcpu="2", gb="30") -> list[UsageRecord]:
    return [
        UsageRecord(account=a, metric=m, quantity=q, start=hour(h), end=hour(h + 1))
        for h in range(hours)
        for a in accounts
        for m, q in (("vcpu_hours", vcpu), ("volume_gb_hours", gb))
    ]


def month_bill(records, plan=PLAN, **kw):
    return rate(plan, records, BillingPeriod.month(2026, 11), **kw)


class TestDeductions:
    def test_hourly_adds_up_to_the_monthly_bill(self):
        """On: one deduction per account per hour with usage; their sum is the
        month-to-date bill of the same usage, so tiers are not restarted every hour."""
        records = usage(48)
        run = HOURLY.deductions(PLAN, records, start=T0, end=hour(48))
        bill = month_bill(records)
        for account in ("acme", "globex"):
            mine = [d for d in run.deductions if d.account == account]
            assert len(mine) == 48
            assert run.total(account) == bill.bill(account).total
            assert run.closing[account] == bill.bill(account).total
        # 48 h x 30 GB = 1440 GB-hours: 100 at 0.0002 + 1340 at 0.0001 = 0.154
        # 48 h x 2 vCPU x 0.0125 = 1.20; total 1.354 rounds per line to 1.20 + 0.15
        assert run.total("acme") == Money("1.35", "EUR")

    def test_off_deducts_daily_with_the_same_total(self):
        """Off: one deduction per account per day, same sum as hourly."""
        records = usage(48)
        hourly = HOURLY.deductions(PLAN, records, start=T0, end=hour(48))
        daily = DAILY.deductions(PLAN, records, start=T0, end=hour(48))
        assert DAILY.interval == "daily" and HOURLY.interval == "hourly"
        assert len(daily.deductions) == 4  # 2 days x 2 accounts
        for account in ("acme", "globex"):
            assert daily.total(account) == hourly.total(account)

    def test_off_monthly_fallback(self):
        monthly = PrepaidHourly(enabled=False, fallback="monthly")
        run = monthly.deductions(PLAN, usage(48), start=T0, end=datetime(2026, 12, 1, tzinfo=UTC))
        assert [d.account for d in run.deductions] == ["acme", "globex"]
        assert run.deductions[0].end == datetime(2026, 12, 1, tzinfo=UTC)

    def test_keys_derive_from_account_hour_plan_and_are_stable(self):
        records = usage(3)
        first = HOURLY.deductions(PLAN, records, start=T0, end=hour(3))
        again = HOURLY.deductions(PLAN, list(reversed(records)), start=T0, end=hour(3))
        assert [d.key for d in first.deductions] == [d.key for d in again.deductions]
        assert first.deductions[0].key == "prepaid:acme:Prepaid@3:hourly:2026-11-01T00:00Z"
        assert len({d.key for d in first.deductions}) == len(first.deductions)

    def test_rounding_never_drifts(self):
        """0.0125 an hour: each hour's deduction is 0.01 or 0.02, the sum exactly the
        rounded month-to-date amount (a per-hour rounding would give 0.01 x 24 or 0.02 x 24)."""
        records = usage(24, accounts=("acme",), vcpu="1", gb="0")
        run = HOURLY.deductions(PLAN, records, start=T0, end=hour(24))
        amounts = {d.amount.amount for d in run.deductions}
        assert amounts <= {Decimal("0.01"), Decimal("0.02")}
        assert run.total("acme") == Money("0.30", "EUR")  # 24 x 0.0125 = 0.30

    def test_total_placement_rounding_also_adds_up(self):
        records = usage(30)
        policy = RoundingPolicy(placement="total")
        run = HOURLY.deductions(PLAN, records, start=T0, end=hour(30), rounding=policy)
        assert run.total("acme") == month_bill(records, rounding=policy).bill("acme").total

    def test_splitting_a_run_changes_nothing(self):
        """Two runs over consecutive halves produce the deductions of one run over all."""
        records = usage(20)
        whole = HOURLY.deductions(PLAN, records, start=T0, end=hour(20))
        first = HOURLY.deductions(PLAN, records, start=T0, end=hour(8))
        second = HOURLY.deductions(PLAN, records, start=hour(8), end=hour(20))
        assert first.deductions + second.deductions == whole.deductions
        assert second.opening == first.closing

    def test_flat_fee_is_deducted_in_the_first_hour_of_the_month(self):
        plan = load_plan("""
name: Subscription
currency: EUR
charges:
  - {name: platform, model: flat, price: "5.00"}
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.01"}
""")
        records = [
            UsageRecord(
                account="acme", metric="vcpu_hours", quantity="1", start=hour(5), end=hour(6)
            )
        ]
        run = HOURLY.deductions(plan, records, start=T0, end=hour(24), accounts=["idle"])
        assert [(d.account, d.end, str(d.amount.amount)) for d in run.deductions] == [
            ("acme", hour(1), "5.00"),
            ("idle", hour(1), "5.00"),
            ("acme", hour(6), "0.01"),
        ]

    def test_a_lower_month_to_date_bill_is_refunded(self):
        """A volume tier lowers the whole bill once crossed: that hour is a refund."""
        plan = load_plan("""
name: Volume
currency: EUR
charges:
  - name: traffic
    metric: gb
    model: volume
    tiers:
      - {up_to: 10, unit_price: "1.00"}
      - {up_to: null, unit_price: "0.50"}
""")
        records = [
            UsageRecord(account="acme", metric="gb", quantity=q, start=hour(h), end=hour(h + 1))
            for h, q in ((0, "8"), (1, "4"))
        ]
        run = HOURLY.deductions(plan, records, start=T0, end=hour(2))
        first, second = run.deductions
        # 8 GB at 1.00 = 8.00; then 12 GB, all at 0.50 = 6.00: 2.00 given back
        assert first.amount == Money("8.00", "EUR") and second.amount == Money("-2.00", "EUR")
        assert first.entry().kind == "deduction" and first.entry().amount == Money("-8.00", "EUR")
        assert second.entry().kind == "refund" and second.entry().amount == Money("2.00", "EUR")
        assert run.total("acme") == Money("6.00", "EUR")

    def test_explain_states_the_sum(self):
        run = HOURLY.deductions(PLAN, usage(2), start=T0, end=hour(2))
        text = run.explain("acme")
        assert text.splitlines()[-1] == (
            f"hourly deductions: 2, sum {run.total('acme').amount} EUR = month-to-date bill "
            "growth over the run"
        )

    def test_windows_follow_the_plan_timezone_across_dst(self):
        """Daily windows are local days: 25 hours on the day Berlin leaves summer time."""
        plan = load_plan("""
name: Berlin
currency: EUR
timezone: Europe/Berlin
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.01"}
""")
        berlin = ZoneInfo("Europe/Berlin")
        start, end = datetime(2026, 10, 25, tzinfo=berlin), datetime(2026, 10, 27, tzinfo=berlin)
        days = DAILY.windows(plan, start, end)
        lengths = [b.astimezone(UTC) - a.astimezone(UTC) for a, b in days]
        assert lengths == [timedelta(hours=25), timedelta(hours=24)]
        assert len(HOURLY.windows(plan, start, end)) == 49

    def test_runs_must_start_and_end_on_boundaries(self):
        with pytest.raises(PlanError, match="not on an hourly boundary"):
            HOURLY.deductions(PLAN, [], start=T0 + timedelta(minutes=30), end=hour(2))
        with pytest.raises(PlanError, match="not on an daily boundary"):
            DAILY.deductions(PLAN, [], start=hour(1), end=hour(25))
        with pytest.raises(PlanError, match="'daily' or 'monthly'"):
            PrepaidHourly(enabled=False, fallback="weekly")

    def test_usage_from_before_the_month_is_refused(self):
        record = UsageRecord(
            account="acme",
            metric="vcpu_hours",
            quantity="1",
            start=T0 - timedelta(hours=1),
            end=hour(1),
        )
        with pytest.raises(RatingError, match="outside the period"):
            HOURLY.deductions(PLAN, [record], start=T0, end=hour(2))


class TestApply:
    def ledger(self, balance="10.00", **kw) -> Ledger:
        ledger = Ledger(**kw)
        for account in ("acme", "globex"):
            ledger.open(account, "EUR", at=T0)
            ledger.recharge(account, Money(balance, "EUR"), key=f"pay-{account}", at=T0)
        return ledger

    def test_applies_once(self):
        run = HOURLY.deductions(PLAN, usage(24), start=T0, end=hour(24))
        ledger = self.ledger()
        report = run.apply(ledger)
        assert report.written == 48 and report.existing == 0 and report.suspended == ()
        assert run.apply(ledger).existing == 48
        for account in ("acme", "globex"):
            assert ledger.balance(account).amount == Decimal("10.00") - run.total(account).amount

    def test_unknown_account_writes_nothing(self):
        run = HOURLY.deductions(PLAN, usage(3, accounts=("acme", "initech")), start=T0, end=hour(3))
        ledger = self.ledger()
        with pytest.raises(UnknownAccountError, match="initech"):
            run.apply(ledger)
        assert [e.kind for e in ledger.entries()] == ["recharge", "recharge"]

    def test_floor_reached_suspends_and_reports_the_shortfall(self):
        """Negative balance off: deductions stop at zero, the rest is reported."""
        run = HOURLY.deductions(PLAN, usage(24, vcpu="40"), start=T0, end=hour(24))
        # 40 vCPU x 0.0125 = 0.50 an hour (+ storage): 10.00 lasts under 20 hours
        ledger = self.ledger()
        report = run.apply(ledger)
        assert report.suspended == ("acme", "globex")
        assert ledger.balance("acme") == Money("0.00", "EUR")
        missing = sum(
            (s.missing.amount for s in report.shortfalls if s.account == "acme"), Decimal(0)
        )
        assert missing == run.total("acme").amount - Decimal("10.00")
        with pytest.raises(InsufficientFundsError):
            run.apply(self.ledger(), partial=False)

    def test_negative_balance_allowed_goes_below_zero(self):
        """Negative balance on with a floor of -20: the whole run is deducted."""
        rule = NegativeBalance(allowed=True, floor=Money("-20.00", "EUR"), display=True)
        run = HOURLY.deductions(PLAN, usage(24, vcpu="40"), start=T0, end=hour(24))
        ledger = self.ledger(negative_balance=rule)
        report = run.apply(ledger)
        assert report.shortfalls == () and report.suspended == ()
        assert ledger.balance("acme").amount == Decimal("10.00") - run.total("acme").amount < 0

    def test_account_in_another_currency(self):
        ledger = Ledger()
        ledger.open("acme", "USD", at=T0)
        run = HOURLY.deductions(PLAN, usage(1, accounts=("acme",)), start=T0, end=hour(1))
        with pytest.raises(Exception, match="is in USD but plan 'Prepaid' bills in EUR"):
            run.apply(ledger)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 47),
            st.sampled_from(["acme", "globex"]),
            st.sampled_from(["vcpu_hours", "volume_gb_hours"]),
            st.decimals(min_value=0, max_value=500, places=3),
        ),
        max_size=30,
    ),
    st.integers(1, 47),
)
def test_any_usage_any_split(items, cut):
    """For any usage: hourly deductions sum to the month-to-date bill, daily ones too,
    and a run split at any hour gives the same deductions."""
    records = [
        UsageRecord(account=a, metric=m, quantity=str(q), start=hour(h), end=hour(h + 1))
        for h, a, m, q in items
    ]
    whole = HOURLY.deductions(PLAN, records, start=T0, end=hour(48))
    parts = (
        HOURLY.deductions(PLAN, records, start=T0, end=hour(cut)).deductions
        + HOURLY.deductions(PLAN, records, start=hour(cut), end=hour(48)).deductions
    )
    assert parts == whole.deductions
    daily = DAILY.deductions(PLAN, records, start=T0, end=hour(48))
    if records:
        bill = month_bill(records)
        for account in {r.account for r in records}:
            assert whole.total(account) == bill.bill(account).total == daily.total(account)
        ledger = Ledger()
        for account in whole.accounts:
            ledger.open(account, "EUR", at=T0)
            ledger.recharge(account, Money("1000.00", "EUR"), key=f"pay-{account}", at=T0)
        report = whole.apply(ledger)
        assert report.shortfalls == ()
        for account in whole.accounts:
            assert ledger.balance(account).amount == 1000 - bill.bill(account).total.amount
