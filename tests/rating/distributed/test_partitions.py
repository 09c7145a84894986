"""Any split of the usage into partitions rates to the totals of one rate() call."""

from __future__ import annotations

import itertools
import os
import zlib
from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudrate import RoundingPolicy, UnpricedUsageError, rate
from cloudrate.exceptions import RatingError
from cloudrate.plans import Validity

pa = pytest.importorskip("pyarrow")

batch = pytest.importorskip(
    "cloudrate.rating.columnar", reason="cloudrate.rating.columnar is not installed"
)
if not hasattr(batch, "partial_aggregate"):
    pytest.skip("cloudrate.rating.columnar has no partial_aggregate yet", allow_module_level=True)
pd = pytest.importorskip("pandas")

from cloudrate.rating.distributed import (  # noqa: E402
    combine_blobs,
    finish_blobs,
    from_ipc,
    group_of,
    partial_blob,
    rate_partitions,
    to_ipc,
)

from .conftest import PERIOD, frame_of, make_records, same_result  # noqa: E402

RECORDS = make_records(600, accounts=12, seed=5)
FRAME = frame_of(RECORDS)


class TestRatePartitions:
    @settings(max_examples=25, deadline=None)
    @given(
        st.lists(st.integers(min_value=0, max_value=len(RECORDS)), max_size=8),
        st.sampled_from(
            [None, RoundingPolicy(placement="total"), RoundingPolicy(mode="half_even")]
        ),
    )
    def test_any_split_gives_one_process_totals(self, plan, cuts, rounding):
        """Cutting the usage anywhere, into any number of partitions (empty ones too),
        gives exactly the lines and totals of rate() on all of it, with either rounding
        placement and mode."""
        bounds = [0, *sorted(cuts), len(RECORDS)]
        parts = [FRAME.iloc[a:b] for a, b in itertools.pairwise(bounds)]
        same_result(
            rate_partitions(plan, parts, PERIOD, rounding=rounding),
            rate(plan, RECORDS, PERIOD, rounding=rounding),
        )

    def test_accounts_and_unpriced_as_rate(self, plan):
        """accounts= bills accounts without usage and on_unpriced='error' refuses usage no
        charge prices, as rate() does."""
        split = [FRAME.iloc[:300], FRAME.iloc[300:]]
        got = rate_partitions(plan, split, PERIOD, accounts=["newcomer"])
        same_result(got, rate(plan, RECORDS, PERIOD, accounts=["newcomer"]))
        assert got.bill("newcomer").line("platform").rounded.amount > 0
        stray = FRAME.iloc[:5].assign(metric="gpu_hours")
        with pytest.raises(UnpricedUsageError, match="gpu_hours"):
            rate_partitions(plan, [FRAME.iloc[:300], stray], PERIOD, on_unpriced="error")

    def test_blobs_combine_in_any_order(self, plan):
        """IPC partials combined in another order and grouping give the same result."""
        blobs = [partial_blob(plan, FRAME.iloc[i::4], PERIOD) for i in range(4)]
        left = finish_blobs(plan, [combine_blobs(blobs[:2]), combine_blobs(blobs[2:])], PERIOD)
        right = finish_blobs(
            plan, [combine_blobs([blobs[3], blobs[0]]), blobs[2], blobs[1]], PERIOD
        )
        same_result(left, rate(plan, RECORDS, PERIOD))
        same_result(right, left)

    def test_ipc_round_trip_keeps_decimals(self):
        """Arrow IPC keeps decimal128 values and scale exactly."""
        table = pa.table(
            {"q": pa.array([Decimal("12345678901234567890.123456789012")], pa.decimal128(38, 12))}
        )
        assert from_ipc(to_ipc(table)).equals(table)


def by_account(frame, parts: int) -> list:
    """*frame* cut into *parts* partitions, each account's records all in one."""
    codes = frame["account"].map(lambda a: int(a.split("-")[1]) % parts)
    return [frame[codes == p] for p in range(parts)]


class TestLinesInGroups:
    @settings(max_examples=25, deadline=None)
    @given(
        st.lists(st.integers(min_value=0, max_value=len(RECORDS)), max_size=6),
        st.integers(min_value=1, max_value=7),
        st.sampled_from([None, RoundingPolicy(placement="total")]),
    )
    def test_groups_give_the_one_process_result(self, plan, cuts, groups, rounding):
        """Partials cut into any number of account groups, each finished apart, give a
        result equal to rate()'s, to the same documents (exponents included)."""
        bounds = [0, *sorted(cuts), len(RECORDS)]
        parts = [FRAME.iloc[a:b] for a, b in itertools.pairwise(bounds)]
        got = rate_partitions(
            plan, parts, PERIOD, rounding=rounding, groups=groups, accounts=["newcomer"]
        )
        expected = rate(plan, RECORDS, PERIOD, rounding=rounding, accounts=["newcomer"])
        assert got == expected
        assert got.to_dict() == expected.to_dict()

    @pytest.mark.parametrize("mode", ["groups", "by_account"])
    def test_copies_and_unpriced_as_rate(self, plan, mode):
        """Copies of records (kept in their account's partition) are billed once and
        counted, and unpriced usage is reported, or refused with the same message, as
        rate() does."""
        stray = FRAME.iloc[:9].assign(metric="gpu_hours", record_id=FRAME.record_id[:9] + "g")
        frame = pd.concat([FRAME, FRAME.iloc[::7], stray])
        records = [
            *RECORDS,
            *RECORDS[::7],
            *(
                attrs.evolve(r, metric="gpu_hours", record_id=f"{r.record_id}g")
                for r in RECORDS[:9]
            ),
        ]
        options = {"groups": 3} if mode == "groups" else {"by_account": True}
        parts = by_account(frame, 4)
        got = rate_partitions(plan, parts, PERIOD, **options)
        expected = rate(plan, records, PERIOD)
        assert got == expected
        assert got.duplicates_dropped == len(RECORDS[::7])
        assert "gpu_hours" in {u.metric for u in got.unpriced}
        with pytest.raises(UnpricedUsageError) as one:
            rate(plan, records, PERIOD, on_unpriced="error")
        with pytest.raises(UnpricedUsageError) as split:
            rate_partitions(plan, parts, PERIOD, on_unpriced="error", **options)
        assert str(split.value) == str(one.value)

    def test_by_account_refuses_a_split_account(self, plan):
        """by_account=True on usage whose account spans two partitions is refused
        rather than billed twice."""
        with pytest.raises(RatingError, match="more than one partition"):
            rate_partitions(plan, [FRAME.iloc[:300], FRAME.iloc[300:]], PERIOD, by_account=True)

    def test_groups_checked(self, plan):
        """A number of groups below 1 (or not a whole number) is refused."""
        for bad in (0, -2, 1.5, True):
            with pytest.raises(ValueError, match="groups"):
                rate_partitions(plan, [FRAME], PERIOD, groups=bad)

    @given(st.text(max_size=20), st.integers(min_value=1, max_value=50))
    def test_group_of_is_stable(self, account, groups):
        """An account's group is in range and does not depend on the process (CRC-32,
        not the salted hash())."""
        assert group_of(account, groups) == zlib.crc32(account.encode()) % groups


#: The charges of the test plan the columnar line kernel prices (sums with selectors,
#: graduated, volume with free units, a flat fee).
FAST = """
name: Kernel plan
currency: EUR
timezone: UTC
charges:
  - {name: small, metric: vcpu_hours, where: {offering: small}, model: per_unit,
     unit_price: "0.012345"}
  - {name: large, metric: vcpu_hours, where: {offering: large}, model: per_unit,
     unit_price: "0.0234567"}
  - {name: any_vcpu, metric: vcpu_hours, model: per_unit, unit_price: "0.001"}
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
  - {name: platform, model: flat, price: "4.995"}
"""


@pytest.fixture(name="fast", scope="module")
def _fast():
    from cloudrate import load_plan

    return load_plan(FAST)


class TestGroupLines:
    """The columnar line kernel on groups of accounts' partials (what a distributed
    billing run's workers build) gives the lines of one process."""

    @settings(max_examples=25, deadline=None)
    @given(
        st.lists(st.integers(min_value=0, max_value=len(RECORDS)), max_size=6),
        st.integers(min_value=1, max_value=7),
        st.sampled_from([None, RoundingPolicy(mode="half_even")]),
    )
    def test_groups_give_the_lines_of_one_process(self, fast, cuts, groups, rounding):
        """Any split of the usage and any number of account groups: each group's lines
        built from its partials, sent as bytes and joined in account order, are
        rate_lines' lines of all the usage (every column, the text of every line, the
        bills as objects), accounts without usage included."""
        from cloudrate.rating.columnar import partial_aggregate
        from cloudrate.rating.columnar.lines import (
            LineColumns,
            join_lines,
            lines_from_ipc,
            lines_of_partials,
            lines_to_ipc,
            rate_lines,
        )
        from cloudrate.rating.distributed import grouped_accounts, split_partial

        bounds = [0, *sorted(cuts), len(RECORDS)]
        parts = [FRAME.iloc[a:b] for a, b in itertools.pairwise(bounds)]
        cut = [split_partial(partial_aggregate(fast, p, PERIOD), groups) for p in parts]
        extra = grouped_accounts(["newcomer", "acct-000"], groups)
        policy = rounding or fast.rounding
        built = []
        for g in range(groups):
            lines = lines_of_partials(
                fast, [c[g] for c in cut], PERIOD, accounts=extra[g], rounding=rounding
            )
            assert isinstance(lines, LineColumns)
            built.append(lines_from_ipc(fast, PERIOD, policy, lines_to_ipc(lines)))
        joined, rank = join_lines(built)
        one = rate_lines(fast, FRAME, PERIOD, accounts=["newcomer", "acct-000"], rounding=rounding)
        assert isinstance(one, LineColumns)
        assert joined.accounts == one.accounts
        assert sorted(rank.tolist()) == list(range(len(one.accounts)))
        for name in ("bill_of", "charge", "used", "used_exp", "records", "rounded", "totals"):
            assert getattr(joined, name).tolist() == getattr(one, name).tolist(), name
        n = len(one.accounts)
        assert joined.texts(0, n) == one.texts(0, n)
        assert joined.result() == one.result()
        expected = rate(fast, RECORDS, PERIOD, accounts=["newcomer"], rounding=rounding)
        assert joined.result().bills == expected.bills  # unpriced usage is settled apart

    def test_copies_are_counted_once(self, fast):
        """Copies left out in the partitions are counted in the joined lines as rate()
        counts them."""
        from cloudrate.rating.columnar import partial_aggregate
        from cloudrate.rating.columnar.lines import join_lines, lines_of_partials
        from cloudrate.rating.distributed import split_partial

        frame = pd.concat([FRAME, FRAME.iloc[::7]])
        parts = by_account(frame, 3)
        cut = [split_partial(partial_aggregate(fast, p, PERIOD), 2) for p in parts]
        groups = [lines_of_partials(fast, [c[g] for c in cut], PERIOD) for g in range(2)]
        joined, _ = join_lines(groups)  # type: ignore[arg-type]
        expected = rate(fast, [*RECORDS, *RECORDS[::7]], PERIOD)
        assert joined.result().bills == expected.bills
        assert joined.duplicates_dropped == expected.duplicates_dropped == len(RECORDS[::7])

    def test_what_the_kernel_does_not_price_is_left_to_finish(self, plan, fast):
        """Plans with charges the kernel does not price, a total rounding placement, or
        partials of another aggregation than sums give None (finish prices them)."""
        from cloudrate.rating.columnar import partial_aggregate
        from cloudrate.rating.columnar.lines import lines_of_partials

        assert lines_of_partials(plan, [partial_aggregate(plan, FRAME, PERIOD)], PERIOD) is None
        partial = partial_aggregate(fast, FRAME, PERIOD)
        total = RoundingPolicy(placement="total")
        assert lines_of_partials(fast, [partial], PERIOD, rounding=total) is None
        maxima = partial_aggregate(plan, FRAME, PERIOD)  # has max, latest, unique rows
        assert lines_of_partials(fast, [maxima], PERIOD) is None

    def test_groups_with_more_decimals_join_exactly(self, fast):
        """A group whose quantities have more decimals than another's (9 against 2)
        keeps them: the joined lines are those of one process."""
        from cloudrate.rating.columnar import partial_aggregate
        from cloudrate.rating.columnar.lines import join_lines, lines_of_partials

        fine = [
            attrs.evolve(r, quantity=r.quantity + Decimal("0.000000001"))
            for r in RECORDS
            if r.account == "acct-001"
        ]
        coarse = [
            attrs.evolve(r, quantity=r.quantity.quantize(Decimal("0.01")))
            for r in RECORDS
            if r.account != "acct-001"
        ]
        groups = [
            lines_of_partials(fast, [partial_aggregate(fast, frame_of(part), PERIOD)], PERIOD)
            for part in (fine, coarse)
        ]
        assert [g.scale for g in groups] == [9, 6]  # type: ignore[union-attr]
        joined, _ = join_lines(groups)  # type: ignore[arg-type]
        expected = rate(fast, [*fine, *coarse], PERIOD)
        assert joined.result().bills == expected.bills
        texts = joined.texts(0, len(joined.accounts))
        assert texts.quantity == [str(x.quantity) for x in expected.lines]
        assert texts.exact == [str(x.amount.amount) for x in expected.lines]

    def test_nothing_to_join_is_refused(self):
        """join_lines needs the lines of at least one group."""
        from cloudrate.exceptions import OptionError
        from cloudrate.rating.columnar.lines import join_lines

        with pytest.raises(OptionError, match="at least one"):
            join_lines([])


_DAYS = st.integers(-40, 70).map(lambda n: date(2026, 10, 1) + timedelta(days=n))


@st.composite
def _windows(draw: st.DrawFn) -> Validity | None:
    """None, or a window with either side open or a day from late August to December."""
    low, high = draw(st.one_of(st.none(), _DAYS)), draw(st.one_of(st.none(), _DAYS))
    if low is None and high is None:
        return None
    if low is not None and high is not None and high < low:
        low, high = high, low
    return Validity(low, high)


@settings(max_examples=int(os.environ.get("WINDOW_EXAMPLES", "60")), deadline=None)
@given(data=st.data())
def test_windows_and_fees_for_no_usage_give_the_lines_of_one_process(data):
    """Generated plans of one to four charges on two metrics, with validity windows
    (starting or ending inside the period, around it or wholly outside it, open on
    either side) or billing their first tier's flat fee without usage, any split into
    partitions and account groups: each group's lines, built from its partials and
    joined, are the bills of rate() on all the usage, named accounts without usage
    included."""
    from cloudrate.plans import Plan
    from cloudrate.rating.columnar import partial_aggregate
    from cloudrate.rating.columnar.lines import (
        LineColumns,
        join_lines,
        lines_from_ipc,
        lines_of_partials,
        lines_to_ipc,
    )
    from cloudrate.rating.distributed import grouped_accounts, split_partial
    from cloudrate.testing import charges, usage_records

    metrics = ("vcpu_hours", "storage_gb_hours")
    items = [
        attrs.evolve(
            data.draw(charges("EUR", metric=data.draw(st.sampled_from(metrics)), name=f"c{i}")),
            valid=data.draw(_windows()),
        )
        for i in range(data.draw(st.integers(1, 4), label="charges"))
    ]
    plan = Plan(name="w", currency="EUR", charges=items)
    records = data.draw(
        st.lists(
            usage_records(
                accounts=st.sampled_from(("a", "b", "c", "d")),
                metrics=st.sampled_from(metrics),
                max_quantity=Decimal(10**5),
            ),
            max_size=30,
        ),
        label="usage",
    )
    records = [attrs.evolve(r, record_id=f"r{i}") for i, r in enumerate(records)]
    named = ["zz-new", "a"]
    frame = frame_of(records)
    cuts = data.draw(st.lists(st.integers(0, len(records)), max_size=3), label="cuts")
    groups = data.draw(st.integers(1, 3), label="groups")
    bounds = [0, *sorted(cuts), len(records)]
    parts = [frame.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    cut = [split_partial(partial_aggregate(plan, p, PERIOD), groups) for p in parts]
    extra = grouped_accounts(named, groups)
    built = []
    for g in range(groups):
        lines = lines_of_partials(plan, [c[g] for c in cut], PERIOD, accounts=extra[g])
        assert isinstance(lines, LineColumns)
        built.append(lines_from_ipc(plan, PERIOD, plan.rounding, lines_to_ipc(lines)))
    joined, _ = join_lines(built)
    expected = rate(plan, records, PERIOD, accounts=named)
    assert joined.result().bills == expected.bills
