"""Billing runs: a rerun issues nothing, late usage one supplementary invoice, a downward
correction one credit note, and the documents always add up to what the usage calls for."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudrate import load_plan, rate, read_usage, sample_plan_path, sample_usage_path
from cloudrate.billing import (
    BillingRun,
    DocumentStore,
    SQLiteDocumentStore,
    StoredDocument,
    issue_date,
    line_key,
    load_invoice,
    pay_now,
    succeed_payment,
)
from cloudrate.exceptions import BillingError, InvoiceStateError
from cloudrate.invoice import Invoice, TaxMethod, TaxRate, assemble_all
from cloudrate.rating import RatingResult
from cloudrate.rules import PromoCode, PromoDiscount, RuleContext, chain
from cloudrate.usage import UsageRecord

PLAN = load_plan(sample_plan_path())
USAGE = tuple(read_usage(sample_usage_path()))
VCPU = next(r for r in USAGE if r.metric == "vcpu_hours" and r.account == "acme")


def _late(n: int, quantity: str = "10") -> UsageRecord:
    return attrs.evolve(VCPU, record_id=f"late-{n}", quantity=Decimal(quantity))


def _net_per_key(documents: tuple[StoredDocument, ...]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for d in documents:
        for b in d.billed:
            out[b.line] = out.get(b.line, Decimal(0)) + b.amount
    return {k: v for k, v in out.items() if v != 0}


def _wanted(invoice: Invoice) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for line in invoice.lines:
        out[line_key(line)] = out.get(line_key(line), Decimal(0)) + line.amount.amount
    return {k: v for k, v in out.items() if v != 0}


def _assert_documents_add_up(store: DocumentStore, usage: tuple[UsageRecord, ...]) -> None:
    for draft in assemble_all(rate(PLAN, usage)):
        documents = store.documents(customer=draft.customer.id, period=draft.period.label)
        assert _net_per_key(documents) == _wanted(draft)


def test_the_first_run_issues_one_invoice_per_customer_and_a_rerun_nothing(
    store: DocumentStore,
) -> None:
    run = BillingRun(store=store)
    first = run.bill(rate(PLAN, USAGE))
    accounts = sorted({r.account for r in USAGE})
    assert [o.customer for o in first.outcomes] == accounts
    assert first.issued == {"invoice": len(accounts), "supplementary": 0, "credit_note": 0}
    assert {o.outcome for o in first.outcomes} == {"issued"}
    again = run.bill(rate(PLAN, USAGE), issued_on=date(2026, 11, 20))
    assert again.documents == ()
    assert again.unchanged == len(accounts)
    assert len(store.documents()) == len(accounts)
    assert [e.type for e in store.events()] == ["invoice.finalised"] * len(accounts)
    _assert_documents_add_up(store, USAGE)


def test_the_issue_date_comes_from_the_period_not_the_clock(store: DocumentStore) -> None:
    summary = BillingRun(store=store).bill(rate(PLAN, USAGE))
    period = rate(PLAN, USAGE).period
    assert {d.issued_on for d in summary.documents} == {issue_date(period)}
    assert issue_date(period) == period.end.astimezone(period.tz).date()


def test_late_usage_gives_exactly_one_supplementary_invoice(store: DocumentStore) -> None:
    run = BillingRun(store=store)
    original = run.bill(rate(PLAN, USAGE)).outcomes[0].documents[0]
    late = (*USAGE, _late(1))
    summary = run.bill(rate(PLAN, late), issued_on=date(2026, 11, 10))
    assert summary.issued == {"invoice": 0, "supplementary": 1, "credit_note": 0}
    (supplementary,) = summary.documents
    assert supplementary.refers_to == original.number
    assert supplementary.customer == "acme"
    invoice = load_invoice(store, supplementary.number)
    assert invoice.supplements == original.number
    assert invoice.issued_on == date(2026, 11, 10)
    before = _wanted(assemble_all(rate(PLAN, USAGE), accounts=["acme"])[0])
    after = _wanted(assemble_all(rate(PLAN, late), accounts=["acme"])[0])
    changed = {k: after[k] - before.get(k, Decimal(0)) for k in after if after[k] != before.get(k)}
    assert _wanted(invoice) == changed
    assert run.bill(rate(PLAN, late)).documents == ()
    _assert_documents_add_up(store, late)
    assert store.document(original.number) == original  # never edited


def test_a_downward_correction_gives_exactly_one_credit_note(store: DocumentStore) -> None:
    run = BillingRun(store=store)
    original = run.bill(rate(PLAN, USAGE)).outcomes[0].documents[0]
    fewer = tuple(r for r in USAGE if r != VCPU)
    summary = run.bill(rate(PLAN, fewer))
    assert summary.issued == {"invoice": 0, "supplementary": 0, "credit_note": 1}
    (note,) = summary.documents
    assert note.kind == "credit_note"
    assert note.refers_to == original.number
    assert note.number.startswith("CN-")
    assert note.total > 0
    live = load_invoice(store, original.number)
    assert live.credited.amount == note.total
    assert live.amount_due.amount == original.total - note.total
    assert run.bill(rate(PLAN, fewer)).documents == ()
    _assert_documents_add_up(store, fewer)
    assert [e.type for e in store.events()][-1] == "credit_note.issued"


def test_up_and_down_at_once_gives_one_of_each(store: DocumentStore) -> None:
    run = BillingRun(store=store)
    run.bill(rate(PLAN, USAGE))
    mixed = (*(r for r in USAGE if not (r.account == "acme" and r.metric != "vcpu_hours")),)
    mixed = (*mixed, _late(1, "500"))
    summary = run.bill(rate(PLAN, mixed))
    kinds = sorted(d.kind for d in summary.documents if d.customer == "acme")
    assert kinds == ["credit_note", "supplementary"]
    _assert_documents_add_up(store, mixed)


def test_a_rerun_reads_the_earlier_documents_only_for_a_charge_gone(
    store: DocumentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unchanged usage: the rerun compares the billed amounts and parses no stored
    document; when a charge is gone, the earlier documents give its credit note line."""
    run = BillingRun(store=store)
    run.bill(rate(PLAN, USAGE))
    late = (*USAGE, _late(1))
    run.bill(rate(PLAN, late))  # acme has an invoice and a supplementary invoice now
    read: list[str] = []
    parse = StoredDocument.invoice
    monkeypatch.setattr(
        StoredDocument, "invoice", lambda self: read.append(self.number) or parse(self)
    )
    assert run.bill(rate(PLAN, late)).documents == ()
    assert read == []
    gone = tuple(r for r in late if not (r.account == "acme" and r.metric != "vcpu_hours"))
    notes = [d for d in run.bill(rate(PLAN, gone)).documents if d.customer == "acme"]
    assert notes
    assert {n.kind for n in notes} == {"credit_note"}
    assert read and all(n.startswith("INV-") for n in read)  # the invoices, for the lines
    _assert_documents_add_up(store, gone)


def test_back_to_the_original_usage_credits_what_was_added(store: DocumentStore) -> None:
    run = BillingRun(store=store)
    run.bill(rate(PLAN, USAGE))
    run.bill(rate(PLAN, (*USAGE, _late(1))))
    summary = run.bill(rate(PLAN, USAGE))
    assert summary.issued["credit_note"] == 1
    _assert_documents_add_up(store, USAGE)


def test_taxes_are_billed_on_the_corrections_too(store: DocumentStore) -> None:
    run = BillingRun(store=store)
    vat = TaxRate(percent="19")
    run.bill(rate(PLAN, USAGE), taxes=vat)
    summary = run.bill(rate(PLAN, (*USAGE, _late(1, "1000"))), taxes=vat)
    invoice = load_invoice(store, summary.documents[0].number)
    assert invoice.tax_total.amount == (invoice.subtotal.amount * Decimal("0.19")).quantize(
        Decimal("0.01")
    )
    assert invoice.total == invoice.subtotal + invoice.tax_total


def test_tenants_have_their_own_documents_and_sequences(store: DocumentStore) -> None:
    BillingRun(store=store, tenant="a").bill(rate(PLAN, USAGE))
    BillingRun(store=store, tenant="b").bill(rate(PLAN, USAGE))
    a, b = store.documents(tenant="a"), store.documents(tenant="b")
    assert [d.number for d in a] == [d.number for d in b]
    assert set(store.sequences()) == {"a/invoice/2026", "b/invoice/2026"}


def test_an_issued_invoice_is_not_a_draft_to_bill(store: DocumentStore) -> None:
    run = BillingRun(store=store)
    number = run.bill(rate(PLAN, USAGE)).documents[0].number
    with pytest.raises(InvoiceStateError, match="takes a draft"):
        run.bill_invoice(load_invoice(store, number), issued_on=date(2026, 11, 1))


def test_a_currency_change_is_refused_with_nothing_written(store: DocumentStore) -> None:
    run = BillingRun(store=store)
    run.bill(rate(PLAN, USAGE))
    draft = assemble_all(rate(PLAN, (*USAGE, _late(1))), accounts=["acme"])[0]
    draft = attrs.evolve(
        draft,
        currency="USD",
        lines=tuple(
            attrs.evolve(
                x,
                amount=x.amount.__class__(x.amount.amount, "USD"),
                exact_amount=x.exact_amount.__class__(x.exact_amount.amount, "USD"),
                unit_price=None,
            )
            for x in draft.lines
        ),
        subtotal=draft.subtotal.__class__(draft.subtotal.amount, "USD"),
        tax_total=draft.tax_total.__class__(draft.tax_total.amount, "USD"),
        total=draft.total.__class__(draft.total.amount, "USD"),
    )
    before = store.documents()
    with pytest.raises(BillingError, match="one currency"):
        run.bill_invoice(draft, issued_on=date(2026, 11, 2))
    assert store.documents() == before


@settings(max_examples=25)
@given(
    versions=st.lists(
        st.lists(st.integers(min_value=0, max_value=3), min_size=0, max_size=3),
        min_size=1,
        max_size=4,
    ),
    drop=st.sets(st.integers(min_value=0, max_value=len(USAGE) - 1), max_size=5),
)
def test_whatever_arrives_the_documents_add_up_and_a_rerun_is_a_no_op(
    versions: list[list[int]], drop: set[int]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteDocumentStore(Path(tmp) / "b.db")
        run = BillingRun(store=store)
        for n, late in enumerate(versions):
            base = tuple(r for i, r in enumerate(USAGE) if n == 0 or i not in drop)
            usage = (*base, *(_late(i, str(q * 7)) for i, q in enumerate(late)))
            run.bill(rate(PLAN, usage))
            _assert_documents_add_up(store, usage)
            assert _credit_balances(store) == {}  # no invoice credited past its total
            assert run.bill(rate(PLAN, usage)).documents == ()
        numbers = store.sequences()
        for key, last in numbers.items():
            seqs = sorted(d.seq for d in store.documents() if d.sequence == key)
            assert seqs == list(range(1, last + 1))
        ids = [e.id for e in store.events()]
        assert len(ids) == len(set(ids)) == len(store.documents())
        store.close()


def test_the_credit_note_body_is_a_schema_document(store: DocumentStore) -> None:
    run = BillingRun(store=store)
    run.bill(rate(PLAN, USAGE))
    note = run.bill(rate(PLAN, tuple(r for r in USAGE if r != VCPU))).documents[0]
    body = json.loads(note.body)
    assert body["schema"] == "cloudrate.credit_note/1"
    assert body["invoice_number"] == note.refers_to


def test_batches_bill_what_one_by_one_bills(store: DocumentStore) -> None:
    one = BillingRun(store=store, tenant="one").bill(rate(PLAN, USAGE), batch=1)
    many = BillingRun(store=store, tenant="many").bill(rate(PLAN, USAGE), batch=500)
    assert [(d.number, d.body) for d in one.documents] == [
        (d.number, d.body) for d in many.documents
    ]
    with pytest.raises(BillingError, match="batch"):
        BillingRun(store=store).bill(rate(PLAN, USAGE), batch=0)


def _still_due(store: DocumentStore) -> dict[str, Decimal]:
    """What each invoice of *store* still bills after the credit notes against it."""
    return {
        d.number: load_invoice(store, d.number).amount_due.amount
        for d in store.documents()
        if d.kind != "credit_note"
    }


def _credit_balances(store: DocumentStore) -> dict[str, Decimal]:
    """The invoices of *store* credited beyond what they still bill, and by how much."""
    out = {}
    for d in store.documents():
        if d.kind != "credit_note":
            balance = load_invoice(store, d.number).credit_balance.amount
            if balance:
                out[d.number] = balance
    return out


def test_withdrawn_late_usage_is_credited_on_the_supplementary_that_billed_it(
    store: DocumentStore,
) -> None:
    run = BillingRun(store=store)
    (original,) = (d for d in run.bill(rate(PLAN, USAGE)).documents if d.customer == "acme")
    (extra,) = run.bill(rate(PLAN, (*USAGE, _late(1, "1000")))).documents
    (note,) = run.bill(rate(PLAN, USAGE)).documents
    assert note.refers_to == extra.number
    assert note.total == extra.total
    due = _still_due(store)
    assert due[extra.number] == 0
    assert due[original.number] == original.total
    _assert_documents_add_up(store, USAGE)


def test_a_credit_larger_than_the_newest_invoice_is_shared_newest_first(
    store: DocumentStore,
) -> None:
    run = BillingRun(store=store)
    (original,) = (d for d in run.bill(rate(PLAN, USAGE)).documents if d.customer == "acme")
    (extra,) = run.bill(rate(PLAN, (*USAGE, _late(1, "10")))).documents
    fewer = tuple(r for r in USAGE if r != VCPU)
    notes = run.bill(rate(PLAN, fewer)).documents
    assert {n.refers_to for n in notes} == {original.number, extra.number}
    assert all(n.kind == "credit_note" for n in notes)
    due = _still_due(store)
    assert due[extra.number] == 0
    assert 0 < due[original.number] < original.total
    for n in notes:  # each shared line says which invoice its part is credited on
        lines = json.loads(n.body)["lines"]
        assert lines
        assert all(x["explanation"].endswith(f"of it against {n.refers_to}") for x in lines)
    _assert_documents_add_up(store, fewer)
    assert run.bill(rate(PLAN, fewer)).documents == ()


@pytest.mark.parametrize("method", ["total", "line"])
def test_credit_notes_give_back_exactly_the_tax_of_what_they_credit(
    store: DocumentStore, method: TaxMethod
) -> None:
    """Three units at 0.03 taxed 19% (one line, so on the total and by line alike): 0.09
    + 0.02 tax. Usage going down a unit a run gives back the tax of what is credited so
    far, so with one unit left the documents bill its 0.01 of tax (each note taxed alone
    gave back 0.01 twice: none left)."""
    plan = load_plan(
        """
name: Cents
currency: EUR
timezone: Europe/Berlin
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: "0.03"}
"""
    )
    vat = TaxRate(percent="19")
    records = [
        attrs.evolve(VCPU, record_id=f"u{n}", quantity=Decimal(1), account="acme") for n in range(3)
    ]
    run = BillingRun(store=store)
    run.bill(rate(plan, records), taxes=vat, tax_method=method)
    for left in (2, 1):
        run.bill(rate(plan, records[:left]), taxes=vat, tax_method=method)
        documents = store.documents(customer="acme")
        net = sum((b.amount for d in documents for b in d.billed), Decimal(0))
        taxes = [load_invoice(store, documents[0].number).tax_total.amount] + [
            Decimal(json.loads(d.body)["tax_total"]) for d in documents if d.kind == "credit_note"
        ]
        tax_left = taxes[0] - sum(taxes[1:], Decimal(0))
        assert net == Decimal("0.03") * left
        assert tax_left == (net * Decimal("0.19")).quantize(Decimal("0.01"))
    assert load_invoice(store, documents[0].number).amount_due.amount == Decimal("0.04")


def test_a_paid_supplementary_is_credited_last(store: DocumentStore) -> None:
    """The late usage's supplementary invoice is paid, the period's invoice is not: the
    withdrawn usage is given back on the open invoice, which billed the same line, not
    as a credit balance on the paid one that nothing would apply."""
    run = BillingRun(store=store)
    (original,) = (d for d in run.bill(rate(PLAN, USAGE)).documents if d.customer == "acme")
    (extra,) = run.bill(rate(PLAN, (*USAGE, _late(1, "1000")))).documents
    pay_now(store, extra.number, key="paid-1", on=date(2026, 11, 5))
    succeed_payment(store, "paid-1", on=date(2026, 11, 5))
    (note,) = run.bill(rate(PLAN, USAGE), issued_on=date(2026, 11, 20)).documents
    assert note.refers_to == original.number
    assert _still_due(store) == {
        original.number: original.total - note.total,
        extra.number: Decimal("0.00"),
        **{
            d.number: d.total
            for d in store.documents()
            if d.kind == "invoice" and d.customer != "acme"
        },
    }
    assert _credit_balances(store) == {}
    _assert_documents_add_up(store, USAGE)


def test_a_grown_discount_never_credits_an_invoice_past_its_total(
    store: DocumentStore,
) -> None:
    """A 10% promotion on compute: late usage added twice, then withdrawn. The discount's
    growth has no invoice billing it; it goes where totals have room, so what the
    customer owes is what the usage calls for and no invoice holds a credit balance."""
    promo = chain(PromoDiscount(PromoCode(code="P-AAAAAA", percent=10, charges={"compute"})))

    def rated(usage: tuple[UsageRecord, ...]) -> RatingResult:
        result = rate(PLAN, usage)
        return promo.apply_result(result, RuleContext.for_result(result))

    run = BillingRun(store=store)
    late = (_late(1, "400"), _late(2, "400"))
    for usage in (USAGE, (*USAGE, late[0]), (*USAGE, *late), USAGE):
        run.bill(rated(usage), accounts=["acme"])
    assert _credit_balances(store) == {}
    (wanted,) = assemble_all(rated(USAGE), accounts=["acme"])
    owed = sum(
        (
            v
            for k, v in _still_due(store).items()
            if k in {d.number for d in store.documents(customer="acme")}
        ),
        Decimal(0),
    )
    assert owed == wanted.total.amount
    assert run.bill(rated(USAGE), accounts=["acme"]).documents == ()


def test_a_line_only_a_credit_note_billed_can_go_again(store: DocumentStore) -> None:
    """A discount first billed by a credit note (it appeared after the invoice), then
    removed: the supplementary invoice that takes it back is shaped from that note."""
    promo = chain(PromoDiscount(PromoCode(code="P-AAAAAA", percent=10, charges={"compute"})))
    with_promo = rate(PLAN, USAGE)
    with_promo = promo.apply_result(with_promo, RuleContext.for_result(with_promo))
    run = BillingRun(store=store)
    run.bill(rate(PLAN, USAGE))
    notes = run.bill(with_promo).documents
    assert notes
    assert {n.kind for n in notes} == {"credit_note"}
    again = run.bill(rate(PLAN, USAGE)).documents
    assert {d.kind for d in again} == {"supplementary"}
    assert [{b.line for b in d.billed} for d in again] == [
        {b.line for b in n.billed} for n in notes
    ]
    _assert_documents_add_up(store, USAGE)
