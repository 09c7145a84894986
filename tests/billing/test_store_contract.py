"""The DocumentStore contract: every store runs these (SQLite and a real PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import attrs
import pytest

from cloudrate.billing import (
    BilledLine,
    DocumentStore,
    PaymentAttempt,
    StoredDocument,
    _sql,
    new_event,
)
from cloudrate.billing._stored import billed_json
from cloudrate.exceptions import StoreError


def _doc(number: str, seq: int, *, customer: str = "acme", revision: int = 1) -> StoredDocument:
    return StoredDocument(
        tenant="default",
        number=number,
        kind="invoice",
        draft=f"{customer}/2026-10/{revision}",
        sequence="default/invoice/2026",
        seq=seq,
        customer=customer,
        period="2026-10",
        revision=revision,
        refers_to=None,
        currency="EUR",
        issued_on=date(2026, 11, 1),
        due_on=date(2026, 12, 1),
        total=Decimal("10.00"),
        body="{}",
        billed=(BilledLine("charge:vcpu", Decimal("10.00"), Decimal("100.5")),),
    )


class BoomError(Exception):
    pass


def _number_document_event_then_fail(store: DocumentStore) -> None:
    with store.transaction("default", "acme") as tx:
        seq = tx.next_number("default/invoice/2026")
        tx.insert_document(_doc(f"INV-{seq}", seq))
        tx.add_event(new_event("default", "invoice.finalised", "INV-1", "2026-11-01"))
        raise BoomError


def test_a_committed_document_is_read_back_with_its_billed_lines(store: DocumentStore) -> None:
    with store.transaction("default", "acme") as tx:
        seq = tx.next_number("default/invoice/2026")
        tx.insert_document(_doc(f"INV-{seq}", seq))
    stored = store.document("INV-1")
    assert stored == _doc("INV-1", 1)
    assert store.documents(customer="acme", period="2026-10") == (stored,)
    assert store.documents(customer="other") == ()
    assert store.document("INV-1", tenant="other") is None
    assert store.sequences() == {"default/invoice/2026": 1}


def test_a_failed_transaction_keeps_neither_number_nor_document(store: DocumentStore) -> None:
    with pytest.raises(BoomError):
        _number_document_event_then_fail(store)
    assert store.documents() == ()
    assert store.sequences() == {}
    assert store.events() == ()
    with store.transaction("default", "acme") as tx:
        assert tx.next_number("default/invoice/2026") == 1  # the number was not consumed


def test_numbers_are_gapless_per_sequence(store: DocumentStore) -> None:
    taken = []
    for _ in range(3):
        with store.transaction("default", "x") as tx:
            taken.append(tx.next_number("a"))
            taken.append(tx.next_number("b"))
    assert taken == [1, 1, 2, 2, 3, 3]
    assert store.sequences() == {"a": 3, "b": 3}


def test_a_second_document_with_the_same_draft_or_number_is_refused(store: DocumentStore) -> None:
    with store.transaction("default", "acme") as tx:
        tx.insert_document(_doc("INV-1", 1))
    for clash in (_doc("INV-1", 2, revision=2), _doc("INV-2", 2)):
        with (
            pytest.raises(StoreError, match="rolled back"),
            store.transaction("default", "acme") as tx,
        ):
            tx.insert_document(clash)
    assert [d.number for d in store.documents()] == ["INV-1"]


def test_an_event_is_stored_once_and_delivered_until_acknowledged(store: DocumentStore) -> None:
    first = new_event("default", "invoice.finalised", "INV-1", "2026-11-01", {"total": "1.00"})
    second = new_event("default", "credit_note.issued", "CN-1", "2026-11-02")
    with store.transaction("default", "acme") as tx:
        assert tx.add_event(first) is True
        assert tx.add_event(first) is False
        assert tx.add_event(second) is True
    assert [e.id for e in store.pending_events()] == [first.id, second.id]
    assert store.pending_events(1)[0].data == {"total": "1.00"}
    assert store.acknowledge([first.id, first.id, "evt_unknown"]) == 1
    assert [e.id for e in store.pending_events()] == [second.id]
    assert store.acknowledge([first.id]) == 0
    assert [e.id for e in store.events()] == [first.id, second.id]
    assert store.pending_events(tenant="other") == ()


def test_payment_attempts_are_saved_and_updated(store: DocumentStore) -> None:
    with store.transaction("default", "acme") as tx:
        tx.insert_document(_doc("INV-1", 1))
        attempt = PaymentAttempt(
            tenant="default",
            key="k1",
            number="INV-1",
            amount=Decimal("10.00"),
            currency="EUR",
            state="pending",
            started_on=date(2026, 11, 3),
        )
        tx.save_attempt(attempt)
    assert store.attempt("k1") == attempt
    with store.transaction("default", "acme") as tx:
        done = attrs.evolve(attempt, state="failed", failure="declined")
        tx.save_attempt(done)
    assert store.attempts("INV-1") == (done,)
    assert store.attempt("k2") is None


def test_transactions_with_one_lock_never_interleave(
    open_new: Callable[[], DocumentStore],
) -> None:
    """Read-then-write under one lock, from many store objects at once: no lost update."""
    stores = [open_new() for _ in range(4)]
    with stores[0].transaction("default", "seed") as tx:
        tx.insert_document(_doc("INV-0", 0, customer="counter"))

    def work(store: DocumentStore) -> None:
        for _ in range(5):
            with store.transaction("default", "counter") as tx:
                count = len(tx.documents("counter", "2026-10"))
                seq = tx.next_number("default/invoice/2026")
                tx.insert_document(_doc(f"INV-{seq}", seq, customer="counter", revision=count + 1))

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    revisions = [d.revision for d in stores[0].documents(customer="counter")]
    assert revisions == list(range(1, 22))


def test_pending_events_refuses_a_bad_limit(store: DocumentStore) -> None:
    from cloudrate.exceptions import BillingError

    with pytest.raises(BillingError, match="limit"):
        store.pending_events(0)


# --- batch writes (the columnar billing run) ---------------------------------------------


def _rows(doc: StoredDocument) -> tuple[tuple, list[tuple], tuple]:  # type: ignore[type-arg]
    row = (
        doc.tenant,
        doc.number,
        doc.kind,
        doc.draft,
        doc.sequence,
        doc.seq,
        doc.customer,
        doc.period,
        doc.revision,
        doc.refers_to,
        doc.currency,
        doc.issued_on.isoformat(),
        None if doc.due_on is None else doc.due_on.isoformat(),
        str(doc.total),
        doc.body,
    )
    lines = billed_json((b.line, str(b.amount), str(b.quantity)) for b in doc.billed)
    billed = [(doc.tenant, doc.number, doc.customer, doc.period, lines)] if doc.billed else []
    event = new_event(doc.tenant, "invoice.finalised", doc.number, "2026-11-01", {"total": "1"})
    return (
        row,
        billed,
        (event.id, event.type, event.tenant, event.subject, event.at, '{"total":"1"}'),
    )


def test_a_batch_stores_what_one_by_one_inserts_store(store: DocumentStore) -> None:
    with store.transaction("default", ["acme", "beta", "gamma"]) as tx:
        first = tx.next_numbers("default/invoice/2026", 3)
        docs = [
            _doc(f"INV-{first + k}", first + k, customer=c)
            for k, c in enumerate(("acme", "beta", "gamma"))
        ]
        rows = [_rows(d) for d in docs]
        tx.insert_batch([r[0] for r in rows], [b for r in rows for b in r[1]], [r[2] for r in rows])
        tx.insert_batch([], [], [rows[0][2]])  # an event again: kept once
    assert first == 1
    assert store.documents() == tuple(docs)
    assert store.sequences() == {"default/invoice/2026": 3}
    assert [e.subject for e in store.events()] == ["INV-1", "INV-2", "INV-3"]
    assert store.events()[0].data == {"total": "1"}
    billed = store.period_billed("2026-10")
    assert billed.customers == {"acme", "beta", "gamma"}
    assert sorted(billed.rows) == [(c, "charge:vcpu", "10.00") for c in ("acme", "beta", "gamma")]
    assert store.period_billed("2026-11").rows == []
    with store.transaction("default", "x") as tx:
        assert tx.customers_with_documents("2026-10", ["beta", "zeta"]) == {"beta"}
        assert tx.next_numbers("default/invoice/2026", 2) == 4
        assert tx.next_number("default/invoice/2026") == 6


def test_a_large_batch_stores_every_row_once(store: DocumentStore) -> None:
    """Batches are inserted many rows a statement: a batch of whole statements and a
    rest, with an event given twice in one statement, reads back row for row."""
    count = 2 * _sql._ROWS_AT_ONCE + 7
    with store.transaction("default", ["many"]) as tx:
        first = tx.next_numbers("default/invoice/2026", count)
        docs = [_doc(f"INV-{first + k}", first + k, customer=f"c{k:04d}") for k in range(count)]
        rows = [_rows(d) for d in docs]
        events = [r[2] for r in rows]
        events.insert(3, events[0])  # the same event again, in the first statement
        tx.insert_batch([r[0] for r in rows], [b for r in rows for b in r[1]], events)
    assert store.documents() == tuple(docs)
    assert [e.subject for e in store.events()] == [d.number for d in docs]
    assert len(store.period_billed("2026-10").rows) == count


def test_a_failed_batch_keeps_no_number_row_or_event(store: DocumentStore) -> None:
    def fail() -> None:
        with store.transaction("default", ["acme"]) as tx:
            first = tx.next_numbers("default/invoice/2026", 2)
            rows = [_rows(_doc(f"INV-{first + k}", first + k, customer=f"c{k}")) for k in range(2)]
            tx.insert_batch(
                [r[0] for r in rows], [b for r in rows for b in r[1]], [r[2] for r in rows]
            )
            raise BoomError

    with pytest.raises(BoomError):
        fail()
    assert store.documents() == () and store.events() == () and store.sequences() == {}
    with store.transaction("default", "acme") as tx, pytest.raises(Exception, match="count"):
        tx.next_numbers("default/invoice/2026", 0)
