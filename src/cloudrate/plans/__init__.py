"""Pricing plans and the charge models they are made of, and reading and writing them.

Each charge model lives in its own module with its plan-file reader, its exact scalar
price and (for models priced on usage) its vectorised twin; :data:`MODELS` is the one
registry of kinds.
"""

from ._charge import Charge
from ._flat import PRORATIONS, Flat, Proration, proration_factor
from ._graduated import Graduated
from ._kinds import MODELS, kinds_of
from ._load import dump_plan, load_plan, plan_from_document, plan_to_yaml
from ._metrics import (
    AGGREGATIONS,
    MONTH_HOURS,
    Aggregation,
    Metric,
    MonthHours,
    conversion,
    month_seconds,
)
from ._minimum import Minimum
from ._model import BASES, Basis, ChargeModel, OtherCharges, Prorated, VectorPricing
from ._one_off import OneOff
from ._overridden import Overridden
from ._override import OVERRIDE_KEYS, ChargeOverride, dump_overrides
from ._package import Package
from ._per_unit import PerUnit
from ._percentage import Percentage, PercentTier
from ._plan import Plan
from ._priced import Detail, Note, Priced
from ._read_overrides import read_overrides
from ._tiers import Tier
from ._validity import Validity
from ._versions import PriceVersion
from ._volume import Volume
from ._where import All, AnyOf, Compare, Condition, Match, Not, read_condition

__all__ = [
    "AGGREGATIONS",
    "BASES",
    "MODELS",
    "MONTH_HOURS",
    "OVERRIDE_KEYS",
    "PRORATIONS",
    "Aggregation",
    "All",
    "AnyOf",
    "Basis",
    "Charge",
    "ChargeModel",
    "ChargeOverride",
    "Compare",
    "Condition",
    "Detail",
    "Flat",
    "Graduated",
    "Match",
    "Metric",
    "Minimum",
    "MonthHours",
    "Not",
    "Note",
    "OneOff",
    "OtherCharges",
    "Overridden",
    "Package",
    "PerUnit",
    "PercentTier",
    "Percentage",
    "Plan",
    "PriceVersion",
    "Priced",
    "Prorated",
    "Proration",
    "Tier",
    "Validity",
    "VectorPricing",
    "Volume",
    "conversion",
    "dump_overrides",
    "dump_plan",
    "kinds_of",
    "load_plan",
    "month_seconds",
    "plan_from_document",
    "plan_to_yaml",
    "proration_factor",
    "read_condition",
    "read_overrides",
]
