"""Rating: usage and a plan in, a bill per account out.

The rating semantics (charge slots, period membership, unpriced reasons, the default
period, accumulation and line pricing) live once in :mod:`cloudrate.rating._kernel`;
:func:`rate` (one record at a time) and :mod:`cloudrate.rating.columnar` (Arrow
columns) both call it. :mod:`cloudrate.rating.distributed` runs the columnar engine on
Dask or Spark.
"""

import importlib
from types import ModuleType

from ._rate import rate
from ._result import AccountBill, RatedLine, RatingResult, UnpricedUsage
from ._unpriced import OnUnpriced, UnpricedReason

__all__ = [
    "AccountBill",
    "OnUnpriced",
    "RatedLine",
    "RatingResult",
    "UnpricedReason",
    "UnpricedUsage",
    "rate",
]


def __getattr__(name: str) -> ModuleType:
    """Submodules load on first use: ``cloudrate.rating.columnar`` works without an import."""
    if name in ("columnar", "distributed"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
