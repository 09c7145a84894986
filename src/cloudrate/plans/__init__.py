"""Pricing plans and the charge models they are made of, and reading and writing them.

Each charge model lives in its own module with its plan-file reader, its exact scalar
price and (for models priced on usage) its vectorised twin; :data:`MODELS` is the one
registry of kinds.
"""

from ._charge import Charge
from ._flat import Flat
from ._graduated import Graduated
from ._graduated_transaction_percentage import GraduatedTransactionPercentage, TransactionTier
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
from ._model import (
    BASES,
    ZERO_USAGE,
    Basis,
    ChargeModel,
    OtherCharges,
    PerTransaction,
    Prorated,
    VectorPricing,
    ZeroUsage,
    bills_without_usage,
    prices_transactions,
)
from ._one_off import OneOff
from ._overridden import Overridden
from ._override import OVERRIDE_KEYS, ChargeOverride, dump_overrides
from ._package import Package
from ._per_unit import PerUnit
from ._percentage import Percentage, PercentTier
from ._plan import Plan
from ._priced import Detail, Note, Priced
from ._profiles import PROFILES, Profile, Setting, apply_profile, profile_table
from ._proration import (
    PRORATIONS,
    RENAMED_PRORATIONS,
    Proration,
    current_proration,
    proration_factor,
)
from ._quantity_rounding import (
    QUANTITY_ROUNDING_MODES,
    ROUNDING_PER,
    QuantityRounding,
    QuantityRoundingMode,
    RoundingPer,
)
from ._read_overrides import read_overrides
from ._tiers import Tier
from ._transaction_percentage import TransactionPercentage
from ._validity import Validity
from ._versions import PriceVersion
from ._volume import Volume
from ._where import (
    All,
    AnyOf,
    Compare,
    Condition,
    Match,
    Not,
    decided_by_attributes,
    read_condition,
)

__all__ = [
    "AGGREGATIONS",
    "BASES",
    "MODELS",
    "MONTH_HOURS",
    "OVERRIDE_KEYS",
    "PROFILES",
    "PRORATIONS",
    "QUANTITY_ROUNDING_MODES",
    "RENAMED_PRORATIONS",
    "ROUNDING_PER",
    "ZERO_USAGE",
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
    "GraduatedTransactionPercentage",
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
    "PerTransaction",
    "PerUnit",
    "PercentTier",
    "Percentage",
    "Plan",
    "PriceVersion",
    "Priced",
    "Profile",
    "Prorated",
    "Proration",
    "QuantityRounding",
    "QuantityRoundingMode",
    "RoundingPer",
    "Setting",
    "Tier",
    "TransactionPercentage",
    "TransactionTier",
    "Validity",
    "VectorPricing",
    "Volume",
    "ZeroUsage",
    "apply_profile",
    "bills_without_usage",
    "conversion",
    "current_proration",
    "decided_by_attributes",
    "dump_overrides",
    "dump_plan",
    "kinds_of",
    "load_plan",
    "month_seconds",
    "plan_from_document",
    "plan_to_yaml",
    "prices_transactions",
    "profile_table",
    "proration_factor",
    "read_condition",
    "read_overrides",
]
