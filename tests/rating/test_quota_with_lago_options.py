"""CloudStack's quota conventions (issue 13: ``month_hours``, validity windows) together
with Lago's (``rounding`` on a metric, ``zero_usage``, transaction percentages), in both
rating engines.

How they compose:

- a metric's quantity is converted first, with the month ``month_hours`` gives, and
  rounded after: ``per: aggregate`` rounds the converted aggregate, ``per: record``
  each record converted with its month (under ``actual``, the calendar month the record
  starts in), as CloudStack's quota plugin converts each usage record with the hours of
  its month (https://github.com/apache/cloudstack/pull/7210) and rounds it
  (``QuotaManagerImpl``: 8 decimals, half even);
- a validity window selects the records of a transaction charge as of any usage charge;
- a ``zero_usage: first_flat_fee`` charge (https://github.com/getlago/lago-api/pull/5760)
  with a validity window bills an account with none of its records the first flat fee
  only when the window overlaps the billing period.

Expected values are worked by hand (fractions of the months' hours), never by the code
under test; every case is checked through ``rate()``, ``rate_table()``,
``account_totals()`` and partials of one record each, combined.
"""

from __future__ import annotations

import calendar
import decimal
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.rating._engines import every_engine as _engines

import cloudrate
from cloudrate import BillingPeriod, UsageRecord
from cloudrate.plans import Plan

D = Decimal
QUARTER = BillingPeriod.parse("2026-01-01..2026-03-31")
FEBRUARY = BillingPeriod.month(2026, 2)
_MODES = {
    "round": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "ceil": ROUND_CEILING,
    "floor": ROUND_FLOOR,
}


def _vm(start: datetime, hours: int, n: int, account: str = "acme") -> UsageRecord:
    return UsageRecord(
        account=account,
        metric="vm_hours",
        quantity=D(hours),
        start=start,
        end=start + timedelta(hours=hours),
        record_id=f"r{n}",
        resource_id="vm-1",
    )


def _vm_plan(month_hours: str, mode: str, precision: int, per: str) -> Plan:
    return cloudrate.load_plan(
        {
            "name": "VM",
            "currency": "EUR",
            "metrics": {
                "vm_hours": {
                    "unit": "VM-month",
                    "usage_unit": "VM-hour",
                    "month_hours": month_hours,
                    "rounding": {"mode": mode, "precision": precision, "per": per},
                }
            },
            "charges": [
                {"name": "vm", "metric": "vm_hours", "model": "per_unit", "unit_price": "100"}
            ],
        }
    )


def _hours(month_hours: str, start: datetime, period: BillingPeriod) -> int:
    """The hours of a month, worked out apart from the library: 720, the period's, or
    the days of the record's month x 24."""
    if month_hours == "fixed_720":
        return 720
    if month_hours == "period":
        return int((period.end - period.start).total_seconds()) // 3600
    return calendar.monthrange(start.year, start.month)[1] * 24


class TestMonthLengthThenRounding:
    """Conversion with the month ``month_hours`` gives, then the metric's rounding."""

    def test_each_record_by_its_own_month_then_rounded(self):
        """One VM-hour on each of February 1 and March 1 2026, 4 decimals half even, per
        record: 1/672 = 0.001488... is 0.0015, 1/744 = 0.001344... is 0.0013; 0.0028
        VM-months at 100 EUR is 0.28."""
        plan = _vm_plan("actual", "half_even", 4, "record")
        records = [
            _vm(datetime(2026, 2, 1, tzinfo=UTC), 1, 0),
            _vm(datetime(2026, 3, 1, tzinfo=UTC), 1, 1),
        ]
        line = _engines(plan, records, QUARTER).bill("acme").line("vm")
        assert line.usage_quantity == D("0.0028")
        assert line.rounded.amount == D("0.28")

    def test_the_months_sums_converted_then_the_aggregate_rounded(self):
        """The same records per aggregate: 1/672 + 1/744 = 0.0028033..., 0.0028; and up
        (ceil) 0.0029."""
        records = [
            _vm(datetime(2026, 2, 1, tzinfo=UTC), 1, 0),
            _vm(datetime(2026, 3, 1, tzinfo=UTC), 1, 1),
        ]
        line = _engines(_vm_plan("actual", "half_even", 4, "aggregate"), records, QUARTER)
        assert line.bill("acme").line("vm").usage_quantity == D("0.0028")
        line = _engines(_vm_plan("actual", "ceil", 4, "aggregate"), records, QUARTER)
        assert line.bill("acme").line("vm").usage_quantity == D("0.0029")

    @pytest.mark.parametrize(
        ("month_hours", "per", "expected"),
        [
            # ten records of 1 VM-hour in February 2026 at 4 decimals, half even
            ("fixed_720", "record", "0.0140"),  # 1/720 = 0.001388... -> 0.0014, x 10
            ("fixed_720", "aggregate", "0.0139"),  # 10/720 = 0.013888... -> 0.0139
            ("actual", "record", "0.0150"),  # 1/672 = 0.001488... -> 0.0015, x 10
            ("actual", "aggregate", "0.0149"),  # 10/672 = 0.014880... -> 0.0149
            ("period", "record", "0.0150"),  # February is the period: 672 hours
            ("period", "aggregate", "0.0149"),
        ],
    )
    def test_every_month_length_with_either_rounding(self, month_hours, per, expected):
        records = [_vm(datetime(2026, 2, 1 + i, tzinfo=UTC), 1, i) for i in range(10)]
        plan = _vm_plan(month_hours, "half_even", 4, per)
        line = _engines(plan, records, FEBRUARY).bill("acme").line("vm")
        assert line.usage_quantity == D(expected)

    def test_without_rounding_the_conversion_is_exact(self):
        """Off: 1/672 + 1/744 VM-months exactly (as the month_hours tests have it)."""
        plan = cloudrate.load_plan(
            {
                "name": "VM",
                "currency": "EUR",
                "metrics": {
                    "vm_hours": {
                        "unit": "VM-month",
                        "usage_unit": "VM-hour",
                        "month_hours": "actual",
                    }
                },
                "charges": [
                    {"name": "vm", "metric": "vm_hours", "model": "per_unit", "unit_price": "100"}
                ],
            }
        )
        records = [
            _vm(datetime(2026, 2, 1, tzinfo=UTC), 1, 0),
            _vm(datetime(2026, 3, 1, tzinfo=UTC), 1, 1),
        ]
        used = _engines(plan, records, QUARTER).bill("acme").line("vm").usage_quantity
        assert Fraction(used) == pytest.approx(Fraction(1, 672) + Fraction(1, 744), abs=1e-50)

    @settings(max_examples=40, deadline=None)
    @given(
        month_hours=st.sampled_from(("period", "fixed_720", "actual")),
        mode=st.sampled_from(tuple(_MODES)),
        precision=st.integers(0, 6),
        per=st.sampled_from(("aggregate", "record")),
        spans=st.lists(
            st.tuples(st.integers(0, 89 * 24 - 30), st.integers(1, 24)), min_size=1, max_size=6
        ),
    )
    def test_property_both_engines_convert_then_round(
        self, month_hours, mode, precision, per, spans
    ):
        start = datetime(2026, 1, 1, tzinfo=UTC)
        records = [
            _vm(start + timedelta(hours=at), hours, n) for n, (at, hours) in enumerate(spans)
        ]
        plan = _vm_plan(month_hours, mode, precision, per)
        used = _engines(plan, records, QUARTER).bill("acme").line("vm").usage_quantity
        parts = [Fraction(int(r.quantity), _hours(month_hours, r.start, QUARTER)) for r in records]
        step = D(1).scaleb(-precision)
        if per == "record":
            expected = sum((_exact(p).quantize(step, rounding=_MODES[mode]) for p in parts), D(0))
        else:
            expected = _exact(sum(parts, Fraction(0))).quantize(step, rounding=_MODES[mode])
        assert used == expected


def _exact(value: Fraction) -> Decimal:
    """*value* as a Decimal of 40 digits: exact for the halves, quarters and tenths a
    tie needs, and ample before a rounding to 6 decimals otherwise."""
    with decimal.localcontext(decimal.Context(prec=40)):
        return D(value.numerator) / D(value.denominator)


# --- validity windows on zero_usage and transaction charges ---------------------------


def _zero_usage_plan(valid: dict[str, str] | None) -> Plan:
    """Lago's graduated example with a first flat fee of 2 (getlago/lago-api
    spec/services/charge_models/graduated_service_spec.rb), valid in *valid*."""
    charge: dict[str, Any] = {
        "name": "api",
        "metric": "api_calls",
        "model": "graduated",
        "zero_usage": "first_flat_fee",
        "tiers": [
            {"up_to": 10, "unit_price": "10", "flat_price": "2"},
            {"up_to": None, "unit_price": "5", "flat_price": "3"},
        ],
    }
    if valid is not None:
        charge["valid"] = valid
    return cloudrate.load_plan({"name": "API", "currency": "USD", "charges": [charge]})


def _call(day: int, n: int, account: str = "acme", month: int = 10) -> UsageRecord:
    start = datetime(2026, month, day, tzinfo=UTC)
    return UsageRecord(
        account=account,
        metric="api_calls",
        quantity=D(1),
        start=start,
        end=start + timedelta(hours=1),
        record_id=f"c{n}",
    )


OCTOBER = BillingPeriod.month(2026, 10)


class TestZeroUsageInAWindow:
    @pytest.mark.parametrize(
        ("valid", "billed"),
        [
            (None, True),  # off: always valid
            ({"from": "2026-10-01", "until": "2026-10-31"}, True),
            ({"from": "2026-10-31"}, True),  # overlaps the period's last day
            ({"until": "2026-10-01"}, True),  # overlaps its first day
            ({"from": "2026-10-15", "until": "2026-10-15"}, True),
            ({"until": "2026-09-30"}, False),  # ends before the period
            ({"from": "2026-11-01"}, False),  # starts after it
        ],
    )
    def test_an_account_without_records_pays_the_first_flat_fee_when_the_window_overlaps(
        self, valid, billed
    ):
        """ "bob" has no record at all; "acme" one call, on October 20, outside some of
        the windows. An account with none of its charge's records in the window is priced
        at no usage: 2 USD, when the window overlaps October."""
        plan = _zero_usage_plan(valid)
        result = _engines(plan, [_call(20, 0)], OCTOBER, accounts=("bob",))
        line = result.bill("bob").line("api") if billed else None
        if billed:
            assert line is not None
            assert line.rounded.amount == D("2.00")
        else:
            assert all(not bill.lines for bill in result.bills if bill.account == "bob")

    def test_records_outside_the_window_leave_the_first_flat_fee(self):
        """acme's one call is on October 20, the window October 1 to 10: no usage in the
        window, so the first flat fee only (2 USD); one call inside costs 10 + 2."""
        plan = _zero_usage_plan({"from": "2026-10-01", "until": "2026-10-10"})
        outside = _engines(plan, [_call(20, 0)], OCTOBER).bill("acme").line("api")
        assert outside.rounded.amount == D("2.00")
        inside = _engines(plan, [_call(20, 0), _call(5, 1)], OCTOBER).bill("acme").line("api")
        assert inside.rounded.amount == D("12.00")

    @settings(max_examples=40, deadline=None)
    @given(
        first=st.one_of(st.none(), st.dates(date(2026, 8, 1), date(2026, 12, 31))),
        length=st.integers(0, 60),
        days=st.lists(st.integers(1, 31), max_size=4),
    )
    def test_property_the_fee_follows_the_window_s_overlap(self, first, length, days):
        last = None if first is None else first + timedelta(days=length)
        valid = {}
        if first is not None:
            valid["from"] = first.isoformat()
        if last is not None and length % 3:  # some windows open-ended
            valid["until"] = last.isoformat()
        plan = _zero_usage_plan(valid or None)
        records = [_call(day, n) for n, day in enumerate(days)]
        result = _engines(plan, records, OCTOBER, accounts=("acme",))
        low = date(1, 1, 1) if "from" not in valid else date.fromisoformat(valid["from"])
        high = date(9999, 1, 1) if "until" not in valid else date.fromisoformat(valid["until"])
        overlaps = low <= date(2026, 10, 31) and high >= date(2026, 10, 1)
        inside = sum(1 for day in days if low <= date(2026, 10, day) <= high)
        line = next((li for li in result.bill("acme").lines if li.charge == "api"), None)
        if not overlaps:
            assert line is None
        else:
            assert line is not None
            units = min(inside, 10) * 10 + max(inside - 10, 0) * 5
            flats = 2 if inside <= 10 else 5
            assert line.rounded.amount == D(units + flats)


class TestTransactionsInAWindow:
    def test_only_the_window_s_transactions_are_priced(self):
        """Lago's percentage on transactions (1% + 0.50 a transaction,
        https://getlago.com/docs/guide/plans/charges/charge-models/percentage): of
        payments of 100 on October 5 and 200 on October 25, a window until October 10
        prices the first only: 1 + 0.50 = 1.50; without the window 3 + 1 = 4.00."""

        def plan(valid: dict[str, str] | None) -> Plan:
            charge: dict[str, Any] = {
                "name": "fees",
                "metric": "payments",
                "model": "transaction_percentage",
                "percent": "1",
                "fixed_fee": "0.50",
            }
            if valid is not None:
                charge["valid"] = valid
            return cloudrate.load_plan({"name": "P", "currency": "EUR", "charges": [charge]})

        def pay(day: int, amount: int, n: int) -> UsageRecord:
            start = datetime(2026, 10, day, tzinfo=UTC)
            return UsageRecord(
                account="acme",
                metric="payments",
                quantity=D(amount),
                start=start,
                end=start,
                record_id=f"p{n}",
            )

        records = [pay(5, 100, 0), pay(25, 200, 1)]
        windowed = _engines(plan({"until": "2026-10-10"}), records, OCTOBER)
        assert windowed.bill("acme").line("fees").rounded.amount == D("1.50")
        whole = _engines(plan(None), records, OCTOBER)
        assert whole.bill("acme").line("fees").rounded.amount == D("4.00")
