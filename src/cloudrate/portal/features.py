"""The billing feature configuration: every setting of a portal's Billing feature page,
per tenant and per account type, turned into rules and capabilities.

A document holds the settings at its top level, optional overrides for ``individual``
and ``organisation`` accounts, and optional ``tenants`` each with their own settings and
account-type overrides. Settings resolve in this order, later winning: defaults, the
top level, its account-type block, the tenant, the tenant's account-type block. Every
problem of the document (unknown or misspelled keys, wrong types, invalid currencies,
minimum recharge above maximum...) is reported at once in one
:class:`~cloudrate.ConfigError`. The setting-by-setting table is
``docs/feature-configuration.md``.

>>> config = load_features('''
... currency: EUR
... free_first_ip: true
... minimum_prepaid_recharge: 10
... organisation: {billing_plan: postpaid}
... individual: {billing_plan: prepaid}
... ''')
>>> settings = config.for_account("individual")
>>> settings.billing_plan().value, settings.recharge_limits().minimum
('prepaid', Money('10', 'EUR'))
>>> [type(rule).__name__ for rule in settings.policy().rules]
['DefaultIpCharge', 'SecondaryIpBilling', 'FreeFirstIp']
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
from moneyed import Money

from cloudrate._documents import Document, load_document
from cloudrate._money import check_currency
from cloudrate.accounts import (
    BillingPlans,
    NegativeBalance,
    PlanType,
    PrepaidHourly,
    RechargeLimits,
    SignupPayment,
    SuspensionPolicy,
    VerificationRefund,
    account_type,
)
from cloudrate.exceptions import CloudrateError
from cloudrate.period import zone
from cloudrate.rules import (
    ContractTypes,
    CostDecimals,
    DefaultIpCharge,
    FreeFirstIp,
    MultiCurrency,
    Policy,
    SecondaryIpBilling,
    chain,
    generate_code,
)

from .budget import Budget
from .capabilities import Capabilities

__all__ = ["ACCOUNT_TYPES", "DEFAULTS", "FeatureConfig", "FeatureSettings", "load_features"]

ACCOUNT_TYPES = ("individual", "organisation")
_PLAN_TYPES = tuple(p.value for p in PlanType)


def _bool(value: Any) -> tuple[Any, str | None]:
    return (value, None) if isinstance(value, bool) else (None, "expected true or false")


def _whole(lo: int, hi: int | None = None) -> Callable[[Any], tuple[Any, str | None]]:
    def parse(value: Any) -> tuple[Any, str | None]:
        ok = (
            not isinstance(value, bool)
            and isinstance(value, int | Decimal)
            and (value == int(value))
            and value >= lo
            and (hi is None or value <= hi)
        )
        span = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
        return (int(value), None) if ok else (None, f"expected a whole number {span}")

    return parse


def _amount(value: Any) -> tuple[Any, str | None]:
    """A number, or text such as '10.00' or '10.00 EUR'; the currency is checked later."""
    if value is None:
        return None, None
    if isinstance(value, float):
        return None, (f"floats cannot hold money exactly; write '{value!r}' as a string or Decimal")
    currency = None
    if isinstance(value, str) and " " in value.strip():
        value, _, currency = value.strip().rpartition(" ")
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None, "expected an amount such as 10.00"
    try:
        number = Decimal(value)
    except ArithmeticError:
        return None, "expected an amount such as 10.00"
    if not number.is_finite():
        return None, "expected a finite amount"
    return (number, currency), None


def _percent(value: Any) -> tuple[Any, str | None]:
    parsed, error = _amount(value)
    if error or parsed[1] is not None or not 0 <= parsed[0] <= 100:
        return None, "expected a percentage from 0 to 100"
    return parsed[0], None


def _currency(value: Any) -> tuple[Any, str | None]:
    try:
        return check_currency(value), None
    except CloudrateError:
        return None, 'not an ISO 4217 code such as "EUR"'


def _currencies(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list | tuple):
        return None, "expected a list of currency codes such as [USD, INR]"
    bad = [v for v in value if _currency(v)[1]]
    if bad:
        return None, f'not ISO 4217 codes such as "EUR": {", ".join(map(repr, bad))}'
    return tuple(value), None


def _choice(
    options: tuple[str, ...],
    optional: bool = False,
) -> Callable[[Any], tuple[Any, str | None]]:
    def parse(value: Any) -> tuple[Any, str | None]:
        if value is None and optional:
            return None, None
        if isinstance(value, str) and value.lower() in options:
            return value.lower(), None
        near = difflib.get_close_matches(str(value).lower(), options, n=1, cutoff=0.5)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return None, f"must be one of {', '.join(options)}{hint}"

    return parse


def _text(value: Any) -> tuple[Any, str | None]:
    return (value, None) if isinstance(value, str) and value else (None, "expected text")


def _thresholds(value: Any) -> tuple[Any, str | None]:
    wrong = None, "expected ascending percentages above 0, such as [50, 80, 100]"
    if not isinstance(value, list | tuple) or not value:
        return wrong
    numbers = []
    for item in value:
        parsed, error = _amount(item)
        if error or parsed is None or parsed[1] is not None or parsed[0] <= 0:
            return wrong
        numbers.append(parsed[0])
    if numbers != sorted(set(numbers)):
        return wrong
    return tuple(numbers), None


Parser = Callable[[Any], tuple[Any, str | None]]

#: Every setting: key -> (parser, default) or, for grouped settings, key -> {sub-key: ...}.
#: A grouped setting also accepts a bare true/false for its first sub-key.
SPEC: dict[str, Any] = {
    "currency": (_currency, None),
    "timezone": (_text, "UTC"),
    "default_ip_charge": (_bool, True),
    "free_first_ip": (_bool, False),
    "secondary_ip_billing": (_bool, True),
    "cost_decimals": (_whole(0, 10), 2),
    "multi_currency": {"enabled": (_bool, False), "currencies": (_currencies, ())},
    "portal_payment": (_bool, True),
    "invoice_menu": (_bool, True),
    "whmcs_billing": (_bool, False),
    "prepaid_hourly_billing": {
        "enabled": (_bool, False),
        "fallback": (_choice(("daily", "monthly")), "daily"),
    },
    "suspended_account_billing": {
        "enabled": (_bool, False),
        "grace_days": (_whole(0), 0),
        "warning_days": (_whole(0), None),
    },
    "prepaid_negative_balance": {
        "allowed": (_bool, False),
        "floor": (_amount, None),
        "display": (_bool, False),
    },
    "account_verification_refund": {"enabled": (_bool, False), "percent": (_percent, Decimal(100))},
    "billing_contract_type": {
        "enabled": (_bool, False),
        "default": (_choice(("pay_as_you_go", "fixed_payment")), "pay_as_you_go"),
    },
    "signup_payment": {"enabled": (_bool, False), "amount": (_amount, None)},
    "minimum_prepaid_recharge": (_amount, None),
    "maximum_prepaid_recharge": (_amount, None),
    "billing_plan": (_choice(_PLAN_TYPES), "postpaid"),
    "individual_billing_plan": (_choice(_PLAN_TYPES, optional=True), None),
    "organisation_billing_plan": (_choice(_PLAN_TYPES, optional=True), None),
    "promo_code_prefix": (_text, "PROMO"),
    "budget_alerts": {
        "enabled": (_bool, True),
        "thresholds": (_thresholds, (Decimal(50), Decimal(80), Decimal(100))),
        "use_forecast": (_bool, True),
    },
}

#: The default of every setting (grouped settings as mappings).
DEFAULTS: dict[str, Any] = {
    key: ({k: d for k, (_, d) in spec.items()} if isinstance(spec, dict) else spec[1])
    for key, spec in SPEC.items()
}


def _read_block(doc: Document, data: Any, path: str, extra: tuple[str, ...]) -> dict[str, Any]:
    """Parse one block of settings; problems go to *doc*."""

    def join(key: str) -> str:
        return f"{path}.{key}" if path else key

    if data is None:
        return {}
    if not isinstance(data, Mapping):
        doc.problem(path, "not_a_mapping", "expected a mapping of setting: value")
        return {}
    known = tuple(SPEC) + extra
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in extra:
            continue
        if key not in SPEC:
            near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = (
                f"; did you mean {near[0]!r}?"
                if near
                else ("; see docs/feature-configuration.md for the settings")
            )
            doc.problem(join(str(key)), "unknown_key", f"unknown setting{hint}", key)
            continue
        spec = SPEC[key]
        if isinstance(spec, dict):
            first = next(iter(spec))
            if isinstance(value, bool):
                value = {first: value}
            if not isinstance(value, Mapping):
                doc.problem(
                    join(key),
                    "not_a_mapping",
                    f"expected true/false or a mapping of {', '.join(spec)}",
                    value,
                )
                continue
            group: dict[str, Any] = {}
            for sub, sub_value in value.items():
                if sub not in spec:
                    near = difflib.get_close_matches(str(sub), tuple(spec), n=1, cutoff=0.6)
                    hint = (
                        f"; did you mean {near[0]!r}?"
                        if near
                        else (f"; known keys are {', '.join(spec)}")
                    )
                    doc.problem(f"{join(key)}.{sub}", "unknown_key", f"unknown key{hint}", sub)
                    continue
                parsed, error = (None, None) if sub_value is None else spec[sub][0](sub_value)
                if error:
                    doc.problem(f"{join(key)}.{sub}", "bad_value", error, sub_value)
                else:
                    group[sub] = parsed
            out[key] = group
        else:
            parsed, error = (None, None) if value is None and spec[1] is None else (spec[0](value))
            if error:
                doc.problem(join(key), "bad_value", error, value)
            else:
                out[key] = parsed
    return out


def _merge(*blocks: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {
        k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()
    }
    for block in blocks:
        for key, value in block.items():
            if isinstance(SPEC[key], dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


@attrs.frozen(kw_only=True)
class FeatureSettings:
    """The resolved settings of one tenant and account type, and what they turn into."""

    tenant: str | None
    account_type: str
    values: Mapping[str, Any] = attrs.field(repr=False, hash=False)
    currency: str
    timezone: str

    def __attrs_post_init__(self) -> None:
        # Build every object once, so a bad combination fails at load time.
        self.policy()
        self.recharge_limits()
        self.negative_balance()
        self.suspension()
        self.verification_refund()
        self.signup_payment()
        self.prepaid_hourly()
        self.multi_currency()
        self.contract_types()
        self.billing_plans()

    def _money(self, value: tuple[Decimal, str | None] | None, where: str) -> Money | None:
        if value is None:
            return None
        number, currency = value
        if currency is not None and currency != self.currency:
            raise CloudrateError(
                f"{where} is in {currency}, but these settings use "
                f"{self.currency}; give amounts in {self.currency}"
            )
        return Money(number, self.currency)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def to_dict(self) -> dict[str, Any]:
        """The resolved settings as plain data (amounts and numbers as strings);
        :func:`load_features` reads it back to the same settings."""

        def plain(value: Any) -> Any:
            if (
                isinstance(value, tuple)
                and len(value) == 2
                and isinstance(value[0], Decimal)
                and (value[1] is None or isinstance(value[1], str))
            ):
                return f"{value[0]} {self.currency}"
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, Decimal):
                return str(value)
            return value

        return {key: plain(self.values[key]) for key in SPEC}

    # --- rules -----------------------------------------------------------------------
    def policy(self, charge: str = "public_ip") -> Policy:
        """The IP rules, in order: default IP, secondary IPs, then the first IP free (so it
        never credits an IP the earlier rules already made free)."""
        v = self.values
        return chain(
            DefaultIpCharge(enabled=v["default_ip_charge"], charge=charge),
            SecondaryIpBilling(enabled=v["secondary_ip_billing"], charge=charge),
            FreeFirstIp(enabled=v["free_first_ip"], charge=charge),
        )

    def cost_decimals(self) -> CostDecimals:
        return CostDecimals(self.values["cost_decimals"])

    def multi_currency(self) -> MultiCurrency:
        mc = self.values["multi_currency"]
        return MultiCurrency(
            enabled=mc["enabled"], default=self.currency, currencies=mc["currencies"]
        )

    def billing_plans(self) -> BillingPlans:
        v = self.values
        return BillingPlans(
            default=v["billing_plan"],
            individual=v["individual_billing_plan"],
            organisation=v["organisation_billing_plan"],
        )

    def billing_plan(self) -> PlanType:
        """The plan type of this account type."""
        return self.billing_plans().for_account(self.account_type)

    def contract_types(self) -> ContractTypes:
        c = self.values["billing_contract_type"]
        return ContractTypes(enabled=c["enabled"], default=c["default"])

    def generate_promo_code(self, rng: random.Random, length: int = 6) -> str:
        return generate_code(self.values["promo_code_prefix"], rng, length)

    def budget(
        self,
        account: str,
        amount: Money,
        recipients: Iterable[str] = (),
    ) -> Budget | None:
        """*account*'s monthly budget with the configured thresholds; None when budget
        alerts are disabled."""
        b = self.values["budget_alerts"]
        if not b["enabled"]:
            return None
        return Budget(
            account=account,
            amount=amount,
            recipients=tuple(recipients),
            thresholds=b["thresholds"],
            use_forecast=b["use_forecast"],
        )

    # --- wallet and account settings ---------------------------------------------------
    def recharge_limits(self) -> RechargeLimits:
        v = self.values
        return RechargeLimits(
            minimum=self._money(v["minimum_prepaid_recharge"], "minimum_prepaid_recharge"),
            maximum=self._money(v["maximum_prepaid_recharge"], "maximum_prepaid_recharge"),
        )

    def negative_balance(self) -> NegativeBalance:
        n = self.values["prepaid_negative_balance"]
        return NegativeBalance(
            allowed=n["allowed"],
            floor=self._money(n["floor"], "prepaid_negative_balance.floor"),
            display=n["display"],
        )

    def suspension(self) -> SuspensionPolicy:
        s = self.values["suspended_account_billing"]
        return SuspensionPolicy(
            enabled=s["enabled"],
            grace_days=s["grace_days"],
            warning_days=s["warning_days"],
            timezone=self.timezone,
        )

    def verification_refund(self) -> VerificationRefund:
        r = self.values["account_verification_refund"]
        return VerificationRefund(enabled=r["enabled"], percent=r["percent"])

    def signup_payment(self) -> SignupPayment:
        s = self.values["signup_payment"]
        return SignupPayment(
            enabled=s["enabled"], amount=self._money(s["amount"], "signup_payment.amount")
        )

    def prepaid_hourly(self) -> PrepaidHourly:
        p = self.values["prepaid_hourly_billing"]
        return PrepaidHourly(enabled=p["enabled"], fallback=p["fallback"])

    # --- capabilities ---------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        v = self.values
        mc = self.multi_currency()
        return Capabilities(
            portal_payment=v["portal_payment"],
            invoice_menu=v["invoice_menu"],
            whmcs_billing=v["whmcs_billing"],
            multi_currency=mc.enabled,
            currencies=mc.offered,
            contract_type_choice=v["billing_contract_type"]["enabled"],
            signup_payment=v["signup_payment"]["enabled"],
            prepaid_hourly_billing=v["prepaid_hourly_billing"]["enabled"],
            negative_balance_display=v["prepaid_negative_balance"]["display"],
            verification_refund=v["account_verification_refund"]["enabled"],
            budget_alerts=v["budget_alerts"]["enabled"],
            default_ip_charged=v["default_ip_charge"],
            first_ip_free=v["free_first_ip"],
            secondary_ip_billed=v["secondary_ip_billing"],
            cost_decimals=v["cost_decimals"],
        )


@attrs.frozen
class FeatureConfig:
    """A loaded feature configuration: resolved settings per tenant and account type."""

    settings: Mapping[tuple[str | None, str], FeatureSettings] = attrs.field(hash=False)
    source: str = "<dict>"

    @property
    def tenants(self) -> tuple[str, ...]:
        return tuple(sorted({t for t, _ in self.settings if t is not None}))

    def for_account(
        self,
        account_type: str = "individual",
        tenant: str | None = None,
    ) -> FeatureSettings:
        """The settings of *account_type* accounts of *tenant* (None: the top level)."""
        kind = _kind(account_type)
        if tenant is not None and tenant not in self.tenants:
            near = difflib.get_close_matches(tenant, self.tenants, n=1, cutoff=0.6)
            hint = (
                f"; did you mean {near[0]!r}?"
                if near
                else (f"; tenants are {', '.join(self.tenants) or '(none)'}")
            )
            raise KeyError(f"no tenant {tenant!r} in {self.source}{hint}")
        return self.settings[(tenant, kind)]


def _kind(value: str) -> str:
    return account_type(value).value


def load_features(source: str | Path | Mapping[str, Any]) -> FeatureConfig:
    """Load a feature configuration from a YAML file path, YAML text or a dict.

    Raises :class:`~cloudrate.ConfigError` listing every problem, each with its path
    (and line, for YAML).
    """
    doc = load_document(source)
    data = {} if doc.data is None else doc.data
    top_extra = ("individual", "organisation", "tenants")
    blocks: dict[tuple[str | None, str | None], tuple[str, dict[str, Any]]] = {}
    blocks[(None, None)] = ("", _read_block(doc, data, "", top_extra))
    if isinstance(data, Mapping):
        if "currency" not in data:
            doc.problem(
                "currency",
                "missing",
                "currency is required: the default currency prices and bills are in, such as EUR",
            )
        for kind in ACCOUNT_TYPES:
            blocks[(None, kind)] = (kind, _read_block(doc, data.get(kind), kind, ()))
        tenants = data.get("tenants") or {}
        if not isinstance(tenants, Mapping):
            doc.problem("tenants", "not_a_mapping", "expected tenant-name: settings")
            tenants = {}
        for name, tdata in tenants.items():
            tpath = f"tenants.{name}"
            blocks[(str(name), None)] = (tpath, _read_block(doc, tdata, tpath, ACCOUNT_TYPES))
            for kind in ACCOUNT_TYPES:
                sub = tdata.get(kind) if isinstance(tdata, Mapping) else None
                blocks[(str(name), kind)] = (
                    f"{tpath}.{kind}",
                    _read_block(doc, sub, f"{tpath}.{kind}", ()),
                )
    doc.raise_if_problems()

    settings: dict[tuple[str | None, str], FeatureSettings] = {}
    seen: set[str] = set()
    names: list[str | None] = [None, *sorted({t for t, _ in blocks if t is not None})]
    for tenant in names:
        for kind in ACCOUNT_TYPES:
            chain_ = [blocks[(None, None)], blocks[(None, kind)]]
            if tenant is not None:
                chain_ += [blocks[(tenant, None)], blocks[(tenant, kind)]]
            values = _merge(*(b for _, b in chain_))
            where = (
                chain_[-1][0] if chain_[-1][1] else next((p for p, b in reversed(chain_) if b), "")
            )
            try:
                zone(values["timezone"])
                settings[(tenant, kind)] = FeatureSettings(
                    tenant=tenant,
                    account_type=kind,
                    values=values,
                    currency=values["currency"],
                    timezone=values["timezone"],
                )
            except CloudrateError as exc:
                message = str(exc)
                if message not in seen:
                    seen.add(message)
                    label = f"{tenant or 'top level'}, {kind} accounts"
                    doc.problem(where, "invalid_settings", f"{message} ({label})")
    doc.raise_if_problems()
    return FeatureConfig(settings, doc.source)
