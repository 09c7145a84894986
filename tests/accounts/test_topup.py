"""Automatic top-ups: threshold and schedule rules give requests keyed by what triggered
them, clamped to the recharge limits, and done once a recharge carries their key."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from moneyed import Money

from cloudrate.accounts import (
    Account,
    Ledger,
    MemoryLedgerStore,
    NegativeBalance,
    RechargeLimits,
    SQLiteLedgerStore,
    TopUpBelow,
    TopUpMonthly,
    TopUpRequest,
    TopUpWeekly,
    topup_requests,
)
from cloudrate.exceptions import PlanError, RechargeLimitError, UnknownAccountError, WalletError

AT = datetime(2026, 11, 1, 8, tzinfo=UTC)


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


@pytest.fixture(name="store", params=["memory", "sqlite"])
def _store(request, tmp_path):
    if request.param == "memory":
        yield MemoryLedgerStore()
    else:
        store = SQLiteLedgerStore(tmp_path / "ledger.db")
        yield store
        store.close()


def _ledger(store, **kwargs) -> Ledger:
    ledger = Ledger(store, **kwargs)
    ledger.open("acme", "EUR", at=AT)
    return ledger


def _hour(n: int) -> datetime:
    return AT + timedelta(hours=n)


class TestTopUpBelow:
    def test_the_entry_that_crosses_triggers_one_request(self, store):
        """12.00, then 6.00 used (6.00: not below 5.00), then 2.00 (4.00: below): one request
        for 20.00, keyed by the account, the rule and the entry that crossed, dated at it."""
        ledger = _ledger(store)
        ledger.recharge("acme", eur("12.00"), key="pay-1", at=AT)
        rule = TopUpBelow(threshold=eur("5.00"), amount=eur("20.00"), label="low")
        ledger.deduct("acme", eur("6.00"), key="d1", at=_hour(1))
        assert topup_requests(ledger, {"acme": rule}, _hour(1)) == ()
        ledger.deduct("acme", eur("2.00"), key="d2", at=_hour(2))
        [request] = topup_requests(ledger, {"acme": rule}, _hour(3))
        assert request == TopUpRequest(
            account="acme",
            amount=eur("20.00"),
            requested=eur("20.00"),
            rule="low",
            trigger="d2",
            at=_hour(2),
            reason="entry 'd2' took the balance from 6.00 to 4.00 EUR, below the threshold of "
            "5.00 EUR; top up by 20.00 EUR",
        )
        assert request.key == "topup:acme/low/d2"
        assert request.subject == "acme/low/d2"

    def test_asking_again_gives_the_same_request_until_it_is_recharged(self, store):
        """While the balance stays below, the crossing entry and so the request stay the
        same (also the target amount, computed at the crossing: 30.00 - 4.00 = 26.00); a
        recharge with its key ends it; the next crossing is a new request."""
        ledger = _ledger(store)
        ledger.recharge("acme", eur("12.00"), key="pay-1", at=AT)
        rule = TopUpBelow(threshold=eur("5.00"), target=eur("30.00"))
        ledger.deduct("acme", eur("8.00"), key="d1", at=_hour(1))  # 4.00
        first = topup_requests(ledger, {"acme": rule}, _hour(1))
        ledger.deduct("acme", eur("3.00"), key="d2", at=_hour(2))  # 1.00
        again = topup_requests(ledger, {"acme": rule}, _hour(5))
        assert again == first
        assert first[0].amount == eur("26.00") and first[0].key == "topup:acme/below-5.00/d1"
        ledger.recharge("acme", first[0].amount, key=first[0].key, at=_hour(6))  # 27.00
        assert topup_requests(ledger, {"acme": rule}, _hour(6)) == ()
        ledger.deduct("acme", eur("23.00"), key="d3", at=_hour(7))  # 4.00
        [next_one] = topup_requests(ledger, {"acme": rule}, _hour(7))
        assert next_one.trigger == "d3" and next_one.amount == eur("26.00")

    def test_a_recharge_back_above_re_arms_without_a_request(self, store):
        """Back at or above the threshold by any money: nothing is requested."""
        ledger = _ledger(store)
        ledger.recharge("acme", eur("6.00"), key="pay-1", at=AT)
        ledger.deduct("acme", eur("2.00"), key="d1", at=AT)  # 4.00
        ledger.recharge("acme", eur("1.00"), key="pay-2", at=AT)  # 5.00: at, not below
        rule = TopUpBelow(threshold=eur("5.00"), amount=eur("10.00"))
        assert topup_requests(ledger, {"acme": rule}, AT) == ()

    def test_a_wallet_never_above_the_threshold_has_not_crossed(self, store):
        """An empty wallet going negative never was at or above 5.00: no request."""
        ledger = _ledger(store, negative_balance=NegativeBalance(allowed=True))
        ledger.deduct("acme", eur("2.00"), key="d1", at=AT)
        rule = TopUpBelow(threshold=eur("5.00"), amount=eur("10.00"))
        assert topup_requests(ledger, {"acme": rule}, AT) == ()

    def test_below_the_minimum_is_raised_to_it(self, store):
        """Target 30.00, balance 28.00 after crossing 29.00 wants 2.00; the minimum recharge
        of 10.00 raises it (the reason says so)."""
        limits = RechargeLimits(minimum=eur("10.00"), maximum=eur("50.00"))
        ledger = _ledger(store, recharge_limits=limits)
        ledger.recharge("acme", eur("30.00"), key="pay-1", at=AT)
        ledger.deduct("acme", eur("2.00"), key="d1", at=AT)
        rule = TopUpBelow(threshold=eur("29.00"), target=eur("30.00"))
        [request] = topup_requests(ledger, {"acme": rule}, AT)
        assert (request.requested, request.amount) == (eur("2.00"), eur("10.00"))
        assert request.reason.endswith("; raised to the minimum recharge of 10.00 EUR")

    def test_above_the_maximum_is_lowered_to_it(self, store):
        """A fixed 100.00 with a maximum recharge of 50.00 asks for 50.00."""
        limits = RechargeLimits(minimum=eur("10.00"), maximum=eur("50.00"))
        ledger = _ledger(store, recharge_limits=limits)
        ledger.recharge("acme", eur("10.00"), key="pay-1", at=AT)
        ledger.deduct("acme", eur("6.00"), key="d1", at=AT)
        rule = TopUpBelow(threshold=eur("5.00"), amount=eur("100.00"))
        [request] = topup_requests(ledger, {"acme": rule}, AT)
        assert (request.requested, request.amount) == (eur("100.00"), eur("50.00"))
        assert request.reason.endswith("; lowered to the maximum recharge of 50.00 EUR")
        entry = ledger.recharge("acme", request.amount, key=request.key, at=AT)
        assert entry.amount == eur("50.00")  # within the limits the ledger checks

    def test_limits_in_another_currency_are_refused(self):
        """Recharge limits in USD cannot bound a EUR top-up."""
        ledger = _ledger(
            MemoryLedgerStore(), recharge_limits=RechargeLimits(minimum=Money("1", "USD"))
        )
        ledger.adjust("acme", eur("6.00"), key="a1", at=AT, memo="opening balance")
        ledger.deduct("acme", eur("2.00"), key="d1", at=AT)
        rule = TopUpBelow(threshold=eur("5.00"), amount=eur("10.00"))
        with pytest.raises(RechargeLimitError, match="another currency than the recharge limits"):
            topup_requests(ledger, {"acme": rule}, AT)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({}, "give exactly one of amount="),
            ({"amount": eur("1"), "target": eur("9")}, "give exactly one of amount="),
            ({"target": eur("5.00")}, "target 5.00 EUR must be above the threshold"),
            ({"amount": Money("1", "USD")}, "give every amount of a rule in one currency"),
            ({"amount": eur("0")}, "amount: must be above zero"),
            ({"amount": eur("1"), "label": "a/b"}, "without '/'"),
        ],
    )
    def test_bad_rules_say_the_fix(self, kwargs, message):
        with pytest.raises(WalletError, match=message):
            TopUpBelow(threshold=eur("5.00"), **kwargs)

    def test_a_rule_in_another_currency_than_the_account(self):
        """A USD rule on a EUR wallet names both and the fix."""
        ledger = _ledger(MemoryLedgerStore())
        rule = TopUpBelow(threshold=Money("5", "USD"), amount=Money("10", "USD"))
        with pytest.raises(WalletError, match="is in USD but the account is in EUR"):
            topup_requests(ledger, {"acme": rule}, AT)


class TestSchedules:
    def test_monthly_latest_slot_from_the_account_opening(self, store):
        """Day 15 of each month, account opened on 1 November: nothing on the 10th (the
        October slot is before the opening); on the 15th at midnight the slot 2026-11-15;
        still that slot on 3 December; recharged, nothing; 15 December the next slot."""
        ledger = _ledger(store)
        rule = TopUpMonthly(day=15, amount=eur("25.00"))
        rules = {"acme": rule}
        assert topup_requests(ledger, rules, datetime(2026, 11, 10, tzinfo=UTC)) == ()
        [request] = topup_requests(ledger, rules, datetime(2026, 11, 15, tzinfo=UTC))
        assert (request.key, request.at, request.amount) == (
            "topup:acme/monthly-15/2026-11-15",
            datetime(2026, 11, 15, tzinfo=UTC),
            eur("25.00"),
        )
        assert topup_requests(ledger, rules, datetime(2026, 12, 3, tzinfo=UTC)) == (request,)
        ledger.recharge("acme", request.amount, key=request.key, at=request.at)
        assert topup_requests(ledger, rules, datetime(2026, 12, 3, tzinfo=UTC)) == ()
        [december] = topup_requests(ledger, rules, datetime(2026, 12, 15, 9, tzinfo=UTC))
        assert december.trigger == "2026-12-15"

    def test_monthly_slots_start_at_local_midnight(self):
        """Day 1 in Berlin: 23:30 UTC on 31 October is 00:30 on 1 November there, so the
        November slot is due, starting at 23:00 UTC (CET)."""
        ledger = Ledger()
        ledger.open("acme", "EUR", at=datetime(2026, 10, 1, tzinfo=UTC))
        rule = TopUpMonthly(day=1, amount=eur("10.00"), timezone="Europe/Berlin")
        [request] = topup_requests(
            ledger, {"acme": rule}, datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
        )
        assert request.trigger == "2026-11-01"
        assert request.at == datetime(2026, 10, 31, 23, tzinfo=UTC)

    def test_monthly_day_past_the_month_end_and_start(self):
        """Day 31 is 30 November and 31 December; *start* skips slots before it."""
        ledger = Ledger()
        ledger.open("acme", "EUR", at=datetime(2026, 1, 1, tzinfo=UTC))
        rule = TopUpMonthly(day=31, amount=eur("10.00"))
        [nov] = topup_requests(ledger, {"acme": rule}, datetime(2026, 12, 1, tzinfo=UTC))
        assert nov.trigger == "2026-11-30"
        late = TopUpMonthly(day=31, amount=eur("10.00"), start=date(2026, 12, 1))
        assert topup_requests(ledger, {"acme": late}, datetime(2026, 12, 1, tzinfo=UTC)) == ()
        [dec] = topup_requests(ledger, {"acme": late}, datetime(2027, 1, 2, tzinfo=UTC))
        assert dec.trigger == "2026-12-31"

    def test_monthly_in_january_looks_back_to_december(self):
        """On 3 January with day 10, the latest slot is 10 December of the year before."""
        ledger = Ledger()
        ledger.open("acme", "EUR", at=datetime(2026, 1, 1, tzinfo=UTC))
        rule = TopUpMonthly(day=10, amount=eur("10.00"))
        [request] = topup_requests(ledger, {"acme": rule}, datetime(2027, 1, 3, tzinfo=UTC))
        assert request.trigger == "2026-12-10"

    @pytest.mark.parametrize(
        ("now", "slot"),
        [
            (datetime(2026, 11, 18, 12, tzinfo=UTC), "2026-11-16"),  # a Wednesday
            (datetime(2026, 11, 16, 0, tzinfo=UTC), "2026-11-16"),  # Monday midnight
            (datetime(2026, 11, 15, 23, 59, tzinfo=UTC), "2026-11-09"),  # Sunday
        ],
    )
    def test_weekly_latest_monday(self, now, slot):
        ledger = Ledger()
        ledger.open("acme", "EUR", at=datetime(2026, 11, 2, tzinfo=UTC))
        rule = TopUpWeekly(weekday="Monday", amount=eur("5.00"))
        [request] = topup_requests(ledger, {"acme": rule}, now)
        assert request.trigger == slot and request.rule == "weekly-monday"

    @pytest.mark.parametrize(
        ("build", "message"),
        [
            (lambda: TopUpMonthly(day=0, amount=eur("1")), "day: expected a day of the month"),
            (lambda: TopUpMonthly(day=32, amount=eur("1")), "day: expected a day of the month"),
            (lambda: TopUpWeekly(weekday=7, amount=eur("1")), r"weekday: expected 0 \(Monday\)"),
            (lambda: TopUpWeekly(weekday="mon", amount=eur("1")), "weekday: expected 0"),
            (lambda: TopUpMonthly(day=1, amount=eur("-1")), "amount: must be above zero"),
        ],
    )
    def test_bad_schedules_say_the_fix(self, build, message):
        with pytest.raises(WalletError, match=message):
            build()

    def test_bad_timezone(self):
        with pytest.raises(PlanError, match="'Mars/Base' is not an IANA timezone"):
            TopUpMonthly(day=1, amount=eur("1"), timezone="Mars/Base")


class TestTopUpRequests:
    def test_several_rules_and_accounts(self, store):
        """Requests by account name, then in the order of each account's rules."""
        ledger = _ledger(store)
        ledger.open("globex", "EUR", at=AT)
        ledger.recharge("acme", eur("6.00"), key="pay-a", at=AT)
        ledger.deduct("acme", eur("2.00"), key="d-a", at=AT)
        rules = {
            "globex": TopUpWeekly(weekday=0, amount=eur("5.00")),
            "acme": [
                TopUpMonthly(day=2, amount=eur("9.00")),
                TopUpBelow(threshold=eur("5.00"), amount=eur("10.00")),
            ],
        }
        requests = topup_requests(ledger, rules, datetime(2026, 11, 4, tzinfo=UTC))
        assert [r.key for r in requests] == [
            "topup:acme/monthly-2/2026-11-02",
            "topup:acme/below-5.00/d-a",
            "topup:globex/weekly-monday/2026-11-02",
        ]

    def test_two_rules_of_one_name_are_refused(self):
        ledger = _ledger(MemoryLedgerStore())
        rules = {
            "acme": [TopUpMonthly(day=1, amount=eur("1")), TopUpMonthly(day=1, amount=eur("2"))]
        }
        with pytest.raises(WalletError, match="more than one rule is named 'monthly-1'"):
            topup_requests(ledger, rules, AT)

    def test_an_unknown_account_is_named(self):
        with pytest.raises(UnknownAccountError, match=r"rules\['ghost'\]: account 'ghost'"):
            topup_requests(Ledger(), {"ghost": TopUpMonthly(day=1, amount=eur("1"))}, AT)

    def test_now_must_be_aware(self):
        ledger = _ledger(MemoryLedgerStore())
        with pytest.raises(WalletError, match="has no timezone"):
            topup_requests(
                ledger,
                {"acme": TopUpMonthly(day=1, amount=eur("1"))},
                datetime(2026, 11, 1),
            )

    def test_to_dict(self):
        request = TopUpRequest(
            account="acme",
            amount=eur("10.00"),
            requested=eur("2.00"),
            rule="low",
            trigger="d1",
            at=AT,
            reason="why",
        )
        assert request.to_dict() == {
            "account": "acme",
            "key": "topup:acme/low/d1",
            "amount": "10.00",
            "requested": "2.00",
            "currency": "EUR",
            "rule": "low",
            "trigger": "d1",
            "at": "2026-11-01T08:00:00+00:00",
            "reason": "why",
        }

    def test_rules_read_the_account_only(self):
        """A rule's due() is pure: the account and its entries in, the wants out."""
        acct = Account("acme", "EUR", AT)
        rule = TopUpWeekly(weekday=6, amount=eur("1.00"))
        assert rule.due(acct, (), datetime(2026, 11, 8, tzinfo=UTC))[0].slot == "2026-11-08"
