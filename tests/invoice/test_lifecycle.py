"""Lifecycle: finalise, due dates, payments, overdue, void, timeline, credit notes."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate.exceptions import FloatNotAllowedError, InvoiceError, InvoiceStateError
from cloudrate.invoice import (
    DueOnReceipt,
    EndOfMonth,
    InMemorySequenceStore,
    Net,
    Numbering,
    TaxRate,
    assemble,
)

from .conftest import bill_of

ISSUED = date(2026, 11, 1)
EUR = functools.partial(Money, currency="EUR")


@pytest.fixture(name="store")
def _store():
    return InMemorySequenceStore()


@pytest.fixture(name="draft")
def _draft(acme, october):
    # 100.00 + 50.00 - 10.00 discount = 140.00 net; VAT 19% = 26.60; total 166.60
    return assemble(
        bill_of("100.00", "50.00", "-10.00", kinds=("charge", "charge", "discount")),
        acme,
        october,
        taxes=TaxRate(percent="19"),
    )


@pytest.fixture(name="issued")
def _issued(draft, store):
    return draft.finalise(Numbering(), store, issued_on=ISSUED, terms=Net(30))


class TestTerms:
    def test_net_and_end_of_month(self):
        """Net 30 from 1 Nov is 1 Dec; end of month of 10 Feb 2026 is 28 Feb."""
        assert Net(30).due(ISSUED) == date(2026, 12, 1)
        assert EndOfMonth().due(date(2026, 2, 10)) == date(2026, 2, 28)
        assert EndOfMonth().due(date(2028, 2, 10)) == date(2028, 2, 29)
        assert EndOfMonth(days=15).due(date(2026, 11, 20)) == date(2026, 12, 15)
        assert DueOnReceipt().due(ISSUED) == ISSUED

    def test_negative_days_refused(self):
        with pytest.raises(InvoiceError, match="whole number from 0 to 36500"):
            Net(-1)

    @pytest.mark.parametrize(
        "terms", [lambda: Net(36_501), lambda: EndOfMonth(months=1_201), lambda: Net(10**9)]
    )
    def test_terms_past_a_hundred_years_refused(self, terms):
        """They were taken, then raised OverflowError or ValueError when the due date was
        worked out at finalise."""
        with pytest.raises(InvoiceError, match="whole number from 0 to"):
            terms()

    def test_the_longest_terms_give_a_due_date(self):
        assert Net(36_500).due(ISSUED) == ISSUED + timedelta(days=36_500)
        assert EndOfMonth(months=1_200).due(ISSUED) == date(ISSUED.year + 100, ISSUED.month, 30)


class TestFinalise:
    def test_draft_has_no_number_finalised_has_one(self, draft, issued):
        assert draft.number is None and draft.status == "draft"
        assert issued.number == "INV-2026-0001" and issued.state == "issued"
        assert issued.issued_on == ISSUED and issued.due_on == date(2026, 12, 1)
        assert issued.terms == "Net 30" and issued.status == "unpaid"

    def test_finalising_the_issued_invoice_is_an_error_that_takes_no_number(self, issued, store):
        """Finalising an issued or a void invoice is refused, and takes no number."""
        with pytest.raises(InvoiceStateError, match="is issued, not a draft"):
            issued.finalise(Numbering(), store, issued_on=ISSUED, terms=Net(30))
        with pytest.raises(InvoiceStateError, match="void, not a draft, and keeps its number"):
            issued.void(ISSUED).finalise(Numbering(), store, issued_on=ISSUED, terms=Net(30))
        assert store.last("default/invoice/2026") == 1

    def test_retrying_the_same_draft_gets_the_same_number(self, draft, issued, store):
        """A draft finalised again (a retry after a crash lost the issued invoice) gets the
        number it already holds, takes none, and the next draft gets the next number."""
        again = draft.finalise(Numbering(), store, issued_on=ISSUED, terms=Net(30))
        assert again == issued and store.last("default/invoice/2026") == 1
        other = attrs.evolve(draft, id="acme/2026-10/2").finalise(
            Numbering(), store, issued_on=ISSUED, terms=Net(30)
        )
        assert other.number == "INV-2026-0002"

    def test_bad_issue_date_takes_no_number(self, draft, store):
        with pytest.raises(InvoiceError, match="issued_on"):
            draft.finalise(
                Numbering(), store, issued_on=datetime(2026, 11, 1, tzinfo=UTC), terms=Net(30)
            )
        assert store.last("default/invoice/2026") == 0


class TestPayments:
    def test_full_payment_settles(self, issued):
        paid = issued.pay("166.60", date(2026, 11, 5), reference="tx-1")
        assert paid.status == "paid" and paid.amount_due == EUR(0)
        assert paid.paid == EUR("166.60") and paid.paid_on == date(2026, 11, 5)

    def test_partial_payments_then_pay_now(self, issued):
        """Two partial payments leave the rest due; 'pay now' pays exactly the rest."""
        part = issued.pay(EUR("100.00"), date(2026, 11, 3)).pay(Decimal("6.60"), date(2026, 11, 4))
        assert part.status == "unpaid" and part.amount_due == EUR("60.00")
        now = datetime(2026, 11, 10, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
        done = part.pay_now(now, reference="checkout-9")
        assert done.status == "paid" and done.payments[-1].amount == EUR("60.00")
        assert done.payments[-1].on == date(2026, 11, 11)  # 04:30 UTC, period timezone UTC
        assert done.paid_on == date(2026, 11, 11)

    def test_overpayment_becomes_credit_balance(self, issued):
        """200.00 against 166.60 settles it and leaves 33.40 owed back."""
        paid = issued.pay("200.00", date(2026, 11, 5))
        assert paid.status == "paid" and paid.credit_balance == EUR("33.40")
        assert paid.amount_due == EUR(0)

    @pytest.mark.parametrize(
        ("amount", "error", "message"),
        [
            ("0", InvoiceError, "above 0"),
            ("-5.00", InvoiceError, "above 0"),
            ("1.005", InvoiceError, "more decimals"),
            (Money("5.00", "USD"), InvoiceError, "pay in EUR"),
            (5.0, FloatNotAllowedError, "float"),
            # were a raw decimal.InvalidOperation from quantize, and the generic message
            (Decimal("1e70"), InvoiceError, "beyond the largest amount"),
            ("1e61", InvoiceError, "beyond the largest amount"),
            (Money(0.1 + 0.2, "EUR"), InvoiceError, "float's rounding noise"),
        ],
    )
    def test_bad_payment_amounts(self, issued, amount, error, message):
        with pytest.raises(error, match=message):
            issued.pay(amount, date(2026, 11, 5))

    def test_paying_draft_void_or_settled_is_an_error(self, draft, issued):
        with pytest.raises(InvoiceStateError, match="draft"):
            draft.pay("1.00", ISSUED)
        with pytest.raises(InvoiceStateError, match="void"):
            issued.void(ISSUED, "duplicate").pay("1.00", ISSUED)
        with pytest.raises(InvoiceStateError, match="already settled"):
            issued.pay("166.60", ISSUED).pay("1.00", ISSUED)

    def test_payment_before_issue_refused(self, issued):
        with pytest.raises(InvoiceError, match="before invoice INV-2026-0001 was issued"):
            issued.pay("1.00", date(2026, 10, 31))


class TestStatus:
    def test_overdue_is_derived_from_due_date_and_now(self, issued):
        """Due 1 Dec: unpaid through 1 Dec, overdue from 2 Dec; paid is never overdue."""
        assert issued.status_at(date(2026, 12, 1)) == "unpaid"
        assert issued.status_at(date(2026, 12, 2)) == "overdue"
        assert issued.badge(datetime(2026, 12, 2, tzinfo=UTC)) == "overdue"
        assert issued.pay("166.60", ISSUED).status_at(date(2027, 1, 1)) == "paid"

    def test_naive_now_refused(self, issued):
        with pytest.raises(InvoiceError, match="no timezone"):
            issued.status_at(datetime(2026, 12, 2))

    def test_void_keeps_number_and_refuses_after_payment(self, issued):
        void = issued.void(date(2026, 11, 2), "issued twice")
        assert void.status == "void" and void.number == "INV-2026-0001"
        assert void.status_at(date(2027, 1, 1)) == "void"
        with pytest.raises(InvoiceStateError, match="already void"):
            void.void(date(2026, 11, 3))
        with pytest.raises(InvoiceStateError, match="credit note instead"):
            issued.pay("1.00", ISSUED).void(ISSUED)

    def test_timeline(self, issued):
        """Issued, payments, paid and due, in date order."""
        done = issued.pay("66.60", date(2026, 11, 3), reference="a").pay(
            "100.00", date(2026, 11, 20), reference="b"
        )
        assert [(e.kind, e.on) for e in done.timeline()] == [
            ("issued", ISSUED),
            ("payment", date(2026, 11, 3)),
            ("payment", date(2026, 11, 20)),
            ("paid", date(2026, 11, 20)),
            ("due", date(2026, 12, 1)),
        ]

    def test_same_day_events_keep_their_order(self, issued, store):
        """Events of one day stay in the order issued, payment, credit note, paid; the due
        date comes after them."""
        paid = issued.pay("66.60", ISSUED, reference="tx")
        _, done = paid.credit(
            Numbering.credit_notes(), store, issued_on=ISSUED, amounts={"c0": "84.03"}
        )
        assert [(e.kind, e.on, e.amount, e.reference) for e in done.timeline()] == [
            ("issued", ISSUED, EUR("166.60"), "INV-2026-0001"),
            ("payment", ISSUED, EUR("66.60"), "tx"),
            ("credit_note", ISSUED, EUR("100.00"), "CN-2026-0001"),
            ("paid", ISSUED, None, None),
            ("due", date(2026, 12, 1), None, None),
        ]
        assert done.status == "paid" and done.paid_on == ISSUED

    def test_voided_event_has_the_reason(self, issued):
        void = issued.void(date(2026, 11, 2), "issued twice")
        assert [(e.kind, e.on, e.reference) for e in void.timeline()] == [
            ("issued", ISSUED, "INV-2026-0001"),
            ("voided", date(2026, 11, 2), "issued twice"),
            ("due", date(2026, 12, 1), None),
        ]
        assert void.paid_on is None

    def test_now_must_be_a_date_or_datetime(self, issued):
        with pytest.raises(InvoiceError, match="expected a date or an aware datetime"):
            issued.status_at("2026-12-02")  # type: ignore[arg-type]

    @pytest.mark.parametrize("state", ["paid", "Issued", "overdue"])
    def test_unknown_state_is_refused(self, draft, state):
        """Only draft, issued and void are stored; a misspelt state names all three."""
        with pytest.raises(InvoiceError, match=r"one of draft, issued, void \(got '"):
            attrs.evolve(draft, state=state)

    def test_zero_invoice_is_settled_on_issue(self, acme, october, store):
        zero = assemble(bill_of(), acme, october).finalise(
            Numbering(), store, issued_on=ISSUED, terms=Net(14)
        )
        assert zero.status == "paid" and zero.paid_on == ISSUED


class TestCreditNotes:
    def test_full_credit_reverses_the_invoice(self, issued, store):
        note, inv = issued.credit(
            Numbering.credit_notes(), store, issued_on=date(2026, 11, 2), reason="cancelled"
        )
        assert note.number == "CN-2026-0001" and note.invoice_number == "INV-2026-0001"
        assert note.total == issued.total and note.tax_total == issued.tax_total
        assert inv.status == "paid" and inv.credited == issued.total
        assert store.last("default/invoice/2026") == 1  # its own sequence

    def test_partial_credit_taxed_at_the_line_rate(self, issued, store):
        """Crediting 20.00 of a 19% line gives back 20.00 + 3.80."""
        note, inv = issued.credit(
            Numbering.credit_notes(), store, issued_on=ISSUED, amounts={"c0": "20.00"}
        )
        assert note.subtotal == EUR("20.00") and note.tax_total == EUR("3.80")
        assert note.total == EUR("23.80") and inv.amount_due == EUR("142.80")
        assert note.lines[0].unit == "credit"

    def test_credit_after_payment_becomes_credit_balance(self, issued, store):
        paid = issued.pay("166.60", ISSUED)
        _, inv = paid.credit(
            Numbering.credit_notes(), store, issued_on=ISSUED, amounts={"c1": "50.00"}
        )
        assert inv.credit_balance == EUR("59.50")

    def test_credits_never_exceed_the_total_and_take_no_number_when_refused(self, issued, store):
        cn = Numbering.credit_notes()
        _, inv = issued.credit(cn, store, issued_on=ISSUED, amounts={"c0": "100.00"})
        with pytest.raises(InvoiceError, match="does not fit"):
            inv.credit(cn, store, issued_on=ISSUED)
        assert store.last("default/credit-note/2026") == 1

    @pytest.mark.parametrize(
        ("amounts", "message"),
        [
            ({"nope": "1.00"}, "no such line"),
            ({"c0": "100.01"}, "at most the 100.00 left of the line's 100.00"),
            ({"c0": "0"}, "above 0"),
            ({"c0": Money("1.00", "USD")}, "USD"),
            ({}, "at least one charge"),  # was "a credit note of 0.00 EUR does not fit"
        ],
    )
    def test_bad_credit_amounts(self, issued, store, amounts, message):
        with pytest.raises(InvoiceError, match=message):
            issued.credit(Numbering.credit_notes(), store, issued_on=ISSUED, amounts=amounts)

    @pytest.mark.parametrize("amounts", [[("c0", "20.00")], ["c0"], "c0", ("c0", "20.00")])
    def test_amounts_not_a_mapping_are_refused(self, issued, store, amounts):
        """A list raised AttributeError: 'list' object has no attribute 'items'."""
        with pytest.raises(InvoiceError) as info:
            issued.credit(Numbering.credit_notes(), store, issued_on=ISSUED, amounts=amounts)
        error = info.value
        assert (error.code, error.path, error.value) == ("invoice_refused", "amounts", amounts)
        assert str(error).startswith("credit amounts: a mapping of charge name to")
        assert "{'c0': '10.00'}" in str(error) and "dict(pairs)" in str(error)
        assert repr(amounts) in str(error) and store.last("default/credit-note/2026") == 0

    @pytest.mark.parametrize("reason", [5, ["outage"], b"outage"])
    def test_a_reason_that_is_not_text_is_refused(self, issued, store, reason):
        """It was stored as given: the note's JSON broke its schema (text or null)."""
        with pytest.raises(InvoiceError) as info:
            issued.credit(Numbering.credit_notes(), store, issued_on=ISSUED, reason=reason)
        assert (info.value.code, info.value.path) == ("invoice_refused", "reason")
        assert str(info.value).startswith("credit reason: text or None")
        assert repr(reason) in str(info.value)

    @pytest.mark.parametrize("tenant", [None, 5, "", " "])
    def test_a_tenant_that_is_not_a_name_is_refused(self, issued, store, tenant):
        """It was taken: tenant=None numbered the note in a sequence named 'None'."""
        with pytest.raises(InvoiceError) as info:
            issued.credit(Numbering.credit_notes(), store, issued_on=ISSUED, tenant=tenant)
        assert (info.value.code, info.value.path) == ("invoice_refused", "tenant")
        assert "a non-empty string such as 'default'" in str(info.value)
        assert repr(tenant) in str(info.value) and store.last(f"{tenant}/credit-note/2026") == 0

    def test_numbering_and_store_of_other_types_are_refused(self, issued, store):
        """They raised AttributeError when the number was taken ('...' has no attribute
        'next' / 'allocate'); swapped, the message says so."""
        cn = Numbering.credit_notes()
        cases = [
            ((store, store), "numbering", "Numbering.credit_notes()"),
            ((cn, None), "store", "InMemorySequenceStore()"),
        ]
        for (numbering, sequences), path, fix in cases:
            with pytest.raises(InvoiceError) as info:
                issued.credit(numbering, sequences, issued_on=ISSUED)
            assert (info.value.code, info.value.path) == ("invoice_refused", path)
            assert str(info.value).startswith(f"credit {path}: ") and fix in str(info.value)
        with pytest.raises(InvoiceError, match="numbering and store swapped"):
            issued.credit(store, cn, issued_on=ISSUED)

    def test_a_line_is_credited_at_most_its_amount_over_all_notes(self, issued, store):
        """Notes in turn on one line give back at most its amount in all: 60.00 and 40.00
        of the 100.00 line pass, one cent more does not and takes no number."""
        cn = Numbering.credit_notes()
        _, inv = issued.credit(cn, store, issued_on=ISSUED, amounts={"c0": "60.00"})
        with pytest.raises(InvoiceError, match=r"the 40.00 left .* \(60.00 of it credited before"):
            inv.credit(cn, store, issued_on=ISSUED, amounts={"c0": "40.01"})
        assert store.last("default/credit-note/2026") == 1
        _, inv = inv.credit(cn, store, issued_on=ISSUED, amounts={"c0": "40.00"})
        given = sum(x.amount.amount for n in inv.credit_notes for x in n.lines)
        assert given == Decimal("100.00")
        with pytest.raises(InvoiceError, match=r"the 0\.00 left"):
            inv.credit(cn, store, issued_on=ISSUED, amounts={"c0": "0.01"})

    def test_notes_in_turn_get_the_next_numbers(self, issued, store):
        """Each note credited on the invoice the last one returned gets the next number,
        even when it credits the same amounts as the one before."""
        cn = Numbering.credit_notes()
        first, inv = issued.credit(cn, store, issued_on=ISSUED, amounts={"c0": "10.00"})
        second, inv = inv.credit(cn, store, issued_on=ISSUED, amounts={"c0": "10.00"})
        assert (first.number, second.number) == ("CN-2026-0001", "CN-2026-0002")
        assert [n.number for n in inv.credit_notes] == ["CN-2026-0001", "CN-2026-0002"]

    def test_retrying_a_note_gets_the_same_number(self, issued, store):
        """Crediting the same invoice state with the same amounts again (a retry after the
        note was lost) gives the same note and number and takes no number."""
        cn = Numbering.credit_notes()
        note, inv = issued.credit(cn, store, issued_on=ISSUED, amounts={"c0": "10.00"})
        again, inv_again = issued.credit(cn, store, issued_on=ISSUED, amounts={"c0": "10.00"})
        assert (again, inv_again) == (note, inv)
        assert store.last("default/credit-note/2026") == 1

    def test_a_different_note_from_a_stale_invoice_never_shares_a_number(self, issued, store):
        """Two different notes credited on the same (stale) invoice state are different
        documents: each gets its own number, never the other's."""
        cn = Numbering.credit_notes()
        a, _ = issued.credit(cn, store, issued_on=ISSUED, amounts={"c0": "10.00"})
        b, _ = issued.credit(cn, store, issued_on=ISSUED, amounts={"c0": "20.00"})
        c, _ = issued.credit(cn, store, issued_on=ISSUED, amounts={"c1": "10.00"})
        assert [a.number, b.number, c.number] == ["CN-2026-0001", "CN-2026-0002", "CN-2026-0003"]

    def test_draft_cannot_be_credited(self, draft, store):
        with pytest.raises(InvoiceStateError, match="only an issued invoice"):
            draft.credit(Numbering.credit_notes(), store, issued_on=ISSUED)


LINES = {"c0": Decimal("100.00"), "c1": Decimal("50.00")}


def _given_back(invoice, charge):
    """What the invoice's credit notes gave back on the line of *charge*."""
    return sum(
        (x.amount.amount for n in invoice.credit_notes for x in n.lines if x.charge == charge),
        Decimal(0),
    )


@given(
    st.lists(st.decimals(min_value="0.01", max_value="200", places=2), max_size=6),
    st.lists(st.sampled_from(["c0", "c1"]), max_size=3),
)
def test_payments_and_credits_balance(payments, credited_charges):
    """For any payments and credit notes: amount due - credit balance = total - paid -
    credited, neither is negative, and the credit notes never exceed the total."""
    from cloudrate import BillingPeriod
    from cloudrate.invoice import Customer

    store = InMemorySequenceStore()
    inv = assemble(
        bill_of("100.00", "50.00"),
        Customer(id="acme", name="A"),
        BillingPeriod.month(2026, 10),
        taxes=TaxRate(percent="19"),
    )
    inv = inv.finalise(Numbering(), store, issued_on=ISSUED, terms=Net(30))
    for amount in payments:
        try:
            inv = inv.pay(amount, ISSUED)
        except InvoiceStateError:
            assert inv.amount_due.amount == 0
    for charge in credited_charges:
        try:
            _, inv = inv.credit(
                Numbering.credit_notes(), store, issued_on=ISSUED, amounts={charge: "30.00"}
            )
        except InvoiceError:  # it would pass the invoice's total or its line's amount
            over_line = _given_back(inv, charge) + Decimal("30.00") > LINES[charge]
            assert inv.credited.amount + Decimal("35.70") > inv.total.amount or over_line
    assert all(_given_back(inv, charge) <= amount for charge, amount in LINES.items())
    assert inv.amount_due.amount >= 0 and inv.credit_balance.amount >= 0
    assert inv.amount_due.amount - inv.credit_balance.amount == (
        inv.total.amount - inv.paid.amount - inv.credited.amount
    )
    assert inv.credited.amount <= inv.total.amount
    assert (inv.status == "paid") == (inv.amount_due.amount == 0)
