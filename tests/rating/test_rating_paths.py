"""rate()'s summing fast path, its general path and the default period give the same bills."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate.testing import usage_records

PRICES = {
    "vcpu_hours": Decimal("0.0125"),
    "bandwidth_gb": Decimal("0.004512"),
    "storage_gb_hours": Decimal("0.00013"),
}


def _plan(**extra_charges: object) -> cloudrate.Plan:
    charges = [
        {"name": m, "metric": m, "model": "per_unit", "unit_price": str(p)}
        for m, p in PRICES.items()
    ]
    return cloudrate.load_plan(
        {"name": "P", "currency": "EUR", "charges": charges, **extra_charges}
    )


def _record(
    account: str, metric: str, quantity: str, start: datetime, hours: int = 1, **attributes: str
) -> cloudrate.UsageRecord:
    return cloudrate.UsageRecord(
        account=account,
        metric=metric,
        quantity=quantity,
        start=start,
        end=start + timedelta(hours=hours),
        resource_id="vm-1",
        attributes=attributes,
    )


T0 = datetime(2026, 10, 1, tzinfo=UTC)
OCTOBER = cloudrate.BillingPeriod.month(2026, 10)


class TestSummedMetrics:
    @given(st.lists(usage_records(metrics=st.sampled_from([*PRICES, "unknown"])), max_size=40))
    def test_per_unit_totals_equal_the_per_record_sum(self, records):
        """Per-unit lines equal the sum of quantity x price over the distinct records
        (exact arithmetic is distributive; a record given twice is billed once), with the
        record count, and unknown metrics are counted as unpriced."""
        result = cloudrate.rate(_plan(), records, OCTOBER)
        distinct = list(dict.fromkeys(records))  # equal records (no ids here) are copies
        assert result.duplicates_dropped == len(records) - len(distinct)
        expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        counts: Counter[tuple[str, str]] = Counter()
        for r in distinct:
            if r.metric in PRICES:
                expected[(r.account, r.metric)] += r.quantity * PRICES[r.metric]
                counts[(r.account, r.metric)] += 1
        for bill in result.bills:
            for line in bill.lines:
                assert line.amount.amount == expected[(bill.account, line.charge)]
                assert line.records == counts[(bill.account, line.charge)]
        assert {b.account for b in result.bills} == {r.account for r in records}
        unknown = sum(1 for r in distinct if r.metric == "unknown")
        assert sum(u.records for u in result.unpriced) == unknown

    def test_two_charges_on_one_metric_both_get_the_sum(self):
        """Two unselective charges on one metric each price the full summed quantity."""
        plan = cloudrate.load_plan(
            {
                "name": "P",
                "currency": "EUR",
                "charges": [
                    {"name": "a", "metric": "vcpu_hours", "model": "per_unit", "unit_price": "1"},
                    {"name": "b", "metric": "vcpu_hours", "model": "per_unit", "unit_price": "2"},
                ],
            }
        )
        records = [_record("acme", "vcpu_hours", q, T0) for q in ("1.5", "2.25")]
        bill = cloudrate.rate(plan, records).bill("acme")
        assert [(x.quantity, x.amount.amount, x.records) for x in bill.lines] == [
            (Decimal("3.75"), Decimal("3.75"), 2),
            (Decimal("3.75"), Decimal("7.50"), 2),
        ]


class TestSelectedMetrics:
    def test_where_splits_records_and_reports_the_rest(self):
        """Records go to the charges whose 'where' selects them; the others are unpriced."""
        plan = cloudrate.load_plan(
            {
                "name": "P",
                "currency": "EUR",
                "charges": [
                    {
                        "name": "ssd",
                        "metric": "storage_gb_hours",
                        "where": {"tier": "ssd"},
                        "model": "per_unit",
                        "unit_price": "0.0002",
                    },
                    {
                        "name": "hdd",
                        "metric": "storage_gb_hours",
                        "where": {"tier": ["hdd", "cold"]},
                        "model": "per_unit",
                        "unit_price": "0.0001",
                    },
                ],
            }
        )
        records = [
            _record("acme", "storage_gb_hours", "100", T0, tier="ssd"),
            _record("acme", "storage_gb_hours", "50", T0, tier="cold"),
            _record("acme", "storage_gb_hours", "70", T0, tier="hdd"),
            _record("acme", "storage_gb_hours", "9", T0, tier="tape"),
        ]
        result = cloudrate.rate(plan, records)
        bill = result.bill("acme")
        assert bill.line("ssd").quantity == 100 and bill.line("ssd").records == 1
        assert bill.line("hdd").quantity == 120 and bill.line("hdd").records == 2
        [unpriced] = result.unpriced
        assert unpriced.records == 1
        assert unpriced.reason == "no charge's 'where' selects these records"

    def test_accounts_with_only_unpriced_usage_are_billed(self):
        """An account whose records no charge prices still gets its bill (and its flat
        fees), and the records are listed as unpriced."""
        plan = cloudrate.load_plan(
            {
                "name": "P",
                "currency": "EUR",
                "charges": [
                    {
                        "name": "ssd",
                        "metric": "storage_gb_hours",
                        "where": {"tier": "ssd"},
                        "model": "per_unit",
                        "unit_price": "0.0002",
                    },
                    {"name": "platform", "model": "flat", "price": "5.00"},
                ],
            }
        )
        records = [
            _record("x", "gpu_hours", "1", T0),
            _record("y", "storage_gb_hours", "10", T0, tier="hdd"),
            _record("z", "storage_gb_hours", "10", T0, tier="ssd"),
        ]
        result = cloudrate.rate(plan, records)
        assert result.totals() == {
            a: Money(t, "EUR") for a, t in (("x", "5.00"), ("y", "5.00"), ("z", "5.00"))
        }
        assert [(u.metric, u.accounts) for u in result.unpriced] == [
            ("gpu_hours", ("x",)),
            ("storage_gb_hours", ("y",)),
        ]


class TestPeriod:
    def test_default_period_is_the_month_of_the_earliest_record(self):
        """The first record need not be the earliest: the month still comes from the earliest."""
        records = [
            _record("acme", "vcpu_hours", "1", T0 + timedelta(days=20)),
            _record("acme", "vcpu_hours", "1", T0),
        ]
        assert cloudrate.rate(_plan(), records).period == OCTOBER

    def test_default_period_error_names_the_earliest_month(self):
        """Usage over two months without a period fails, naming the earliest month."""
        records = [
            _record("acme", "vcpu_hours", "1", T0),
            _record("acme", "vcpu_hours", "1", T0 - timedelta(days=3)),
        ]
        with pytest.raises(
            cloudrate.RatingError,
            match=r"1 record\(s\) lie outside the period "
            r"2026-09 .* from 2026-10-01T00:00:00\+00:00",
        ):
            cloudrate.rate(_plan(), records)

    def test_accounts_given_as_an_iterator_are_billed(self):
        """Accounts from a one-shot iterator are billed even when the default period is
        looked for a second time."""
        records = [
            _record("acme", "vcpu_hours", "1", T0 + timedelta(days=20)),
            _record("acme", "vcpu_hours", "1", T0 - timedelta(days=3)),
        ]
        with pytest.raises(cloudrate.RatingError):
            cloudrate.rate(_plan(), records, accounts=iter(["globex"]))
        result = cloudrate.rate(_plan(), records[:1], accounts=iter(["globex"]))
        assert [b.account for b in result.bills] == ["acme", "globex"]

    @pytest.mark.parametrize(
        "offset", [timezone(timedelta(hours=2)), ZoneInfo("Europe/Berlin"), UTC]
    )
    def test_period_bounds_compare_as_instants(self, offset):
        """A record at the period's start in any timezone is inside; a microsecond earlier
        is outside."""
        period = cloudrate.BillingPeriod.month(2026, 10, "Europe/Berlin")
        start = period.start.astimezone(offset)
        inside = _record("acme", "vcpu_hours", "1", start)
        assert cloudrate.rate(_plan(), [inside], period).bill("acme").total.amount == Decimal(
            "0.01"
        )
        early = _record("acme", "vcpu_hours", "1", start - timedelta(microseconds=1))
        with pytest.raises(cloudrate.RatingError, match="lie outside the period 2026-10"):
            cloudrate.rate(_plan(), [early], period)
