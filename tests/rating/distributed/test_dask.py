"""Dask: map_partitions on a LocalCluster of worker processes gives rate()'s totals."""

from __future__ import annotations

import pytest

from cloudrate import rate

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

batch = pytest.importorskip(
    "cloudrate.rating.columnar", reason="cloudrate.rating.columnar is not installed"
)
if not hasattr(batch, "partial_aggregate"):
    pytest.skip("cloudrate.rating.columnar has no partial_aggregate yet", allow_module_level=True)

from cloudrate.rating.distributed import rate_dask  # noqa: E402

from .conftest import PERIOD, frame_of, make_records, same_result  # noqa: E402

RECORDS = make_records(3000, accounts=40, seed=11)


@pytest.fixture(name="client", scope="module")
def _client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


class TestRateDask:
    @pytest.mark.parametrize(
        ("npartitions", "fan_in", "shuffle"), [(1, 8, False), (5, 2, False), (16, 3, True)]
    )
    def test_partitioning_gives_one_process_totals(
        self, client, plan, npartitions, fan_in, shuffle
    ):
        """Whatever the partitioning, order and combining tree, the Dask result equals
        rate() in one process line by line."""
        frame = frame_of(RECORDS)
        if shuffle:
            frame = frame.sample(frac=1, random_state=3)
        ddf = dd.from_pandas(frame, npartitions=npartitions, sort=False)
        result = rate_dask(plan, ddf, PERIOD, fan_in=fan_in)
        same_result(result, rate(plan, RECORDS, PERIOD))

    def test_fan_in_checked(self, plan):
        """A fan-in below 2 could never finish combining and is refused."""
        with pytest.raises(ValueError, match="fan_in"):
            rate_dask(plan, None, PERIOD, fan_in=1)
