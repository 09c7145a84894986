"""The fixed-payment contract: overage off by default, the first and last period prorated.

The sample bill of ``acme`` is 235.89 EUR of usage in October 2026 (Europe/Berlin, 31
days). Every expected amount is worked out by hand in the test's docstring or comment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from moneyed import Money

import cloudrate
from cloudrate._money import EXACT
from cloudrate.rating import AccountBill
from cloudrate.rules import ActiveDays, ContractTypes, FixedPayment, RuleContext

BERLIN = ZoneInfo("Europe/Berlin")
EUR = "EUR"


def eur(value: str) -> Money:
    return Money(value, EUR)


def total(rule: FixedPayment, bill: AccountBill, context: RuleContext) -> Decimal:
    return rule.apply_to(bill, context).total.amount


@pytest.fixture(name="bill")
def _bill(result) -> AccountBill:
    bill = result.bill("acme")
    assert bill.total == eur("235.89")
    return bill


class TestOverage:
    def test_default_is_a_set_amount_regardless_of_usage(self, bill, context):
        """Overage is off by default: 235.89 used under a 200.00 payment bills 200.00."""
        rule = FixedPayment(amount=eur("200.00"))
        assert rule.overage_billed is False
        charges = [line.charge for line in rule.lines(bill, context)]
        assert charges == ["contract:fixed_payment", "contract:commitment", "contract:overage"]
        assert total(rule, bill, context) == Decimal("200.00")

    def test_overage_billed_on_request(self, bill, context):
        """overage_billed=True: 200.00 + (235.89 - 200.00) = 235.89."""
        rule = FixedPayment(amount=eur("200.00"), overage_billed=True)
        assert total(rule, bill, context) == Decimal("235.89")

    @pytest.mark.parametrize(("billed", "expected"), [(None, "200.00"), (True, "235.89")])
    def test_contract_types_rule_defaults_to_no_overage(self, bill, context, billed, expected):
        """ContractTypes.rule passes the same default on: overage not billed."""
        options = {} if billed is None else {"overage_billed": billed}
        rule = ContractTypes(enabled=True).rule("fixed_payment", amount=eur("200.00"), **options)
        assert total(rule, bill, context) == Decimal(expected)


class TestProration:
    def test_start_on_the_21st_pays_11_of_31_days(self, bill, context):
        """A 300.00 contract from 2026-10-21 00:00 Berlin: active on the 21st to the 31st,
        11 of 31 days; 11/31 x 300.00 = 106.4516..., billed 106.45. The commitment is
        prorated alike (106.45 of usage covered); the 129.44 above it is credited."""
        rule = FixedPayment(amount=eur("300.00"), start=datetime(2026, 10, 21, tzinfo=BERLIN))
        assert rule.active_days(context.period) == ActiveDays(days=11, of=31)
        fee, within, over = rule.lines(bill, context)
        assert fee.description == "Fixed payment for 11 of 31 days"
        assert fee.amount.amount == EXACT.divide(Decimal(3300), Decimal(31))
        assert fee.rounded == eur("106.45")
        assert fee.proration == EXACT.divide(Decimal(11), Decimal(31))
        assert within.rounded == eur("-106.45")
        assert within.description == "Usage within the commitment of 106.45 EUR (11 of 31 days)"
        assert over.rounded == eur("-129.44")  # 235.89 - 106.45
        assert total(rule, bill, context) == Decimal("106.45")

    def test_prorated_with_overage_billed(self, bill, context):
        """Overage billed: 106.45 fee - 106.45 covered + 235.89 used = 235.89."""
        rule = FixedPayment(
            amount=eur("300.00"), start=datetime(2026, 10, 21, tzinfo=BERLIN), overage_billed=True
        )
        assert total(rule, bill, context) == Decimal("235.89")

    def test_prorated_commitment_of_its_own(self, bill, context):
        """300.00 committing 100.00, from the 21st, overage billed: fee 106.45, covered
        11/31 x 100.00 = 35.48, overage 235.89 - 35.48 = 200.41; 306.86 in all."""
        rule = FixedPayment(
            amount=eur("300.00"),
            commitment=eur("100.00"),
            start=datetime(2026, 10, 21, tzinfo=BERLIN),
            overage_billed=True,
        )
        fee, within = rule.lines(bill, context)
        assert (fee.rounded, within.rounded) == (eur("106.45"), eur("-35.48"))
        assert total(rule, bill, context) == Decimal("306.86")

    def test_not_prorated_on_request(self, bill, context):
        """prorate=False: the whole 300.00 even for a contract from the 21st; it covers all
        235.89 of usage."""
        rule = FixedPayment(
            amount=eur("300.00"), start=datetime(2026, 10, 21, tzinfo=BERLIN), prorate=False
        )
        fee, within = rule.lines(bill, context)
        assert (fee.description, fee.rounded, fee.proration) == (
            "Fixed payment for the period",
            eur("300.00"),
            None,
        )
        assert within.rounded == eur("-235.89")
        assert total(rule, bill, context) == Decimal("300.00")

    def test_end_in_the_period_pays_the_days_before_it(self, bill, context):
        """Ending at 2026-10-15 00:00 Berlin: active on the 1st to the 14th; 14/31 x 300.00
        = 135.4838..., billed 135.48."""
        rule = FixedPayment(amount=eur("300.00"), end=datetime(2026, 10, 15, tzinfo=BERLIN))
        assert rule.active_days(context.period) == ActiveDays(days=14, of=31)
        assert total(rule, bill, context) == Decimal("135.48")

    def test_last_period_of_a_contract(self, plan):
        """The same contract in November (30 days), ending at 2026-11-15 00:00: 14/30 x
        300.00 = 140.00. With no usage the fee is the bill."""
        november = cloudrate.BillingPeriod.month(2026, 11, "Europe/Berlin")
        context = RuleContext(plan=plan, period=november)
        empty = AccountBill(account="acme", lines=(), total=eur("0"), exact_total=eur("0"))
        rule = FixedPayment(amount=eur("300.00"), end=datetime(2026, 11, 15, tzinfo=BERLIN))
        (fee,) = rule.lines(empty, context)
        assert (fee.description, fee.rounded) == ("Fixed payment for 14 of 30 days", eur("140.00"))

    def test_start_and_end_in_the_same_period(self, bill, context):
        """From the 10th to the start of the 20th: 10 days; 10/31 x 300.00 = 96.774...,
        billed 96.77."""
        rule = FixedPayment(
            amount=eur("300.00"),
            start=datetime(2026, 10, 10, tzinfo=BERLIN),
            end=datetime(2026, 10, 20, tzinfo=BERLIN),
        )
        assert rule.active_days(context.period) == ActiveDays(days=10, of=31)
        assert total(rule, bill, context) == Decimal("96.77")

    @pytest.mark.parametrize(
        ("start", "days", "expected"),
        [
            # 22:00 UTC on the 20th is midnight of the 21st in Berlin (CEST): 11 days
            (datetime(2026, 10, 20, 22, 0, tzinfo=UTC), 11, "106.45"),
            # a minute earlier is still the 20th in Berlin: 12 days, 12/31 x 300 = 116.129...
            (datetime(2026, 10, 20, 21, 59, tzinfo=UTC), 12, "116.13"),
            # a start in the afternoon: the 21st counts as a day of the contract
            (datetime(2026, 10, 21, 15, 30, tzinfo=BERLIN), 11, "106.45"),
        ],
    )
    def test_days_are_counted_in_the_period_timezone(self, bill, context, start, days, expected):
        rule = FixedPayment(amount=eur("300.00"), start=start)
        assert rule.active_days(context.period).days == days
        assert total(rule, bill, context) == Decimal(expected)

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            # ended a second into October: 1 of 31 days
            (datetime(2026, 9, 1, tzinfo=BERLIN), datetime(2026, 10, 1, 0, 0, 1, tzinfo=BERLIN)),
            # started a second before October ended
            (datetime(2026, 10, 31, 23, 59, 59, tzinfo=BERLIN), None),
        ],
    )
    def test_a_second_in_the_period_is_a_day(self, bill, context, start, end):
        rule = FixedPayment(amount=eur("310.00"), start=start, end=end)
        assert rule.active_days(context.period) == ActiveDays(days=1, of=31)
        assert total(rule, bill, context) == Decimal("10.00")

    def test_a_contract_covering_the_period_is_whole(self, bill, context):
        """Started before October and not ended: the whole 300.00, as before."""
        rule = FixedPayment(amount=eur("300.00"), start=datetime(2026, 9, 15, tzinfo=BERLIN))
        fee = rule.lines(bill, context)[0]
        assert (fee.description, fee.rounded) == ("Fixed payment for the period", eur("300.00"))
        assert total(rule, bill, context) == Decimal("300.00")


class TestRefused:
    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (datetime(2026, 11, 1, tzinfo=BERLIN), None),  # starts after October
            (None, datetime(2026, 10, 1, tzinfo=BERLIN)),  # ended when October began
            # ran through September and ended the instant October began: no day of October
            (datetime(2026, 9, 1, tzinfo=BERLIN), datetime(2026, 10, 1, tzinfo=BERLIN)),
            # starts the instant October ends
            (datetime(2026, 11, 1, tzinfo=BERLIN), datetime(2026, 12, 1, tzinfo=BERLIN)),
        ],
    )
    def test_a_period_the_contract_does_not_reach(self, bill, context, start, end):
        rule = FixedPayment(amount=eur("300.00"), start=start, end=end)
        with pytest.raises(cloudrate.PlanError, match="which is not in the period 2026-10"):
            rule.lines(bill, context)

    def test_naive_instant(self):
        with pytest.raises(cloudrate.PlanError, match=r"fixed payment start: .* not an aware"):
            FixedPayment(amount=eur("300.00"), start=datetime(2026, 10, 21))

    def test_end_before_start(self):
        with pytest.raises(cloudrate.PlanError, match="is not after its start"):
            FixedPayment(
                amount=eur("300.00"),
                start=datetime(2026, 10, 21, tzinfo=BERLIN),
                end=datetime(2026, 10, 21, tzinfo=BERLIN),
            )

    def test_amount_is_required(self):
        with pytest.raises(cloudrate.PlanError, match="needs its amount per period"):
            ContractTypes(enabled=True).rule("fixed_payment")
