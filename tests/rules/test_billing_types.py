"""Cost decimals, billing plan types and contract types, each with the setting on and off."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate.accounts import BillingPlans, PlanType, settle
from cloudrate.rating import AccountBill
from cloudrate.rules import CONTRACT_TYPES, ContractTypes, CostDecimals, FixedPayment, PayAsYouGo

amounts = st.decimals(min_value=0, max_value=10**6, places=2)


class TestCostDecimals:
    @pytest.mark.parametrize(("digits", "shown"), [(2, "0.01"), (3, "0.013"), (4, "0.0125")])
    def test_estimates_round_to_the_display_decimals(self, digits, shown):
        assert CostDecimals(digits).shown(Money("0.0125", "EUR")) == Decimal(shown)

    def test_invoice_never_hides_a_settled_digit(self):
        """The shown invoice amount always equals the amount owed."""
        assert CostDecimals(0).shown_settled(Money("12.35", "EUR")) == Decimal("12.35")
        assert str(CostDecimals(4).shown_settled(Money("12.35", "EUR"))) == "12.3500"
        assert str(CostDecimals(2).shown_settled(Money("1235", "JPY"))) == "1235.00"

    @given(amounts, st.integers(min_value=0, max_value=6))
    def test_settled_display_equals_settled_value(self, value, digits):
        assert CostDecimals(digits).shown_settled(Money(value, "EUR")) == value

    def test_out_of_range(self):
        with pytest.raises(cloudrate.PlanError, match="0 to 10"):
            CostDecimals(11)


class TestPlanType:
    @given(
        amounts,
        st.decimals(min_value=-1000, max_value=10**6, places=2),
        st.sampled_from(list(PlanType)),
    )
    def test_parts_add_up(self, amount, balance, kind):
        """Whatever the plan type, balance part + invoiced part = the amount."""
        s = settle(kind, Money(amount, "EUR"), Money(balance, "EUR"))
        assert s.from_balance.amount + s.invoiced.amount == amount
        if kind is PlanType.FLEXIBLE:
            assert 0 <= s.from_balance.amount <= max(balance, 0)

    def test_flexible_uses_balance_first(self):
        s = settle("flexible", Money("30", "EUR"), Money("-5", "EUR"))
        assert s.from_balance.amount == 0 and s.invoiced.amount == 30

    def test_per_account_type(self):
        plans = BillingPlans(default="flexible", organisation="postpaid")
        assert plans.for_account("individual") is PlanType.FLEXIBLE
        assert plans.for_account("organisation") is PlanType.POSTPAID

    def test_bad_values(self):
        with pytest.raises(cloudrate.PlanError, match="postpaid, prepaid or flexible"):
            BillingPlans(default="monthly")
        with pytest.raises(cloudrate.PlanError, match="individual or organisation"):
            BillingPlans().for_account("company")


class TestContract:
    def test_disabled_is_pay_as_you_go(self):
        assert ContractTypes(enabled=False).rule("fixed_payment") == PayAsYouGo()

    def test_pay_as_you_go_adds_nothing(self, result, context):
        bill = result.bill("acme")
        assert PayAsYouGo().lines(bill, context) == ()

    def test_usage_within_commitment_not_billed_again(self, result, context):
        """Usage 235.89 under a 300.00 fixed payment: the bill is exactly 300.00."""
        bill = result.bill("acme")
        assert bill.total.amount == Decimal("235.89")
        rule = ContractTypes(enabled=True).rule("fixed_payment", amount=Money("300", "EUR"))
        after = bill.with_lines(rule.lines(bill, context))
        assert after.total.amount == Decimal("300.00")

    @pytest.mark.parametrize(("billed", "total"), [(True, "285.89"), (False, "150.00")])
    def test_overage(self, result, context, billed, total):
        """A 150.00 payment committing 100.00: overage billed gives 150 + 135.89."""
        bill = result.bill("acme")
        rule = FixedPayment(
            amount=Money("150", "EUR"), commitment=Money("100", "EUR"), overage_billed=billed
        )
        after = bill.with_lines(rule.lines(bill, context))
        assert after.total.amount == Decimal(total)

    def test_currency_mismatch(self, result, context):
        with pytest.raises(cloudrate.CurrencyMismatchError):
            FixedPayment(amount=Money("1", "USD")).lines(result.bill("acme"), context)

    def test_lines_name_the_fee_and_each_credit(self, result, context):
        """Overage not billed: the fee, the usage within the commitment credited (exact and
        rounded), and the usage above it credited, so the bill is the fee."""
        bill = result.bill("acme")
        rule = FixedPayment(
            amount=Money("150", "EUR"), commitment=Money("100", "EUR"), overage_billed=False
        )
        fee, within, over = rule.lines(bill, context)
        assert (fee.charge, fee.kind, fee.rounded) == (
            "contract:fixed_payment",
            "fee",
            Money("150", "EUR"),
        )
        assert (within.charge, within.rounded, within.amount) == (
            "contract:commitment",
            Money("-100", "EUR"),
            Money("-100", "EUR"),
        )
        assert over.charge == "contract:overage"
        assert over.rounded.amount == -(bill.total.amount - 100)
        assert over.amount.amount == -(bill.exact_total.amount - 100)
        assert over.details[0].amount == Money(bill.total.amount - 100, "EUR")
        assert bill.with_lines((fee, within, over)).total == Money("150", "EUR")

    def test_no_usage_gives_the_fee_alone(self, context):
        """Nothing used: no credit line, the fee is the bill."""
        empty = AccountBill(
            account="acme", lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
        )
        lines = FixedPayment(amount=Money("150", "EUR"), overage_billed=False).lines(empty, context)
        assert [line.charge for line in lines] == ["contract:fixed_payment"]

    @pytest.mark.parametrize(
        ("build", "message"),
        [
            (lambda: ContractTypes(default="monthly"), "contract default: must be one of"),
            (
                lambda: ContractTypes(enabled=True).for_customer("fixed"),
                "contract type: must be one of pay_as_you_go, fixed_payment",
            ),
        ],
    )
    def test_unknown_contract_type_is_refused(self, build, message):
        """Callers without type checking get the choices in the error."""
        with pytest.raises(cloudrate.PlanError, match=message):
            build()

    def test_contract_types_are_listed(self):
        assert CONTRACT_TYPES == ("pay_as_you_go", "fixed_payment")
