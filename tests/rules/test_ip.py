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

    def test_after_default_ip_credit_the_next_ip_is_free(self):
        """With the default IP not charged, the free IP is the next one: no double credit."""
        before, after = run(
            [DefaultIpCharge(enabled=False), FreeFirstIp()],
            [ip("ip-1", 100, is_default=True), ip("ip-2", 100, 2), ip("ip-3", 100, 3)],
        )
        assert added(before, after) == {
            "public_ip:default_ip:ip-1": Decimal("-1.00"),
            "public_ip:free_ip:ip-2": Decimal("-1.00"),
        }
        assert after.total.amount == Decimal("6.00")


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
