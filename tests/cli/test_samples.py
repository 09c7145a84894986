"""The sample plan and usage shipped in the package (``cloudrate.cli.samples``), checked against
a bill computed independently from the raw CSV with plain Decimal arithmetic."""

from __future__ import annotations

import csv
import decimal
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import cloudrate
from cloudrate._money import EXACT

D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")
HOURS = D(31 * 24 + 1)  # October 2026 in Berlin: DST ends on the 25th


def _cents(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def _graduated(q, bands):
    total, lower = D(0), D(0)
    for upper, price in bands:
        top = q if upper is None else min(q, upper)
        if top > lower:
            total += (top - lower) * price
        lower = upper if upper is not None else lower
    return total


def _volume(q, bands):
    for upper, price in bands:
        if upper is None or q <= upper:
            return q * price
    raise AssertionError


def _read_sample() -> tuple[dict, dict, dict]:
    """Sums per account and metric, the days each Windows VM ran, and the Linux VMs."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(D))
    windows_days: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    linux: dict[str, set] = defaultdict(set)
    with cloudrate.sample_usage_path().open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            account, metric = row["account"], row["metric"]
            sums[account][metric] += D(row["quantity"])
            if metric != "vm_running":
                continue
            if row["os"] == "windows":
                windows_days[account][row["resource_id"]] |= _days_running(row)
            elif row["os"] == "linux":
                linux[account].add(row["resource_id"])
    return sums, windows_days, linux


def _days_running(row: dict[str, str]) -> set:
    """The Berlin days a vm_running record touches."""
    start = datetime.fromisoformat(row["start"]).astimezone(BERLIN)
    end = datetime.fromisoformat(row["end"]).astimezone(BERLIN)
    days, day = set(), start.date()
    while datetime(day.year, day.month, day.day, tzinfo=BERLIN) < end:
        days.add(day)
        day += timedelta(days=1)
    return days


def _usage_charges(s: dict[str, Decimal]) -> dict[str, Decimal]:
    """The exact usage charges of one account's metric sums, at the plan's prices."""
    exact = {}
    exact["compute"] = s["vcpu_hours"] * D("0.0125")
    exact["memory"] = s["memory_gb_hours"] / 1000 * D("0.0045")  # MB-hour -> GB-hour
    exact["storage"] = _graduated(
        s["volume_gb"] / HOURS,  # GB-hour -> GB-month
        [(D(100), D("0.10")), (D(1000), D("0.08")), (None, D("0.05"))],
    )
    if "snapshot_gb" in s:
        exact["snapshots"] = max(s["snapshot_gb"] / HOURS - 10, D(0)) * D("0.05")
    if "public_ip_hours" in s:
        exact["public_ip"] = s["public_ip_hours"] / 3600 * D("0.005")  # seconds -> hours
    if "bandwidth_gb" in s:
        exact["bandwidth"] = _volume(
            max(s["bandwidth_gb"] / 10**9 - 50, D(0)),
            [(D(1000), D("0.02")), (D(10000), D("0.015")), (None, D("0.01"))],
        )
    return exact


def _expected_bills() -> dict[str, dict[str, Decimal]]:
    """Rounded amount per account and charge, from the CSV and the plan's published prices."""
    sums, windows_days, linux = _read_sample()
    bills = {}
    for account, s in sums.items():
        exact = _usage_charges(s)
        if windows_days[account]:
            exact["windows_license"] = (
                sum((D(len(days)) / 31 for days in windows_days[account].values()), D(0)) * 12
            )
        if linux[account]:
            exact["linux"] = D(0)
        exact["platform"] = D(5)
        exact["support"] = (exact["compute"] + exact["memory"] + exact["storage"]) / 10
        rounded = {name: _cents(value) for name, value in exact.items()}
        short = D(25) - sum(rounded.values())
        if short > 0:
            rounded["minimum"] = _cents(short)
        bills[account] = rounded
    return bills


class TestSamples:
    def test_paths_exist(self):
        """The sample files ship inside the package."""
        assert cloudrate.sample_plan_path().is_file()
        assert cloudrate.sample_usage_path().is_file()

    def test_sample_bills_match_an_independent_computation(self):
        """Every line of every sample bill equals the amount computed from the CSV by hand:
        unit conversions, graduated and volume tiers, free units, per-VM day proration in
        Berlin, support on exact amounts, the minimum true-up, half-up cents."""
        with decimal.localcontext(EXACT):
            expected = _expected_bills()
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        result = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
        got = {b.account: {x.charge: x.rounded.amount for x in b.lines} for b in result.bills}
        assert got == expected
        for bill in result.bills:
            assert bill.total.amount == sum(expected[bill.account].values())
