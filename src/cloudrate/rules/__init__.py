"""Billing rules: small frozen objects that add adjustment lines to a bill, composed in order.

>>> from cloudrate.rules import DefaultIpCharge, FreeFirstIp, chain
>>> policy = chain(DefaultIpCharge(enabled=False), FreeFirstIp())
>>> [type(r).__name__ for r in policy.rules]
['DefaultIpCharge', 'FreeFirstIp']
"""

from ._base import Policy, Rule, RuleContext, adjustment, chain
from ._capabilities import Capabilities
from ._contract import ContractTypes, FixedPayment, PayAsYouGo
from ._currency import (
    ConvertedBill,
    EcbRates,
    FixedRates,
    MultiCurrency,
    RateNotFoundError,
    RateSource,
    convert_bill,
)
from ._decimals import CostDecimals
from ._ip import (
    DefaultIpCharge,
    FreeFirstIp,
    IpAcquisition,
    SecondaryIpBilling,
    ip_history_from_usage,
)
from ._plan_type import AccountType, BillingPlans, PlanType, Settlement, settle
from ._promo import (
    InMemoryRedemptionStore,
    PromoCode,
    PromoDiscount,
    PromoError,
    Redemption,
    RedemptionStore,
    find_code,
    generate_code,
)
from ._promo_sqlite import SQLiteRedemptionStore

__all__ = [
    "AccountType",
    "BillingPlans",
    "Capabilities",
    "ContractTypes",
    "ConvertedBill",
    "CostDecimals",
    "DefaultIpCharge",
    "EcbRates",
    "FixedPayment",
    "FixedRates",
    "FreeFirstIp",
    "InMemoryRedemptionStore",
    "IpAcquisition",
    "MultiCurrency",
    "PayAsYouGo",
    "PlanType",
    "Policy",
    "PromoCode",
    "PromoDiscount",
    "PromoError",
    "RateNotFoundError",
    "RateSource",
    "Redemption",
    "RedemptionStore",
    "Rule",
    "RuleContext",
    "SQLiteRedemptionStore",
    "SecondaryIpBilling",
    "Settlement",
    "adjustment",
    "chain",
    "convert_bill",
    "find_code",
    "generate_code",
    "ip_history_from_usage",
    "settle",
]
