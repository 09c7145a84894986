"""Exchange rates: the value fixed on an invoice billed in another currency, and where
rates come from (:class:`FixedRates` the host gives, :class:`EcbRates` offline).
"""

from ._digits import RATE_DIGITS
from ._rate import ExchangeRate
from ._sources import (
    CROSS_RATE_DIGITS,
    MISSING_RATES,
    EcbRates,
    FixedRates,
    MissingRate,
    RateNotFoundError,
    RateSource,
)

__all__ = [
    "CROSS_RATE_DIGITS",
    "MISSING_RATES",
    "RATE_DIGITS",
    "EcbRates",
    "ExchangeRate",
    "FixedRates",
    "MissingRate",
    "RateNotFoundError",
    "RateSource",
]
