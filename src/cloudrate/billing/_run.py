"""The billing run: rate a period again, compare with what was issued, issue the difference.

A run is a recomputation, so it can be repeated at any time. For each customer it takes
the draft invoice the period's whole usage gives today and, in one transaction holding that
customer's period:

- no document yet: the draft is issued as the period's invoice;
- documents exist and bill the same per line: nothing is issued (``unchanged``);
- otherwise the difference is issued: what grew on a supplementary invoice referring to
  the period's invoice; what shrank on credit notes against the invoices that billed it
  (those still to be paid first, the newest first), none credited more than it still
  bills. Issued documents are never edited.

Killed at any point, a run leaves each customer either fully billed or untouched; the next
run finishes the work and issues nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, get_args

import attrs
from moneyed import Money

from cloudrate._money import exact_class
from cloudrate.exceptions import BillingError, InvoiceStateError
from cloudrate.invoice import (
    CreditNote,
    Customer,
    EmptyBill,
    Invoice,
    InvoiceLine,
    Net,
    Numbering,
    PaymentTerms,
    TaxLine,
    TaxMethod,
    TaxRate,
    TaxRule,
    apply_taxes,
    assemble,
    assemble_all,
    credit_taxes,
)
from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan
from cloudrate.rating import RatingResult
from cloudrate.usage import UsageRecord, dedupe

from ._delta import billed_lines, credit_targets, delta, line_key
from ._documents import live_invoice
from ._events import new_event
from ._fast import bill_lines, fast_taxes
from ._store import DocumentStore, StoreTransaction
from ._stored import DocumentKind, StoredDocument, credit_note_from_json
from ._subscribed import meets, rate_customer
from ._subscriptions import BillingCustomer, customer_periods
from ._summary import CustomerOutcome, Outcome, RunSummary

__all__ = ["CREDIT_NOTE_SCHEMA", "BillingRun", "issue_date"]

#: The schema name of a stored credit note's JSON (:meth:`CreditNote.to_dict` plus it).
CREDIT_NOTE_SCHEMA = "cloudrate.credit_note/1"


def issue_date(period: BillingPeriod) -> date:
    """The issue date a run uses when none is given: the day the period ends, in its
    timezone (``2026-11-01`` for October), never today's date.

    >>> issue_date(BillingPeriod.month(2026, 10, "Europe/Berlin"))
    datetime.date(2026, 11, 1)
    """
    return period.end.astimezone(period.tz).date()


def _lock_of(draft: Invoice) -> str:
    """The lock of *draft*'s customer period: the name billing runs and payments share."""
    return f"{draft.customer.id}\x1f{draft.period.label}"


class _Numbers:
    """A :class:`~cloudrate.invoice.SequenceStore` that takes numbers inside one store
    transaction, so the number is kept only with the document that holds it."""

    def __init__(self, tx: StoreTransaction) -> None:
        self._tx = tx
        self.taken = 0

    def allocate(self, key: str, document: str) -> int:  # noqa: ARG002 - the protocol's
        self.taken = self._tx.next_number(key)
        return self.taken

    def last(self, key: str) -> int:  # pragma: no cover - not used by finalise
        raise NotImplementedError

    def held(self, key: str, document: str) -> int | None:  # noqa: ARG002  # pragma: no cover
        found = self._tx.by_draft(document)
        return None if found is None else found.seq


def _stored(
    tenant: str,
    kind: DocumentKind,
    *,
    number: str,
    draft: str,
    sequence: str,
    seq: int,
    customer: str,
    period: str,
    revision: int,
    refers_to: str | None,
    currency: str,
    issued_on: date,
    due_on: date | None,
    lines: Iterable[InvoiceLine],
    body: str,
    total: Any,
) -> StoredDocument:
    return StoredDocument(
        tenant=tenant,
        number=number,
        kind=kind,
        draft=draft,
        sequence=sequence,
        seq=seq,
        customer=customer,
        period=period,
        revision=revision,
        refers_to=refers_to,
        currency=currency,
        issued_on=issued_on,
        due_on=due_on,
        total=total,
        body=body,
        billed=billed_lines(lines, -1 if kind == "credit_note" else 1),
    )


@exact_class
@attrs.frozen(kw_only=True)
class BillingRun:
    """Bills customers' periods into a :class:`DocumentStore`, exactly once.

    *numbering* numbers invoices and supplementary invoices, *credit_numbering* credit
    notes; *terms* gives due dates; *tenant* keeps one portal's documents and sequences
    apart from another's.

    >>> import tempfile, pathlib
    >>> from cloudrate import load_plan, rate, read_usage, sample_plan_path, sample_usage_path
    >>> from cloudrate.billing import SQLiteDocumentStore
    >>> store = SQLiteDocumentStore(pathlib.Path(tempfile.mkdtemp()) / "billing.db")
    >>> result = rate(load_plan(sample_plan_path()), read_usage(sample_usage_path()))
    >>> run = BillingRun(store=store)
    >>> run.bill(result).issued["invoice"] > 0
    True
    >>> run.bill(result).issued  # a rerun issues nothing
    {'invoice': 0, 'supplementary': 0, 'credit_note': 0}
    >>> store.close()
    """

    store: DocumentStore
    numbering: Numbering = attrs.field(factory=Numbering)
    credit_numbering: Numbering = attrs.field(factory=Numbering.credit_notes)
    terms: PaymentTerms = attrs.field(factory=lambda: Net(30))
    tenant: str = "default"

    def bill(
        self,
        result: RatingResult,
        *,
        issued_on: date | None = None,
        customers: Mapping[str, Customer] | None = None,
        taxes: TaxRule | TaxRate | None = None,
        tax_method: TaxMethod = "total",
        empty: EmptyBill = "zero",
        accounts: Iterable[str] | None = None,
        batch: int = 500,
    ) -> RunSummary:
        """Bill every account of *result* (or only *accounts*) for its period.

        *issued_on* dates the documents issued; by default :func:`issue_date` of the period.
        *batch* customers are billed per transaction (:meth:`bill_invoices`).
        """
        day = issue_date(result.period) if issued_on is None else issued_on
        drafts = assemble_all(
            result, customers, taxes=taxes, tax_method=tax_method, empty=empty, accounts=accounts
        )
        outcomes = self.bill_invoices(drafts, issued_on=day, batch=batch)
        return RunSummary(
            period=result.period.label,
            outcomes=outcomes,
            duplicates_dropped=result.duplicates_dropped,
            corrections_applied=result.corrections,
        )

    def bill_table(
        self,
        plan: Plan,
        data: Any,
        period: BillingPeriod | None = None,
        *,
        customers: Mapping[str, Customer] | None = None,
        taxes: TaxRule | TaxRate | None = None,
        tax_method: TaxMethod = "total",
        issued_on: date | None = None,
        accounts: Iterable[str] = (),
        batch: int = 2000,
    ) -> RunSummary:
        """Bill columnar usage (an Arrow table, a DataFrame, a file read with
        :func:`~cloudrate.rating.columnar.read_columnar`) under *plan* for *period*:
        the same documents, rows and events as ``bill(rate_table(plan, data, period,
        accounts=accounts), customers=..., taxes=..., tax_method=..., issued_on=...)``,
        written from arrays (docs/billing-runs.md, "The columnar billing run").

        *accounts* are billed even without usage (as in ``rate_table``); *batch*
        customers are issued per transaction. Needs ``pip install 'cloudrate[batch]'``.
        """
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise BillingError(f"batch: a whole number of customers >= 1 (got {batch!r})")
        from cloudrate.rating.columnar.lines import rate_lines

        if tax_method not in get_args(TaxMethod):
            raise BillingError(
                f"tax_method: 'total' (per rate, EN 16931) or 'line' (got {tax_method!r})"
            )
        rated = rate_lines(plan, data, period, accounts=accounts)
        covered, rule = fast_taxes(taxes)
        if isinstance(rated, RatingResult) or not covered:
            result = rated if isinstance(rated, RatingResult) else rated.result()
            return self.bill(
                result,
                issued_on=issued_on,
                customers=customers,
                taxes=taxes,
                tax_method=tax_method,
                batch=batch,
            )
        day = issue_date(rated.period) if issued_on is None else issued_on
        return bill_lines(
            self,
            rated,
            customers=customers or {},
            taxes=rule,
            tax_method=tax_method,
            issued_on=day,
            batch=batch,
        )

    def bill_customers(
        self,
        customers: Iterable[BillingCustomer],
        plans: Mapping[str, Plan],
        usage: Iterable[UsageRecord],
        period: BillingPeriod,
        *,
        issued_on: date | None = None,
        taxes: TaxRule | TaxRate | None = None,
        tax_method: TaxMethod = "total",
    ) -> RunSummary:
        """Bill *customers* for *period* through their subscriptions: each customer's
        period rated segment by segment (plan changes, price versions, trials, overrides)
        and billed exactly once like :meth:`bill`. Customers without a subscription in
        force during the period are not billed. Usage in the period of an account that is
        none of *customers*, or of a customer with no subscription in force during the
        period, is not billed either: the summary names those accounts
        (``unbilled_accounts``), so a customers file missing one is seen."""
        found = dedupe(list(usage))
        by_account: dict[str, list[UsageRecord]] = {}
        for record in found.records:
            by_account.setdefault(record.account, []).append(record)
        outcomes = []
        billed: set[str] = set()
        for customer in customers:
            if _in_force(customer, period):
                billed.add(customer.id)
            mine = by_account.get(customer.id, [])
            for own in customer_periods(customer, period):
                day = issue_date(own) if issued_on is None else issued_on
                outcome = self._bill_subscribed(customer, plans, mine, own, day, taxes, tax_method)
                if outcome is not None:
                    outcomes.append(outcome)
        return RunSummary(
            period=period.label,
            outcomes=tuple(outcomes),
            duplicates_dropped=found.duplicates_dropped,
            corrections_applied=found.corrections,
            unbilled_accounts=_unbilled(by_account, billed, period),
        )

    def _bill_subscribed(
        self,
        customer: BillingCustomer,
        plans: Mapping[str, Plan],
        usage: Sequence[UsageRecord],
        period: BillingPeriod,
        day: date,
        taxes: TaxRule | TaxRate | None,
        tax_method: TaxMethod,
    ) -> CustomerOutcome | None:
        """One customer's own period rated through its subscriptions and billed."""
        rated = rate_customer(customer, plans, usage, period)
        if not rated.segments:
            return None
        draft = assemble(
            rated.bill,
            customer.customer,
            period,
            taxes=taxes,
            tax_method=tax_method,
            rounding=rated.rounding,
        )
        assert draft is not None  # empty="zero"
        draft = attrs.evolve(draft, notes=(*draft.notes, *rated.notes))
        return self.bill_invoice(draft, issued_on=day)

    def bill_invoice(self, draft: Invoice, *, issued_on: date) -> CustomerOutcome:
        """Bill one customer's period from *draft*, the invoice its whole usage gives now."""
        if draft.state != "draft":
            raise InvoiceStateError(
                f"bill_invoice takes a draft (got {draft.state} invoice {draft.number}); "
                "assemble the period's invoice again from its usage"
            )
        with self.store.transaction(self.tenant, _lock_of(draft)) as tx:
            return self._bill_in(tx, draft, issued_on)

    def bill_invoices(
        self, drafts: Iterable[Invoice], *, issued_on: date, batch: int = 500
    ) -> tuple[CustomerOutcome, ...]:
        """:meth:`bill_invoice` for many drafts, *batch* customers per transaction (one
        commit, one flush to disk, for each batch): a crash leaves each batch billed in
        full or not at all, and the next run bills the rest."""
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise BillingError(f"batch: a whole number of customers >= 1 (got {batch!r})")
        pending = list(drafts)
        for draft in pending:
            if draft.state != "draft":
                raise InvoiceStateError(
                    f"bill_invoices takes drafts (got {draft.state} invoice {draft.number})"
                )
        out: list[CustomerOutcome] = []
        for start in range(0, len(pending), batch):
            chunk = pending[start : start + batch]
            with self.store.transaction(self.tenant, [_lock_of(d) for d in chunk]) as tx:
                out.extend(self._bill_in(tx, d, issued_on) for d in chunk)
        return tuple(out)

    def _bill_in(self, tx: StoreTransaction, draft: Invoice, issued_on: date) -> CustomerOutcome:
        """Bill *draft*'s customer period inside *tx*, which holds its lock."""
        customer, period = draft.customer.id, draft.period.label
        existing = tx.documents(customer, period)
        if not existing:
            issued = self._issue_invoice(tx, draft, issued_on)
            return CustomerOutcome(
                customer=customer, period=period, outcome="issued", documents=(issued,)
            )
        documents = self._correct(tx, draft, existing, issued_on)
        outcome: Outcome = "corrected" if documents else "unchanged"
        return CustomerOutcome(
            customer=customer, period=period, outcome=outcome, documents=documents
        )

    # --- issuing ---------------------------------------------------------------------------

    def _finalise(
        self, tx: StoreTransaction, draft: Invoice, issued_on: date
    ) -> tuple[Invoice, str, int]:
        numbers = _Numbers(tx)
        sequence = self.numbering.key(self.tenant, issued_on)
        invoice = draft.finalise(
            self.numbering, numbers, issued_on=issued_on, terms=self.terms, tenant=self.tenant
        )
        return invoice, sequence, numbers.taken

    def _issue_invoice(
        self,
        tx: StoreTransaction,
        draft: Invoice,
        issued_on: date,
        *,
        kind: DocumentKind = "invoice",
        revision: int = 1,
        refers_to: str | None = None,
    ) -> StoredDocument:
        invoice, sequence, seq = self._finalise(tx, draft, issued_on)
        assert invoice.number is not None
        document = _stored(
            self.tenant,
            kind,
            number=invoice.number,
            draft=draft.id,
            sequence=sequence,
            seq=seq,
            customer=invoice.customer.id,
            period=invoice.period.label,
            revision=revision,
            refers_to=refers_to,
            currency=invoice.currency,
            issued_on=issued_on,
            due_on=invoice.due_on,
            lines=invoice.lines,
            body=invoice.to_json(indent=None),
            total=invoice.total.amount,
        )
        tx.insert_document(document)
        tx.add_event(
            new_event(
                self.tenant,
                "invoice.finalised",
                invoice.number,
                issued_on.isoformat(),
                {
                    "kind": kind,
                    "customer": invoice.customer.id,
                    "period": invoice.period.label,
                    "currency": invoice.currency,
                    "total": str(invoice.total.amount),
                    "due_on": None if invoice.due_on is None else invoice.due_on.isoformat(),
                    "refers_to": refers_to,
                },
            )
        )
        return document

    def _correct(
        self,
        tx: StoreTransaction,
        draft: Invoice,
        existing: tuple[StoredDocument, ...],
        issued_on: date,
    ) -> tuple[StoredDocument, ...]:
        original = existing[0]
        if draft.currency != original.currency:
            raise BillingError(
                f"{draft.customer.id} {draft.period.label}: the usage now bills in "
                f"{draft.currency}, but {original.number} was issued in {original.currency}; "
                "a period's documents share one currency: credit it in full by hand and "
                "bill the period under its new plan"
            )
        billed = [b for d in existing for b in d.billed]
        # The earlier lines describe only keys the draft no longer has: their documents
        # are read back only then (a rerun that changes nothing reads no document).
        kept = {line_key(line) for line in draft.lines}
        templates = (
            [  # a key only a credit note ever billed takes its shape from that note
                *(
                    line
                    for d in existing
                    if d.kind == "credit_note"
                    for line in credit_note_from_json(d.body, draft.customer, draft).lines
                ),
                *(line for d in existing if d.kind != "credit_note" for line in d.invoice().lines),
            ]
            if any(b.line not in kept for b in billed)
            else []
        )
        numbers = ", ".join(d.number for d in existing)
        change = delta(draft.lines, billed, templates, numbers)
        if change.unchanged:
            return ()
        out = []
        revision = max(d.revision for d in existing)
        settled = _settled(tx, existing) if change.less else set()
        room = sum((x.amount.amount for x in change.more), Decimal(0))
        credited = credit_targets(change.less, existing, settled, absorb=room)
        more = (*change.more, *(_taken_off(x) for x in credited.beyond))
        if more:
            revision += 1
            out.append(self._supplement(tx, draft, more, original, revision, issued_on))
        for target, lines in credited.notes:
            revision += 1
            earlier = tuple(
                d for d in existing if d.kind == "credit_note" and d.refers_to == target.number
            )
            out.append(self._credit(tx, draft, lines, target, earlier, revision, issued_on))
        return tuple(out)

    def _supplement(
        self,
        tx: StoreTransaction,
        draft: Invoice,
        lines: tuple[InvoiceLine, ...],
        original: StoredDocument,
        revision: int,
        issued_on: date,
    ) -> StoredDocument:
        taxed, taxes, subtotal, tax_total, total = _priced(draft, lines)
        supplementary = attrs.evolve(
            draft,
            id=f"{draft.id}/{revision}",
            lines=taxed,
            taxes=taxes,
            subtotal=subtotal,
            tax_total=tax_total,
            total=total,
            notes=(
                *draft.notes,
                (
                    f"Supplementary invoice to {original.number}: usage that arrived or was "
                    "corrected after it was issued."
                ),
            ),
            supplements=original.number,
        )
        return self._issue_invoice(
            tx,
            supplementary,
            issued_on,
            kind="supplementary",
            revision=revision,
            refers_to=original.number,
        )

    def _credit(
        self,
        tx: StoreTransaction,
        draft: Invoice,
        lines: tuple[InvoiceLine, ...],
        target: StoredDocument,
        earlier: tuple[StoredDocument, ...],
        revision: int,
        issued_on: date,
    ) -> StoredDocument:
        """A credit note giving back *lines* of the invoice *target*, which the credit
        notes *earlier* already credited: taxed as :func:`~cloudrate.invoice.credit_taxes`
        taxes a note against it, counting what they gave back (so notes crediting all of
        it give back exactly its tax)."""
        against = live_invoice(target, (), earlier)
        rates = {line_key(x): x.tax_rate for x in against.lines}  # taxed as it was billed
        lines = tuple(
            attrs.evolve(x, tax_rate=rates[line_key(x)]) if line_key(x) in rates else x
            for x in lines
        )
        taxed, taxes, subtotal, tax_total, total = _priced(draft, lines, against)
        sequence = self.credit_numbering.key(self.tenant, issued_on)
        seq = tx.next_number(sequence)
        number = self.credit_numbering.format(seq, on=issued_on, tenant=self.tenant)
        note = CreditNote(
            number=number,
            invoice_number=target.number,
            customer=draft.customer,
            period=draft.period,
            currency=draft.currency,
            issued_on=issued_on,
            lines=taxed,
            taxes=taxes,
            subtotal=subtotal,
            tax_total=tax_total,
            total=total,
            reason="usage corrected after the invoice was issued",
        )
        document = _stored(
            self.tenant,
            "credit_note",
            number=number,
            draft=f"{draft.id}/{revision}",
            sequence=sequence,
            seq=seq,
            customer=draft.customer.id,
            period=draft.period.label,
            revision=revision,
            refers_to=target.number,
            currency=draft.currency,
            issued_on=issued_on,
            due_on=None,
            lines=taxed,
            body=json.dumps({"schema": CREDIT_NOTE_SCHEMA, **note.to_dict()}),
            total=total.amount,
        )
        tx.insert_document(document)
        tx.add_event(
            new_event(
                self.tenant,
                "credit_note.issued",
                number,
                issued_on.isoformat(),
                {
                    "customer": draft.customer.id,
                    "period": draft.period.label,
                    "currency": draft.currency,
                    "total": str(total.amount),
                    "refers_to": target.number,
                },
            )
        )
        return document


def _taken_off(line: InvoiceLine) -> InvoiceLine:
    """A credit *line* as a line taking its amount off a supplementary invoice."""
    money = Money(-line.amount.amount, line.amount.currency.code)
    return attrs.evolve(line, quantity=-line.quantity, amount=money, exact_amount=money)


def _settled(tx: StoreTransaction, documents: Sequence[StoredDocument]) -> set[str]:
    """The invoices of *documents* paid in full or in part, or with a payment under
    way: credited last (nothing applies a paid invoice's credit balance, and a payment
    under way could collect what a credit note gave back)."""
    credited: dict[str, Decimal] = {}
    for d in documents:
        if d.kind == "credit_note" and d.refers_to is not None:
            credited[d.refers_to] = credited.get(d.refers_to, Decimal(0)) + d.total
    out = set()
    for d in documents:
        if d.kind == "credit_note":
            continue
        attempts = tx.attempts(d.number)
        paid = sum((a.amount for a in attempts if a.state == "succeeded"), Decimal(0))
        pending = any(a.state == "pending" for a in attempts)
        if pending or paid > 0 or credited.get(d.number, Decimal(0)) >= d.total:
            out.add(d.number)
    return out


def _in_force(customer: BillingCustomer, period: BillingPeriod) -> bool:
    """Whether a subscription of *customer* is in force at some time of *period* (its
    usage is billed, now or in the run of a longer period that holds it)."""
    return any(
        start < period.end and (end is None or end > period.start)
        for _, start, end in customer.active()
    )


def _unbilled(
    by_account: Mapping[str, Sequence[UsageRecord]], billed: set[str], period: BillingPeriod
) -> tuple[str, ...]:
    """The accounts of *by_account*, sorted, none of *billed*, with usage in *period*
    (time in it, or an instant)."""
    lo, hi = period.start, period.end
    return tuple(
        sorted(
            account
            for account, records in by_account.items()
            if account not in billed and any(meets(r, lo, hi) for r in records)
        )
    )


def _priced(
    draft: Invoice, lines: tuple[InvoiceLine, ...], against: Invoice | None = None
) -> tuple[tuple[InvoiceLine, ...], tuple[TaxLine, ...], Money, Money, Money]:
    """A correction's lines taxed as *draft* is (a credit note's as one *against* that
    invoice is, when given), its taxes, subtotal, tax total and total (sums of rounded
    amounts)."""
    if against is None:
        lines, taxes = apply_taxes(lines, draft.tax_method, draft.rounding, draft.currency)
    else:
        lines, taxes = credit_taxes(against, lines)
    cur = draft.currency
    subtotal = sum((x.amount.amount for x in lines), Decimal(0))
    tax_total = sum((t.amount.amount for t in taxes), Decimal(0))
    places = draft.rounding.quantum(cur)
    return (
        lines,
        taxes,
        Money(subtotal.quantize(places), cur),
        Money(tax_total.quantize(places), cur),
        Money((subtotal + tax_total).quantize(places), cur),
    )
