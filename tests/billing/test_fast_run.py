"""The columnar billing run (``BillingRun.bill_table``) against the object path.

For generated plans and usage both runs bill into fresh SQLite stores; every stored
document (body byte for byte, columns, billed rows), every event and every sequence must
be the same, and so must the reruns: unchanged usage issues nothing, late records re-bill
only their customers (supplementary invoices, credit notes through the object path).
"""

from __future__ import annotations

import os
import signal
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import attrs
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import BillingPeriod, UsageRecord, rate
from cloudrate.billing import BillingRun, DocumentStore, SQLiteDocumentStore, open_store
from cloudrate.invoice import Customer, FlatTax, RegionalTax, TaxRate
from cloudrate.plans import Charge, Flat, Metric, Plan
from cloudrate.rating.columnar import rate_table, to_table
from cloudrate.rating.columnar.lines import LineColumns, rate_lines
from cloudrate.testing import charges, quantity_roundings, usage_records

PERIOD = BillingPeriod.month(2026, 10, "UTC")
METRICS = ("vcpu_hours", "memory_gb_hours", "storage_gb_hours", "bandwidth_gb", "public_ip_hours")


@st.composite
def fast_plans(draw: st.DrawFn) -> Plan:
    """Plans the columnar kernel covers: usage charges of every vectorised model (tier
    edges, free units, the first tier's flat fee for no usage), perhaps rounding their
    aggregated quantities, perhaps a flat fee, in a currency with 2, 0 or 3 digits."""
    currency = draw(st.sampled_from(("EUR", "JPY", "BHD")))
    count = draw(st.integers(1, len(METRICS)))
    items = [draw(charges(currency, metric=METRICS[i], name=f"c{i}")) for i in range(count)]
    if draw(st.booleans()):
        items.append(
            Charge(
                name="platform",
                model=Flat(Money(draw(st.sampled_from(("9.99", "0", "12.345"))), currency)),
            )
        )
    mode = draw(st.sampled_from(("half_up", "half_even", "up", "down")))
    from cloudrate import RoundingPolicy

    rounded = st.one_of(st.none(), quantity_roundings(per=st.just("aggregate")))
    metrics = [
        Metric(
            name=m, unit=Plan(name="g", currency=currency, charges=items).metric(m).unit, rounding=r
        )
        for m in METRICS[:count]
        if (r := draw(rounded)) is not None
    ]
    return Plan(
        name="g",
        currency=currency,
        charges=items,
        metrics=metrics,
        rounding=RoundingPolicy(mode=mode),
    )


def _edges(plan: Plan) -> list[Decimal]:
    """Quantities on the plan's edges: tier bounds, free units, block sizes, and zero."""
    out = [Decimal(0), Decimal("0.000000")]
    for charge in plan.charges:
        out.append(charge.free_units)
        model = charge.model
        for tier in getattr(model, "tiers", ()):
            if tier.up_to is not None:
                out.extend((tier.up_to, tier.up_to + charge.free_units))
        size = getattr(model, "block_size", None)
        if size is not None:
            out.extend((size, size * 3, size * 3 + Decimal("0.001")))
    return out


def _records(draw: st.DrawFn, plan: Plan) -> list[UsageRecord]:
    accounts = st.sampled_from(("a", "b", "c", "d", 'ü "x"'))
    metrics = st.sampled_from([c.metric for c in plan.charges if c.metric] or list(METRICS))
    plain = usage_records(accounts=accounts, metrics=metrics, max_quantity=Decimal(5000))
    on_edge = st.builds(
        lambda r, q: UsageRecord(
            account=r.account, metric=r.metric, quantity=q, start=r.start, end=r.end
        ),
        plain,
        st.sampled_from(_edges(plan)),
    )
    big = usage_records(accounts=accounts, metrics=metrics, max_quantity=Decimal(10**7))
    return draw(st.lists(st.one_of(plain, on_edge, big), max_size=40))


TAXES = st.sampled_from(
    (
        None,
        TaxRate(percent="19"),
        FlatTax(TaxRate(percent="7.5", note="Reduced rate")),
        RegionalTax(countries={"DE": TaxRate(percent="19")}, default=TaxRate(percent="0")),
    )
)
CUSTOMERS = {
    "a": Customer(id="a", name="Ä GmbH", country="DE", address=["x", "y"]),
    "b": Customer(id="b", name="B", country="FR"),
}


def _state(store: SQLiteDocumentStore) -> tuple[object, ...]:
    return store.documents(), store.events(), store.sequences()


def _both(tmp: Path, tag: str) -> tuple[SQLiteDocumentStore, SQLiteDocumentStore]:
    return SQLiteDocumentStore(tmp / f"{tag}-fast.db"), SQLiteDocumentStore(tmp / f"{tag}-obj.db")


@settings(
    max_examples=int(os.environ.get("FAST_RUN_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_bill_table_stores_what_the_object_path_stores(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    plan = data.draw(fast_plans())
    records = _records(data.draw, plan)
    late = _records(data.draw, plan)
    taxes = data.draw(TAXES)
    method = data.draw(st.sampled_from(("total", "line")))
    named = data.draw(st.sampled_from(((), ("zz-no-usage",), ("a", "e"))))
    customers = data.draw(st.sampled_from((None, CUSTOMERS)))
    if not records and not named:
        return
    tmp = tmp_path_factory.mktemp("fast")
    fast, obj = _both(tmp, "run")
    kw = {"customers": customers, "taxes": taxes, "tax_method": method}
    try:
        for usage in (records, records, records + late):
            table = to_table(usage)
            got = BillingRun(store=fast).bill_table(
                plan, table, PERIOD, accounts=named, batch=2, **kw
            )
            result = rate_table(plan, table, PERIOD, accounts=named)
            want = BillingRun(store=obj).bill(result, **kw)
            assert got.issued == want.issued
            assert got.unchanged == want.unchanged
            assert [o.to_dict() for o in got.outcomes] == [o.to_dict() for o in want.outcomes]
            assert _state(fast) == _state(obj)
    finally:
        fast.close()
        obj.close()


def test_the_kernel_covers_the_benchmark_kind_of_plan() -> None:
    plan = _plain_plan()
    records = [_hour_of("a", "1.5")]
    rated = rate_lines(plan, to_table(records), PERIOD)
    assert isinstance(rated, LineColumns)
    assert rated.result() == rate(plan, records, PERIOD)


def charges_example():  # type: ignore[no-untyped-def]
    from cloudrate.plans import PerUnit

    return PerUnit(Money("0.0125", "EUR"))


def _plain_plan() -> Plan:
    """One per-unit charge on ``vcpu_hours``: the plan of the hand-written cases."""
    return Plan(
        name="p",
        currency="EUR",
        charges=[Charge(name="c0", metric="vcpu_hours", model=charges_example())],
    )


def _hour_of(account: str, quantity: int | str, **more: str) -> UsageRecord:
    """*quantity* of ``vcpu_hours`` used by *account* in the period's first hour."""
    start = PERIOD.start
    return UsageRecord(
        account=account,
        metric="vcpu_hours",
        quantity=Decimal(quantity),
        start=start,
        end=start.replace(hour=1),
        **more,
    )


def test_plans_the_kernel_does_not_cover_bill_through_the_object_path(tmp_path: Path) -> None:
    from cloudrate import load_plan, read_usage, sample_plan_path, sample_usage_path

    plan = load_plan(sample_plan_path())  # minimum and percentage charges
    usage = read_usage(sample_usage_path())
    assert not isinstance(rate_lines(plan, to_table(usage)), LineColumns)
    fast, obj = _both(tmp_path, "sample")
    try:
        BillingRun(store=fast).bill_table(plan, to_table(usage))
        BillingRun(store=obj).bill(rate(plan, usage))
        assert _state(fast) == _state(obj)
    finally:
        fast.close()
        obj.close()


def test_transactions_bill_through_the_object_path_in_any_order(tmp_path: Path) -> None:
    """A plan with charges priced per transaction (Lago's percentage and graduated
    percentage): bill_table stores what bill(rate(...)) stores, whatever the order of
    the rows."""
    from cloudrate import load_plan

    plan = load_plan("""
name: Payments
currency: USD
charges:
  - {name: cards, metric: payments, model: transaction_percentage, percent: "2.9",
     fixed_fee: "0.30", free_transactions: 1, min_per_transaction: "0.50"}
  - name: tiers
    metric: payments
    model: graduated_transaction_percentage
    tiers: [{up_to: 100, percent: 1, flat_price: 5}, {up_to: null, percent: 2}]
""")
    records = [
        UsageRecord(
            account=account,
            metric="payments",
            quantity=Decimal(q),
            start=PERIOD.start.replace(hour=hour),
            end=PERIOD.start.replace(hour=hour + 1),
            record_id=f"{account}{hour}",
        )
        for account, hour, q in (("a", 1, "40"), ("a", 2, "7.5"), ("b", 1, "900"), ("a", 0, "12"))
    ]
    assert not isinstance(rate_lines(plan, to_table(records), PERIOD), LineColumns)
    fast, obj = _both(tmp_path, "transactions")
    try:
        BillingRun(store=fast).bill_table(plan, to_table(records[::-1]), PERIOD)
        BillingRun(store=obj).bill(rate(plan, records, PERIOD))
        assert _state(fast) == _state(obj)
    finally:
        fast.close()
        obj.close()


def test_one_late_record_re_bills_only_its_customer(store: DocumentStore, tmp_path: Path) -> None:
    plan = _plain_plan()
    records = [_hour_of(f"acct{i:03d}", 100 + i, record_id=f"r{i}") for i in range(50)]
    late = _hour_of("acct007", 40, record_id="late")
    run = BillingRun(store=store)
    assert run.bill_table(plan, to_table(records), PERIOD, batch=7).issued["invoice"] == 50
    again = run.bill_table(plan, to_table(records), PERIOD)
    assert again.documents == () and again.unchanged == 50
    more = run.bill_table(plan, to_table([*records, late]), PERIOD)
    assert [(d.customer, d.kind) for d in more.documents] == [("acct007", "supplementary")]
    with SQLiteDocumentStore(tmp_path / "object.db") as obj:  # the same documents, bytes too
        for usage in (records, [*records, late]):
            BillingRun(store=obj).bill(rate(plan, usage, PERIOD))
        assert store.documents() == obj.documents()
        assert store.events() == obj.events()


def test_a_batch_whose_customers_got_documents_meanwhile_goes_through_the_object_path(
    tmp_path: Path,
) -> None:
    plan = _plain_plan()
    records = [_hour_of(a, 3) for a in ("a", "b", "c")]
    with SQLiteDocumentStore(tmp_path / "b.db") as store:
        run = BillingRun(store=store)
        run.bill(rate(plan, records[:1], PERIOD))  # "a" billed by another run
        summary = run.bill_table(plan, to_table(records), PERIOD)
        assert [o.outcome for o in summary.outcomes] == ["unchanged", "issued", "issued"]
        assert sorted(d.number for d in store.documents()) == [
            "INV-2026-0001",
            "INV-2026-0002",
            "INV-2026-0003",
        ]


def _kill_mid_run(location: str, table: pa.Table, plan: Plan, delay: float) -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            store = open_store(location)
            BillingRun(store=store).bill_table(plan, table, PERIOD, batch=3)
            store.close()
            code = 0
        finally:
            os._exit(code)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_fast_run_killed_mid_run_leaves_whole_batches_and_a_rerun_finishes(
    tmp_path: Path,
) -> None:
    import random

    plan, records = _plain_usage(60)
    table = to_table(records)
    location = str(tmp_path / "crash.db")
    rng = random.Random(11)
    for _ in range(15):
        _kill_mid_run(location, table, plan, rng.uniform(0, 0.3))
        with open_store(location) as store:
            documents = store.documents()
            # whole batches of three or nothing: numbers gapless, each with its rows
            assert sorted(d.seq for d in documents) == list(range(1, len(documents) + 1))
            assert all(len(d.billed) == 1 for d in documents)
            assert len(store.events()) == len(documents)
    with open_store(location) as store:
        BillingRun(store=store).bill_table(plan, table, PERIOD)
        documents = store.documents()
        assert len(documents) == 60
        want = rate(plan, records, PERIOD).totals()
        assert {d.customer: d.total for d in documents} == {a: m.amount for a, m in want.items()}
        assert BillingRun(store=store).bill_table(plan, table, PERIOD).documents == ()


def test_issued_on_and_terms_fill_the_documents(tmp_path: Path) -> None:
    plan = _plain_plan()
    records = [_hour_of("a", 3)]
    fast, obj = _both(tmp_path, "dates")
    try:
        BillingRun(store=fast).bill_table(
            plan, to_table(records), PERIOD, issued_on=date(2026, 11, 3)
        )
        BillingRun(store=obj).bill(rate(plan, records, PERIOD), issued_on=date(2026, 11, 3))
        assert _state(fast) == _state(obj)
    finally:
        fast.close()
        obj.close()


def test_what_assembling_refuses_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    from cloudrate.exceptions import InvoiceError

    plan = _plain_plan()
    records = [_hour_of(a, 3) for a in ("a", "b")]
    regional = RegionalTax(countries={"DE": TaxRate(percent="19")})  # no default
    with SQLiteDocumentStore(tmp_path / "b.db") as store:
        run = BillingRun(store=store)
        with pytest.raises(InvoiceError):
            run.bill_table(
                plan, to_table(records), PERIOD, customers={"b": Customer(id="x", name="X")}
            )
        with pytest.raises(InvoiceError):
            run.bill_table(
                plan,
                to_table(records),
                PERIOD,
                taxes=regional,
                customers={"a": Customer(id="a", name="A", country="DE")},
                batch=1,
            )
        assert store.documents() == ()


def test_where_selectors_bill_as_the_object_path_does(tmp_path: Path) -> None:
    from cloudrate.plans import PerUnit

    plan = Plan(
        name="p",
        currency="EUR",
        charges=[
            Charge(
                name="small",
                metric="vcpu_hours",
                model=PerUnit(Money("0.01", "EUR")),
                where={"offering": "small"},
            ),
            Charge(
                name="any",
                metric="vcpu_hours",
                model=PerUnit(Money("0.02", "EUR")),
                free_units=Decimal(5),
            ),
        ],
    )
    start = PERIOD.start
    records = [
        UsageRecord(
            account=a,
            metric="vcpu_hours",
            quantity=Decimal(q),
            start=start,
            end=start.replace(hour=1),
            attributes={"offering": o},
        )
        for a, q, o in (("a", "3.5", "small"), ("a", "10", "large"), ("b", "2", "large"))
    ]
    rated = rate_lines(plan, to_table(records), PERIOD)
    assert isinstance(rated, LineColumns)
    fast, obj = _both(tmp_path, "where")
    try:
        BillingRun(store=fast).bill_table(plan, to_table(records), PERIOD)
        BillingRun(store=obj).bill(rate(plan, records, PERIOD))
        assert _state(fast) == _state(obj)
    finally:
        fast.close()
        obj.close()


# --- documents rendered in parts while the batch before is written --------------------


def _plain_usage(count: int) -> tuple[Plan, list[UsageRecord]]:
    """The plain plan and an hour of usage for each of *count* accounts."""
    return _plain_plan(), [_hour_of(f"acct{i:03d}", i + 1) for i in range(count)]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 7), st.integers(1, 40), st.sampled_from((0, 1, 3)))
def test_parts_and_slices_store_what_one_part_stores(
    part: int, batch: int, count: int, taken: int
) -> None:
    """A batch's documents are rendered part by part (any part size, cutting batches
    anywhere) from usage aggregated in slices of any size; when numbers were taken
    between the run's guess and a batch's transaction (*taken*), the batch is rendered
    in its transaction: every document, event and sequence is what the object path
    stores."""
    import tempfile

    import cloudrate.billing._fast as fast
    import cloudrate.rating.columnar.lines as lines_module

    plan, records = _plain_usage(count)
    earlier = [attrs.evolve(r, account=f"pre-{r.account}") for r in records[:3]]
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast, "_PART", part)
        patch.setattr(lines_module, "SLICE", part)
        fast_store, obj = _both(Path(tmp), "parts")
        with fast_store, obj:
            for store in (fast_store, obj):  # numbers taken before the run
                BillingRun(store=store).bill(rate(plan, earlier, PERIOD))
            real = fast_store.sequences
            fast_store.sequences = lambda: {k: v - taken for k, v in real().items()}  # type: ignore[method-assign]
            summary = BillingRun(store=fast_store).bill_table(
                plan, to_table(records), PERIOD, batch=batch
            )
            del fast_store.sequences
            want = BillingRun(store=obj).bill(rate(plan, records, PERIOD))
            assert [o.to_dict() for o in summary.outcomes] == [o.to_dict() for o in want.outcomes]
            assert _state(fast_store) == _state(obj)


def _bill_in_thread(run: BillingRun, plan: Plan, table: pa.Table, batch: int) -> BaseException:
    """Bill in a thread that must end (no hang between the two threads of the run)."""
    import threading

    failed: list[BaseException] = []

    def go() -> None:
        try:
            run.bill_table(plan, table, PERIOD, batch=batch)
        except BaseException as exc:  # handed to the test
            failed.append(exc)

    thread = threading.Thread(target=go)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the run did not end"
    assert failed, "the run did not fail"
    return failed[0]


@pytest.mark.parametrize("at", [1, 2, 5])
def test_a_failure_while_rendering_leaves_whole_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    """When rendering a part fails, the run stops with that error: the batch being
    written is left whole, the one being rendered writes nothing; a rerun finishes."""
    import cloudrate.billing._fast as fast

    plan, records = _plain_usage(20)
    monkeypatch.setattr(fast, "_PART", 2)
    real = fast._Writer.rows
    calls = [0]

    def rows(self: object, bills: list[int], first: int) -> object:
        calls[0] += 1
        if calls[0] == at:
            raise RuntimeError("rendering failed")
        return real(self, bills, first)  # type: ignore[arg-type]

    monkeypatch.setattr(fast._Writer, "rows", rows)
    with SQLiteDocumentStore(tmp_path / "r.db") as store:
        error = _bill_in_thread(BillingRun(store=store), plan, to_table(records), 5)
        assert str(error) == "rendering failed"
        documents = store.documents()
        assert len(documents) % 5 == 0  # whole batches only
        assert sorted(d.seq for d in documents) == list(range(1, len(documents) + 1))
        monkeypatch.setattr(fast._Writer, "rows", real)
        BillingRun(store=store).bill_table(plan, to_table(records), PERIOD, batch=5)
        assert len(store.documents()) == 20


@pytest.mark.parametrize("at", [1, 4, 7])
def test_a_failure_while_writing_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    """When writing a part fails, its batch is rolled back, the parts rendered for it
    and the batches after it are dropped, and the run raises that error."""
    from cloudrate.billing import _sql

    plan, records = _plain_usage(20)
    import cloudrate.billing._fast as fast

    monkeypatch.setattr(fast, "_PART", 2)
    real = _sql._Transaction.insert_batch
    calls = [0]

    def insert(self: object, *rows: object) -> None:
        calls[0] += 1
        if calls[0] == at:
            raise RuntimeError("writing failed")
        real(self, *rows)  # type: ignore[arg-type]

    monkeypatch.setattr(_sql._Transaction, "insert_batch", insert)
    with SQLiteDocumentStore(tmp_path / "w.db") as store:
        error = _bill_in_thread(BillingRun(store=store), plan, to_table(records), 5)
        assert str(error) == "writing failed"
        documents = store.documents()
        assert len(documents) == 5 * ((at - 1) // 6)  # 3 parts a batch, 2 inserts a part
        assert all(len(d.billed) == 1 for d in documents)
        assert len(store.events()) == len(documents)
