"""Exchange rates: the value fixed on an invoice billed in another currency, and where
rates come from (:class:`FixedRates` the host gives, :class:`EcbRates` offline).
"""

from ._rate import ExchangeRate
from ._sources import CROSS_RATE_DIGITS, EcbRates, FixedRates, RateNotFoundError, RateSource

__all__ = [
    "CROSS_RATE_DIGITS",
    "EcbRates",
    "ExchangeRate",
    "FixedRates",
    "RateNotFoundError",
    "RateSource",
]
