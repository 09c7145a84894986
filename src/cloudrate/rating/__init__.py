"""Rating: usage and a plan in, a bill per account out.

The rating semantics live once, each rule in its module: charge slots (``_slots``), the
default period and usage outside it (``_window``, with the membership rule
:func:`cloudrate.period.spans_within`), unpriced usage (``_unpriced``), accumulation
(``_accumulate``) and line pricing (``_pricing``). :func:`rate` (one record at a time)
and :mod:`cloudrate.rating.columnar` (Arrow columns) both call them;
:mod:`cloudrate.rating.distributed` runs the columnar engine on Dask or Spark.
"""

import importlib
from types import ModuleType

from ._accumulate import Acc, accumulate, aggregated_quantity
from ._coverage import Coverage
from ._rate import rate
from ._result import AccountBill, RatedLine, RatingResult, UnpricedUsage
from ._slots import SlotAggregation
from ._unpriced import OnUnpriced, UnpricedReason

__all__ = [
    "Acc",
    "AccountBill",
    "Coverage",
    "OnUnpriced",
    "RatedLine",
    "RatingResult",
    "SlotAggregation",
    "UnpricedReason",
    "UnpricedUsage",
    "accumulate",
    "aggregated_quantity",
    "rate",
]


def __getattr__(name: str) -> ModuleType:
    """Submodules load on first use: ``cloudrate.rating.columnar`` works without an import."""
    if name in ("columnar", "distributed"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
