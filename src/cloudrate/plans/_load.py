"""Plan documents (YAML text, files or dicts) to typed :class:`~cloudrate.plans.Plan` objects.

YAML is read safely through :func:`yaml.compose`, so every value keeps its line for
error messages. Numbers become exact Decimals from their text, never floats; only
``true``/``false`` are booleans (YAML 1.1's ``yes``/``no``/``on``/``off`` stay
strings). Every problem of a document is collected and raised together as one
:class:`~cloudrate.exceptions.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from moneyed import Money

from cloudrate._documents import Document, FieldReader, join_path, load_document
from cloudrate._money import (
    MAX_DIGITS,
    MINOR_UNITS,
    MODES,
    PLACEMENTS,
    RoundingPolicy,
    check_currency,
)
from cloudrate.exceptions import CloudrateError
from cloudrate.period import zone

from ._charge import Charge
from ._metrics import AGGREGATIONS, MONTH_HOURS, Metric
from ._plan import Plan
from ._profiles import apply_profile, unknown_profile
from ._quantity_rounding import read_quantity_rounding
from ._read_charge import read_charge
from ._read_versions import read_versions

__all__ = ["dump_plan", "load_plan", "plan_from_document", "plan_to_yaml"]


_PLAN_KEYS = (
    "profile",
    "name",
    "currency",
    "version",
    "description",
    "effective_from",
    "effective_to",
    "timezone",
    "rounding",
    "metrics",
    "charges",
    "versions",
)


#: The keys of a metric in a plan file.
_METRIC_KEYS = ("unit", "usage_unit", "aggregation", "description", "month_hours", "rounding")


def _metrics(r: FieldReader, raw: Any, path: str) -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    if raw is None:
        return out
    if not isinstance(raw, Mapping):
        r.doc.problem(path, "not_a_mapping", "expected metric_name: {unit: ..., ...}")
        return out
    for name, spec in raw.items():
        mpath = join_path(path, name)
        spec = {} if spec is None else spec
        data = r.mapping(spec, mpath, _METRIC_KEYS)
        rounding = read_quantity_rounding(r, data, mpath)
        try:
            out[name] = Metric(
                name=name,
                unit=r.text(data, "unit", mpath, default="unit"),
                usage_unit=r.text(data, "usage_unit", mpath),
                aggregation=r.choice(data, "aggregation", mpath, AGGREGATIONS, "sum"),
                description=r.text(data, "description", mpath),
                month_hours=r.choice(data, "month_hours", mpath, MONTH_HOURS, "period"),
                rounding=rounding,
            )
        except CloudrateError as exc:
            if "month_hours" in str(exc):
                r.doc.problem(join_path(mpath, "month_hours"), "bad_value", str(exc))
            else:
                r.doc.problem(join_path(mpath, "usage_unit"), "bad_unit", str(exc))
    return out


#: ISO 4217's code for "no currency": the charges of a plan whose currency is missing or
#: unknown are read in it, so their own problems are reported with the currency's.
_NO_CURRENCY = "XXX"


class _AnyCurrency(FieldReader):
    """Reads the charges of a plan whose currency is missing or unknown: a price written
    with its currency (``'0.10 USD'``) cannot be compared with the plan's, so only its
    amount (and that its currency is a real one) is checked."""

    def price(
        self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True
    ) -> Money | None:
        value = data.get(key)
        if isinstance(value, str) and " " in value.strip():
            amount, _, code = value.strip().rpartition(" ")
            try:
                check_currency(code)
            except CloudrateError:
                pass  # the reader reports the unknown currency
            else:
                data = {**data, key: amount}
        return super().price(data, key, path, required=required)


def _currency(r: FieldReader, data: Mapping[str, Any]) -> str | None:
    """The plan's currency, which every price of the plan is read in."""
    currency: str | None = r.text(data, "currency", "", required=True)
    if currency is None:
        return None
    try:
        r.currency = check_currency(currency)
    except CloudrateError:
        r.doc.problem(
            "currency", "unknown_currency", 'not an ISO 4217 code such as "EUR"', currency
        )
        return None
    return currency


def _rounding(r: FieldReader, data: Mapping[str, Any]) -> RoundingPolicy:
    if data.get("rounding") is None:
        return RoundingPolicy()
    rdata = r.mapping(data["rounding"], "rounding", ("mode", "placement", "digits", "minor_units"))
    digits = r.whole(rdata, "digits", "rounding")
    if digits is not None and digits > MAX_DIGITS:
        r.doc.problem(
            "rounding.digits",
            "out_of_bounds",
            f"must be at most {MAX_DIGITS}, the most decimals cloudrate computes exactly; "
            "null rounds to the currency's minor units",
            digits,
        )
        digits = None
    return RoundingPolicy(
        mode=r.choice(rdata, "mode", "rounding", MODES, "half_up"),
        placement=r.choice(rdata, "placement", "rounding", PLACEMENTS, "line"),
        digits=digits,
        minor_units=r.choice(rdata, "minor_units", "rounding", MINOR_UNITS, "cldr"),
    )


def _charges(r: FieldReader, data: Mapping[str, Any]) -> list[Charge]:
    """The plan's charges; names of charges that failed still count as declared, so a
    percentage of them reports only their own problems."""
    doc = r.doc
    charges: list[Charge] = []
    raw_charges = data.get("charges")
    if raw_charges is None:
        if data:
            doc.problem("charges", "missing", "charges is required: a list of charges")
        return charges
    if not isinstance(raw_charges, list):
        doc.problem("charges", "not_a_list", "expected a list of charges")
        return charges
    names: list[str] = []
    for index, raw in enumerate(raw_charges):
        path = join_path("charges", index)
        charge = read_charge(r, raw, path, names)
        if charge is None:
            if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
                names.append(raw["name"])
            continue
        if charge.name in names:
            doc.problem(
                join_path(path, "name"),
                "duplicate_charge",
                "this name is used by an earlier charge; names are unique",
                charge.name,
            )
        charges.append(charge)
        names.append(charge.name)
    return charges


def _declared(data: Mapping[str, Any]) -> set[str]:
    """The names the plan's charges give, read or not (versions may name any of them)."""
    raw = data.get("charges")
    items = raw if isinstance(raw, list) else []
    return {c["name"] for c in items if isinstance(c, Mapping) and isinstance(c.get("name"), str)}


def _is_zone(name: Any) -> bool:
    try:
        zone(name)
    except CloudrateError:
        return False
    return True


def _profiled(doc: Document, data: dict[str, Any]) -> dict[str, Any]:
    """*data* with its profile's settings filled in (:mod:`cloudrate.plans._profiles`)."""
    name = data.pop("profile", None)
    if name is None:
        return data
    problem = unknown_profile(name)
    if problem is not None:
        doc.problem("profile", "unknown_profile", problem, name)
        return data
    return apply_profile(data, name)


def plan_from_document(doc: Document) -> Plan:
    """Build a plan from a loaded document; raises with every problem found.

    A ``profile`` (``lago``, ``killbill``, ``stripe``, ``cloudstack-quota``) fills in the
    settings of that system the document does not give (:doc:`profiles`).
    """
    r = FieldReader(doc)
    data = _profiled(doc, r.mapping(doc.data, "", _PLAN_KEYS))
    if not data and not doc.problems:
        doc.problem("", "empty", "the document is empty; a plan needs name, currency and charges")
    name = r.text(data, "name", "", required=True)
    currency = _currency(r, data)
    if currency is None:  # still read every charge, so all the plan's problems are told
        r = _AnyCurrency(doc, _NO_CURRENCY)
    timezone = r.text(data, "timezone", "", default="UTC")
    rounding = _rounding(r, data)
    metrics = _metrics(r, data.get("metrics"), "metrics")
    charges = _charges(r, data)
    effective_from = r.day(data, "effective_from", "")
    effective_to = r.day(data, "effective_to", "")
    versions = read_versions(
        r,
        data,
        charges,
        _declared(data),
        timezone if _is_zone(timezone) else None,
        (effective_from, effective_to),
    )
    version = r.text(data, "version", "")
    description = r.text(data, "description", "")
    if timezone is not None:
        try:
            zone(timezone)
        except CloudrateError:
            doc.problem(
                "timezone",
                "unknown_timezone",
                "not an IANA timezone such as 'UTC' or 'Europe/Berlin'",
                timezone,
            )
    doc.raise_if_problems()
    assert currency is not None, "a missing or unknown currency is a problem, raised above"
    try:
        return Plan(
            name=name,
            currency=currency,
            charges=charges,
            metrics=metrics,
            timezone=timezone,
            version=version,
            effective_from=effective_from,
            effective_to=effective_to,
            rounding=rounding,
            description=description,
            versions=versions,
        )
    except CloudrateError as exc:
        doc.problem("", "bad_plan", str(exc))
        doc.raise_if_problems()
        raise


def load_plan(source: str | Path | Mapping[str, Any]) -> Plan:
    """Load a plan from a YAML file path, YAML text or a dict.

    Every problem in the document is reported at once, each with its path and line.

    >>> from decimal import Decimal
    >>> plan = load_plan('''
    ... name: Basic
    ... currency: EUR
    ... charges:
    ...   - name: storage
    ...     metric: storage_gb_hours
    ...     model: graduated
    ...     tiers:
    ...       - {up_to: 100, unit_price: 0.10}
    ...       - {up_to: null, unit_price: 0.05}
    ... ''')
    >>> plan.charge("storage").model.price(Decimal(150)).amount
    Money('12.50', 'EUR')
    """
    return plan_from_document(load_document(source))


def dump_plan(plan: Plan) -> dict[str, Any]:
    """The plan as plain data (amounts as decimal strings); ``load_plan`` reads it back."""
    return plan.to_dict()


def plan_to_yaml(plan: Plan) -> str:
    """The plan as YAML text, amounts quoted so no reader takes them for floats."""
    return str(yaml.safe_dump(plan.to_dict(), sort_keys=False, allow_unicode=True))
