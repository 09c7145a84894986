"""Customers and their subscriptions from a YAML document (``customers.yaml``).

Every problem of the document is reported at once, each with its path and line, as plans
are::

    customers:
      - id: acme
        name: ACME GmbH
        country: DE
        subscriptions:
          - {plan: Basic, from: "2026-10-01T00:00:00Z"}
          - {plan: Pro, from: "2026-10-16T00:00:00Z"}   # a change: Basic ends where Pro starts
            # optional: to (cancellation), trial_until, interval (month, year, week),
            # every (N intervals), anchor (calendar, anniversary), overrides, override_label,
            # trial_allowances (charge: free units during the trial)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from cloudrate._documents import FieldReader, join_path, load_document
from cloudrate.exceptions import CloudrateError
from cloudrate.invoice import Customer
from cloudrate.plans import ChargeOverride, Plan, read_overrides

from ._subscriptions import ANCHORS, INTERVALS, BillingCustomer, Subscription

__all__ = ["load_billing_customers"]

# "einvoice" holds the buyer's e-invoice details, read by the CLI (docs/einvoices.md)
_CUSTOMER_KEYS = (
    "id",
    "name",
    "address",
    "tax_id",
    "country",
    "locale",
    "email",
    "subscriptions",
    "einvoice",
)
_SUBSCRIPTION_KEYS = (
    "plan",
    "from",
    "to",
    "trial_until",
    "interval",
    "every",
    "anchor",
    "overrides",
    "override_label",
    "trial_allowances",
)


def _instant(r: FieldReader, data: Mapping[str, Any], key: str, path: str) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    where = join_path(path, key)
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            r.doc.problem(
                where, "bad_instant", "expected an instant such as 2026-10-01T00:00:00Z", value
            )
            return None
    if moment.utcoffset() is None:
        r.doc.problem(
            where, "no_timezone", "give the instant's offset, e.g. 2026-10-01T00:00:00Z", str(value)
        )
        return None
    return moment


def _allowances(
    r: FieldReader, data: Mapping[str, Any], path: str, plan: Plan | None
) -> tuple[ChargeOverride, ...]:
    """``trial_allowances``: free units per charge during the trial."""
    raw = data.get("trial_allowances")
    if raw is None or plan is None:
        return ()
    where = join_path(path, "trial_allowances")
    if not isinstance(raw, Mapping):
        r.doc.problem(where, "not_a_mapping", "expected charge: free units, e.g. {compute: 100}")
        return ()
    names = {c.name for c in plan.charges}
    out = []
    for charge in raw:
        if charge not in names:
            r.doc.problem(
                join_path(where, charge),
                "unknown_charge",
                f"plan {plan.name!r} has no charge of this name; its charges are "
                f"{', '.join(sorted(names))}",
                charge,
            )
            continue
        units = r.number(raw, charge, where, required=True)
        if units is not None:
            out.append(ChargeOverride(charge=str(charge), free_units=units))
    return tuple(out)


def _subscription(
    r: FieldReader, raw: Any, path: str, plans: Mapping[str, Plan]
) -> Subscription | None:
    data = r.mapping(raw, path, _SUBSCRIPTION_KEYS)
    name = r.text(data, "plan", path, required=True)
    start = _instant(r, data, "from", path)
    if start is None and "from" not in data:
        r.doc.problem(
            join_path(path, "from"), "missing", "from is required: when the subscription starts"
        )
    end, trial = _instant(r, data, "to", path), _instant(r, data, "trial_until", path)
    interval = r.choice(data, "interval", path, INTERVALS, "month")
    anchor = r.choice(data, "anchor", path, ANCHORS, "calendar")
    every = r.whole(data, "every", path)
    plan = plans.get(name) if isinstance(name, str) else None
    if isinstance(name, str) and plan is None:
        r.doc.problem(
            join_path(path, "plan"),
            "unknown_plan",
            f"no plan of this name was given; the plans are {', '.join(sorted(plans)) or 'none'}",
            name,
        )
    overrides: tuple[ChargeOverride, ...] = ()
    if plan is not None and data.get("overrides") is not None:
        overrides = read_overrides(
            data["overrides"], plan, path=join_path(path, "overrides"), reader=r
        )
    label = r.text(data, "override_label", path, default="contract")
    allowances = _allowances(r, data, path, plan)
    if name is None or start is None or plan is None:
        return None
    try:
        return Subscription(
            plan=name,
            start=start,
            end=end,
            trial_end=trial,
            interval=interval,
            every=every or 1,
            anchor=anchor,
            overrides=overrides,
            override_label=label,
            trial_allowances=allowances,
        )
    except CloudrateError as exc:
        r.doc.problem(path, "bad_subscription", str(exc))
        return None


def load_billing_customers(
    source: str | Path | Mapping[str, Any], plans: Mapping[str, Plan]
) -> tuple[BillingCustomer, ...]:
    """The customers of *source* (a path, YAML text or a mapping), their subscriptions
    naming plans of *plans* (by plan name). Raises
    :class:`~cloudrate.exceptions.ConfigError` listing every problem.

    >>> import cloudrate
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> (acme,) = load_billing_customers({"customers": [{"id": "acme", "name": "ACME GmbH",
    ...     "subscriptions": [{"plan": plan.name, "from": "2026-10-01T00:00:00Z"}]}]},
    ...     {plan.name: plan})
    >>> acme.id, acme.subscriptions[0].anchor
    ('acme', 'calendar')
    """
    doc = load_document(source)
    r = FieldReader(doc)
    top = r.mapping(doc.data, "", ("customers",))
    raw = top.get("customers")
    if not isinstance(raw, list):
        doc.problem("customers", "not_a_list", "expected a list of customers")
        raw = []
    out = []
    for i, item in enumerate(raw):
        path = f"customers[{i}]"
        data = r.mapping(item, path, _CUSTOMER_KEYS)
        ident = r.text(data, "id", path, required=True)
        subs_raw = data.get("subscriptions")
        if not isinstance(subs_raw, list) or not subs_raw:
            doc.problem(join_path(path, "subscriptions"), "missing", "give a list of subscriptions")
            subs_raw = []
        subs = [
            _subscription(r, s, f"{path}.subscriptions[{j}]", plans) for j, s in enumerate(subs_raw)
        ]
        if ident is None or any(s is None for s in subs) or not subs:
            continue
        try:
            details = {
                k: data[k]
                for k in ("address", "tax_id", "country", "locale", "email")
                if data.get(k) is not None
            }
            customer = Customer(id=ident, name=str(data.get("name") or ident), **details)
            out.append(
                BillingCustomer(customer=customer, subscriptions=tuple(s for s in subs if s))
            )
        except CloudrateError as exc:
            doc.problem(path, "bad_customer", str(exc))
    doc.raise_if_problems()
    return tuple(out)
