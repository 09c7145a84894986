"""The difference between what a period should bill and what its documents billed.

Amounts are compared per line key, ``kind:charge`` (``charge:vcpu``, ``discount:promo``),
on the rounded net amounts the documents carry. A key whose amount grew goes onto a
supplementary invoice, one that shrank (or vanished) onto a credit note; a key whose amount
is unchanged needs nothing, whatever its quantity did.

What shrank is given back against the invoices that billed it (:func:`credit_targets`):
those still to be paid first, the newest first; late usage withdrawn is credited on the
supplementary invoice that billed it, and no invoice is credited more than it still
bills, on the key or in all.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal

import attrs
from moneyed import Money

from cloudrate._money import exact
from cloudrate.invoice import InvoiceLine

from ._stored import BilledLine, StoredDocument

__all__ = ["Credits", "Delta", "billed_lines", "credit_targets", "delta", "line_key"]


def line_key(line: InvoiceLine) -> str:
    """The key a line is billed under: its kind and charge (``charge:vcpu``)."""
    return f"{line.kind}:{line.charge}"


@exact
def billed_lines(lines: Iterable[InvoiceLine], sign: int = 1) -> tuple[BilledLine, ...]:
    """Net amount and quantity per key of *lines* (times *sign*), sorted by key."""
    amounts: dict[str, Decimal] = {}
    quantities: dict[str, Decimal] = {}
    for line in lines:
        key = line_key(line)
        amounts[key] = amounts.get(key, Decimal(0)) + sign * line.amount.amount
        quantities[key] = quantities.get(key, Decimal(0)) + sign * line.quantity
    return tuple(BilledLine(k, amounts[k], quantities[k]) for k in sorted(amounts))


@attrs.frozen
class Delta:
    """The lines still to bill (*more*, positive amounts) and to give back (*less*, amounts
    as credited, positive)."""

    more: tuple[InvoiceLine, ...]
    less: tuple[InvoiceLine, ...]

    @property
    def unchanged(self) -> bool:
        return not self.more and not self.less


def _difference(
    template: InvoiceLine,
    change: Decimal,
    quantity: Decimal,
    was: Decimal,
    now: Decimal,
    numbers: str,
) -> InvoiceLine:
    """The line of a correction: *change* is signed, the line carries its size."""
    money = Money(abs(change), template.amount.currency.code)
    return attrs.evolve(
        template,
        quantity=quantity,
        unit_price=None,
        amount=money,
        exact_amount=money,
        tax=None,
        explanation=(
            f"{numbers} billed {was} for this line; the period's usage now comes to {now}; "
            f"this document {'adds' if change > 0 else 'gives back'} the difference"
        ),
    )


@exact
def delta(
    current: Sequence[InvoiceLine],
    billed: Iterable[BilledLine],
    templates: Sequence[InvoiceLine],
    numbers: str,
) -> Delta:
    """What to issue so the period's documents add up to *current*.

    *billed* is what the documents so far bill per key, *templates* their lines (to
    describe a key that is gone from *current*), *numbers* their numbers for the
    explanation.
    """
    was_amount: dict[str, Decimal] = {}
    was_quantity: dict[str, Decimal] = {}
    for b in billed:
        was_amount[b.line] = was_amount.get(b.line, Decimal(0)) + b.amount
        was_quantity[b.line] = was_quantity.get(b.line, Decimal(0)) + b.quantity
    now = {b.line: b for b in billed_lines(current)}
    shape: dict[str, InvoiceLine] = {line_key(x): x for x in templates}
    shape.update({line_key(x): x for x in current})
    more: list[InvoiceLine] = []
    less: list[InvoiceLine] = []
    for key in [*now, *(k for k in was_amount if k not in now)]:
        amount_now = now[key].amount if key in now else Decimal(0)
        quantity_now = now[key].quantity if key in now else Decimal(0)
        was = was_amount.get(key, Decimal(0))
        change = amount_now - was
        if change == 0:
            continue
        quantity = quantity_now - was_quantity.get(key, Decimal(0))
        line = _difference(
            shape[key],
            change,
            quantity if change > 0 else -quantity,
            was,
            amount_now,
            numbers,
        )
        (more if change > 0 else less).append(line)
    return Delta(tuple(more), tuple(less))


def _open(
    documents: Sequence[StoredDocument],
) -> dict[str, dict[str, tuple[Decimal, Decimal]]]:
    """Per invoice number, per key, the amount and quantity it still bills: its own,
    less the credit notes referring to it."""
    out: dict[str, dict[str, tuple[Decimal, Decimal]]] = {
        d.number: {} for d in documents if d.kind != "credit_note"
    }
    for d in documents:
        lines = out.get(d.number if d.kind != "credit_note" else d.refers_to or "")
        if lines is None:
            continue
        for b in d.billed:
            amount, quantity = lines.get(b.line, (Decimal(0), Decimal(0)))
            lines[b.line] = (amount + b.amount, quantity + b.quantity)
    return out


@exact
def credit_targets(
    less: Sequence[InvoiceLine],
    documents: Sequence[StoredDocument],
    settled: Collection[str] = (),
    absorb: Decimal = Decimal(0),
) -> Credits:
    """The credit notes to issue for *less*: per invoice of *documents* (the period's
    documents, by revision), the lines to credit on it, oldest invoice first.

    Each key is given back against the invoices that still bill it, each at most what it
    still bills on the key and in all; invoices still to be paid first, those *settled*
    (paid in full or in part, or with a payment under way) last, the newest first in
    each. A line shared between invoices says so. What no invoice bills on the key (a
    discount that grew) is taken off the supplementary invoice the same run issues, up
    to *absorb* (its net; :attr:`Credits.beyond`), then goes to the invoices whose totals
    still have room, in the same order; the period's invoice takes any rest.
    """
    invoices = [d for d in documents if d.kind != "credit_note"]
    order = sorted(invoices, key=lambda d: (d.number in settled, -d.revision))
    still = _open(documents)
    left = {d.number: sum((a for a, _ in still[d.number].values()), Decimal(0)) for d in invoices}
    parts: dict[str, list[InvoiceLine]] = {d.number: [] for d in invoices}
    beyond: list[InvoiceLine] = []
    for line in less:
        key = line_key(line)
        room = {
            d.number: min(still[d.number].get(key, (Decimal(0),))[0], left[d.number]) for d in order
        }
        shares = _shares(line.amount.amount, [(d.number, room[d.number]) for d in order])
        # what no invoice bills on the key: off the supplementary invoice of the same run
        taken = min(line.amount.amount - sum(shares.values(), Decimal(0)), absorb)
        absorb -= taken
        shares = _shares(
            line.amount.amount - taken - sum(shares.values(), Decimal(0)),
            [(d.number, left[d.number] - shares.get(d.number, Decimal(0))) for d in order],
            shares,
        )
        owed = line.amount.amount - taken - sum(shares.values(), Decimal(0))
        if owed > 0:  # more than the invoices bill in all: the period's invoice takes it
            first = invoices[0].number
            shares[first] = shares.get(first, Decimal(0)) + owed
        if taken > 0:
            shares[_BEYOND] = taken
        for number, part in _with_quantities(line, shares, still, key):
            if number == _BEYOND:
                beyond.append(part)
                continue
            left[number] -= part.amount.amount
            parts[number].append(part)
    notes = tuple((d, tuple(parts[d.number])) for d in invoices if parts[d.number])
    return Credits(notes=notes, beyond=tuple(beyond))


#: The share of a credit line taken off the same run's supplementary invoice.
_BEYOND = ""


@attrs.frozen
class Credits:
    """The credit notes to issue (*notes*: each invoice with its lines) and the parts of
    lines no invoice has room for, to take off the same run's supplementary invoice
    (*beyond*, amounts as credited)."""

    notes: tuple[tuple[StoredDocument, tuple[InvoiceLine, ...]], ...]
    beyond: tuple[InvoiceLine, ...] = ()


def _shares(
    amount: Decimal,
    rooms: Sequence[tuple[str, Decimal]],
    into: dict[str, Decimal] | None = None,
) -> dict[str, Decimal]:
    """*amount* shared over *rooms* in their order, each taking at most its room, added
    to *into*."""
    out = {} if into is None else into
    for number, room in rooms:
        if amount <= 0:
            break
        if room > 0:
            take = min(room, amount)
            out[number] = out.get(number, Decimal(0)) + take
            amount -= take
    return out


def _with_quantities(
    line: InvoiceLine,
    shares: dict[str, Decimal],
    still: dict[str, dict[str, tuple[Decimal, Decimal]]],
    key: str,
) -> list[tuple[str, InvoiceLine]]:
    """*line* cut into *shares*: an invoice's whole amount on the key takes its quantity,
    a part of it the line's quantity in proportion; the last share the rest, so the parts
    add up to the line's amount and quantity."""
    if len(shares) == 1:
        [number] = shares
        return [(number, line)]
    out = []
    quantity = line.quantity
    for n, (number, amount) in enumerate(shares.items()):
        if n == len(shares) - 1:
            share_quantity = quantity
        else:
            billed, billed_quantity = still[number].get(key, (Decimal(0), Decimal(0)))
            if amount == billed:
                share_quantity = billed_quantity
            else:
                share_quantity = line.quantity * amount / line.amount.amount  # 60 digits
        quantity -= share_quantity
        out.append((number, _share(line, number, amount, share_quantity)))
    return out


def _share(line: InvoiceLine, number: str, amount: Decimal, quantity: Decimal) -> InvoiceLine:
    """The part of credit *line* given back against invoice *number* (taken off this
    run's supplementary invoice: :data:`_BEYOND`)."""
    money = Money(amount, line.amount.currency.code)
    where = f"against {number}" if number != _BEYOND else "off this run's supplementary invoice"
    return attrs.evolve(
        line,
        quantity=quantity,
        amount=money,
        exact_amount=money,
        explanation=f"{line.explanation}; {amount} of it {where}",
    )
