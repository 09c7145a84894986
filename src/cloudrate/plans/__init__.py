"""Pricing plans and the charge models they are made of."""

from ._charge import Charge, ChargeModel
from ._flat import PRORATIONS, Flat
from ._graduated import Graduated
from ._load import dump_plan, load_plan, plan_from_document, plan_to_yaml
from ._metrics import AGGREGATIONS, Metric, conversion
from ._minimum import Minimum
from ._package import Package
from ._per_unit import PerUnit
from ._percentage import Percentage, PercentTier
from ._plan import Plan
from ._priced import Detail, Priced
from ._tiers import Tier
from ._volume import Volume

__all__ = [
    "AGGREGATIONS",
    "PRORATIONS",
    "Charge",
    "ChargeModel",
    "Detail",
    "Flat",
    "Graduated",
    "Metric",
    "Minimum",
    "Package",
    "PerUnit",
    "PercentTier",
    "Percentage",
    "Plan",
    "Priced",
    "Tier",
    "Volume",
    "conversion",
    "dump_plan",
    "load_plan",
    "plan_from_document",
    "plan_to_yaml",
]
