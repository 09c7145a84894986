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
    plan = Plan(
        name="p",
        currency="EUR",
        charges=[Charge(name="c0", metric="vcpu_hours", model=charges_example())],
    )
    records = [
        UsageRecord(
            account="a",
            metric="vcpu_hours",
            quantity=Decimal("1.5"),
            start=PERIOD.start,
            end=PERIOD.start.replace(hour=1),
        )
    ]
    rated = rate_lines(plan, to_table(records), PERIOD)
    assert isinstance(rated, LineColumns)
    assert rated.result() == rate(plan, records, PERIOD)


def charges_example():  # type: ignore[no-untyped-def]
    from cloudrate.plans import PerUnit

    return PerUnit(Money("0.0125", "EUR"))


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
    plan = Plan(
        name="p",
        currency="EUR",
        charges=[Charge(name="c0", metric="vcpu_hours", model=charges_example())],
    )
    start = PERIOD.start
    records = [
        UsageRecord(
            account=f"acct{i:03d}",
            metric="vcpu_hours",
            quantity=Decimal(100 + i),
            start=start,
            end=start.replace(hour=1),
            record_id=f"r{i}",
        )
        for i in range(50)
    ]
    late = UsageRecord(
        account="acct007",
        metric="vcpu_hours",
        quantity=Decimal(40),
        start=start,
        end=start.replace(hour=1),
        record_id="late",
    )
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
    plan = Plan(
        name="p",
        currency="EUR",
        charges=[Charge(name="c0", metric="vcpu_hours", model=charges_example())],
    )
    start = PERIOD.start
    records = [
        UsageRecord(
            account=a,
            metric="vcpu_hours",
            quantity=Decimal(3),
            start=start,
            end=start.replace(hour=1),
        )
        for a in ("a", "b", "c")
    ]
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

    plan = Plan(
        name="p",
        currency="EUR",
        charges=[Charge(name="c0", metric="vcpu_hours", model=charges_example())],
    )
    start = PERIOD.start
    records = [
        UsageRecord(
            account=f"acct{i:03d}",
            metric="vcpu_hours",
            quantity=Decimal(i + 1),
            start=start,
            end=start.replace(hour=1),
        )
        for i in range(60)
    ]
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
    plan = Plan(
        name="p",
        currency="EUR",
        charges=[Charge(name="c0", metric="vcpu_hours", model=charges_example())],
    )
    start = PERIOD.start
    records = [
        UsageRecord(
            account="a",
            metric="vcpu_hours",
            quantity=Decimal(3),
            start=start,
            end=start.replace(hour=1),
        )
    ]
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

    plan = Plan(
        name="p",
        currency="EUR",
        charges=[Charge(name="c0", metric="vcpu_hours", model=charges_example())],
    )
    start = PERIOD.start
    records = [
        UsageRecord(
            account=a,
            metric="vcpu_hours",
            quantity=Decimal(3),
            start=start,
            end=start.replace(hour=1),
        )
        for a in ("a", "b")
    ]
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
