"""Statistics cards and list filters over a customer's invoices."""

from __future__ import annotations

import functools
from datetime import date

import pytest
from moneyed import Money

from cloudrate.exceptions import InvoiceError
from cloudrate.invoice import (
    Customer,
    InMemorySequenceStore,
    Net,
    Numbering,
    assemble,
    filter_invoices,
    invoice_stats,
)

from .conftest import bill_of

EUR = functools.partial(Money, currency="EUR")


@pytest.fixture(name="book")
def _book(october):
    """Five invoices of acme and one of globex, issued 1 Nov, net 30 (due 1 Dec):
    paid 100, partly paid 200 (50 paid), unpaid 300, void 400, draft 500; globex 7."""
    store = InMemorySequenceStore()
    acme = Customer(id="acme", name="ACME")

    def issue(amount, i, customer=acme):
        draft = assemble(
            bill_of(amount, account=customer.id), customer, october, invoice_id=f"{customer.id}-{i}"
        )
        return draft.finalise(Numbering(), store, issued_on=date(2026, 11, 1), terms=Net(30))

    return [
        issue("100.00", 1).pay("100.00", date(2026, 11, 5)),
        issue("200.00", 2).pay("50.00", date(2026, 11, 5)),
        issue("300.00", 3),
        issue("400.00", 4).void(date(2026, 11, 2)),
        assemble(bill_of("500.00"), acme, october, invoice_id="acme-5"),
        issue("7.00", 6, Customer(id="globex", name="Globex")),
    ]


class TestFilters:
    def test_tabs(self, book):
        """All lists every issued invoice (void too, never drafts); Unpaid and Paid split."""

        def numbers(invs):
            return [i.number for i in invs]

        assert numbers(filter_invoices(book, "all", customer="acme")) == [
            "INV-2026-0001",
            "INV-2026-0002",
            "INV-2026-0003",
            "INV-2026-0004",
        ]
        assert numbers(filter_invoices(book, "unpaid", customer="acme")) == [
            "INV-2026-0002",
            "INV-2026-0003",
        ]
        assert numbers(filter_invoices(book, "paid")) == ["INV-2026-0001"]
        assert len(filter_invoices(book)) == 5

    def test_unknown_filter(self, book):
        with pytest.raises(InvoiceError, match="all, unpaid, paid"):
            filter_invoices(book, "overdue")


class TestStats:
    def test_cards_before_and_after_due_date(self, book):
        """Outstanding 150 + 300; paid 100 + 50; four invoices; overdue only after 1 Dec."""
        before = invoice_stats(book, date(2026, 12, 1), currency="EUR", customer="acme")
        assert before.outstanding == EUR("450.00") and before.total_paid == EUR("150.00")
        assert before.total_invoices == 4 and before.overdue_count == 0
        assert before.unpaid_count == 2 and before.paid_count == 1
        after = invoice_stats(book, date(2026, 12, 2), currency="EUR", customer="acme")
        assert after.overdue_count == 2 and after.unpaid_count == 2

    def test_badges(self, book):
        now = date(2026, 12, 2)
        assert [i.badge(now) for i in book] == [
            "paid",
            "overdue",
            "overdue",
            "void",
            "draft",
            "overdue",
        ]

    def test_credit_balance_counted(self, book):
        book[2] = book[2].pay("350.00", date(2026, 11, 6))
        stats = invoice_stats(book, date(2026, 12, 2), currency="EUR", customer="acme")
        assert stats.credit_balance == EUR("50.00") and stats.outstanding == EUR("150.00")

    def test_mixed_currencies_refused(self, book, october):
        usd = assemble(bill_of("1.00", currency="USD"), Customer(id="acme", name="A"), october)
        usd = usd.finalise(
            Numbering(), InMemorySequenceStore(), issued_on=date(2026, 11, 1), terms=Net(1)
        )
        with pytest.raises(InvoiceError, match="in USD, not EUR"):
            invoice_stats([*book, usd], date(2026, 12, 2), currency="EUR")
