"""Billing rules: small frozen objects that add adjustment lines to a bill, composed in order.

Every object here adds lines (``lines(bill, context)``) or converts a bill; account state
(wallets, prepaid policies, promo redemption stores, plan types) lives in
:mod:`cloudrate.accounts`, exchange-rate sources in :mod:`cloudrate.fx`.

>>> from cloudrate.rules import DefaultIpCharge, FreeFirstIp, chain
>>> policy = chain(DefaultIpCharge(enabled=False), FreeFirstIp())
>>> [type(r).__name__ for r in policy.rules]
['DefaultIpCharge', 'FreeFirstIp']
"""

from ._base import Policy, Rule, RuleContext, adjustment, chain
from ._contract import (
    CONTRACT_TYPES,
    ActiveDays,
    ContractType,
    ContractTypes,
    FixedPayment,
    PayAsYouGo,
)
from ._currency import ConvertedBill, MultiCurrency, convert_bill
from ._decimals import COST_DECIMALS_USES, CostDecimals, CostDecimalsUse
from ._ip import (
    FREE_IPS,
    DefaultIpCharge,
    FreeFirstIp,
    FreeIps,
    IpAcquisition,
    SecondaryIpBilling,
    ip_history_from_usage,
)
from ._promo import (
    PromoCode,
    PromoDiscount,
    PromoError,
    Redemption,
    RedemptionStore,
    find_code,
    generate_code,
)

__all__ = [
    "CONTRACT_TYPES",
    "COST_DECIMALS_USES",
    "FREE_IPS",
    "ActiveDays",
    "ContractType",
    "ContractTypes",
    "ConvertedBill",
    "CostDecimals",
    "CostDecimalsUse",
    "DefaultIpCharge",
    "FixedPayment",
    "FreeFirstIp",
    "FreeIps",
    "IpAcquisition",
    "MultiCurrency",
    "PayAsYouGo",
    "Policy",
    "PromoCode",
    "PromoDiscount",
    "PromoError",
    "Redemption",
    "RedemptionStore",
    "Rule",
    "RuleContext",
    "SecondaryIpBilling",
    "adjustment",
    "chain",
    "convert_bill",
    "find_code",
    "generate_code",
    "ip_history_from_usage",
]
