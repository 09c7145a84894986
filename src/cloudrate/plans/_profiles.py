"""Compatibility profiles: one name in a plan document sets every convention of a biller.

``profile: lago`` (or ``killbill``, ``stripe``, ``cloudstack-quota``) fills in, before the
plan is read, each setting of that system the document does not give itself: explicit
settings always win. A profile is a shorthand of the document, not a state of the plan:
the loaded :class:`~cloudrate.plans.Plan` holds the settings themselves, so
:func:`~cloudrate.plans.dump_plan` writes them out and no longer names the profile
(loading the dump gives an equal plan).

>>> data = apply_profile({"profile": "stripe", "name": "p", "currency": "USD",
...     "charges": [{"name": "fee", "model": "flat", "price": "30.00"}]})
>>> data["charges"][0]["proration"]
'seconds'
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from cloudrate.exceptions import OptionError

from ._metrics import _parse

__all__ = [
    "PROFILES",
    "Profile",
    "Setting",
    "apply_profile",
    "find_profile",
    "profile_table",
    "unknown_profile",
]

#: Where a setting lives in a plan document: the plan itself, each metric, each charge.
Level = Literal["plan", "metric", "charge"]


@attrs.frozen(kw_only=True)
class Setting:
    """One convention a profile sets: *key* (a dotted path, ``rounding.mode``) of each
    object at *level* (of charges whose model is one of *kinds*, every charge when empty,
    and for which *when* holds, when given) is *value* unless the document gives it.
    *default* is what cloudrate does without the key; *says* is the docs table's words and
    *source* the other system's page or file that defines the rule."""

    level: Level
    key: str
    value: Any
    default: Any
    says: str
    source: str
    kinds: tuple[str, ...] = ()
    when: Callable[[Mapping[str, Any]], bool] | None = attrs.field(default=None, eq=False)
    when_says: str = ""

    def applies_to(self, obj: Mapping[str, Any]) -> bool:
        """Whether the setting applies to a charge or metric written as *obj*: a charge
        of one of *kinds* (any model when empty), for which *when* holds (a percentage
        with ``tiers``, a metric read from bytes), when given."""
        if self.kinds and obj.get("model") not in self.kinds:
            return False
        return self.when is None or self.when(obj)


@attrs.frozen(kw_only=True)
class Profile:
    """The conventions of one billing system, as settings of cloudrate's options."""

    name: str
    system: str
    settings: tuple[Setting, ...]

    def apply(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the plan document *data* with every setting it does not give filled in."""
        out = copy.deepcopy(dict(data))
        out.pop("profile", None)
        for setting in self.settings:
            if setting.level == "plan":
                _fill(out, setting.key, setting.value)
            elif setting.level == "metric":
                metrics = out.get("metrics")
                if isinstance(metrics, dict):
                    for name, spec in list(metrics.items()):
                        spec = {} if spec is None else spec
                        if isinstance(spec, dict) and setting.applies_to(spec):
                            metrics[name] = _fill(spec, setting.key, setting.value)
            else:
                for charge in _charge_entries(out):
                    if setting.applies_to(charge):
                        _fill(charge, setting.key, setting.value)
        return out


def _fill(target: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Set the dotted *key* of *target* to *value* unless it is given (``null`` included);
    a part of the path that is null is not given, and one that is not a mapping is left
    for the plan reader to report."""
    head, _, rest = key.partition(".")
    if not rest:
        if head not in target:  # an explicit null is a setting too: cloudrate's default
            target[head] = copy.deepcopy(value)
        return target
    inner = target.get(head)
    if inner is None:
        inner = target[head] = {}
    if isinstance(inner, dict):
        _fill(inner, rest, value)
    return target


def _charge_entries(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every charge a document defines with its model: the plan's, the ones its versions
    add, and version changes that give a new model (which drops the old model's keys)."""
    found: list[dict[str, Any]] = []

    def take(items: Any, *, need_model: bool = False) -> None:
        if isinstance(items, list):
            found.extend(
                c for c in items if isinstance(c, dict) and (not need_model or "model" in c)
            )

    take(data.get("charges"))
    versions = data.get("versions")
    if isinstance(versions, list):
        for version in versions:
            if isinstance(version, dict):
                take(version.get("add"))
                take(version.get("charges"), need_model=True)
    return found


def apply_profile(data: Mapping[str, Any], name: str | None = None) -> dict[str, Any]:
    """*data* with the settings of its ``profile`` (or of *name*) filled in; *data*
    itself unchanged. Without a profile the document is returned as it is (copied).

    >>> apply_profile({"name": "p"})
    {'name': 'p'}
    >>> apply_profile({"profile": "lagoo"})
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.OptionError: profile: unknown profile 'lagoo'; did you mean 'lago'? \
(one of cloudstack-quota, killbill, lago, stripe)
    """
    chosen = name if name is not None else data.get("profile")
    if chosen is None:
        return copy.deepcopy(dict(data))
    return find_profile(chosen).apply(data)


def unknown_profile(name: object) -> str | None:
    """What is wrong with *name* as a profile's name (None: it names one), with the
    nearest name and the names there are."""
    if isinstance(name, str) and name in PROFILES:
        return None
    near = difflib.get_close_matches(str(name), list(PROFILES), n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return f"unknown profile {name!r}{hint} (one of {', '.join(sorted(PROFILES))})"


def find_profile(name: object) -> Profile:
    """The profile called *name*, or a clear error naming the ones there are."""
    problem = unknown_profile(name)
    if problem is None:
        assert isinstance(name, str)
        return PROFILES[name]
    raise OptionError(
        f"profile: {problem}",
        path="profile",
        value=name,
        expected=f"one of {', '.join(sorted(PROFILES))}",
        fix="name one of cloudrate's profiles, or remove profile and give the settings",
    )


def profile_table() -> list[tuple[str, str, str, str, str]]:
    """(profile, where, setting, value, what it means) for every setting of every
    profile: the docs table of :doc:`profiles`."""
    rows: list[tuple[str, str, str, str, str]] = []
    for profile in PROFILES.values():
        for s in profile.settings:
            where = s.level if not s.kinds else f"charge ({', '.join(s.kinds)})"
            if s.when_says:
                where = f"{where} {s.when_says}"
            rows.append((profile.name, where, s.key, _text(s.value), s.says))
    return rows


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _has_tiers(charge: Mapping[str, Any]) -> bool:
    return charge.get("tiers") is not None


def _units(
    metric: Mapping[str, Any],
) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    """The parsed (usage_unit, unit) of a metric written as *metric* (empty when absent)."""
    usage_unit, unit = metric.get("usage_unit"), metric.get("unit", "unit")
    if not isinstance(usage_unit, str) or not isinstance(unit, str):
        return [], []
    return _parse(usage_unit), _parse(unit)


def _hours_to_months(metric: Mapping[str, Any]) -> bool:
    """A summed metric read in hours (of something) and priced per month of it."""
    source, target = _units(metric)
    names = ({n for _, n, _ in source}, {n for _, n, _ in target})
    summed = metric.get("aggregation", "sum") == "sum"
    return summed and "hour" in names[0] and "month" in names[1] - names[0]


def _bytes_to_gib(metric: Mapping[str, Any]) -> bool:
    """A metric read in bytes and priced in GiB, nothing else converted."""
    source, target = _units(metric)
    return [n for _, n, _ in source] in (["b"], ["byte"]) and [n for _, n, _ in target] == ["gib"]


_LAGO = "https://github.com/getlago/lago-api"
_KILLBILL = "https://github.com/killbill/killbill"
_KILLBILL_MONEY = (
    f"{_KILLBILL}/blob/master/util/src/main/java/org/killbill/billing/util/currency/"
    "KillBillMoney.java"
)
_KILLBILL_DATES = (
    f"{_KILLBILL}/blob/master/invoice/src/main/java/org/killbill/billing/invoice/generator/"
    "InvoiceDateUtils.java"
)
_STRIPE = "https://docs.stripe.com"
_CLOUDSTACK = "https://github.com/apache/cloudstack"

#: Every profile by name. Each setting cites the rule it reproduces.
PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="lago",
            system="Lago",
            settings=(
                Setting(
                    level="plan",
                    key="rounding.mode",
                    value="half_up",
                    default="half_up",
                    says="each fee rounded half up to the currency's digits (`BigDecimal#round`)",
                    source=f"{_LAGO}/blob/main/app/services/fees/charge_service.rb",
                ),
                Setting(
                    level="charge",
                    key="zero_usage",
                    value="first_flat_fee",
                    default="free",
                    kinds=("graduated", "volume"),
                    says="the first tier's flat fee is charged for no usage",
                    source=f"{_LAGO}/pull/5760",
                ),
                Setting(
                    level="charge",
                    key="zero_usage",
                    value="first_flat_fee",
                    default="free",
                    kinds=("percentage",),
                    when=_has_tiers,
                    when_says="with `tiers`",
                    says="a graduated percentage's first flat fee is charged for no usage",
                    source=f"{_LAGO}/pull/5760",
                ),
            ),
        ),
        Profile(
            name="killbill",
            system="Kill Bill",
            settings=(
                Setting(
                    level="plan",
                    key="rounding.mode",
                    value="half_up",
                    default="half_up",
                    says="amounts rounded half up to the currency's digits (`KillBillMoney`)",
                    source=_KILLBILL_MONEY,
                ),
                Setting(
                    level="charge",
                    key="proration",
                    value="thirty_day_months",
                    default="days",
                    kinds=("flat",),
                    says="whole months count 1, other days over 30-day months "
                    "(`org.killbill.invoice.proration.fixed.days=30`)",
                    source=_KILLBILL_DATES,
                ),
                Setting(
                    level="charge",
                    key="proration_digits",
                    value=9,
                    default=None,
                    kinds=("flat",),
                    says="the proration factor rounded half up to 9 places "
                    "(`KillBillMoney.MAX_SCALE`)",
                    source=_KILLBILL_DATES,
                ),
                Setting(
                    level="plan",
                    key="rounding.minor_units",
                    value="iso4217",
                    default="cldr",
                    says="the currency's digits from ISO 4217 (Joda-Money's `CurrencyUnit`)",
                    source=_KILLBILL_MONEY,
                ),
            ),
        ),
        Profile(
            name="stripe",
            system="Stripe",
            settings=(
                Setting(
                    level="charge",
                    key="proration",
                    value="seconds",
                    default="days",
                    kinds=("flat",),
                    says="flat fees prorated to the second",
                    source=f"{_STRIPE}/billing/subscriptions/prorations",
                ),
            ),
        ),
        Profile(
            name="cloudstack-quota",
            system="Apache CloudStack quota",
            settings=(
                Setting(
                    level="metric",
                    key="month_hours",
                    value="actual",
                    default="period",
                    when=_hours_to_months,
                    when_says="read in hours, priced per month",
                    says="a month is the days of the record's month x 24 hours (since "
                    "CloudStack's pull request 7210; `fixed_720` before it)",
                    source=f"{_CLOUDSTACK}/pull/7210",
                ),
                Setting(
                    level="metric",
                    key="rounding",
                    value={"mode": "half_even", "precision": 8, "per": "record"},
                    default=None,
                    when=_bytes_to_gib,
                    when_says="read in bytes, priced in GiB",
                    says="each record's bytes divided into GiB at 8 places, half even",
                    source=f"{_CLOUDSTACK}/blob/main/framework/quota/src/main/java/org/"
                    "apache/cloudstack/quota/QuotaManagerImpl.java",
                ),
            ),
        ),
    )
}
