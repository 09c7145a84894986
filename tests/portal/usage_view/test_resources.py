"""The usage summary per resource: each resource's quantity and its share of the cost."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cloudrate
from cloudrate import UsageRecord
from cloudrate.portal.usage_view import (
    NO_RESOURCE,
    DateRange,
    report_csv,
    resource_table,
    split_amount,
    usage_view,
)

PLAN = """
name: Test
currency: EUR
timezone: UTC
metrics:
  vcpu_hours:  {unit: vCPU-hour}
  volume_gb:   {unit: GB-month, usage_unit: GB-hour}
  disk_gb:     {unit: GB, aggregation: average}
  ip_hours:    {unit: IP-hour}
charges:
  - {name: compute, service: Compute, metric: vcpu_hours, model: per_unit, unit_price: "0.01"}
  - {name: storage, service: Storage, metric: volume_gb, model: per_unit, unit_price: "0.10",
     free_units: 10}
  - {name: disk, service: Storage, metric: disk_gb, model: per_unit, unit_price: "0.02"}
  - {name: ip, service: Network, metric: ip_hours, model: per_unit, unit_price: "0.3333333"}
  - {name: support, service: Support, model: percentage, percent: "10", of: [compute]}
"""
OCTOBER = DateRange.custom(date(2026, 10, 1), date(2026, 10, 31))


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def rec(metric: str, quantity: str, resource: str | None, start=None, end=None) -> UsageRecord:
    return UsageRecord(
        account="acme",
        metric=metric,
        quantity=quantity,
        start=start or at(1),
        end=end or at(2),
        resource_id=resource,
    )


@pytest.fixture(name="plan")
def _plan():
    return cloudrate.load_plan(PLAN)


def costs(view, charge):
    return {
        row.resource_id: item.cost.amount
        for row in view.resources
        for item in row.items
        if item.charge == charge
    }


class TestSplit:
    def test_per_unit_is_quantity_times_price(self, plan):
        """96 and 48 vCPU-hours at 0.01: 0.96 and 0.48, together the line's 1.44."""
        view = usage_view(
            plan,
            [rec("vcpu_hours", "96", "vm-a"), rec("vcpu_hours", "48", "vm-b")],
            account="acme",
            date_range=OCTOBER,
        )
        assert costs(view, "compute") == {"vm-a": Decimal("0.96"), "vm-b": Decimal("0.48")}
        row = view.resource("vm-a")
        assert (row.service, row.items[0].quantity, row.items[0].unit) == (
            "Compute",
            Decimal(96),
            "vCPU-hour",
        )
        assert view.services[0].items[0].cost.amount == Decimal("1.44")

    def test_free_units_are_shared_by_usage(self, plan):
        """30 and 10 GB-months, 10 free, at 0.10: the line is 3.00, shared 30:10, so 2.25
        and 0.75 (the line's average price per unit, 0.075)."""
        hours = Decimal(744)  # October's hours: 1 GB-month = 744 GB-hours
        view = usage_view(
            plan,
            [
                rec("volume_gb", str(30 * hours), "vol-a"),
                rec("volume_gb", str(10 * hours), "vol-b"),
            ],
            account="acme",
            date_range=OCTOBER,
        )
        assert costs(view, "storage") == {"vol-a": Decimal("2.25"), "vol-b": Decimal("0.75")}
        quantities = {r.resource_id: r.items[0].quantity for r in view.resources}
        assert quantities == {"vol-a": Decimal(30), "vol-b": Decimal(10)}

    def test_the_last_cent_goes_to_the_largest_remainder(self, plan):
        """Three IPs, one IP-hour each, at 0.3333333: the line is 0.9999999, billed 1.00;
        equal shares of 1.00 are 0.34, 0.33, 0.33 (the tie to the first listed)."""
        usage = [rec("ip_hours", "1", f"ip-{n}") for n in (3, 1, 2)]
        view = usage_view(plan, usage, account="acme", date_range=OCTOBER)
        assert costs(view, "ip") == {
            "ip-1": Decimal("0.34"),
            "ip-2": Decimal("0.33"),
            "ip-3": Decimal("0.33"),
        }

    def test_levels_weigh_by_time(self, plan):
        """A time-weighted average (GB stored): 93 GB all month and 62 GB for half of it
        average 93 and 31 GB; at 0.02 per GB, 1.86 and 0.62."""
        usage = [
            rec("disk_gb", "93", "disk-a", at(1), datetime(2026, 11, 1, tzinfo=UTC)),
            rec("disk_gb", "62", "disk-b", at(1), at(16, 12)),
        ]
        view = usage_view(plan, usage, account="acme", date_range=OCTOBER)
        assert {r.resource_id: r.items[0].quantity for r in view.resources} == {
            "disk-a": Decimal(93),
            "disk-b": Decimal(31),
        }
        assert costs(view, "disk") == {"disk-a": Decimal("1.86"), "disk-b": Decimal("0.62")}

    def test_records_without_a_resource_and_unmetered_lines(self, plan):
        """Records naming no resource share as one; the percentage line (support) has no
        resource: it stays in the service summary only."""
        usage = [rec("vcpu_hours", "100", None), rec("vcpu_hours", "50", "vm-a")]
        view = usage_view(plan, usage, account="acme", date_range=OCTOBER)
        assert costs(view, "compute") == {"vm-a": Decimal("0.50"), None: Decimal("1.00")}
        assert view.resource(None).label == NO_RESOURCE
        assert [s.service for s in view.services] == ["Compute", "Support"]
        assert {r.service for r in view.resources} == {"Compute"}

    def test_one_resource_in_two_services(self):
        """The sample's VMs are in Compute (vCPU, memory) and Licences (the licence)."""
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        usage = cloudrate.read_usage(cloudrate.sample_usage_path())
        view = usage_view(
            plan,
            usage,
            account="acme",
            date_range=DateRange.custom(date(2026, 10, 25), date(2026, 10, 31), plan.timezone),
        )
        with pytest.raises(KeyError, match="has rows in Compute, Licences; pass service="):
            view.resource("vm-acme-ci")
        assert view.resource("vm-acme-ci", "Licences").cost.amount == Decimal("2.71")
        assert view.resource("vm-acme-ci", "Compute").cost.amount == Decimal("3.67")
        with pytest.raises(KeyError, match="no resource 'vm-nope'"):
            view.resource("vm-nope")

    def test_copies_of_a_record_count_once(self, plan):
        """Two copies of one record (same record_id): billed once, shown once."""
        once = UsageRecord(
            account="acme",
            metric="vcpu_hours",
            quantity="10",
            start=at(1),
            end=at(2),
            record_id="r-1",
            resource_id="vm-a",
        )
        view = usage_view(plan, [once, once], account="acme", date_range=OCTOBER)
        assert view.card("cpu").quantity == Decimal(10)
        assert costs(view, "compute") == {"vm-a": Decimal("0.10")}


class TestAgainstTheSummary:
    @given(st.integers(1, 31), st.integers(0, 40), st.sampled_from(["acme", "globex", "initech"]))
    def test_resources_add_up_to_each_charge(self, first, length, account):
        """For any range of the sample, a charge's resources add up to its summary cost
        exactly (graduated storage, free snapshot units, volume-priced traffic)."""
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        usage = cloudrate.read_usage(cloudrate.sample_usage_path())
        start = date(2026, 10, first)
        view = usage_view(
            plan,
            usage,
            account=account,
            date_range=DateRange.custom(start, start + timedelta(days=length), plan.timezone),
        )
        by_charge: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for row in view.resources:
            assert row.cost.amount == sum((i.cost.amount for i in row.items), Decimal(0))
            for item in row.items:
                by_charge[(row.service, item.charge)] += item.cost.amount
        for service in view.services:
            for item in service.items:
                if (service.service, item.charge) in by_charge:
                    assert by_charge[(service.service, item.charge)] == item.cost.amount

    def test_report_and_json(self, plan):
        usage = [rec("vcpu_hours", "96", "vm-a"), rec("vcpu_hours", "48", "=cmd|x")]
        view = usage_view(plan, usage, account="acme", date_range=OCTOBER)
        rows = list(csv.reader(io.StringIO(report_csv(view, "resources"))))
        assert rows[0] == [
            "Service",
            "Resource",
            "Charge",
            "Description",
            "Quantity",
            "Unit",
            "Estimated cost",
            "Currency",
        ]
        assert rows[1:] == [
            ["Compute", "'=cmd|x", "compute", "compute", "48", "vCPU-hour", "0.48", "EUR"],
            ["Compute", "vm-a", "compute", "compute", "96", "vCPU-hour", "0.96", "EUR"],
        ]
        assert len(resource_table(view)) == 2
        data = view.to_dict()
        assert data["resources"][1] == {
            "service": "Compute",
            "resource_id": "vm-a",
            "cost": "0.96",
            "items": [
                {
                    "charge": "compute",
                    "description": "compute",
                    "quantity": "96",
                    "unit": "vCPU-hour",
                    "cost": "0.96",
                }
            ],
        }

    def test_cost_decimals_shown_per_resource(self, plan):
        """Display decimals: each resource's share of the line's shown cost (4 digits)."""
        from cloudrate.rules import CostDecimals

        usage = [rec("ip_hours", "1", "ip-1"), rec("ip_hours", "2", "ip-2")]
        view = usage_view(plan, usage, account="acme", date_range=OCTOBER, decimals=CostDecimals(4))
        # exact 0.9999999 shown as 1.0000, shared 1:2
        shown = {r.resource_id: r.shown for r in view.resources}
        assert shown == {"ip-1": Decimal("0.3333"), "ip-2": Decimal("0.6667")}
        assert costs(view, "ip") == {"ip-1": Decimal("0.33"), "ip-2": Decimal("0.67")}


class TestSplitAmount:
    @given(
        st.decimals(min_value=-1000, max_value=1000, places=2),
        st.lists(st.decimals(min_value=0, max_value=10**6, places=6), min_size=1, max_size=8),
    )
    def test_shares_add_up_exactly(self, amount, weights):
        shares = split_amount(amount, weights)
        assert sum(shares, Decimal(0)) == amount
        assert all(abs(s) <= abs(amount) for s in shares)
        assert all(s.as_tuple().exponent == -2 for s in shares)

    def test_negative_weights_are_refused(self):
        with pytest.raises(ValueError, match="weights must be >= 0"):
            split_amount(Decimal("1.00"), [Decimal(1), Decimal(-1)])

    def test_nothing_to_share(self):
        assert split_amount(Decimal("1.00"), []) == []
