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
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
from moneyed import Money

from cloudrate._documents import Document, load_document
from cloudrate.accounts import (
    AccountType,
    AccountTypeName,
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
from cloudrate.exceptions import CloudrateError, NotFoundError
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

from ._feature_read import Blocks, merge, read_blocks
from ._feature_spec import ACCOUNT_TYPES, DEFAULTS, SPEC
from .budget import Budget
from .capabilities import Capabilities

__all__ = ["ACCOUNT_TYPES", "DEFAULTS", "FeatureConfig", "FeatureSettings", "load_features"]


@attrs.frozen(kw_only=True)
class FeatureSettings:
    """The resolved settings of one tenant and account type, and what they turn into."""

    tenant: str | None
    account_type: AccountTypeName
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
        never credits an IP the earlier rules already made free; with ``free_ips``
        ``one_in_total``, the default one, the account has one free IP in total)."""
        v = self.values
        free = v["free_first_ip"]
        return chain(
            DefaultIpCharge(enabled=v["default_ip_charge"], charge=charge),
            SecondaryIpBilling(enabled=v["secondary_ip_billing"], charge=charge),
            FreeFirstIp(enabled=free["enabled"], charge=charge, free_ips=free["free_ips"]),
        )

    def cost_decimals(self) -> CostDecimals:
        """The cost decimals, shown only or billed (``cost_decimals.applies_to``)."""
        c = self.values["cost_decimals"]
        return CostDecimals(c["digits"], applies_to=c["applies_to"])

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
        """The portal's toggle allows negative balances (down to ``floor``) and shows
        them; ``allowed`` and ``display`` can also be set apart."""
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
            negative_balance_display=self.negative_balance().display,
            verification_refund=v["account_verification_refund"]["enabled"],
            budget_alerts=v["budget_alerts"]["enabled"],
            default_ip_charged=v["default_ip_charge"],
            first_ip_free=v["free_first_ip"]["enabled"],
            secondary_ip_billed=v["secondary_ip_billing"],
            cost_decimals=self.cost_decimals().digits,
        )


@attrs.frozen
class FeatureConfig:
    """A loaded feature configuration: resolved settings per tenant and account type."""

    settings: Mapping[tuple[str | None, AccountTypeName], FeatureSettings] = attrs.field(hash=False)
    source: str = "<dict>"

    @property
    def tenants(self) -> tuple[str, ...]:
        return tuple(sorted({t for t, _ in self.settings if t is not None}))

    def for_account(
        self,
        account_type: AccountType | AccountTypeName = "individual",
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
            raise NotFoundError(
                f"no tenant {tenant!r} in {self.source}{hint}", path="tenant", value=tenant
            )
        return self.settings[(tenant, kind)]


def _kind(value: AccountType | AccountTypeName) -> AccountTypeName:
    return "individual" if account_type(value) is AccountType.INDIVIDUAL else "organisation"


def load_features(source: str | Path | Mapping[str, Any]) -> FeatureConfig:
    """Load a feature configuration from a YAML file path, YAML text or a dict.

    Raises :class:`~cloudrate.ConfigError` listing every problem, each with its path
    (and line, for YAML).
    """
    doc = load_document(source)
    blocks = read_blocks(doc, {} if doc.data is None else doc.data)
    doc.raise_if_problems()
    settings = _resolve(doc, blocks)
    doc.raise_if_problems()
    return FeatureConfig(settings, doc.source)


def _resolve(
    doc: Document, blocks: Blocks
) -> dict[tuple[str | None, AccountTypeName], FeatureSettings]:
    """The settings of every tenant and account type, each block overriding the ones
    before it; a combination that cannot be built is a problem of the last block that
    says anything (each message reported once)."""
    settings: dict[tuple[str | None, AccountTypeName], FeatureSettings] = {}
    seen: set[str] = set()
    names: list[str | None] = [None, *sorted({t for t, _ in blocks if t is not None})]
    for tenant in names:
        for kind in ACCOUNT_TYPES:
            layers = [blocks[(None, None)], blocks[(None, kind)]]
            if tenant is not None:
                layers += [blocks[(tenant, None)], blocks[(tenant, kind)]]
            try:
                settings[(tenant, kind)] = _settings(tenant, kind, merge(*(b for _, b in layers)))
            except CloudrateError as exc:
                message = str(exc)
                if message not in seen:
                    seen.add(message)
                    where = next((path for path, block in reversed(layers) if block), "")
                    label = f"{tenant or 'top level'}, {kind} accounts"
                    doc.problem(where, "invalid_settings", f"{message} ({label})")
    return settings


def _settings(tenant: str | None, kind: AccountTypeName, values: dict[str, Any]) -> FeatureSettings:
    """The settings of one tenant and account type; a bad combination raises."""
    zone(values["timezone"])
    return FeatureSettings(
        tenant=tenant,
        account_type=kind,
        values=values,
        currency=values["currency"],
        timezone=values["timezone"],
    )
