"""Account and prepaid settings: recharge limits, negative balance, suspension, signup."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import FloatNotAllowedError, PlanError
from cloudrate.accounts import (
    Ledger,
    NegativeBalance,
    OpenInvoice,
    OverdueInvoice,
    RechargeLimits,
    SignupPayment,
    SuspensionPolicy,
    VerificationRefund,
)
from cloudrate.exceptions import RechargeLimitError, WalletError

AT = datetime(2026, 11, 20, 9, tzinfo=UTC)


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def test_settings_as_plain_data():
    assert RechargeLimits(eur("10"), None).to_dict() == {
        "minimum": {"amount": "10", "currency": "EUR"},
        "maximum": None,
    }
    assert SuspensionPolicy(grace_days=7).to_dict() == {
        "enabled": True,
        "grace_days": 7,
        "warning_days": None,
        "timezone": "UTC",
    }
    assert VerificationRefund(enabled=True, percent="50").to_dict() == {
        "enabled": True,
        "percent": "50",
    }
    assert SignupPayment(enabled=False, amount=None).to_dict() == {"enabled": False, "amount": None}


class TestRechargeLimits:
    def test_minimum_above_maximum_is_refused(self):
        with pytest.raises(
            PlanError,
            match=re.escape("minimum recharge 50.00 EUR is above maximum recharge 10.00 EUR"),
        ):
            RechargeLimits(minimum=eur("50.00"), maximum=eur("10.00"))

    def test_bounds_in_two_currencies_or_not_positive_are_refused(self):
        with pytest.raises(PlanError, match="one currency"):
            RechargeLimits(minimum=eur("5"), maximum=Money("50", "USD"))
        with pytest.raises(PlanError, match="above zero"):
            RechargeLimits(minimum=eur("0"))

    def test_only_a_minimum(self):
        limits = RechargeLimits(minimum=eur("10.00"), maximum=None)
        assert limits.enabled
        assert limits.check(eur("1000000")) == eur("1000000")
        with pytest.raises(RechargeLimitError, match=re.escape("at least 10.00 EUR")):
            limits.check(eur("9.99"))

    def test_off_accepts_any_positive_amount_but_not_zero(self):
        limits = RechargeLimits(None, None)
        assert not limits.enabled
        assert limits.check(eur("0.01")) == eur("0.01")
        with pytest.raises(RechargeLimitError, match="not above zero"):
            limits.check(eur("0"))

    def test_other_currency_is_refused(self):
        with pytest.raises(RechargeLimitError, match="convert it to EUR first"):
            RechargeLimits(maximum=eur("100")).check(Money("5", "USD"))

    @given(
        st.decimals(min_value=1, max_value=1000, places=2),
        st.decimals(min_value=1, max_value=1000, places=2),
        st.decimals(min_value=Decimal("0.01"), max_value=2000, places=2),
    )
    def test_accepts_exactly_the_amounts_within_bounds(self, a, b, amount):
        low, high = sorted((a, b))
        limits = RechargeLimits(eur(str(low)), eur(str(high)))
        if low <= amount <= high:
            assert limits.check(eur(str(amount))) == eur(str(amount))
        else:
            bound = low if amount < low else high
            with pytest.raises(RechargeLimitError, match=re.escape(str(bound))):
                limits.check(eur(str(amount)))


class TestNegativeBalance:
    def test_off_floor_is_zero_and_negative_floor_is_refused(self):
        rule = NegativeBalance(allowed=False, floor=None, display=False)
        assert rule.lowest("EUR") == 0
        assert rule.state(eur("0.00")) == "suspended"
        assert rule.state(eur("0.01")) == "active"
        with pytest.raises(PlanError, match="not allowed; set allowed=True"):
            NegativeBalance(allowed=False, floor=eur("-10"), display=False)

    def test_on_with_floor(self):
        rule = NegativeBalance(allowed=True, floor=eur("-25.00"), display=True)
        assert rule.headroom(eur("10.00")) == Decimal("35.00")
        assert rule.state(eur("-24.99")) == "active"
        assert rule.state(eur("-25.00")) == "suspended"
        assert "reached the floor of -25.00 EUR" in rule.reason(eur("-25.00"))

    def test_on_without_floor_never_suspends(self):
        rule = NegativeBalance(allowed=True, floor=None, display=True)
        assert rule.lowest("EUR") is None and rule.headroom(eur("-1000")) is None
        assert rule.state(eur("-1000000")) == "active"

    def test_positive_floor_and_floor_in_other_currency_are_refused(self):
        with pytest.raises(PlanError, match="zero or below"):
            NegativeBalance(allowed=True, floor=eur("5"))
        with pytest.raises(PlanError, match="floor is in EUR but the account is in USD"):
            NegativeBalance(allowed=True, floor=eur("-5")).lowest("USD")

    @pytest.mark.parametrize("display", [True, False])
    def test_display_setting(self, display):
        """Display on shows a negative balance; off hides it (None), never as zero."""
        rule = NegativeBalance(allowed=True, floor=eur("-10"), display=display)
        view = rule.view(eur("-3.20"))
        assert view.amount == (eur("-3.20") if display else None)
        assert rule.shown(eur("-3.20")) == view.amount
        assert rule.shown(eur("4.00")) == eur("4.00")  # positive balances always shown
        if not display:
            assert "not displayed" in view.message

    def test_ledger_view_follows_the_setting(self):
        ledger = Ledger(
            negative_balance=NegativeBalance(allowed=True, floor=eur("-5"), display=False)
        )
        ledger.open("acme", "EUR", at=AT)
        ledger.deduct("acme", eur("5.00"), key="d", at=AT)
        view = ledger.view("acme")
        assert view.amount is None and view.state == "suspended"
        assert ledger.negative_balance.to_dict() == {
            "allowed": True,
            "floor": {"amount": "-5", "currency": "EUR"},
            "display": False,
        }


@attrs.frozen
class _PortalInvoice:
    """An invoice from some other system, adapted by attribute names only."""

    number: str
    due: date
    total: Money
    paid: Money

    @property
    def outstanding(self) -> Money:
        return self.total - self.paid


class TestSuspension:
    policy = SuspensionPolicy(enabled=True, grace_days=15, warning_days=3)

    def inv(self, due: date, owed: str = "120.00", number: str = "INV-1") -> OpenInvoice:
        return OpenInvoice(number, due, eur(owed))

    @pytest.mark.parametrize(
        ("due", "state"),
        [
            (date(2026, 11, 25), "active"),  # not due yet
            (date(2026, 11, 20), "active"),  # due today
            (date(2026, 11, 17), "active"),  # 3 days: not more than 3
            (date(2026, 11, 16), "warning"),  # 4 days
            (date(2026, 11, 5), "warning"),  # 15 days: within grace
            (date(2026, 11, 4), "suspended"),  # 16 days
        ],
    )
    def test_stages_in_order(self, due, state):
        assert self.policy.evaluate([self.inv(due)], AT).state == state

    def test_paying_reactivates(self):
        late = self.inv(date(2026, 10, 1))
        assert self.policy.evaluate([late], AT).state == "suspended"
        paid = attrs.evolve(late, outstanding=eur("0.00"))
        result = self.policy.evaluate([paid], AT)
        assert result.state == "active" and result.invoice is None

    def test_most_overdue_invoice_decides(self):
        result = self.policy.evaluate(
            [
                self.inv(date(2026, 11, 16), number="INV-2"),
                self.inv(date(2026, 10, 1), number="INV-1"),
            ],
            AT,
        )
        assert (result.state, result.invoice, result.days_overdue) == ("suspended", "INV-1", 50)
        assert "INV-1" in result.reason and "more than the 15 days allowed" in result.reason

    def test_ties_go_to_the_smallest_invoice_number(self):
        due = date(2026, 10, 1)
        result = self.policy.evaluate(
            [self.inv(due, number="INV-10"), self.inv(due, number="INV-1")], AT
        )
        assert result.invoice == "INV-1"

    def test_not_yet_due_says_so(self):
        result = self.policy.evaluate([self.inv(date(2026, 12, 1))], AT)
        assert result.state == "active" and "is not overdue (due 2026-12-01)" in result.reason

    def test_off_never_suspends(self):
        off = SuspensionPolicy(enabled=False, grace_days=15)
        result = off.evaluate([self.inv(date(2025, 1, 1))], AT)
        assert result.state == "active" and "disabled" in result.reason
        assert off.stages == ()

    def test_no_warning_stage(self):
        policy = SuspensionPolicy(enabled=True, grace_days=0)
        assert [s.state for s in policy.stages] == ["suspended"]
        assert policy.evaluate([self.inv(date(2026, 11, 19))], AT).state == "suspended"

    def test_today_is_counted_in_the_policy_timezone(self):
        """At 09:00 UTC it is already the next day in Tokyo."""
        due = date(2026, 11, 5)  # 15 days before the 20th: within grace in UTC
        late_night = datetime(2026, 11, 20, 20, tzinfo=UTC)
        assert self.policy.evaluate([self.inv(due)], late_night).state == "warning"
        tokyo = SuspensionPolicy(enabled=True, grace_days=15, timezone="Asia/Tokyo")
        assert tokyo.evaluate([self.inv(due)], late_night).state == "suspended"

    def test_any_object_with_the_attributes_fits(self):
        invoice = _PortalInvoice("2026-0042", date(2026, 10, 1), eur("80.00"), eur("30.00"))
        assert isinstance(invoice, OverdueInvoice)
        result = self.policy.evaluate([invoice], AT)
        assert result.state == "suspended" and "50.00 EUR outstanding" in result.reason

    def test_invoice_package_attribute_names_are_adapted(self):
        """due_on/amount_due (cloudrate.invoice.Invoice) work; drafts and voids don't count."""

        @attrs.frozen
        class Invoice:
            number: str | None
            state: str
            due_on: date | None
            amount_due: Money

        late = Invoice("INV-9", "issued", date(2026, 10, 1), eur("10.00"))
        assert self.policy.evaluate([late], AT).state == "suspended"
        for other in (attrs.evolve(late, state="void"), Invoice(None, "draft", None, eur("10.00"))):
            assert self.policy.evaluate([other], AT).state == "active"
        with pytest.raises(PlanError, match="expected a due date"):
            self.policy.evaluate([Invoice("X", "issued", date(2026, 1, 1), "10")], AT)

    def test_bad_settings_and_naive_now(self):
        with pytest.raises(PlanError, match="warn before suspending"):
            SuspensionPolicy(grace_days=5, warning_days=10)
        with pytest.raises(PlanError, match="whole number of days"):
            SuspensionPolicy(grace_days=-1)
        with pytest.raises(PlanError, match="has no timezone"):
            self.policy.evaluate([], datetime(2026, 11, 20))


class TestVerificationRefund:
    def test_full_refund_credits_the_wallet_once(self):
        rule = VerificationRefund(enabled=True, percent=Decimal(100))
        ledger = Ledger()
        ledger.open("acme", "USD", at=AT)
        outcome = rule.on_verified("acme", Money("5.00", "USD"), at=AT)
        assert outcome.refunded == Money("5.00", "USD") and outcome.kept == Money("0", "USD")
        ledger.post(outcome.entries)
        ledger.post(rule.on_verified("acme", Money("5.00", "USD"), at=AT).entries)  # retried
        assert ledger.balance("acme") == Money("5.00", "USD")

    def test_partial_refund_is_rounded_and_adds_up(self):
        rule = VerificationRefund(enabled=True, percent="33.333")
        outcome = rule.on_verified("acme", eur("10.00"), at=AT)
        # 10.00 * 33.333% = 3.3333 -> 3.33 (half-up to cents); the rest is kept
        assert outcome.refunded == eur("3.33") and outcome.kept == eur("6.67")
        assert "33.333% of the 10.00 EUR" in outcome.reason

    def test_off_keeps_the_deposit(self):
        outcome = VerificationRefund(enabled=False, percent=Decimal(100)).on_verified(
            "acme", eur("10.00"), at=AT
        )
        assert outcome.refunded == eur("0") and outcome.kept == eur("10.00")
        assert outcome.entries == () and "disabled" in outcome.reason

    def test_bad_percent(self):
        with pytest.raises(PlanError, match="between 0 and 100"):
            VerificationRefund(enabled=True, percent=Decimal("120"))
        with pytest.raises(FloatNotAllowedError):
            VerificationRefund(enabled=True, percent=50.0)

    @given(
        st.decimals(min_value=0, max_value=100, places=3),
        st.decimals(min_value=0, max_value=10000, places=2),
    )
    def test_refund_plus_kept_is_the_deposit(self, percent, deposit):
        outcome = VerificationRefund(enabled=True, percent=percent).on_verified(
            "acme", eur(str(deposit)), at=AT
        )
        assert outcome.refunded.amount + outcome.kept.amount == deposit
        assert Decimal(0) <= outcome.refunded.amount <= deposit


class TestSignupPayment:
    def test_on_requires_the_amount(self):
        rule = SignupPayment(enabled=True, amount=Money("5.00", "USD"))
        assert rule.required and rule.due() == Money("5.00", "USD")
        assert not rule.can_activate(None)
        assert not rule.can_activate(Money("4.99", "USD"))
        assert rule.can_activate(Money("5.00", "USD"))
        with pytest.raises(
            WalletError,
            match="requires a signup payment of 5.00 USD "
            r"\(paid nothing\)",
        ):
            rule.check(None)

    def test_off_activates_without_payment(self):
        rule = SignupPayment(enabled=False, amount=Money("5.00", "USD"))
        assert not rule.required and rule.due() is None and rule.can_activate(None)
        rule.check(None)

    def test_on_without_amount_is_refused(self):
        with pytest.raises(PlanError, match="required when signup payment is enabled"):
            SignupPayment(enabled=True, amount=None)
        with pytest.raises(PlanError, match="above zero"):
            SignupPayment(enabled=True, amount=Money("0", "USD"))

    def test_other_currency(self):
        rule = SignupPayment(enabled=True, amount=Money("5.00", "USD"))
        with pytest.raises(WalletError, match="convert it first"):
            rule.can_activate(eur("5.00"))
