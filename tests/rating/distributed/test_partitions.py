"""Any split of the usage into partitions rates to the totals of one rate() call."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudrate import RoundingPolicy, UnpricedUsageError, rate

pa = pytest.importorskip("pyarrow")

batch = pytest.importorskip(
    "cloudrate.rating.columnar", reason="cloudrate.rating.columnar is not installed"
)
if not hasattr(batch, "partial_aggregate"):
    pytest.skip("cloudrate.rating.columnar has no partial_aggregate yet", allow_module_level=True)
pytest.importorskip("pandas")

from cloudrate.rating.distributed import (  # noqa: E402
    combine_blobs,
    finish_blobs,
    from_ipc,
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
