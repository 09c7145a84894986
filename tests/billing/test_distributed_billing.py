"""Distributed billing runs store exactly the documents a one-process run stores."""

from __future__ import annotations

import os
import random
import shutil
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from cloudrate import BillingPeriod, UnpricedUsageError, UsageRecord, load_plan, rate
from cloudrate.billing import BillingRun, SQLiteDocumentStore, bill_dask, bill_spark
from cloudrate.exceptions import InvoiceError
from cloudrate.invoice import Customer, TaxRate

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

PLAN = load_plan(
    """
name: Distributed billing
currency: EUR
timezone: UTC
metrics:
  peak_ips: {unit: IP, aggregation: max}
  vms: {unit: VM, aggregation: unique}
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.012345"}
  - name: storage
    metric: storage_gb_hours
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.0001375"}
      - {up_to: null, unit_price: "0.00005"}
  - {name: peak_ips, metric: peak_ips, model: per_unit, unit_price: "1.005"}
  - {name: vms, metric: vms, model: per_unit, unit_price: "0.125"}
  - {name: platform, model: flat, price: "4.995"}
"""
)
PERIOD = BillingPeriod.month(2026, 10, "UTC")
DAY = date(2026, 11, 1)
METRICS = ("vcpu_hours", "storage_gb_hours", "peak_ips", "vms")


def records(n: int, accounts: int, seed: int) -> list[UsageRecord]:
    """*n* records over *accounts* accounts, some copied (copies are billed once)."""
    rng = random.Random(seed)
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        start = t0 + timedelta(hours=rng.randint(0, 24 * 29))
        out.append(
            UsageRecord(
                account=f"acct-{rng.randint(0, accounts - 1):03d}",
                metric=METRICS[i % len(METRICS)],
                quantity=Decimal(rng.randint(0, 10**6)).scaleb(-rng.randint(0, 6)),
                start=start,
                end=start + timedelta(hours=1),
                record_id=f"r{i}",
                resource_id=f"vm-{rng.randint(0, 9)}",
            )
        )
    return out + out[: n // 20]  # copies


def frame_of(usage: list[UsageRecord]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account": [r.account for r in usage],
            "metric": [r.metric for r in usage],
            "quantity": [str(r.quantity) for r in usage],
            "start": pd.to_datetime([r.start for r in usage], utc=True),
            "end": pd.to_datetime([r.end for r in usage], utc=True),
            "record_id": [r.record_id for r in usage],
            "resource_id": [r.resource_id for r in usage],
        }
    )


USAGE = records(1200, accounts=60, seed=7)
COPIES = 1200 // 20
FRAME = frame_of(USAGE)


def stored(store: SQLiteDocumentStore) -> list[tuple[object, ...]]:
    """Everything a run leaves in a store: documents (numbers, bodies, billed lines),
    sequences and events."""
    return [
        *store.documents(),
        *sorted(store.sequences().items()),
        *store.events(),
    ]


@pytest.fixture(name="stores")
def _stores(tmp_path: Path):
    opened = [SQLiteDocumentStore(tmp_path / f"{name}.db") for name in ("one", "dist")]
    yield opened
    for store in opened:
        store.close()


def by_account_frame(frame: pd.DataFrame, parts: int):
    """The usage with every account's records in one partition (so that every copy of a
    record is found, as docs/distributed.md asks)."""
    codes = frame["account"].map(lambda a: int(a.split("-")[1]) % parts)
    pieces = [frame[codes == p] for p in range(parts)]
    return dd.from_delayed([dask.delayed(p) for p in pieces], meta=frame.iloc[:0])


class TestBillDask:
    @pytest.mark.parametrize(("npartitions", "groups"), [(1, None), (4, None), (5, 3), (7, 1)])
    def test_same_documents_as_one_process(self, stores, npartitions, groups):
        """Documents, numbers, bodies, sequences and events equal a one-process run's,
        whatever the partitioning, the order of the records and the number of account
        groups."""
        one, dist = stores
        usage = USAGE[:-COPIES]  # copies split across partitions would be billed twice
        expected = BillingRun(store=one).bill(rate(PLAN, usage, PERIOD), issued_on=DAY)
        shuffled = frame_of(usage).sample(frac=1, random_state=npartitions)
        frame = dd.from_pandas(shuffled, npartitions=npartitions, sort=False)
        with dask.config.set(scheduler="sync"):
            got = bill_dask(
                BillingRun(store=dist), PLAN, frame, PERIOD, issued_on=DAY, groups=groups
            )
        assert got == expected
        assert stored(dist) == stored(one)

    @pytest.mark.parametrize("by_account", [False, True])
    def test_partitioned_by_account_drops_copies(self, stores, by_account):
        """Usage partitioned by account, shuffled or rated where it is (by_account), bills
        each copied record once and counts the copies as one process does."""
        one, dist = stores
        expected = BillingRun(store=one).bill(rate(PLAN, USAGE, PERIOD), issued_on=DAY)
        frame = by_account_frame(FRAME.sample(frac=1, random_state=1), 3)
        with dask.config.set(scheduler="sync"):
            got = bill_dask(
                BillingRun(store=dist), PLAN, frame, PERIOD, issued_on=DAY, by_account=by_account
            )
        assert got == expected
        assert stored(dist) == stored(one)
        assert got.duplicates_dropped == COPIES

    def test_options_as_one_process(self, stores):
        """Customers, taxes, empty invoices left out, accounts without usage and a
        subset of accounts give the documents of BillingRun.bill."""
        one, dist = stores
        customers = {
            "acct-003": Customer(id="acct-003", name="Three GmbH", country="DE"),
            "newcomer": Customer(id="newcomer", name="New AG", country="DE"),
        }
        wanted = ["acct-003", "acct-010", "newcomer"]
        options = {"customers": customers, "taxes": TaxRate(percent="19"), "empty": "none"}
        result = rate(PLAN, USAGE, PERIOD, accounts=["newcomer", "quiet"])
        expected = BillingRun(store=one).bill(result, issued_on=DAY, accounts=wanted, **options)
        with dask.config.set(scheduler="sync"):
            got = bill_dask(
                BillingRun(store=dist),
                PLAN,
                by_account_frame(FRAME, 3),
                PERIOD,
                issued_on=DAY,
                accounts=["newcomer", "quiet"],
                only=wanted,
                **options,
            )
        assert got == expected
        assert stored(dist) == stored(one)
        assert "Three GmbH" in dist.documents(customer="acct-003")[0].body

    def test_rerun_and_late_record(self, stores):
        """A rerun issues nothing; a late record re-bills only its customer, as in one
        process."""
        one, dist = stores
        late = records(1, accounts=1, seed=99)[0]
        runs = []
        for usage in (USAGE, USAGE, [*USAGE, late]):
            BillingRun(store=one).bill(rate(PLAN, usage, PERIOD), issued_on=DAY)
            with dask.config.set(scheduler="sync"):
                frame = by_account_frame(frame_of(usage), 4)
                runs.append(bill_dask(BillingRun(store=dist), PLAN, frame, PERIOD, issued_on=DAY))
        assert runs[1].issued == {"invoice": 0, "supplementary": 0, "credit_note": 0}
        assert [o.customer for o in runs[2].outcomes if o.documents] == [late.account]
        assert stored(dist) == stored(one)

    def test_unpriced_usage_stops_the_run(self, stores):
        """Usage no charge prices stops the run before anything is stored, naming the
        metric; with on_unpriced='report' the rest is billed as in one process."""
        one, dist = stores
        stray = FRAME.iloc[:7].assign(metric="gpu_hours", record_id=FRAME.record_id[:7] + "g")
        frame = by_account_frame(pd.concat([FRAME, stray]), 4)
        with dask.config.set(scheduler="sync"), pytest.raises(UnpricedUsageError, match="gpu"):
            bill_dask(BillingRun(store=dist), PLAN, frame, PERIOD)
        assert stored(dist) == []
        usage = [
            *USAGE,
            *(attrs.evolve(r, metric="gpu_hours", record_id=f"{r.record_id}g") for r in USAGE[:7]),
        ]
        expected = BillingRun(store=one).bill(rate(PLAN, usage, PERIOD), issued_on=DAY)
        with dask.config.set(scheduler="sync"):
            got = bill_dask(
                BillingRun(store=dist), PLAN, frame, PERIOD, issued_on=DAY, on_unpriced="report"
            )
        assert got.documents == expected.documents

    def test_unknown_account_refused(self, stores):
        """Billing only an account without usage is refused before anything is stored."""
        _, dist = stores
        with dask.config.set(scheduler="sync"), pytest.raises(InvoiceError, match="ghost"):
            bill_dask(
                BillingRun(store=dist),
                PLAN,
                by_account_frame(FRAME, 2),
                PERIOD,
                only=["acct-001", "ghost"],
            )
        assert stored(dist) == []


def test_worker_processes(stores):
    """On a LocalCluster of two worker processes the documents are those of one process."""
    distributed = pytest.importorskip("distributed")
    one, dist = stores
    BillingRun(store=one).bill(rate(PLAN, USAGE, PERIOD), issued_on=DAY)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        frame = by_account_frame(FRAME, 6)
        bill_dask(BillingRun(store=dist), PLAN, frame, PERIOD, issued_on=DAY, client=client)
    assert stored(dist) == stored(one)


@pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("JAVA_HOME"),
    reason="Spark needs Java 17 or later, and no java is on PATH or in JAVA_HOME",
)
def test_spark_same_documents(stores, tmp_path):
    """Spark in local[2], shuffled by account or rated partition by partition, stores
    the documents of one process."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("cloudrate-billing-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    one, dist = stores
    plain = USAGE[:-COPIES]  # copies split across partitions would be billed twice
    BillingRun(store=one).bill(rate(PLAN, plain, PERIOD, accounts=["newcomer"]), issued_on=DAY)

    def spark_frame(usage):
        # quantities as decimal strings: a decimal(38,12) column would print every
        # quantity with 12 decimals (equal amounts, other text in the documents)
        return spark.createDataFrame(frame_of(usage))

    bill_spark(
        BillingRun(store=dist),
        PLAN,
        spark_frame(plain).repartition(5),
        PERIOD,
        issued_on=DAY,
        accounts=["newcomer"],
        groups=3,
    )
    assert stored(dist) == stored(one)
    with (
        SQLiteDocumentStore(tmp_path / "copies-one.db") as reference,
        SQLiteDocumentStore(tmp_path / "copies.db") as again,
    ):
        BillingRun(store=reference).bill(rate(PLAN, USAGE, PERIOD), issued_on=DAY)
        summary = bill_spark(
            BillingRun(store=again),
            PLAN,
            spark_frame(USAGE).repartition(4, "account"),
            PERIOD,
            issued_on=DAY,
            by_account=True,
        )
        assert stored(again) == stored(reference)
        assert summary.duplicates_dropped == COPIES
    spark.stop()
