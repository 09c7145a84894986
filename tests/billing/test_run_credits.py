"""Billing-run credits found by review: where what shrank is credited, how it is taxed,
and that no invoice is left with a credit balance while money is still due."""

from __future__ import annotations

import decimal
from datetime import date
from decimal import Decimal

import attrs
from moneyed import Money

from cloudrate import load_plan, rate, read_usage, sample_plan_path, sample_usage_path
from cloudrate._money import EXACT
from cloudrate.billing import (
    BillingRun,
    DocumentStore,
    load_invoice,
    pay_now,
    start_payment,
    succeed_payment,
)
from cloudrate.invoice import Invoice, InvoiceLine, TaxRate, apply_taxes, assemble_all
from cloudrate.rating import RatingResult
from cloudrate.rules import PromoCode, PromoDiscount, RuleContext, chain
from cloudrate.usage import UsageRecord

PLAN = load_plan(sample_plan_path())
USAGE = tuple(read_usage(sample_usage_path()))
VCPU = next(r for r in USAGE if r.metric == "vcpu_hours" and r.account == "acme")
BASE = assemble_all(rate(PLAN, USAGE), accounts=["acme"])[0]
PROMO = chain(PromoDiscount(PromoCode(code="P-AAAAAA", percent=10, charges={"compute"})))


def _draft(lines: dict[str, tuple[str, str]], tax: str | None = None) -> Invoice:
    """acme's October draft with *lines* (``kind:charge`` -> amount, quantity)."""
    built = []
    for key, (amount, quantity) in lines.items():
        kind, charge = key.split(":")
        money = Money(Decimal(amount), "EUR")
        built.append(
            InvoiceLine(
                charge=charge,
                kind=kind,
                description=charge,
                quantity=Decimal(quantity),
                unit="u",
                amount=money,
                exact_amount=money,
                tax_rate=None if tax is None else TaxRate(percent=tax),
            )
        )
    taxed, taxes = apply_taxes(built, "total", BASE.rounding, "EUR")
    subtotal = sum((x.amount.amount for x in taxed), Decimal("0.00"))
    tax_total = sum((t.amount.amount for t in taxes), Decimal("0.00"))
    return attrs.evolve(
        BASE,
        lines=taxed,
        taxes=taxes,
        tax_method="total",
        subtotal=Money(subtotal, "EUR"),
        tax_total=Money(tax_total, "EUR"),
        total=Money(subtotal + tax_total, "EUR"),
    )


def _state(store: DocumentStore) -> dict[str, tuple[Decimal, Decimal]]:
    """Each invoice's amount due and credit balance."""
    out = {}
    for d in store.documents(customer="acme"):
        if d.kind != "credit_note":
            live = load_invoice(store, d.number)
            out[d.number] = (live.amount_due.amount, live.credit_balance.amount)
    return out


def _promoted(usage: tuple[UsageRecord, ...]) -> RatingResult:
    result = rate(PLAN, usage)
    return PROMO.apply_result(result, RuleContext.for_result(result))


def test_a_discount_grown_with_new_usage_comes_off_that_usage_s_supplementary(
    store: DocumentStore,
) -> None:
    """A 10% promotion and 300,000 late vCPU-hours: the promotion's growth is taken off
    the supplementary invoice that bills them (it credited the period's invoice past its
    total, leaving a credit balance while the supplementary was due)."""
    run = BillingRun(store=store)
    run.bill(_promoted(USAGE), accounts=["acme"])
    late = (*USAGE, attrs.evolve(VCPU, record_id="late", quantity=Decimal(300000)))
    (extra,) = run.bill(_promoted(late), accounts=["acme"]).documents
    assert extra.kind == "supplementary"
    assert any(b.amount < 0 for b in extra.billed)  # the promotion's growth, taken off
    (wanted,) = assemble_all(_promoted(late), accounts=["acme"])
    state = _state(store)
    assert all(balance == 0 for _, balance in state.values())
    assert sum(due for due, _ in state.values()) == wanted.total.amount


def test_a_discount_gone_with_its_usage_leaves_nothing_due_and_no_credit_balance(
    store: DocumentStore,
) -> None:
    run = BillingRun(store=store)
    run.bill_invoice(
        _draft({"charge:compute": ("10.00", "100"), "discount:promo": ("-5.00", "1")}),
        issued_on=date(2026, 11, 1),
    )
    run.bill_invoice(_draft({"charge:compute": ("0.00", "0")}), issued_on=date(2026, 11, 2))
    assert all(state == (0, 0) for state in _state(store).values())


def test_a_credit_split_on_a_quantity_of_sixty_decimals_is_issued(
    store: DocumentStore,
) -> None:
    """Quantities as rating gives them (11/31 of a month, 60 digits) split between two
    invoices: the shares were quantized beyond the context's precision
    (decimal.InvalidOperation, on every rerun)."""
    q1, q3 = EXACT.divide(Decimal(11), Decimal(31)), EXACT.divide(Decimal(1), Decimal(31))
    assert len(q1.as_tuple().digits) == 60
    run = BillingRun(store=store)
    other = {"charge:mem": ("0.50", "1"), "discount:promo": ("-1.00", "1")}
    run.bill_invoice(
        _draft({"charge:lic": ("4.26", str(q1)), **other}), issued_on=date(2026, 11, 1)
    )
    (extra,) = run.bill_invoice(
        _draft({"charge:lic": ("8.52", str(EXACT.multiply(2, q1))), **other}),
        issued_on=date(2026, 11, 2),
    ).documents
    pay_now(store, extra.number, key="paid", on=date(2026, 11, 3))
    succeed_payment(store, "paid", on=date(2026, 11, 3))
    last = _draft({"charge:lic": ("0.50", str(q3)), **other})
    notes = run.bill_invoice(last, issued_on=date(2026, 11, 4)).documents
    assert notes and {n.kind for n in notes} == {"credit_note"}
    with decimal.localcontext(EXACT):
        credited = sum((b.quantity for n in notes for b in n.billed if b.line == "charge:lic"), 0)
    assert credited.copy_negate() == EXACT.subtract(EXACT.multiply(2, q1), q3)
    assert run.bill_invoice(last, issued_on=date(2026, 11, 5)).documents == ()


def test_a_partly_paid_invoice_is_credited_after_an_open_one(store: DocumentStore) -> None:
    run = BillingRun(store=store)
    (first,) = run.bill_invoice(
        _draft({"charge:compute": ("100.00", "100")}), issued_on=date(2026, 11, 1)
    ).documents
    (extra,) = run.bill_invoice(
        _draft({"charge:compute": ("150.00", "150")}), issued_on=date(2026, 11, 2)
    ).documents
    start_payment(store, extra.number, key="part", amount="40.00", on=date(2026, 11, 3))
    succeed_payment(store, "part", on=date(2026, 11, 3))
    (note,) = run.bill_invoice(
        _draft({"charge:compute": ("100.00", "100")}), issued_on=date(2026, 11, 4)
    ).documents
    assert note.refers_to == first.number
    assert _state(store) == {
        first.number: (Decimal("50.00"), 0),
        extra.number: (Decimal("10.00"), 0),
    }


def test_a_credit_note_is_taxed_at_the_rate_its_invoice_billed(store: DocumentStore) -> None:
    """The invoice billed 19%; the draft now says 20%: the note gives back 19% (it gave
    back 20%, leaving the invoice with a credit balance)."""
    run = BillingRun(store=store)
    (first,) = run.bill_invoice(
        _draft({"charge:compute": ("100.00", "100")}, tax="19"), issued_on=date(2026, 11, 1)
    ).documents
    (note,) = run.bill_invoice(
        _draft({"charge:compute": ("0.01", "1")}, tax="20"), issued_on=date(2026, 11, 2)
    ).documents
    assert note.total == Decimal("118.99")  # 99.99 + 19% of it, 19.00
    assert _state(store) == {first.number: (Decimal("0.01"), 0)}
