"""Per-customer overrides read from a document, every problem at once.

The mapping names charges of a plan, each with what changes for the customer::

    overrides:
      compute: {unit_price: "0.010"}
      storage: {discount_percent: 10}
      support: {free_units: 5}

A subscription document embeds it; :func:`read_overrides` reads it against the plan
(which charges exist, which keys fit each charge's model, prices in the plan's currency)
and records each problem with its path and line.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudrate._documents import FieldReader, join_path, load_document
from cloudrate.exceptions import CloudrateError

from ._charge import Charge
from ._override import OVERRIDE_KEYS, ChargeOverride, applicable, inapplicable_message, price_lists
from ._read_charge import check_bounds
from ._tiers import read_tiers

if TYPE_CHECKING:  # pragma: no cover
    from ._plan import Plan

__all__ = ["read_overrides"]


def read_overrides(
    data: Mapping[str, Any] | str | Path | None,
    plan: Plan,
    *,
    path: str = "overrides",
    reader: FieldReader | None = None,
) -> tuple[ChargeOverride, ...]:
    """The overrides of *plan*'s charges that *data* gives, by charge name.

    Without *reader*, *data* is the overrides mapping itself (or YAML text, or a file)
    and every problem is raised at once as a :class:`~cloudrate.exceptions.ConfigError`,
    each named under *path*. With the *reader* of a larger document (a subscription
    file), *data* is the value found at *path* in it: problems are recorded on that
    document, with its lines, for the caller to raise with its own.

    >>> from moneyed import Money
    >>> from cloudrate.plans import Charge, PerUnit, Plan
    >>> plan = Plan(name="Basic", currency="EUR", charges=[
    ...     Charge(name="compute", metric="vcpu_hours", model=PerUnit(Money("0.0125", "EUR")))])
    >>> (acme,) = read_overrides({"compute": {"unit_price": "0.010", "discount_percent": 5}}, plan)
    >>> acme.unit_price, acme.discount_percent
    (Money('0.010', 'EUR'), Decimal('5'))
    >>> read_overrides({"compute": {"unit_price": 0.01, "tiers": []}, "storage": {}}, plan)
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.ConfigError: 3 problems in <dict>:
      overrides.compute.tiers: tiers does not apply to a per_unit charge; override unit_price, \
free_units, discount_percent [not_applicable]
      overrides.compute.unit_price: floats cannot hold money exactly; write '0.01' as a string \
or Decimal (got 0.01) [float]
      overrides.storage: plan 'Basic' has no charge of this name; its charges are compute \
(got 'storage') [unknown_charge]

    .. versionadded:: 0.2
    """
    if reader is None:
        doc = load_document({} if data is None else data)
        if path:
            doc.lines = {(join_path(path, k) if k else path): n for k, n in doc.lines.items()}
        r = FieldReader(doc, plan.currency)
        found = _overrides(r, doc.data, plan, path)
        doc.raise_if_problems()
        return found
    return _overrides(FieldReader(reader.doc, plan.currency), data, plan, path)


def _overrides(r: FieldReader, raw: Any, plan: Plan, path: str) -> tuple[ChargeOverride, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        r.doc.problem(
            path,
            "not_a_mapping",
            "expected charge_name: {unit_price: ..., discount_percent: ...}",
            raw if isinstance(raw, str | int) else None,
        )
        return ()
    charges: dict[str, list[tuple[str, Charge]]] = {}
    for where, listed in price_lists(plan):
        for charge in listed:
            charges.setdefault(charge.name, []).append((where, charge))
    found: list[ChargeOverride] = []
    for name, entry in raw.items():
        epath = join_path(path, str(name))
        if name not in charges:
            near = difflib.get_close_matches(str(name), list(charges), n=1, cutoff=0.6)
            hint = f"did you mean {near[0]!r}?" if near else f"its charges are {', '.join(charges)}"
            r.doc.problem(
                epath,
                "unknown_charge",
                f"plan {plan.name!r} has no charge of this name; {hint}",
                name,
            )
            continue
        override = _override(r, entry, epath, name, charges[name])
        if override is not None:
            found.append(override)
    return tuple(found)


def _override(
    r: FieldReader, entry: Any, epath: str, name: str, versions: list[tuple[str, Charge]]
) -> ChargeOverride | None:
    """One charge's override, checked against every model the charge has."""
    count = len(r.doc.problems)
    fields = r.mapping(entry, epath, OVERRIDE_KEYS)
    given = [k for k in OVERRIDE_KEYS if fields.get(k) is not None]
    if isinstance(entry, Mapping) and not given and len(r.doc.problems) == count:
        r.doc.problem(
            epath, "empty_override", f"nothing to override; give {', '.join(OVERRIDE_KEYS)}"
        )
    for key in given:
        for where, charge in versions:
            if not applicable(key, charge):
                hint = f" (the charge{where})" if where else ""
                r.doc.problem(
                    join_path(epath, key),
                    "not_applicable",
                    inapplicable_message(key, charge) + hint,
                )
                fields.pop(key)  # its value is not read: the key itself is the problem
                break
    if check_bounds(r, fields, epath, OVERRIDE_KEYS):
        return None  # values beyond the bounds are reported at their own paths
    values = _values(r, fields, epath)
    if len(r.doc.problems) > count:
        return None
    try:
        return ChargeOverride(charge=name, **values)
    except CloudrateError as exc:  # a check the reader missed: report it, never crash
        r.doc.problem(epath, "bad_override", str(exc))
        return None


def _values(r: FieldReader, fields: Mapping[str, Any], epath: str) -> dict[str, Any]:
    """The typed values of the keys given (problems recorded on the reader)."""
    values: dict[str, Any] = {}
    for key in ("unit_price", "block_price", "price", "amount"):
        price = r.price(fields, key, epath, required=False)
        if price is not None:
            values[key] = price
    if fields.get("tiers") is not None and (tiers := read_tiers(r, fields, epath)) is not None:
        values["tiers"] = tiers
    free = r.number(fields, "free_units", epath)
    if free is not None:
        values["free_units"] = free
    percent = r.number(fields, "discount_percent", epath, above=True)
    if percent is not None and percent > 100:
        r.doc.problem(
            join_path(epath, "discount_percent"),
            "out_of_range",
            "must be at most 100; 10 takes 10% off the charge",
            str(percent),
        )
    elif percent is not None:
        values["discount_percent"] = percent
    return values
