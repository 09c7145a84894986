"""Distributed billing runs store exactly the documents a one-process run stores: from
drafts assembled on the workers, or, for plans the columnar kernel prices, from invoices
the workers write and the driver numbers (the rows of ``BillingRun.bill_table``)."""

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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudrate import BillingPeriod, UnpricedUsageError, UsageRecord, load_plan, rate
from cloudrate.billing import BillingRun, SQLiteDocumentStore, bill_dask, bill_spark
from cloudrate.exceptions import BillingError, InvoiceError, RatingError
from cloudrate.invoice import Customer, FlatTax, RegionalTax, TaxRate

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


def test_worker_processes(stores, tmp_path):
    """On a LocalCluster of two worker processes the documents are those of one process:
    from drafts, and from invoices the workers wrote (the kernel's plan)."""
    distributed = pytest.importorskip("distributed")
    one, dist = stores
    BillingRun(store=one).bill(rate(PLAN, USAGE, PERIOD), issued_on=DAY)
    with (
        SQLiteDocumentStore(tmp_path / "fast-one.db") as fast_one,
        SQLiteDocumentStore(tmp_path / "fast-dist.db") as fast_dist,
    ):
        BillingRun(store=fast_one).bill(
            rate(FAST_PLAN, FAST_USAGE, PERIOD), issued_on=DAY, taxes=TaxRate(percent="19")
        )
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            frame = by_account_frame(FRAME, 6)
            bill_dask(BillingRun(store=dist), PLAN, frame, PERIOD, issued_on=DAY, client=client)
            bill_dask(
                BillingRun(store=fast_dist),
                FAST_PLAN,
                by_account_frame(FAST_FRAME, 6).repartition(npartitions=3),
                PERIOD,
                issued_on=DAY,
                taxes=TaxRate(percent="19"),
                client=client,
            )
        assert stored(fast_dist) == stored(fast_one)
    assert stored(dist) == stored(one)


@pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("JAVA_HOME"),
    reason="Spark needs Java 17 or later, and no java is on PATH or in JAVA_HOME",
)
def test_spark_same_documents(stores, tmp_path):
    """Spark in local[2], shuffled by account or rated partition by partition, stores
    the documents of one process: from drafts, and from invoices the executors wrote
    (the kernel's plan)."""
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
    # the kernel's plan: the executors write the invoices, the driver numbers them
    fast_plain = FAST_USAGE[:-FAST_COPIES]
    for name, usage, options in (
        ("fast-groups", fast_plain, {"groups": 3, "accounts": ["newcomer"]}),
        ("fast-by-account", FAST_USAGE, {"by_account": True, "accounts": ["newcomer"]}),
    ):
        with (
            SQLiteDocumentStore(tmp_path / f"{name}-one.db") as reference,
            SQLiteDocumentStore(tmp_path / f"{name}.db") as again,
        ):
            BillingRun(store=reference).bill(
                rate(FAST_PLAN, usage, PERIOD, accounts=["newcomer"]),
                issued_on=DAY,
                taxes=TaxRate(percent="19"),
            )
            frame = spark.createDataFrame(fast_frame(usage))
            frame = frame.repartition(4, "account") if options.get("by_account") else frame
            bill_spark(
                BillingRun(store=again),
                FAST_PLAN,
                frame.repartition(5) if not options.get("by_account") else frame,
                PERIOD,
                issued_on=DAY,
                taxes=TaxRate(percent="19"),
                **options,
            )
            assert stored(again) == stored(reference)
    spark.stop()


#: A plan the columnar kernel prices: the workers write the invoices, the driver numbers
#: and stores them (as BillingRun.bill_table does).
FAST_PLAN = load_plan(
    """
name: Kernel billing
currency: EUR
timezone: UTC
charges:
  - {name: small, metric: vcpu_hours, where: {offering: small}, model: per_unit,
     unit_price: "0.012345"}
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.0012"}
  - name: storage
    metric: storage_gb_hours
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.0001375"}
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
)
FAST_METRICS = ("vcpu_hours", "storage_gb_hours", "bandwidth_gb")


def fast_records(n: int, accounts: int, seed: int) -> list[UsageRecord]:
    """*n* records of the kernel plan's metrics, some offering ``small``; the first
    twentieth copied at the end (copies are billed once)."""
    rng = random.Random(seed)
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        start = t0 + timedelta(hours=rng.randint(0, 24 * 29))
        metric = FAST_METRICS[i % len(FAST_METRICS)]
        out.append(
            UsageRecord(
                account=f"acct-{rng.randint(0, accounts - 1):03d}",
                metric=metric,
                quantity=Decimal(rng.randint(0, 10**6)).scaleb(-rng.randint(0, 6)),
                start=start,
                end=start + timedelta(hours=1),
                record_id=f"r{i}",
                attributes={"offering": rng.choice(("small", "large"))},
            )
        )
    return out + out[: n // 20]


def fast_frame(usage: list[UsageRecord]) -> pd.DataFrame:
    return frame_of(usage).assign(offering=[r.attributes.get("offering") for r in usage])


FAST_USAGE = fast_records(1500, accounts=80, seed=11)
FAST_COPIES = 1500 // 20
FAST_FRAME = fast_frame(FAST_USAGE)


@pytest.fixture(name="written")
def _written(monkeypatch):
    """How many groups the workers wrote invoices for (the sync scheduler runs them
    here), and how many they sent as drafts."""
    from cloudrate.billing import _distributed

    counts = {"written": 0, "drafts": 0}
    write_group, drafts = _distributed.write_group, _distributed._drafts

    def counting_write(*args, **kwargs):
        counts["written"] += 1
        return write_group(*args, **kwargs)

    def counting_drafts(*args, **kwargs):
        counts["drafts"] += 1
        return drafts(*args, **kwargs)

    monkeypatch.setattr(_distributed, "write_group", counting_write)
    monkeypatch.setattr(_distributed, "_drafts", counting_drafts)
    return counts


def both(one: SQLiteDocumentStore, table_store: SQLiteDocumentStore, usage, **options):
    """The one-process runs: BillingRun.bill of rate(), and BillingRun.bill_table; both
    store the same rows (tests/billing/test_fast_run.py), returned with bill's summary."""
    from cloudrate.rating.columnar import to_table

    accounts = options.pop("accounts", ())
    summary = BillingRun(store=one).bill(
        rate(FAST_PLAN, usage, PERIOD, accounts=accounts), issued_on=DAY, **options
    )
    BillingRun(store=table_store).bill_table(
        FAST_PLAN, to_table(usage), PERIOD, accounts=accounts, issued_on=DAY, **options
    )
    assert stored(table_store) == stored(one)
    return summary


@pytest.fixture(name="three")
def _three(tmp_path: Path):
    opened = [SQLiteDocumentStore(tmp_path / f"{name}.db") for name in ("one", "table", "dist")]
    yield opened
    for store in opened:
        store.close()


class TestBillDaskWritesOnWorkers:
    """For plans the columnar kernel prices, the workers write the invoices (JSON,
    events, billed rows) without numbers; the driver numbers and stores them. The store
    then holds, byte for byte, what BillingRun.bill and bill_table store."""

    @pytest.mark.parametrize(
        ("npartitions", "groups", "by_account"),
        [(1, None, False), (4, None, False), (5, 3, False), (7, 1, False), (3, None, True)],
    )
    def test_same_rows_as_one_process(self, three, written, npartitions, groups, by_account):
        """Documents (bodies byte for byte), billed rows, numbers, sequences, events and
        the summary equal a one-process run's, whatever the partitioning and groups."""
        one, table_store, dist = three
        usage = FAST_USAGE if by_account else FAST_USAGE[:-FAST_COPIES]
        expected = both(one, table_store, usage)
        frame = fast_frame(usage).sample(frac=1, random_state=npartitions)
        if by_account:
            frame = by_account_frame(frame, npartitions)
        else:
            frame = dd.from_pandas(frame, npartitions=npartitions, sort=False)
        with dask.config.set(scheduler="sync"):
            got = bill_dask(
                BillingRun(store=dist),
                FAST_PLAN,
                frame,
                PERIOD,
                issued_on=DAY,
                groups=groups,
                by_account=by_account,
                batch=7,
            )
        assert written["written"] >= 1 and written["drafts"] == 0
        assert got.to_dict() == expected.to_dict()
        assert stored(dist) == stored(one)

    @pytest.mark.parametrize(
        "taxes",
        [
            TaxRate(percent="19"),
            FlatTax(TaxRate(percent="7.5", note="Reduced rate")),
            RegionalTax(countries={"DE": TaxRate(percent="19")}, default=TaxRate(percent="0")),
        ],
    )
    @pytest.mark.parametrize("tax_method", ["total", "line"])
    def test_customers_taxes_and_accounts_without_usage(self, three, written, taxes, tax_method):
        """Customers, each tax rule bill_table prices (by total or by line) and accounts
        billed without usage give the rows of one process."""
        one, table_store, dist = three
        customers = {
            "acct-003": Customer(id="acct-003", name="Drei GmbH", country="DE"),
            "acct-004": Customer(id="acct-004", name="Quatre SA", country="FR"),
            "newcomer": Customer(id="newcomer", name="Neu AG", country="DE"),
        }
        options = {"customers": customers, "taxes": taxes, "tax_method": tax_method}
        expected = both(one, table_store, FAST_USAGE, accounts=["newcomer", "quiet"], **options)
        with dask.config.set(scheduler="sync"):
            got = bill_dask(
                BillingRun(store=dist),
                FAST_PLAN,
                by_account_frame(FAST_FRAME, 3),
                PERIOD,
                issued_on=DAY,
                accounts=["newcomer", "quiet"],
                **options,
            )
        assert written["drafts"] == 0
        assert got.to_dict() == expected.to_dict()
        assert stored(dist) == stored(one)
        assert "Drei GmbH" in dist.documents(customer="acct-003")[0].body

    def test_rerun_and_late_records(self, three, written):
        """A rerun issues nothing; late records re-bill only their customers (a
        supplementary invoice, through the object path), as in one process."""
        one, table_store, dist = three
        late = [
            attrs.evolve(r, metric="vcpu_hours", record_id=f"late-{i}", quantity=Decimal("12.5"))
            for i, r in enumerate(FAST_USAGE[:2])
        ]
        runs = []
        for usage in (FAST_USAGE, FAST_USAGE, [*FAST_USAGE, *late]):
            both(one, table_store, usage)
            with dask.config.set(scheduler="sync"):
                frame = by_account_frame(fast_frame(usage), 4)
                runs.append(
                    bill_dask(BillingRun(store=dist), FAST_PLAN, frame, PERIOD, issued_on=DAY)
                )
        assert written["drafts"] == 0
        assert runs[1].issued == {"invoice": 0, "supplementary": 0, "credit_note": 0}
        assert runs[1].unchanged == len(runs[0].outcomes)
        assert sorted(o.customer for o in runs[2].outcomes if o.documents) == sorted(
            {r.account for r in late}
        )
        assert stored(dist) == stored(one)

    def test_a_group_the_kernel_declines_is_billed_from_drafts(self, three, monkeypatch):
        """When the kernel declines one group's usage (it declines what it cannot price
        exactly in integers), that group sends drafts and the run bills every group
        through the object path: the rows of one process still."""
        from cloudrate.rating.columnar import lines as columnar_lines

        one, table_store, dist = three
        usage = FAST_USAGE[:-FAST_COPIES]
        both(one, table_store, usage)
        real = columnar_lines.lines_of_partials
        calls = []

        def declines_first(*args, **kwargs):
            calls.append(1)
            return None if len(calls) == 1 else real(*args, **kwargs)

        monkeypatch.setattr(columnar_lines, "lines_of_partials", declines_first)
        frame = dd.from_pandas(fast_frame(usage), npartitions=4)
        with dask.config.set(scheduler="sync"):
            bill_dask(BillingRun(store=dist), FAST_PLAN, frame, PERIOD, issued_on=DAY, groups=3)
        assert len(calls) == 3
        assert stored(dist) == stored(one)

    def test_unpriced_usage_stops_the_run(self, three):
        """Usage no charge prices stops the run before anything is stored; with
        on_unpriced='report' the rest is billed as in one process."""
        one, table_store, dist = three
        stray = FAST_FRAME.iloc[:5].assign(
            metric="gpu_hours", record_id=FAST_FRAME.record_id[:5] + "g"
        )
        frame = by_account_frame(pd.concat([FAST_FRAME, stray]), 3)
        with dask.config.set(scheduler="sync"), pytest.raises(UnpricedUsageError, match="gpu"):
            bill_dask(BillingRun(store=dist), FAST_PLAN, frame, PERIOD)
        assert stored(dist) == []
        both(one, table_store, FAST_USAGE)
        with dask.config.set(scheduler="sync"):
            bill_dask(
                BillingRun(store=dist),
                FAST_PLAN,
                frame,
                PERIOD,
                issued_on=DAY,
                on_unpriced="report",
            )
        assert stored(dist) == stored(one)

    def test_what_assembling_refuses_is_refused_before_anything_is_stored(self, three):
        """A customer whose id is not its account, or a tax rule without a rate for a
        customer, is refused on the worker: nothing is stored."""
        _, _, dist = three
        frame = by_account_frame(FAST_FRAME, 2)
        no_default = RegionalTax(countries={"DE": TaxRate(percent="19")})
        for options in (
            {"customers": {"acct-001": Customer(id="other", name="X")}},
            {"taxes": no_default},
        ):
            with dask.config.set(scheduler="sync"), pytest.raises(InvoiceError):
                bill_dask(BillingRun(store=dist), FAST_PLAN, frame, PERIOD, **options)
        assert stored(dist) == []

    def test_split_account_refused(self, three):
        """by_account=True on usage whose account spans two partitions is refused
        before anything is stored."""
        _, _, dist = three
        frame = dd.from_pandas(FAST_FRAME, npartitions=3, sort=False)
        with dask.config.set(scheduler="sync"), pytest.raises(RatingError, match="more than"):
            bill_dask(BillingRun(store=dist), FAST_PLAN, frame, PERIOD, by_account=True)
        assert stored(dist) == []

    @pytest.mark.parametrize("options", [{"only": ["acct-001", "acct-007"]}, {"empty": "none"}])
    def test_options_bill_table_lacks_go_through_drafts(self, three, written, options):
        """A subset of accounts or empty invoices left out (options bill_table does not
        have) are billed from drafts, with the documents of BillingRun.bill."""
        one, _, dist = three
        usage = FAST_USAGE[:-FAST_COPIES]
        wanted = options.get("only")
        BillingRun(store=one).bill(
            rate(FAST_PLAN, usage, PERIOD),
            issued_on=DAY,
            accounts=wanted,
            empty=options.get("empty", "zero"),
        )
        frame = dd.from_pandas(fast_frame(usage), npartitions=3)
        with dask.config.set(scheduler="sync"):
            bill_dask(BillingRun(store=dist), FAST_PLAN, frame, PERIOD, issued_on=DAY, **options)
        assert written["written"] == 0
        assert stored(dist) == stored(one)

    def test_batch_checked(self, three):
        """A batch size below 1 is refused before any worker starts."""
        _, _, dist = three
        with pytest.raises(BillingError, match="batch"):
            bill_dask(BillingRun(store=dist), FAST_PLAN, FAST_FRAME, PERIOD, batch=0)


@settings(
    max_examples=int(os.environ.get("DASK_BILL_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_written_on_workers_stores_what_one_process_stores(
    tmp_path_factory: pytest.TempPathFactory, written: dict[str, int], data: st.DataObject
) -> None:
    """Generated plans the kernel prices (every tiered model, free units, validity
    windows, first flat fees billed without usage, a flat fee, currencies with 0, 2 and
    3 digits, every rounding mode), generated usage, taxes,
    partitions and groups: bill_dask stores what BillingRun.bill stores, on the first
    run and after late records."""
    from moneyed import Money

    from cloudrate import RoundingPolicy
    from cloudrate.plans import Charge, Flat, Plan
    from cloudrate.testing import charges, usage_records

    currency = data.draw(st.sampled_from(("EUR", "JPY", "BHD")), label="currency")
    metrics = ("vcpu_hours", "storage_gb_hours", "bandwidth_gb")
    count = data.draw(st.integers(1, 3), label="charges")
    # validity windows too: records a window leaves out are unpriced usage, reported
    items = [data.draw(charges(currency, metric=metrics[i], name=f"c{i}")) for i in range(count)]
    if data.draw(st.booleans(), label="flat fee"):
        items.append(Charge(name="platform", model=Flat(Money("9.99", currency))))
    mode = data.draw(st.sampled_from(("half_up", "half_even", "up", "down")), label="mode")
    plan = Plan(name="g", currency=currency, charges=items, rounding=RoundingPolicy(mode=mode))
    records = st.lists(
        usage_records(
            accounts=st.sampled_from(("a", "b", "c", "d", 'ü "x"', "n\x00l")),
            metrics=st.sampled_from(metrics[:count]),
            max_quantity=Decimal(10**5),
        ),
        min_size=1,
        max_size=40,
    )
    first, late = data.draw(records, label="usage"), data.draw(records, label="late")
    taxes = data.draw(st.sampled_from((None, TaxRate(percent="19"))), label="taxes")
    method = data.draw(st.sampled_from(("total", "line")), label="tax method")
    parts = data.draw(st.integers(1, 4), label="partitions")
    groups = data.draw(st.sampled_from((None, 1, 3)), label="groups")
    tmp = tmp_path_factory.mktemp("dask-fast")
    with (
        SQLiteDocumentStore(tmp / "one.db") as one,
        SQLiteDocumentStore(tmp / "dist.db") as dist,
    ):
        for usage in (first, first + late):
            # distinct record ids: copies split across partitions would be billed twice
            usage = [attrs.evolve(r, record_id=f"r{i}") for i, r in enumerate(usage)]
            BillingRun(store=one).bill(
                rate(plan, usage, PERIOD), issued_on=DAY, taxes=taxes, tax_method=method
            )
            frame = dd.from_pandas(frame_of(usage), npartitions=parts, sort=False)
            with dask.config.set(scheduler="sync"):
                bill_dask(
                    BillingRun(store=dist),
                    plan,
                    frame,
                    PERIOD,
                    issued_on=DAY,
                    taxes=taxes,
                    tax_method=method,
                    groups=groups,
                    on_unpriced="report",
                )
            assert stored(dist) == stored(one)
    # the workers wrote the invoices (the kernel covers every such plan), never drafts
    assert written["written"] > 0 and written["drafts"] == 0
