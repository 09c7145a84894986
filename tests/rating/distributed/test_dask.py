"""Dask: map_partitions on a LocalCluster of worker processes gives rate()'s totals."""

from __future__ import annotations

import pytest

from cloudrate import rate

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

batch = pytest.importorskip(
    "cloudrate.rating.columnar", reason="cloudrate.rating.columnar is not installed"
)
if not hasattr(batch, "partial_aggregate"):
    pytest.skip("cloudrate.rating.columnar has no partial_aggregate yet", allow_module_level=True)

from cloudrate.rating.distributed import group_count, rate_dask  # noqa: E402

from .conftest import PERIOD, frame_of, make_records, same_result  # noqa: E402

RECORDS = make_records(3000, accounts=40, seed=11)


@pytest.fixture(name="client", scope="module")
def _client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


class TestRateDask:
    def test_default_groups_are_one_per_worker_thread(self, client):
        """Without *groups*, a group per worker thread of the cluster (the client given,
        or the default one), never more than the partitions; *groups* given is kept."""
        five = dd.from_pandas(frame_of(RECORDS), npartitions=5, sort=False)
        one = dd.from_pandas(frame_of(RECORDS), npartitions=1, sort=False)
        workers = len(client.scheduler_info()["workers"])
        assert workers == 2 and set(client.nthreads().values()) == {1}
        assert group_count(five, None, client) == workers
        assert group_count(five, None) == workers  # the fixture's client is the default
        assert group_count(one, None, client) == 1
        assert group_count(five, 4, client) == 4

    @pytest.mark.parametrize(
        ("threads", "status", "asynchronous", "expected"),
        [
            ({"a": 3, "b": 2}, "running", False, 5),  # threads, not workers
            ({f"w{i}": 1 for i in range(40)}, "running", False, 32),  # at most 32
            ({}, "running", False, 7),  # no workers yet: one per partition
            ({"a": 3}, "closed", False, 7),  # a closed client says so when the run starts
            ({"a": 3}, "running", True, 7),  # so does an asynchronous one
        ],
    )
    def test_default_groups_count_threads_of_a_running_client(
        self, threads, status, asynchronous, expected
    ):
        """The default counts the threads of a running synchronous client, at most 32
        and at most one per partition; a client that cannot answer leaves one group per
        partition."""

        class Stub:
            def __init__(self) -> None:
                self.status, self.asynchronous = status, asynchronous

            def nthreads(self):
                return threads

        seven = dd.from_pandas(frame_of(RECORDS), npartitions=7, sort=False)
        forty = dd.from_pandas(frame_of(RECORDS), npartitions=40, sort=False)
        frame = forty if expected == 32 else seven
        assert group_count(frame, None, Stub()) == expected

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
        assert result == rate(plan, RECORDS, PERIOD)

    @pytest.mark.parametrize(("groups", "by_account"), [(1, False), (5, False), (None, True)])
    def test_lines_on_workers_equal_one_process(self, client, plan, groups, by_account):
        """Lines built on the workers, in any number of account groups or partition by
        partition (usage partitioned by account), give a result equal to rate()'s, with
        accounts without usage billed too."""
        frame = frame_of(RECORDS)
        codes = frame["account"].map(lambda a: int(a.split("-")[1]) % 4)
        pieces = [frame[codes == p] for p in range(4)]
        ddf = dd.from_delayed([dask.delayed(p) for p in pieces], meta=frame.iloc[:0])
        got = rate_dask(
            plan,
            ddf,
            PERIOD,
            groups=groups,
            by_account=by_account,
            accounts=["zz-new"],
            client=client,
        )
        expected = rate(plan, RECORDS, PERIOD, accounts=["zz-new"])
        assert got == expected
        assert got.to_dict() == expected.to_dict()

    def test_fan_in_checked(self, plan):
        """A fan-in below 2 could never finish combining and is refused."""
        with pytest.raises(ValueError, match="fan_in"):
            rate_dask(plan, None, PERIOD, fan_in=1)
