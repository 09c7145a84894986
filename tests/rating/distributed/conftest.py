"""Usage and a plan shared by the distributed tests: rated by rate() as the reference."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from cloudrate import BillingPeriod, UsageRecord, load_plan

PLAN = """
name: Distributed test plan
currency: EUR
timezone: UTC
metrics:
  peak_ips: {unit: IP, aggregation: max}
  seats: {unit: seat, aggregation: latest}
  vms: {unit: VM, aggregation: unique}
  avg_gb: {unit: GB, aggregation: average}
  vm_running: {unit: VM-hour}
charges:
  - {name: small, metric: vcpu_hours, where: {offering: small}, model: per_unit,
     unit_price: "0.012345"}
  - {name: large, metric: vcpu_hours, where: {offering: large}, model: per_unit,
     unit_price: "0.0234567"}
  - name: storage
    metric: storage_gb_hours
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.0001375"}
      - {up_to: 1000, unit_price: "0.000125"}
      - {up_to: null, unit_price: "0.00005"}
  - name: bandwidth
    metric: bandwidth_gb
    free_units: "10"
    model: volume
    tiers:
      - {up_to: 500, unit_price: "0.0125"}
      - {up_to: null, unit_price: "0.005"}
  - {name: peak_ips, metric: peak_ips, model: per_unit, unit_price: "1.005"}
  - {name: seats, metric: seats, model: per_unit, unit_price: "2.345"}
  - {name: vms, metric: vms, model: per_unit, unit_price: "0.125"}
  - {name: avg_gb, metric: avg_gb, model: per_unit, unit_price: "0.0375"}
  - {name: licence, metric: vm_running, where: {os: windows}, model: flat, price: "12.00",
     proration: days}
  - {name: platform, model: flat, price: "4.995"}
  - {name: support, model: percentage, percent: "7.5", of: [small, large, storage]}
"""

PERIOD = BillingPeriod.month(2026, 10, "UTC")
METRICS = (
    "vcpu_hours",
    "storage_gb_hours",
    "bandwidth_gb",
    "peak_ips",
    "seats",
    "vms",
    "avg_gb",
    "vm_running",
)


def make_records(n: int, accounts: int, seed: int) -> list[UsageRecord]:
    """*n* records for *accounts* accounts in October 2026, quantities with up to 6 places,
    some exactly on half cents."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    records = []
    for i in range(n):
        metric = METRICS[i % len(METRICS)]
        places = rng.randint(0, 6)
        quantity = Decimal(rng.randint(0, 10**7)).scaleb(-places)
        if i % 17 == 0:
            quantity = Decimal("0.5")  # half-cent ties on the flat-rate lines
        t0 = start + timedelta(hours=rng.randint(0, 24 * 29))
        attributes = {}
        if metric == "vcpu_hours":
            attributes["offering"] = rng.choice(("small", "large"))
        if metric == "vm_running":
            attributes["os"] = rng.choice(("windows", "linux"))
        records.append(
            UsageRecord(
                account=f"acct-{rng.randint(0, accounts - 1):03d}",
                metric=metric,
                quantity=quantity,
                start=t0,
                end=t0 + timedelta(hours=rng.choice((1, 30))),
                record_id=f"r{i:06d}",
                resource_id=f"vm-{rng.randint(0, 40)}",
                attributes=attributes,
            )
        )
    return records


def frame_of(records: list[UsageRecord]):  # -> pandas.DataFrame
    """The records as a pandas frame in the batch layout (quantities as exact strings)."""
    import pandas as pd

    return pd.DataFrame(
        {
            "account": [r.account for r in records],
            "metric": [r.metric for r in records],
            "quantity": [str(r.quantity) for r in records],
            "start": pd.to_datetime([r.start for r in records], utc=True),
            "end": pd.to_datetime([r.end for r in records], utc=True),
            "record_id": [r.record_id for r in records],
            "resource_id": [r.resource_id for r in records],
            "offering": [r.attributes.get("offering") for r in records],
            "os": [r.attributes.get("os") for r in records],
        }
    )


def same_result(got, expected) -> None:
    """Identical bills: the same lines, exact and rounded amounts, and totals."""

    def lines(result):
        return [
            (x.account, x.charge, x.quantity, x.amount.amount, x.rounded.amount)
            for x in result.lines
        ]

    assert lines(got) == lines(expected)
    assert got.totals() == expected.totals()
    assert got.total == expected.total


@pytest.fixture(name="plan", scope="session")
def _plan():
    return load_plan(PLAN)
