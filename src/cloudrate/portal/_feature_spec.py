"""The settings a feature configuration may hold: how each is read, and its default.

Each parser takes the value as written and gives ``(value, None)``, or ``(None, error)``
with the error in words; :func:`cloudrate.portal.features.load_features` reports the
errors of a document all at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from decimal import Decimal
from typing import Any, get_args

from cloudrate._money import check_currency
from cloudrate.accounts import FALLBACKS, AccountTypeName, PlanType
from cloudrate.exceptions import CloudrateError
from cloudrate.rules import CONTRACT_TYPES, COST_DECIMALS_USES, FREE_IPS

__all__ = [
    "ACCOUNT_TYPES",
    "DEFAULTS",
    "FOLLOWS",
    "SPEC",
    "Group",
    "Parsed",
    "Parser",
    "Setting",
]

#: The account types a configuration may override settings for.
ACCOUNT_TYPES: tuple[AccountTypeName, ...] = get_args(AccountTypeName)

#: A parsed value and no error, or no value and what is wrong with it.
Parsed = tuple[Any, str | None]
#: Reads one value as written in a document.
Parser = Callable[[Any], Parsed]
#: One setting: how it is read and its default.
Setting = tuple[Parser, Any]
#: A grouped setting: its sub-settings by key (the first is the on/off switch).
Group = dict[str, Setting]

_PLAN_TYPES = tuple(p.value for p in PlanType)


def _bool(value: Any) -> Parsed:
    return (value, None) if isinstance(value, bool) else (None, "expected true or false")


def _whole(lo: int, hi: int | None = None) -> Parser:
    def parse(value: Any) -> Parsed:
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


def _amount(value: Any) -> Parsed:
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


def _percent(value: Any) -> Parsed:
    parsed, error = _amount(value)
    if error or parsed[1] is not None or not 0 <= parsed[0] <= 100:
        return None, "expected a percentage from 0 to 100"
    return parsed[0], None


def _currency(value: Any) -> Parsed:
    try:
        return check_currency(value), None
    except CloudrateError:
        return None, 'not an ISO 4217 code such as "EUR"'


def _currencies(value: Any) -> Parsed:
    if not isinstance(value, list | tuple):
        return None, "expected a list of currency codes such as [USD, INR]"
    bad = [v for v in value if _currency(v)[1]]
    if bad:
        return None, f'not ISO 4217 codes such as "EUR": {", ".join(map(repr, bad))}'
    return tuple(value), None


def _choice(
    options: tuple[str, ...],
    optional: bool = False,
) -> Parser:
    def parse(value: Any) -> Parsed:
        if value is None and optional:
            return None, None
        if isinstance(value, str) and value.lower() in options:
            return value.lower(), None
        near = difflib.get_close_matches(str(value).lower(), options, n=1, cutoff=0.5)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return None, f"must be one of {', '.join(options)}{hint}"

    return parse


def _text(value: Any) -> Parsed:
    return (value, None) if isinstance(value, str) and value else (None, "expected text")


def _thresholds(value: Any) -> Parsed:
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


#: Every setting: key -> (parser, default) or, for grouped settings, key -> {sub-key: ...}.
#: A grouped setting also accepts a bare value for its first sub-key (true/false, or the
#: number of ``cost_decimals``).
SPEC: dict[str, Setting | Group] = {
    "currency": (_currency, None),
    "timezone": (_text, "UTC"),
    "default_ip_charge": (_bool, True),
    # free_ips: one free public IP in total (the default IP included when it is not
    # charged), or one more besides the IPs other settings make free.
    "free_first_ip": {"enabled": (_bool, False), "free_ips": (_choice(FREE_IPS), "one_in_total")},
    "secondary_ip_billing": (_bool, True),
    # applies_to: the digits are shown only (display) or are what is billed (billed).
    "cost_decimals": {
        "digits": (_whole(0, 10), 2),
        "applies_to": (_choice(COST_DECIMALS_USES), "display"),
    },
    "multi_currency": {"enabled": (_bool, False), "currencies": (_currencies, ())},
    "portal_payment": (_bool, True),
    "invoice_menu": (_bool, True),
    "whmcs_billing": (_bool, False),
    "prepaid_hourly_billing": {
        "enabled": (_bool, False),
        "fallback": (_choice(FALLBACKS), "daily"),
    },
    "suspended_account_billing": {
        "enabled": (_bool, False),
        "grace_days": (_whole(0), 0),
        "warning_days": (_whole(0), None),
    },
    # The portal's one toggle (a bare true/false) allows negative balances and shows
    # them; display left unset follows allowed (FOLLOWS).
    "prepaid_negative_balance": {
        "allowed": (_bool, False),
        "floor": (_amount, None),
        "display": (_bool, None),
    },
    "account_verification_refund": {"enabled": (_bool, False), "percent": (_percent, Decimal(100))},
    "billing_contract_type": {
        "enabled": (_bool, False),
        "default": (_choice(CONTRACT_TYPES), "pay_as_you_go"),
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

#: Sub-settings that, left unset (None) after every block is merged, take the value of
#: another sub-setting of their group: (group, sub-key) -> the sub-key they follow.
FOLLOWS: dict[tuple[str, str], str] = {("prepaid_negative_balance", "display"): "allowed"}

#: The default of every setting (grouped settings as mappings).
DEFAULTS: dict[str, Any] = {
    key: ({k: d for k, (_, d) in spec.items()} if isinstance(spec, dict) else spec[1])
    for key, spec in SPEC.items()
}
