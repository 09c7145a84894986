"""Every money entry has the currency's minor units or goes through the rounding policy,
so every issued invoice is payable (issue 12, group 1)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate._money import check_money, currency_digits, float_noise
from cloudrate.accounts import Ledger, MemoryLedgerStore, RechargeLimits
from cloudrate.billing import SQLiteDocumentStore, pay_now
from cloudrate.billing._payments import _amount
from cloudrate.exceptions import (
    BillingError,
    CloudrateError,
    InvoiceError,
    PlanError,
    WalletError,
)
from cloudrate.invoice import Customer, InMemorySequenceStore, Net, Numbering, TaxRate, assemble
from cloudrate.rules import FixedPayment, PromoCode, PromoDiscount, RuleContext, adjustment, chain

T0 = datetime(2026, 10, 1, tzinfo=UTC)
T1 = datetime(2026, 10, 2, tzinfo=UTC)
AT = datetime(2026, 11, 1, 9, tzinfo=UTC)
CURRENCIES = ("EUR", "JPY", "BHD", "USD")


def fine(max_places: int = 8, max_value: int = 10**9) -> st.SearchStrategy[Decimal]:
    """Positive decimals down to *max_places* decimals and up to *max_value*."""
    return st.builds(
        lambda units, places: Decimal(units).scaleb(-places),
        st.integers(1, max_value * 10**max_places),
        st.integers(0, max_places),
    ).filter(lambda d: d < max_value)


def quantum_of(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_digits(currency))


def has_minor_units(amount: Money) -> bool:
    """Whether *amount* is a whole number of its currency's minor units (Babel's digits)."""
    return amount.amount == amount.amount.quantize(quantum_of(amount.currency.code))


def plan_in(currency: str, unit_price: Decimal, storage: Decimal | None = None) -> cloudrate.Plan:
    return cloudrate.load_plan(
        {
            "name": "entries",
            "currency": currency,
            "charges": [
                {"name": "compute", "metric": "vcpu_hours", "model": "per_unit",
                 "unit_price": unit_price},
                {"name": "storage", "metric": "gb_hours", "model": "per_unit",
                 "unit_price": unit_price if storage is None else storage},
            ],
        }
    )  # fmt: skip


class Goodwill:
    """A host's own rule: a credit of any exact amount, with a pre-rounded figure the rule
    computed itself (both with more decimals than the currency has)."""

    def __init__(self, amount: Decimal) -> None:
        self.amount = amount

    def lines(self, bill, context):
        return (
            adjustment(
                bill,
                context,
                charge="goodwill",
                description="Goodwill",
                amount=-self.amount,
                rounded=-self.amount,
                kind="credit",
            ),
        )


@st.composite
def billed(draw):
    """A rated bill with promo codes, a fixed payment, a goodwill adjustment and a tax, all
    drawn down to 8 decimals and up to a billion, in currencies of 0, 2 and 3 digits."""
    currency = draw(st.sampled_from(CURRENCIES))
    prices = draw(fine(8, 10**4)), draw(fine(8, 10))
    quantities = [draw(fine(6, 10**5)), draw(fine(6, 10**5))]
    plan = plan_in(currency, *prices)
    usage = [
        cloudrate.UsageRecord(account="acme", metric=m, quantity=q, start=T0, end=T1)
        for m, q in zip(("vcpu_hours", "gb_hours"), quantities, strict=True)
    ]
    result = cloudrate.rate(plan, usage)
    rules = []
    percent = draw(st.none() | fine(6, 100).filter(lambda p: p <= 100))
    if percent is not None:
        rules.append(PromoDiscount(PromoCode(code="PCT", percent=percent)))
    fixed = draw(st.none() | fine(6, 10**9))
    if fixed is not None:
        if fixed == fixed.quantize(quantum_of(currency)):
            rules.append(PromoDiscount(PromoCode(code="FIX", fixed=Money(fixed, currency))))
        else:  # refused unless it has the currency's minor units
            with pytest.raises(PlanError, match=f"fixed: .* minor units of {currency}"):
                PromoCode(code="FIX", fixed=Money(fixed, currency))
    fee = draw(st.none() | fine(6, 10**6))
    if fee is not None:
        try:
            rules.append(FixedPayment(amount=Money(fee, currency), overage_billed=True))
        except PlanError:
            assert fee != fee.quantize(quantum_of(currency))
    credit = draw(st.none() | fine(8, 10**3))
    if credit is not None:
        rules.append(Goodwill(credit))
    bill = chain(*rules).apply(result.bill("acme"), RuleContext.for_result(result, usage))
    tax = draw(fine(6, 100).filter(lambda p: p <= 100))
    return result, bill, TaxRate(percent=tax)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(billed())
def test_every_issued_invoice_is_payable(case):
    """Whatever the promo amounts and percentages, adjustments and tax rates (down to 8
    decimals, up to large values), every line, the total and the amount due of the issued
    invoice have the currency's minor units, and Pay Now takes it."""
    result, bill, tax = case
    invoice = assemble(
        bill, Customer(id="acme", name="ACME"), result.period, taxes=tax, rounding=result.rounding
    )
    issued = invoice.finalise(
        Numbering(), InMemorySequenceStore(), issued_on=date(2026, 11, 1), terms=Net(30)
    )
    assert all(has_minor_units(x.amount) for x in issued.lines)
    assert all(has_minor_units(t.amount) for t in issued.taxes)
    assert has_minor_units(issued.total) and has_minor_units(issued.amount_due)
    if issued.amount_due.amount > 0:
        assert _amount(None, issued) == issued.amount_due.amount  # the portal's Pay Now
        assert _amount(issued.amount_due, issued) == issued.amount_due.amount
        assert issued.pay_now(date(2026, 11, 2)).status == "paid"


def test_pay_now_through_the_store(tmp_path):
    """The whole path: a fixed promo with the currency's minor units, billed, paid."""
    plan = plan_in("EUR", Decimal("0.0125"))
    usage = [
        cloudrate.UsageRecord(
            account="acme", metric="vcpu_hours", quantity=Decimal(2000), start=T0, end=T1
        )
    ]
    result = cloudrate.rate(plan, usage)
    promo = PromoDiscount(PromoCode(code="WELCOME", fixed=Money("0.05", "EUR")))
    bill = promo.lines(result.bill("acme"), RuleContext.for_result(result, usage))
    assert bill[0].rounded == Money("-0.05", "EUR")
    from cloudrate.billing import BillingRun

    with SQLiteDocumentStore(tmp_path / "billing.db") as store:
        run = BillingRun(store=store)
        summary = run.bill(result)
        number = summary.documents[0].number
        attempt = pay_now(store, number, key="click-1", on=date(2026, 11, 2))
        assert attempt.amount == Decimal("25.00")


@pytest.mark.parametrize(
    ("fixed", "fix"),
    [("0.050001", "0.05 or 0.06"), ("33.325", "33.32 or 33.33"), ("-1.5", None)],
)
def test_a_fixed_promo_finer_than_the_minor_units_is_refused(fixed, fix):
    """The issue's example: 0.050001 EUR off would make a total of 24.949999."""
    with pytest.raises(PlanError) as info:
        PromoCode(code="WELCOME", fixed=Money(fixed, "EUR"))
    if fix is not None:
        assert f"fixed: {fixed} EUR" in str(info.value) and fix in str(info.value)


@given(fine(6, 10**6), st.sampled_from(CURRENCIES))
def test_wallet_recharges_have_minor_units(amount, currency):
    """A recharge or promo credit is money paid or given: whole minor units or refused, the
    ledger unchanged; a deduction may carry the plan's finer cost digits."""
    ledger = Ledger(MemoryLedgerStore())
    ledger.open("acme", currency, at=AT)
    payable = amount == amount.quantize(quantum_of(currency))
    for kind in ("recharge", "promo_credit"):
        post = getattr(ledger, kind)
        if payable:
            post("acme", Money(amount, currency), key=f"{kind}-1", at=AT)
        else:
            with pytest.raises(WalletError, match=f"minor units of {currency}"):
                post("acme", Money(amount, currency), key=f"{kind}-2", at=AT)
    assert ledger.balance("acme").amount == (2 * amount if payable else 0)
    ledger.adjust("acme", Money(amount, currency), key="adj", at=AT, memo="cost digits")
    ledger.deduct("acme", Money(amount, currency), key="use", at=AT)


def test_the_issues_recharge_is_refused():
    ledger = Ledger(MemoryLedgerStore())
    ledger.open("acme", "EUR", at=AT)
    with pytest.raises(WalletError) as info:
        ledger.recharge("acme", Money("33.325", "EUR"), key="pay-1", at=AT)
    assert "'pay-1'" in str(info.value) and "33.32 or 33.33" in str(info.value)
    assert ledger.entries("acme") == ()
    with pytest.raises(PlanError, match="minor units"):
        RechargeLimits(minimum=Money("10.005", "EUR"))


def test_fixed_payment_amounts_have_minor_units():
    with pytest.raises(PlanError, match=r"fixed payment amount: 300\.005 EUR"):
        FixedPayment(amount=Money("300.005", "EUR"))
    with pytest.raises(PlanError, match=r"commitment: 199\.999 EUR"):
        FixedPayment(amount=Money("300.00", "EUR"), commitment=Money("199.999", "EUR"))


class TestFloatMoney:
    """py-moneyed turns a float into its shortest text: Money(0.1 + 0.2) is 0.30000000000000004."""

    @given(st.integers(0, 10**8), st.integers(0, 10**8), st.sampled_from(["EUR", "USD", "BHD"]))
    def test_money_from_float_arithmetic_is_refused_or_meant(self, a, b, currency):
        """A sum of two cent amounts up to a million computed in floats is either refused
        everywhere cloudrate takes Money, or equal to the exact sum (the float was right)."""
        meant = (Decimal(a) + Decimal(b)).scaleb(-2)
        built = Money(a / 100 + b / 100, currency)
        if built.amount != meant:  # float arithmetic missed: always caught at this size
            assert float_noise(built.amount)
        if float_noise(built.amount):
            assert built.amount != meant
            with pytest.raises(PlanError, match=r"float.*Money\("):
                check_money(built, "unit_price")
        else:
            assert check_money(built, "unit_price").amount == built.amount

    @given(st.decimals(allow_nan=False, allow_infinity=False, places=6, max_value=10**9))
    def test_exact_amounts_with_few_digits_are_never_noise(self, value):
        """Fewer than 16 significant digits is never float noise, so no exact amount a
        price list or a ledger holds in practice is refused as one."""
        if len(value.as_tuple().digits) < 16:
            assert not float_noise(value)

    @pytest.mark.parametrize(
        "where",
        [
            cloudrate.plans.PerUnit,
            lambda m: PromoCode(code="F", fixed=m),
            lambda m: FixedPayment(amount=m),
            lambda m: RechargeLimits(minimum=m),
        ],
    )
    def test_every_money_input_refuses_noise(self, where):
        with pytest.raises(CloudrateError, match="float"):
            where(Money(0.1 + 0.2, "EUR"))

    def test_wallet_payment_and_credit_note_refuse_noise(self):
        ledger = Ledger(MemoryLedgerStore())
        ledger.open("acme", "EUR", at=AT)
        with pytest.raises(WalletError, match="float"):
            ledger.deduct("acme", Money(0.1 + 0.2, "EUR"), key="d", at=AT)
        plan = plan_in("EUR", Decimal("0.10"))
        usage = [
            cloudrate.UsageRecord(account="acme", metric="vcpu_hours", quantity=10, start=T0,
                                  end=T1)
        ]  # fmt: skip
        result = cloudrate.rate(plan, usage)
        invoice = assemble(result, Customer(id="acme", name="ACME")).finalise(
            Numbering(), InMemorySequenceStore(), issued_on=date(2026, 11, 1), terms=Net(30)
        )
        with pytest.raises(BillingError, match="float"):
            _amount(Money(0.1 + 0.2, "EUR"), invoice)
        with pytest.raises(InvoiceError, match="float"):
            invoice.credit(
                Numbering.credit_notes(),
                InMemorySequenceStore(),
                issued_on=date(2026, 11, 2),
                amounts={"compute": Money(0.1 + 0.2, "EUR")},
            )

    def test_a_trailing_zero_keeps_an_exact_amount_that_reads_like_noise(self):
        assert check_money(Money("0.300000000000000040", "EUR")).amount == Decimal(
            "0.300000000000000040"
        )


def test_pay_now_refuses_an_amount_due_no_provider_can_charge(tmp_path):
    """An invoice whose lines were rounded to more digits than the currency has (a plan
    rated with RoundingPolicy(digits=4)) cannot be Pay-Now'd silently: the error says why."""
    plan = cloudrate.load_plan(
        {
            "name": "fine",
            "currency": "EUR",
            "rounding": {"digits": 4},
            "charges": [
                {"name": "compute", "metric": "vcpu_hours", "model": "per_unit",
                 "unit_price": "0.0125"}
            ],
        }
    )  # fmt: skip
    usage = [
        cloudrate.UsageRecord(account="acme", metric="vcpu_hours", quantity=Decimal("1.5"),
                              start=T0, end=T1)
    ]  # fmt: skip
    result = cloudrate.rate(plan, usage)
    invoice = assemble(result, Customer(id="acme", name="ACME")).finalise(
        Numbering(), InMemorySequenceStore(), issued_on=date(2026, 11, 1), terms=Net(30)
    )
    assert invoice.amount_due.amount == Decimal("0.0188")
    with pytest.raises(BillingError, match="minor units of EUR"):
        _amount(None, invoice)


def test_the_checks_hold_under_a_hostile_decimal_context():
    """The bounds and minor-unit checks compare exactly, whatever the caller's context."""
    import decimal

    from cloudrate._money import bound_problem, check_payable

    largest = Decimal("9" * 36 + ".99")
    with decimal.localcontext(decimal.Context(prec=3, rounding=decimal.ROUND_FLOOR, traps=[])):
        assert bound_problem(largest) is None
        assert check_payable(Decimal("12345.67"), "EUR") == Decimal("12345.67")
        with pytest.raises(PlanError, match="minor units"):
            check_payable(Decimal("12345.675"), "EUR")
        assert check_money(Money(largest, "EUR"), payable=True).amount == largest
