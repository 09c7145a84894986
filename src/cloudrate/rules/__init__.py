"""Billing rules: small frozen objects that add adjustment lines to a bill, composed in order.

>>> from cloudrate.rules import DefaultIpCharge, FreeFirstIp, chain
>>> policy = chain(DefaultIpCharge(enabled=False), FreeFirstIp())
>>> [type(r).__name__ for r in policy.rules]
['DefaultIpCharge', 'FreeFirstIp']
"""

from ._base import Policy, Rule, RuleContext, adjustment, chain
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

__all__ = [
    "AccountType",
    "BillingPlans",
    "ContractTypes",
    "ConvertedBill",
    "CostDecimals",
    "DefaultIpCharge",
    "EcbRates",
    "FixedPayment",
    "FixedRates",
    "FreeFirstIp",
    "IpAcquisition",
    "MultiCurrency",
    "PayAsYouGo",
    "PlanType",
    "Policy",
    "RateNotFoundError",
    "RateSource",
    "Rule",
    "RuleContext",
    "SecondaryIpBilling",
    "Settlement",
    "adjustment",
    "chain",
    "convert_bill",
    "ip_history_from_usage",
    "settle",
]
