"""Billing rules: small frozen objects that add adjustment lines to a bill, composed in order.

>>> from cloudrate.rules import DefaultIpCharge, FreeFirstIp, chain
>>> policy = chain(DefaultIpCharge(enabled=False), FreeFirstIp())
>>> [type(r).__name__ for r in policy.rules]
['DefaultIpCharge', 'FreeFirstIp']
"""

from ._base import Policy, Rule, RuleContext, adjustment, chain
from ._currency import (
    ConvertedBill,
    EcbRates,
    FixedRates,
    MultiCurrency,
    RateNotFoundError,
    RateSource,
    convert_bill,
)
from ._ip import (
    DefaultIpCharge,
    FreeFirstIp,
    IpAcquisition,
    SecondaryIpBilling,
    ip_history_from_usage,
)

__all__ = [
    "ConvertedBill",
    "DefaultIpCharge",
    "EcbRates",
    "FixedRates",
    "FreeFirstIp",
    "IpAcquisition",
    "MultiCurrency",
    "Policy",
    "RateNotFoundError",
    "RateSource",
    "Rule",
    "RuleContext",
    "SecondaryIpBilling",
    "adjustment",
    "chain",
    "convert_bill",
    "ip_history_from_usage",
]
