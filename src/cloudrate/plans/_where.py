"""Conditions of a charge's ``where``: which records it selects, for both engines.

A plain mapping ``{attribute: value or [values], ...}`` holds when every attribute has one
of its values (:class:`Match`). ``{all: [cond, ...]}``, ``{any: [cond, ...]}`` and
``{not: cond}`` combine conditions, nesting freely; a mapping that mixes them with
attributes holds when all its entries do. ``all``, ``any``, ``not`` and ``attribute`` are
reserved: an attribute with one of those names is written ``{attribute: all, in: [...]}``.
``{attribute: {gt: 2, lte: 8}}`` compares an attribute's number (:class:`Compare`): ``gt``,
``gte``, ``lt`` and ``lte``, at most one lower and one upper bound, as activation rules on
an offering's CPU count or memory need.

Each condition answers for one record (:meth:`Condition.matches`) and for many at once
(:meth:`Condition.mask`, numpy imported only then), from the same definition.

>>> c = read_condition({"any": [{"state": "running"}, {"not": {"zone": ["a", "b"]}}]})
>>> c.matches({"state": "stopped", "zone": "a"}), c.matches({"zone": "c"})
(False, True)
>>> c.to_data()
{'any': [{'state': 'running'}, {'not': {'zone': ['a', 'b']}}]}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from cloudrate._money import to_decimal
from cloudrate.exceptions import CloudrateError, PlanError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "COMPARISONS",
    "RESERVED",
    "All",
    "AnyOf",
    "Compare",
    "Condition",
    "Match",
    "Not",
    "attribute_number",
    "decided_by_attributes",
    "read_condition",
]

#: Keys of a ``where`` mapping that are not attribute names.
RESERVED = ("all", "any", "not", "attribute")
#: The comparisons of a :class:`Compare`: greater than, at least, less than, at most.
COMPARISONS = ("gt", "gte", "lt", "lte")

#: ``report(path, code, message, value)``: where a reader records a problem.
Report = Callable[[str, str, str, Any], None]


def _attr_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _member(column: Any, wanted: tuple[str, ...]) -> np.ndarray:
    """Which values of *column* are among *wanted* (a missing value, None or null, never
    is): a numpy object array, or a pyarrow string array (the columnar engine's)."""
    import numpy as np

    if not isinstance(column, np.ndarray):  # pyarrow: one vectorised membership test
        import pyarrow as pa
        import pyarrow.compute as pc

        found = pc.fill_null(pc.is_in(column, value_set=pa.array(wanted, pa.string())), False)
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    hit = np.zeros(len(column), dtype=bool)
    for value in wanted:  # elementwise ==: None equals no text
        hit |= column == value
    return hit


class Condition:
    """What a charge's ``where`` selects; see the module's text for the forms."""

    __slots__ = ()

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        """Whether a record with *attributes* is selected."""
        raise NotImplementedError

    def mask(self, columns: Mapping[str, Any], size: int) -> np.ndarray:
        """Which of *size* records are selected, as a numpy bool array: *columns* holds
        each attribute of :meth:`attributes` the records have, as a numpy object array or a
        pyarrow string array (values as text, None or null where a record lacks it); an
        attribute absent from *columns* is absent from every record."""
        raise NotImplementedError

    def attributes(self) -> frozenset[str]:
        """The attribute names the condition reads."""
        raise NotImplementedError

    def to_data(self) -> dict[str, Any]:
        """The plan-document form, read back by :func:`read_condition` to an equal one."""
        raise NotImplementedError

    @property
    def plain(self) -> bool:
        """Whether the condition is a plain ``attribute: values`` mapping."""
        return False

    def items(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """The ``(attribute, accepted values)`` pairs of a plain condition."""
        raise PlanError(
            f"the condition {self} combines conditions and has no attribute: values pairs; "
            "use matches() or mask()"
        )

    def __bool__(self) -> bool:  # only the empty plain mapping selects every record
        return True


class Match(Condition, Mapping[str, tuple[str, ...]]):
    """Every attribute has one of its accepted values (a missing attribute has none).

    Compares equal to a mapping of the same attributes and value tuples; empty, it selects
    every record.

    >>> m = Match({"offering": ["small", "medium"], "zone": "z1"})
    >>> m == {"offering": ("medium", "small"), "zone": ("z1",)}
    True
    >>> m.matches({"offering": "small", "zone": "z1"}), m.matches({"offering": "small"})
    (True, False)
    """

    __slots__ = ("_wanted",)
    _wanted: dict[str, tuple[str, ...]]

    def __init__(self, wanted: Mapping[Any, Any] | None = None) -> None:
        out: dict[str, tuple[str, ...]] = {}
        for key, values in sorted((wanted or {}).items(), key=lambda kv: str(kv[0])):
            if isinstance(values, list | tuple | set | frozenset):
                out[str(key)] = tuple(sorted({_attr_text(v) for v in values}))
            else:
                out[str(key)] = (_attr_text(values),)
        object.__setattr__(self, "_wanted", out)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Match is frozen")

    def __reduce__(self) -> tuple[type[Match], tuple[dict[str, tuple[str, ...]]]]:
        return (Match, (self._wanted,))

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return self._wanted[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._wanted)

    def __len__(self) -> int:
        return len(self._wanted)

    def __hash__(self) -> int:
        return hash(tuple(self._wanted.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Condition) and not isinstance(other, Match):
            return False
        return Mapping.__eq__(self, other)

    def __repr__(self) -> str:
        return f"Match({self._wanted!r})"

    def __str__(self) -> str:
        if not self._wanted:
            return "every record"
        return "; ".join(f"{k} = {' or '.join(v) or '(nothing)'}" for k, v in self.items())

    def __bool__(self) -> bool:
        return bool(self._wanted)

    def items(self) -> Any:  # the Mapping's view: (attribute, values) pairs
        return self._wanted.items()

    @property
    def plain(self) -> bool:
        return True

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        return all(attributes.get(key) in wanted for key, wanted in self._wanted.items())

    def mask(self, columns: Mapping[str, Any], size: int) -> np.ndarray:
        import numpy as np

        out = np.ones(size, dtype=bool)
        for key, wanted in self._wanted.items():
            column = columns.get(key)
            if column is None:
                return np.zeros(size, dtype=bool)
            out &= _member(column, wanted)
        return out

    def attributes(self) -> frozenset[str]:
        return frozenset(self._wanted)

    def to_data(self) -> dict[str, Any]:
        def value(v: tuple[str, ...]) -> Any:
            return v[0] if len(v) == 1 else list(v)

        reserved = [k for k in self._wanted if k in RESERVED]
        if not reserved:
            return {k: value(v) for k, v in self._wanted.items()}
        if len(self._wanted) == 1:
            ((key, wanted),) = self._wanted.items()
            return {"attribute": key, "in": value(wanted)}
        raise PlanError(
            f"where: the attributes {', '.join(map(repr, reserved))} share their names with "
            "all/any/not/attribute; give each its own Match inside All to write the condition"
        )


#: A number as an attribute holds it: digits with an optional sign, point and exponent
#: (``2``, ``-0.5``, ``1E+3``); no spaces, underscores, NaN or infinity.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def attribute_number(value: object) -> Decimal | None:
    """The number an attribute's text holds, or None (missing, or not a number).

    The one reading both engines use for :class:`Compare`: text that is digits with an
    optional sign, decimal point and exponent, nothing around them.

    >>> attribute_number("4"), attribute_number("1.5E+3")
    (Decimal('4'), Decimal('1.5E+3'))
    >>> attribute_number(" 4"), attribute_number("NaN"), attribute_number(None)
    (None, None, None)
    """
    if not isinstance(value, str) or _NUMBER.fullmatch(value) is None:
        return None
    return Decimal(value)


def _bound(value: Any) -> Decimal | None:
    return None if value is None else to_decimal(value, "where comparison")


def _check_bounds(inst: Compare, _attr: object, _value: Any) -> None:
    """At least one bound, at most one on each side, and some number between them."""
    if inst.gt is None and inst.gte is None and inst.lt is None and inst.lte is None:
        raise PlanError(f"where: {inst.attribute!r}: give a comparison (gt, gte, lt or lte)")
    if inst.gt is not None and inst.gte is not None:
        raise PlanError(f"where: {inst.attribute!r}: give gt or gte, not both")
    if inst.lt is not None and inst.lte is not None:
        raise PlanError(f"where: {inst.attribute!r}: give lt or lte, not both")
    low = inst.gt if inst.gt is not None else inst.gte
    high = inst.lt if inst.lt is not None else inst.lte
    if low is not None and high is not None:
        closed = inst.gte is not None and inst.lte is not None
        if low > high or (low == high and not closed):
            raise PlanError(f"where: {inst.attribute!r}: no number is {inst}; check the bounds")


@attrs.frozen
class Compare(Condition):
    """The attribute holds a number (:func:`attribute_number`) within the bounds: above
    *gt*, at least *gte*, below *lt*, at most *lte*. A record without the attribute, or
    whose value is not a number, is not selected. In a plan: ``{cpunumber: {gt: 2}}``.

    >>> c = Compare("cpunumber", gt=Decimal(2), lte=Decimal(8))
    >>> c.matches({"cpunumber": "4"}), c.matches({"cpunumber": "2"}), c.matches({})
    (True, False, False)
    >>> c.to_data()
    {'cpunumber': {'gt': '2', 'lte': '8'}}
    """

    attribute: str
    gt: Decimal | None = attrs.field(default=None, converter=_bound, kw_only=True)
    gte: Decimal | None = attrs.field(default=None, converter=_bound, kw_only=True)
    lt: Decimal | None = attrs.field(default=None, converter=_bound, kw_only=True)
    lte: Decimal | None = attrs.field(
        default=None, converter=_bound, kw_only=True, validator=_check_bounds
    )

    def __str__(self) -> str:
        signs = (("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<="))
        return " and ".join(
            f"{self.attribute} {sign} {getattr(self, op)}"
            for op, sign in signs
            if getattr(self, op) is not None
        )

    def holds(self, number: Decimal | None) -> bool:
        """Whether *number* (None: no number) lies within the bounds."""
        if number is None:
            return False
        return (
            (self.gt is None or number > self.gt)
            and (self.gte is None or number >= self.gte)
            and (self.lt is None or number < self.lt)
            and (self.lte is None or number <= self.lte)
        )

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        return self.holds(attribute_number(attributes.get(self.attribute)))

    def mask(self, columns: Mapping[str, Any], size: int) -> np.ndarray:
        import numpy as np

        column = columns.get(self.attribute)
        if column is None:
            return np.zeros(size, dtype=bool)
        if isinstance(column, np.ndarray):
            return np.fromiter(
                (self.holds(attribute_number(v)) for v in column), dtype=bool, count=len(column)
            )
        import pyarrow as pa
        import pyarrow.compute as pc

        # each distinct text is read once, by the same function as matches()
        distinct = pc.unique(column).to_pylist()
        chosen = [v for v in distinct if self.holds(attribute_number(v))]
        found = pc.fill_null(pc.is_in(column, value_set=pa.array(chosen, pa.string())), False)
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)

    def attributes(self) -> frozenset[str]:
        return frozenset({self.attribute})

    def to_data(self) -> dict[str, Any]:
        bounds = {op: str(getattr(self, op)) for op in COMPARISONS if getattr(self, op) is not None}
        if self.attribute in RESERVED:
            return {"attribute": self.attribute, **bounds}
        return {self.attribute: bounds}


def _conditions(value: Sequence[Condition]) -> tuple[Condition, ...]:
    found = tuple(value)
    if not found:
        raise PlanError("where: all and any need at least one condition; list one or more")
    for item in found:
        if not isinstance(item, Condition):
            raise PlanError(f"where: {item!r} is not a condition; pass Match, All, AnyOf or Not")
    return found


@attrs.frozen
class All(Condition):
    """Every one of *conditions* holds."""

    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions)

    def __str__(self) -> str:
        return " and ".join(f"({c})" for c in self.conditions)

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        return all(c.matches(attributes) for c in self.conditions)

    def mask(self, columns: Mapping[str, Any], size: int) -> np.ndarray:
        out = self.conditions[0].mask(columns, size)
        for c in self.conditions[1:]:
            out = out & c.mask(columns, size)
        return out

    def attributes(self) -> frozenset[str]:
        return frozenset().union(*(c.attributes() for c in self.conditions))

    def to_data(self) -> dict[str, Any]:
        return {"all": [c.to_data() for c in self.conditions]}


@attrs.frozen
class AnyOf(Condition):
    """At least one of *conditions* holds (``any`` in a plan)."""

    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions)

    def __str__(self) -> str:
        return " or ".join(f"({c})" for c in self.conditions)

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        return any(c.matches(attributes) for c in self.conditions)

    def mask(self, columns: Mapping[str, Any], size: int) -> np.ndarray:
        out = self.conditions[0].mask(columns, size)
        for c in self.conditions[1:]:
            out = out | c.mask(columns, size)
        return out

    def attributes(self) -> frozenset[str]:
        return frozenset().union(*(c.attributes() for c in self.conditions))

    def to_data(self) -> dict[str, Any]:
        return {"any": [c.to_data() for c in self.conditions]}


def _condition(value: Condition) -> Condition:
    if not isinstance(value, Condition):
        raise PlanError(f"where: {value!r} is not a condition; pass Match, All, AnyOf or Not")
    return value


@attrs.frozen
class Not(Condition):
    """*condition* does not hold."""

    condition: Condition = attrs.field(converter=_condition)

    def __str__(self) -> str:
        return f"not ({self.condition})"

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        return not self.condition.matches(attributes)

    def mask(self, columns: Mapping[str, Any], size: int) -> np.ndarray:
        return ~self.condition.mask(columns, size)

    def attributes(self) -> frozenset[str]:
        return self.condition.attributes()

    def to_data(self) -> dict[str, Any]:
        return {"not": self.condition.to_data()}


def decided_by_attributes(condition: Condition) -> bool:
    """Whether *condition* is built of cloudrate's own plain, ``all``, ``any`` and ``not``
    conditions, which decide from the values of :meth:`~Condition.attributes` alone (a
    subclass may read more), so that what it selects can be remembered by those values.

    >>> decided_by_attributes(All([Match({"zone": "z1"}), Not(Match({"os": "linux"}))]))
    True
    """
    kind = type(condition)
    if kind is Match:
        return True
    if isinstance(condition, All | AnyOf) and kind in (All, AnyOf):
        return all(decided_by_attributes(c) for c in condition.conditions)
    if isinstance(condition, Not) and kind is Not:
        return decided_by_attributes(condition.condition)
    return False


def _raise(path: str, _code: str, message: str, value: Any) -> None:
    shown = "" if value is None else f" (got {value!r})"
    raise PlanError(f"{path}: {message}{shown}")


_MANY = (list, tuple, set, frozenset)


def _is_value(value: object) -> bool:
    """A value or a list of values (anything but a mapping, read as its text)."""
    if isinstance(value, _MANY):
        return not any(isinstance(v, (Mapping, *_MANY)) for v in value)
    return not isinstance(value, Mapping)


def read_condition(
    value: object, path: str = "where", report: Report | None = None
) -> Condition | None:
    """The condition a plan's ``where`` (at *path*) holds; each problem goes to *report*
    (``report(path, code, message, value)``), or raises :class:`PlanError` without one.
    None when there was a problem; ``None`` or ``{}`` selects every record.

    >>> read_condition({"zone": "z1", "not": {"state": "stopped"}})
    All(conditions=(Match({'zone': ('z1',)}), Not(condition=Match({'state': ('stopped',)}))))
    >>> read_condition({"any": []})
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.PlanError: where.any: expected at least one condition ...
    """
    if isinstance(value, Condition):
        return value
    if value is None:
        return Match()
    return _Reader(report or _raise).read(value, path)


class _Reader:
    def __init__(self, report: Report) -> None:
        self.report = report
        self.ok = True

    def problem(self, path: str, code: str, message: str, value: Any = None) -> None:
        self.ok = False
        self.report(path, code, message, value)

    def read(self, value: object, path: str) -> Condition | None:
        found = self.one(value, path)
        return found if self.ok else None

    def one(self, value: object, path: str) -> Condition | None:
        if not isinstance(value, Mapping):
            self.problem(
                path,
                "not_a_mapping",
                "expected attribute: value (or a list of values), or all/any/not",
                value if value is None or isinstance(value, str | int) else None,
            )
            return None
        if "attribute" in value:
            return self.explicit(value, path)
        plain: dict[str, Any] = {}
        parts: list[Condition | None] = []
        for key in sorted(value, key=str):
            item = value[key]
            if key not in RESERVED and _is_value(item):
                plain[str(key)] = item
            else:
                parts.append(self.entry(str(key), item, f"{path}.{key}"))
        if not self.ok:
            return None
        found = [c for c in parts if c is not None]
        if not found:
            return Match(plain)
        if plain:
            found.insert(0, Match(plain))
        return found[0] if len(found) == 1 else All(found)

    def entry(self, key: str, item: object, path: str) -> Condition | None:
        """One entry of a mapping that is not ``attribute: values``: all, any, not, or a
        comparison."""
        if key in ("all", "any"):
            return self.many(key, item, path)
        if key == "not":
            return None if (c := self.one(item, path)) is None else Not(c)
        if isinstance(item, Mapping):
            return self.compare(key, item, path)
        self.problem(
            path,
            "bad_value",
            "expected a value or a list of values; combine conditions with all, any or not",
        )
        return None

    def many(self, key: str, item: object, path: str) -> Condition | None:
        if not isinstance(item, list | tuple):
            self.problem(path, "not_a_list", f"{key} takes a list of conditions", None)
            return None
        if not item:
            self.problem(path, "missing", "expected at least one condition in the list")
            return None
        found = [self.one(c, f"{path}[{i}]") for i, c in enumerate(item)]
        kept = [c for c in found if c is not None]
        if len(kept) < len(found):
            return None
        return All(kept) if key == "all" else AnyOf(kept)

    def explicit(self, value: Mapping[Any, Any], path: str) -> Condition | None:
        """``{attribute: name, in: value or [values]}`` or ``{attribute: name, gt: ...}``,
        for any name (reserved ones too)."""
        for key in value:
            if key not in ("attribute", "in", *COMPARISONS):
                self.problem(
                    f"{path}.{key}",
                    "unknown_key",
                    "a condition naming its attribute takes attribute and in, or "
                    "attribute and comparisons (gt, gte, lt, lte)",
                    key,
                )
        name = value["attribute"]
        if not isinstance(name, str) or not name:
            self.problem(f"{path}.attribute", "bad_value", "expected an attribute name", name)
        bounds = {k: v for k, v in value.items() if k in COMPARISONS}
        if bounds and "in" in value:
            self.problem(f"{path}.in", "bad_value", "give in or comparisons, not both")
        elif bounds:
            return self.compare(name, bounds, path) if self.ok else None
        elif "in" not in value:
            self.problem(f"{path}.in", "missing", "in is required: the value or list of values")
        elif not _is_value(value["in"]):
            self.problem(f"{path}.in", "bad_value", "expected a value or a list of values")
        if not self.ok:
            return None
        return Match({name: value["in"]})

    def compare(self, name: str, bounds: Mapping[Any, Any], path: str) -> Condition | None:
        """``{gt: n, lte: m, ...}`` of attribute *name*: a :class:`Compare`."""
        ok = True
        if not bounds:
            self.problem(path, "missing", "give a comparison: gt, gte, lt or lte")
            return None
        for key, number in bounds.items():
            here = f"{path}.{key}"
            if key not in COMPARISONS:
                self.problem(
                    here,
                    "unknown_key",
                    "a comparison takes gt, gte, lt and lte; list several values "
                    "as [a, b] to match any of them",
                    key,
                )
                ok = False
            elif isinstance(number, float):
                self.problem(
                    here, "float", "write the number as text or a whole number, not a float", number
                )
                ok = False
            elif isinstance(number, bool) or not isinstance(number, int | str | Decimal):
                self.problem(here, "not_a_number", "expected a number such as 2 or '0.5'")
                ok = False
        if not ok:
            return None
        try:
            return Compare(name, **{str(k): v for k, v in bounds.items()})
        except CloudrateError as exc:
            self.problem(path, "bad_value", str(exc).removeprefix("where: "))
            return None
