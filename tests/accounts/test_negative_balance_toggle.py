"""The "Enable Prepaid Negative Balance Display" toggle: negative balances allowed and
shown; display follows allowed unless it is set apart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from moneyed import Money

from cloudrate.accounts import Ledger, NegativeBalance
from cloudrate.exceptions import InsufficientFundsError

AT = datetime(2026, 11, 1, tzinfo=UTC)


def eur(value: str) -> Money:
    return Money(value, "EUR")


def wallet(rule: NegativeBalance, balance: str = "5.00") -> Ledger:
    ledger = Ledger(negative_balance=rule)
    ledger.open("acme", "EUR", at=AT)
    ledger.recharge("acme", eur(balance), key="pay-1", at=AT)
    return ledger


class TestDisplayFollowsAllowed:
    @pytest.mark.parametrize("allowed", [True, False])
    def test_display_left_out_is_allowed(self, allowed):
        assert NegativeBalance(allowed=allowed).display is allowed

    @pytest.mark.parametrize(("allowed", "display"), [(True, False), (False, True)])
    def test_display_set_apart_is_kept(self, allowed, display):
        rule = NegativeBalance(allowed=allowed, display=display)
        assert (rule.allowed, rule.display) == (allowed, display)
        assert rule.to_dict()["display"] is display


class TestToggle:
    def test_on_usage_goes_below_zero_and_is_shown(self):
        """On, floor -10.00: 5.00 less 12.00 leaves -7.00, active and shown negative."""
        ledger = wallet(NegativeBalance(allowed=True, floor=eur("-10.00")))
        ledger.deduct("acme", eur("12.00"), key="usage-1", at=AT)
        view = ledger.view("acme")
        assert (view.amount, view.state) == (eur("-7.00"), "active")

    def test_on_the_floor_still_holds(self):
        """-7.00 less 3.01 would pass the -10.00 floor: refused, nothing written."""
        ledger = wallet(NegativeBalance(allowed=True, floor=eur("-10.00")))
        ledger.deduct("acme", eur("12.00"), key="usage-1", at=AT)
        with pytest.raises(InsufficientFundsError, match=r"below the floor of -10\.00"):
            ledger.deduct("acme", eur("3.01"), key="usage-2", at=AT)
        assert ledger.balance("acme") == eur("-7.00")

    def test_off_deductions_stop_at_zero(self):
        """Off (the default): a deduction past zero is refused; nothing negative to show."""
        ledger = wallet(NegativeBalance())
        with pytest.raises(InsufficientFundsError):
            ledger.deduct("acme", eur("12.00"), key="usage-1", at=AT)
        assert ledger.view("acme").amount == eur("5.00")

    def test_allowed_but_hidden(self):
        """allowed, display=False: the balance is -7.00 but the portal shows none."""
        ledger = wallet(NegativeBalance(allowed=True, floor=eur("-10.00"), display=False))
        ledger.deduct("acme", eur("12.00"), key="usage-1", at=AT)
        view = ledger.view("acme")
        assert ledger.balance("acme") == eur("-7.00")
        assert view.amount is None and "not displayed" in view.message

    @pytest.mark.parametrize(("display", "shown"), [(True, eur("-2.00")), (False, None)])
    def test_not_allowed_display_shows_an_adjusted_negative_balance(self, display, shown):
        """Not allowed, deductions stop at zero; an administrator's adjustment may go
        below it (5.00 - 7.00 = -2.00), and display says whether it is shown."""
        ledger = wallet(NegativeBalance(allowed=False, display=display))
        ledger.adjust("acme", eur("-7.00"), key="fix-1", at=AT, memo="chargeback")
        assert ledger.balance("acme") == eur("-2.00")
        assert ledger.view("acme").amount == shown
        assert ledger.state("acme") == "suspended"
