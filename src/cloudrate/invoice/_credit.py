"""Credit notes: give back all or part of an issued invoice, numbered in their own series.

A note's tax follows the invoice's tax method. By line, each credited line carries the
tax of all credited on its line so far, this part included, less what earlier notes gave
back on it: parts that credit a whole line give back exactly its tax. On the total, a
rate's tax is the tax of everything credited at that rate so far, this note included,
less what earlier notes gave back at it: notes that credit the whole invoice give back
exactly its tax, and partial notes never more.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
from moneyed import Money

from cloudrate._money import check_money, exact, to_decimal
from cloudrate.exceptions import InvoiceError, InvoiceStateError

from ._credit_note import CreditNote
from ._dates import checked_date
from ._model import InvoiceLine, TaxLine, TaxRate
from ._sums import add_up, zero
from ._taxes import apply_taxes

if TYPE_CHECKING:
    from ._invoice import Invoice
    from ._numbering import Numbering, SequenceStore

__all__ = ["credit", "credit_taxes"]


def _credited_line(line: InvoiceLine, value: Decimal, invoice: Invoice) -> InvoiceLine:
    amount = Money(value, invoice.currency)
    if value == line.amount.amount:
        return attrs.evolve(
            line,
            exact_amount=amount,
            tax=None,
            explanation=f"reverses line {line.charge!r} of {invoice.number}",
        )
    return attrs.evolve(
        line,
        quantity=Decimal(1),
        unit="credit",
        unit_price=None,
        amount=amount,
        exact_amount=amount,
        tax=None,
        explanation=f"{value} of {line.amount.amount} on line {line.charge!r} of {invoice.number}",
    )


def _credited_before(invoice: Invoice, charge: str) -> Decimal:
    """What the invoice's credit notes so far gave back on the line of *charge*."""
    given = (x.amount.amount for n in invoice.credit_notes for x in n.lines if x.charge == charge)
    return sum(given, Decimal(0))


def _taxed_before(invoice: Invoice, rate: TaxRate) -> tuple[Decimal, Decimal]:
    """The base and the tax the invoice's credit notes so far gave back at *rate*."""
    earlier = [t for n in invoice.credit_notes for t in n.taxes if t.rate.key == rate.key]
    base = sum((t.base.amount for t in earlier), Decimal(0))
    return base, sum((t.amount.amount for t in earlier), Decimal(0))


def _not_below_zero(invoice: Invoice, tax: Decimal) -> Decimal:
    """*tax*, or a zero of the invoice's minor units when it is below zero (notes of the
    earlier rule, each piece taxed alone, may have given back more: nothing is charged
    back on a credit note)."""
    return tax if tax >= 0 else invoice.rounding.round(Decimal(0), invoice.currency)


def _on_the_total(invoice: Invoice, taxes: tuple[TaxLine, ...]) -> tuple[TaxLine, ...]:
    """*taxes* (each rated on the note's own base) billed on the total: each rate's tax
    is that of its base credited so far, this note's included, less the tax credited
    before; base and exact tax stay the note's own."""
    out = []
    for tax in taxes:
        base_before, tax_before = _taxed_before(invoice, tax.rate)
        so_far = (base_before + tax.base.amount) * tax.rate.percent / 100
        owed = _not_below_zero(
            invoice, invoice.rounding.round(so_far, invoice.currency) - tax_before
        )
        out.append(attrs.evolve(tax, amount=Money(owed, invoice.currency)))
    return tuple(out)


@exact
def credit_taxes(
    invoice: Invoice, lines: Sequence[InvoiceLine]
) -> tuple[tuple[InvoiceLine, ...], tuple[TaxLine, ...]]:
    """*lines* to give back on *invoice*, taxed as a credit note against it is: at each
    line's rate with the invoice's tax method and rounding; on the total, counting what
    the invoice's credit notes so far gave back at the rate (see the module's text)."""
    taxed, taxes = apply_taxes(lines, invoice.tax_method, invoice.rounding, invoice.currency)
    if invoice.tax_method == "total":
        return taxed, _on_the_total(invoice, taxes)
    return _by_line(invoice, taxed, taxes)


def _by_line(
    invoice: Invoice, lines: tuple[InvoiceLine, ...], taxes: tuple[TaxLine, ...]
) -> tuple[tuple[InvoiceLine, ...], tuple[TaxLine, ...]]:
    """*lines* (each with its own rounded tax) taxed as parts of the invoice's lines: a
    line's tax is that of all credited on it so far, this part included, less the tax
    earlier notes gave back on it, so parts crediting a whole line give back its tax;
    each rate's tax the sum of its lines'."""
    cur = invoice.currency
    out = []
    per_rate: dict[tuple[str, str, Decimal], Decimal] = {}
    for line in lines:
        rate = line.tax_rate
        if rate is None or line.tax is None:
            out.append(line)
            continue
        before = [x for n in invoice.credit_notes for x in n.lines if x.charge == line.charge]
        base = _credited_before(invoice, line.charge) + line.amount.amount
        given = sum((x.tax.amount for x in before if x.tax is not None), Decimal(0))
        owed = _not_below_zero(
            invoice, invoice.rounding.round(base * rate.percent / 100, cur) - given
        )
        out.append(attrs.evolve(line, tax=Money(owed, cur)))
        per_rate[rate.key] = per_rate.get(rate.key, Decimal(0)) + owed
    return tuple(out), tuple(
        attrs.evolve(t, amount=Money(per_rate.get(t.rate.key, Decimal(0)), cur)) for t in taxes
    )


def _given(
    invoice: Invoice, line: InvoiceLine, where: str, given: Money | Decimal | str
) -> Decimal:
    """The net amount to give back on *line*: in the invoice currency, above 0, at most
    what earlier credit notes left of the line's amount and in whole settlement steps (the
    invoice's rounding policy: the currency's minor units unless it was rated with other
    digits); a Money built from a float is refused."""
    if isinstance(given, Money):
        if given.currency.code != invoice.currency:
            raise InvoiceError(f"{where} is in {given.currency.code}, not {invoice.currency}")
        value = check_money(given, where, error=InvoiceError).amount
    else:
        value = to_decimal(given, where)
    quantum = invoice.rounding.quantum(invoice.currency)
    before = _credited_before(invoice, line.charge)
    left = line.amount.amount - before
    if not Decimal(0) < value <= left or value != value.quantize(quantum):
        earlier = f" ({before} of it credited before)" if before else ""
        raise InvoiceError(
            f"{where}: must be above 0, at most the {left} left of the line's "
            f"{line.amount.amount}{earlier} and in steps of {quantum} (got {value})"
        )
    return value


def _lines(
    invoice: Invoice,
    amounts: Mapping[str, Money | Decimal | str] | None,
) -> list[InvoiceLine]:
    if amounts is None:
        return [_credited_line(x, x.amount.amount, invoice) for x in invoice.lines]
    by_charge = {x.charge: x for x in invoice.lines}
    out = []
    for charge, given in amounts.items():
        line = by_charge.get(charge)
        if line is None:
            raise InvoiceError(
                f"credit amounts[{charge!r}]: invoice {invoice.number} has no "
                f"such line; its lines are {', '.join(by_charge)}"
            )
        value = _given(invoice, line, f"credit amounts[{charge!r}]", given)
        out.append(_credited_line(line, value, invoice))
    return out


def _refused(where: str, text: str, value: object, fix: str) -> InvoiceError:
    """The error for the credit argument *where*: what it takes (*text*), *value*, *fix*."""
    return InvoiceError.refusing(where, text, value, fix, where=f"credit {where}")


def _check_arguments(
    invoice: Invoice,
    numbering: object,
    store: object,
    amounts: object,
    reason: object,
    tenant: object,
) -> None:
    """Refuse arguments of a type :func:`credit` cannot use, before any is used."""
    if amounts is not None and not isinstance(amounts, Mapping):
        charge = invoice.lines[0].charge if invoice.lines else "compute"
        raise _refused(
            "amounts",
            f"a mapping of charge name to the net amount to give back, such as "
            f"{{{charge!r}: '10.00'}}, or None to credit every line",
            amounts,
            "pass a dict (dict(pairs) makes one of a list of pairs)",
        )
    if amounts is not None and not amounts:
        raise _refused(
            "amounts",
            "at least one charge with the net amount to give back, or None to credit every line",
            amounts,
            "name the lines to credit, or leave amounts out",
        )
    if reason is not None and not isinstance(reason, str):
        raise _refused("reason", "text or None", reason, "pass the reason as a str")
    if not isinstance(tenant, str) or not tenant.strip():
        raise _refused(
            "tenant",
            "the tenant whose credit-note sequence numbers the note, a non-empty string "
            "such as 'default'",
            tenant,
            "pass the tenant the invoice was numbered for",
        )
    swapped = callable(getattr(numbering, "allocate", None)) and callable(
        getattr(store, "next", None)
    )
    hint = "; numbering and store swapped? numbering comes first" if swapped else ""
    if not callable(getattr(numbering, "next", None)):
        raise _refused(
            "numbering",
            "a Numbering",
            numbering,
            f"pass Numbering.credit_notes() or your credit-note Numbering{hint}",
        )
    if not callable(getattr(store, "allocate", None)):
        raise _refused(
            "store",
            "a SequenceStore (an object with allocate(key, document))",
            store,
            f"pass the store the invoice was numbered from, e.g. InMemorySequenceStore(){hint}",
        )


def _check_creditable(invoice: Invoice, issued_on: date) -> tuple[str, date]:
    """The invoice's number and the checked issue date of a note against it."""
    if invoice.state != "issued" or invoice.number is None:
        raise InvoiceStateError(
            f"only an issued invoice can be credited (this one is "
            f"{invoice.state}); void a draft instead"
        )
    issued_on = checked_date(issued_on, "credit note issued_on")
    if invoice.issued_on is not None and issued_on < invoice.issued_on:
        raise InvoiceError(
            f"credit note date {issued_on} is before the invoice's {invoice.issued_on}"
        )
    return invoice.number, issued_on


def _totals(
    invoice: Invoice, lines: tuple[InvoiceLine, ...], taxes: tuple[TaxLine, ...]
) -> tuple[Money, Money, Money]:
    """Subtotal, tax total and total of a note; refused when it would credit more than is
    left of the invoice's total."""
    cur = invoice.currency
    start = zero(invoice.rounding, cur)
    subtotal = add_up((x.amount for x in lines), cur, start)
    tax_total = add_up((t.amount for t in taxes), cur, start)
    total = subtotal.amount + tax_total.amount
    room = invoice.total.amount - invoice.credited.amount
    if total <= 0 or total > room:
        raise InvoiceError(
            f"a credit note of {total} {cur} does not fit invoice {invoice.number}: "
            f"{room} {cur} of its total {invoice.total.amount} is left to credit"
        )
    return subtotal, tax_total, Money(total, cur)


def _document(invoice_number: str, count: int, lines: Sequence[InvoiceLine]) -> str:
    """The sequence document of a note: the invoice, the note's place among its notes and a
    digest of what it credits. A retry of the same note (same invoice state, same amounts)
    gets its number back; a different note from the same state (a stale copy of the
    invoice) is a different document and never shares that number.
    """
    credited = [[x.charge, str(x.amount.amount)] for x in lines]
    digest = hashlib.sha256(json.dumps(credited).encode("utf-8")).hexdigest()[:16]
    return f"{invoice_number}/credit-{count}/{digest}"


@exact
def credit(
    invoice: Invoice,
    numbering: Numbering,
    store: SequenceStore,
    *,
    issued_on: date,
    amounts: Mapping[str, Money | Decimal | str] | None = None,
    reason: str | None = None,
    tenant: str = "default",
) -> tuple[CreditNote, Invoice]:
    """Issue a credit note against *invoice*: all its lines, or *amounts* per charge (net,
    taxed at the line's rate with the invoice's tax method; on the total, counting what
    earlier notes credited at the rate). The credit notes of an invoice never exceed its
    total. The number is taken last, after every check; crediting the same invoice state
    with the same amounts again (a retry) gives the same number."""
    invoice_number, issued_on = _check_creditable(invoice, issued_on)
    _check_arguments(invoice, numbering, store, amounts, reason, tenant)
    lines, taxes = credit_taxes(invoice, _lines(invoice, amounts))
    subtotal, tax_total, total = _totals(invoice, lines, taxes)
    document = _document(invoice_number, len(invoice.credit_notes) + 1, lines)
    number = numbering.next(store, on=issued_on, document=document, tenant=tenant)
    note = CreditNote(
        number=number,
        invoice_number=invoice_number,
        customer=invoice.customer,
        period=invoice.period,
        currency=invoice.currency,
        issued_on=issued_on,
        lines=lines,
        taxes=taxes,
        subtotal=subtotal,
        tax_total=tax_total,
        total=total,
        reason=reason,
    )
    return note, attrs.evolve(invoice, credit_notes=(*invoice.credit_notes, note))
