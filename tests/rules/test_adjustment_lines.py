"""Adjustment lines show a sensible quantity and unit (issue 12): an IP credit line is the
IP's usage in the usage line's unit, never an amount of the currency ("2.682.000 EUR" on
the PDF); other adjustments are quantity 1 with no unit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate.invoice import Customer, assemble
from cloudrate.invoice.render import invoice_context
from cloudrate.rules import (
    DefaultIpCharge,
    FixedPayment,
    FreeFirstIp,
    PromoCode,
    PromoDiscount,
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
""")
PERIOD = cloudrate.BillingPeriod.month(2026, 10)


def ip(rid: str, hours: int, **attrs: object) -> cloudrate.UsageRecord:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    return cloudrate.UsageRecord(account="acme", metric="public_ip_hours", quantity=hours,
                                 start=start, end=start + timedelta(hours=hours),
                                 resource_id=rid, attributes=attrs)  # fmt: skip


@given(
    st.lists(st.integers(1, 744), min_size=1, max_size=4),
    st.sampled_from(["default", "free", "secondary"]),
)
def test_ip_credit_lines_are_the_ips_usage_in_the_usage_unit(hours, which):
    records = [
        ip(f"ip-{i}", h, is_default=(i == 0), is_secondary=(i == 1)) for i, h in enumerate(hours)
    ]
    rule = {
        "default": DefaultIpCharge(enabled=False),
        "free": FreeFirstIp(),
        "secondary": SecondaryIpBilling(enabled=False),
    }[which]
    result = cloudrate.rate(PLAN, records, PERIOD)
    bill = result.bill("acme")
    after = chain(rule).apply(bill, RuleContext.for_result(result, records))
    by_ip = {r.resource_id: r.quantity for r in records}
    for line in after.lines[len(bill.lines) :]:
        assert line.unit == "IP-hour" != line.currency
        assert line.quantity == by_ip[line.charge.rsplit(":", 1)[1]]
        assert line.metric == "public_ip_hours"


def test_other_adjustments_are_one_with_no_unit():
    records = [ip("ip-1", 300)]
    result = cloudrate.rate(PLAN, records, PERIOD)
    context = RuleContext.for_result(result, records)
    rules = chain(
        PromoDiscount(PromoCode(code="TENOFF", percent=10)),
        FixedPayment(amount=Money("2.00", "EUR"), overage_billed=True),
    )
    bill = result.bill("acme")
    after = rules.apply(bill, context)
    added = after.lines[len(bill.lines) :]
    assert len(added) >= 2
    assert {(x.quantity, x.unit) for x in added} == {(Decimal(1), "")}


def test_the_invoice_shows_the_ip_hours_not_euros():
    """On the rendered invoice the credit's quantity is the IP's 744 hours, with the unit."""
    records = [ip("ip-1", 744, is_default=True)]
    result = cloudrate.rate(PLAN, records, PERIOD)
    bill = chain(DefaultIpCharge(enabled=False)).apply(
        result.bill("acme"), RuleContext.for_result(result, records)
    )
    invoice = assemble(bill, Customer(id="acme", name="ACME", locale="de_DE"), PERIOD)
    rows = invoice_context(invoice, locale="de_DE", now=date(2026, 11, 1))["lines"]
    credit = next(r for r in rows if "Default IP" in str(r))
    assert credit["unit"] == "IP-hour" and credit["quantity"] == "744"
