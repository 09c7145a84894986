"""The tax of credit notes: notes that credit a whole invoice give back exactly its tax."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import BillingPeriod, RoundingPolicy
from cloudrate.invoice import (
    CreditNote,
    Customer,
    InMemorySequenceStore,
    Invoice,
    Net,
    Numbering,
    TaxRate,
    _credit,
    apply_taxes,
    assemble,
    invoice_from_dict,
)

from .conftest import bill_of

ISSUED = date(2026, 11, 1)
VAT19 = TaxRate(percent="19")


@attrs.frozen
class _ByCharge:
    """A tax rule that gives each charge its own rate."""

    rates: Mapping[str, TaxRate]

    def rate_for(self, _customer: Customer, line) -> TaxRate | None:
        return self.rates[line.charge]


def _issued(
    amounts: list[str],
    rates: list[TaxRate],
    method: str,
    currency: str = "EUR",
    rounding: RoundingPolicy | None = None,
) -> Invoice:
    rule = _ByCharge({f"c{i}": rate for i, rate in enumerate(rates)})
    draft = assemble(
        bill_of(*amounts, currency=currency),
        Customer(id="acme", name="ACME GmbH"),
        BillingPeriod.month(2026, 10),
        taxes=rule,
        tax_method=method,  # type: ignore[arg-type]
        rounding=rounding,
    )
    return draft.finalise(Numbering(), InMemorySequenceStore(), issued_on=ISSUED, terms=Net(30))


def _credit_in_turn(invoice: Invoice, notes: list[dict[str, str]]) -> Invoice:
    store, numbering = InMemorySequenceStore(), Numbering.credit_notes()
    for amounts in notes:
        _, invoice = invoice.credit(numbering, store, issued_on=ISSUED, amounts=amounts)
    return invoice


def _tax_given_back(invoice: Invoice) -> Decimal:
    return sum((n.tax_total.amount for n in invoice.credit_notes), Decimal(0))


class TestTaxOnTheTotal:
    def test_three_notes_of_one_line_each_settle_the_invoice(self):
        """The reviewer's example: three lines of 0.03 at 19% carry 0.02 of tax on the
        total (0.0171), but each line alone rounds to 0.01. The notes give back 0.01,
        0.00 and 0.01 (the tax of 0.03, 0.06 and 0.09 credited so far, less what the
        earlier notes gave back), so the third fits and the invoice ends at zero due."""
        invoice = _issued(["0.03"] * 3, [VAT19] * 3, "total")
        assert invoice.tax_total.amount == Decimal("0.02")
        done = _credit_in_turn(invoice, [{"c0": "0.03"}, {"c1": "0.03"}, {"c2": "0.03"}])
        taxes = [n.tax_total.amount for n in done.credit_notes]
        assert taxes == [Decimal("0.01"), Decimal("0.00"), Decimal("0.01")]
        assert done.credited == invoice.total
        assert done.amount_due.amount == 0 and done.credit_balance.amount == 0
        assert done.status == "paid"

    def test_a_note_keeps_the_exact_tax_of_its_own_base(self):
        """Only the billed tax follows what was credited before; the note's base and its
        unrounded tax are its own, so the notes' exact taxes add up to the invoice's."""
        invoice = _issued(["0.03"] * 3, [VAT19] * 3, "total")
        done = _credit_in_turn(invoice, [{"c0": "0.03"}, {"c1": "0.03"}, {"c2": "0.03"}])
        second = done.credit_notes[1].taxes[0]
        assert second.base == Money("0.03", "EUR") and second.amount == Money("0.00", "EUR")
        assert second.exact_amount == Money("0.0057", "EUR")
        exact = sum((n.taxes[0].exact_amount.amount for n in done.credit_notes), Decimal(0))
        assert exact == invoice.taxes[0].exact_amount.amount

    def test_partial_amounts_of_one_line_settle_it(self):
        """A line credited a cent at a time gives back the line's share of the tax."""
        invoice = _issued(["0.05"], [VAT19], "total")  # tax 0.0095 -> 0.01
        done = _credit_in_turn(invoice, [{"c0": "0.01"}] * 5)
        assert [n.tax_total.amount for n in done.credit_notes] == [
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("0.01"),  # 0.03 credited: 0.0057 rounds to 0.01
            Decimal("0.00"),
            Decimal("0.00"),
        ]
        assert done.amount_due.amount == 0 and _tax_given_back(done) == invoice.tax_total.amount

    def test_each_rate_is_counted_on_its_own(self):
        """What was credited at one rate does not move the tax of another."""
        seven = TaxRate(percent="7")
        invoice = _issued(["0.03", "0.07", "0.03", "0.07"], [VAT19, seven, VAT19, seven], "total")
        done = _credit_in_turn(
            invoice, [{"c0": "0.03", "c1": "0.07"}, {"c2": "0.03", "c3": "0.07"}]
        )
        by_rate = [{t.rate.percent: t.amount.amount for t in n.taxes} for n in done.credit_notes]
        assert by_rate == [
            {Decimal(19): Decimal("0.01"), Decimal(7): Decimal("0.00")},  # 0.0057, 0.0049
            {Decimal(19): Decimal("0.00"), Decimal(7): Decimal("0.01")},  # 0.0114, 0.0098
        ]
        assert done.amount_due.amount == 0

    def test_the_next_note_is_the_same_after_a_json_round_trip(self):
        """The credited bases and taxes are read from the notes themselves: a stored invoice
        read back gives the next note the same tax (and the JSON form is unchanged)."""
        invoice = _issued(["0.03"] * 3, [VAT19] * 3, "total")
        part = _credit_in_turn(invoice, [{"c0": "0.03"}])
        again = invoice_from_dict(part.to_dict())
        assert again == part
        store = InMemorySequenceStore()
        note, _ = part.credit(
            Numbering.credit_notes(), store, issued_on=ISSUED, amounts={"c1": "0.03"}
        )
        read, _ = again.credit(
            Numbering.credit_notes(),
            InMemorySequenceStore(),
            issued_on=ISSUED,
            amounts={"c1": "0.03"},
        )
        assert read == note and set(note.to_dict()["taxes"][0]) == {
            "rate",
            "base",
            "amount",
            "exact_amount",
        }

    def test_notes_issued_by_the_earlier_rule_are_made_up_for(self):
        """Two notes written before this rule (each taxed on its own line: 0.01 each) left
        0.03 of the 0.11 invoice; the third note now gives back no tax and settles it."""
        invoice = _issued(["0.03"] * 3, [VAT19] * 3, "total")
        old = [_old_rule_note(invoice, f"c{i}", i) for i in range(2)]
        stored = invoice_from_dict(attrs.evolve(invoice, credit_notes=tuple(old)).to_dict())
        done = _credit_in_turn(stored, [{"c2": "0.03"}])
        assert done.credit_notes[-1].tax_total.amount == Decimal("0.00")
        assert _tax_given_back(done) == invoice.tax_total.amount
        assert done.amount_due.amount == 0


def _old_rule_note(invoice: Invoice, charge: str, seq: int) -> CreditNote:
    """A note of *charge*'s whole line taxed on its own, as notes were before."""
    line = next(x for x in invoice.lines if x.charge == charge)
    lines, taxes = apply_taxes([line], "total", invoice.rounding, invoice.currency)
    subtotal = sum((x.amount.amount for x in lines), Decimal("0.00"))
    tax_total = sum((t.amount.amount for t in taxes), Decimal("0.00"))
    return CreditNote(
        number=f"CN-2026-{seq + 1:04}",
        invoice_number=str(invoice.number),
        customer=invoice.customer,
        period=invoice.period,
        currency=invoice.currency,
        issued_on=ISSUED,
        lines=lines,
        taxes=taxes,
        subtotal=Money(subtotal, invoice.currency),
        tax_total=Money(tax_total, invoice.currency),
        total=Money(subtotal + tax_total, invoice.currency),
    )


class TestTaxByLine:
    def test_three_notes_of_one_line_each_give_back_the_lines_taxes(self):
        """By line, each note gives back the line's own rounded tax, as the invoice has it."""
        invoice = _issued(["0.03"] * 3, [VAT19] * 3, "line")
        assert invoice.tax_total.amount == Decimal("0.03")
        done = _credit_in_turn(invoice, [{"c0": "0.03"}, {"c1": "0.03"}, {"c2": "0.03"}])
        assert [n.tax_total.amount for n in done.credit_notes] == [Decimal("0.01")] * 3
        assert done.amount_due.amount == 0

    def test_a_line_credited_in_pieces_gives_back_its_tax(self):
        """A 0.03 line taxed 0.01: three notes of 0.01 each taxed alone gave back 0.00
        each, leaving 0.01 due and nothing left to credit; counted together they give
        back the line's tax when the line is whole."""
        invoice = _issued(["0.03"], [VAT19], "line")
        done = _credit_in_turn(invoice, [{"c0": "0.01"}] * 3)
        assert [n.tax_total.amount for n in done.credit_notes] == [
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("0.01"),  # 0.03 credited: the line's own 0.0057 -> 0.01
        ]
        assert [n.lines[0].tax for n in done.credit_notes] == [
            Money("0.00", "EUR"),
            Money("0.00", "EUR"),
            Money("0.01", "EUR"),
        ]
        assert done.amount_due.amount == 0 and done.credit_balance.amount == 0


# --- the property -----------------------------------------------------------------------

RATES = [
    TaxRate(percent="19"),
    TaxRate(percent="7"),
    TaxRate(percent="20"),
    TaxRate(percent="5.5"),
    TaxRate(percent="8.1"),
    TaxRate(percent="2.1"),
    TaxRate(percent="0", category="Z"),
    TaxRate(name="GST", percent="10"),
]
CURRENCIES = {"EUR": 2, "JPY": 0, "BHD": 3}

#: Line amounts in minor units: one unit, a few, ordinary, and large amounts.
_MINOR_UNITS = st.one_of(
    st.just(1),
    st.integers(1, 9),
    st.integers(1, 10**7),
    st.integers(10**20, 10**27),
)


def _pieces(draw, units: int, most: int) -> list[int]:
    """*units* split into at most *most* random positive parts."""
    count = draw(st.integers(1, min(units, most)))
    if count == 1:
        return [units]
    cuts = draw(st.sets(st.integers(1, units - 1), min_size=count - 1, max_size=count - 1))
    return [b - a for a, b in itertools.pairwise([0, *sorted(cuts), units])]


@st.composite
def _invoices_and_notes(draw, method: str, partial: bool):
    """An invoice of random lines and rates, and its lines given back in random notes;
    with *partial*, lines are credited in pieces too, spread over the notes."""
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    step = Decimal(1).scaleb(-CURRENCIES[currency])
    mode = draw(st.sampled_from(["half_up", "half_even"]))
    units = draw(st.lists(_MINOR_UNITS, min_size=1, max_size=6))
    rates = draw(st.lists(st.sampled_from(RATES), min_size=len(units), max_size=len(units)))
    invoice = _issued(
        [str(n * step) for n in units], rates, method, currency, RoundingPolicy(mode=mode)
    )
    given_back = [
        (f"c{i}", piece)
        for i, n in enumerate(units)
        for piece in _pieces(draw, n, 3 if partial else 1)
    ]
    order = draw(st.permutations(given_back))
    new_note = draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    notes: list[dict[str, int]] = []
    for (charge, piece), starts in zip(order, new_note, strict=True):
        if starts or not notes:
            notes.append({})
        notes[-1][charge] = notes[-1].get(charge, 0) + piece
    return invoice, [{c: str(u * step) for c, u in note.items()} for note in notes]


def _settles(invoice: Invoice, notes: list[dict[str, str]]) -> None:
    """Every note fits (none is refused), each rate's credited tax stays within the
    invoice's, and at the end the notes gave back exactly its tax and nothing is due."""
    invoice_tax = {t.rate.key: t.amount.amount for t in invoice.taxes}
    store, numbering = InMemorySequenceStore(), Numbering.credit_notes()
    done = invoice
    for amounts in notes:
        note, done = done.credit(numbering, store, issued_on=ISSUED, amounts=amounts)
        assert note.total.amount > 0
        step = invoice.rounding.quantum(invoice.currency)
        assert all(0 <= t.amount.amount == t.amount.amount.quantize(step) for t in note.taxes)
        given: dict[tuple[str, str, Decimal], Decimal] = {}
        for n in done.credit_notes:
            for t in n.taxes:
                given[t.rate.key] = given.get(t.rate.key, Decimal(0)) + t.amount.amount
        assert all(0 <= given[k] <= invoice_tax[k] for k in given)
    assert _tax_given_back(done) == invoice.tax_total.amount
    assert done.credited == invoice.total
    assert done.amount_due.amount == 0 and done.credit_balance.amount == 0


@given(_invoices_and_notes("total", partial=True))
def test_notes_crediting_everything_give_back_the_tax_on_the_total(case):
    """Taxed on the total: whole lines and pieces of lines in random notes settle the
    invoice exactly."""
    _settles(*case)


@given(_invoices_and_notes("line", partial=True))
def test_notes_crediting_every_line_give_back_the_tax_by_line(case):
    """Taxed by line: whole lines and pieces of lines in random notes settle the invoice
    exactly."""
    _settles(*case)


@pytest.mark.parametrize("method", ["total", "line"])
def test_after_notes_of_the_earlier_rule_no_tax_is_charged_back(method, monkeypatch):
    """Notes issued before the cumulative rule gave back 0.01 on each 0.03 piece (0.03 for
    0.09 credited, where 0.02 was the tax's share): the next note's tax is 0.00, written in
    minor units, never negative (it was -0.01, or the note was refused)."""
    invoice = _issued(["1.00"], [VAT19], method)
    each_alone = lambda inv, lines: apply_taxes(  # noqa: E731 - the earlier rule
        lines, inv.tax_method, inv.rounding, inv.currency
    )
    monkeypatch.setattr(_credit, "credit_taxes", each_alone)
    invoice = _credit_in_turn(invoice, [{"c0": "0.03"}] * 3)
    monkeypatch.undo()
    note, _ = invoice.credit(
        Numbering.credit_notes(), InMemorySequenceStore(), issued_on=ISSUED, amounts={"c0": "0.02"}
    )
    assert [str(t.amount.amount) for t in note.taxes] == ["0.00"]
    assert note.total.amount == Decimal("0.02")
