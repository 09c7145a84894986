"""One charge of a plan document: its common fields and its model, every problem recorded."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from cloudrate._documents import FieldReader, join_path
from cloudrate._money import MAX_DIGITS, bound_problem
from cloudrate.exceptions import CloudrateError

from ._charge import Charge
from ._kinds import MODELS
from ._model import ChargeModel, prices_transactions
from ._validity import read_validity
from ._where import Condition, Match, read_condition

__all__ = ["CHARGE_KEYS", "read_charge"]


CHARGE_KEYS = (
    "name",
    "metric",
    "description",
    "service",
    "where",
    "valid",
    "free_units",
    "model",
)

#: The keys of a charge (and of its tiers) that hold amounts or quantities, held to the
#: bounds of :func:`cloudrate._money.bound_problem`, and those that hold digits.
_AMOUNTS = (
    "unit_price",
    "block_price",
    "price",
    "amount",
    "flat_price",
    "fixed_fee",
    "min_per_transaction",
    "max_per_transaction",
)
_QUANTITIES = ("free_units", "block_size", "up_to", "free_amount")
_DIGITS = ("proration_digits",)


def _number(value: object) -> Decimal | None:
    """The number a plan value holds (``'0.10 USD'`` text too), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip().rpartition(" ")[2 if " " not in value.strip() else 0])
        except ArithmeticError:
            return None
    return None


def check_bounds(r: FieldReader, data: Mapping[str, Any], path: str, keys: tuple[str, ...]) -> bool:
    """Record a problem for every amount, quantity or digits of a charge (and its tiers)
    beyond what cloudrate computes exactly, among the *keys* it may have; True when there
    was one."""
    found = False
    for key, value in data.items():
        if key not in keys:
            continue  # an unknown key is reported as such
        where = join_path(path, key)
        if key == "tiers" and isinstance(value, list):
            for index, tier in enumerate(value):
                if isinstance(tier, Mapping):
                    tier_path = join_path(where, index)
                    found = check_bounds(r, tier, tier_path, tuple(tier)) or found
            continue
        number = _number(value)
        if number is None or not number.is_finite():
            continue  # not a number: the model's reader says so
        if key in _DIGITS:
            if number > MAX_DIGITS:
                r.doc.problem(
                    where,
                    "out_of_bounds",
                    f"must be at most {MAX_DIGITS}, the most decimals cloudrate rounds to",
                    str(number),
                )
                found = True
            continue
        what = "amount" if key in _AMOUNTS else "quantity" if key in _QUANTITIES else None
        problem = None if what is None else bound_problem(number, what)
        if problem is not None:
            r.doc.problem(where, "out_of_bounds", problem, str(number))
            found = True
    return found


def _model_class(r: FieldReader, kind: object, path: str) -> type[ChargeModel] | None:
    """The model class a charge's ``model`` names, or None after recording the problem."""
    if kind is None:
        r.doc.problem(
            join_path(path, "model"),
            "missing",
            f"model is required: one of {', '.join(MODELS)}",
        )
        return None
    if not isinstance(kind, str) or kind not in MODELS:
        near = difflib.get_close_matches(str(kind), list(MODELS), n=1, cutoff=0.5)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        r.doc.problem(
            join_path(path, "model"),
            "unknown_model",
            f"unknown charge model; use one of {', '.join(MODELS)}{hint}",
            kind,
        )
        return None
    return MODELS[kind]


def read_charge(r: FieldReader, raw: Any, path: str, earlier: list[str]) -> Charge | None:
    """One charge of a plan file, or None after recording its problems; *earlier* are the
    names declared before it (what a percentage or minimum may name)."""
    if not isinstance(raw, Mapping):
        r.mapping(raw, path, ())
        return None
    kind = raw.get("model")
    if isinstance(kind, str) and kind in MODELS:
        model_keys = MODELS[kind].keys
    else:  # unknown model: only the model is reported, not the keys it would take
        model_keys = tuple(sorted({k for model in MODELS.values() for k in model.keys}))
    data = r.mapping(raw, path, CHARGE_KEYS + model_keys)
    name = r.text(data, "name", path, required=True)
    model_class = _model_class(r, kind, path)
    if model_class is None:
        return None
    count = len(r.doc.problems)
    beyond = check_bounds(r, data, path, CHARGE_KEYS + model_keys)
    try:
        model = model_class.read(r, data, path)
    except CloudrateError as exc:  # a check the reader missed: report it, never crash
        if not beyond:  # a value beyond the bounds is reported at its own path above
            r.doc.problem(path, "bad_charge", str(exc))
        model = None
    free = r.number(data, "free_units", path)
    metric = r.text(data, "metric", path, required=model_class.basis == "usage")
    where = _where(r, data, path)
    valid = read_validity(r, data, path)
    if model_class.basis in ("charges", "spend"):
        _check_derived(r, data, path, model_class.kind, earlier)
    if free and prices_transactions(model_class):
        r.doc.problem(
            join_path(path, "free_units"),
            "not_applicable",
            f"a {model_class.kind} charge has its own free_amount and free_transactions; "
            "give those instead",
            str(free),
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
            where=where or Match(),
            free_units=free or Decimal(0),
            valid=valid,
        )
    except CloudrateError as exc:
        r.doc.problem(path, "bad_charge", str(exc))
        return None


def _where(r: FieldReader, data: Mapping[str, Any], path: str) -> Condition | None:
    """The charge's ``where`` condition (None when absent or after recording problems)."""
    where = data.get("where")
    if where is None:
        return None
    return read_condition(where, join_path(path, "where"), r.doc.problem)


def _check_derived(
    r: FieldReader, data: Mapping[str, Any], path: str, kind: str, earlier: list[str]
) -> None:
    """A charge priced from other charges has no usage fields, and names earlier charges."""
    for field in ("metric", "where", "valid", "free_units"):
        if field in data:
            r.doc.problem(
                join_path(path, field),
                "not_applicable",
                f"a {kind} charge prices other charges; remove {field}",
            )
    raw_of = data.get("of")  # checked even when the model itself has problems
    if isinstance(raw_of, str):
        names = [raw_of]
    elif isinstance(raw_of, list):
        names = [n for n in raw_of if isinstance(n, str)]
    else:
        names = []
    for other in names:
        if other not in earlier:
            r.doc.problem(
                join_path(path, "of"),
                "unknown_charge",
                "names no charge declared above this one; list the charges it applies to above it",
                other,
            )
