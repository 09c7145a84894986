"""Portal features built on rating, rules, accounts and invoices: the feature configuration
of a tenant, budget alerts, cost estimates, the usage page, charts and text reports.

Each lives in its own subpackage or module; import them from there, e.g.
``from cloudrate.portal.features import load_features``.
"""

import importlib
from types import ModuleType

_SUBMODULES = frozenset(
    ["budget", "capabilities", "charts", "estimation", "features", "report", "usage_view", "whatif"]
)

__all__: list[str] = []


def __getattr__(name: str) -> ModuleType:
    """Submodules load on first use: ``cloudrate.portal.budget`` works without an import."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
