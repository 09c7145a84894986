"""Any split of the usage into partitions rates to the totals of one rate() call."""

from __future__ import annotations

import itertools
import zlib
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudrate import RoundingPolicy, UnpricedUsageError, rate
from cloudrate.exceptions import RatingError

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
