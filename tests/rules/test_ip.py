"""IP rules: default IP charge, first IP free, secondary IP billing (each on and off)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cloudrate
from cloudrate.rules import (
    DefaultIpCharge,
    FreeFirstIp,
    IpAcquisition,
    RuleContext,
    SecondaryIpBilling,
    chain,
)

PLAN = cloudrate.load_plan("""
name: IPs
currency: EUR
metrics:
  public_ip_hours: {unit: IP-hour}
charges:
  - {name: public_ip, metric: public_ip_hours, model: per_unit, unit_price: "0.01"}
  - {name: platform, model: flat, price: "5.00"}
""")
PERIOD = cloudrate.BillingPeriod.month(2026, 10)


def ip(rid: str, hours: int, start_day: int = 1, account: str = "acme", **attrs: object):
    start = datetime(2026, 10, start_day, tzinfo=UTC)
    return cloudrate.UsageRecord(
        account=account,
        metric="public_ip_hours",
        quantity=hours,
        start=start,
        end=start + timedelta(hours=hours),
        resource_id=rid,
        attributes=attrs,
    )


def run(rules, records, history=()):
    result = cloudrate.rate(PLAN, records, PERIOD)
    context = RuleContext.for_result(result, records, ip_history=history)
    bill = result.bill("acme")
    return bill, chain(*rules).apply(bill, context)


def added(before, after):
    return {line.charge: line.rounded.amount for line in after.lines[len(before.lines) :]}


class TestDefaultIpCharge:
    def test_enabled_bills_the_default_ip(self):
        """Charged (the default): no line is added, the bill is unchanged."""
        before, after = run([DefaultIpCharge()], [ip("ip-1", 100, is_default=True)])
        assert after == before and before.total.amount == Decimal("6.00")

    def test_disabled_credits_only_the_default_ip(self):
        """Not charged: the source-NAT IP's 100 h at 0.01 are credited, the other IP stays."""
        before, after = run(
            [DefaultIpCharge(enabled=False)], [ip("ip-1", 100, issourcenat="true"), ip("ip-2", 50)]
        )
        assert added(before, after) == {"public_ip:default_ip:ip-1": Decimal("-1.00")}
        assert after.total.amount == Decimal("5.50")
        line = after.lines[-1]
        assert line.kind == "default_ip" and "source NAT" in line.description

    def test_no_ip_line_no_credit(self):
        """An account without IP usage gets no credit line."""
        result = cloudrate.rate(PLAN, [], PERIOD, accounts=["acme"])
        context = RuleContext.for_result(result, [])
        assert DefaultIpCharge(enabled=False).lines(result.bill("acme"), context) == ()


class TestFreeFirstIp:
    def test_disabled_bills_every_ip(self):
        """Disabled: all IPs including the first are billed."""
        before, after = run([FreeFirstIp(enabled=False)], [ip("ip-1", 10), ip("ip-2", 10)])
        assert after == before

    def test_earliest_acquisition_is_free_and_shown_as_net_zero(self):
        """The IP acquired first is free even if its id sorts later; the line says why."""
        history = [
            IpAcquisition(
                account="acme", resource_id="ip-b", acquired_at=datetime(2025, 3, 1, tzinfo=UTC)
            ),
            IpAcquisition(
                account="acme", resource_id="ip-a", acquired_at=datetime(2026, 1, 1, tzinfo=UTC)
            ),
        ]
        before, after = run([FreeFirstIp()], [ip("ip-a", 300), ip("ip-b", 200)], history)
        assert added(before, after) == {"public_ip:free_ip:ip-b": Decimal("-2.00")}
        line = after.lines[-1]
        assert line.description == "First public IP ip-b (acquired 2025-03-01) is free"
        assert line.details[-1].amount.amount == 0  # the IP's net amount

    def test_ties_broken_by_resource_id(self):
        """Two IPs acquired at the same moment: the smaller resource id is free."""
        before, after = run([FreeFirstIp()], [ip("ip-b", 10), ip("ip-a", 10)])
        assert list(added(before, after)) == ["public_ip:free_ip:ip-a"]

    def test_stable_across_periods_and_moves_on_release(self):
        """The free IP is the same in every period while held; after its release the next
        oldest IP held becomes free, from the release on."""
        history = [
            IpAcquisition(
                account="acme",
                resource_id="ip-old",
                acquired_at=datetime(2025, 1, 1, tzinfo=UTC),
                released_at=datetime(2026, 10, 11, tzinfo=UTC),
            ),
            IpAcquisition(
                account="acme", resource_id="ip-new", acquired_at=datetime(2025, 6, 1, tzinfo=UTC)
            ),
        ]
        records = [ip("ip-old", 240, 1), ip("ip-new", 240, 1), ip("ip-new", 240, 11)]
        before, after = run([FreeFirstIp()], records, history)
        # ip-old is free for its 240 h, ip-new from the 11th (240 of its 480 h).
        assert added(before, after) == {
            "public_ip:free_ip:ip-new": Decimal("-2.40"),
            "public_ip:free_ip:ip-old": Decimal("-2.40"),
        }

    def test_secondary_ips_are_never_the_free_ip(self):
        """A secondary IP acquired first does not take the free slot."""
        before, after = run([FreeFirstIp()], [ip("ip-0", 10, is_secondary=True), ip("ip-1", 10, 2)])
        assert list(added(before, after)) == ["public_ip:free_ip:ip-1"]

    def test_one_more_after_default_ip_credit_frees_the_next_ip(self):
        """free_ips="one_more" (the earlier reading): with the default IP not charged, the
        next IP is free too; no IP is credited twice."""
        before, after = run(
            [DefaultIpCharge(enabled=False), FreeFirstIp(free_ips="one_more")],
            [ip("ip-1", 100, is_default=True), ip("ip-2", 100, 2), ip("ip-3", 100, 3)],
        )
        assert added(before, after) == {
            "public_ip:default_ip:ip-1": Decimal("-1.00"),
            "public_ip:free_ip:ip-2": Decimal("-1.00"),
        }
        assert after.total.amount == Decimal("6.00")

    def test_one_in_total_the_default_ip_is_the_free_ip(self):
        """The default: with the default IP not charged, it is the account's one free IP and
        no other IP is credited."""
        before, after = run(
            [DefaultIpCharge(enabled=False), FreeFirstIp()],
            [ip("ip-1", 100, is_default=True), ip("ip-2", 100, 2), ip("ip-3", 100, 3)],
        )
        assert added(before, after) == {"public_ip:default_ip:ip-1": Decimal("-1.00")}
        assert after.total.amount == Decimal("7.00")  # 5.00 platform + 2 x 100 h x 0.01


#: Three IPs of 100 h at 0.01 (the IP line 3.00) and the 5.00 platform fee: 8.00.
THREE_IPS = [ip("ip-1", 100, is_default=True), ip("ip-2", 100, 2), ip("ip-3", 100, 3)]


class TestFreeIpsWithDefaultIpCharge:
    """Every combination of "default IP charge" and "free for one IP", under each reading
    of how many IPs are free; the bill's total worked out by hand from THREE_IPS."""

    @pytest.mark.parametrize(
        ("default_charged", "first_free", "free_ips", "credited", "total"),
        [
            # default IP billed, first IP billed: nothing credited
            (True, False, "one_in_total", {}, "8.00"),
            (True, False, "one_more", {}, "8.00"),
            # first IP free only: ip-1 was acquired first (day 1); 1.00 credited
            (True, True, "one_in_total", {"public_ip:free_ip:ip-1": "-1.00"}, "7.00"),
            (True, True, "one_more", {"public_ip:free_ip:ip-1": "-1.00"}, "7.00"),
            # default IP free only
            (False, False, "one_in_total", {"public_ip:default_ip:ip-1": "-1.00"}, "7.00"),
            (False, False, "one_more", {"public_ip:default_ip:ip-1": "-1.00"}, "7.00"),
            # both: one free IP in total (the default), or one more (two in all)
            (False, True, "one_in_total", {"public_ip:default_ip:ip-1": "-1.00"}, "7.00"),
            (
                False,
                True,
                "one_more",
                {"public_ip:default_ip:ip-1": "-1.00", "public_ip:free_ip:ip-2": "-1.00"},
                "6.00",
            ),
        ],
    )
    def test_combination(self, default_charged, first_free, free_ips, credited, total):
        rules = [
            DefaultIpCharge(enabled=default_charged),
            FreeFirstIp(enabled=first_free, free_ips=free_ips),
        ]
        before, after = run(rules, THREE_IPS)
        assert before.total.amount == Decimal("8.00")
        assert added(before, after) == {k: Decimal(v) for k, v in credited.items()}
        assert after.total.amount == Decimal(total)

    def test_the_default_ip_counts_only_while_it_is_held(self):
        """An IP held before the default IP was acquired is free until then: day 1 of ip-a
        (24 h, 0.24) is free, days 2 and 3 are not; the default IP's 48 h (0.48) are
        credited as the default IP. One IP is free at any time."""
        records = [
            ip("ip-a", 24, 1),
            ip("ip-a", 24, 2),
            ip("ip-a", 24, 3),
            ip("ip-nat", 24, 2, is_default=True),
            ip("ip-nat", 24, 3, is_default=True),
        ]
        before, after = run([DefaultIpCharge(enabled=False), FreeFirstIp()], records)
        assert added(before, after) == {
            "public_ip:default_ip:ip-nat": Decimal("-0.48"),
            "public_ip:free_ip:ip-a": Decimal("-0.24"),
        }

    @pytest.mark.parametrize(
        ("free_ips", "ip_b_credit"), [("one_in_total", "-2.40"), ("one_more", "-4.80")]
    )
    def test_after_the_default_ip_is_released_the_oldest_ip_is_free(self, free_ips, ip_b_credit):
        """The default IP (240 h, released on the 11th) is free; ip-b is free from the
        release on (240 of its 480 h) under one_in_total, all month under one_more."""
        history = [
            IpAcquisition(
                account="acme",
                resource_id="ip-nat",
                acquired_at=datetime(2025, 1, 1, tzinfo=UTC),
                released_at=datetime(2026, 10, 11, tzinfo=UTC),
            ),
            IpAcquisition(
                account="acme", resource_id="ip-b", acquired_at=datetime(2025, 6, 1, tzinfo=UTC)
            ),
        ]
        records = [ip("ip-nat", 240, 1, is_default=True), ip("ip-b", 240, 1), ip("ip-b", 240, 11)]
        before, after = run(
            [DefaultIpCharge(enabled=False), FreeFirstIp(free_ips=free_ips)], records, history
        )
        assert added(before, after) == {
            "public_ip:default_ip:ip-nat": Decimal("-2.40"),
            "public_ip:free_ip:ip-b": Decimal(ip_b_credit),
        }

    def test_free_secondary_ips_do_not_take_the_free_ip(self):
        """Secondary IPs made free by SecondaryIpBilling do not count towards the one free
        public IP: the first public IP is still free."""
        before, after = run(
            [SecondaryIpBilling(enabled=False), FreeFirstIp()],
            [ip("ip-0", 10, is_secondary=True), ip("ip-1", 10, 2)],
        )
        assert added(before, after) == {
            "public_ip:secondary_ip:ip-0": Decimal("-0.10"),
            "public_ip:free_ip:ip-1": Decimal("-0.10"),
        }

    def test_unknown_free_ips_is_refused_with_the_choices(self):
        with pytest.raises(
            cloudrate.PlanError, match="free_ips: must be one of one_in_total, one_more"
        ):
            FreeFirstIp(free_ips="two")


class TestSecondaryIpBilling:
    def test_enabled_bills_secondary(self):
        before, after = run([SecondaryIpBilling()], [ip("ip-1", 10, is_secondary=True)])
        assert after == before

    def test_disabled_credits_secondary_only(self):
        before, after = run(
            [SecondaryIpBilling(enabled=False)], [ip("ip-1", 10), ip("ip-2", 30, secondary="yes")]
        )
        assert added(before, after) == {"public_ip:secondary_ip:ip-2": Decimal("-0.30")}

    def test_dedicated_charge(self):
        """all_secondary credits every record of a secondary-only charge."""
        before, after = run(
            [SecondaryIpBilling(enabled=False, all_secondary=True)],
            [ip("ip-1", 10), ip("ip-2", 30)],
        )
        assert sum(added(before, after).values()) == Decimal("-0.40")


def test_sample_data_default_ip_not_charged(result, context):
    """acme's source-NAT IP (745 h in October 2026, Berlin) at 0.005 is credited."""
    bill = result.bill("acme")
    line = DefaultIpCharge(enabled=False).lines(bill, context)[0]
    assert line.amount.amount == -Decimal(745) * Decimal("0.005")


@given(
    st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=6),
    st.sampled_from(["half_up", "half_even"]),
)
def test_crediting_every_ip_nets_to_exactly_zero(hours, mode):
    """Whatever the usage and rounding, crediting all IPs leaves the IP charge at 0.00."""
    plan = cloudrate.load_plan(
        PLAN.to_dict()
        | {
            "charges": [
                {
                    "name": "public_ip",
                    "metric": "public_ip_hours",
                    "model": "per_unit",
                    "unit_price": "0.0137",
                }
            ],
            "rounding": {"mode": mode},
        }
    )
    records = [ip(f"ip-{i}", h, is_default=True) for i, h in enumerate(hours)]
    result = cloudrate.rate(plan, records, PERIOD)
    context = RuleContext.for_result(result, records)
    after = DefaultIpCharge(enabled=False).lines(result.bill("acme"), context)
    bill = result.bill("acme").with_lines(after)
    assert bill.total.amount == 0


def test_missing_resource_id_is_an_error():
    record = cloudrate.UsageRecord(
        account="acme",
        metric="public_ip_hours",
        quantity=1,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        end=datetime(2026, 10, 1, 1, tzinfo=UTC),
        attributes={"is_default": True},
    )
    with pytest.raises(cloudrate.RatingError, match="resource_id"):
        run([DefaultIpCharge(enabled=False)], [record])


RULES = st.sampled_from(
    [
        DefaultIpCharge(enabled=False),
        DefaultIpCharge(),
        FreeFirstIp(),
        FreeFirstIp(free_ips="one_more"),
        FreeFirstIp(enabled=False),
        SecondaryIpBilling(enabled=False),
    ]
)


@given(st.lists(RULES, max_size=4), st.lists(RULES, max_size=4), st.lists(RULES, max_size=4))
def test_chain_is_associative_and_applies_in_order(a, b, c):
    """chain(a, chain(b, c)) == chain(chain(a, b), c), and applying a chain equals applying
    its parts one after the other."""
    assert chain(*a, chain(*b, *c)) == chain(chain(*a, *b), *c) == chain(*a, *b, *c)
    records = [
        ip("ip-1", 100, is_default=True),
        ip("ip-2", 50, 2, is_secondary=True),
        ip("ip-3", 70, 3),
    ]
    result = cloudrate.rate(PLAN, records, PERIOD)
    context = RuleContext.for_result(result, records)
    bill = result.bill("acme")
    stepwise = chain(*c).apply(chain(*b).apply(chain(*a).apply(bill, context), context), context)
    assert chain(*a, *b, *c).apply(bill, context) == stepwise
    assert stepwise.lines[: len(bill.lines)] == bill.lines  # existing lines never edited
    assert stepwise.total.amount >= 5  # credits never take the IP charge below zero


def test_an_ip_is_credited_once_even_if_a_rule_repeats():
    before, after = run(
        [DefaultIpCharge(enabled=False), DefaultIpCharge(enabled=False)],
        [ip("ip-1", 100, is_default=True), ip("ip-2", 100)],
    )
    assert added(before, after) == {"public_ip:default_ip:ip-1": Decimal("-1.00")}


def test_context_without_the_rated_usage_is_an_error():
    """Forgetting to pass the usage would silently bill the default IP: refused."""
    records = [ip("ip-1", 100, is_default=True)]
    result = cloudrate.rate(PLAN, records, PERIOD)
    with pytest.raises(cloudrate.RatingError, match="pass the usage you rated"):
        DefaultIpCharge(enabled=False).lines(result.bill("acme"), RuleContext.for_result(result))


@given(st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=6))
def test_total_placement_crediting_every_ip_nets_to_zero(hours):
    """With rounding placement 'total' too, crediting all IPs nets the IP line to zero."""
    plan = cloudrate.load_plan(
        PLAN.to_dict()
        | {
            "charges": [
                {
                    "name": "public_ip",
                    "metric": "public_ip_hours",
                    "model": "per_unit",
                    "unit_price": "0.0137",
                },
                {"name": "fee", "model": "flat", "price": "0.333"},
            ],
            "rounding": {"placement": "total"},
        }
    )
    records = [ip(f"ip-{i}", h, is_default=True) for i, h in enumerate(hours)]
    result = cloudrate.rate(plan, records, PERIOD)
    bill = result.bill("acme")
    credit_lines = DefaultIpCharge(enabled=False).lines(
        bill, RuleContext.for_result(result, records)
    )
    assert sum(c.rounded.amount for c in credit_lines) == -bill.line("public_ip").rounded.amount


def test_partly_free_ip_says_which_usage_is_net_zero():
    history = [
        IpAcquisition(
            account="acme",
            resource_id="ip-old",
            acquired_at=datetime(2025, 1, 1, tzinfo=UTC),
            released_at=datetime(2026, 10, 11, tzinfo=UTC),
        ),
        IpAcquisition(
            account="acme", resource_id="ip-new", acquired_at=datetime(2025, 6, 1, tzinfo=UTC)
        ),
    ]
    records = [ip("ip-old", 240, 1), ip("ip-new", 240, 1), ip("ip-new", 240, 11)]
    _, after = run([FreeFirstIp()], records, history)
    labels = {line.charge: line.details[-1].label for line in after.lines if line.kind != "charge"}
    assert labels == {
        "public_ip:free_ip:ip-new": "ip-new net for the usage credited",
        "public_ip:free_ip:ip-old": "ip-old net",
    }
