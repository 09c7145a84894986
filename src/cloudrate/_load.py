"""Plan documents (YAML text, files or dicts) to typed :class:`~cloudrate.plans.Plan` objects.

YAML is read safely through :func:`yaml.compose`, so every value keeps its line for
error messages. Numbers become exact Decimals from their text, never floats; only
``true``/``false`` are booleans (YAML 1.1's ``yes``/``no``/``on``/``off`` stay
strings). Every problem of a document is collected and raised together as one
:class:`~cloudrate.exceptions.ConfigError`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from moneyed import Money

from ._money import RoundingPolicy, check_currency
from .exceptions import CloudrateError, ConfigError, Problem
from .plans import (
    AGGREGATIONS,
    PRORATIONS,
    Charge,
    Flat,
    Graduated,
    Metric,
    Minimum,
    Package,
    Percentage,
    PercentTier,
    PerUnit,
    Plan,
    Tier,
    Volume,
)
from .plans._charge import ChargeModel

__all__ = ["Document", "dump_plan", "load_document", "load_plan", "plan_to_yaml"]

_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_TRUE, _FALSE = ("true", "True", "TRUE"), ("false", "False", "FALSE")


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()


class Document:
    """Plain data of a document, with the YAML line of each path and the problems found."""

    def __init__(self, data: Any, source: str, lines: dict[str, int] | None = None) -> None:
        self.data = data
        self.source = source
        self.lines = lines or {}
        self.problems: list[Problem] = []
        self.nodes = 0

    def problem(self, path: str, code: str, message: str, value: Any = None) -> None:
        probe, line = path, self.lines.get(path)
        while line is None and probe:
            shorter = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", probe)
            if shorter == probe:
                break
            probe, line = shorter, self.lines.get(shorter)
        self.problems.append(Problem(path, code, message, value, line, self.source))

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems, source=self.source)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _scalar(node: yaml.ScalarNode) -> Any:
    text = node.value
    if node.style is not None:  # quoted or block scalars are strings as written
        return text
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    if tag in _NUMBER_TAGS:
        try:
            return Decimal(text.replace("_", ""))
        except InvalidOperation:
            return text
    if tag == "tag:yaml.org,2002:null":
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return text


#: More values than any plan has: a document that expands beyond it (YAML aliases nested
#: in aliases, "billion laughs") is refused instead of being expanded for minutes.
MAX_NODES = 100_000


def _walk(node: yaml.Node, path: str, doc: Document) -> Any:
    doc.nodes += 1
    if doc.nodes > MAX_NODES:
        raise ConfigError([Problem("", "too_large", f"the document expands to more than "
                                   f"{MAX_NODES} values (aliases of aliases?); write the plan "
                                   "without nested aliases", source=doc.source)],
                          source=doc.source)
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _walk(key_node, path, doc) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                doc.lines[_join(path, str(key))] = key_node.start_mark.line + 1
                doc.problem(_join(path, str(key)), "bad_key", "keys must be text", key)
                continue
            child = _join(path, key)
            doc.lines[child] = key_node.start_mark.line + 1
            if key in out:
                doc.problem(child, "duplicate_key", "this key is given twice; keep one")
            out[key] = _walk(value_node, child, doc)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, _join(path, i), doc) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node)


def load_document(source: str | Path | Mapping[str, Any]) -> Document:
    """Read a path, YAML text or a mapping into a :class:`Document` (data + lines).

    YAML syntax errors raise :class:`~cloudrate.exceptions.ConfigError` with the line.
    """
    if isinstance(source, Mapping):
        return Document(dict(source), "<dict>")
    name = "<text>"
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml"))
    ):
        name = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError([Problem("", "unreadable", f"cannot read the file: {exc.strerror}")],
                              source=name) from None
    else:
        text = str(source)
    doc = Document(None, name)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        message = f"YAML syntax error: {exc.problem}"
        if exc.context:
            message += f" ({exc.context})"
        raise ConfigError([Problem("", "yaml_syntax", message, line=line, source=name)],
                          source=name) from None
    doc.data = None if node is None else _walk(node, "", doc)
    return doc


class _Reader:
    """Reads fields from plain data into typed values, recording problems with paths."""

    def __init__(self, doc: Document, currency: str | None = None) -> None:
        self.doc = doc
        self.currency = currency

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            self.doc.problem(path, "not_a_mapping", "expected a mapping of key: value",
                             value if value is None or isinstance(value, str | int) else None)
            return {}
        for key in value:
            if key not in allowed:
                near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = f"; did you mean {near[0]!r}?" if near else (
                    f"; known keys are {', '.join(allowed)}")
                self.doc.problem(_join(path, key), "unknown_key", f"unknown key{hint}", key)
        return dict(value)

    def text(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False,
             default: Any = None) -> Any:
        value = data.get(key, UNSET)
        if value is UNSET or value is None:
            if required:
                self.doc.problem(_join(path, key), "missing", f"{key} is required")
            return default
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return str(value)  # version: 2 or 2026.10 is text as written
        if not isinstance(value, str):
            self.doc.problem(_join(path, key), "not_text", "expected text", value)
            return default
        return value

    def number(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False,
               minimum: Decimal | None = Decimal(0), above: bool = False) -> Decimal | None:
        value = data.get(key, UNSET)
        where = _join(path, key)
        if value is UNSET or value is None:
            if required:
                self.doc.problem(where, "missing", f"{key} is required")
            return None
        number = self._decimal(value, where)
        if number is None:
            return None
        if minimum is not None and (number < minimum or (above and number == minimum)):
            word = "above" if above else "at least"
            self.doc.problem(where, "out_of_range", f"must be {word} {minimum}", str(number))
            return None
        return number

    def _decimal(self, value: Any, where: str) -> Decimal | None:
        if isinstance(value, float):
            self.doc.problem(where, "float", f"floats cannot hold money exactly; write "
                             f"'{value!r}' as a string or Decimal", value)
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            self.doc.problem(where, "not_a_number", "expected a number", value)
            return None
        try:
            number = Decimal(value) if not isinstance(value, str) else Decimal(value.strip())
        except InvalidOperation:
            self.doc.problem(where, "not_a_number", "expected a number such as 0.0125", value)
            return None
        if not number.is_finite():
            self.doc.problem(where, "not_a_number", "expected a finite number", value)
            return None
        return number

    def price(self, data: Mapping[str, Any], key: str, path: str, *,
              required: bool = True) -> Money | None:
        """A price: a number in the plan's currency, or ``'0.10 USD'`` text."""
        value = data.get(key, UNSET)
        where = _join(path, key)
        if value is UNSET or value is None:
            if required:
                self.doc.problem(where, "missing", f"{key} is required")
            return None
        currency = self.currency
        if isinstance(value, str) and " " in value.strip():
            amount_text, _, currency = value.strip().rpartition(" ")
            value = amount_text
            try:
                check_currency(currency)
            except CloudrateError:
                self.doc.problem(where, "unknown_currency",
                                 'not an ISO 4217 code such as "EUR"', currency)
                return None
        number = self._decimal(value, where)
        if number is None or currency is None:
            return None
        if number < 0:
            self.doc.problem(where, "negative_price",
                             "prices are >= 0; give credits as discounts or adjustments",
                             str(number))
            return None
        if currency != self.currency:
            self.doc.problem(where, "currency_mismatch",
                             f"is in {currency}, but this plan bills in {self.currency}; give "
                             "every price in a plan the plan's currency", f"{number} {currency}")
            return None
        return Money(number, currency)

    def choice(self, data: Mapping[str, Any], key: str, path: str, options: tuple[str, ...],
               default: str) -> str:
        value = data.get(key, default)
        if value is None:
            return default
        if value not in options:
            near = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            self.doc.problem(_join(path, key), "bad_choice",
                             f"must be one of {', '.join(options)}{hint}", value)
            return default
        return str(value)

    def whole(self, data: Mapping[str, Any], key: str, path: str) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal) or (
            isinstance(value, Decimal) and value != value.to_integral_value()
        ) or value < 0:
            self.doc.problem(_join(path, key), "not_whole", "expected a whole number >= 0", value)
            return None
        return int(value)

    def names(self, data: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        self.doc.problem(_join(path, key), "not_names", "expected a charge name or a list of them",
                         value)
        return ()

    def day(self, data: Mapping[str, Any], key: str, path: str) -> date | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            self.doc.problem(_join(path, key), "bad_date",
                             "expected a date such as 2026-10-01, not a date and time", value)
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.doc.problem(_join(path, key), "bad_date", "expected a date such as 2026-10-01",
                             value)
            return None


_PLAN_KEYS = ("name", "currency", "version", "description", "effective_from", "effective_to",
              "timezone", "rounding", "metrics", "charges")
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


def _tiers(r: _Reader, data: Mapping[str, Any], path: str, percent: bool = False) -> list[Any]:
    raw = data.get("tiers")
    where = _join(path, "tiers")
    if not isinstance(raw, list) or not raw:
        r.doc.problem(where, "missing" if raw is None else "not_a_list",
                      "give a list of tiers; the last has up_to: null")
        return []
    keys = ("up_to", "percent") if percent else ("up_to", "unit_price", "flat_price")
    tiers: list[Any] = []
    previous = Decimal(0)
    ok = True
    for index, item in enumerate(raw):
        tpath = _join(where, index)
        fields = r.mapping(item, tpath, keys)
        if "up_to" not in fields:
            r.doc.problem(_join(tpath, "up_to"), "missing",
                          "up_to is required (null for the last tier)")
            ok = False
            continue
        up_to = r.number(fields, "up_to", tpath, above=True)
        if up_to is None and fields.get("up_to") is not None:
            ok = False  # a bad bound was reported; the tier must not pass as open
        last = index == len(raw) - 1
        if fields.get("up_to") is None and not last:
            r.doc.problem(_join(tpath, "up_to"), "open_tier_not_last",
                          "only the last tier may have up_to: null; sort tiers by up_to")
            ok = False
        elif up_to is not None and last:
            r.doc.problem(_join(tpath, "up_to"), "last_tier_bounded",
                          "the last tier must have up_to: null so every quantity has a price",
                          str(up_to))
            ok = False
        elif up_to is not None:
            if up_to <= previous and index > 0:
                r.doc.problem(_join(tpath, "up_to"), "tiers_not_ascending",
                              f"must be above {previous}, the previous up_to; sort tiers by "
                              "up_to", str(up_to))
                ok = False
            previous = up_to
        if percent:
            pct = r.number(fields, "percent", tpath, required=True)
            if pct is not None and pct > 100:
                r.doc.problem(_join(tpath, "percent"), "out_of_range", "must be at most 100",
                              str(pct))
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


def _model(r: _Reader, kind: str, data: Mapping[str, Any], path: str) -> ChargeModel | None:
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
            r.doc.problem(_join(path, "of"), "missing", "name the charges this percentage is of")
        if ("percent" in data) == ("tiers" in data):
            r.doc.problem(path, "percent_or_tiers", "give either percent or tiers, not both")
            return None
        if "percent" in data:
            pct = r.number(data, "percent", path, required=True)
            if pct is not None and pct > 100:
                r.doc.problem(_join(path, "percent"), "out_of_range", "must be at most 100",
                              str(pct))
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


def _charge(r: _Reader, raw: Any, path: str, earlier: list[str]) -> Charge | None:
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
        r.doc.problem(_join(path, "model"), "missing",
                      f"model is required: one of {', '.join(_MODEL_KEYS)}")
        return None
    if not isinstance(kind, str) or kind not in _MODEL_KEYS:
        near = difflib.get_close_matches(str(kind), list(_MODEL_KEYS), n=1, cutoff=0.5)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        r.doc.problem(_join(path, "model"), "unknown_model",
                      f"unknown charge model; use one of {', '.join(_MODEL_KEYS)}{hint}", kind)
        return None
    count = len(r.doc.problems)
    try:
        model = _model(r, kind, data, path)
    except CloudrateError as exc:  # a check the reader missed: report it, never crash
        r.doc.problem(path, "bad_charge", str(exc))
        model = None
    free = r.number(data, "free_units", path)
    metric = r.text(data, "metric", path, required=kind in ("per_unit", "graduated", "volume",
                                                                  "package"))
    where = data.get("where")
    if where is not None and not isinstance(where, Mapping):
        r.doc.problem(_join(path, "where"), "not_a_mapping",
                      "expected attribute: value (or a list of values)", where)
        where = None
    if kind in ("percentage", "minimum"):
        for field in ("metric", "where", "free_units"):
            if field in data:
                r.doc.problem(_join(path, field), "not_applicable",
                              f"a {kind} charge prices other charges; remove {field}")
        raw_of = data.get("of")  # checked even when the model itself has problems
        names = [raw_of] if isinstance(raw_of, str) else (
            [n for n in raw_of if isinstance(n, str)] if isinstance(raw_of, list) else [])
        for other in names:
            if other not in earlier:
                r.doc.problem(_join(path, "of"), "unknown_charge",
                              "names no charge declared above this one; list the charges it "
                              "applies to above it", other)
    if model is None or name is None or len(r.doc.problems) > count:
        return None
    try:
        return Charge(name=name, model=model, metric=metric,
                      description=r.text(data, "description", path),
                      service=r.text(data, "service", path), where=where or {},
                      free_units=free or Decimal(0))
    except CloudrateError as exc:
        r.doc.problem(path, "bad_charge", str(exc))
        return None


def _metrics(r: _Reader, raw: Any, path: str) -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    if raw is None:
        return out
    if not isinstance(raw, Mapping):
        r.doc.problem(path, "not_a_mapping", "expected metric_name: {unit: ..., ...}")
        return out
    for name, spec in raw.items():
        mpath = _join(path, name)
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
            r.doc.problem(_join(mpath, "usage_unit"), "bad_unit", str(exc))
    return out


def plan_from_document(doc: Document) -> Plan:
    """Build a plan from a loaded document; raises with every problem found."""
    r = _Reader(doc)
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
            doc.problem("currency", "unknown_currency", 'not an ISO 4217 code such as "EUR"',
                        currency)
            currency = None
    timezone = r.text(data, "timezone", "", default="UTC")
    rounding = RoundingPolicy()
    if data.get("rounding") is not None:
        rdata = r.mapping(data["rounding"], "rounding", ("mode", "placement", "digits"))
        rounding = RoundingPolicy(
            mode=r.choice(rdata, "mode", "rounding",
                          ("half_up", "half_even", "down", "up", "ceiling", "floor"), "half_up"),
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
            path = _join("charges", index)
            charge = _charge(r, raw, path, names)
            if charge is not None:
                if charge.name in names:
                    doc.problem(_join(path, "name"), "duplicate_charge",
                                "this name is used by an earlier charge; names are unique",
                                charge.name)
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
            from .period import zone

            zone(timezone)
        except CloudrateError:
            doc.problem("timezone", "unknown_timezone",
                        "not an IANA timezone such as 'UTC' or 'Europe/Berlin'", timezone)
    doc.raise_if_problems()
    try:
        return Plan(name=name, currency=currency, charges=charges, metrics=metrics,
                    timezone=timezone, version=version,
                    effective_from=effective_from, effective_to=effective_to,
                    rounding=rounding, description=description)
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

