"""The billing run from columnar usage: invoices written from arrays, stored in batches.

:meth:`BillingRun.bill_table` rates the usage into
:class:`~cloudrate.rating.columnar.lines.LineColumns` (one array per line field), then:

- reads once what the period's documents already bill (one query), and compares it, per
  customer and line key, with the rounded amounts of the lines now: customers whose
  documents bill the same are ``unchanged``;
- bills the others in account order (so numbers are those :meth:`BillingRun.bill`
  gives), *batch* customers per transaction holding their locks: customers without a
  document get invoices written from templates of the object path's JSON
  (:mod:`._fast_docs`), one block of consecutive numbers for a run of them, their
  documents, billed rows and events inserted with one statement each a part; customers whose
  documents bill something else (or that another run billed meanwhile) go through the
  object path (``BillingRun._bill_in``: a supplementary invoice, a credit note);
- renders a batch while the previous one is written, in parts of :data:`_PART`
  customers handed to the writing thread as it takes them (:class:`_Pipeline`), so a
  run holds two parts' rows at a time, whatever the batch size.

Plans, policies or tax rules the kernel does not cover are billed through
:meth:`BillingRun.bill` with the same result (docs/billing-runs.md lists which).
"""

from __future__ import annotations

import decimal
import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

from moneyed import Money

from cloudrate._money import EXACT
from cloudrate.exceptions import BillingError, StoreError
from cloudrate.invoice import (
    Customer,
    FlatTax,
    Invoice,
    Numbering,
    PaymentTerms,
    RegionalTax,
    TaxLine,
    TaxMethod,
    TaxRate,
    TaxRule,
    assemble,
)

from ._events import event_id
from ._fast_docs import (
    EventTemplate,
    InvoiceTemplate,
    LineTemplate,
    customer_json,
    default_customer,
    rate_json,
)
from ._stored import BilledRow, DocumentRow, EventRow, PeriodBilled
from ._summary import RunSummary, TableOutcomes

if TYPE_CHECKING:
    from concurrent.futures import Future

    from cloudrate.rating.columnar.lines import LineColumns

    from ._run import BillingRun
    from ._store import StoreTransaction

__all__ = ["Issuer", "Unnumbered", "bill_lines", "bill_written", "fast_taxes"]

#: Tax rules whose rate depends on the customer only (the fast path asks once per customer).
_Rates = TaxRate | FlatTax | RegionalTax | None

#: A bill's invoice before it has a number: the account, the total (text), the JSON body
#: cut where the number goes twice (before, between, after), the data of its
#: ``invoice.finalised`` event, and its billed rows: rows *lo* to *hi* of the lists of
#: charges (indices in the plan), rounded amounts and quantities (texts) that follow.
Unnumbered = tuple[
    str, str, str, str, str, str, Sequence[int], Sequence[str], Sequence[str], int, int
]

#: A batch's rows: documents, billed rows, events, and the numbers the documents took.
_Rows = tuple[list[DocumentRow], list[BilledRow], list[EventRow], list[str]]


class Issuer(Protocol):
    """Who issues a run's invoices: a :class:`BillingRun`, or what a worker knows of it."""

    @property
    def numbering(self) -> Numbering: ...
    @property
    def terms(self) -> PaymentTerms: ...
    @property
    def tenant(self) -> str: ...


def fast_taxes(taxes: TaxRule | TaxRate | None) -> tuple[bool, _Rates]:
    """Whether the fast path prices *taxes*, and the rule it asks."""
    if taxes is None or isinstance(taxes, TaxRate | FlatTax | RegionalTax):
        return True, taxes
    return False, None


def _rate_of(rule: _Rates, customer: Customer) -> TaxRate | None:
    if rule is None or isinstance(rule, TaxRate):
        return rule
    if isinstance(rule, FlatTax):
        return rule.rate
    return rule.rate_for(customer, None)


class _Writer:
    """Writes the documents of a run's bills (templates filled from the line columns)."""

    def __init__(
        self,
        run: Issuer,
        lines: LineColumns,
        customers: Mapping[str, Customer],
        taxes: _Rates,
        tax_method: TaxMethod,
        day: date,
    ) -> None:
        self.run, self.lines, self.customers = run, lines, customers
        self.taxes, self.tax_method = taxes, tax_method
        self.period, self.label = lines.period, lines.period.label
        self.currency = lines.plan.currency
        self.policy, self.digits = lines.policy, lines.digits
        self.day = day
        self.sequence = run.numbering.key(run.tenant, day)
        self.invoice = InvoiceTemplate(
            self.period,
            self.currency,
            self.policy,
            tax_method,
            (run.numbering, run.terms, day, run.tenant),
        )
        self.due = self.invoice.due_on.isoformat()
        self.zero = Decimal(0).scaleb(-self.digits, EXACT)
        self.customer_template = default_customer()
        self.line_templates: dict[Any, dict[int, LineTemplate]] = {}
        self.keys = [f"charge:{c.name}" for c in lines.plan.charges]
        self.key_texts = [json.dumps(k, ensure_ascii=False) for k in self.keys]
        self.event = EventTemplate(
            {
                "kind": "invoice",
                "customer": "",
                "period": self.label,
                "currency": self.currency,
                "total": "",
                "due_on": self.due,
                "refers_to": None,
            }
        )
        self._rates: dict[Any, tuple[str, str]] = {}
        self.rates: list[TaxRate | None] | None = None

    def prepare(self) -> None:
        """Check, before anything is written, what assembling would refuse: a customer
        whose id is not its account, a tax rule without a rate for a customer; and take
        each customer's tax rate."""
        names = self.lines.accounts
        index = {name: i for i, name in enumerate(names)} if self.customers else {}
        for name, customer in self.customers.items():
            i = index.get(name)
            if i is not None and customer.id != name:
                self.draft(i)  # raises the object path's InvoiceError
        if self.taxes is not None:
            self.rates = [_rate_of(self.taxes, self.customer(name)) for name in names]

    def customer(self, name: str) -> Customer:
        return self.customers.get(name) or Customer(id=name, name=name)

    def draft(self, i: int) -> Invoice:
        """Bill *i*'s draft through the object path."""
        name = self.lines.accounts[i]
        return assemble(
            self.lines.bill(i),
            self.customer(name),
            self.period,
            taxes=self.taxes,
            tax_method=self.tax_method,
            rounding=self.policy,
        )

    def _templates(self, i: int, rate: TaxRate | None) -> dict[int, LineTemplate]:
        """The line templates at *rate*, by charge index, made on first use from the
        object path's lines (bill *i* is the first to need them)."""
        key = None if rate is None else rate.key
        found = self.line_templates.get(key)
        if found is None:
            found = self.line_templates[key] = {}
        if len(found) == len(self.keys):
            return found
        first, last = int(self.lines.starts[i]), int(self.lines.starts[i + 1])
        missing = {int(c) for c in self.lines.charge[first:last].tolist()} - set(found)
        if missing:
            draft = self.draft(i)
            for charge in missing:
                name = self.lines.plan.charges[charge].name
                line = next(x for x in draft.lines if x.charge == name and x.kind == "charge")
                found[charge] = LineTemplate(
                    line if rate == line.tax_rate else _with_rate(line, rate)
                )
        return found

    def _rate_texts(self, rate: TaxRate) -> tuple[str, str]:
        """A rate's JSON, and the JSON of the notes of invoices taxed at it."""
        found = self._rates.get(rate.key)
        if found is None:
            notes = "[]" if not rate.note else _json_list(rate.note)
            found = self._rates[rate.key] = (rate_json(rate), notes)
        return found

    def rows(self, bills: Sequence[int], first: int) -> _Rows:
        """The rows of the invoices of *bills* (numbered from *first* on)."""
        return self.numbered(self.unnumbered(bills), first)

    def unnumbered(self, bills: Sequence[int]) -> list[Unnumbered]:
        """The invoices of *bills* (ascending) without their numbers."""
        lines = self.lines
        out: list[Unnumbered] = []
        from cloudrate.rating.columnar.lines import decimal_texts

        starts = lines.starts.tolist()
        zero_text = str(self.zero)
        label = self.label
        for run_start, run_stop in _runs(bills):
            texts = lines.texts(run_start, run_stop)
            base = starts[run_start]
            totals = lines.totals[run_start:run_stop]
            subtotals = decimal_texts(totals, self.digits, -self.digits)
            settled = (totals <= 0).tolist()
            for i in range(run_start, run_stop):
                name = lines.accounts[i]
                customer = self.customers.get(name)
                rate = None if self.rates is None else self.rates[i]
                lo, hi = starts[i] - base, starts[i + 1] - base
                rendered, taxes_json, tax_total, notes = self._lines(i, texts, lo, hi, rate)
                subtotal_text = subtotals[i - run_start]
                if rate is None:  # no tax: the total is the subtotal
                    total_text, tax_text, paid = subtotal_text, zero_text, settled[i - run_start]
                else:
                    total = EXACT.add(Decimal(subtotal_text), tax_total)
                    total_text, tax_text, paid = str(total), str(tax_total), total <= 0
                head, between, tail = self.invoice.render_parts(
                    invoice_id=_json_text(f"{name}/{label}"),
                    customer=customer_json(customer, name, self.customer_template),
                    lines=f"[{', '.join(rendered)}]",
                    subtotal=subtotal_text,
                    taxes=taxes_json,
                    tax_total=tax_text,
                    total=total_text,
                    notes=notes,
                    paid=paid,
                )
                out.append(
                    (
                        name,
                        total_text,
                        head,
                        between,
                        tail,
                        self.event.render(name, total_text),
                        texts.charge,
                        texts.rounded,
                        texts.quantity,
                        lo,
                        hi,
                    )
                )
        return out

    def numbered(self, invoices: Sequence[Unnumbered], first: int) -> _Rows:
        """The rows of *invoices*, numbered from *first* on."""
        tenant, label, day = self.run.tenant, self.label, self.day
        on, due, sequence, currency = day.isoformat(), self.due, self.sequence, self.currency
        number_of, keys = self.run.numbering.format, self.key_texts
        docs: list[DocumentRow] = []
        billed: list[BilledRow] = []
        events: list[EventRow] = []
        numbers: list[str] = []
        for seq, invoice in enumerate(invoices, first):
            name, total, head, between, tail, event, charge, rounded, quantity, lo, hi = invoice
            number = number_of(seq, on=day, tenant=tenant)
            numbers.append(number)
            docs.append(
                (
                    tenant,
                    number,
                    "invoice",
                    f"{name}/{label}",
                    sequence,
                    seq,
                    name,
                    label,
                    1,
                    None,
                    currency,
                    on,
                    due,
                    total,
                    f"{head}{number}{between}{number}{tail}",
                )
            )
            if hi > lo:  # billed_json's text, written from the parts
                lines = ",".join(
                    f'[{keys[charge[k]]},"{rounded[k]}","{quantity[k]}"]' for k in range(lo, hi)
                )
                billed.append((tenant, number, name, label, f"[{lines}]"))
            events.append(
                (
                    event_id(tenant, "invoice.finalised", number),
                    "invoice.finalised",
                    tenant,
                    number,
                    on,
                    event,
                )
            )
        return docs, billed, events, numbers

    def _lines(
        self, i: int, texts: Any, lo: int, hi: int, rate: TaxRate | None
    ) -> tuple[list[str], str, Decimal, str]:
        """The JSON of bill *i*'s lines, its taxes, its tax total and its notes."""
        zero = self.zero
        templates = self._templates(i, rate) if hi > lo else {}
        charge, quantity, rounded = texts.charge, texts.quantity, texts.rounded
        exact, explanation = texts.exact, texts.explanation
        if rate is None:
            rendered = [
                templates[charge[k]].render(
                    quantity[k], rounded[k], exact[k], explanation[k], "null", "null"
                )
                for k in range(lo, hi)
            ]
            return rendered, "[]", zero, "[]"
        rendered = []
        by_line = self.tax_method == "line"
        line_tax = Decimal(0)
        rate_text = self._rate_texts(rate)[0]
        with decimal.localcontext(EXACT):
            for k in range(lo, hi):
                template = templates[charge[k]]
                tax = "null"
                if by_line:
                    assert rate is not None
                    amount = Decimal(texts.rounded[k])
                    value = self.policy.round(amount * rate.percent / 100, self.currency)
                    line_tax += value
                    tax = f'"{value}"'
                rendered.append(
                    template.render(
                        texts.quantity[k],
                        texts.rounded[k],
                        texts.exact[k],
                        texts.explanation[k],
                        rate_text,
                        tax,
                    )
                )
            if hi == lo:
                return rendered, "[]", zero, "[]"
            base = Decimal(int(self.lines.totals[i])).scaleb(-self.digits)
            exact = base * rate.percent / 100
            billed = line_tax if by_line else self.policy.round(exact, self.currency)
            tax_line = TaxLine(
                rate=rate,
                base=Money(base, self.currency),
                amount=Money(billed, self.currency),
                exact_amount=Money(exact, self.currency),
            )
            taxes = _json_list(tax_line.to_dict())
            notes = self._rate_texts(rate)[1]
            return rendered, taxes, zero + billed, notes


def _with_rate(line: Any, rate: TaxRate | None) -> Any:
    import attrs

    return attrs.evolve(line, tax_rate=rate, tax=None)


def _json_text(text: str) -> str:
    from json.encoder import encode_basestring

    return encode_basestring(text)


def _json_list(item: Any) -> str:
    return json.dumps([item], ensure_ascii=False)


#: Bills whose line text is written at once (the text of a run is held while it renders).
_TEXT_RUN = 1000


def _runs(bills: Sequence[int], most: int = _TEXT_RUN) -> list[tuple[int, int]]:
    """*bills* (ascending) as runs of at most *most* consecutive indices ``(start, stop)``."""
    out: list[tuple[int, int]] = []
    for i in bills:
        if out and out[-1][1] == i and i - out[-1][0] < most:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


def _lock(name: str, label: str) -> str:
    return f"{name}\x1f{label}"


def _changed(
    lines: LineColumns, billed: PeriodBilled, keys: list[str]
) -> tuple[list[int], list[int]]:
    """Bills of customers with documents, split into those whose documents bill
    something else than their lines now (per line key), and those that bill the same.

    On arrays: what the documents bill and what the lines bill now, per bill and charge,
    as integers at the currency's digits. A customer with a billed key that is not one of
    the plan's charges, or an amount with more digits, is compared by the object path."""
    import numpy as np

    if not billed.customers:  # no documents in the period yet
        return [], []
    index = {name: i for i, name in enumerate(lines.accounts)}
    charge_of = {key: c for c, key in enumerate(keys)}
    with_documents = np.array(
        sorted(i for c in billed.customers if (i := index.get(c)) is not None), dtype=np.int64
    )
    if not len(with_documents):
        return [], []
    n, m = len(lines.accounts), len(keys)
    bills = np.array([index.get(c, -1) for c in billed.customer], dtype=np.int64)
    charges = np.array([charge_of.get(k, -1) for k in billed.line], dtype=np.int64)
    amounts, exact = _amounts(billed, lines.digits)
    odd = np.zeros(n, dtype=bool)
    mine = bills >= 0
    odd[bills[mine & ((charges < 0) | ~exact)]] = True
    take = mine & (charges >= 0) & exact
    now = lines.rounded
    if amounts.dtype == object or now.dtype == object:
        was_big = np.zeros((n, m), dtype=object)
        now_big = np.zeros((n, m), dtype=object)
        np.add.at(was_big, (bills[take], charges[take]), amounts[take].astype(object))
        now_big[lines.bill_of, lines.charge] = now.astype(object)
        differs = (was_big != now_big).any(axis=1)
    else:
        was = np.zeros((n, m), dtype=np.int64)
        np.add.at(was, (bills[take], charges[take]), amounts[take])
        current = np.zeros((n, m), dtype=np.int64)
        current[lines.bill_of, lines.charge] = now
        differs = (was != current).any(axis=1)
    differs |= odd
    chosen = differs[with_documents]
    return with_documents[chosen].tolist(), with_documents[~chosen].tolist()


def _amounts(billed: PeriodBilled, digits: int) -> tuple[Any, Any]:
    """The billed amounts (decimal texts) as integers at *digits* places, and which were
    exactly that."""
    import numpy as np
    import pyarrow as pa

    texts = billed.amount
    try:  # Arrow parses them all at once, refusing any with more digits
        parsed = pa.array(texts, pa.string()).cast(pa.decimal128(38, digits))
        words = np.frombuffer(parsed.buffers()[1], dtype=np.int64).reshape(-1, 2)
        words = words[parsed.offset : parsed.offset + len(parsed)]
        if parsed.null_count == 0 and bool((words[:, 1] == words[:, 0] >> 63).all()):
            return words[:, 0].copy(), np.ones(len(texts), dtype=bool)
    except (pa.ArrowInvalid, ValueError):
        pass
    return _amounts_one_by_one(billed, digits)


def _amounts_one_by_one(billed: PeriodBilled, digits: int) -> tuple[Any, Any]:
    import numpy as np

    texts = billed.amount
    values = np.zeros(len(texts), dtype=np.int64)
    exact = np.ones(len(texts), dtype=bool)
    big = False
    out: list[int] = []
    quantum = Decimal(1).scaleb(-digits)
    for k, text in enumerate(texts):
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise StoreError(
                f"the billed amount of {billed.customer[k]} on {billed.line[k]} is {text!r}, "
                "not a decimal number; the row was changed outside cloudrate: restore it "
                "from a backup of the store"
            )
        if value != value.quantize(quantum, context=EXACT):
            exact[k] = False
            out.append(0)
            continue
        whole = int(value.scaleb(digits, EXACT))
        big = big or abs(whole) >= 2**62
        out.append(whole)
    if big:
        return np.array(out, dtype=object), exact
    values[:] = out
    return values, exact


def bill_lines(
    run: BillingRun,
    lines: LineColumns,
    *,
    customers: Mapping[str, Customer],
    taxes: _Rates,
    tax_method: TaxMethod,
    issued_on: date,
    batch: int,
) -> RunSummary:
    """Bill every bill of *lines* (see the module's description). Customers are billed in
    account order, so documents get the numbers :meth:`BillingRun.bill` gives them."""
    writer = _Writer(run, lines, customers, taxes, tax_method, issued_on)
    writer.prepare()
    return bill_written(run, writer, batch)


def bill_written(run: BillingRun, writer: _Writer, batch: int) -> RunSummary:
    """Bill every bill of *writer*'s lines with the rows it writes (see the module's
    description): what :func:`bill_lines` does once it has a writer."""
    lines = writer.lines
    label = lines.period.label
    billed = run.store.period_billed(label, tenant=run.tenant)
    changed, same = _changed(lines, billed, writer.keys)
    outcomes = TableOutcomes(run.store, run.tenant, label, lines.accounts)
    for i in same:
        outcomes.set(i, "unchanged", ())
    _Pipeline(run, writer, set(changed), outcomes).bill(_chunks(len(lines.accounts), same, batch))
    return RunSummary(
        period=label,
        outcomes=outcomes,
        duplicates_dropped=lines.duplicates_dropped,
        corrections_applied=lines.corrections,
    )


def _chunks(count: int, same: Sequence[int], batch: int) -> Iterator[list[int]]:
    """The bills to bill, *batch* at a time (every bill but *same*), made as needed."""
    unchanged = set(same)
    chunk: list[int] = []
    for i in range(count):
        if i not in unchanged:
            chunk.append(i)
            if len(chunk) == batch:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


#: Customers whose documents are rendered at a time for the thread that writes them: a
#: batch's transaction writes its parts as they come, so two parts' rows are held at
#: once (one written, the next rendered), whatever the batch size.
_PART = 1000


class _Parts:
    """The rows of one batch, rendered part by part in the main thread (numbered from
    *first* on) and written, part by part, by the batch's transaction in the writing
    thread: each part is handed over when the writer takes it, so the renderer is one
    part ahead at most.

    The writer :meth:`close` s it when it takes no more parts (the guess was wrong, or
    the batch failed); the renderer :meth:`abandon` s it when it stops giving parts."""

    def __init__(self, first: int) -> None:
        self.first = first
        self._ready = threading.Condition()
        self._waiting: list[_Rows | None] = []  # the part (None: no more) not yet taken
        self._closed = self._abandoned = False

    def give(self, rows: _Rows | None) -> bool:
        """Hand *rows* over (None: there are no more) and wait until the writer takes
        them; False when it takes no more parts."""
        with self._ready:
            self._waiting.append(rows)
            self._ready.notify_all()
            while self._waiting and not self._closed:
                self._ready.wait()
            return not self._closed

    def take(self) -> Iterator[_Rows]:
        """The parts as they come (the writer's side)."""
        while True:
            with self._ready:
                while not self._waiting and not self._abandoned:
                    self._ready.wait()
                if not self._waiting:
                    raise BillingError("the documents of this batch were not all rendered")
                rows = self._waiting.pop()
                self._ready.notify_all()
            if rows is None:
                return
            yield rows

    def close(self) -> None:
        """Take no more parts: let the renderer go on."""
        with self._ready:
            self._closed = True
            self._waiting.clear()
            self._ready.notify_all()

    def abandon(self) -> None:
        """Give no more parts: let the writer go on (and fail the batch)."""
        with self._ready:
            self._abandoned = True
            self._ready.notify_all()


class _Pipeline:
    """Bills batches in order, two steps at once: while one batch is written (in a
    thread: the store's statements and the commit's flush to disk release the GIL), the
    documents of the next are rendered, part by part (:class:`_Parts`), with the
    numbers it will take if nothing else takes numbers of the sequence meanwhile. Each
    batch's transaction checks that (and that none of its customers has a document by
    now); where not, the batch is rendered again inside its transaction, so nothing
    stored depends on the guess. A batch whose predecessor failed writes nothing."""

    def __init__(
        self, run: BillingRun, writer: _Writer, corrected: set[int], outcomes: TableOutcomes
    ) -> None:
        self.run, self.writer, self.corrected, self.outcomes = run, writer, corrected, outcomes

    def bill(self, chunks: Iterable[list[int]]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        store, sequence = self.run.store, self.writer.sequence
        pending: Future[None] | None = None
        guess: int | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="cloudrate-bill") as pool:
            try:
                for chunk in chunks:
                    parts = None
                    if not self.corrected.intersection(chunk):
                        if guess is None:
                            guess = store.sequences().get(sequence, 0) + 1
                        parts = _Parts(guess)
                        guess += len(chunk)
                    before, pending = pending, pool.submit(self.batch, chunk, parts, pending)
                    if parts is not None:
                        self._render(chunk, parts)
                    if before is not None:
                        before.result()
                    if parts is None:  # numbers taken by the object path: read again
                        pending.result()
                        pending, guess = None, None
                if pending is not None:
                    pending.result()
            finally:
                if pending is not None:
                    pending.cancel()

    def _render(self, chunk: list[int], parts: _Parts) -> None:
        """Render *chunk*'s rows, part by part, for its transaction."""
        try:
            for lo in range(0, len(chunk), _PART):
                if not parts.give(self.writer.rows(chunk[lo : lo + _PART], parts.first + lo)):
                    return
            parts.give(None)
        except BaseException:
            parts.abandon()
            raise

    def batch(self, chunk: list[int], parts: _Parts | None, before: Future[None] | None) -> None:
        try:
            if before is not None and (before.cancelled() or before.exception() is not None):
                return  # the run stops at the batch that failed (its error is raised)
            writer, label = self.writer, self.writer.label
            names = [writer.lines.accounts[i] for i in chunk]
            locks = [_lock(n, label) for n in names]
            with self.run.store.transaction(self.run.tenant, locks) as tx:
                _bill_batch(
                    self.run, writer, tx, (chunk, names), self.corrected, self.outcomes, parts
                )
        finally:
            if parts is not None:
                parts.close()


def _bill_batch(
    run: BillingRun,
    writer: _Writer,
    tx: StoreTransaction,
    batch: tuple[list[int], list[str]],
    corrected: set[int],
    outcomes: TableOutcomes,
    parts: _Parts | None = None,
) -> None:
    """Bill *batch* (bills and their customers) in *tx*, in order: runs of customers
    without documents are issued from the columns, one block of numbers a run; those
    with documents (*corrected*, or billed by another run since this one read the
    period) through the object path. *parts* are the rows of the whole batch, as they
    are rendered, if its numbers start at the number given with them."""
    chunk, names = batch
    found = tx.customers_with_documents(writer.label, names)
    fresh: list[int] = []

    def issue() -> None:
        if not fresh:
            return
        first = tx.next_numbers(writer.sequence, len(fresh))
        if parts is not None and parts.first == first and fresh == chunk:
            done = 0
            for rows in parts.take():
                _insert(tx, rows)
                outcomes.set_issued(chunk[done : done + len(rows[3])], rows[3])
                done += len(rows[3])
            assert done == len(chunk), "every part of the batch was given"
        else:
            if parts is not None:
                parts.close()
            rows = writer.rows(fresh, first)
            _insert(tx, rows)
            outcomes.set_issued(fresh, rows[3])
        fresh.clear()

    for i, name in zip(chunk, names, strict=True):
        if i in corrected or name in found:
            issue()
            outcomes.keep(i, run._bill_in(tx, writer.draft(i), writer.day))
        else:
            fresh.append(i)
    issue()


def _insert(tx: StoreTransaction, rows: _Rows) -> None:
    """Store *rows*; the documents' JSON, most of their memory, goes once it is in."""
    docs, billed, events, _ = rows
    tx.insert_batch(docs, (), ())
    docs.clear()
    tx.insert_batch((), billed, events)
