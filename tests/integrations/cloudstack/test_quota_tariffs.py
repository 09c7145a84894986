"""``quota_plan`` and ``quota_charge`` reproducing the quota plugin's numbers (issue 13):
the month's hours (``month_hours``), the hourly cost rounded to 8 places
(``hourly_places``), several tariffs of one type with validity windows and activation
conditions (``QuotaTariff``).

Sources: ``QuotaManagerImpl.getUsageValueAccordingToUsageUnitType`` and ``getCostPerHour``
(apache/cloudstack framework/quota/src/main/java/org/apache/cloudstack/quota/
QuotaManagerImpl.java), its test ``QuotaManagerImplTest``, and the example of
https://github.com/apache/cloudstack/pull/7210. Values worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cloudrate import BillingPeriod, PlanError, UsageRecord, rate
from cloudrate.exceptions import FloatNotAllowedError
from cloudrate.integrations.cloudstack import QuotaTariff, quota_charge, quota_plan
from cloudrate.plans import Validity, dump_plan, load_plan
from cloudrate.rating.columnar import rate_table, to_table

D = Decimal
OCTOBER = BillingPeriod.month(2026, 10)


def _vm(start: datetime, hours: int, **attributes: str) -> UsageRecord:
    return UsageRecord(
        account="acme",
        metric="running_vm_hours",
        quantity=D(hours),
        start=start,
        end=start + timedelta(hours=hours),
        attributes=attributes,
    )


def _both(plan, records, period):  # type: ignore[no-untyped-def]
    result = rate(plan, records, period)
    assert rate_table(plan, to_table(records), period).to_json() == result.to_json()
    return result


class TestHourlyCost:
    def test_quota_manager_test_all_types(self):
        """QuotaManagerImplTest.getUsageValueAccordingToUsageUnitTypeTestAllTypes: raw usage
        10, tariffs 400, 720 hours: cost per hour 400/720 = 0.5555... rounded half-even to
        0.55555556; x 10 = 5.5555556 (COMPUTE_MONTH); the same for a 1 GiB volume
        (GB_MONTH)."""
        plan = quota_plan(
            {"RUNNING_VM": "400", "VOLUME": "400"},
            currency="EUR",
            month_hours="fixed_720",
            hourly_places=8,
        )
        assert plan.charge("running_vm").model.unit_price.amount == D("0.55555556")
        volume = UsageRecord(
            account="acme",
            metric="volume_gb_hours",
            quantity=D(10),
            start=OCTOBER.start,
            end=OCTOBER.start + timedelta(hours=10),
        )
        bill = _both(plan, [_vm(OCTOBER.start, 10), volume], OCTOBER).bill("acme")
        assert bill.line("running_vm").amount.amount == D("5.55555560")
        assert bill.line("volume").amount.amount == D("5.55555560")

    def test_pull_request_7210_month_by_month(self):
        """Pull request 7210: a tariff of 100 a month; hourly costs by month, rounded to 8
        places: 100/744 = 0.13440860, 100/672 = 0.14880952, 100/696 (leap) = 0.14367816,
        100/720 = 0.13888889. One hour a month in 2026: 7 x 0.13440860 + 0.14880952 +
        4 x 0.13888889 = 1.64522528; with 720-hour months 12 x 0.13888889 = 1.66666668."""
        expected = {31: D("0.13440860"), 28: D("0.14880952"), 30: D("0.13888889")}
        total, fixed = D(0), D(0)
        for month in range(1, 13):
            period = BillingPeriod.month(2026, month)
            plan = quota_plan({"RUNNING_VM": "100"}, currency="EUR", period=period)
            line = _both(plan, [_vm(period.start, 1)], period).bill("acme").line("running_vm")
            days = (period.end - period.start).days
            assert line.amount.amount == expected[days]
            total += line.amount.amount
            old = quota_plan(
                {"RUNNING_VM": "100"}, currency="EUR", month_hours="fixed_720", hourly_places=8
            )
            fixed += (
                _both(old, [_vm(period.start, 1)], period)
                .bill("acme")
                .line("running_vm")
                .amount.amount
            )
        assert total == D("1.64522528")
        assert fixed == D("1.66666668")
        leap = BillingPeriod.month(2028, 2)
        plan = quota_plan({"RUNNING_VM": "100"}, currency="EUR", period=leap)
        assert plan.charge("running_vm").model.unit_price.amount == D("0.14367816")

    def test_exact_by_default(self):
        """Without hourly_places the division is exact, month by month: 24 hours of
        October at 72 a month is 72 x 24/744 = 2.3225806..., billed 2.32."""
        plan = quota_plan({"RUNNING_VM": "72"}, currency="EUR")
        assert plan.metric("running_vm_hours").month_hours == "actual"
        line = _both(plan, [_vm(OCTOBER.start, 24)], OCTOBER).bill("acme").line("running_vm")
        assert line.rounded.amount == D("2.32")
        assert str(line.amount.amount).startswith("2.32258064516129032258")

    def test_fixed_720_exact(self):
        plan = quota_plan({"RUNNING_VM": "72"}, currency="EUR", month_hours="fixed_720")
        line = _both(plan, [_vm(OCTOBER.start, 24)], OCTOBER).bill("acme").line("running_vm")
        assert line.amount.amount == D("2.4")  # 72 x 24 / 720

    def test_a_quarter_converts_each_month_with_its_own_length(self):
        """Exactly: 744 hours in January and 672 in February of one tariff of 100 cost
        100 + 100."""
        quarter = BillingPeriod(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
        plan = quota_plan({"RUNNING_VM": "100"}, currency="EUR")
        records = [
            _vm(datetime(2026, 1, 1, tzinfo=UTC), 744),
            _vm(datetime(2026, 2, 1, tzinfo=UTC), 672),
        ]
        assert _both(plan, records, quarter).bill("acme").total.amount == D("200.00")

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"hourly_places": 8}, "depends on the month"),
            ({"hourly_places": 8, "month_hours": "period"}, "depends on the month"),
            (
                {
                    "hourly_places": 8,
                    "period": BillingPeriod(
                        datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
                    ),
                },
                "spans several calendar months",
            ),
            ({"hourly_places": -1}, "decimal places"),
            ({"hourly_places": True}, "decimal places"),
            ({"month_hours": "730"}, "month_hours"),
        ],
    )
    def test_bad_options(self, kwargs, message):
        with pytest.raises(PlanError, match=message):
            quota_charge("RUNNING_VM", "72", currency="EUR", **kwargs)

    def test_the_period_month_hours_rounded(self):
        """month_hours='period' with a rounded hourly cost divides by the period's hours."""
        two_weeks = BillingPeriod(OCTOBER.start, OCTOBER.start + timedelta(days=14))
        charge, _ = quota_charge(
            "RUNNING_VM",
            "336",
            currency="EUR",
            month_hours="period",
            hourly_places=8,
            period=two_weeks,
        )
        assert charge.model.unit_price.amount == D("1.00000000")


class TestSeveralTariffs:
    def test_tariffs_add_up_within_their_windows(self):
        """Two RUNNING_VM tariffs: 72 a month all year, and a surcharge of 31 a month from
        October 16 (the window's first day) for VMs of more than 2 CPUs. Daily records of
        a 4-CPU VM all October: 72 + 31 x 16/31 = 88 EUR; a 1-CPU VM: 72 EUR."""
        plan = quota_plan(
            {
                "RUNNING_VM": [
                    "72",
                    QuotaTariff(
                        value="31",
                        valid=Validity(date(2026, 10, 16)),
                        where={"cpunumber": {"gt": 2}},
                        name="large_vm_surcharge",
                    ),
                ]
            },
            currency="EUR",
        )
        assert [c.name for c in plan.charges] == ["running_vm", "large_vm_surcharge"]
        days = [OCTOBER.start + timedelta(days=d) for d in range(31)]
        big = [_vm(t, 24, cpunumber="4") for t in days]
        small = [_vm(t, 24, cpunumber="1") for t in days]
        assert _both(plan, big, OCTOBER).bill("acme").total.amount == D("88.00")
        assert _both(plan, small, OCTOBER).bill("acme").total.amount == D("72.00")

    def test_names_of_unnamed_tariffs(self):
        plan = quota_plan(
            {"RUNNING_VM": ["1", "2", QuotaTariff(value="3", valid={"until": "2026-12-31"})]},
            currency="EUR",
        )
        assert [c.name for c in plan.charges] == ["running_vm", "running_vm_2", "running_vm_3"]
        assert plan.charge("running_vm_3").valid == Validity(None, date(2026, 12, 31))

    def test_the_plan_round_trips(self):
        plan = quota_plan(
            {
                1: [
                    "72",
                    QuotaTariff(
                        value="10",
                        valid={"from": "2026-01-01", "until": "2026-06-30"},
                        where={"memory": {"gte": 8192}},
                    ),
                ],
                "VOLUME": "3.72",
            },
            currency="EUR",
            month_hours="fixed_720",
        )
        assert load_plan(dump_plan(plan)) == plan

    def test_bad_tariffs(self):
        with pytest.raises(PlanError, match="valid: takes from and until"):
            QuotaTariff(value="1", valid={"since": "2026-01-01"})
        with pytest.raises(FloatNotAllowedError, match="tariff value"):
            QuotaTariff(value=1.5)
        with pytest.raises(PlanError, match="no number"):
            QuotaTariff(value="1", where={"cpunumber": {"gt": 4, "lt": 2}})
