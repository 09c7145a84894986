"""What a suspended account is billed for: storage and IPs keep accruing, compute stops."""

from __future__ import annotations

import decimal
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cloudrate
from cloudrate import UsageRecord
from cloudrate._money import EXACT
from cloudrate.accounts import (
    AccountState,
    SuspendedBilling,
    SuspendedSpan,
    suspended_spans,
)

PLAN = """
name: Test
currency: EUR
timezone: UTC
metrics:
  vcpu_hours:      {unit: vCPU-hour}
  volume_gb_hours: {unit: GB-hour}
  public_ip_hours: {unit: IP-hour}
  vms:             {unit: VM, aggregation: max}
charges:
  - {name: compute, service: Compute, metric: vcpu_hours, model: per_unit, unit_price: "0.01"}
  - {name: storage, service: Storage, metric: volume_gb_hours, model: per_unit,
     unit_price: "0.0001"}
  - {name: ip, service: Network, metric: public_ip_hours, model: per_unit, unit_price: "0.005"}
  - {name: vm_fee, service: Compute, metric: vms, model: per_unit, unit_price: "1.00"}
"""


def t(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def rec(metric: str, quantity: str, start=None, end=None, account="acme", **kw) -> UsageRecord:
    return UsageRecord(
        account=account,
        metric=metric,
        quantity=quantity,
        start=start or t(1),
        end=end or t(11),
        **kw,
    )


@pytest.fixture(name="plan")
def _plan():
    return cloudrate.load_plan(PLAN)


#: Ten days of a VM (1 vCPU), a 10 GB volume and an IP, all held the whole time.
USAGE = [
    rec("vcpu_hours", "240", record_id="cpu-1"),
    rec("volume_gb_hours", "2400", record_id="vol-1"),
    rec("public_ip_hours", "240", record_id="ip-1"),
]
#: Suspended for five of the ten days.
SPAN = SuspendedSpan("acme", t(6), t(11))


def billed(plan, result) -> dict[str, Decimal]:
    bill = cloudrate.rate(plan, result.records, cloudrate.BillingPeriod.month(2026, 11))
    return {x.charge: x.rounded.amount for x in bill.bill("acme").lines}


class TestOnAndOff:
    def test_on_compute_stops_storage_and_ips_accrue(self, plan):
        """By default half the vCPU-hours (120 of 240, 1.20) are billed; the volume
        (2400 GB-h, 0.24) and the IP (240 h, 1.20) are billed whole."""
        result = SuspendedBilling().apply(plan, USAGE, [SPAN])
        assert billed(plan, result) == {
            "compute": Decimal("1.20"),
            "storage": Decimal("0.24"),
            "ip": Decimal("1.20"),
        }
        [stopped] = result.stopped
        assert (stopped.record.metric, stopped.record.quantity) == ("vcpu_hours", Decimal(120))
        assert (stopped.record.start, stopped.record.end) == (t(6), t(11))
        assert stopped.reason == (
            "acme was suspended from 2026-11-06T00:00:00+00:00 until "
            "2026-11-11T00:00:00+00:00; Compute usage is not billed while an account is "
            "suspended (SuspendedBilling)"
        )

    def test_off_everything_accrues_as_measured(self, plan):
        """stop=() bills what the cloud measured: the whole 240 vCPU-hours (2.40)."""
        result = SuspendedBilling(stop=()).apply(plan, USAGE, [SPAN])
        assert result.records == tuple(USAGE) and result.stopped == ()
        assert billed(plan, result)["compute"] == Decimal("2.40")

    def test_no_span_no_change(self, plan):
        """An account never suspended is billed as measured."""
        result = SuspendedBilling().apply(plan, USAGE, [SuspendedSpan("other", t(1))])
        assert result.records == tuple(USAGE)

    def test_a_portal_that_stops_ips_too(self, plan):
        """stop_metrics adds metrics of other services: the IP stops as well."""
        result = SuspendedBilling(stop_metrics=["public_ip_hours"]).apply(plan, USAGE, [SPAN])
        assert billed(plan, result)["ip"] == Decimal("0.60")
        assert "metric public_ip_hours is not billed" in result.stopped[1].reason

    def test_to_dict(self):
        assert SuspendedBilling(stop=["Compute", "Licences"]).to_dict() == {
            "stop": ["Compute", "Licences"],
            "stop_metrics": [],
        }


class TestCutting:
    def test_a_span_inside_a_record_leaves_two_billed_parts(self, plan):
        """Suspended from day 3 to day 5: days 1-3 and 5-11 billed (48 + 144 vCPU-h), each
        part with its own record_id, so rating keeps both."""
        span = SuspendedSpan("acme", t(3), t(5))
        result = SuspendedBilling().apply(plan, USAGE[:1], [span])
        parts = [(r.record_id, r.start, r.end, r.quantity) for r in result.records]
        assert parts == [
            ("cpu-1@2026-11-01T00:00:00+00:00", t(1), t(3), Decimal(48)),
            ("cpu-1@2026-11-05T00:00:00+00:00", t(5), t(11), Decimal(144)),
        ]
        assert billed(plan, result)["compute"] == Decimal("1.92")

    def test_spans_still_open_and_several(self, plan):
        """Two spans, the second still open: only day 2-3 and day 9 on are stopped."""
        spans = [SuspendedSpan("acme", t(9)), SuspendedSpan("acme", t(2), t(3))]
        result = SuspendedBilling().apply(plan, USAGE[:1], spans)
        assert [(r.start, r.end) for r in result.records] == [(t(1), t(2)), (t(3), t(9))]
        assert [s.record.quantity for s in result.stopped] == [Decimal(24), Decimal(48)]

    def test_levels_keep_their_height(self, plan):
        """A peak (max) metric loses only the time suspended, not its height: 2 VMs."""
        result = SuspendedBilling().apply(plan, [rec("vms", "2")], [SPAN])
        [kept] = result.records
        assert (kept.quantity, kept.end) == (Decimal(2), t(6))

    def test_instants(self, plan):
        """An instant is stopped when it falls in the span (its end excluded)."""
        inside, at_end = rec("vcpu_hours", "1", t(7), t(7)), rec("vcpu_hours", "1", t(11), t(11))
        result = SuspendedBilling().apply(plan, [inside, at_end], [SPAN])
        assert result.records == (at_end,) and result.stopped[0].record == inside

    def test_the_service_comes_from_the_plan_when_the_record_has_none(self, plan):
        """vcpu_hours records without a service are Compute, as their charge says; a
        record's own service wins."""
        own = rec("vcpu_hours", "240", service="Storage")
        result = SuspendedBilling().apply(plan, [USAGE[0], own], [SPAN])
        assert [r.quantity for r in result.records] == [Decimal(120), Decimal(240)]

    def test_explain(self, plan):
        [line] = SuspendedBilling().apply(plan, USAGE, [SPAN]).explain()
        assert line.startswith(
            "acme vcpu_hours 120 (2026-11-06T00:00:00+00:00..2026-11-11T00:00:00+00:00): acme"
        )

    @given(
        st.integers(0, 239),
        st.integers(1, 240),
        st.decimals(min_value=0, max_value=10**6, places=3),
    )
    def test_billed_and_stopped_parts_make_the_record(self, start, length, quantity):
        """For any span, the parts partition the record's time and its summed quantity
        (to the exact context's 60 digits: a share of 1/7 does not end)."""
        plan = cloudrate.load_plan(PLAN)
        record = rec("vcpu_hours", str(quantity))
        lo = t(1) + timedelta(hours=start)
        span = SuspendedSpan("acme", lo, lo + timedelta(hours=length))
        result = SuspendedBilling().apply(plan, [record], [span])
        parts = sorted(
            [*result.records, *(s.record for s in result.stopped)], key=lambda r: r.start
        )
        assert parts[0].start == record.start and parts[-1].end == record.end
        assert all(a.end == b.start for a, b in itertools.pairwise(parts))
        with decimal.localcontext(EXACT):
            total = sum((p.quantity for p in parts), Decimal(0))
            assert abs(total - quantity) <= Decimal("1e-50")


class TestSpans:
    def test_from_state_changes(self):
        """A span opens at "suspended" and closes at the next other state; repeats of a
        state change nothing; an AccountState is read by its state."""
        changes = [
            (t(10), AccountState("active", "paid")),
            (t(5), "suspended"),
            (t(7), "suspended"),
            (t(20), "suspended"),
            (t(12), "warning"),
        ]
        assert suspended_spans("acme", changes) == (
            SuspendedSpan("acme", t(5), t(10)),
            SuspendedSpan("acme", t(20)),
        )
        assert suspended_spans("acme", []) == ()

    def test_covers(self):
        assert SPAN.covers(t(6)) and not SPAN.covers(t(11)) and not SPAN.covers(t(5, 23))
        assert SuspendedSpan("acme", t(6)).covers(t(30))

    def test_bad_spans(self):
        with pytest.raises(cloudrate.PlanError, match=r"end 2026-11-05.* is not after start"):
            SuspendedSpan("acme", t(6), t(5))
        with pytest.raises(cloudrate.PlanError, match=r"suspended span start: .* no timezone"):
            SuspendedSpan("acme", datetime(2026, 11, 6))
        with pytest.raises(cloudrate.PlanError, match=r"state change: .* no timezone"):
            suspended_spans("acme", [(datetime(2026, 11, 6), "suspended")])
