"""Usage shared out over a period's subscription segments: by seconds of overlap, exactly,
and never a second of usage that no segment covers dropped or given to a neighbour."""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate._money import EXACT
from cloudrate.billing import (
    BillingCustomer,
    BillingRun,
    DocumentStore,
    Subscription,
    rate_customer,
    split_usage,
)
from cloudrate.cli import main
from cloudrate.exceptions import BillingError
from cloudrate.invoice import Customer
from cloudrate.period import BillingPeriod, seconds_between
from cloudrate.usage import UsageRecord

OCTOBER = BillingPeriod.month(2026, 10)  # UTC, 31 days


def _plan(name: str, price: str) -> cloudrate.Plan:
    return cloudrate.load_plan(
        f"name: {name}\ncurrency: EUR\ncharges:\n"
        f"  - {{name: storage, metric: gb_hours, model: per_unit, unit_price: '{price}'}}\n"
    )


PLANS = {"Basic": _plan("Basic", "1.00"), "Pro": _plan("Pro", "2.00")}


def _at(day: int, month: int = 10) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def _usage(
    start: datetime, end: datetime, quantity: str, name: str, revision: int | None = None
) -> UsageRecord:
    return UsageRecord(
        account="acme",
        metric="gb_hours",
        quantity=quantity,
        start=start,
        end=end,
        record_id=name,
        revision=revision,
    )


def _customer(*subscriptions: Subscription) -> BillingCustomer:
    return BillingCustomer(customer=Customer(id="acme", name="ACME"), subscriptions=subscriptions)


#: Basic from 1 October, Pro from the 16th, cancelled at the start of the 21st.
CANCELLED = _customer(
    Subscription(plan="Basic", start=_at(1)),
    Subscription(plan="Pro", start=_at(16), end=_at(21)),
)


def _storage(usage: list[UsageRecord], customer: BillingCustomer = CANCELLED) -> dict[str, str]:
    bill = rate_customer(customer, PLANS, usage, OCTOBER).bill
    return {x.charge: str(x.rounded.amount) for x in bill.lines}


# --- usage no segment covers is refused, named -----------------------------------------


def test_a_record_running_past_a_cancellation_into_a_gap_is_refused() -> None:
    """14th to 23rd crosses the change (16th) and the cancellation (21st): the two days
    after the cancellation were billed on Pro."""
    with pytest.raises(BillingError) as caught:
        _storage([_usage(_at(14), _at(23), "90", "r-late")])
    text = str(caught.value)
    assert "1 usage record(s)" in text
    assert "account 'acme' record 'r-late' 'gb_hours'" in text
    assert "from 2026-10-14T00:00:00+00:00 to 2026-10-23T00:00:00+00:00" in text
    assert "uncovered 2026-10-21T00:00:00+00:00 to 2026-10-23T00:00:00+00:00 (172800 s)" in text
    assert caught.value.code == "billing_refused"
    assert caught.value.fix is not None and "extend a subscription" in caught.value.fix


def test_a_record_in_one_segment_running_past_its_cancellation_is_refused() -> None:
    """It met one segment only, and was handed to rate() whole (a RatingError about a
    coverage, not the subscription)."""
    with pytest.raises(BillingError, match="uncovered 2026-10-21T00:00:00"):
        _storage([_usage(_at(18), _at(23), "50", "r-one")])


def test_a_record_starting_before_the_period_is_refused() -> None:
    """30 September to 18 October: the day of September was billed on Pro."""
    with pytest.raises(BillingError) as caught:
        _storage([_usage(_at(30, 9), _at(18), "180", "r-early")])
    assert "uncovered 2026-09-30T00:00:00+00:00 to 2026-10-01T00:00:00+00:00" in str(caught.value)


def test_a_record_wholly_in_a_gap_is_refused_not_dropped() -> None:
    record = attrs.evolve(_usage(_at(25), _at(26), "10", "r-gap"), origin="usage.csv line 7")
    with pytest.raises(BillingError, match=r"record 'r-gap'.* \(usage.csv line 7\): uncovered"):
        _storage([record])


def test_a_record_before_the_first_subscription_starts_is_refused() -> None:
    late_start = _customer(Subscription(plan="Basic", start=_at(10)))
    with pytest.raises(BillingError, match="uncovered 2026-10-05T00:00:00"):
        _storage([_usage(_at(5), _at(6), "1", "r-before")], late_start)


def test_every_record_outside_the_segments_is_named_at_once() -> None:
    usage = [
        _usage(_at(2), _at(3), "1", "ok"),
        _usage(_at(20), _at(22), "2", "r-a"),
        _usage(_at(25), _at(26), "3", "r-b"),
        _usage(_at(27), _at(27), "4", "r-c"),  # an instant in the gap
    ]
    with pytest.raises(BillingError) as caught:
        _storage(usage)
    text = str(caught.value)
    assert "3 usage record(s)" in text
    assert all(f"record '{name}'" in text for name in ("r-a", "r-b", "r-c"))
    assert "'ok'" not in text
    assert "the instant 2026-10-27T00:00:00+00:00" in text


def test_an_instant_belongs_to_the_segment_holding_it() -> None:
    """At the change it is the new plan's; at the cancellation it lies after it."""
    got = _storage([_usage(_at(16), _at(16), "3", "r-change")])
    assert got == {"storage@Pro/2026-10-16": "6.00"}
    with pytest.raises(BillingError, match="the instant 2026-10-21T00:00:00"):
        _storage([_usage(_at(21), _at(21), "3", "r-cancel")])


def test_a_billing_run_refuses_usage_after_a_cancellation_and_writes_nothing(
    store: DocumentStore,
) -> None:
    run = BillingRun(store=store)
    usage = [_usage(_at(14), _at(23), "90", "r-late")]
    with pytest.raises(BillingError, match="record 'r-late'"):
        run.bill_customers([CANCELLED], PLANS, usage, OCTOBER)
    assert store.documents() == ()
    mended = [_usage(_at(14), _at(21), "70", "r-late")]  # cut at the cancellation
    assert run.bill_customers([CANCELLED], PLANS, mended, OCTOBER).issued["invoice"] == 1


def test_the_cli_refuses_usage_after_a_cancellation_naming_its_line(tmp_path: Path) -> None:
    plan = tmp_path / "basic.yaml"
    plan.write_text(
        "name: Basic\ncurrency: EUR\ncharges:\n"
        "  - {name: storage, metric: gb_hours, model: per_unit, unit_price: '1.00'}\n",
        encoding="utf-8",
    )
    customers = tmp_path / "customers.yaml"
    customers.write_text(
        "customers:\n  - id: acme\n    name: ACME\n    subscriptions:\n"
        '      - {plan: Basic, from: "2026-10-01T00:00:00Z", to: "2026-10-21T00:00:00Z"}\n',
        encoding="utf-8",
    )
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "account,metric,quantity,start,end,record_id\n"
        "acme,gb_hours,5,2026-10-02T00:00:00Z,2026-10-03T00:00:00Z,ok\n"
        "acme,gb_hours,9,2026-10-20T00:00:00Z,2026-10-23T00:00:00Z,late\n",
        encoding="utf-8",
    )
    args = [
        "bill", "--period", "2026-10", "--plan", str(plan), "--customers", str(customers),
        "--usage", str(usage), "--store", str(tmp_path / "b.db"),
    ]  # fmt: skip
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2, refused.output
    assert "record 'late'" in refused.output
    assert "usage.csv line 3" in refused.output
    assert "uncovered 2026-10-21T00:00:00+00:00 to 2026-10-23T00:00:00+00:00" in refused.output


# --- what is billed ------------------------------------------------------------------------


def test_a_record_inside_the_segments_is_shared_by_seconds() -> None:
    """14th to 21st: 2 days on Basic, 5 on Pro, all of its 70 GB-hours billed."""
    got = _storage([_usage(_at(14), _at(21), "70", "r-in")])
    assert got == {"storage@Basic/2026-10-01": "20.00", "storage@Pro/2026-10-16": "100.00"}


def test_records_wholly_outside_the_period_are_left_to_their_periods() -> None:
    """A run passes the whole usage file: September's and November's records are theirs."""
    usage = [
        _usage(_at(1, 9), _at(2, 9), "5", "september"),
        _usage(_at(2), _at(3), "1", "october"),
        _usage(_at(1, 11), _at(1, 11), "7", "november"),  # an instant at the period's end
    ]
    assert _storage(usage, _customer(Subscription(plan="Basic", start=_at(1, 9)))) == {
        "storage": "1.00"
    }


def test_a_correction_of_a_record_across_a_change_replaces_both_sides() -> None:
    """Revision 1 spans the change; revision 2 lies after it. Split first, revision 1's
    Basic part had no revision 2 to be replaced by, and was billed."""
    usage = [
        _usage(_at(14), _at(18), "40", "r-fix", revision=1),
        _usage(_at(17), _at(18), "1", "r-fix", revision=2),
    ]
    got = _storage(usage)
    assert got == {"storage@Pro/2026-10-16": "2.00"}  # revision 1's Basic part is gone


def test_a_superseded_revision_outside_the_segments_is_not_refused() -> None:
    usage = [
        _usage(_at(25), _at(26), "9", "r-moved", revision=1),
        _usage(_at(17), _at(18), "1", "r-moved", revision=2),
    ]
    assert _storage(usage)["storage@Pro/2026-10-16"] == "2.00"


def test_split_usage_refuses_spans_that_overlap_or_are_out_of_order() -> None:
    record = _usage(_at(2), _at(3), "1", "r")
    with pytest.raises(BillingError, match="in order"):
        split_usage([record], [(_at(1), _at(10)), (_at(5), _at(20))])
    with pytest.raises(BillingError, match="in order"):
        split_usage([record], [(_at(10), _at(20)), (_at(1), _at(10))])
    with pytest.raises(BillingError, match="of some length"):
        split_usage([record], [(_at(1), _at(1))])


# --- properties ----------------------------------------------------------------------------

#: Eleven days from T0 hold the end of summer time in Berlin (25 October).
T0 = datetime(2026, 10, 20, tzinfo=UTC)
SPAN = 10**12  # microseconds, 11.6 days


def _instant(offset: int) -> datetime:
    """*offset* microseconds after T0 (so records and cuts meet to the microsecond)."""
    return T0 + timedelta(microseconds=offset)


@st.composite
def spans_with_gaps(draw: st.DrawFn) -> list[tuple[datetime, datetime]]:
    """Spans in order, not overlapping: touching (a change) or apart (a gap), in UTC or
    Berlin time."""
    bounds = sorted(draw(st.sets(st.integers(0, SPAN), min_size=2, max_size=8)))
    zone = draw(st.sampled_from((UTC, ZoneInfo("Europe/Berlin"))))
    kept = draw(st.lists(st.booleans(), min_size=len(bounds) - 1, max_size=len(bounds) - 1))
    pairs = itertools.pairwise(bounds)
    return [
        (_instant(a).astimezone(zone), _instant(b).astimezone(zone))
        for (a, b), keep in zip(pairs, kept, strict=True)
        if keep
    ] or [(_instant(bounds[0]), _instant(bounds[-1]))]


@st.composite
def records_over(draw: st.DrawFn, cuts: list[tuple[datetime, datetime]]) -> UsageRecord:
    """A record starting and ending anywhere, often exactly on a cut; some of no length."""
    on_cuts = [int(seconds_between(T0, t) * 10**6) for span in cuts for t in span]
    moment = st.sampled_from(on_cuts) | st.integers(0, SPAN) | st.integers(-(10**9), 0)
    start, end = sorted((draw(moment), draw(moment)))
    if draw(st.booleans()) and draw(st.booleans()):
        end = start  # an instant
    quantity = draw(st.decimals(min_value=0, max_value=10**9, places=draw(st.integers(0, 6))))
    return UsageRecord(
        account="a", metric="m", quantity=quantity, start=_instant(start), end=_instant(end)
    )


def _seconds(spans: Iterable[tuple[datetime, datetime]]) -> Decimal:
    return sum((seconds_between(a, b) for a, b in spans), Decimal(0))


def _covered_seconds(record: UsageRecord, cuts: list[tuple[datetime, datetime]]) -> Decimal:
    """The seconds of *record* inside the spans, counted here without the library."""
    clipped = [(max(a, record.start), min(b, record.end)) for a, b in cuts]
    return _seconds((lo, hi) for lo, hi in clipped if lo < hi)


def _fully_covered(record: UsageRecord, cuts: list[tuple[datetime, datetime]]) -> bool:
    if record.start == record.end:
        return any(a <= record.start < b for a, b in cuts)
    return _covered_seconds(record, cuts) == seconds_between(record.start, record.end)


def _in_no_span(lo: datetime, hi: datetime, cuts: list[tuple[datetime, datetime]]) -> bool:
    """Whether no span holds any time of ``[lo, hi)`` (of the instant *lo*, when lo == hi)."""
    if lo == hi:
        return not any(a <= lo < b for a, b in cuts)
    return all(hi <= a or lo >= b for a, b in cuts)


def _exact_sum(values: Iterable[Decimal]) -> Decimal:
    with decimal.localcontext(EXACT):  # sums of 60 digits, as the library adds them
        return sum(values, Decimal(0))


@settings(max_examples=200)
@given(st.data())
def test_shares_are_the_seconds_each_segment_covers_and_add_up_exactly(data: st.DataObject) -> None:
    """Each part lies in its segment; the parts and the uncovered time tile the record;
    the parts' quantities add up to quantity x covered seconds / seconds, exactly."""
    from cloudrate.billing._subscribed import share_by_seconds  # here: new in this change

    cuts = data.draw(spans_with_gaps())
    record = data.draw(records_over(cuts))
    shares = share_by_seconds(record, cuts)
    parts = [part for _, part in shares.parts]
    for i, part in shares.parts:
        a, b = cuts[i]
        assert a <= part.start <= part.end <= b
        assert part.start < b  # an instant at a span's end belongs to the next one
        assert record.start <= part.start and part.end <= record.end
        assert part.quantity >= 0
        assert (part.account, part.metric, part.record_id) == ("a", "m", None)
    indices = [i for i, _ in shares.parts]
    assert indices == sorted(set(indices))  # one part per segment, in order
    assert all(_in_no_span(lo, hi, cuts) for lo, hi in shares.uncovered)
    got = _exact_sum(p.quantity for p in parts)
    total = seconds_between(record.start, record.end)
    if total == 0:  # an instant: whole in the span holding it, or uncovered
        assert len(parts) + len(shares.uncovered) == 1
        assert got == (record.quantity if parts else 0)
        return
    covered = _covered_seconds(record, cuts)
    assert _seconds((p.start, p.end) for p in parts) == covered
    assert covered + _seconds(shares.uncovered) == total  # the record, tiled exactly
    with decimal.localcontext(EXACT):
        owed = record.quantity if covered == total else record.quantity * covered / total
    assert got == owed


@settings(max_examples=100)
@given(st.data())
def test_split_usage_gives_covered_records_whole_and_refuses_every_other(
    data: st.DataObject,
) -> None:
    cuts = data.draw(spans_with_gaps())
    drawn = data.draw(st.lists(records_over(cuts), max_size=5))
    records = [attrs.evolve(r, record_id=f"r{n}") for n, r in enumerate(drawn)]
    outside = [r for r in records if not _fully_covered(r, cuts)]
    if outside:
        with pytest.raises(BillingError) as caught:
            split_usage(records, cuts)
        assert f"{len(outside)} usage record(s)" in str(caught.value)
        assert all(f"record {r.record_id!r}" in str(caught.value) for r in outside)
        return
    split = split_usage(records, cuts)
    for (a, b), parts in zip(cuts, split, strict=True):
        assert all(a <= p.start <= p.end <= b and p.start < b for p in parts)
    for record in records:
        mine = [p for parts in split for p in parts if p.record_id == record.record_id]
        assert _exact_sum(p.quantity for p in mine) == record.quantity
        assert _seconds((p.start, p.end) for p in mine) == seconds_between(record.start, record.end)
