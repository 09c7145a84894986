"""Combined ``where`` conditions: both engines select the same records (issue 13).

The per-record engine (``rate()``) and the columnar one (``rate_table()``) give the same
result, and what a charge selects equals a brute-force reading of its condition.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate import BillingPeriod, UsageRecord
from cloudrate.rating.columnar import rate_table, to_table

OCTOBER = BillingPeriod.month(2026, 10, "UTC")
HOUR = timedelta(hours=1)
ATTRIBUTES = ("zone", "state")
VALUES = ("a", "b", "c")


def brute(data: Any, attributes: dict[str, str]) -> bool:
    """What the plan form *data* means, read directly: a mapping holds when each entry does."""
    results = []
    for key, value in data.items():
        if key == "all":
            results.append(all(brute(c, attributes) for c in value))
        elif key == "any":
            results.append(any(brute(c, attributes) for c in value))
        elif key == "not":
            results.append(not brute(value, attributes))
        else:
            results.append(attributes.get(key) in (value if isinstance(value, list) else [value]))
    return all(results)


values = st.one_of(
    st.sampled_from(VALUES), st.lists(st.sampled_from(VALUES), min_size=1, max_size=2)
)
plain = st.dictionaries(st.sampled_from(ATTRIBUTES), values, min_size=1, max_size=2)
conditions = st.recursive(
    plain,
    lambda children: st.one_of(
        st.builds(lambda cs: {"all": cs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda cs: {"any": cs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, children),
    ),
    max_leaves=6,
)
rows = st.tuples(
    st.sampled_from(("acme", "globex")),
    st.dictionaries(st.sampled_from(ATTRIBUTES), st.sampled_from(VALUES)),
    st.integers(min_value=1, max_value=500),
    st.sampled_from(("ip_hours", "peak")),
)


def _plan(where: Any) -> cloudrate.Plan:
    charge = {"model": "per_unit", "unit_price": "1", "where": where}
    return cloudrate.load_plan(
        {
            "name": "where",
            "currency": "EUR",
            "metrics": {"peak": {"aggregation": "max"}},
            "charges": [
                {"name": "selected", "metric": "ip_hours", **charge},
                {"name": "rest", "metric": "ip_hours", **charge, "where": {"not": where}},
                {"name": "peak_selected", "metric": "peak", **charge},
            ],
        }
    )


def _records(drawn: list[tuple[str, dict[str, str], int, str]]) -> list[UsageRecord]:
    return [
        UsageRecord(
            account=account,
            metric=metric,
            quantity=Decimal(quantity) / 100,
            start=OCTOBER.start + i * HOUR,
            end=OCTOBER.start + (i + 1) * HOUR,
            attributes=attributes,
            resource_id=f"r{i}",
        )
        for i, (account, attributes, quantity, metric) in enumerate(drawn)
    ]


@settings(max_examples=120, deadline=None)
@given(where=conditions, drawn=st.lists(rows, min_size=1, max_size=10))
def test_both_engines_select_what_the_condition_says(where, drawn):
    plan = _plan(where)
    records = _records(drawn)
    by_records = cloudrate.rate(plan, records, OCTOBER, on_unpriced="report")
    by_table = rate_table(plan, to_table(records), OCTOBER, on_unpriced="report")
    assert by_table.to_json() == by_records.to_json()

    for account in {r.account for r in records}:
        mine = [r for r in records if r.account == account]
        hours = [r for r in mine if r.metric == "ip_hours"]
        chosen = sum((r.quantity for r in hours if brute(where, r.attributes)), Decimal(0))
        others = sum((r.quantity for r in hours if not brute(where, r.attributes)), Decimal(0))
        peaks = [r.quantity for r in mine if r.metric == "peak" and brute(where, r.attributes)]
        quantities = {line.charge: line.quantity for line in by_records.bill(account).lines}
        assert quantities.get("selected", Decimal(0)) == chosen
        assert quantities.get("rest", Decimal(0)) == others
        assert quantities.get("peak_selected", Decimal(0)) == max(peaks, default=Decimal(0))


#: AWS's former Elastic IP rule, from https://aws.amazon.com/ec2/pricing/on-demand/
#: ("Elastic IP Addresses", as it read before February 2024): one Elastic IP address
#: associated with a running instance at no charge; each additional one associated with a
#: running instance, and each one not associated with a running instance, $0.005 per hour.
FREE_IP = {"all": [{"attached": True}, {"instance_state": "running"}, {"ip_index": 1}]}
ELASTIC_IP_PLAN = {
    "name": "ec2-elastic-ip",
    "currency": "USD",
    "charges": [
        {
            "name": "eip_free",
            "description": "Elastic IP on a running instance (first)",
            "metric": "eip_hours",
            "model": "per_unit",
            "unit_price": "0",
            "where": FREE_IP,
        },
        {
            "name": "eip",
            "description": "Elastic IP, additional or idle",
            "metric": "eip_hours",
            "model": "per_unit",
            "unit_price": "0.005",
            "where": {"not": FREE_IP},
        },
    ],
}


def _ip(ip: str, hours: int, **attributes: str) -> UsageRecord:
    return UsageRecord(
        account="acme",
        metric="eip_hours",
        quantity=Decimal(hours),
        start=OCTOBER.start,
        end=OCTOBER.start + hours * HOUR,
        attributes=attributes,
        resource_id=ip,
    )


def test_aws_elastic_ip_first_on_a_running_instance_is_free():
    """October 2026 (744 hours), account acme, four Elastic IPs:

    - 203.0.113.1, first IP of running i-1, 744 h: free;
    - 203.0.113.2, second IP of running i-1, 744 h: 744 x 0.005 = 3.72;
    - 203.0.113.3, only IP of stopped i-2, 100 h: 100 x 0.005 = 0.50;
    - 203.0.113.4, not attached, 50 h: 50 x 0.005 = 0.25.

    Charged: 744 + 100 + 50 = 894 h, 894 x 0.005 = 4.47 USD; free: 744 h, 0.00 USD.
    """
    plan = cloudrate.load_plan(ELASTIC_IP_PLAN)
    records = [
        _ip("203.0.113.1", 744, attached="true", instance_state="running", ip_index="1"),
        _ip("203.0.113.2", 744, attached="true", instance_state="running", ip_index="2"),
        _ip("203.0.113.3", 100, attached="true", instance_state="stopped", ip_index="1"),
        _ip("203.0.113.4", 50, attached="false"),
    ]
    by_records = cloudrate.rate(plan, records, OCTOBER)
    by_table = rate_table(plan, to_table(records), OCTOBER)
    assert by_table.to_json() == by_records.to_json()
    bill = by_records.bill("acme")
    assert bill.line("eip_free").quantity == Decimal(744)
    assert bill.line("eip_free").rounded.amount == Decimal("0.00")
    assert bill.line("eip").quantity == Decimal(894)
    assert bill.line("eip").rounded.amount == Decimal("4.47")
    assert bill.total.amount == Decimal("4.47")
    assert cloudrate.load_plan(plan.to_dict()) == plan
