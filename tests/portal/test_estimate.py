"""Cost estimation of a resource before it exists."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

import cloudrate
from cloudrate.portal.estimation import HourlyUsage, estimate, instance_usage
from cloudrate.rules import CostDecimals, DefaultIpCharge, FreeFirstIp, IpAcquisition, chain

NOV = cloudrate.BillingPeriod.month(2026, 11, "Europe/Berlin")  # 720 hours


@pytest.fixture(name="plan", scope="module")
def _plan():
    return cloudrate.load_plan(cloudrate.sample_plan_path())


SPEC = instance_usage(vcpus=2, memory_gb=4, disk_gb=50, public_ips=1)
# Worked out by hand for 720 hours: vCPU 2x720x0.0125 = 18.00, RAM 4x720x0.0045 = 12.96,
# disk 50 GB-month x 0.10 = 5.00, IP 720x0.005 = 3.60, support 10% of 35.96 = 3.596.
WITH_IP = Decimal("18.00") + Decimal("12.96") + Decimal("5.00") + Decimal("3.60") + Decimal("3.596")


def test_worked_example(plan):
    est = estimate(plan, SPEC, NOV)
    assert est.monthly.amount == WITH_IP
    assert est.hourly.amount * 720 == pytest.approx(WITH_IP, abs=Decimal("1e-50"))
    assert {line.charge for line in est.bill.lines} == {
        "compute",
        "memory",
        "storage",
        "public_ip",
        "support",
    }


def test_ip_line_follows_the_ip_rules(plan):
    """Default IP not charged: the IP costs nothing; charged: 3.60 a month."""
    off = estimate(plan, SPEC, NOV, policy=chain(DefaultIpCharge(enabled=False)))
    on = estimate(plan, SPEC, NOV, policy=chain(DefaultIpCharge(enabled=True)))
    assert on.monthly.amount - off.monthly.amount == Decimal("3.60")


def test_first_ip_free_only_if_the_account_has_none(plan):
    spec = instance_usage(vcpus=1, memory_gb=1, public_ips=1, default_ip=False)
    fresh = estimate(plan, spec, NOV, policy=chain(FreeFirstIp()), account="acme")
    held = [
        IpAcquisition(
            account="acme", resource_id="ip-acme-1", acquired_at=datetime(2025, 1, 1, tzinfo=UTC)
        )
    ]
    more = estimate(plan, spec, NOV, policy=chain(FreeFirstIp()), account="acme", ip_history=held)
    assert more.monthly.amount - fresh.monthly.amount == Decimal("3.60")


def test_customer_currency_and_decimals(plan):
    fx = cloudrate.fx.ExchangeRate(base="EUR", quote="USD", rate="1.1172", on=date(2026, 10, 30))
    est = estimate(plan, SPEC, NOV, rate_to=fx, decimals=CostDecimals(4))
    shown = est.to_dict()
    assert shown["currency"] == "USD"
    assert Decimal(shown["monthly"]) == (WITH_IP * Decimal("1.1172")).quantize(Decimal("0.0001"))
    assert shown["rate"]["rate"] == "1.1172"
    assert len(shown["hourly"].split(".")[1]) == 4


def test_plain_usage_items(plan):
    """Any metric can be estimated: 100 GB of snapshots, the first 10 GB-month free."""
    est = estimate(plan, [HourlyUsage(metric="snapshot_gb", quantity=100, unit="GB-hour")], NOV)
    assert est.monthly.amount == Decimal(90) * Decimal("0.05")
