"""Customers over time: plan changes, price versions, overrides, trials, anniversaries,
worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import attrs
import jsonschema
import pytest

import cloudrate
from cloudrate.billing import (
    BillingCustomer,
    BillingRun,
    DocumentStore,
    Subscription,
    periods_of,
    rate_customer,
)
from cloudrate.exceptions import BillingError
from cloudrate.invoice import Customer
from cloudrate.period import BillingPeriod
from cloudrate.plans import ChargeOverride
from cloudrate.schemas import schema
from cloudrate.usage import UsageRecord

OCTOBER = BillingPeriod.month(2026, 10)  # UTC, 31 days


def _plan(name: str, fee: str, storage: str = "0.10", extra: str = "") -> cloudrate.Plan:
    return cloudrate.load_plan(
        f"""
name: {name}
currency: EUR
charges:
  - {{name: fee, model: flat, price: "{fee}"}}
  - {{name: storage, metric: gb_hours, model: per_unit, unit_price: "{storage}"}}
{extra}"""
    )


BASIC, PRO = _plan("Basic", "30.00"), _plan("Pro", "60.00", "0.05")
PLANS = {"Basic": BASIC, "Pro": PRO}


def _at(day: int, month: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def _customer(*subscriptions: Subscription) -> BillingCustomer:
    return BillingCustomer(
        customer=Customer(id="acme", name="ACME GmbH"), subscriptions=subscriptions
    )


def _usage(start: datetime, end: datetime, quantity: str) -> UsageRecord:
    return UsageRecord(
        account="acme",
        metric="gb_hours",
        quantity=quantity,
        start=start,
        end=end,
        record_id=f"r{start.day}",
    )


def _amounts(bill: cloudrate.rating.AccountBill) -> dict[str, Decimal]:
    return {x.charge: x.rounded.amount for x in bill.lines}


CHANGE = _customer(
    Subscription(plan="Basic", start=_at(1)), Subscription(plan="Pro", start=_at(16))
)


def test_a_change_on_the_sixteenth_bills_15_31_of_the_old_fee_and_16_31_of_the_new() -> None:
    usage = [_usage(_at(14), _at(18), "96")]  # 4 days, 24 on each side... split by seconds
    bill = rate_customer(CHANGE, PLANS, usage, OCTOBER).bill
    got = _amounts(bill)
    assert got["fee@Basic/2026-10-01"] == Decimal("14.52")  # 30.00 x 15/31 = 14.516...
    assert got["fee@Pro/2026-10-16"] == Decimal("30.97")  # 60.00 x 16/31 = 30.967...
    # 96 GB-hours over 4 days: 48 before the 16th at 0.10, 48 after at 0.05
    assert got["storage@Basic/2026-10-01"] == Decimal("4.80")
    assert got["storage@Pro/2026-10-16"] == Decimal("2.40")
    assert bill.total.amount == sum(got.values())
    assert "plan Pro" in bill.line("fee@Pro/2026-10-16").explain()


def test_a_downgrade_and_a_change_back_within_the_period() -> None:
    back = _customer(
        Subscription(plan="Pro", start=_at(1)),
        Subscription(plan="Basic", start=_at(11)),
        Subscription(plan="Pro", start=_at(21)),
    )
    got = _amounts(rate_customer(back, PLANS, [], OCTOBER).bill)
    # Pro 1st-10th (10 days) and 21st-31st (11 days), Basic 11th-20th (10 days)
    assert got["fee@Pro/2026-10-01"] == Decimal("19.35")  # 60 x 10/31 = 19.354...
    assert got["fee@Basic/2026-10-11"] == Decimal("9.68")  # 30 x 10/31 = 9.677...
    assert got["fee@Pro/2026-10-21"] == Decimal("21.29")  # 60 x 11/31 = 21.290...


def test_a_price_version_on_the_tenth_splits_the_period_the_same_way() -> None:
    plan = cloudrate.load_plan(
        """
name: Basic
currency: EUR
charges:
  - {name: fee, model: flat, price: "31.00"}
  - {name: storage, metric: gb_hours, model: per_unit, unit_price: "0.10"}
versions:
  - effective_from: "2026-10-10T00:00:00+00:00"
    charges:
      - {name: fee, price: "62.00"}
      - {name: storage, unit_price: "0.20"}
"""
    )
    customer = _customer(Subscription(plan="Basic", start=_at(1)))
    usage = [_usage(_at(8), _at(12), "96")]  # 48 before the 10th, 48 from it
    got = _amounts(rate_customer(customer, {"Basic": plan}, usage, OCTOBER).bill)
    assert got["fee@Basic/2026-10-01"] == Decimal("9.00")  # 31 x 9/31
    assert got["fee@Basic/2026-10-10"] == Decimal("44.00")  # 62 x 22/31
    assert got["storage@Basic/2026-10-01"] == Decimal("4.80")  # 48 x 0.10
    assert got["storage@Basic/2026-10-10"] == Decimal("9.60")  # 48 x 0.20


def test_an_override_changes_one_customers_price_and_says_so() -> None:
    override = ChargeOverride(charge="storage", unit_price=cloudrate.money("0.08", "EUR"))
    customer = _customer(
        Subscription(plan="Basic", start=_at(1), overrides=(override,), override_label="ACME deal")
    )
    bill = rate_customer(customer, PLANS, [_usage(_at(2), _at(3), "100")], OCTOBER).bill
    assert bill.line("storage").rounded.amount == Decimal("8.00")  # 100 x 0.08, not 0.10
    assert "ACME deal" in bill.line("storage").explain()
    assert bill.line("fee").rounded.amount == Decimal("30.00")  # not overridden


def test_a_trial_is_free_and_the_first_paid_part_is_prorated() -> None:
    customer = _customer(Subscription(plan="Basic", start=_at(1), trial_end=_at(11)))
    usage = [_usage(_at(5), _at(6), "100"), _usage(_at(20), _at(21), "10")]
    rated = rate_customer(customer, PLANS, usage, OCTOBER)
    got = _amounts(rated.bill)
    assert got == {
        "fee@Basic/2026-10-11": Decimal("20.32"),
        "storage@Basic/2026-10-11": Decimal("1.00"),
    }
    # 30.00 x 21/31 = 20.322...; the trial's 100 GB-hours are not billed
    assert any("Free trial" in n for n in rated.notes)


def test_a_cancellation_bills_up_to_the_end() -> None:
    customer = _customer(Subscription(plan="Basic", start=_at(1), end=_at(11)))
    assert _amounts(rate_customer(customer, PLANS, [], OCTOBER).bill) == {"fee": Decimal("9.68")}


def test_anniversary_periods_from_the_31st_keep_the_day_where_the_month_has_it() -> None:
    sub = Subscription(plan="Basic", start=_at(31, 1, 2027), anchor="anniversary")
    starts = [p.start.date().isoformat() for p in periods_of(sub, "UTC", _at(1, 6, 2027))]
    assert starts == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"]


def test_calendar_quarters_and_weeks() -> None:
    quarter = Subscription(plan="Basic", start=_at(15, 8), every=3)
    assert [p.label for p in periods_of(quarter, "UTC", _at(1, 12))] == [
        "2026-07-01..2026-09-30",
        "2026-10-01..2026-12-31",
    ]
    week = Subscription(plan="Basic", start=_at(15), interval="week")  # a Thursday
    first = next(iter(periods_of(week, "UTC", _at(20))))
    assert (first.start.date().isoformat(), first.days) == ("2026-10-12", 7)


def test_subscriptions_out_of_order_or_unknown_plans_are_refused() -> None:
    with pytest.raises(BillingError, match="follow one another"):
        _customer(Subscription(plan="Pro", start=_at(16)), Subscription(plan="Basic", start=_at(1)))
    with pytest.raises(BillingError, match="not among the plans"):
        rate_customer(_customer(Subscription(plan="Gold", start=_at(1))), PLANS, [], OCTOBER)


def test_billing_runs_over_subscriptions_are_exactly_once(store: DocumentStore) -> None:
    run = BillingRun(store=store)
    usage = [_usage(_at(14), _at(18), "96")]
    first = run.bill_customers([CHANGE], PLANS, usage, OCTOBER)
    assert first.issued["invoice"] == 1
    assert run.bill_customers([CHANGE], PLANS, usage, OCTOBER).documents == ()
    # the change is moved back to the 11th after the invoice went out: a correction
    earlier = _customer(
        Subscription(plan="Basic", start=_at(1)), Subscription(plan="Pro", start=_at(11))
    )
    corrected = run.bill_customers([earlier], PLANS, usage, OCTOBER)
    assert {d.kind for d in corrected.documents} <= {"supplementary", "credit_note"}
    assert corrected.documents
    assert run.bill_customers([earlier], PLANS, usage, OCTOBER).documents == ()


def test_usage_of_an_account_no_customer_bills_is_named_in_the_summary(
    store: DocumentStore,
) -> None:
    """A customers file missing an account leaves its usage unbilled: the summary says
    which accounts, so it is seen (usage of other periods does not count)."""
    usage = [_usage(_at(14), _at(18), "96")]
    ghost = attrs.evolve(usage[0], account="ghost", record_id="g1")
    later = attrs.evolve(usage[0], account="later", start=_at(2, 11), end=_at(3, 11))
    at_the_end = attrs.evolve(usage[0], account="edge", start=_at(1, 11), end=_at(1, 11))
    run = BillingRun(store=store)
    summary = run.bill_customers([CHANGE], PLANS, [*usage, ghost, later, at_the_end], OCTOBER)
    assert summary.issued["invoice"] == 1
    assert summary.unbilled_accounts == ("ghost",)
    assert summary.to_dict()["unbilled_accounts"] == ["ghost"]
    jsonschema.validate(summary.to_dict(), schema("billing_run"))
    assert run.bill_customers([CHANGE], PLANS, usage, OCTOBER).unbilled_accounts == ()
    # listed customers whose subscriptions are not in force in October: named too
    ended = BillingCustomer(
        customer=Customer(id="ended", name="Ended"),
        subscriptions=(Subscription(plan="Basic", start=_at(1, 8), end=_at(1, 9)),),
    )
    future = BillingCustomer(
        customer=Customer(id="future", name="Future"),
        subscriptions=(Subscription(plan="Basic", start=_at(5, 11)),),
    )
    theirs = [attrs.evolve(usage[0], account=c, record_id=c) for c in ("ended", "future")]
    summary = run.bill_customers([CHANGE, ended, future], PLANS, [*usage, *theirs], OCTOBER)
    assert summary.unbilled_accounts == ("ended", "future")


def test_a_trial_with_allowances_bills_beyond_them_and_waives_the_fee() -> None:
    allowance = ChargeOverride(charge="storage", free_units=Decimal(50))
    customer = _customer(
        Subscription(plan="Basic", start=_at(1), trial_end=_at(11), trial_allowances=(allowance,))
    )
    usage = [_usage(_at(5), _at(6), "80"), _usage(_at(20), _at(21), "10")]
    got = _amounts(rate_customer(customer, PLANS, usage, OCTOBER).bill)
    assert got["fee@Basic/2026-10-01"] == Decimal("0.00")  # waived in the trial
    assert got["storage@Basic/2026-10-01"] == Decimal("3.00")  # (80 - 50) x 0.10
    assert got["fee@Basic/2026-10-11"] == Decimal("20.32")  # 30.00 x 21/31
    assert got["storage@Basic/2026-10-11"] == Decimal("1.00")


def test_anniversary_customers_are_billed_for_the_period_that_ends_in_the_month() -> None:
    from cloudrate.billing import customer_periods

    sub = Subscription(plan="Basic", start=_at(16, 9), anchor="anniversary")
    (own,) = customer_periods(_customer(sub), OCTOBER)
    assert own.label == "2026-09-16..2026-10-15"
    calendar = _customer(Subscription(plan="Basic", start=_at(16, 9)))
    assert customer_periods(calendar, OCTOBER) == (OCTOBER,)
    later = _customer(Subscription(plan="Basic", start=_at(5, 11)))
    assert customer_periods(later, OCTOBER) == ()


@pytest.mark.parametrize(
    ("interval", "every", "billed"),
    [
        ("year", 1, ["2026-01-01..2026-12-31"]),
        ("month", 3, ["2026-01-01..2026-03-31", "2026-04-01..2026-06-30",
                      "2026-07-01..2026-09-30", "2026-10-01..2026-12-31"]),
        ("month", 1, [f"2026-{m:02d}" for m in range(1, 13)]),
    ],
)  # fmt: skip
def test_calendar_periods_longer_than_a_month_are_billed_once(interval, every, billed) -> None:
    """Twelve monthly runs bill a yearly calendar subscription once (in December, when its
    year is over), a quarterly one four times, a monthly one twelve times: the fee once a
    period, never once a run."""
    from cloudrate.billing import customer_periods

    customer = _customer(
        Subscription(plan="Basic", start=_at(1, 1), interval=interval, every=every)
    )
    periods = [
        own
        for m in range(1, 13)
        for own in customer_periods(customer, BillingPeriod.month(2026, m))
    ]
    assert [p.label for p in periods] == billed
    fees = [rate_customer(customer, PLANS, [], own).bill.total.amount for own in periods]
    assert fees == [Decimal("30.00")] * len(billed)  # the whole fee of each period


def test_calendar_weeks_are_billed_in_the_run_of_the_month_they_end_in() -> None:
    from cloudrate.billing import customer_periods

    customer = _customer(Subscription(plan="Basic", start=_at(15, 9), interval="week"))
    labels = [p.label for p in customer_periods(customer, OCTOBER)]
    # Mondays: the week of 28 September ends on 5 October; the week of 26 October in November
    assert labels == [
        "2026-09-28..2026-10-04",
        "2026-10-05..2026-10-11",
        "2026-10-12..2026-10-18",
        "2026-10-19..2026-10-25",
    ]


def test_customers_yaml_reads_every_key_and_reports_every_problem() -> None:
    from cloudrate.billing import load_billing_customers
    from cloudrate.exceptions import ConfigError

    text = """customers:
  - id: globex
    name: Globex
    subscriptions:
      - plan: Pro
        from: "2026-10-01T00:00:00Z"
        to: "2026-12-01T00:00:00Z"
        trial_until: "2026-10-15T00:00:00Z"
        trial_allowances: {storage: 500}
        overrides: {storage: {unit_price: "0.04"}}
        override_label: Globex contract
        interval: month
        every: 2
        anchor: anniversary
"""
    (globex,) = load_billing_customers(text, PLANS)
    (sub,) = globex.subscriptions
    assert (sub.plan, sub.every, sub.anchor, sub.override_label) == (
        "Pro",
        2,
        "anniversary",
        "Globex contract",
    )
    assert sub.trial_allowances[0].free_units == Decimal(500)
    assert sub.end == _at(1, 12)
    bad = """customers:
  - id: x
    subscriptions:
      - {plan: Gold, from: "2026-10-01"}
      - {plan: Pro, from: "2026-10-16T00:00:00Z", interval: fortnight, trial_allowances: {gpu: 1}}
"""
    with pytest.raises(ConfigError) as caught:
        load_billing_customers(bad, PLANS)
    codes = sorted(p.code for p in caught.value.problems)
    assert codes == ["bad_choice", "no_timezone", "unknown_charge", "unknown_plan"]
    assert all(p.line is not None for p in caught.value.problems)


def test_plans_in_two_currencies_within_one_period_are_refused() -> None:
    usd = cloudrate.load_plan(
        "name: Dollar\ncurrency: USD\ncharges:\n  - {name: fee, model: flat, price: '10.00'}\n"
    )
    mixed = _customer(
        Subscription(plan="Basic", start=_at(1)), Subscription(plan="Dollar", start=_at(16))
    )
    with pytest.raises(BillingError, match="different currencies"):
        rate_customer(mixed, {**PLANS, "Dollar": usd}, [], OCTOBER)
    november = BillingPeriod.month(2026, 11)
    assert (
        rate_customer(mixed, {**PLANS, "Dollar": usd}, [], november).bill.total.currency.code
        == "USD"
    )


def test_two_segments_of_one_plan_starting_the_same_day_get_names_of_their_own() -> None:
    """Basic at midnight, Pro at 08:00, Basic again at 18:00 on the same day: the lines
    of the two Basic segments stay apart (they shared ``fee@Basic/2026-10-05``)."""
    customer = _customer(
        Subscription(plan="Basic", start=_at(5)),
        Subscription(plan="Pro", start=_at(5).replace(hour=8)),
        Subscription(plan="Basic", start=_at(5).replace(hour=18)),
    )
    bill = rate_customer(customer, PLANS, [], OCTOBER).bill
    fees = [x.charge for x in bill.lines if x.charge.startswith("fee@")]
    assert fees == [
        "fee@Basic/2026-10-05",
        "fee@Pro/2026-10-05",
        "fee@Basic/2026-10-05T18:00:00+00:00",
    ]
    assert len({x.charge for x in bill.lines}) == len(bill.lines)
