"""Plan documents (YAML text, files or dicts) to typed :class:`~cloudrate.plans.Plan` objects.

YAML is read safely through :func:`yaml.compose`, so every value keeps its line for
error messages. Numbers become exact Decimals from their text, never floats; only
``true``/``false`` are booleans (YAML 1.1's ``yes``/``no``/``on``/``off`` stay
strings). Every problem of a document is collected and raised together as one
:class:`~cloudrate.exceptions.ConfigError`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from cloudrate._documents import Document, FieldReader, join_path, load_document
from cloudrate._money import RoundingPolicy, check_currency
from cloudrate.exceptions import CloudrateError

from ._charge import Charge, ChargeModel
from ._flat import PRORATIONS, Flat
from ._graduated import Graduated
from ._metrics import AGGREGATIONS, Metric
from ._minimum import Minimum
from ._package import Package
from ._per_unit import PerUnit
from ._percentage import Percentage, PercentTier
from ._plan import Plan
from ._tiers import Tier
from ._volume import Volume

__all__ = ["dump_plan", "load_plan", "plan_from_document", "plan_to_yaml"]


_PLAN_KEYS = (
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
)
_CHARGE_KEYS = ("name", "metric", "description", "service", "where", "free_units", "model")
_MODEL_KEYS: dict[str, tuple[str, ...]] = {
    "per_unit": ("unit_price",),
    "graduated": ("tiers",),
    "volume": ("tiers",),
    "package": ("block_size", "block_price"),
    "flat": ("price", "proration", "proration_digits"),
    "percentage": ("percent", "tiers", "of"),
    "minimum": ("amount", "of"),
}


def _tiers(r: FieldReader, data: Mapping[str, Any], path: str, percent: bool = False) -> list[Any]:
    raw = data.get("tiers")
    where = join_path(path, "tiers")
    if not isinstance(raw, list) or not raw:
        r.doc.problem(
            where,
            "missing" if raw is None else "not_a_list",
            "give a list of tiers; the last has up_to: null",
        )
        return []
    keys = ("up_to", "percent") if percent else ("up_to", "unit_price", "flat_price")
    tiers: list[Any] = []
    previous = Decimal(0)
    ok = True
    for index, item in enumerate(raw):
        tpath = join_path(where, index)
        fields = r.mapping(item, tpath, keys)
        if "up_to" not in fields:
            r.doc.problem(
                join_path(tpath, "up_to"), "missing", "up_to is required (null for the last tier)"
            )
            ok = False
            continue
        up_to = r.number(fields, "up_to", tpath, above=True)
        if up_to is None and fields.get("up_to") is not None:
            ok = False  # a bad bound was reported; the tier must not pass as open
        last = index == len(raw) - 1
        if fields.get("up_to") is None and not last:
            r.doc.problem(
                join_path(tpath, "up_to"),
                "open_tier_not_last",
                "only the last tier may have up_to: null; sort tiers by up_to",
            )
            ok = False
        elif up_to is not None and last:
            r.doc.problem(
                join_path(tpath, "up_to"),
                "last_tier_bounded",
                "the last tier must have up_to: null so every quantity has a price",
                str(up_to),
            )
            ok = False
        elif up_to is not None:
            if up_to <= previous and index > 0:
                r.doc.problem(
                    join_path(tpath, "up_to"),
                    "tiers_not_ascending",
                    f"must be above {previous}, the previous up_to; sort tiers by up_to",
                    str(up_to),
                )
                ok = False
            previous = up_to
        if percent:
            pct = r.number(fields, "percent", tpath, required=True)
            if pct is not None and pct > 100:
                r.doc.problem(
                    join_path(tpath, "percent"), "out_of_range", "must be at most 100", str(pct)
                )
                pct = None
            if pct is None:
                ok = False
                continue
            tiers.append(PercentTier(up_to, pct))
        else:
            unit_price = r.price(fields, "unit_price", tpath)
            flat_price = r.price(fields, "flat_price", tpath, required=False)
            if unit_price is None or ("flat_price" in fields and flat_price is None):
                ok = False
                continue
            tiers.append(Tier(up_to, unit_price, flat_price))
    return tiers if ok else []


def _model(r: FieldReader, kind: str, data: Mapping[str, Any], path: str) -> ChargeModel | None:
    if kind == "per_unit":
        price = r.price(data, "unit_price", path)
        return None if price is None else PerUnit(price)
    if kind in ("graduated", "volume"):
        tiers = _tiers(r, data, path)
        if not tiers:
            return None
        return Graduated(tiers=tiers) if kind == "graduated" else Volume(tiers=tiers)
    if kind == "package":
        size = r.number(data, "block_size", path, required=True, above=True)
        price = r.price(data, "block_price", path)
        return None if size is None or price is None else Package(size, price)
    if kind == "flat":
        price = r.price(data, "price", path)
        proration = r.choice(data, "proration", path, PRORATIONS, "days")
        digits = r.whole(data, "proration_digits", path)
        return None if price is None else Flat(price, proration, digits)
    if kind == "percentage":
        of = r.names(data, "of", path)
        if not of:
            r.doc.problem(
                join_path(path, "of"), "missing", "name the charges this percentage is of"
            )
        if ("percent" in data) == ("tiers" in data):
            r.doc.problem(path, "percent_or_tiers", "give either percent or tiers, not both")
            return None
        if "percent" in data:
            pct = r.number(data, "percent", path, required=True)
            if pct is not None and pct > 100:
                r.doc.problem(
                    join_path(path, "percent"), "out_of_range", "must be at most 100", str(pct)
                )
                return None
            if pct is None or not of:
                return None
            assert r.currency is not None
            return Percentage(percent=pct, of=of, currency=r.currency)
        ptiers = _tiers(r, data, path, percent=True)
        if not ptiers or not of:
            return None
        assert r.currency is not None
        return Percentage(tiers=ptiers, of=of, currency=r.currency)
    if kind == "minimum":
        amount = r.price(data, "amount", path)
        return None if amount is None else Minimum(amount=amount, of=r.names(data, "of", path))
    raise AssertionError(kind)


def _charge(r: FieldReader, raw: Any, path: str, earlier: list[str]) -> Charge | None:
    if not isinstance(raw, Mapping):
        r.mapping(raw, path, ())
        return None
    kind = raw.get("model")
    if isinstance(kind, str) and kind in _MODEL_KEYS:
        model_keys = _MODEL_KEYS[kind]
    else:  # unknown model: only the model is reported, not the keys it would take
        model_keys = tuple(sorted({k for keys in _MODEL_KEYS.values() for k in keys}))
    data = r.mapping(raw, path, _CHARGE_KEYS + model_keys)
    name = r.text(data, "name", path, required=True)
    if kind is None:
        r.doc.problem(
            join_path(path, "model"),
            "missing",
            f"model is required: one of {', '.join(_MODEL_KEYS)}",
        )
        return None
    if not isinstance(kind, str) or kind not in _MODEL_KEYS:
        near = difflib.get_close_matches(str(kind), list(_MODEL_KEYS), n=1, cutoff=0.5)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        r.doc.problem(
            join_path(path, "model"),
            "unknown_model",
            f"unknown charge model; use one of {', '.join(_MODEL_KEYS)}{hint}",
            kind,
        )
        return None
    count = len(r.doc.problems)
    try:
        model = _model(r, kind, data, path)
    except CloudrateError as exc:  # a check the reader missed: report it, never crash
        r.doc.problem(path, "bad_charge", str(exc))
        model = None
    free = r.number(data, "free_units", path)
    metric = r.text(
        data, "metric", path, required=kind in ("per_unit", "graduated", "volume", "package")
    )
    where = data.get("where")
    if where is not None and not isinstance(where, Mapping):
        r.doc.problem(
            join_path(path, "where"),
            "not_a_mapping",
            "expected attribute: value (or a list of values)",
            where,
        )
        where = None
    if kind in ("percentage", "minimum"):
        for field in ("metric", "where", "free_units"):
            if field in data:
                r.doc.problem(
                    join_path(path, field),
                    "not_applicable",
                    f"a {kind} charge prices other charges; remove {field}",
                )
        raw_of = data.get("of")  # checked even when the model itself has problems
        names = (
            [raw_of]
            if isinstance(raw_of, str)
            else ([n for n in raw_of if isinstance(n, str)] if isinstance(raw_of, list) else [])
        )
        for other in names:
            if other not in earlier:
                r.doc.problem(
                    join_path(path, "of"),
                    "unknown_charge",
                    "names no charge declared above this one; list the charges it "
                    "applies to above it",
                    other,
                )
    if model is None or name is None or len(r.doc.problems) > count:
        return None
    try:
        return Charge(
            name=name,
            model=model,
            metric=metric,
            description=r.text(data, "description", path),
            service=r.text(data, "service", path),
            where=where or {},
            free_units=free or Decimal(0),
        )
    except CloudrateError as exc:
        r.doc.problem(path, "bad_charge", str(exc))
        return None


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
        data = r.mapping(spec, mpath, ("unit", "usage_unit", "aggregation", "description"))
        try:
            out[name] = Metric(
                name=name,
                unit=r.text(data, "unit", mpath, default="unit"),
                usage_unit=r.text(data, "usage_unit", mpath),
                aggregation=r.choice(data, "aggregation", mpath, AGGREGATIONS, "sum"),
                description=r.text(data, "description", mpath),
            )
        except CloudrateError as exc:
            r.doc.problem(join_path(mpath, "usage_unit"), "bad_unit", str(exc))
    return out


def plan_from_document(doc: Document) -> Plan:
    """Build a plan from a loaded document; raises with every problem found."""
    r = FieldReader(doc)
    data = r.mapping(doc.data, "", _PLAN_KEYS)
    if not data and not doc.problems:
        doc.problem("", "empty", "the document is empty; a plan needs name, currency and charges")
    name = r.text(data, "name", "", required=True)
    currency = r.text(data, "currency", "", required=True)
    if currency is not None:
        try:
            check_currency(currency)
            r.currency = currency
        except CloudrateError:
            doc.problem(
                "currency", "unknown_currency", 'not an ISO 4217 code such as "EUR"', currency
            )
            currency = None
    timezone = r.text(data, "timezone", "", default="UTC")
    rounding = RoundingPolicy()
    if data.get("rounding") is not None:
        rdata = r.mapping(data["rounding"], "rounding", ("mode", "placement", "digits"))
        rounding = RoundingPolicy(
            mode=r.choice(
                rdata,
                "mode",
                "rounding",
                ("half_up", "half_even", "down", "up", "ceiling", "floor"),
                "half_up",
            ),
            placement=r.choice(rdata, "placement", "rounding", ("line", "total"), "line"),
            digits=r.whole(rdata, "digits", "rounding"),
        )
    metrics = _metrics(r, data.get("metrics"), "metrics")
    charges: list[Charge] = []
    raw_charges = data.get("charges")
    if raw_charges is None:
        if data:
            doc.problem("charges", "missing", "charges is required: a list of charges")
    elif not isinstance(raw_charges, list):
        doc.problem("charges", "not_a_list", "expected a list of charges")
    elif currency is not None:
        names: list[str] = []
        for index, raw in enumerate(raw_charges):
            path = join_path("charges", index)
            charge = _charge(r, raw, path, names)
            if charge is not None:
                if charge.name in names:
                    doc.problem(
                        join_path(path, "name"),
                        "duplicate_charge",
                        "this name is used by an earlier charge; names are unique",
                        charge.name,
                    )
                charges.append(charge)
                names.append(charge.name)
            elif isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
                names.append(raw["name"])
    effective_from = r.day(data, "effective_from", "")
    effective_to = r.day(data, "effective_to", "")
    version = r.text(data, "version", "")
    description = r.text(data, "description", "")
    if timezone is not None:
        try:
            from cloudrate.period import zone

            zone(timezone)
        except CloudrateError:
            doc.problem(
                "timezone",
                "unknown_timezone",
                "not an IANA timezone such as 'UTC' or 'Europe/Berlin'",
                timezone,
            )
    doc.raise_if_problems()
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
        )
    except CloudrateError as exc:
        doc.problem("", "bad_plan", str(exc))
        doc.raise_if_problems()
        raise


def load_plan(source: str | Path | Mapping[str, Any]) -> Plan:
    """Load a plan from a YAML file path, YAML text or a dict.

    Every problem in the document is reported at once, each with its path and line.

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
